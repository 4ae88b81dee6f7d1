"""Benchmark suites behind ``tools/benchmark.py``: each returns a dict of figures measured in one
run, so ratios compare numbers taken on the same machine under the same load.

Tool code, not part of the installed package: the suites read the repository's configs
(``configs/synthetic/...``). ``tools/benchmark.py`` imports them from its own folder.
"""
