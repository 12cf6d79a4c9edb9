"""Test support: throwaway databases, real server processes, simulated shoppers.

The benchmarks in ``bench/`` build on these; nothing here (nor anywhere under ``tests/``) may
import ``bench``, which ``tests/test_packaging.py`` checks.
"""
