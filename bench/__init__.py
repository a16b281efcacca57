"""Benchmarks: `make bench` runs them, prints a table and writes bench/results/*.json."""
