#!/usr/bin/env python
"""Build the folder of Python packages a GPU machine without internet needs for the GPU
benchmark (``tools/gpu_bench.sh``), on a machine with the project's virtualenv.

  python tools/gpu_carry.py gpu_carry                      # pure-Python packages only
  python tools/gpu_carry.py gpu_carry --wheels av scipy    # plus wheels for the GPU machine

It imports what ``tools/benchmark.py --suite gpu`` imports, then zips every pure-Python package
among them, as installed in this virtualenv, into ``<folder>/pure.zip`` (Detectron2 of the
``sal-detectron2`` wheel included, without its compiled ``_C``, which the plugin never imports;
PyYAML keeps only its pure-Python half). Compiled packages cannot be copied across Python
versions: ``<folder>/compiled.txt`` lists them (distribution and version), and ``--wheels NAME
...`` downloads those for the GPU machine's Python (``--python``, default 3.12, manylinux
x86_64) from the package index into ``<folder>/wheels``. ``tools/gpu_bench.sh`` unpacks both
on the GPU machine. Run ``tools/gpu_bench.sh check`` there first to learn which compiled ones
it lacks: torch, and usually numpy and pillow, come with it; torchvision must match its torch.
"""

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Installed with torch on any GPU machine (never carried).
WITH_TORCH = {
    "torch", "triton", "torchgen", "functorch", "nvidia", "sympy", "mpmath", "networkx",
    "typing_extensions", "filelock", "jinja2", "markupsafe", "fsspec",
}  # fmt: skip
# Packages whose compiled part is optional: copied without it.
OPTIONAL_BINARIES = {"detectron2", "yaml"}
# Imported only when present (Detectron2 tolerates a missing OpenCV): never carried.
OPTIONAL_MODULES = {"cv2"}
COMPILED_SUFFIXES = (".so", ".pyd")


def suite_modules() -> set[str]:
    """Top-level modules imported by the GPU suite and everything it runs."""
    sys.path[:0] = [REPO_ROOT, os.path.join(REPO_ROOT, "tools")]
    import sklearn.cluster  # noqa: F401  (the K-means reference)
    from benchmark_suites import gpu_suite, predict_suite  # noqa: F401

    import i2v_plugin  # noqa: F401
    from i2v_plugin.inference.video_predictor import predict_video  # noqa: F401

    return {name.split(".")[0] for name in sys.modules}


def module_distributions() -> dict[str, list[str]]:
    """Top-level module name -> the distributions that install it, from their RECORD files
    (Python 3.10's ``packages_distributions`` reads only top_level.txt, which meson-built
    wheels such as scikit-learn's lack)."""
    out: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        tops = {
            f.parts[0].split(".")[0]
            for f in dist.files or []
            if f.parts and f.parts[0] != ".." and not f.parts[0].endswith((".dist-info", ".data"))
        }
        for top in tops:
            out.setdefault(top, []).append(dist.metadata["Name"])
    return out


def site_location(module: str) -> str | None:
    """The file or package folder of ``module`` when it lives in this environment's
    site-packages, else None (standard library, the repository)."""
    site = sysconfig.get_paths()["purelib"]
    spec = sys.modules[module].__spec__ if module in sys.modules else None
    origin = getattr(spec, "origin", None) or ""
    locations = list(getattr(spec, "submodule_search_locations", None) or [])
    path = locations[0] if locations else origin
    return path if path.startswith(site + os.sep) else None


def is_compiled(path: str) -> bool:
    if os.path.isfile(path):
        return path.endswith(COMPILED_SUFFIXES)
    return any(f.endswith(COMPILED_SUFFIXES) for _, _, files in os.walk(path) for f in files)


def copy_pure(path: str, site: str, distributions: list[str]) -> None:
    """Copy a package (without compiled files and caches) or a module into ``site``, with the
    metadata folders of its ``distributions`` (packages that read their own version)."""
    ignore = shutil.ignore_patterns("*.so", "*.pyd", "__pycache__")
    target = os.path.join(site, os.path.basename(path))
    if os.path.isfile(path):
        shutil.copy2(path, target)
    else:
        shutil.copytree(path, target, ignore=ignore, dirs_exist_ok=True)
    for name in distributions:
        metadata = getattr(importlib.metadata.distribution(name), "_path", None)
        if metadata is not None and os.path.isdir(metadata):
            folder = os.path.join(site, os.path.basename(metadata))
            shutil.copytree(metadata, folder, ignore=ignore, dirs_exist_ok=True)


def download_wheels(names: list[str], python: str, folder: str) -> None:
    """pip-download binary wheels of ``names`` for CPython ``python`` on manylinux x86_64 into
    ``folder``."""
    abi = "cp" + python.replace(".", "")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--python-version", python, "--implementation", "cp", "--abi", abi,
           "--abi", "abi3", "--abi", "none", "--platform", "manylinux2014_x86_64",
           "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux_2_28_x86_64",
           "-d", folder, *names]  # fmt: skip
    subprocess.run(cmd, check=True)


def zip_folder(folder: str, archive: str) -> None:
    """``archive`` (a .zip) holding ``folder``'s contents at its root."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for root, _, files in os.walk(folder):
            for name in files:
                path = os.path.join(root, name)
                z.write(path, os.path.relpath(path, folder))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("folder", help="output folder (pure.zip, compiled.txt, wheels/)")
    parser.add_argument("--python", default="3.12", help="the GPU machine's Python (X.Y)")
    parser.add_argument(
        "--wheels", nargs="*", default=[], help="distributions (pip names, optionally ==version)"
    )
    args = parser.parse_args(argv)
    os.makedirs(args.folder, exist_ok=True)
    staging = tempfile.TemporaryDirectory(prefix="gpu_carry_")
    site = staging.name
    distributions = module_distributions()
    copied, compiled = [], set()
    for module in sorted(suite_modules() - WITH_TORCH - OPTIONAL_MODULES):
        path = site_location(module)
        if path is None or module.startswith("_"):
            continue
        names = distributions.get(module, [module])
        if is_compiled(path) and module not in OPTIONAL_BINARIES:
            compiled.update(f"{n}=={importlib.metadata.version(n)}" for n in names)
            continue
        copy_pure(path, site, names)
        copied.append(module)
    with open(os.path.join(args.folder, "compiled.txt"), "w") as f:
        f.write("\n".join(sorted(compiled)) + "\n")
    archive = os.path.join(args.folder, "pure.zip")
    zip_folder(site, archive)
    staging.cleanup()
    size = os.path.getsize(archive) / 2**20
    print(f"zipped {len(copied)} pure-Python packages into {archive} ({size:.1f} MiB): ")
    print(" ".join(copied))
    listed = " ".join(sorted(compiled))
    print(f"compiled packages the suite imports ({args.folder}/compiled.txt): {listed}")
    if args.wheels:
        download_wheels(args.wheels, args.python, os.path.join(args.folder, "wheels"))


if __name__ == "__main__":
    main()
