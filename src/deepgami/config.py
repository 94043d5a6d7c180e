"""The TOML run configuration: parsing, validation and path resolution.

Every key but ``[data]`` is optional. Relative paths resolve against the config file's
folder. Unknown keys are errors (with the closest valid key suggested), so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from .errors import InputError
from .params import DEFAULTS, PARAMETERS, TASK_KINDS, config_keys, parameter_name
from .params import SEARCH_KEYS as PARAMETER_SEARCH_KEYS
from .readers import ORIENTATIONS

# [model] and [training] keys set DeepGAMIClassifier parameters; keys, types and defaults come
# from the parameter table (deepgami.params).
MODEL_KEYS = config_keys("model")
TRAINING_KEYS = config_keys("training")
TOP_KEYS = {"data", "graph", "split", "model", "training", "cv", "search", "preprocessing"}
DATA_KEYS = {"labels", "id_column", "label_column", "time_column", "event_column", "task", "targets", "covariates", "modalities", "join"}
TARGET_KEYS = {"name", "task", "label_column", "time_column", "event_column", "weight"}
CV_KEYS = {"folds", "repeats", "training_seeds", "methods", "ablations", "null_relations"}
# [search] lists candidate values of DeepGAMI parameters for the inner-fold grid search.
SEARCH_KEYS = set(PARAMETER_SEARCH_KEYS)
PREPROCESSING_KEYS = {"select_k", "variance_threshold", "knn_impute", "smote", "smote_k", "covariates", "batch"}
COVARIATE_KEYS = {"path", "columns", "modalities"}
BATCH_KEYS = {"path", "column", "modalities"}
MODALITY_KEYS = {"path", "scaling", "missing", "orientation"}
EDGE_KEYS = {"path", "source", "target", "relation", "source_column", "target_column", "weight_column"}
SPLIT_KEYS = {"test_fraction", "test_ids", "seed"}


@dataclass
class ModalitySpec:
    """One ``[data.modalities.<name>]`` table: its file and per-modality settings."""

    name: str
    path: Path
    scaling: str = DEFAULTS["scaling"]
    missing: str = DEFAULTS["missing"]
    orientation: str = ORIENTATIONS[0]


@dataclass
class EdgeSpec:
    """One ``[[graph.edges]]`` table: an edge file and the node types it joins."""

    path: Path
    source: str
    target: str
    relation: str = "regulates"
    source_column: str = "source"
    target_column: str = "target"
    weight_column: str = "weight"


@dataclass
class TargetSpec:
    """One ``[[data.targets]]`` table: a phenotype of a model with several, and its label columns."""

    name: str
    task: str
    label_column: str
    time_column: str
    event_column: str
    weight: float = 1.0

    def to_table(self) -> dict[str, Any]:
        """The ``[[data.targets]]`` table of this target (only the keys its task takes)."""
        if self.task == "survival":
            columns = {"time_column": self.time_column, "event_column": self.event_column}
        else:
            columns = {"label_column": self.label_column}
        return {"name": self.name, "task": self.task, **columns, "weight": self.weight}

    def columns(self) -> list[str]:
        """The labels file's columns this target reads."""
        return [self.time_column, self.event_column] if self.task == "survival" else [self.label_column]


@dataclass
class RunConfig:
    """A validated configuration with absolute paths."""

    labels: Path
    modalities: list[ModalitySpec]
    edges: list[EdgeSpec] = field(default_factory=list)
    id_column: str = "sample"
    label_column: str = "label"
    task: str = "classification"  # "multi" with [[data.targets]]
    targets: list[TargetSpec] = field(default_factory=list)
    covariates: Path | None = None
    time_column: str = "time"
    event_column: str = "event"
    test_fraction: float = 0.2
    test_ids: Path | None = None
    split_seed: int = 0
    join: str = "outer"
    estimator_params: dict[str, Any] = field(default_factory=dict)
    cv: dict[str, Any] = field(default_factory=dict)
    search: dict[str, list] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)

    def _label_columns(self) -> dict[str, Any]:
        if self.targets:
            return {"targets": [t.to_table() for t in self.targets]}
        if self.task == "survival":
            return {"task": self.task, "time_column": self.time_column, "event_column": self.event_column}
        return {"task": self.task, "label_column": self.label_column}

    def to_toml(self) -> str:
        """The resolved configuration (absolute paths, defaults filled in) as TOML."""
        tables: dict[str, dict[str, Any]] = {"model": {}, "training": {}}
        for parameter in PARAMETERS:
            if parameter.section and parameter.name in self.estimator_params:
                value = self.estimator_params[parameter.name]
                tables[parameter.section][parameter.config_key] = list(value) if isinstance(value, tuple) else value
        document: dict[str, Any] = {
            "data": {
                "labels": str(self.labels),
                "join": self.join,
                "id_column": self.id_column,
                **self._label_columns(),
                "modalities": {
                    m.name: {"path": str(m.path), "scaling": m.scaling, "missing": m.missing, "orientation": m.orientation}
                    for m in self.modalities
                },
            },
            "split": {"test_fraction": self.test_fraction, "seed": self.split_seed},
            **tables,
        }
        if self.test_ids is not None:
            document["split"]["test_ids"] = str(self.test_ids)
        if self.covariates is not None:
            document["data"]["covariates"] = str(self.covariates)
        for table in ("cv", "search", "preprocessing"):
            if getattr(self, table):
                document[table] = _paths_to_str(getattr(self, table))
        if self.edges:
            document["graph"] = {"edges": [{k: str(v) for k, v in vars(e).items()} for e in self.edges]}
        return tomli_w.dumps(document)


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML config; raise :class:`InputError` naming the offending key."""
    path = Path(path)
    if not path.is_file():
        msg = f"config file {path} does not exist"
        raise InputError(msg)
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        msg = f"config file {path} is not valid TOML: {error}"
        raise InputError(msg) from error
    return parse_config(raw, path.resolve().parent)


def parse_config(raw: dict[str, Any], base: Path) -> RunConfig:
    """Validate a parsed config dict; relative paths resolve against ``base``."""
    _check_keys(raw, TOP_KEYS, "the config")
    if "data" not in raw:
        msg = "the config needs a [data] table with 'labels' and [data.modalities.<name>] tables"
        raise InputError(msg)
    data = _table(raw, "data")
    _check_keys(data, DATA_KEYS, "[data]")
    targets = _parse_targets(data)
    task = "multi" if targets else data.get("task", "classification")
    if task not in TASK_KINDS and not targets:
        msg = f"[data] task must be one of {', '.join(repr(k) for k in TASK_KINDS)} (got {task!r})"
        raise InputError(msg)
    if "labels" not in data:
        columns = "sample,time,event" if task == "survival" else "sample,label"
        msg = f"[data] needs 'labels', the path of a table with columns {columns}"
        raise InputError(msg)
    for key in (("label_column",) if task == "survival" else ("time_column", "event_column")):
        if key in data:
            kinds = "classification and regression" if key == "label_column" else "survival"
            msg = f"[data] {key} is for {kinds} labels; this config's task is {task!r}"
            raise InputError(msg)
    modalities_raw = _table(data, "modalities", "[data]")
    if not modalities_raw:
        msg = "[data.modalities] needs at least one [data.modalities.<name>] table with a 'path'"
        raise InputError(msg)
    modalities = []
    for name, spec in modalities_raw.items():
        where = f"[data.modalities.{name}]"
        if not isinstance(spec, dict) or "path" not in spec:
            msg = f"{where} needs a 'path'"
            raise InputError(msg)
        _check_keys(spec, MODALITY_KEYS, where)
        scaling, missing = spec.get("scaling", DEFAULTS["scaling"]), spec.get("missing", DEFAULTS["missing"])
        orientation = spec.get("orientation", ORIENTATIONS[0])
        if orientation not in ORIENTATIONS:
            msg = f"{where} orientation must be one of {', '.join(ORIENTATIONS)} (got {orientation!r})"
            raise InputError(msg)
        modalities.append(ModalitySpec(name, _path(base, spec["path"]), scaling, missing, orientation))

    graph = _table(raw, "graph") if "graph" in raw else {}
    _check_keys(graph, {"edges"}, "[graph]")
    edges = []
    names = {m.name for m in modalities}
    for i, spec in enumerate(graph.get("edges", [])):
        where = f"[[graph.edges]] number {i + 1}"
        _check_keys(spec, EDGE_KEYS, where)
        for key in ("path", "source", "target"):
            if key not in spec:
                msg = f"{where} needs '{key}'"
                raise InputError(msg)
        edges.append(EdgeSpec(**{**spec, "path": _path(base, spec["path"])}))
    # A source is a modality or a latent node type some table ends in (TF -> gene, gene -> pathway).
    edge_targets = {e.target for e in edges}
    for i, edge in enumerate(edges):
        if edge.source not in names and edge.source not in edge_targets:
            msg = (
                f"[[graph.edges]] number {i + 1} has source '{edge.source}', which is neither a modality "
                f"({', '.join(sorted(names))}) nor the target of another edge table"
            )
            raise InputError(msg)
    split = _table(raw, "split") if "split" in raw else {}
    _check_keys(split, SPLIT_KEYS, "[split]")
    test_fraction = float(split.get("test_fraction", 0.2))
    if not 0 < test_fraction < 1:
        msg = f"[split] test_fraction must lie between 0 and 1 (got {test_fraction})"
        raise InputError(msg)

    params: dict[str, Any] = {}
    for table, keys in (("model", MODEL_KEYS), ("training", TRAINING_KEYS)):
        values = _table(raw, table) if table in raw else {}
        _check_keys(values, set(keys), f"[{table}]")
        for key, value in values.items():
            if key not in config_keys(table, task):
                msg = f"[{table}] {key} does not apply to a {task} task"
                raise InputError(msg)
            expected = keys[key]
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
                msg = f"[{table}] {key} = {value!r} has the wrong type"
                raise InputError(msg)
            params[parameter_name(key)] = tuple(value) if key == "hidden_dims" else value
    if targets:
        params["targets"] = {t.name: t.task for t in targets}
        params["target_weights"] = {t.name: t.weight for t in targets}
    params["scaling"] = {m.name: m.scaling for m in modalities}
    join = data.get("join", "outer")
    if join not in ("inner", "outer"):
        msg = f"[data] join must be 'outer' (keep samples lacking a modality) or 'inner' (got {join!r})"
        raise InputError(msg)
    cv, search, preprocessing = _parse_evaluation(raw, base, names)
    params["missing"] = {m.name: m.missing for m in modalities}

    return RunConfig(
        labels=_path(base, data["labels"]),
        modalities=modalities,
        edges=edges,
        id_column=data.get("id_column", "sample"),
        label_column=data.get("label_column", "label"),
        task=task,
        targets=targets,
        covariates=_path(base, data["covariates"]) if "covariates" in data else None,
        time_column=data.get("time_column", "time"),
        event_column=data.get("event_column", "event"),
        test_fraction=test_fraction,
        test_ids=_path(base, split["test_ids"]) if "test_ids" in split else None,
        split_seed=int(split.get("seed", 0)),
        join=join,
        estimator_params=params,
        cv=cv,
        search=search,
        preprocessing=preprocessing,
    )


def _parse_targets(data: dict[str, Any]) -> list[TargetSpec]:
    """The ``[[data.targets]]`` tables (none: one target, set by ``[data] task``)."""
    raw = data.get("targets", [])
    if not raw:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        msg = "[data] targets must be [[data.targets]] tables, one per target, each with name and task"
        raise InputError(msg)
    clashing = [k for k in ("task", "label_column", "time_column", "event_column") if k in data]
    if clashing:
        msg = f"[data] {clashing[0]} is set per target when there are [[data.targets]] tables; move it into them"
        raise InputError(msg)
    targets = []
    for i, spec in enumerate(raw):
        where = f"[[data.targets]] number {i + 1}"
        _check_keys(spec, TARGET_KEYS, where)
        if "name" not in spec or "task" not in spec:
            msg = f"{where} needs 'name' and 'task'"
            raise InputError(msg)
        name, task = str(spec["name"]), spec["task"]
        if task not in TASK_KINDS:
            msg = f"{where} task must be one of {', '.join(repr(k) for k in TASK_KINDS)} (got {task!r})"
            raise InputError(msg)
        wrong = [k for k in (("label_column",) if task == "survival" else ("time_column", "event_column")) if k in spec]
        if wrong:
            msg = f"{where} ({name}, {task}) does not take {wrong[0]}"
            raise InputError(msg)
        weight = spec.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            msg = f"{where} weight must be a positive number (got {weight!r})"
            raise InputError(msg)
        targets.append(
            TargetSpec(
                name, task, spec.get("label_column", name), spec.get("time_column", f"{name}_time"),
                spec.get("event_column", f"{name}_event"), float(weight),
            )
        )  # fmt: skip
    names = [t.name for t in targets]
    if len(set(names)) < len(names):
        msg = f"[[data.targets]] names must differ (got {names})"
        raise InputError(msg)
    return targets


def _parse_evaluation(raw: dict[str, Any], base: Path, modalities: set[str]) -> tuple[dict, dict, dict]:
    """Validate the [cv], [search] and [preprocessing] tables used by ``deepgami cv``."""
    cv = dict(_table(raw, "cv")) if "cv" in raw else {}
    _check_keys(cv, CV_KEYS, "[cv]")
    for key, least in (("folds", 2), ("repeats", 1), ("training_seeds", 1)):
        if key in cv and (not isinstance(cv[key], int) or isinstance(cv[key], bool) or cv[key] < least):
            msg = f"[cv] {key} must be an integer of at least {least} (got {cv[key]!r})"
            raise InputError(msg)
    for key in ("methods", "ablations", "null_relations"):
        if key in cv and (not isinstance(cv[key], list) or not all(isinstance(v, str) for v in cv[key])):
            msg = f"[cv] {key} must be a list of names"
            raise InputError(msg)
    search = dict(_table(raw, "search")) if "search" in raw else {}
    # [search.<method>] tables override a baseline's own grid; checked against the registry in cv.
    method_grids = {k: search.pop(k) for k in list(search) if isinstance(search[k], dict)}
    _check_keys(search, SEARCH_KEYS, "[search]")
    for method, grid in method_grids.items():
        for key, values in grid.items():
            if not isinstance(values, list) or not values:
                msg = f"[search.{method}] {key} must be a non-empty list of candidate values (got {values!r})"
                raise InputError(msg)
    for key, values in search.items():
        if not isinstance(values, list) or not values:
            msg = f"[search] {key} must be a non-empty list of candidate values (got {values!r}); the grid would be empty"
            raise InputError(msg)
        if key == "hidden_dims":
            search[key] = [tuple(v) if isinstance(v, list) else (v,) for v in values]
    search.update({method: {k: [tuple(v) if isinstance(v, list) else v for v in values] for k, values in grid.items()}
                   for method, grid in method_grids.items()})
    preprocessing = dict(_table(raw, "preprocessing")) if "preprocessing" in raw else {}
    _check_keys(preprocessing, PREPROCESSING_KEYS, "[preprocessing]")
    for key, allowed in (("covariates", COVARIATE_KEYS), ("batch", BATCH_KEYS)):
        if key in preprocessing:
            table = dict(_table(preprocessing, key, "[preprocessing]"))
            _check_keys(table, allowed, f"[preprocessing.{key}]")
            if "path" not in table:
                msg = f"[preprocessing.{key}] needs a 'path'"
                raise InputError(msg)
            table["path"] = _path(base, table["path"])
            unknown = [m for m in table.get("modalities", []) if m not in modalities]
            if unknown:
                msg = f"[preprocessing.{key}] names unknown modality '{unknown[0]}' (modalities: {', '.join(sorted(modalities))})"
                raise InputError(msg)
            preprocessing[key] = table
    return cv, search, preprocessing


def _paths_to_str(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _paths_to_str(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_paths_to_str(v) for v in value]
    return value


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (valid: {', '.join(sorted(allowed))})"
            msg = f"unknown key '{key}' in {where}{hint}"
            raise InputError(msg)


def _table(parent: dict[str, Any], key: str, where: str = "the config") -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        msg = f"'{key}' in {where} must be a table"
        raise InputError(msg)
    return value


def _path(base: Path, value: Any) -> Path:
    if not isinstance(value, str) or not value:
        msg = f"expected a file path, got {value!r}"
        raise InputError(msg)
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()
