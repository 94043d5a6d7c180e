"""The cohort simulator and per-modality scalers."""

from __future__ import annotations

import numpy as np
import pytest

from deepgami import InputError
from deepgami.preprocessing import ModalityScaler
from deepgami.simulate import simulate_cohort


def test_simulated_cohort_structure():
    cohort = simulate_cohort(n_samples=200, n_snps=400, n_tfs=20, n_genes=40, n_classes=3, seed=5)
    assert cohort.snp.shape == (200, 400) and cohort.tf.shape == (200, 20) and cohort.genes.shape == (200, 40)
    assert set(np.unique(cohort.snp.to_numpy())) <= {0.0, 1.0, 2.0}
    assert sorted(cohort.labels.unique()) == ["class_0", "class_1", "class_2"]
    assert cohort.labels.value_counts().min() >= 60
    # LD: neighbours within a block correlate, SNPs in different blocks do not
    corr = np.corrcoef(cohort.snp.to_numpy().T)
    within = np.mean([corr[i, i + 1] for i in range(0, 400, 20)])
    across = np.mean([corr[i, i + 40] for i in range(0, 360, 20)])
    assert within > 0.3 > abs(across)
    # every planted edge is in the prior graph; the prior also holds null edges
    for relation, prior in (("eqtl", cohort.eqtl), ("regulates", cohort.grn)):
        planted = cohort.truth["edges"].query("relation == @relation")
        pairs = set(zip(prior["source"], prior["target"]))
        assert set(zip(planted["source"], planted["target"])) <= pairs
        assert len(pairs) > len(planted)
        assert not prior.duplicated().any()
    assert set(cohort.truth["causal_genes"]) <= set(cohort.genes.columns)


def test_simulation_is_seeded():
    settings = dict(n_samples=50, n_snps=60, n_tfs=5, n_genes=10, seed=2)
    a, b = simulate_cohort(**settings), simulate_cohort(**settings)
    assert a.snp.equals(b.snp) and a.labels.equals(b.labels) and a.eqtl.equals(b.eqtl)


@pytest.mark.parametrize(
    ("method", "check"),
    [
        ("standard", lambda z: np.allclose(z.mean(0), 0, atol=1e-5) and np.allclose(z.std(0), 1, atol=1e-4)),
        ("minmax", lambda z: np.allclose(z.min(0), 0) and np.allclose(z.max(0), 1)),
        ("log1p", lambda z: np.allclose(z.mean(0), 0, atol=1e-5)),
        ("none", lambda z: True),
    ],
)
def test_scaler_methods(method, check):
    x = np.random.default_rng(0).gamma(2.0, size=(50, 4)).astype(np.float32)
    scaler = ModalityScaler(method).fit(x)
    z = scaler.transform(x)
    assert z.shape == x.shape and z.dtype == np.float32 and check(z)
    if method == "none":
        np.testing.assert_array_equal(z, x)
    restored = ModalityScaler(method).set_state(scaler.get_state())
    np.testing.assert_array_equal(restored.transform(x), z)


def test_scaler_missing_values_policy():
    x = np.array([[1.0, 2.0], [np.nan, 4.0], [3.0, 6.0]], dtype=np.float32)
    with pytest.raises(InputError, match="1 missing values"):
        ModalityScaler(name="rna").fit(x)
    scaler = ModalityScaler("none", missing="mean").fit(x)
    np.testing.assert_array_equal(scaler.transform(x)[1], [2.0, 4.0])
    with pytest.raises(InputError, match="log1p"):
        ModalityScaler("log1p").fit(-2 * np.ones((2, 2)))
    with pytest.raises(InputError, match="scaling"):
        ModalityScaler("zscore")
