"""Experiments defined once: the manifest (``configs/experiments.yaml``), run plans, run records,
paired statistics over seeds and the generated tables of ``docs/RESULTS.md``.

``tools/reproduce.py`` is the command line over this package. Modules, one concern each:

- ``manifest``: load and validate the manifest (experiments, suites, families, comparisons, the
  paper's tables as data).
- ``controls``: which objectives a config trains, and when a mu-0 control is the same run as its
  reference (then it is recorded, not trained).
- ``plan``: the runs of a suite / table, their controls, tuning grids, what is left to train.
- ``runner``: train one run through ``tools/train_net.py`` and turn its ``final_results.json``
  into records.
- ``records``: ``docs/results.json`` / ``docs/tuning.json``: load, merge, lock, per-seed values.
- ``compare``: which rows are compared with which.
- ``statistics``: paired mean difference with its t-interval, minimum detectable effect, share of
  the gap closed (source-only to the labeled upper bound).
- ``render``: the Markdown of the generated tables; ``doc``: the regions of ``docs/RESULTS.md``.
"""
