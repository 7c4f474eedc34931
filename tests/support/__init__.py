"""Helpers shared by tests (imported as `support.<module>`; conftest.py holds fixtures only)."""
