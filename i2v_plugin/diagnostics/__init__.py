"""Diagnostics behind the statements of docs/RESULTS.md (``tools/diagnose.py``): how much each
backbone map varies across samples, and what the self-training teacher's pseudo-labels were."""
