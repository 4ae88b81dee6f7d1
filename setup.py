"""Installs the i2v_plugin package (the pinned stack is in requirements.txt)."""

from setuptools import find_packages, setup

setup(
    name="i2v_plugin",
    version="0.1.0",
    description="Detectron2 plugin: image-to-video domain adaptation for semantic segmentation",
    packages=find_packages(include=["i2v_plugin", "i2v_plugin.*"]),
    python_requires=">=3.10",
)
