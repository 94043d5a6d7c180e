"""The Sphinx documentation builds without a single warning, and the CLI page is complete."""

from __future__ import annotations

import html
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from deepgami.cli import build_parser

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.fail(
            f"{module} is not installed, so the documentation cannot be built and checked; "
            "install the docs requirements: pip install -e '.[docs]'",
            pytrace=False,
        )


def test_docs_build_without_warnings_and_cli_page_lists_every_subcommand(tmp_path):
    _require("sphinx")
    _require("numpydoc")
    out = tmp_path / "html"
    command = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going", "-q", "-b", "html",
        "-d", str(tmp_path / "doctrees"),
        str(DOCS), str(out),
    ]  # fmt: skip
    try:
        build = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"sphinx-build did not finish in {error.timeout} s", pytrace=False)
    assert build.returncode == 0, f"sphinx-build failed (warnings are errors):\n{build.stdout}\n{build.stderr}"

    page = html.unescape((out / "cli.html").read_text(encoding="utf-8"))
    parser = build_parser()
    commands = next(action.choices for action in parser._actions if hasattr(action, "add_parser"))
    assert set(commands) >= {"demo", "fit", "cv", "explain", "predict"}
    assert "usage: deepgami [-h]" in page
    for name, sub in commands.items():
        assert f'id="deepgami-{name}"' in page, f"no section for `deepgami {name}` on the CLI page"
        assert f"usage: deepgami {name}" in page, f"no help text for `deepgami {name}` on the CLI page"
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in page, f"`deepgami {name}` option {flag} missing from the CLI page"

    api = (out / "api.html").read_text(encoding="utf-8")
    for name in (
        "deepgami.RegulatoryGraph",
        "deepgami.MultiOmicsData",
        "deepgami.DeepGAMIClassifier",
        "deepgami.nn.BioDropConnect",
        "deepgami.explain.explain_model",
        "deepgami.explain.Explainer",
        "deepgami.params.PARAMETERS",
        "deepgami.tasks.Classification",
        "deepgami.network.prioritized_network",
        "deepgami.evaluation.cv.run_cv",
        "deepgami.evaluation.cv.CVSettings",
        "deepgami.evaluation.ablation.null_graph",
        "deepgami.evaluation.fold_preprocessing.FoldPreprocessor",
        "deepgami.simulate.simulate_cohort",
        "deepgami.config.load_config",
        "deepgami.adapters.matrices.load_matrix",
        "deepgami.adapters.plink.load_plink",
    ):
        assert f'id="{name}"' in api, f"{name} missing from the API reference"
