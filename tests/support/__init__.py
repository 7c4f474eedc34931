"""Helpers shared by tests (imported as `support.<module>`), kept out of conftest."""
