"""Regression and survival through the CLI: fit, predict and explain from a config, and every
bad label input ending in one clear line with no output left behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli_errors import assert_clean_error, edit_csv, run_cli

from deepgami import DeepGAMIEstimator, DeepGAMIRegressor, DeepGAMISurvival
from deepgami.simulate import simulate_cohort

COHORT = dict(n_samples=240, n_snps=200, n_tfs=20, n_genes=40, difficulty="easy", seed=0)
FAST = "\n[model]\nn_members = 2\nnull_members = 2\nlatent_dim = 8\n[training]\nmax_epochs = 40\n"
REGRESSION_KEYS = {"r2", "pearson", "spearman", "mae", "rmse"}
SURVIVAL_KEYS = {"c_index", "c_index_uno", "integrated_brier_score"}


def write(tmp_path: Path, phenotype: str, extra: str = "") -> Path:
    config = simulate_cohort(phenotype=phenotype, **COHORT).write(tmp_path / "data")
    config.write_text(config.read_text() + FAST + extra)
    return config


@pytest.fixture(scope="module", params=["continuous", "survival"])
def trained(request, tmp_path_factory) -> tuple[str, Path, Path]:
    """A fitted run folder per task: (phenotype, data folder, run folder)."""
    folder = tmp_path_factory.mktemp(request.param)
    config = write(folder, request.param)
    assert run_cli_plain("fit", config, "--out", folder / "run") == 0
    return request.param, config.parent, folder / "run"


def run_cli_plain(*argv) -> int:
    from deepgami.cli import main

    return main(["-q", *map(str, argv)])


def test_fit_writes_the_task_outputs(trained):
    phenotype, _, run = trained
    metrics = json.loads((run / "metrics.json").read_text())
    keys = REGRESSION_KEYS if phenotype == "continuous" else SURVIVAL_KEYS
    for block in ("all", "snp", "tf"):
        assert keys <= set(metrics["test"][block])
        for key in keys:
            low, high = metrics["test"][block][f"{key}_ci95"]
            assert low <= metrics["test"][block][key] <= high
    assert keys <= set(metrics["out_of_fold"])
    predictions = pd.read_csv(run / "predictions.csv")
    column = "predicted" if phenotype == "continuous" else "risk"
    assert list(predictions.columns) == ["sample", column] and predictions[column].notna().all()
    figure = "predicted_vs_observed.png" if phenotype == "continuous" else "kaplan_meier.png"
    assert (run / figure).stat().st_size > 10_000
    model = DeepGAMIEstimator.load(run / "model")
    assert isinstance(model, DeepGAMIRegressor if phenotype == "continuous" else DeepGAMISurvival)
    # The planted signal is found (out of fold, on all 192 training rows; a tiny cohort and a
    # short fit: tests/test_tasks.py checks how well a linear truth is recovered).
    if phenotype == "continuous":
        assert metrics["out_of_fold"]["pearson"] > 0.2
    else:
        assert metrics["out_of_fold"]["c_index"] > 0.52


def test_predict_from_one_modality_and_explain(trained, tmp_path):
    phenotype, data, run = trained
    out = tmp_path / "predictions.csv"
    assert run_cli_plain("predict", run, "--modality", f"snp={data / 'snp.csv'}", "--out", out) == 0
    column = "predicted" if phenotype == "continuous" else "risk"
    assert list(pd.read_csv(out).columns) == ["sample", column]
    assert run_cli_plain("explain", run, "--out", tmp_path / "explain", "--n-steps", 16) == 0
    edges = pd.read_csv(tmp_path / "explain" / "edges.csv")
    assert set(edges["class"]) == {column} and edges["q_value"].between(0, 1).all()
    completeness = json.loads((tmp_path / "explain" / "explain.json").read_text())["completeness"][column]
    assert completeness["edges_relative_gap"] < 0.02
    # One output: no class comparison to draw.
    assert not (tmp_path / "explain" / "class_comparison.png").exists()


def _set(column: str, row: int, value: str):
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return edit


@pytest.mark.parametrize(
    ("phenotype", "edit", "expected"),
    [
        ("continuous", _set("label", 3, "high"), ("numeric labels", "high")),
        ("continuous", lambda f: f.assign(label="2.5"), ("all equal", "varies")),
        ("survival", _set("time", 3, "-1.5"), ("non-negative", "-1.5")),
        ("survival", _set("time", 3, ""), ("non-negative", "1 of")),
        ("survival", _set("event", 3, "2"), ("1 (event observed) or 0", "'2'")),
        ("survival", lambda f: f.assign(event="0"), ("has an observed event", "needs events")),
        ("survival", lambda f: f.drop(columns="event"), ("no column 'event'", "event_column")),
    ],
    ids=["non-numeric", "constant", "negative-time", "missing-time", "event-2", "no-events", "no-event-column"],
)
def test_bad_labels_end_in_one_line(capsys, tmp_path, phenotype, edit, expected):
    config = write(tmp_path, phenotype)
    edit_csv(config.parent / "labels.csv", edit)
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(capsys, "fit", config, "--out", out)
    assert_clean_error(code, stdout, stderr, out, *expected)


def test_renamed_survival_columns(capsys, tmp_path):
    config = write(tmp_path, "survival")
    labels = config.parent / "labels.csv"
    pd.read_csv(labels).rename(columns={"time": "os_days", "event": "os_status"}).to_csv(labels, index=False)
    text = config.read_text().replace('task = "survival"', 'task = "survival"\ntime_column = "os_days"\nevent_column = "os_status"')
    config.write_text(text)
    assert run_cli_plain("fit", config, "--out", tmp_path / "run") == 0
    out = tmp_path / "bad"
    config.write_text(text.replace('time_column = "os_days"', 'time_column = "os_days"\nlabel_column = "x"'))
    code, stdout, stderr = run_cli(capsys, "fit", config, "--out", out)
    assert_clean_error(code, stdout, stderr, out, "label_column", "survival")


@pytest.mark.parametrize(
    ("phenotype", "extra", "expected"),
    [
        ("survival", "\n[training]\nclass_weight = 'balanced'\n", ("class_weight", "does not apply")),
        ("continuous", "\n[model]\nloss = 'absolute'\n", ("loss",)),
    ],
    ids=["class-weight-in-survival", "unknown-loss"],
)
def test_parameters_of_another_task_are_refused(capsys, tmp_path, phenotype, extra, expected):
    config = write(tmp_path, phenotype)
    text = config.read_text()
    if "[training]" in extra:
        text = text.replace("[training]\n", "[training]\n" + extra.split("[training]\n")[1], 1)
    else:
        text = text.replace("[model]\n", "[model]\n" + extra.split("[model]\n")[1], 1)
    config.write_text(text)
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(capsys, "fit", config, "--out", out)
    assert_clean_error(code, stdout, stderr, out, *expected)


def test_unknown_task_is_refused(capsys, tmp_path):
    config = write(tmp_path, "continuous")
    config.write_text(config.read_text().replace('task = "regression"', 'task = "ordinal"'))
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(capsys, "fit", config, "--out", out)
    assert_clean_error(code, stdout, stderr, out, "task must be one of", "ordinal")


def test_huber_loss_from_the_config(tmp_path):
    config = write(tmp_path, "continuous")
    text = config.read_text().replace("[model]\n", '[model]\nloss = "huber"\nhuber_delta = 1.5\n', 1)
    config.write_text(text)
    assert run_cli_plain("fit", config, "--out", tmp_path / "run") == 0
    model = DeepGAMIEstimator.load(tmp_path / "run" / "model")
    assert model.loss == "huber" and model.task_.criterion == "huber" and model.task_.delta == 1.5
    assert np.isfinite(json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]["all"]["r2"])
