"""Benchmarks and end-to-end checks that run the real server; see bench/README.md."""
