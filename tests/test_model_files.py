"""Model folders: every kind of model loads back predicting exactly as it was saved, and every
damaged, truncated, tampered or mismatched file from elsewhere ends in one clear line through
`deepgami predict` and `deepgami explain`, never a traceback, never code execution, and no output."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file
from test_cli_errors import assert_clean_error, run_cli, run_script

from deepgami import DeepGAMIClassifier, RegulatoryGraph
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


def _reseal(model: Path) -> None:
    """Record the weight file's current sha256 in model.json, as a careful tamperer would."""
    digest = hashlib.sha256((model / "weights.safetensors").read_bytes()).hexdigest()
    _edit_json(model / "model.json", lambda d: d["files"]["weights.safetensors"].update(sha256=digest))


def _edit_tensors(model: Path, edit) -> None:
    """Valid safetensors with a consistent checksum, whose tensors ``edit`` changed."""
    tensors = load_file(str(model / "weights.safetensors"))
    edit(tensors)
    save_file(tensors, str(model / "weights.safetensors"))
    _reseal(model)


def _wrong_shapes(model: Path) -> None:
    """Tensors that do not fit model.json."""

    def narrow(tensors):
        key = next(k for k in tensors if k.startswith("module.head"))
        tensors[key] = tensors[key][..., :1].contiguous()

    _edit_tensors(model, narrow)


def _lose_a_scaler_tensor(model: Path) -> None:
    _edit_tensors(model, lambda tensors: tensors.pop(next(k for k in tensors if k.startswith("scaler."))))


def _garbage_with_its_checksum(model: Path) -> None:
    """A weight file whose checksum matches but that is no safetensors file at all."""
    (model / "weights.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    _reseal(model)


def _format_1_without_weights(model: Path) -> None:
    _edit_json(model / "model.json", lambda d: d.update(format_version=1))


def _format_1_with_a_list_of_tensors(model: Path) -> None:
    """A weights.pt torch can read safely that is no dictionary of tensors."""
    (model / "weights.safetensors").unlink()
    torch.save([torch.zeros(2)], model / "weights.pt")
    _edit_json(model / "model.json", lambda d: d.update(format_version=1))


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
    "checksums-not-an-object": (lambda m: _edit_json(m / "model.json", lambda d: d.update(files=[])), ("no checksum",)),
    "unreadable-weights-with-their-checksum": (_garbage_with_its_checksum, ("weights.safetensors", "not a readable safetensors file")),
    "weights-do-not-fit": (_wrong_shapes, ("do not match model.json",)),
    "weights-lack-a-tensor": (_lose_a_scaler_tensor, ("do not fit together", "KeyError", "scaler.")),
    "metadata-lacks-a-field": (lambda m: _edit_json(m / "model.json", lambda d: d.pop("task")), ("do not fit together", "classes")),
    "metadata-field-of-the-wrong-type": (lambda m: _edit_json(m / "model.json", lambda d: d.update(feature_names=[])), ("do not fit together",)),
    "pickle-in-format-1": (_format_1_with_a_pickle, ("weights.pt", "not a readable tensor file")),
    "format-1-without-weights": (_format_1_without_weights, ("lacks weights.pt", "format 1")),
    "format-1-not-a-dictionary": (_format_1_with_a_list_of_tensors, ("weights.pt", "does not hold a dictionary of tensors")),
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


def test_a_pickle_in_format_1_weights_is_one_line_from_the_console_script(run_folder, damaged, tmp_path):
    """Outside the suite's warning filter: torch's note on the pickle protocol must not print
    beside the error (it did: two stderr lines)."""
    _format_1_with_a_pickle(damaged / "model")
    out = tmp_path / "p.csv"
    snp = run_folder.parent / "cohort" / "snp.csv"
    assert_clean_error(*run_script("predict", damaged, "--modality", f"snp={snp}", "--out", out), out, "not a readable tensor file")
    assert not (damaged / "model" / MARKER).exists()


def test_the_intact_folder_loads(capsys, run_folder, tmp_path):
    data = run_folder.parent / "cohort"
    code, _, err = run_cli(capsys, "predict", run_folder, "--modality", f"snp={data / 'snp.csv'}", "--out", tmp_path / "p.csv")
    assert code == 0, err


# ----------------------------------------------------------------------------- round trips
TINY = dict(n_members=2, null_members=0, max_epochs=2, latent_dim=8, random_state=0)
# Each kind of model: estimator settings, and what to do to the cohort before fitting.
KINDS = {
    "no-graph": ({"graph": None}, None),
    "aux-scalar": ({"aux_map": "scalar"}, None),
    "aux-per_node": ({"aux_map": "per_node"}, None),
    "aux-mlp": ({"aux_map": "mlp"}, None),
    "scaling-standard": ({"scaling": "standard"}, None),
    "scaling-minmax": ({"scaling": "minmax"}, None),
    "scaling-log1p": ({"scaling": "log1p"}, None),
    "scaling-none": ({"scaling": "none"}, None),
    "missing-mean": ({"missing": "mean"}, "nan"),
    "integer-labels": ({}, "int"),
    "unconnected-dense": ({"unconnected_features": "dense"}, None),
}


@pytest.fixture(scope="module")
def tiny():
    """60 samples; TF expression shifted to be non-negative (log1p takes it); a third of
    the SNPs have no eQTL edge (so ``dense`` has leftover edges to save)."""
    cohort = simulate_cohort(n_samples=60, n_snps=60, n_tfs=10, n_genes=20, difficulty="easy", seed=0)
    X = {"snp": cohort.snp, "tf": cohort.tf - cohort.tf.min().min()}
    assert (X["tf"] >= 0).all().all()
    eqtl = cohort.eqtl[cohort.eqtl["source"].isin(cohort.snp.columns[:40])]
    graph = RegulatoryGraph.from_edge_tables([(eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
    return X, cohort.labels, graph


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_model_loads_back_predicting_exactly_as_saved(tiny, tmp_path, kind):
    params, change = KINDS[kind]
    X, y, graph = tiny
    if change == "nan":
        X = {m: f.mask(np.random.default_rng(0).random(f.shape) < 0.05) for m, f in X.items()}
        assert all(f.isna().any().any() for f in X.values())
    if change == "int":
        y = [int(label == "case") for label in y]  # Python ints, in the row order of X
    model = DeepGAMIClassifier(**{"graph": graph, **TINY, **params}).fit(X, y)
    if kind == "unconnected-dense":
        assert ("snp", "unconnected", "gene") in model.graph_.edge_types
    loaded = DeepGAMIClassifier.load(model.save(tmp_path / "model"))

    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    if change == "int":
        assert model.classes_.dtype.kind == "i" and list(model.classes_) == [0, 1]
    else:
        assert list(model.classes_) == ["case", "control"]
    for modalities in (None, ["snp"], ["tf"]):
        expected = model.predict_proba(X, use_modalities=modalities)
        np.testing.assert_array_equal(loaded.predict_proba(X, use_modalities=modalities), expected)
        alone = {m: X[m] for m in modalities or X}
        np.testing.assert_array_equal(loaded.predict_proba(alone), expected)
    pd.testing.assert_frame_equal(loaded.predict_table(X), model.predict_table(X))
    for m, scaler in model.scalers_.items():
        assert (loaded.scalers_[m].method, loaded.scalers_[m].missing) == (scaler.method, scaler.missing)
    assert loaded.get_params() | {"graph": None} == model.get_params() | {"graph": None}
    assert (loaded.graph_ is None) == (model.graph_ is None)
    if model.graph_ is not None:
        assert loaded.graph_.edge_types == model.graph_.edge_types
