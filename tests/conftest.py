"""Shared fixtures: small seeded cohorts and graphs."""

from __future__ import annotations

import pytest

from deepgami import RegulatoryGraph
from deepgami.simulate import simulate_cohort


@pytest.fixture(scope="session")
def small_cohort():
    """A small, easy simulated cohort (160 samples) for fast model tests."""
    return simulate_cohort(n_samples=160, n_snps=300, n_tfs=30, n_genes=60, n_causal_genes=10, difficulty="easy", seed=1)


@pytest.fixture(scope="session")
def small_graph(small_cohort):
    return RegulatoryGraph.from_edge_tables(
        [(small_cohort.eqtl, "snp", "gene", "eqtl"), (small_cohort.grn, "tf", "gene", "regulates")]
    )
