"""Benchmark suites behind ``tools/benchmark.py``: each returns a dict of figures measured in one
run, so ratios compare numbers taken on the same machine under the same load."""
