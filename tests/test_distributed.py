"""Multi-process training: two CPU processes under torchrun give the one-process model, and
stop early at the epoch it stops at."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w
import torch
from safetensors.torch import load_file
from test_cli_errors import assert_clean_error, run_cli

from deepgami.cli import main
from deepgami.simulate import simulate_cohort

TORCHRUN = Path(sys.executable).with_name("torchrun")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """A small cohort whose training split (76 rows, batches of 10) ends in a batch of 6;
    dropout is off, as its masks are the one random draw each process makes alone. The edge
    lasso is on: each process must add only its share of it."""
    folder = tmp_path_factory.mktemp("ddp")
    cohort = simulate_cohort(n_samples=96, n_snps=120, n_tfs=12, n_genes=24, n_causal_genes=6, difficulty="easy", seed=3)
    path = cohort.write(folder / "cohort")
    document = tomllib.loads(path.read_text())
    document["model"] = {"dropout": 0.0, "hidden_dims": [16], "modality_dropout": 0.5, "edge_l1": 0.01}
    document["training"] = {"max_epochs": 4, "batch_size": 10, "validation_fraction": 0.0, "seed": 5}
    path.write_text(tomli_w.dumps(document))
    return path


def _weights(run: Path) -> dict[str, torch.Tensor]:
    tensors = load_file(str(run / "model" / "weights.safetensors"))
    return {k: v for k, v in tensors.items() if k.startswith("module.")}


def _torchrun(config: Path, out: Path, n_processes: int) -> subprocess.CompletedProcess:
    """``deepgami fit`` under torchrun; fails unless every process joined one group of
    ``n_processes`` and training ran distributed (their log lines on stderr)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [str(TORCHRUN), "--standalone", f"--nproc-per-node={n_processes}", "-m", "deepgami", "fit", str(config), "--out", str(out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for rank in range(n_processes):
        assert f"deepgami: process {rank} of {n_processes} joined the gloo process group" in result.stderr, result.stderr[-3000:]
    # Process 0's log (the others log errors only): its training loop ran under DistributedDataParallel.
    assert f"deepgami: training in {n_processes} processes" in result.stderr, result.stderr[-3000:]
    return result


def test_two_processes_train_the_one_process_model(config, tmp_path):
    """Without validation all epochs run; two processes that each train on half of every batch
    end with the one-process weights, and only process 0 writes the run folder."""
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "one")]) == 0
    _torchrun(config, tmp_path / "two", 2)
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert one.keys() == two.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-5, msg=name)
    # Only process 0 wrote the run folder, and the same files as one process.
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())


def test_two_processes_train_the_one_process_model_of_a_single_modality(config, tmp_path):
    """Genotypes alone (no auxiliary maps, so DDP sees no unused parameters) under torchrun."""
    document = tomllib.loads(config.read_text())
    del document["data"]["modalities"]["tf"]
    document["graph"]["edges"] = [e for e in document["graph"]["edges"] if e["source"] == "snp"]
    single = config.with_name("config_snp_only.toml")  # beside the data its relative paths name
    single.write_text(tomli_w.dumps(document))
    assert main(["-q", "fit", str(single), "--out", str(tmp_path / "one")]) == 0
    _torchrun(single, tmp_path / "two", 2)
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert one.keys() == two.keys() and not any("aux_maps" in name for name in one)
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-5, msg=name)


def test_a_batch_smaller_than_the_process_count_still_trains(config, tmp_path):
    """76 rows in batches of 25: the last batch has 1 row, so process 1 gets none."""
    document = tomllib.loads(config.read_text())
    document["training"]["batch_size"] = 25
    small = config.with_name("config_batch25.toml")  # beside the data its relative paths name
    small.write_text(tomli_w.dumps(document))
    assert main(["-q", "fit", str(small), "--out", str(tmp_path / "one")]) == 0
    _torchrun(small, tmp_path / "two", 2)
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-5, msg=name)


def test_distributed_flag_outside_torchrun_is_one_clear_error(config, tmp_path, capsys, monkeypatch):
    for variable in ("RANK", "WORLD_SIZE", "MASTER_ADDR"):
        monkeypatch.delenv(variable, raising=False)
    result = run_cli(capsys, "fit", config, "--out", tmp_path / "run", "--distributed")
    assert_clean_error(*result, tmp_path / "run", "torchrun --nproc-per-node")


def test_commands_other_than_fit_refuse_torchrun(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert_clean_error(*run_cli(capsys, "demo", "--out", tmp_path / "demo"), tmp_path / "demo", "only `deepgami fit`")


def test_two_processes_stop_early_at_the_epoch_one_process_stops(config, tmp_path):
    """With validation (cross-fitted members, each validating on its own fold) and a small
    patience, early stopping ends training before ``max_epochs``: two processes validate on the
    whole validation set each, stop at the same epoch as one process and restore the same best
    weights."""
    document = tomllib.loads(config.read_text())
    document["training"].update({"max_epochs": 30, "validation_fraction": 0.2, "patience": 2, "lr": 0.01})
    validated = config.with_name("config_validated.toml")  # beside the data its relative paths name
    validated.write_text(tomli_w.dumps(document))
    assert main(["-q", "fit", str(validated), "--out", str(tmp_path / "one")]) == 0
    result = _torchrun(validated, tmp_path / "two", 2)
    epochs = {run: json.loads((tmp_path / run / "metrics.json").read_text())["epochs"] for run in ("one", "two")}
    assert epochs["one"] == epochs["two"] < 30
    assert f"early stopping after epoch {epochs['two']} " in result.stderr
    histories = {run: json.loads((tmp_path / run / "model" / "model.json").read_text())["history"] for run in ("one", "two")}
    for first, second in zip(histories["one"], histories["two"]):
        assert first["val_ce"] == pytest.approx(second["val_ce"], rel=1e-4)
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert one.keys() == two.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize("phenotype", ["continuous", "survival"])
def test_regression_and_survival_train_under_torchrun(tmp_path, phenotype):
    """A regression's squared error splits over processes exactly: two processes give the
    one-process weights. A Cox loss couples the rows of a batch, and each process takes its
    risk sets within its own share: the fit runs and writes the survival outputs."""
    cohort = simulate_cohort(n_samples=96, n_snps=120, n_tfs=12, n_genes=24, n_causal_genes=6, difficulty="easy", seed=3, phenotype=phenotype)
    path = cohort.write(tmp_path / "cohort")
    document = tomllib.loads(path.read_text())
    document["model"] = {"dropout": 0.0, "n_members": 2, "null_members": 1}
    document["training"] = {"max_epochs": 3, "batch_size": 16, "validation_fraction": 0.0, "seed": 5}
    path.write_text(tomli_w.dumps(document))
    _torchrun(path, tmp_path / "two", 2)
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    if phenotype == "continuous":
        assert main(["-q", "fit", str(path), "--out", str(tmp_path / "one")]) == 0
        one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
        for name in one:
            torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-5, msg=name)
        assert "r2" in metrics["test"]["all"]
    else:
        assert 0 <= metrics["test"]["all"]["c_index"] <= 1 and (tmp_path / "two" / "kaplan_meier.png").is_file()
