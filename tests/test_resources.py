"""Resources a run needs: an output folder it cannot write, a disk that fills up mid-write, and a
memory need known in advance that the machine cannot meet each end in one line, before any
partial output exists."""

from __future__ import annotations

import errno

import pandas as pd
import pytest

import deepgami.estimator
from deepgami import DeepGAMIClassifier, InputError, RegulatoryGraph
from deepgami.cli import main
from deepgami.nn.conv import BioDropConnect
from deepgami.simulate import simulate_cohort
from deepgami.simulate_hierarchy import simulate_hierarchy_cohort

SETTINGS = "\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 2\n"


@pytest.fixture()
def config(tmp_path):
    cohort = simulate_cohort(n_samples=60, n_snps=50, n_tfs=6, n_genes=10, seed=4)
    path = cohort.write(tmp_path / "cohort")
    path.write_text(path.read_text() + SETTINGS)
    return path


def clean_failure(capsys, argv, *expected) -> None:
    code = main(["-q", *(str(a) for a in argv)])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and "Traceback" not in captured.err and len(lines) == 1, captured.err
    for text in expected:
        assert text in lines[0], lines[0]


def test_an_output_folder_that_cannot_be_made(config, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    clean_failure(capsys, ["fit", config, "--out", blocker / "run"], "cannot write the output folder", "a_file")


def test_a_disk_that_fills_up_mid_write_leaves_no_partial_folder(config, tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out = tmp_path / "run"
    clean_failure(capsys, ["fit", config, "--out", out], "No space left on device", "nothing was written")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]


def test_predictions_that_cannot_be_written(config, tmp_path, capsys):
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "run")]) == 0
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    tf = config.parent / "tf.csv"
    clean_failure(capsys, ["predict", tmp_path / "run", "--modality", f"tf={tf}", "--out", blocker / "p.csv"], "cannot write the predictions file")


def test_a_dense_kernel_that_cannot_fit_in_memory_is_refused_before_training(monkeypatch):
    cohort = simulate_cohort(n_samples=40, n_snps=50, n_tfs=6, n_genes=10, seed=4)
    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene")])
    monkeypatch.setattr(deepgami.estimator, "_physical_memory", lambda: 2**10)  # a 1 KiB machine
    model = DeepGAMIClassifier(graph, kernel="dense", n_members=2, null_members=0, max_epochs=1)
    expected = r'kernel = "dense" needs about 13\.1 KiB .* 2 relations, more than this machine\'s 1\.0 KiB; use kernel = "auto"'
    with pytest.raises(InputError, match=expected):
        model.fit(cohort.modalities, cohort.labels)
    assert not hasattr(model, "module_")
    monkeypatch.setattr(deepgami.estimator, "_physical_memory", lambda: 2**40)
    assert hasattr(model.fit(cohort.modalities, cohort.labels), "module_")


def test_the_dense_memory_estimate_counts_every_level_of_a_deep_prior(monkeypatch):
    # Reference: the dense matrices the fitted network really holds, three float32 copies each.
    cohort = simulate_hierarchy_cohort(n_samples=40, n_snps=60, n_tfs=6, n_genes=12, n_pathways=6, depth=2, n_roots=2, n_causal_pathways=1, seed=3)
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    model = DeepGAMIClassifier(graph, kernel="dense", n_members=2, null_members=1, max_epochs=0)
    model.fit(cohort.modalities, cohort.labels)
    held = sum(3 * 4 * conv.num_src * conv.num_dst for conv in model.module_.modules() if isinstance(conv, BioDropConnect))
    n_relations = len(model.graph_.edge_types)
    monkeypatch.setattr(deepgami.estimator, "_physical_memory", lambda: held - 1)
    with pytest.raises(InputError, match=rf"needs about {deepgami.estimator._bytes(held)} .* {n_relations} relations"):
        DeepGAMIClassifier(graph, kernel="dense", n_members=2, null_members=1, max_epochs=0).fit(cohort.modalities, cohort.labels)
    monkeypatch.setattr(deepgami.estimator, "_physical_memory", lambda: held)
    DeepGAMIClassifier(graph, kernel="dense", n_members=2, null_members=1, max_epochs=0).fit(cohort.modalities, cohort.labels)
