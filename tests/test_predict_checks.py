"""`deepgami predict` treats its input with the care `fit` does: every case through the CLI.

Handled as stated: columns in another order are aligned by name; extra columns are ignored and
counted in a note; missing features, unknown or repeated modality names, NaNs under the
``missing = "error"`` policy, duplicate and empty sample ids each end in one error line with no
predictions file; NaNs under ``missing = "mean"`` are imputed with the training means.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli_errors import assert_clean_error, run_cli

from deepgami import DeepGAMIClassifier
from deepgami.cli import main
from deepgami.simulate import simulate_cohort

SETTINGS = "\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 2\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two fitted runs of one cohort: the tf modality with ``missing = "error"`` and with ``"mean"``."""
    folder = tmp_path_factory.mktemp("predict")
    cohort = simulate_cohort(n_samples=80, n_snps=60, n_tfs=8, n_genes=12, seed=3)
    config = cohort.write(folder / "cohort")
    text = config.read_text() + SETTINGS
    out = {}
    for policy in ("error", "mean"):
        config.write_text(text.replace('path = "tf.csv"\n', f'path = "tf.csv"\nmissing = "{policy}"\n'))
        assert main(["-q", "fit", str(config), "--out", str(folder / policy)]) == 0
        out[policy] = folder / policy
    out["tf"] = folder / "cohort" / "tf.csv"
    return out


def predict(capsys, run: Path, tf: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "predict", run, "--modality", f"tf={tf}", *extra, "--out", out)


def table(runs) -> pd.DataFrame:
    return pd.read_csv(runs["tf"], index_col=0)


def expected(runs, policy: str, frame: pd.DataFrame) -> np.ndarray:
    return DeepGAMIClassifier.load(runs[policy] / "model").predict_proba({"tf": frame})


def test_reordered_columns_are_aligned_and_extra_ones_noted(runs, capsys, tmp_path, caplog):
    frame = table(runs)
    shuffled = frame[frame.columns[::-1]].assign(extra_gene=1.0)
    shuffled.to_csv(tmp_path / "tf.csv")
    out = tmp_path / "pred.csv"
    with caplog.at_level(logging.INFO, logger="deepgami.data"):
        assert predict(capsys, runs["error"], tmp_path / "tf.csv", out)[0] == 0
    np.testing.assert_allclose(pd.read_csv(out)[["p_case", "p_control"]].to_numpy(), expected(runs, "error", frame), rtol=1e-6)
    assert "1 columns not seen in training are ignored (extra_gene)" in caplog.text


def test_missing_features_are_counted_and_named(runs, capsys, tmp_path):
    table(runs).drop(columns=["TF000", "TF003"]).to_csv(tmp_path / "tf.csv")
    out = tmp_path / "pred.csv"
    assert_clean_error(*predict(capsys, runs["error"], tmp_path / "tf.csv", out), out, "lacks 2 of the 8 features", "TF000, TF003")


def test_unknown_and_repeated_modality_names(runs, capsys, tmp_path):
    out = tmp_path / "pred.csv"
    result = run_cli(capsys, "predict", runs["error"], "--modality", f"rna={runs['tf']}", "--out", out)
    assert_clean_error(*result, out, "trained on modalities", "rna")
    assert_clean_error(*predict(capsys, runs["error"], runs["tf"], out, "--modality", f"tf={runs['tf']}"), out, "--modality tf is given twice")


def test_nan_follows_the_training_missing_policy(runs, capsys, tmp_path):
    frame = table(runs)
    frame.iloc[2, 1] = np.nan
    frame.to_csv(tmp_path / "tf.csv")
    out = tmp_path / "pred.csv"
    assert_clean_error(*predict(capsys, runs["error"], tmp_path / "tf.csv", out), out, "'tf'", "missing")
    assert predict(capsys, runs["mean"], tmp_path / "tf.csv", out)[0] == 0
    predictions = pd.read_csv(out)
    assert predictions[["p_case", "p_control"]].notna().all().all()
    np.testing.assert_allclose(predictions[["p_case", "p_control"]].to_numpy(), expected(runs, "mean", frame), rtol=1e-6)


@pytest.mark.parametrize(
    ("edit", "expected_text"),
    [
        pytest.param(lambda ids: [ids[0], *ids[:-1]], "duplicate sample ids", id="duplicate"),
        pytest.param(lambda ids: ["", *ids[1:]], "rows without a sample id", id="empty"),
    ],
)
def test_bad_sample_ids(runs, capsys, tmp_path, edit, expected_text):
    frame = table(runs)
    frame.index = edit(list(frame.index))
    frame.to_csv(tmp_path / "tf.csv")
    out = tmp_path / "pred.csv"
    assert_clean_error(*predict(capsys, runs["error"], tmp_path / "tf.csv", out), out, "'tf'", expected_text)
