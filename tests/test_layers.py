"""The package's layers: imports only run downwards, so no package-level cycle can form.

Reads every module of ``i2v_plugin`` with ``ast`` (nothing is imported) and resolves its
imports of ``i2v_plugin`` to a top-level part (``data``, ``modeling``, ...). A part may import
itself and the parts of lower layers only; ``config.py`` imports nothing from the package.
"""

import ast
import os

from tests.helpers import REPO_ROOT

PACKAGE = os.path.join(REPO_ROOT, "i2v_plugin")
# Lowest first. Parts of one layer never import each other (data and modeling are peers: the
# trainer tells the loader what the model's objectives need).
LAYERS = (
    ("config", "utils"),
    ("data", "modeling"),
    ("synth", "evaluation", "inference"),
    ("visualization",),
    ("engine",),
    ("experiments", "diagnostics"),
)
LAYER_OF = {part: depth for depth, parts in enumerate(LAYERS) for part in parts}


def part_of(module: str) -> str:
    """``i2v_plugin.data.loader`` -> "data"; ``i2v_plugin.config`` -> "config"."""
    return module.split(".")[1]


def package_imports(path: str, module: str) -> list[tuple[str, int]]:
    """(imported i2v_plugin module, line) for every import in the file at ``path``."""
    tree = ast.parse(open(path).read(), path)
    is_package = os.path.basename(path) == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(name, node.lineno) for name in names if name.startswith("i2v_plugin.")]
    return found


def all_modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, REPO_ROOT)[:-3].replace(os.sep, ".")
                yield path, rel.removesuffix(".__init__")


def test_every_part_has_a_layer():
    parts = {part_of(module) for _, module in all_modules() if module.count(".") >= 1}
    assert parts <= set(LAYER_OF), f"parts without a layer: {sorted(parts - set(LAYER_OF))}"


def test_imports_run_only_downwards():
    upward = []
    for path, module in all_modules():
        if module == "i2v_plugin":
            continue  # the public API sits on top of every layer
        own = part_of(module)
        for target, line in package_imports(path, module):
            other = part_of(target)
            if other == own:
                continue
            if own == "config" or LAYER_OF[other] >= LAYER_OF[own]:
                upward.append(f"{os.path.relpath(path, REPO_ROOT)}:{line} imports {target}")
    assert not upward, "imports that do not run downwards:\n" + "\n".join(sorted(set(upward)))
