"""The synthetic image-to-video benchmark: a generator of labeled images and degraded videos of
ten shape classes (``datasets/prepare_synthetic.py``), and the pretraining task of ten other
shapes (``pretrain.py``).

Importing ``i2v_plugin`` does not import the generator: registration reads the class lists from
the data layer (``i2v_plugin.data.datasets.synth_classes``), and nothing under ``data/`` imports
this package. Import ``i2v_plugin.synth.generator`` to generate.

Modules: ``params`` (SynthParams, versions 3 and 4), ``families`` (public and sealed artefact
families), ``splits`` (version 4's video splits), ``artifacts`` / ``sealed`` (the degradations),
``scenes`` / ``scenes_v4`` / ``shapes`` / ``textures`` (content), ``video_v4`` (one version-4
video), ``samples`` / ``writer`` / ``generator`` / ``staging`` (files), ``media_stats`` (the
calibration statistics), ``pretrain`` / ``pretrain_shapes`` (pretraining task).
"""
