"""Saved models: tensors in safetensors plus JSON metadata, checked before use.

A model folder holds ``weights.safetensors`` (every tensor: the network's parameters, the
scalers' statistics, the prior graph's edges) and ``model.json`` (settings, the task and what
it needs to predict, e.g. classes or a baseline hazard, feature names, graph node names,
training history, and the sha256 of the weight file). Loading never
unpickles anything: safetensors holds raw tensors only, and format 1 folders (``weights.pt``,
written before format 2) are read with ``torch.load(weights_only=True)``. A damaged, truncated,
tampered or mismatched folder ends in one :class:`~deepgami.errors.InputError` naming the file
and the problem.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import __version__
from .covariates import CovariateEncoder
from .errors import InputError
from .graph import RegulatoryGraph
from .nn.auxiliary import AUXILIARY_MAPS
from .preprocessing import ModalityScaler
from .tasks import task_from_state

if TYPE_CHECKING:
    from .estimator import DeepGAMIEstimator

WEIGHTS_FILE = "weights.safetensors"
LEGACY_WEIGHTS_FILE = "weights.pt"  # format 1
METADATA_FILE = "model.json"
# 1: one network, weights.pt. 2: a leading member axis on every parameter (ensembles),
# weights.safetensors with its sha256 in model.json. Format 1 folders load by reshaping.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)


def save_model(model: DeepGAMIEstimator, path: str | Path) -> Path:
    """Write ``path/weights.safetensors`` and ``path/model.json`` for a fitted model."""
    if not isinstance(model.aux_map, str) or model.aux_map not in AUXILIARY_MAPS:
        msg = "only models with a built-in auxiliary map ('scalar', 'per_node', 'mlp') can be saved"
        raise ValueError(msg)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tensors = {f"module.{k}": v.detach().cpu() for k, v in model.module_.state_dict().items()}
    for m, scaler in model.scalers_.items():
        tensors.update({f"scaler.{m}.{k}": torch.from_numpy(np.asarray(v)) for k, v in scaler.get_state().items()})
    edges = []
    if model.graph_ is not None:
        for i, edge_type in enumerate(model.graph_.edge_types):
            tensors[f"graph.{i}.edge_index"] = model.graph_.edge_index(edge_type)
            weight = model.graph_.edge_weight(edge_type)
            if weight is not None:
                tensors[f"graph.{i}.edge_weight"] = weight
            edges.append(list(edge_type))
    # safetensors stores each tensor's own contiguous memory (no views, no shared storage).
    save_file({k: v.contiguous().clone() for k, v in tensors.items()}, str(path / WEIGHTS_FILE))
    params = {k: v for k, v in model.get_params().items() if k != "graph"}
    params["hidden_dims"] = list(params["hidden_dims"])
    if isinstance(params.get("class_weight"), Mapping):
        params["class_weight"] = {str(k): float(v) for k, v in params["class_weight"].items()}
    metadata = {
        "format_version": FORMAT_VERSION,
        "deepgami_version": __version__,
        "files": {WEIGHTS_FILE: {"sha256": _sha256(path / WEIGHTS_FILE)}},
        "params": params,
        "task": {"kind": model.task_.kind, **model.task_.state()},
        "modalities": model.modalities_,
        "feature_names": {m: names.tolist() for m, names in model.feature_names_in_.items()},
        "scalers": {m: {"method": s.method, "missing": s.missing} for m, s in model.scalers_.items()},
        "covariates": None if model.covariates_ is None else model.covariates_.get_state(),
        "graph": None if model.graph_ is None else {"node_names": model.graph_.node_names, "edge_types": edges},
        "history": model.history_,
        "edge_movement": model.edge_movement_,
    }
    (path / METADATA_FILE).write_text(json.dumps(metadata, indent=1, default=_json_default))
    return path


def load_model(cls: type[DeepGAMIEstimator], path: str | Path) -> DeepGAMIEstimator:
    """A model written by :func:`save_model` (or format 1), checked file by file."""
    path = Path(path)
    metadata = _read_metadata(path)
    tensors = _read_tensors(path, metadata)
    weights_name = WEIGHTS_FILE if metadata["format_version"] >= 2 else LEGACY_WEIGHTS_FILE
    try:
        model = _rebuild(cls, metadata, tensors)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        msg = f"{path / METADATA_FILE} and {weights_name} do not fit together ({type(error).__name__}: {error}); save the model again"
        raise InputError(msg) from error
    state = {k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")}
    if metadata["format_version"] == 1:
        # Format 1 stored one network: add the member axis (same values, new shape).
        shapes = {k: v.shape for k, v in model.module_.state_dict().items()}
        state = {k: v.reshape(shapes[k]) if k in shapes and v.numel() == shapes[k].numel() else v for k, v in state.items()}
    try:
        model.module_.load_state_dict(state)
    except RuntimeError as error:
        msg = f"the weights in {path / weights_name} do not match {METADATA_FILE} ({str(error).splitlines()[-1].strip()}); save the model again"
        raise InputError(msg) from error
    model.module_.to(model.device).eval()
    return model


def _read_metadata(path: Path) -> dict:
    file = path / METADATA_FILE
    if not file.is_file():
        msg = f"{path} holds no saved deepgami model (expected {METADATA_FILE} and {WEIGHTS_FILE})"
        raise InputError(msg)
    try:
        metadata = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        msg = f"{file} is not valid JSON ({error}); the model folder is damaged: save the model again"
        raise InputError(msg) from error
    if not isinstance(metadata, dict):
        msg = f"{file} does not hold a deepgami model description (a JSON object); save the model again"
        raise InputError(msg)
    if metadata.get("format_version") not in READABLE_FORMATS:
        msg = (
            f"{file} is in model format {metadata.get('format_version')!r}; this deepgami (version {__version__}) "
            f"reads formats {', '.join(map(str, READABLE_FORMATS))}: save the model again with this version"
        )
        raise InputError(msg)
    return metadata


def _read_tensors(path: Path, metadata: dict) -> dict[str, torch.Tensor]:
    if metadata["format_version"] == 1:
        file = path / LEGACY_WEIGHTS_FILE
        if not file.is_file():
            msg = f"{path} lacks {LEGACY_WEIGHTS_FILE}, which its {METADATA_FILE} (format 1) needs"
            raise InputError(msg)
        try:
            # weights_only: a pickle that would run code is refused, not executed. torch's notes
            # on the file's pickle protocol would print beside the one error line: silenced.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tensors = torch.load(file, map_location="cpu", weights_only=True)
        except Exception as error:  # any failure to parse an untrusted file is the file's fault
            msg = f"{file} is not a readable tensor file ({type(error).__name__}); the model folder is damaged or was tampered with"
            raise InputError(msg) from error
        if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
            msg = f"{file} does not hold a dictionary of tensors; the model folder is damaged or was tampered with"
            raise InputError(msg)
        return tensors
    file = path / WEIGHTS_FILE
    if not file.is_file():
        msg = f"{path} lacks {WEIGHTS_FILE}, which its {METADATA_FILE} needs"
        raise InputError(msg)
    files = metadata.get("files")
    entry = files.get(WEIGHTS_FILE) if isinstance(files, dict) else None
    expected = entry.get("sha256") if isinstance(entry, dict) else None
    if expected is None:
        msg = f"{path / METADATA_FILE} records no checksum for {WEIGHTS_FILE}; save the model again"
        raise InputError(msg)
    if _sha256(file) != expected:
        msg = f"{file} does not match the sha256 recorded in {METADATA_FILE}: it was changed, truncated or damaged after saving"
        raise InputError(msg)
    try:
        return load_file(str(file), device="cpu")
    except (SafetensorError, OSError) as error:
        msg = f"{file} is not a readable safetensors file ({error}); the model folder is damaged"
        raise InputError(msg) from error


def _rebuild(cls: type[DeepGAMIEstimator], metadata: dict, tensors: Mapping[str, torch.Tensor]) -> DeepGAMIEstimator:
    """The estimator and its fitted attributes (an unloaded network) from metadata and tensors."""
    params = dict(metadata["params"])
    params["hidden_dims"] = tuple(params["hidden_dims"])
    if metadata["format_version"] == 1:
        # Single networks with the paper's initialisation (irrelevant once weights load).
        params |= {"n_members": 1, "null_members": 0, "edge_init_scale": 1.0, "cross_fit": True}
    # Models saved before regression and survival were classifiers with their classes at the top.
    task_state = dict(metadata.get("task") or {"kind": "classification", "classes": metadata["classes"]})
    kind = task_state.pop("kind")
    cls = _estimator_class(cls, kind)
    model = cls(**params)
    model.task_ = task_from_state(kind, task_state)
    if kind == "classification":
        model.classes_ = model.task_.classes
    model.modalities_ = list(metadata["modalities"])
    model.feature_names_in_ = {m: np.asarray(v, dtype=str) for m, v in metadata["feature_names"].items()}
    model.scalers_ = {
        m: ModalityScaler(s["method"], s["missing"], name=m).set_state(
            {k: tensors[f"scaler.{m}.{k}"].numpy() for k in ("fill", "scale", "shift")}
        )
        for m, s in metadata["scalers"].items()
    }
    covariates = metadata.get("covariates")
    model.covariates_ = None if covariates is None else CovariateEncoder.from_state(covariates)
    model.graph_ = None
    if metadata["graph"] is not None:
        edge_types = [tuple(t) for t in metadata["graph"]["edge_types"]]
        model.graph_ = RegulatoryGraph(
            metadata["graph"]["node_names"],
            {t: tensors[f"graph.{i}.edge_index"] for i, t in enumerate(edge_types)},
            {t: tensors[f"graph.{i}.edge_weight"] for i, t in enumerate(edge_types) if f"graph.{i}.edge_weight" in tensors},
        )
    model.history_ = metadata.get("history", [])
    model.edge_movement_ = metadata.get("edge_movement", {})
    model.oof_scores_ = None
    model.module_ = model._build_module()
    return model


def _estimator_class(cls: type[DeepGAMIEstimator], kind: str) -> type[DeepGAMIEstimator]:
    """The estimator of a saved task: ``cls`` itself, or its subclass for the base class."""
    if cls._kind == kind:
        return cls
    subclass = next((c for c in cls.__subclasses__() if c._kind == kind), None)
    if cls._kind or subclass is None:
        msg = f"the saved model predicts a {kind} task; load it with DeepGAMIEstimator.load or the {kind} estimator, not {cls.__name__}"
        raise InputError(msg)
    return subclass


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    msg = f"cannot store {type(value).__name__} in model metadata"
    raise TypeError(msg)
