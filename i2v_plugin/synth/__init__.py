"""The synthetic image-to-video benchmark: a generator of labeled images and degraded videos of
ten shape classes (``datasets/prepare_synthetic.py``).

Importing ``i2v_plugin`` does not import the generator: registration needs only the class list
of ``synth.classes``. Import ``i2v_plugin.synth.generator`` to generate.
"""
