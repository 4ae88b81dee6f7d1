"""Converters of the published dataset formats into what registration reads (DAVIS instance
masks, COCO-Stuff maps, FBMS ground truth -> label PNGs of the shared classes; YTBB CSV video
lists). They run once, from the ``datasets/prepare_*.py`` scripts; registration never imports
them.
"""
