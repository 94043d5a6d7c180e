"""The quickstart and extending tutorials run top to bottom (quick mode) and write their outputs."""

from __future__ import annotations

import json

import pytest
from conftest import run_tutorial

EXPECTED = {
    "01_quickstart": [
        "roc.png",
        "features.csv",
        "edges.csv",
        "top_features.png",
        "network_case.png",
        "model/weights.safetensors",
        "model/model.json",
        "summary.json",
    ],
    "05_extending": [
        "roc_four_modalities.png",
        "model_four_modalities/weights.safetensors",
        "model_four_modalities/model.json",
        "manual_cv.csv",
        "cohort/cpg.csv",
        "cohort/ephys.csv",
        "cohort/cpg_gene.csv",
        "cv/results.csv",
        "cv/summary.md",
        "cv/config.toml",
        "summary.json",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tutorial_runs(name, tmp_path):
    done = run_tutorial(name, tmp_path)
    out = tmp_path / name
    missing = [f for f in EXPECTED[name] if not (out / f).is_file()]
    assert not missing, f"{name} did not write {missing}"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["quick"] is True
    assert "done in" in done.stdout
    if name == "01_quickstart":
        assert summary["reload_max_difference"] < 1e-6
        assert 0 <= summary["causal_links_in_top_k"] <= summary["top_k"]
    else:
        assert set(summary["four_modalities"]["bacc"]) == {"all", "snp only", "tf only", "cpg only", "ephys only"}

