"""Interrupted fits resume: `deepgami fit --resume` goes on from the last checkpoint and ends with
the model, metrics and predictions of an uninterrupted fit, bit for bit on CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from deepgami.checkpoint import Checkpoint
from deepgami.cli import main
from deepgami.simulate import simulate_cohort

# Dropout, modality dropout, cross-fitted members with validation and null members: every random
# draw the training loop makes must continue where it stopped.
SETTINGS = "\n[model]\nn_members = 2\nnull_members = 1\nhidden_dims = [8]\ndropout = 0.3\n[training]\nmax_epochs = 12\npatience = 3\n"


@pytest.fixture()
def config(tmp_path):
    cohort = simulate_cohort(n_samples=90, n_snps=60, n_tfs=8, n_genes=12, difficulty="easy", seed=6)
    path = cohort.write(tmp_path / "cohort")
    path.write_text(path.read_text() + SETTINGS)
    return path


def outputs(run) -> tuple[dict, dict, pd.DataFrame]:
    metrics = json.loads((run / "metrics.json").read_text())
    weights = load_file(str(run / "model" / "weights.safetensors"))
    return metrics, weights, pd.read_csv(run / "predictions.csv")


def assert_same_run(a, b) -> None:
    (metrics_a, weights_a, predictions_a), (metrics_b, weights_b, predictions_b) = outputs(a), outputs(b)
    assert metrics_a["test"] == metrics_b["test"] and metrics_a["epochs"] == metrics_b["epochs"]
    assert weights_a.keys() == weights_b.keys()
    for name in weights_a:
        torch.testing.assert_close(weights_b[name], weights_a[name], rtol=0, atol=0, msg=name)
    pd.testing.assert_frame_equal(predictions_a, predictions_b)


def test_a_fit_interrupted_after_any_epoch_resumes_to_the_uninterrupted_result(config, tmp_path, monkeypatch):
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "whole")]) == 0
    epochs = json.loads((tmp_path / "whole" / "metrics.json").read_text())["epochs"]
    assert epochs > 3
    save = Checkpoint.save
    for stop_after in (1, epochs - 1):
        calls = []

        def interrupted(self, state, rank=0, stop_after=stop_after, calls=calls):
            save(self, state, rank)
            calls.append(1)
            if len(calls) == stop_after:
                raise KeyboardInterrupt  # as a kill right after the checkpoint was written

        out = tmp_path / f"stopped_{stop_after}"
        monkeypatch.setattr(Checkpoint, "save", interrupted)
        with pytest.raises(KeyboardInterrupt):
            main(["-q", "fit", str(config), "--out", str(out)])
        monkeypatch.setattr(Checkpoint, "save", save)
        assert not out.exists() and (tmp_path / f"stopped_{stop_after}.checkpoint" / "state.pt").is_file()
        assert main(["-q", "fit", str(config), "--out", str(out), "--resume"]) == 0
        assert_same_run(tmp_path / "whole", out)
        assert not (tmp_path / f"stopped_{stop_after}.checkpoint").exists()


def test_a_killed_process_resumes(config, tmp_path):
    """SIGKILL at some moment of training (checkpoints are written atomically), then --resume."""
    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    heavier = config.read_text().replace("max_epochs = 12", "max_epochs = 40").replace("patience = 3", "patience = 40")
    config.write_text(heavier)
    command = [sys.executable, "-m", "deepgami", "-q", "fit", str(config), "--out", str(out)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "killed.checkpoint" / "state.pt"
    deadline = time.monotonic() + 120
    while not state.is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if not state.is_file():
        pytest.fail("the fit finished or failed before writing a checkpoint")
    assert main(["-q", "fit", str(config), "--out", str(out), "--resume"]) == 0
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "whole")]) == 0
    assert_same_run(tmp_path / "whole", out)


def test_a_leftover_checkpoint_is_named_and_a_changed_config_refused(config, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"

    def interrupted(self, state, rank=0):
        raise KeyboardInterrupt

    save = Checkpoint.save
    monkeypatch.setattr(Checkpoint, "save", lambda self, state, rank=0: (save(self, state, rank), interrupted(self, state)))
    with pytest.raises(KeyboardInterrupt):
        main(["-q", "fit", str(config), "--out", str(out)])
    monkeypatch.setattr(Checkpoint, "save", save)
    capsys.readouterr()
    assert main(["fit", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run.checkpoint" in err and "--resume" in err
    config.write_text(config.read_text().replace("dropout = 0.3", "dropout = 0.4"))
    assert main(["fit", str(config), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "written with other settings" in err and not out.exists()


def test_an_interrupted_cv_keeps_its_finished_results_and_runs_only_the_rest(config, tmp_path, monkeypatch):
    tables = '\n[cv]\nfolds = 2\nrepeats = 2\nmethods = ["deepgami", "logistic_l2"]\nablations = ["random"]\n'
    config.write_text(config.read_text() + tables)
    assert main(["-q", "cv", str(config), "--out", str(tmp_path / "whole")]) == 0
    save_part = Checkpoint.save_part
    saved = []

    def interrupted(self, name, payload):
        save_part(self, name, payload)
        saved.append(name)
        if len(saved) == 4:  # of 2 splits x 3 methods
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "save_part", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["-q", "cv", str(config), "--out", str(tmp_path / "cv")])
    monkeypatch.setattr(Checkpoint, "save_part", save_part)
    assert not (tmp_path / "cv").exists() and len(list((tmp_path / "cv.checkpoint").glob("part_*.pt"))) == 4
    ran = []
    monkeypatch.setattr(Checkpoint, "save_part", lambda self, name, payload: (ran.append(name), save_part(self, name, payload)))
    assert main(["-q", "cv", str(config), "--out", str(tmp_path / "cv"), "--resume"]) == 0
    assert sorted(ran) == sorted({"0__deepgami", "0__logistic_l2", "0__deepgami_random_graph", "1__deepgami",
                                  "1__logistic_l2", "1__deepgami_random_graph"} - set(saved))  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cv" / "results.csv"), pd.read_csv(tmp_path / "whole" / "results.csv"))
    assert not (tmp_path / "cv.checkpoint").exists()


def test_a_killed_cv_resumes(config, tmp_path):
    """SIGKILL of a real `deepgami cv` once a (split, method) is saved; --resume gives the uninterrupted results."""
    config.write_text(config.read_text() + '\n[cv]\nfolds = 2\nrepeats = 2\nmethods = ["deepgami", "logistic_l2"]\nablations = ["random"]\n')
    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "deepgami", "-q", "cv", str(config), "--out", str(out)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    folder = tmp_path / "killed.checkpoint"
    deadline = time.monotonic() + 120
    while not list(folder.glob("part_*.pt")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if not list(folder.glob("part_*.pt")) or out.exists():
        pytest.fail("the cv finished or failed before a part was saved")
    assert main(["-q", "cv", str(config), "--out", str(out), "--resume"]) == 0
    assert main(["-q", "cv", str(config), "--out", str(tmp_path / "whole")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), pd.read_csv(tmp_path / "whole" / "results.csv"))


CRASHING_WORKER = """
import os, sys
from deepgami.checkpoint import Checkpoint
from deepgami.cli import main

save, calls = Checkpoint.save, []

def save_then_crash(self, state, rank=0):
    save(self, state, rank)
    calls.append(rank)
    if os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0" and rank == 1 and len(calls) == 3:
        os._exit(1)  # a worker dies after its third checkpoint

Checkpoint.save = save_then_crash
sys.exit(main(sys.argv[1:]))
"""


def test_a_restarted_torchrun_worker_group_resumes_by_itself(config, tmp_path):
    worker = tmp_path / "crashing_worker.py"
    worker.write_text(CRASHING_WORKER)
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = {}
    for name, script, restarts in (("whole", "-m deepgami", "0"), ("restarted", str(worker), "1")):
        command = [torchrun, "--standalone", "--nproc-per-node=2", f"--max-restarts={restarts}", *script.split(),
                   "fit", str(config), "--out", str(tmp_path / name)]  # fmt: skip
        runs[name] = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert runs[name].returncode == 0, runs[name].stderr[-3000:]
    assert "resuming from the checkpoint" in runs["restarted"].stderr
    assert_same_run(tmp_path / "whole", tmp_path / "restarted")
