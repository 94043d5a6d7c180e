"""Shared fixtures: small seeded cohorts and graphs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[1]


def run_tutorial(name: str, out: Path) -> subprocess.CompletedProcess:
    """Run ``tutorials/<name>.py`` in quick mode writing under ``out``; fail with its output if it fails."""
    env = {**os.environ, "DEEPGAMI_TUTORIAL_QUICK": "1", "DEEPGAMI_TUTORIAL_OUT": str(out)}
    # The models are tiny: one thread avoids oversubscribing a shared machine.
    env.setdefault("OMP_NUM_THREADS", "1")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tutorials" / f"{name}.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, f"{name} exited with {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result
