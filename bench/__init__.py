"""Benchmarks: each prints a comparison against a baseline measured in the same run."""
