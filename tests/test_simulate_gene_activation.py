"""The simulator's gene model: additive by default, cooperative (thresholded) on request."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepgami.simulate import simulate_cohort

SIZES = {"n_samples": 400, "n_snps": 300, "n_tfs": 20, "n_genes": 30}


def _planted_r2(cohort, relation: str, modality) -> float:
    """Mean R^2 of each gene on a linear model of its own planted inputs."""
    edges = cohort.truth["edges"].query("relation == @relation")
    x = modality.to_numpy(np.float64)
    scores = []
    for gene, group in edges.groupby("target"):
        design = np.column_stack([np.ones(len(x)), x[:, modality.columns.get_indexer(group["source"])]])
        y = cohort.genes[gene].to_numpy(np.float64)
        if y.var() < 1e-12:  # a switch whose input never crosses the threshold stays off
            continue
        residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
        scores.append(1 - residual.var() / y.var())
    return float(np.mean(scores))


def test_linear_genes_are_additive_in_their_planted_eqtls():
    cohort = simulate_cohort(**SIZES, snp_share=1.0, tf_share=0.0, seed=0)
    assert cohort.truth["gene_activation"] == "linear"
    assert _planted_r2(cohort, "eqtl", cohort.snp) > 0.999


def test_relu_genes_are_not_additive_and_have_the_requested_inputs():
    cohort = simulate_cohort(**SIZES, snp_share=1.0, tf_share=0.0, gene_activation="relu", causal_eqtls=3, causal_regulators=3, seed=0)
    edges = cohort.truth["edges"]
    assert (edges.query("relation == 'eqtl'").groupby("target").size() == 3).all()
    assert (edges.query("relation == 'regulates'").groupby("target").size() == 3).all()
    for relation, prior in (("eqtl", cohort.eqtl), ("regulates", cohort.grn)):
        planted = edges.query("relation == @relation")
        assert set(zip(planted["source"], planted["target"])) <= set(zip(prior["source"], prior["target"]))
    # A gene responds only above the threshold: most samples sit at its floor ...
    genes = cohort.genes.to_numpy()
    assert np.mean(np.isclose(genes, genes.min(0), atol=1e-5)) > 0.6
    # ... and a linear model of its own inputs misses much of it
    assert _planted_r2(cohort, "eqtl", cohort.snp) < 0.8
    tf_cohort = simulate_cohort(**SIZES, snp_share=0.0, tf_share=1.0, gene_activation="relu", causal_regulators=3, seed=0)
    assert _planted_r2(tf_cohort, "regulates", tf_cohort.tf) < 0.8


def test_gene_activation_checks_arguments():
    with pytest.raises(ValueError, match="gene_activation"):
        simulate_cohort(**SIZES, gene_activation="sigmoid")
    with pytest.raises(ValueError, match="at least 1"):
        simulate_cohort(**SIZES, causal_regulators=0)


def test_hub_tfs_and_ld_decoys():
    plain = simulate_cohort(**SIZES, seed=3)
    hubs = simulate_cohort(**SIZES, tf_hubs=True, ld_decoys=2, seed=3)
    # A few TFs regulate many genes: the busiest TF's out-degree grows well beyond the uniform draw's.
    assert hubs.grn["source"].value_counts().max() > 1.5 * plain.grn["source"].value_counts().max()
    # Decoys: the causal eQTLs' block neighbours are listed for the same gene, and are not planted.
    planted = hubs.truth["edges"].query("relation == 'eqtl'")
    listed = set(zip(hubs.eqtl["source"], hubs.eqtl["target"]))
    neighbours = [(f"rs{int(s[2:]) + 1}", g) for s, g in zip(planted["source"], planted["target"]) if (int(s[2:]) - 100000 + 1) % 20]
    assert all(edge in listed for edge in neighbours)
    assert len(hubs.eqtl) > len(plain.eqtl)
    # Off by default: the same cohort as before the options existed.
    pd.testing.assert_frame_equal(plain.snp, simulate_cohort(**SIZES, seed=3).snp)


def test_panel_spans_sizes_tasks_and_nulls():
    from deepgami.simulate import panel_settings

    panel = panel_settings(20, 4, seed=1)
    assert len(panel) == 24 and sum(p["difficulty"] == 0.0 for p in panel) == 4
    assert {p["n_samples"] for p in panel} == {500, 1000, 2000}
    assert {p.get("gene_activation", "linear") for p in panel} == {"linear", "relu"}
    assert len({p["seed"] for p in panel}) == 24
