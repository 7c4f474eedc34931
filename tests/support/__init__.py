"""Helpers shared by tests (not fixtures): import them as `from support.x import y`."""
