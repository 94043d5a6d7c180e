"""The simulator's phenotype kinds: binary (unchanged), continuous and right-censored survival."""

from __future__ import annotations

import hashlib
import tomllib

import numpy as np
import pandas as pd
import pytest

from deepgami.simulate import CONFIG_TEMPLATE, panel_settings, simulate_cohort

SMALL = {"n_samples": 120, "n_snps": 200, "n_tfs": 12, "n_genes": 30}
# Many samples, few genes: quick, and the recovery checks below are tight.
LARGE = {"n_samples": 1500, "n_snps": 160, "n_tfs": 10, "n_genes": 30}

# sha256 of the "sample,label" lines of the labels, recorded from the simulator before it
# gained phenotype kinds: the default (binary) output must not change.
RECORDED = [
    ({**SMALL, "seed": 3}, "6f95073e13ecd28941c4efb8ca943da147b387c500e029b0570f4e0411430e26"),
    (
        {"n_samples": 90, "n_snps": 150, "n_tfs": 10, "n_genes": 20, "n_classes": 3, "seed": 7},
        "350e93645955e36ed071857e42778c59cee98db55200b14f52d8bb0ed9ead719",
    ),
    (
        {
            "n_samples": 100,
            "n_snps": 200,
            "n_tfs": 15,
            "n_genes": 30,
            "gene_activation": "relu",
            "causal_eqtls": 3,
            "causal_regulators": 3,
            "tf_hubs": True,
            "ld_decoys": 2,
            "difficulty": 0.0,
            "seed": 11,
        },
        "befc17f61ed51ed83238286d30cefc28fd7473967358cb37aaa63657d0761c3d",
    ),
]


def _digest(labels: pd.Series) -> str:
    return hashlib.sha256("\n".join(f"{sample},{label}" for sample, label in labels.items()).encode()).hexdigest()


def _causal_design(cohort) -> np.ndarray:
    """The causal genes as the liability uses them (every other one through a rectifier), with an intercept."""
    drive = cohort.genes[cohort.truth["causal_genes"]].to_numpy(np.float64)
    drive[:, ::2] = np.maximum(drive[:, ::2], 0.0)
    return np.column_stack([np.ones(len(drive)), drive])


def _r2(design: np.ndarray, y: np.ndarray) -> float:
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(1 - residual.var() / y.var())


def _harrell_c(labels: pd.DataFrame, risk: pd.Series) -> float:
    concordance_index = pytest.importorskip("lifelines.utils").concordance_index
    return float(concordance_index(labels["time"], -risk.loc[labels.index], labels["event"]))


@pytest.mark.parametrize(("settings", "digest"), RECORDED)
def test_binary_default_is_unchanged(settings, digest):
    default = simulate_cohort(**settings)
    assert default.phenotype == "binary" and default.task is None
    assert _digest(default.labels) == digest
    binary = simulate_cohort(**settings, phenotype="binary")
    assert binary.labels.equals(default.labels) and binary.snp.equals(default.snp) and binary.genes.equals(default.genes)


def test_every_kind_shares_inputs_and_truth():
    cohorts = {kind: simulate_cohort(**SMALL, phenotype=kind, seed=4) for kind in ("binary", "continuous", "survival")}
    binary = cohorts["binary"]
    for cohort in cohorts.values():
        assert cohort.snp.equals(binary.snp) and cohort.tf.equals(binary.tf) and cohort.genes.equals(binary.genes)
        assert cohort.eqtl.equals(binary.eqtl) and cohort.grn.equals(binary.grn)
        assert cohort.truth["causal_genes"] == binary.truth["causal_genes"]
        assert cohort.truth["edges"].equals(binary.truth["edges"]) and cohort.truth["gene_weights"].equals(binary.truth["gene_weights"])
        assert cohort.truth["signal"].equals(binary.truth["signal"]) and cohort.truth["heritability"] == 0.9
    # the continuous label is the liability the classes are cut from
    continuous = cohorts["continuous"].labels
    assert continuous.dtype == np.float64 and continuous.index.equals(binary.labels.index)
    assert continuous[binary.labels == "case"].min() >= continuous[binary.labels == "control"].max()


@pytest.mark.parametrize("heritability", [0.0, 0.4, 0.8])
def test_continuous_label_carries_the_heritability(heritability):
    cohort = simulate_cohort(**LARGE, difficulty=heritability, phenotype="continuous", seed=1)
    y = cohort.labels.to_numpy()
    assert abs(y.mean()) < 0.1 and abs(y.var() - 1) < 0.1
    assert _r2(_causal_design(cohort), y) == pytest.approx(heritability, abs=0.04)


def test_survival_times_and_censoring():
    cohort = simulate_cohort(**LARGE, phenotype="survival", seed=2)
    labels = cohort.labels
    assert list(labels.columns) == ["time", "event"] and labels.index.equals(cohort.snp.index)
    assert labels["time"].dtype == np.float64 and np.isfinite(labels["time"]).all() and (labels["time"] > 0).all()
    assert labels["event"].dtype.kind == "i" and set(labels["event"]) == {0, 1}
    assert 1 - labels["event"].mean() == pytest.approx(0.3, abs=0.04)
    heavy = simulate_cohort(**LARGE, phenotype="survival", censoring=0.6, seed=2).labels
    assert 1 - heavy["event"].mean() == pytest.approx(0.6, abs=0.04)
    # the censoring share changes only the censoring: observed events keep their times
    uncensored = simulate_cohort(**LARGE, phenotype="survival", censoring=0.0, seed=2).labels
    assert (uncensored["event"] == 1).all()
    for censored in (labels, heavy):
        observed = censored["event"] == 1
        np.testing.assert_array_equal(censored.loc[observed, "time"], uncensored.loc[observed, "time"])
        assert (censored.loc[~observed, "time"] < uncensored.loc[~observed, "time"]).all()


def test_survival_concordance_follows_the_signal():
    strong = simulate_cohort(**LARGE, difficulty=0.9, phenotype="survival", seed=3)
    assert _harrell_c(strong.labels, strong.truth["signal"]) > 0.65
    null = simulate_cohort(**LARGE, difficulty=0.0, phenotype="survival", seed=3)
    assert _harrell_c(null.labels, null.truth["signal"]) == pytest.approx(0.5, abs=0.04)
    # a larger log hazard ratio separates the risk groups further
    sharper = simulate_cohort(**LARGE, difficulty=0.9, phenotype="survival", log_hazard_ratio=2.0, seed=3)
    assert _harrell_c(sharper.labels, sharper.truth["signal"]) > _harrell_c(strong.labels, strong.truth["signal"])


@pytest.mark.parametrize(
    ("phenotype", "task", "columns"),
    [("binary", None, ["sample", "label"]), ("continuous", "regression", ["sample", "label"]), ("survival", "survival", ["sample", "time", "event"])],
)
def test_write_labels_and_task(tmp_path, phenotype, task, columns):
    cohort = simulate_cohort(**SMALL, phenotype=phenotype, seed=0)
    config = cohort.write(tmp_path)
    written = pd.read_csv(tmp_path / "labels.csv")
    assert list(written.columns) == columns and list(written["sample"]) == list(cohort.labels.index)
    if phenotype == "continuous":
        np.testing.assert_allclose(written["label"], cohort.labels.to_numpy(), rtol=1e-12)
    if phenotype == "survival":
        np.testing.assert_allclose(written["time"], cohort.labels["time"].to_numpy(), rtol=1e-12)
        assert written["event"].dtype.kind == "i" and (written["event"].to_numpy() == cohort.labels["event"].to_numpy()).all()
    text = config.read_text()
    parsed = tomllib.loads(text)
    assert parsed["data"]["labels"] == "labels.csv" and parsed["data"].get("task") == task
    if task is None:
        assert text == CONFIG_TEMPLATE
    else:
        assert text == CONFIG_TEMPLATE.replace('labels = "labels.csv"\n', f'labels = "labels.csv"\ntask = "{task}"\n')


def test_phenotype_arguments_are_checked():
    with pytest.raises(ValueError, match="phenotype"):
        simulate_cohort(**SMALL, phenotype="ordinal")
    with pytest.raises(ValueError, match="censoring"):
        simulate_cohort(**SMALL, phenotype="survival", censoring=1.0)
    with pytest.raises(ValueError, match="log_hazard_ratio"):
        simulate_cohort(**SMALL, phenotype="survival", log_hazard_ratio=float("nan"))


def test_panel_settings_per_phenotype():
    binary = panel_settings(3, 1, seed=1)
    assert all("phenotype" not in settings for settings in binary)
    survival = panel_settings(3, 1, seed=1, phenotype="survival")
    assert survival == [settings | {"phenotype": "survival"} for settings in binary]
    with pytest.raises(ValueError, match="phenotype"):
        panel_settings(phenotype="ordinal")
