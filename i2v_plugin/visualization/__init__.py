"""Figures behind ``tools/visualize.py``: qualitative prediction grids, training curves and
cluster inspection of the clustered adversarial loss."""
