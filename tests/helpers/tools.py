"""Import a script of ``tools/`` as a module, so tests call its ``main(argv)`` in-process."""

import importlib.util
import os

from tests.helpers import REPO_ROOT


def load_tool(name: str):
    """The module ``tools/<name>.py`` (imported afresh)."""
    path = os.path.join(REPO_ROOT, "tools", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"tools_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
