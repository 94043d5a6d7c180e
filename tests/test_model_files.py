"""Model folders from elsewhere: every damaged, truncated, tampered or mismatched file ends in
one clear line through `deepgami predict` and `deepgami explain`, never a traceback, never code
execution, and no output."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file
from test_cli_errors import assert_clean_error, run_cli

from deepgami.cli import main
from deepgami.simulate import simulate_cohort

MARKER = "deepgami_pickle_ran"


class _Payload:
    """Unpickling this runs ``open(MARKER, "w")``: the attack a tampered weights.pt would carry."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("model_files")
    cohort = simulate_cohort(n_samples=80, n_snps=200, n_tfs=20, n_genes=40, seed=0)
    config = cohort.write(root / "cohort")
    config.write_text(config.read_text() + "\n[model]\nn_members = 2\nnull_members = 1\n[training]\nmax_epochs = 2\n")
    assert main(["-q", "fit", str(config), "--out", str(root / "run")]) == 0
    return root / "run"


@pytest.fixture
def damaged(run_folder, tmp_path) -> Path:
    """A private copy of the run folder to break."""
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    return copy


def _edit_json(file: Path, edit) -> None:
    document = json.loads(file.read_text())
    edit(document)
    file.write_text(json.dumps(document))


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _flip_a_byte(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[-5] ^= 0xFF
    file.write_bytes(bytes(data))


def _wrong_shapes(model: Path) -> None:
    """Valid safetensors with a consistent checksum, but tensors that do not fit model.json."""
    tensors = load_file(str(model / "weights.safetensors"))
    key = next(k for k in tensors if k.startswith("module.head"))
    tensors[key] = tensors[key][..., :1].contiguous()
    save_file(tensors, str(model / "weights.safetensors"))
    import hashlib

    digest = hashlib.sha256((model / "weights.safetensors").read_bytes()).hexdigest()
    _edit_json(model / "model.json", lambda d: d["files"]["weights.safetensors"].update(sha256=digest))


def _format_1_with_a_pickle(model: Path) -> None:
    (model / "weights.safetensors").unlink()
    with open(model / "weights.pt", "wb") as handle:
        pickle.dump({"module.x": _Payload(model / MARKER)}, handle)
    _edit_json(model / "model.json", lambda d: d.update(format_version=1))


CASES = {
    "invalid-json": (lambda m: (m / "model.json").write_text((m / "model.json").read_text()[:-3] + "}x"), ("model.json", "not valid JSON")),
    "json-not-an-object": (lambda m: (m / "model.json").write_text("[1, 2]"), ("model.json", "JSON object")),
    "unknown-format": (lambda m: _edit_json(m / "model.json", lambda d: d.update(format_version=99)), ("format 99", "reads formats 1, 2")),
    "missing-weights": (lambda m: (m / "weights.safetensors").unlink(), ("lacks weights.safetensors",)),
    "truncated-weights": (lambda m: _truncate(m / "weights.safetensors"), ("weights.safetensors", "sha256")),
    "tampered-weights": (lambda m: _flip_a_byte(m / "weights.safetensors"), ("weights.safetensors", "sha256")),
    "no-checksum": (lambda m: _edit_json(m / "model.json", lambda d: d.pop("files")), ("no checksum",)),
    "weights-do-not-fit": (_wrong_shapes, ("do not match model.json",)),
    "metadata-lacks-a-field": (lambda m: _edit_json(m / "model.json", lambda d: d.pop("classes")), ("do not fit together", "classes")),
    "pickle-in-format-1": (_format_1_with_a_pickle, ("weights.pt", "not a readable tensor file")),
    "no-model": (lambda m: (m / "model.json").unlink(), ("holds no saved deepgami model",)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_on_a_damaged_model_folder(capsys, damaged, tmp_path, case):
    breaker, expected = CASES[case]
    breaker(damaged / "model")
    out = tmp_path / "predictions.csv"
    result = run_cli(capsys, "predict", damaged, "--modality", f"snp={damaged.parent.parent / 'run' / 'x.csv'}", "--out", out)
    assert_clean_error(*result, out, *expected)
    assert not (damaged / "model" / MARKER).exists(), "unpickling ran code"


@pytest.mark.parametrize("case", ["tampered-weights", "pickle-in-format-1", "invalid-json"])
def test_explain_on_a_damaged_run_folder(capsys, damaged, tmp_path, case):
    breaker, expected = CASES[case]
    breaker(damaged / "model")
    out = tmp_path / "explain"
    assert_clean_error(*run_cli(capsys, "explain", damaged, "--out", out, "--n-steps", "2"), out, *expected)
    assert not (damaged / "model" / MARKER).exists()


def test_the_intact_folder_loads(capsys, run_folder, tmp_path):
    data = run_folder.parent / "cohort"
    code, _, err = run_cli(capsys, "predict", run_folder, "--modality", f"snp={data / 'snp.csv'}", "--out", tmp_path / "p.csv")
    assert code == 0, err
