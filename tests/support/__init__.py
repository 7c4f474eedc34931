"""Helpers shared by tests and benchmarks (imported explicitly, never through conftest)."""
