"""Benchmarks run by ``make bench``; figures are measured side by side in one run."""
