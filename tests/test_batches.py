"""Compact storage and batched conversion: int8 genotypes, block-wise scaling, SampleStore."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from deepgami import DeepGAMIClassifier, preprocessing
from deepgami.batches import SampleStore
from deepgami.data import MISSING_INT8, MultiOmicsData
from deepgami.errors import InputError
from deepgami.preprocessing import ModalityScaler


def _genotypes(rng, n_samples=40, n_snps=25, missing=0.05):
    calls = rng.integers(0, 3, size=(n_samples, n_snps)).astype(np.int8)
    calls[rng.random(calls.shape) < missing] = MISSING_INT8
    return calls


def test_int8_and_float32_tables_are_held_without_a_copy():
    rng = np.random.default_rng(0)
    calls = _genotypes(rng)
    expression = rng.normal(size=(40, 6)).astype(np.float32)
    ids = [f"s{i}" for i in range(40)]
    data = MultiOmicsData(
        {"snp": pd.DataFrame(calls, index=ids), "rna": pd.DataFrame(expression, index=ids)},
        pd.Series(rng.integers(0, 2, 40), index=ids),
    )
    assert data.modalities["snp"].dtypes.unique().tolist() == [np.int8]
    assert np.shares_memory(data.modalities["snp"].to_numpy(), calls)
    assert np.shares_memory(data.modalities["rna"].to_numpy(), expression)


def test_outer_join_marks_unobserved_int8_rows_as_missing_calls():
    calls = np.ones((3, 4), dtype=np.int8)
    data = MultiOmicsData(
        {"snp": pd.DataFrame(calls, index=["a", "b", "c"]), "rna": pd.DataFrame(np.zeros((2, 2)), index=["c", "d"])},
        join="outer",
    )
    snp = data.modalities["snp"]
    assert snp.dtypes.unique().tolist() == [np.int8]
    assert (snp.loc["d"] == MISSING_INT8).all()
    assert data.observed["snp"].tolist() == [True, True, True, False]


@pytest.mark.parametrize("method", ["standard", "minmax", "log1p"])
def test_block_wise_fit_equals_a_whole_matrix_fit(monkeypatch, method):
    rng = np.random.default_rng(1)
    calls = _genotypes(rng, n_samples=50, n_snps=37)
    rows = np.arange(0, 50, 2)
    whole = ModalityScaler(method, "mean").fit(calls, rows)
    monkeypatch.setattr(preprocessing, "BLOCK_ENTRIES", 60)  # blocks of 2 columns
    blocked = ModalityScaler(method, "mean").fit(calls, rows)
    for a, b in zip(whole.get_state().values(), blocked.get_state().values()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_int8_scaling_matches_float_with_nan_and_sklearn():
    rng = np.random.default_rng(2)
    calls = _genotypes(rng)
    as_float = np.where(calls == MISSING_INT8, np.nan, calls).astype(np.float32)
    scaler = ModalityScaler("standard", "mean").fit(calls)
    filled = np.where(np.isnan(as_float), np.nanmean(as_float, axis=0), as_float)
    expected = StandardScaler().fit_transform(filled)
    np.testing.assert_allclose(scaler.transform(calls), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scaler.transform(as_float), expected, rtol=1e-5, atol=1e-5)
    tensor = scaler.transform_tensor(torch.from_numpy(calls))
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_missing_calls_are_refused_unless_imputation_is_asked_for():
    calls = _genotypes(np.random.default_rng(3))
    with pytest.raises(InputError, match='missing = "mean"'):
        ModalityScaler("standard", "error", name="snp").fit(calls, feature_names=[f"rs{i}" for i in range(25)])


def test_store_batches_gather_only_their_rows_and_match_the_scaler():
    rng = np.random.default_rng(4)
    calls = _genotypes(rng)
    scaler = ModalityScaler("standard", "mean").fit(calls)
    observed = torch.ones(40, dtype=torch.bool)
    observed[3] = False
    store = SampleStore(
        {"snp": torch.from_numpy(calls)}, {"snp": observed}, torch.arange(40) % 2, {"snp": scaler.transform_tensor}
    )
    part = store.take(torch.arange(2, 12))
    batch = part.batch(torch.tensor([0, 1, 5]))  # store rows 2, 3, 7
    expected = scaler.transform(calls[[2, 3, 7]])
    expected[1] = 0.0  # row 3 is unobserved: zero input
    np.testing.assert_allclose(batch.x_dict["snp"].numpy(), expected, rtol=1e-6)
    assert batch.observed["snp"].tolist() == [True, False, True]
    assert batch.y.tolist() == [0, 1, 1]
    assert batch.x_dict["snp"].dtype == torch.float32
    assert sum(len(b) for b in part.batches(4)) == 10


def test_estimator_on_int8_genotypes_equals_the_float_table_with_nans(small_cohort, small_graph):
    snp = small_cohort.snp.round().clip(0, 2)
    rng = np.random.default_rng(5)
    calls = snp.to_numpy().astype(np.int8)
    calls[rng.random(calls.shape) < 0.02] = MISSING_INT8
    int8_table = pd.DataFrame(calls, index=snp.index, columns=snp.columns)
    float_table = int8_table.astype(np.float32).mask(int8_table == MISSING_INT8)
    params = dict(max_epochs=3, missing="mean", random_state=0, batch_size=32)
    a = DeepGAMIClassifier(small_graph, **params).fit({"snp": int8_table, "tf": small_cohort.tf}, small_cohort.labels)
    b = DeepGAMIClassifier(small_graph, **params).fit({"snp": float_table, "tf": small_cohort.tf}, small_cohort.labels)
    proba_a = a.predict_proba({"snp": int8_table, "tf": small_cohort.tf})
    proba_b = b.predict_proba({"snp": float_table, "tf": small_cohort.tf})
    np.testing.assert_allclose(proba_a, proba_b, rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_fit_predict_and_explain_on_cuda_match_cpu(small_cohort, small_graph):
    from deepgami.explain import Explainer

    params = dict(max_epochs=3, random_state=0, dropout=0.0, modality_dropout=0.0)
    cpu = DeepGAMIClassifier(small_graph, **params).fit(small_cohort.modalities, small_cohort.labels)
    gpu = DeepGAMIClassifier(small_graph, device="cuda", **params).fit(small_cohort.modalities, small_cohort.labels)
    assert next(gpu.module_.parameters()).is_cuda
    np.testing.assert_allclose(gpu.predict_proba(small_cohort.modalities), cpu.predict_proba(small_cohort.modalities), atol=1e-3)
    result = Explainer(gpu, small_cohort.modalities, n_steps=8).edges()
    table, completeness = result.table, result.completeness
    assert np.isfinite(table["score"]).all()
    assert all(gaps["relative_gap"] < 0.05 for gaps in completeness.values())


def test_baselines_read_missing_int8_calls_as_nan():
    from deepgami.evaluation.baselines._common import _modality_values

    calls = np.array([[0, 1], [MISSING_INT8, 2], [2, 2]], dtype=np.int8)
    data = MultiOmicsData({"snp": pd.DataFrame(calls, columns=["a", "b"]), "rna": pd.DataFrame(np.ones((3, 1)))})
    values = _modality_values(data, "snp", ["a", "b"])
    assert np.isnan(values[1, 0]) and values[1, 1] == 2.0 and values.dtype == np.float64


@pytest.mark.parametrize("method", ["standard", "minmax", "log1p", "none"])
def test_tensor_transform_equals_the_numpy_transform(method):
    rng = np.random.default_rng(6)
    calls = _genotypes(rng)
    as_float = np.where(calls == MISSING_INT8, np.nan, calls).astype(np.float32)
    scaler = ModalityScaler(method, "mean").fit(calls)
    expected = scaler.transform(as_float)
    for raw in (calls, as_float):
        before = raw.copy()
        np.testing.assert_allclose(scaler.transform_tensor(torch.from_numpy(raw)).numpy(), expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(raw, before)  # the caller's values are never written


def test_fit_reads_a_plink_genotype_modality_as_int8(small_cohort, tmp_path, monkeypatch):
    """A config may name a .bed for the genotypes; they stay int8 through training."""
    import tomllib

    import tomli_w
    from bed_reader import to_bed

    import deepgami.estimator as estimator_module
    from deepgami.config import load_config
    from deepgami.workflow import run_fit

    config = small_cohort.write(tmp_path / "cohort")
    calls = small_cohort.snp.round().clip(0, 2).to_numpy().astype(np.int8)
    calls[0, 0] = MISSING_INT8
    to_bed(
        tmp_path / "cohort" / "geno.bed", calls,
        properties={"iid": list(small_cohort.snp.index), "sid": list(small_cohort.snp.columns)},
    )  # fmt: skip
    document = tomllib.loads(config.read_text())
    document["data"]["modalities"]["snp"] = {"path": "geno.bed", "missing": "mean"}
    document["training"] = {"max_epochs": 2}
    config.write_text(tomli_w.dumps(document))
    seen = {}
    original = estimator_module.SampleStore

    def spy(values, *args, **kwargs):
        seen.update({m: v.dtype for m, v in values.items()})
        return original(values, *args, **kwargs)

    monkeypatch.setattr(estimator_module, "SampleStore", spy)
    result = run_fit(load_config(config), tmp_path / "run")
    assert seen["snp"] == torch.int8
    assert result.metrics["samples_per_modality"]["snp"] == len(small_cohort.labels)


def test_a_bed_modality_without_bed_reader_is_one_clear_error(tmp_path, monkeypatch):
    import importlib.util

    from deepgami.readers import read_modality

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "bed_reader" else real(name, *a))
    with pytest.raises(InputError, match=r"pip install 'deepgami\[adapters\]'"):
        read_modality(tmp_path / "geno.bed", "snp")
