"""The test suite; ``tests.support`` and ``tests.factories`` are importable from the repository
root (pytest's ``pythonpath = ["."]``, or ``python -m`` from the root for the benchmarks)."""
