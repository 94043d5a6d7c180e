"""Reliability: faults injected into real `deepgami` processes, what happened, and that nothing was lost.

Every scenario runs ``python -m deepgami`` (or a small wrapper script that injects the fault and
then calls ``deepgami.cli.main``) in a subprocess, except the fuzzing, which calls ``main``
in-process:

- ``deepgami fit`` killed with SIGKILL at ``--kills`` random moments (seeded; uniform over 20-95 %
  of the shorter wall time of two uninterrupted fits, which must agree), then ``fit --resume`` (a
  plain rerun when no checkpoint was written yet; nothing when the run folder was already
  whole); the result must equal the uninterrupted fit's: metrics.json's test block and epoch
  count, predictions.csv byte for byte, every tensor of weights.safetensors.
- ``deepgami cv`` killed the same way, then ``cv --resume``; results.csv must equal the
  uninterrupted one's byte for byte.
- ``--torchrun-tries`` times, a torchrun worker group (2 processes, ``--max-restarts 1``) whose process 1 dies
  (``os._exit(1)``) right after its 3rd checkpoint; torchrun must restart the group, the fit
  resume by itself, and the weights equal an uninterrupted 2-process torchrun fit's exactly.
- a full disk: ENOSPC while the run folder is written (``DataFrame.to_csv`` raising it), and a
  real ENOSPC inside a checkpoint write (``torch.save`` of the 4th epoch's state sent to
  /dev/full); then ``fit --resume`` with a disk that has room.
- damaged model folders (the cases of tests/test_model_files.py) and bad prediction inputs (those
  of tests/test_predict_checks.py) through ``deepgami predict``: exit 2, one line, no file.
- ``--fuzz`` mutated input folders (tests/test_fuzz.py's ``mutate``, drawn by hypothesis, seeded,
  not derandomised) through ``deepgami fit``: success or one error line, nothing else.

Scratch files go to ``--work`` (emptied first); the table to ``--out``. About 12 minutes on one
core (torchrun uses two).

    python bench/reliability.py [--kills 10] [--torchrun-tries 3] [--fuzz 300] [--seed 0] [--out bench/results_reliability.md]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import pickle
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from deepgami.cli import main as deepgami_main
from deepgami.simulate import simulate_cohort

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from _machine import cpu_model  # noqa: E402
from test_fuzz import FILES, mutate  # noqa: E402

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TORCHRUN = Path(sys.executable).with_name("torchrun")
# Dropout, cross-fitted members with validation and a null member: every random draw the
# training loop makes must continue where it stopped.
TRAINING = "\n[model]\nn_members = 2\nnull_members = 1\nhidden_dims = [8]\ndropout = 0.3\n[training]\nmax_epochs = {epochs}\npatience = {epochs}\n"
CV_TABLES = '\n[cv]\nfolds = 2\nrepeats = 2\nmethods = ["deepgami", "logistic_l2"]\nablations = ["random"]\n'

CRASHING_WORKER = """
import os, sys
from deepgami.checkpoint import Checkpoint
from deepgami.cli import main

save, calls = Checkpoint.save, []

def save_then_crash(self, state, rank=0):
    save(self, state, rank)
    calls.append(rank)
    if os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0" and rank == 1 and len(calls) == 3:
        os._exit(1)

Checkpoint.save = save_then_crash
sys.exit(main(sys.argv[1:]))
"""
FULL_DISK_ON_OUTPUT = """
import errno, sys
import pandas as pd
from deepgami.cli import main

def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

pd.DataFrame.to_csv = full
sys.exit(main(sys.argv[1:]))
"""
FULL_DISK_ON_CHECKPOINT = """
import sys
import torch
from deepgami.cli import main

save, states = torch.save, []

def save_onto_a_full_disk(obj, f, *args, **kwargs):
    if isinstance(obj, dict) and "module" in obj:  # the training state, not a random state
        states.append(f)
        if len(states) == 4:
            f = "/dev/full"  # every write fails with ENOSPC
    return save(obj, f, *args, **kwargs)

torch.save = save_onto_a_full_disk
sys.exit(main(sys.argv[1:]))
"""


class Table:
    """Rows of the reliability table; ``work`` is shortened to ``<work>`` in messages."""

    def __init__(self, work: Path) -> None:
        self.work, self.rows = work, []

    def add(self, fault: str, injected: str, happened: str, check: str, ok: bool) -> None:
        cells = [fault, injected, happened.replace(str(self.work), "<work>"), check, "yes" if ok else "**NO**"]
        self.rows.append([cell.replace("|", "\\|").replace("\n", " ") for cell in cells])
        print(f"[{len(self.rows)}] {' | '.join(self.rows[-1])}", flush=True)


# ----------------------------------------------------------------------------- running and reading
def run(*argv, script: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m deepgami <argv>`` (or ``python <script> <argv>``), output captured."""
    command = [sys.executable, *([str(script)] if script else ["-m", "deepgami"]), *map(str, argv)]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=900)


def outcome(result: subprocess.CompletedProcess) -> tuple[str, bool]:
    """What a finished command did, and whether it was a clean one-line user error (exit 2)."""
    lines = result.stderr.strip().splitlines()
    clean = result.returncode == 2 and len(lines) == 1 and lines[0].startswith("deepgami: error: ") and "Traceback" not in result.stderr
    if clean:
        return f"exit 2, one line: `{lines[0]}`", True
    if result.returncode == 0:
        return "exit 0", False
    traceback = "a traceback ending in " if "Traceback" in result.stderr else ""
    return f"exit {result.returncode}, {len(lines)} stderr lines, {traceback}`{lines[-1] if lines else ''}`", False


def staging_leftovers(out: Path) -> list[str]:
    """Staging folders or temporary files a command left beside ``out``."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") or p.name.endswith(".tmp"))


def checkpoint_folder(out: Path) -> Path:
    return out.with_name(f"{out.name}.checkpoint")


def saved_epochs(out: Path) -> int | None:
    """Epochs in the fit checkpoint beside ``out`` (None without one)."""
    state = checkpoint_folder(out) / "state.pt"
    return len(torch.load(state, weights_only=True)["history"]) if state.is_file() else None


def fit_differences(reference: Path, run_folder: Path) -> list[str]:
    """How a fit's run folder differs from ``reference``'s (empty: identical results)."""
    if not (run_folder / "metrics.json").is_file():
        return ["no run folder"]
    differences = []
    metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (reference, run_folder)]
    for key in ("test", "epochs"):
        if metrics[0][key] != metrics[1][key]:
            differences.append(f"metrics.json {key}")
    if (reference / "predictions.csv").read_bytes() != (run_folder / "predictions.csv").read_bytes():
        differences.append("predictions.csv")
    a, b = (load_file(str(folder / "model" / "weights.safetensors")) for folder in (reference, run_folder))
    unequal = sorted(k for k in a.keys() | b.keys() if k not in a or k not in b or not torch.equal(a[k], b[k]))
    if unequal:
        differences.append(f"{len(unequal)} of {len(a)} weight tensors (e.g. {unequal[0]})")
    return differences


FIT_CHECK = "metrics.json test block and epochs, predictions.csv bytes, all {n} weight tensors identical to the uninterrupted fit"


# ----------------------------------------------------------------------------- scenarios
def uninterrupted(command: str, config: Path, work: Path) -> tuple[Path, float]:
    """Two uninterrupted runs, which must agree: the reference run folder and the shorter wall time."""
    seconds = []
    for name in ("whole", "whole_again"):
        start = time.perf_counter()
        result = run("-q", command, config, "--out", work / f"{command}_{name}")
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-3000:])
        seconds.append(time.perf_counter() - start)
    whole, again = work / f"{command}_whole", work / f"{command}_whole_again"
    if command == "fit" and fit_differences(whole, again) or command == "cv" and (whole / "results.csv").read_bytes() != (again / "results.csv").read_bytes():
        raise RuntimeError(f"two uninterrupted runs of `deepgami {command}` differ: {whole}, {again}")
    print(f"uninterrupted {command}: {seconds[0]:.1f} s, {seconds[1]:.1f} s; identical results", flush=True)
    return whole, min(seconds)


def kill(argv: list, delay: float) -> bool:
    """Start ``deepgami <argv>`` and SIGKILL it after ``delay`` seconds; False if it ended first."""
    process = subprocess.Popen([sys.executable, "-m", "deepgami", *map(str, argv)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def after_kill(killed: bool, out: Path, complete: str, what: str) -> str | None:
    """How a kill left ``out`` when its output was already whole (nothing to rerun), else None."""
    if not (out / complete).is_file():
        return None
    return f"the {what} had ended before the kill" if not killed else "the kill came after the run folder was written (during exit): nothing to rerun"


def fit_kills(table: Table, config: Path, whole: Path, seconds: float, delays: np.ndarray, epochs: int) -> None:
    n_tensors = len(load_file(str(whole / "model" / "weights.safetensors")))
    for i, delay in enumerate(delays):
        out = whole.with_name(f"fit_killed_{i}")
        killed = kill(["-q", "fit", config, "--out", out], delay)
        saved, left = saved_epochs(out), staging_leftovers(out)
        what, ran = after_kill(killed, out, "metrics.json", "fit"), True
        if what is None:
            resume = ["--resume"] if saved is not None else []
            result = run("fit", config, "--out", out, *resume)
            did, _ = outcome(result)
            state = "no checkpoint yet" if saved is None else f"checkpoint after epoch {saved} of {epochs}"
            what = f"{state}; `fit {'--resume' if resume else '(plain rerun)'}`: {did}"
            resumed = f"resuming from the checkpoint in {checkpoint_folder(out)} after epoch {saved}" in result.stderr
            if resume:
                what += ", resumed after that epoch" if resumed else ", **did not log resuming from that epoch**"
            ran = result.returncode == 0 and (resumed or not resume)
        what += f"; the kill left {', '.join(left)}" if left else ""
        differences = fit_differences(whole, out)
        remains = checkpoint_folder(out).exists()
        check = FIT_CHECK.format(n=n_tensors) if not differences else f"**differs**: {', '.join(differences)}"
        check += "; checkpoint folder removed" if not remains else "; **checkpoint folder left behind**"
        at = f"SIGKILL at {delay:.1f} s ({delay / seconds:.0%} of an uninterrupted fit)"
        table.add(f"kill -9 during `fit` ({i + 1}/{len(delays)})", at, what, check, ran and not differences and not remains)


def cv_kills(table: Table, config: Path, whole: Path, seconds: float, delays: np.ndarray) -> None:
    reference = (whole / "results.csv").read_bytes()
    n_parts = 6  # 2 outer splits x (deepgami, logistic_l2, deepgami_random_graph)
    for i, delay in enumerate(delays):
        out = whole.with_name(f"cv_killed_{i}")
        killed = kill(["-q", "cv", config, "--out", out], delay)
        parts, left = len(list(checkpoint_folder(out).glob("part_*.pt"))), staging_leftovers(out)
        what, ran = after_kill(killed, out, "results.csv", "cv"), True
        if what is None:
            resume = ["--resume"] if parts else []
            result = run("cv", config, "--out", out, *resume)
            did, _ = outcome(result)
            n_ran = result.stderr.count(" done in ")
            what = f"{parts} of {n_parts} (split, method) parts saved; `cv {'--resume' if resume else '(plain rerun)'}`: {did}, ran {n_ran} parts"
            ran = result.returncode == 0 and n_ran == n_parts - parts
        what += f"; the kill left {', '.join(left)}" if left else ""
        same = (out / "results.csv").is_file() and (out / "results.csv").read_bytes() == reference
        remains = checkpoint_folder(out).exists()
        check = "results.csv identical (bytes) to the uninterrupted cv's" if same else "**results.csv differs or is missing**"
        check += "; checkpoint folder removed" if not remains else "; **checkpoint folder left behind**"
        at = f"SIGKILL at {delay:.1f} s ({delay / seconds:.0%} of an uninterrupted cv)"
        table.add(f"kill -9 during `cv` ({i + 1}/{len(delays)})", at, what, check, ran and same and not remains)


def torchrun(config: Path, out: Path, script: list[str], restarts: int, timeout: float) -> tuple[int | None, str, float]:
    """``deepgami fit`` under a 2-process torchrun: (exit code, None if it hung past ``timeout``; stderr; seconds)."""
    command = [str(TORCHRUN), "--standalone", "--nproc-per-node=2", f"--max-restarts={restarts}", *script, "fit", str(config), "--out", str(out)]
    log = out.with_name(f"{out.name}.stderr")
    start = time.perf_counter()
    with open(log, "w") as stderr:
        # LOGLEVEL=INFO: torchrun's agent logs that it restarts the worker group.
        process = subprocess.Popen(command, env={**ENV, "LOGLEVEL": "INFO"}, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()  # torchrun stops its workers (they run in sessions of their own)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            code = None
    seconds = time.perf_counter() - start
    print(out.name, "exit", code, f"{seconds:.0f} s", flush=True)
    return code, log.read_text(), seconds


def torchrun_restarts(table: Table, config: Path, work: Path, tries: int) -> None:
    whole = work / "torchrun_whole"
    code, _, seconds = torchrun(config, whole, ["-m", "deepgami"], 0, 600)
    if code != 0:
        raise RuntimeError(f"the uninterrupted torchrun fit failed: {whole}.stderr")
    worker = work / "crashing_worker.py"
    worker.write_text(CRASHING_WORKER)
    for attempt in range(tries):
        out = work / f"torchrun_restarted_{attempt}"
        code, stderr, seconds = torchrun(config, out, [str(worker)], 1, 3 * seconds + 60)
        restarted = "will restart worker group" in stderr
        resumed = "resuming from the checkpoint" in stderr
        errors = [line.strip() for line in stderr.splitlines() if line.startswith("RuntimeError: Gloo")]
        ended = f"torchrun exit {code}" if code is not None else f"**hung**: no exit after {seconds - 60:.0f} s, stopped with SIGTERM"
        what = (
            f"{ended} ({seconds:.0f} s); worker group {'restarted' if restarted else '**not restarted**'}; "
            f"{'resumed by itself (TORCHELASTIC_RESTART_COUNT=1, log: resuming from the checkpoint)' if resumed else '**no resume**'}"
            + (f"; the restarted workers could not join: `Gloo connectFullMesh failed ... {errors[-1].rsplit('] ', 1)[-1]}`" if errors else "")
        )
        differences = fit_differences(whole, out)
        check = (
            "metrics.json test block and epochs, predictions.csv bytes and every weight tensor identical to an uninterrupted "
            "2-process torchrun fit (exact; dropout on, so process 1's restored random state counts)"
            if not differences
            else f"**no result equal to the uninterrupted 2-process fit**: {', '.join(differences)}"
        )
        table.add(
            f"a torchrun worker dies ({attempt + 1}/{tries})",
            "`torchrun --standalone --nproc-per-node 2 --max-restarts 1 worker.py fit`; worker.py patches `Checkpoint.save` so process 1 "
            "calls `os._exit(1)` after its 3rd save on the first attempt, then runs `deepgami.cli.main`",
            what,
            check,
            code == 0 and restarted and resumed and not differences,
        )


def full_disk(table: Table, config: Path, whole: Path, work: Path, epochs: int) -> None:
    for name, source, injected in (
        ("full_disk_output", FULL_DISK_ON_OUTPUT, "wrapper makes `pandas.DataFrame.to_csv` raise `OSError(ENOSPC)`: the run folder's files cannot be written"),
        ("full_disk_checkpoint", FULL_DISK_ON_CHECKPOINT, "wrapper sends `torch.save` of the 4th epoch's training state to /dev/full: a real ENOSPC inside a checkpoint write"),
    ):
        wrapper = work / f"{name}.py"
        wrapper.write_text(source)
        out = work / name
        result = run("-q", "fit", config, "--out", out, script=wrapper)
        did, clean = outcome(result)
        saved, left, created = saved_epochs(out), staging_leftovers(out), out.exists()
        leftover_files = sorted(p.name for p in checkpoint_folder(out).glob("*.tmp"))
        what = (
            f"{did}; run folder {'**exists**' if created else 'not created'}; "
            f"{'left ' + ', '.join(left) + '; ' if left else ''}checkpoint left after epoch {saved} of {epochs}"
            f"{' (and ' + ', '.join(leftover_files) + ' in it)' if leftover_files else ''}"
        )
        resumed = run("fit", config, "--out", out, "--resume")
        did_resume, _ = outcome(resumed)
        logged = f"after epoch {saved}" in resumed.stderr and "resuming from the checkpoint" in resumed.stderr
        what += f"; then `fit --resume` on a disk with room: {did_resume}{', resumed after that epoch' if logged else ', **no resume**'}"
        differences = fit_differences(whole, out)
        check = FIT_CHECK.format(n=len(load_file(str(whole / "model" / "weights.safetensors")))) if not differences else f"**differs**: {', '.join(differences)}"
        check = f"resumed fit: {check}"
        ok = clean and not created and not left and resumed.returncode == 0 and logged and not differences
        table.add("a full disk", injected, what, check, ok)


def _edit_json(file: Path, edit) -> None:
    document = json.loads(file.read_text())
    edit(document)
    file.write_text(json.dumps(document))


def _reseal(model: Path) -> None:
    digest = hashlib.sha256((model / "weights.safetensors").read_bytes()).hexdigest()
    _edit_json(model / "model.json", lambda d: d["files"]["weights.safetensors"].update(sha256=digest))


class _Payload:
    """Unpickling this runs ``open(<marker>, "w")``: the attack a tampered weights.pt would carry."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def _pickle_in_format_1(model: Path) -> None:
    (model / "weights.safetensors").unlink()
    with open(model / "weights.pt", "wb") as handle:
        pickle.dump({"module.x": _Payload(model / "pickle_ran")}, handle)
    _edit_json(model / "model.json", lambda d: d.update(format_version=1))


def _mismatched_shapes(model: Path) -> None:
    tensors = load_file(str(model / "weights.safetensors"))
    key = next(k for k in tensors if k.startswith("module.head"))
    tensors[key] = tensors[key][..., :1].contiguous()
    save_file(tensors, str(model / "weights.safetensors"))
    _reseal(model)


def _flip_a_byte(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[-5] ^= 0xFF
    file.write_bytes(bytes(data))


DAMAGE = {
    "truncated weights": ("weights.safetensors cut to half its bytes", lambda m: (m / "weights.safetensors").write_bytes((m / "weights.safetensors").read_bytes()[: (m / "weights.safetensors").stat().st_size // 2])),
    "tampered weights": ("one byte of weights.safetensors flipped", lambda m: _flip_a_byte(m / "weights.safetensors")),
    "missing weights": ("weights.safetensors deleted", lambda m: (m / "weights.safetensors").unlink()),
    "invalid JSON": ("model.json's last characters replaced by `}x`", lambda m: (m / "model.json").write_text((m / "model.json").read_text()[:-3] + "}x")),
    "unknown format version": ("model.json format_version = 99", lambda m: _edit_json(m / "model.json", lambda d: d.update(format_version=99))),
    "a pickle in format-1 weights.pt": ("format_version = 1 and a weights.pt pickle whose loading would create a file", _pickle_in_format_1),
    "mismatched shapes": ("a head tensor narrowed, saved as valid safetensors, sha256 in model.json updated", _mismatched_shapes),
}


def damaged_models(table: Table, whole: Path, snp: Path, work: Path) -> None:
    for name, (injected, damage) in DAMAGE.items():
        copy = work / f"damaged_{name.replace(' ', '_')}"
        shutil.copytree(whole, copy)
        damage(copy / "model")
        out = work / f"predictions_{copy.name}.csv"
        result = run("predict", copy, "--modality", f"snp={snp}", "--out", out)
        did, clean = outcome(result)
        ran_code = (copy / "model" / "pickle_ran").exists()
        no_file = not out.exists() and not staging_leftovers(out)
        check = f"{'no predictions file, no temporary file' if no_file else '**a file was written**'}; no traceback"
        if name.startswith("a pickle"):
            check += "; the pickle's code did not run" if not ran_code else "; **the pickle's code ran**"
        table.add(f"damaged model: {name}", injected, did, check, clean and no_file and not ran_code)


def bad_inputs(table: Table, whole: Path, tf: Path, work: Path) -> None:
    frame = pd.read_csv(tf, index_col=0)
    nan = frame.copy()
    nan.iloc[2, 1] = np.nan
    cases = {
        "missing features": ("two TF columns dropped", frame.drop(columns=frame.columns[[0, 3]]), []),
        "unknown modality name": ("`--modality rna=tf.csv`", None, ["--modality", f"rna={tf}"]),
        "repeated modality": ("`--modality tf=...` given twice", None, ["--modality", f"tf={tf}", "--modality", f"tf={tf}"]),
        "NaN under missing = \"error\"": ("one cell set to NaN", nan, []),
        "duplicate sample ids": ("the first id repeated", frame.set_axis([frame.index[0], *frame.index[:-1]]), []),
        "an empty sample id": ("the first id blank", frame.set_axis(["", *frame.index[1:]]), []),
    }
    for name, (injected, edited, modality) in cases.items():
        if edited is not None:
            path = work / f"tf_{len(table.rows)}.csv"
            edited.to_csv(path)
            modality = ["--modality", f"tf={path}"]
        out = work / f"predictions_bad_{len(table.rows)}.csv"
        result = run("predict", whole, *modality, "--out", out)
        did, clean = outcome(result)
        no_file = not out.exists() and not staging_leftovers(out)
        table.add(f"bad predict input: {name}", injected, did, "no predictions file, no temporary file" if no_file else "**a file was written**", clean and no_file)


class _CurrentStderr(io.TextIOBase):
    """Log records go to whatever ``sys.stderr`` is when they are written (one redirect per example)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)


def fuzz(table: Table, work: Path, n: int, fuzz_seed: int) -> tuple[Counter, Counter, list[str]]:
    folder = work / "fuzz" / "cohort"
    config = simulate_cohort(n_samples=40, n_snps=20, n_tfs=5, n_genes=6, seed=8).write(folder)
    config.write_text(config.read_text() + "\n[model]\nn_members = 1\nnull_members = 0\n[training]\nmax_epochs = 1\n")
    logging.basicConfig(level=logging.ERROR, stream=_CurrentStderr(), format="deepgami: %(message)s")
    outcomes, messages, others = Counter(), Counter(), []

    @seed(fuzz_seed)
    @settings(max_examples=n, deadline=None, database=None, derandomize=False, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def example(data):
        scratch = work / "fuzz" / "example"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(folder, scratch / "cohort")
        mutated = data.draw(st.lists(st.sampled_from(FILES), min_size=1, max_size=2, unique=True))
        for name in mutated:
            path = scratch / "cohort" / name
            path.write_text(mutate(path.read_text(), data), encoding="utf-8", errors="surrogateescape")
        out = scratch / "run"
        stderr = io.StringIO()
        try:
            with redirect_stderr(stderr), redirect_stdout(io.StringIO()):
                code = deepgami_main(["-q", "fit", str(scratch / "cohort" / "config.toml"), "--out", str(out)])
        except Exception as error:  # anything but a clean exit is what the fuzzing looks for
            outcomes["an exception"] += 1
            others.append(f"{'+'.join(mutated)}: {type(error).__name__}: {error}")
            return
        lines = stderr.getvalue().strip().splitlines()
        if code == 0 and out.is_dir():
            outcomes["success"] += 1
        elif code == 2 and len(lines) == 1 and lines[0].startswith("deepgami: error: ") and not out.exists():
            outcomes["one-line error"] += 1
            message = lines[0].removeprefix("deepgami: error: ").replace(f"{scratch / 'cohort'}/", "")
            messages[" ".join(message.split()[:5])] += 1
        else:
            outcomes["other"] += 1
            others.append(f"{'+'.join(mutated)}: exit {code}, {len(lines)} lines: {lines[-1] if lines else ''}")

    example()
    total = sum(outcomes.values())
    happened = ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
    table.add(
        f"fuzzed inputs ({total})",
        f"hypothesis (seed {fuzz_seed}, not derandomised) mutates 1-2 of {', '.join(FILES)} with tests/test_fuzz.py's `mutate` (truncate, drop or repeat a line, insert junk, replace a cell); `deepgami -q fit` in-process",
        happened,
        "every failure one `deepgami: error:` line, exit 2, no run folder",
        total == n and outcomes["success"] + outcomes["one-line error"] == total,
    )
    return outcomes, messages, others


# ----------------------------------------------------------------------------- the table
def write(args, table: Table, wall: float, setup: str, fuzzed: tuple[Counter, Counter, list[str]]) -> None:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True, text=True).stdout.split()
    source = f"commit {head}" + (f" with uncommitted changes to {', '.join(dirty[1::2])}" if dirty else "")
    failed = sum(row[-1] != "yes" for row in table.rows)
    lines = [
        "# Reliability: faults injected, nothing lost",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()}, Python {platform.python_version()}, torch {torch.__version__}; "
        f"deepgami from {source}. Command: `python bench/reliability.py --kills {args.kills} --torchrun-tries {args.torchrun_tries} "
        f"--fuzz {args.fuzz} --seed {args.seed}`; "
        f"wall time {wall / 60:.1f} min.",
        "",
        setup,
        "",
        f"{len(table.rows)} scenarios, {len(table.rows) - failed} as expected"
        + (f", **{failed} not** (marked **NO**: the 'what happened' and check columns say how they fall short)." if failed else "."),
        "",
        "| fault | how injected | what happened | nothing lost: the check | as expected |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in table.rows),
        "",
        "Fuzzing: the most frequent error lines (first words):",
        "",
        *(f"- {count} x `{message} ...`" for message, count in fuzzed[1].most_common(10)),
    ]
    if fuzzed[2]:
        lines += ["", "Fuzzed inputs that neither succeeded nor failed in one line:", "", *(f"- `{other}`" for other in fuzzed[2])]
    args.out.write_text("\n".join(line.replace(str(args.work.resolve()), "<work>") for line in lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of fit, and of cv")
    parser.add_argument("--torchrun-tries", type=int, default=3, help="restarted torchrun worker groups")
    parser.add_argument("--fuzz", type=int, default=300, help="fuzzed input folders")
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill moments and the fuzzing")
    parser.add_argument("--work", type=Path, default=Path("bench/out/reliability"), help="scratch folder (emptied first)")
    parser.add_argument("--out", type=Path, default=Path("bench/results_reliability.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    wall = time.perf_counter()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    table = Table(work)
    rng = np.random.default_rng(args.seed)

    fit_epochs, cv_epochs = 40, 40
    fit_config = simulate_cohort(n_samples=600, n_snps=3000, n_tfs=100, n_genes=300, difficulty="easy", seed=6).write(work / "fit_cohort")
    fit_config.write_text(fit_config.read_text() + TRAINING.format(epochs=fit_epochs))
    cv_config = simulate_cohort(n_samples=500, n_snps=1000, n_tfs=20, n_genes=40, difficulty="easy", seed=6).write(work / "cv_cohort")
    cv_config.write_text(cv_config.read_text() + TRAINING.format(epochs=cv_epochs) + CV_TABLES)

    whole_fit, fit_seconds = uninterrupted("fit", fit_config, work)
    fit_kills(table, fit_config, whole_fit, fit_seconds, rng.uniform(0.2, 0.95, args.kills) * fit_seconds, fit_epochs)
    whole_cv, cv_seconds = uninterrupted("cv", cv_config, work)
    cv_kills(table, cv_config, whole_cv, cv_seconds, rng.uniform(0.2, 0.95, args.kills) * cv_seconds)
    torchrun_restarts(table, fit_config, work, args.torchrun_tries)
    full_disk(table, fit_config, whole_fit, work, fit_epochs)
    damaged_models(table, whole_fit, fit_config.parent / "snp.csv", work)
    bad_inputs(table, whole_fit, fit_config.parent / "tf.csv", work)
    fuzzed = fuzz(table, work, args.fuzz, args.seed)
    setup = (
        f"Fit scenarios: `simulate_cohort(n_samples=600, n_snps=3000, n_tfs=100, n_genes=300, difficulty=\"easy\", seed=6)` with "
        f"n_members = 2, null_members = 1, hidden_dims = [8], dropout = 0.3, max_epochs = patience = {fit_epochs} (two uninterrupted "
        f"`deepgami -q fit` runs gave identical results, the faster in {fit_seconds:.1f} s wall, about 5 s of it Python and library start-up). cv scenarios: "
        f"`simulate_cohort(500, 1000, 20, 40, difficulty=\"easy\", seed=6)`, the same model settings, [cv] folds = 2, repeats = 2, methods "
        f"deepgami and logistic_l2, ablation random (a null graph): 6 (split, method) parts; two uninterrupted cv runs gave identical "
        f"results, the faster in {cv_seconds:.1f} s. Kill moments: numpy `default_rng({args.seed}).uniform(0.2, 0.95)` times that wall time. The torchrun and full-disk "
        "scenarios use the fit cohort; damaged models and bad inputs go through `deepgami predict` on the uninterrupted fit's run folder."
    )
    write(args, table, time.perf_counter() - wall, setup, fuzzed)


if __name__ == "__main__":
    main()
