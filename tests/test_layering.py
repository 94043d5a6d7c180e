"""Imports go one way: core <- evaluation <- app, and the adapters beside the app import the core only.

The layers are described in the docstring of ``deepgami/__init__.py``. Every import in every module
under src/deepgami is checked, including those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "deepgami"
APP = {"deepgami.cli", "deepgami.workflow", "deepgami.config", "deepgami.__main__"}
#: the layers each layer may import from
ALLOWED = {
    "core": {"core"},
    "evaluation": {"core", "evaluation"},
    "app": {"core", "evaluation", "app"},
    "adapters": {"core", "adapters"},
}


def layer(name: str) -> str | None:
    """The layer of a dotted module (or module attribute) name; None outside deepgami."""
    parts = name.split(".")
    if parts[0] != "deepgami":
        return None
    top = ".".join(parts[:2])
    if top == "deepgami.adapters":
        return "adapters"
    if top == "deepgami.evaluation":
        return "evaluation"
    return "app" if top in APP else "core"


def imported_names(tree: ast.Module, module: str, is_package: bool) -> list[tuple[str, int]]:
    """``(dotted name, line)`` of every import; ``from X import y`` gives ``X.y``, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return names


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """One line per import of ``module`` (its source given) that reaches a layer it may not import."""
    own = layer(module)
    found = []
    for name, line in imported_names(ast.parse(source), module, is_package):
        target = layer(name)
        if target is not None and target not in ALLOWED[own]:
            found.append(f"{module} (line {line}) imports {name}: {own} may not import {target}")
    return found


def _module_name(path: Path) -> tuple[str, bool]:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def test_every_module_imports_only_its_own_layer_or_below():
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 30 and (PACKAGE / "adapters" / "plink.py") in paths
    found = []
    for path in paths:
        module, is_package = _module_name(path)
        found += violations(path.read_text(encoding="utf-8"), module, is_package)
    assert not found, "imports against the layering (see deepgami/__init__.py):\n" + "\n".join(found)


def test_the_check_catches_planted_violations():
    source = (
        "from ..config import RunConfig\n"
        "from .methods import REGISTRY\n"
        "from deepgami.errors import InputError\n"
        "import numpy\n"
        "def f():\n"
        "    from deepgami.adapters.plink import load_plink\n"
        "    import deepgami.workflow\n"
    )
    assert violations(source, "deepgami.evaluation.cv") == [
        "deepgami.evaluation.cv (line 1) imports deepgami.config.RunConfig: evaluation may not import app",
        "deepgami.evaluation.cv (line 6) imports deepgami.adapters.plink.load_plink: evaluation may not import adapters",
        "deepgami.evaluation.cv (line 7) imports deepgami.workflow: evaluation may not import app",
    ]
    # a package's own relative imports, core importing evaluation, adapters importing the app
    assert violations("from . import adapters\n", "deepgami", is_package=True) == [
        "deepgami (line 1) imports deepgami.adapters: core may not import adapters"
    ]
    assert violations("from .evaluation.cv import run_cv\n", "deepgami.readers") == [
        "deepgami.readers (line 1) imports deepgami.evaluation.cv.run_cv: core may not import evaluation"
    ]
    assert violations("from ..cli import main\n", "deepgami.adapters.vcf") == [
        "deepgami.adapters.vcf (line 1) imports deepgami.cli.main: adapters may not import app"
    ]
    # allowed directions
    assert violations("from ..graph import RegulatoryGraph\nfrom . import baselines\n", "deepgami.evaluation.cv") == []
    assert violations("from ..plink import load_plink\nfrom ._tables import read_table\n", "deepgami.adapters.plink") == []
    assert violations("from .evaluation.cv import CVSettings\n", "deepgami.workflow") == []
