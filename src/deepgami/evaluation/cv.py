"""Nested, leak-free model selection and comparison on identical splits, for every task.

For each repeat: an outer stratified split (or the settings' ``test_ids``); for each method an
inner stratified k-fold grid search on the training part only (fold preprocessing fit on each
inner training fold); the best setting refit on the whole training part; one evaluation on the
test part with all modalities and with each single modality. A method that scores its own
training rows out of fold (DeepGAMI's cross-fitted members, ``oof_scores_``) is tuned on those
scores instead, one fit per grid point, unless a fold preprocessing step reads the labels
(``select_k``, ``smote``). Every method is tuned (DeepGAMI over its head by default), and the
summary says how. DeepGAMI's prior is also replaced
by null graphs (random, Bernoulli, degree-preserving shuffle) and trained without the
auxiliary loss, as ablations. With ``[cv] training_seeds = K`` every fit is K fits that differ
only in their training seed, and the method predicts their mean score.

The task (``CVSettings.task``) decides what splits are stratified by (the classes; quantile
bins of a regression's label; survival's event indicator), what selects a grid point (balanced
accuracy; R²; Harrell's C), what the test rows report (:data:`TEST_METRICS`, the metric
functions of :mod:`deepgami.metrics` without bootstrap: the summary has mean and sd over
splits instead) and which figures :func:`write_cv` draws (ROC curves; predicted against
observed; Kaplan-Meier curves of predicted risk groups).
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, r2_score
from sklearn.model_selection import ParameterGrid, StratifiedKFold, train_test_split
from tqdm.auto import tqdm

from ..checkpoint import Checkpoint
from ..data import MultiOmicsData, float_values
from ..errors import InputError, preview
from ..graph import RegulatoryGraph, parse_relation_name, relation_name
from ..metrics import classification_metrics, regression_metrics, survival_metrics
from ..params import TASK_KINDS
from ..readers import read_ids
from ..tasks import label_strata, numeric_labels, survival_labels
from .ablation import NULL_GRAPHS, null_graph, with_feature_nodes
from .fold_preprocessing import FoldPreprocessor
from .methods import TASK_METHODS, MethodSpec, method_spec, task_methods

log = logging.getLogger(__name__)

ABLATIONS = (*NULL_GRAPHS, "no_aux")

#: Per task, the test metrics recorded for every method and modality set.
TEST_METRICS = {
    "classification": ("acc", "bacc", "auc", "f1"),
    "regression": ("r2", "pearson", "spearman", "mae", "rmse"),
    "survival": ("c_index", "c_index_uno", "integrated_brier_score"),
}
#: Per task, the metric that selects grid points (inner folds, out-of-fold scores) and that the
#: null-graph comparison reads, with its name in the summary.
HEADLINE = {"classification": ("bacc", "BACC"), "regression": ("r2", "R²"), "survival": ("c_index", "Harrell's C")}
#: Per task, the summary table's columns beyond classification's: metric and header.
TABLE_COLUMNS = {
    "regression": (("r2", "R²"), ("pearson", "Pearson r"), ("spearman", "Spearman ρ"), ("mae", "MAE"), ("rmse", "RMSE")),
    "survival": (("c_index", "Harrell's C"), ("c_index_uno", "Uno's C"), ("integrated_brier_score", "integrated Brier score")),
}


@dataclass
class CVSettings:
    """What :func:`run_cv` compares and how; ``deepgami cv`` builds it from its config's ``[cv]``,
    ``[search]``, ``[preprocessing]`` and ``[split]`` tables.

    Attributes
    ----------
    folds, repeats : int
        Inner stratified folds; outer splits.
    training_seeds : int
        Fits per method that differ only in their training seed (averaged, :class:`SeedAverage`).
    task : {"classification", "regression", "survival"}
        What the labels are: classes (a Series of names), numbers (a float Series) or a table
        of ``time`` and ``event``; ``deepgami cv`` takes it from ``[data] task``.
    methods : list of str, optional
        Registered method names; default every method registered for the task.
    ablations : list of str, optional
        Names from ``ABLATIONS``; default all of them when there is a graph and DeepGAMI is
        compared, else none.
    null_relations : list of str, optional
        The relations (``edges.csv`` names, e.g. ``"pathway-parent->pathway"``) the null graphs
        randomise, the others kept as they are; default every relation.
    search : dict of str to list
        DeepGAMI's inner-fold grid: parameter name -> candidate values.
    method_grids : dict of str to dict
        Baseline name -> its grid, replacing the baseline's own.
    estimator_params : dict
        Parameters of the task's DeepGAMI estimator (``random_state`` is set per fit).
    preprocessing : dict
        FoldPreprocessor keyword arguments (``covariates`` a DataFrame, ``batch`` a Series).
    test_fraction : float
        Outer test share of a stratified split.
    test_ids : Path, optional
        Id list (one per line) that fixes the outer test set instead.
    split_seed : int
        Seed of the first outer split; split ``r`` uses ``split_seed + r``.
    """

    folds: int = 5
    repeats: int = 1
    task: str = "classification"
    training_seeds: int = 1
    methods: list[str] | None = None
    ablations: list[str] | None = None
    null_relations: list[str] | None = None
    search: dict[str, list] = field(default_factory=dict)
    method_grids: dict[str, dict[str, list]] = field(default_factory=dict)
    estimator_params: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    test_fraction: float = 0.2
    test_ids: Path | None = None
    split_seed: int = 0


@dataclass
class Candidate:
    """One compared entry: a registered method, possibly on a null graph or without auxiliary loss."""

    name: str
    spec: MethodSpec
    grid: dict[str, list]
    params: dict[str, Any] = field(default_factory=dict)
    null_graph: str | None = None
    task: str = "classification"
    null_relations: list[str] | None = None


def _load_baselines() -> None:
    # Importing the package registers every baseline method.
    from . import baselines  # noqa: F401


def _other_tasks(name: str, task: str) -> str:
    """``; it is a method of <tasks>`` when ``name`` is registered for other tasks only."""
    others = [t for t, methods in TASK_METHODS.items() if t != task and name in methods]
    return f", which is a method of {' and '.join(others)} tasks, not of {task}" if others else ""


def _check_task(task: str) -> None:
    if task not in TASK_KINDS:
        msg = f"the cv task must be one of {', '.join(repr(k) for k in TASK_KINDS)} (got {task!r})"
        raise InputError(msg)


def candidates(settings: CVSettings, graph: RegulatoryGraph | None) -> list[Candidate]:
    """The methods and ablations named in ``[cv]`` (default: every method registered for the
    task, every ablation)."""
    _load_baselines()
    task = settings.task
    _check_task(task)
    known = task_methods(task)
    names = known if settings.methods is None else settings.methods
    unknown = [n for n in names if n not in known]
    if unknown:
        msg = f"[cv] methods names unknown method '{unknown[0]}'{_other_tasks(unknown[0], task)} (known: {', '.join(known)})"
        raise InputError(msg)
    method_grids = settings.method_grids
    unknown = [n for n in method_grids if n not in known or n == "deepgami"]
    if unknown:
        msg = f"[search.{unknown[0]}] names no baseline{_other_tasks(unknown[0], task)} (known: {', '.join(n for n in known if n != 'deepgami')})"
        raise InputError(msg)
    out = []
    for name in names:
        spec = method_spec(name, task)
        if name == "deepgami":
            base = {k: v for k, v in settings.estimator_params.items() if k != "random_state"}
            # [search] replaces DeepGAMI's default grid; a grid key the config fixes is not searched.
            grid = dict(settings.search) if settings.search else {k: v for k, v in spec.grid.items() if k not in base}
            out.append(Candidate(name, spec, grid, base, task=task))
        else:
            out.append(Candidate(name, spec, dict(method_grids.get(name, spec.grid)), dict(spec.params), task=task))
    ablations = settings.ablations
    if ablations is None:
        ablations = list(ABLATIONS) if graph is not None and "deepgami" in names else []
    unknown = [a for a in ablations if a not in ABLATIONS]
    if unknown:
        msg = f"[cv] ablations names unknown ablation '{unknown[0]}' (known: {', '.join(ABLATIONS)})"
        raise InputError(msg)
    if ablations and (graph is None or "deepgami" not in names):
        msg = "[cv] ablations need a prior graph ([[graph.edges]]) and 'deepgami' among the methods"
        raise InputError(msg)
    if settings.null_relations is not None and graph is not None:
        known = [relation_name(t) for t in graph.edge_types]
        unknown = [r for r in settings.null_relations if r not in known]
        if unknown:
            msg = f"[cv] null_relations names unknown relation '{unknown[0]}' (the prior's: {', '.join(known)})"
            raise InputError(msg)
    if "varmole" in names and graph is not None and not graph.layout.one_hop:
        if settings.methods is not None:
            msg = f"[cv] methods: varmole reads a one-hop prior, but this one has latent levels {graph.layout.order}; leave varmole out"
            raise InputError(msg)
        log.warning("varmole left out of the methods: it reads a one-hop prior, and this one has latent levels %s", graph.layout.order)
        out = [c for c in out if c.name != "varmole"]
    deepgami = next((c for c in out if c.name == "deepgami"), None)
    for ablation in ablations:
        if ablation == "no_aux":
            params = {**deepgami.params, "aux_weight": 0.0}
            grid = {k: v for k, v in deepgami.grid.items() if k != "aux_weight"}
            out.append(Candidate("deepgami_no_aux", deepgami.spec, grid, params, task=task))
        else:
            name = f"deepgami_{ablation}_graph"
            out.append(Candidate(name, deepgami.spec, dict(deepgami.grid), dict(deepgami.params), ablation, task, settings.null_relations))
    return out


def _grid_points(grid: dict[str, list]) -> list[dict[str, Any]]:
    points = list(ParameterGrid(grid)) if grid else [{}]
    if not points:
        msg = "the [search] grid produces no configuration; give every key at least one value"
        raise InputError(msg)
    return points


def _prepare(settings: CVSettings, train: MultiOmicsData, others: list[MultiOmicsData], seed: int):
    """Fit fold preprocessing on ``train``; return the transformed (and resampled) train and others."""
    preprocessor = FoldPreprocessor(random_state=seed, **settings.preprocessing).fit(train)
    fitted = preprocessor.transform(train)
    if settings.preprocessing.get("smote"):
        fitted = preprocessor.resample(fitted)
    return fitted, [preprocessor.transform(o) for o in others]


def _fill_unobserved(train: MultiOmicsData, data: MultiOmicsData) -> MultiOmicsData:
    """For methods that need every modality: unobserved rows take the training means."""
    filled = data.subset(np.arange(len(data)))
    for m, frame in data.modalities.items():
        means = pd.DataFrame(float_values(train.modalities[m][train.observed[m]])).mean().to_numpy()
        values = float_values(frame, np.float32)
        values[~np.asarray(data.observed[m])] = means
        filled.modalities[m] = pd.DataFrame(values, index=frame.index, columns=frame.columns)
        filled.observed[m] = np.ones(len(data), dtype=bool)
    return filled


def _build(
    candidate: Candidate, graph: RegulatoryGraph | None, params: dict, seed: int, train_seed: int, train: MultiOmicsData
):
    """The unfitted method; ``seed`` draws a null graph, ``train_seed`` is its random state."""
    spec = candidate.spec
    prior = graph
    if candidate.null_graph is not None:
        features = {m: frame.columns for m, frame in train.modalities.items()}
        relations = None if candidate.null_relations is None else [parse_relation_name(r) for r in candidate.null_relations]
        prior = null_graph(with_feature_nodes(graph, features), candidate.null_graph, seed=seed, relations=relations)
    kwargs = {"graph": prior if spec.uses_graph else None, "random_state": train_seed}
    if len(spec.tasks) > 1:  # a method of several tasks (DeepGAMI) is told which
        kwargs["task"] = candidate.task
    return spec.factory(**kwargs, **{**candidate.params, **params})


class SeedAverage:
    """Several fits of one method that differ only in their training seed; predicts their mean
    probability (or score), so a comparison is not decided by one initialisation."""

    def __init__(self, members: list) -> None:
        self.members = members
        if hasattr(members[0], "classes_"):
            self.classes_ = members[0].classes_
        self.supports_missing_modalities = members[0].supports_missing_modalities

    def predict_proba(self, data: MultiOmicsData, *, use_modalities=None) -> np.ndarray:
        """(n_samples, n_classes): the members' mean probability."""
        return np.mean([m.predict_proba(data, use_modalities=use_modalities) for m in self.members], axis=0)

    def predict_scores(self, data: MultiOmicsData, *, use_modalities=None) -> np.ndarray:
        """(n_samples, n_outputs): the members' mean score (a survival model's mean log-risk)."""
        return np.mean([m.predict_scores(data, use_modalities=use_modalities) for m in self.members], axis=0)

    @property
    def oof_proba_(self) -> pd.DataFrame | None:
        """The members' mean out-of-fold probabilities of the training rows, when each has them."""
        parts = [getattr(m, "oof_proba_", None) for m in self.members]
        return None if any(p is None for p in parts) else sum(parts) / len(parts)

    @property
    def oof_scores_(self) -> pd.DataFrame | None:
        """The members' mean out-of-fold scores of the training rows, when each has them."""
        parts = [_oof_scores(m) for m in self.members]
        return None if any(p is None for p in parts) else sum(parts) / len(parts)


def _oof_scores(method) -> pd.DataFrame | None:
    """A fitted method's out-of-fold scores of its training rows (``oof_scores_``, or a
    classifier's ``oof_proba_``); None when it has none."""
    scores = getattr(method, "oof_scores_", None)
    return getattr(method, "oof_proba_", None) if scores is None else scores


def _fit(candidate: Candidate, graph, params: dict, seed: int, train: MultiOmicsData, training_seeds: int = 1):
    """A fitted method; methods that need every modality get training means in unobserved rows.

    With ``training_seeds`` > 1 the method is fit that many times (random states ``seed *
    training_seeds + k``, the same null graph) and averaged (:class:`SeedAverage`).
    """
    members = []
    for k in range(training_seeds):
        with warnings.catch_warnings():
            # Graph restriction warns about dropped edges once per fold; the counts are logged instead.
            warnings.filterwarnings("ignore", message="graph restricted to the data")
            method = _build(candidate, graph, params, seed, seed * training_seeds + k, train)
            method.fit(train if method.supports_missing_modalities else _fill_unobserved(train, train))
        members.append(method)
    return members[0] if training_seeds == 1 else SeedAverage(members)


def _predict(method, train: MultiOmicsData, data: MultiOmicsData, use_modalities=None, task: str = "classification") -> np.ndarray:
    """The method's scores of ``data`` (n, n_outputs): class probabilities, values or risks."""
    if not method.supports_missing_modalities:
        data = _fill_unobserved(train, data)
    if task == "classification":
        return method.predict_proba(data, use_modalities=use_modalities)
    return np.asarray(method.predict_scores(data, use_modalities=use_modalities), dtype=np.float64).reshape(len(data), -1)


def _survival_of(method, train: MultiOmicsData, data: MultiOmicsData, use_modalities=None):
    """``times -> S(t | x)`` (n, len(times)) of ``data`` when the method (every member of a
    :class:`SeedAverage`) gives survival curves; None otherwise."""
    members = method.members if isinstance(method, SeedAverage) else [method]
    curves = [getattr(m, "predict_survival_function", None) for m in members]
    if any(c is None for c in curves):
        return None
    if not method.supports_missing_modalities:
        data = _fill_unobserved(train, data)
    return lambda times: np.mean([np.asarray(c(data, times, use_modalities=use_modalities)) for c in curves], axis=0)


def per_class_bacc(y_true: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """One-vs-rest balanced accuracy per class: (sensitivity + specificity) / 2."""
    matrix = confusion_matrix(y_true, predicted, labels=classes)
    out = {}
    for i, label in enumerate(classes):
        tp = matrix[i, i]
        fn = matrix[i].sum() - tp
        fp = matrix[:, i].sum() - tp
        tn = matrix.sum() - tp - fn - fp
        sensitivity = tp / (tp + fn) if tp + fn else np.nan
        specificity = tn / (tn + fp) if tn + fp else np.nan
        out[str(label)] = float((sensitivity + specificity) / 2)
    return out


@dataclass
class CVResult:
    """What :func:`run_cv` returns: per-split results, their summary, ROC curves, timings and,
    per method, how it was tuned."""

    results: pd.DataFrame
    summary: pd.DataFrame
    curves: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    tuning: dict = field(default_factory=dict)
    task: str = "classification"


def _check_data(data: MultiOmicsData, settings: CVSettings) -> None:
    """One InputError line when the labels or fold preprocessing do not suit the task."""
    task = settings.task
    _check_task(task)
    if data.labels is None:
        msg = "cross-validation needs labels; build the MultiOmicsData with labels"
        raise InputError(msg)
    is_table = isinstance(data.labels, pd.DataFrame)
    if is_table != (task == "survival"):
        held = "a table of time and event" if is_table else "one value per sample"
        msg = f"the labels are {held}, which does not suit a {task} task; set [data] task to match the labels"
        raise InputError(msg)
    if task == "regression":
        numeric_labels(data.labels)
    elif task == "survival":
        survival_labels(data.labels)
    else:
        return
    preprocessing = settings.preprocessing
    if preprocessing.get("smote"):
        msg = f"[preprocessing] smote oversamples the classes of a classification; a {task} task has none, so leave smote out"
        raise InputError(msg)
    if preprocessing.get("select_k"):
        msg = (
            f"[preprocessing] select_k ranks features by a test against class labels (t-test or ANOVA), "
            f"which a {task} task does not have; leave select_k out (variance_threshold still filters)"
        )
        raise InputError(msg)


def outer_splits(data: MultiOmicsData, settings: CVSettings, repeats: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rows = np.arange(len(data))
    if settings.test_ids is not None:
        ids = read_ids(settings.test_ids)
        is_test = data.samples.isin(ids)
        if not is_test.any():
            msg = f"no id of {settings.test_ids.name} is a usable sample (e.g. {preview(ids)}); check the ids"
            raise InputError(msg)
        if repeats > 1:
            log.warning("test_ids fixes the split: --repeats %d runs the same split with different seeds", repeats)
        return [(rows[~is_test], rows[is_test])] * repeats
    strata = label_strata(data.labels, settings.task)
    if settings.task != "classification" and np.unique(strata, return_counts=True)[1].min() < 2:
        strata = None  # a single censored sample (or event) cannot be stratified; draw at random
    splits = []
    for r in range(repeats):
        train, test = train_test_split(rows, test_size=settings.test_fraction, stratify=strata, random_state=settings.split_seed + r)
        splits.append((np.sort(train), np.sort(test)))
    return splits


def _check_folds(train: MultiOmicsData, folds: int, task: str = "classification") -> None:
    """InputError when a stratum of the training rows (a class, a quantile bin of a regression's
    label, survival's events) has fewer samples than the inner folds."""
    if task == "classification":
        counts = train.labels.value_counts()
        small = counts[counts < folds]
        if len(small):
            msg = (
                f"class {small.index[0]!r} has {small.iloc[0]} training samples, fewer than the {folds} inner folds; "
                f"set [cv] folds = {max(2, int(counts.min()))} or fewer"
            )
            raise InputError(msg)
        return
    strata = label_strata(train.labels, task)
    if task == "regression":
        smallest = int(np.bincount(strata).min())
        if smallest < folds:
            msg = (
                f"a quantile stratum of the label holds {smallest} training samples, fewer than the {folds} inner folds; "
                f"set [cv] folds = {max(2, smallest)} or fewer"
            )
            raise InputError(msg)
        return
    events = int(strata.sum())
    if events < folds:
        msg = (
            f"{events} training samples have an observed event, fewer than the {folds} inner folds; "
            f"set [cv] folds = {max(2, events)} or fewer"
        )
        raise InputError(msg)


def run_cv(
    data: MultiOmicsData,
    graph: RegulatoryGraph | None,
    settings: CVSettings,
    *,
    repeats: int | None = None,
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
) -> CVResult:
    """Nested cross-validation of every candidate on identical splits; see the module docstring.

    ``repeats`` overrides ``settings.repeats``. Returns tidy ``results`` (method, split, fold,
    modalities, metric, value, params) and a ``summary`` (mean and sd over splits of each test
    metric). With a ``checkpoint``, each finished (split, method) is saved there, and those
    already saved are taken from it instead of run again.
    """
    _check_data(data, settings)
    task = settings.task
    label = HEADLINE[task][1]
    finished = checkpoint.parts() if checkpoint is not None else {}
    folds = settings.folds
    repeats = int(repeats or settings.repeats)
    training_seeds = settings.training_seeds
    entries = candidates(settings, graph)
    splits = outer_splits(data, settings, repeats)
    rows: list[dict] = []
    curves: dict = {}
    seconds: dict[str, float] = {}
    tuning: dict[str, str] = {}
    total = len(splits) * len(entries)
    bar = tqdm(total=total, desc="cv", unit="fit", disable=None if progress else True, leave=False)
    for split, (train_rows, test_rows) in enumerate(splits):
        train_all, test = data.subset(train_rows), data.subset(test_rows)
        _check_folds(train_all, folds, task)
        seed = settings.split_seed + split
        inner = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(train_rows, label_strata(train_all.labels, task)))
        for candidate in entries:
            part = f"{split}__{candidate.name}"
            if part in finished:
                _restore(finished[part], candidate.name, rows, curves, seconds, tuning)
                bar.update()
                continue
            start, first_row = time.perf_counter(), len(rows)
            grid_points = _grid_points(candidate.grid)
            train_part, (test_part,) = _prepare(settings, train_all, [test], seed)
            best, method, how = grid_points[0], None, "fixed (no grid)"
            if len(grid_points) > 1 and candidate.spec.scores_out_of_fold and not _reads_labels(settings.preprocessing):
                best, method = _select_out_of_fold(candidate, graph, grid_points, seed, train_part, training_seeds, rows, split)
                how = f"out-of-fold {label} of the cross-fitted members"
            if len(grid_points) > 1 and method is None:
                best = _select_inner(candidate, graph, grid_points, settings, train_all, inner, seed, training_seeds, rows, split)
                how = f"{folds}-fold inner {label}"
            if method is None:
                method = _fit(candidate, graph, best, seed, train_part, training_seeds)
            if len(grid_points) > 1:
                how = f"{', '.join(f'{k} in {v}' for k, v in candidate.grid.items())} by {how}"
            tuning[candidate.name] = how
            scores = _predict(method, train_part, test_part, task=task)
            survival = _survival_of(method, train_part, test_part) if task == "survival" else None
            _record(rows, curves, candidate.name, split, "all", test_part.labels, scores, getattr(method, "classes_", None), best,
                    task=task, train_labels=train_part.labels, survival=survival)  # fmt: skip
            for m in data.modality_names:
                single_test = test_part.select_modalities([m])
                if method.supports_missing_modalities:
                    # The model trained on every modality predicts from this one alone.
                    single, single_train = method, train_part
                else:
                    single_train = train_part.select_modalities([m])
                    single = _fit(candidate, graph, best, seed, single_train, training_seeds)
                scores = _predict(single, single_train, single_test, use_modalities=(m,), task=task)
                survival = _survival_of(single, single_train, single_test, use_modalities=(m,)) if task == "survival" else None
                _record(rows, curves, candidate.name, split, m, single_test.labels, scores, getattr(single, "classes_", None), best,
                        task=task, train_labels=train_part.labels, survival=survival)  # fmt: skip
            elapsed = time.perf_counter() - start
            seconds[candidate.name] = seconds.get(candidate.name, 0.0) + elapsed
            if checkpoint is not None:
                checkpoint.save_part(part, _saved_part(rows[first_row:], curves, candidate.name, split, elapsed, tuning[candidate.name]))
            bar.update()
            log.info("split %d: %s done in %.1f s (best %s)", split, candidate.name, time.perf_counter() - start, best or "defaults")
    bar.close()
    results = pd.DataFrame(rows, columns=["method", "split", "fold", "modalities", "metric", "value", "params"])
    return CVResult(results, summarise(results), curves, seconds, tuning, task)


def _saved_part(rows: list[dict], curves: dict, method: str, split: int, seconds: float, tuning: str) -> dict:
    """One finished (split, method) in plain numbers, strings and tensors (a checkpoint part)."""
    plain = [{k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()} for row in rows]
    mine = {}
    if split == 0:  # the figures show the first split
        mine = {m: (np.asarray(by_method[method][0]).tolist(), torch.as_tensor(by_method[method][1]), np.asarray(by_method[method][2]).tolist())
                for m, by_method in curves.items() if method in by_method}  # fmt: skip
    return {"rows": plain, "curves": mine, "seconds": seconds, "tuning": tuning}


def _restore(part: dict, method: str, rows: list[dict], curves: dict, seconds: dict, tuning: dict) -> None:
    """Put a saved (split, method) back into the results being gathered."""
    rows.extend(part["rows"])
    for modalities, (y, p, c) in part["curves"].items():
        curves.setdefault(modalities, {})[method] = (np.asarray(y), p.numpy(), np.asarray(c))
    seconds[method] = seconds.get(method, 0.0) + part["seconds"]
    tuning[method] = part["tuning"]


def _reads_labels(preprocessing: dict) -> bool:
    """Whether fold preprocessing looks at the labels (then out-of-fold scores would too)."""
    return bool(preprocessing.get("select_k") or preprocessing.get("smote"))


def _selection_score(task: str, labels, scores: np.ndarray, classes) -> float:
    """What selects a grid point (higher is better): balanced accuracy, R² or Harrell's C; NaN
    where undefined (a constant label, no event)."""
    if task == "classification":
        return balanced_accuracy_score(labels, np.asarray(classes)[scores.argmax(1)])
    if task == "regression":
        values = numeric_labels(labels)
        return float(r2_score(values, scores[:, 0])) if len(values) > 1 and np.ptp(values) > 0 else np.nan
    from sksurv.metrics import concordance_index_censored

    time, event = survival_labels(labels)
    if not event.any():
        return np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(concordance_index_censored(event, time, scores[:, 0])[0])


def _select_out_of_fold(candidate, graph, grid_points, seed, train_part, training_seeds, rows, split):
    """``(best params, its fitted method)`` by the task's selection score (BACC, R², Harrell's C)
    of each fit's out-of-fold predictions of its training rows; ``(first params, None)`` when a
    fit has none (then inner folds decide)."""
    task = candidate.task
    labels = train_part.labels.to_numpy() if task == "classification" else train_part.labels
    best = (-np.inf, grid_points[0], None)
    for params in grid_points:
        method = _fit(candidate, graph, params, seed, train_part, training_seeds)
        oof = _oof_scores(method)
        if oof is None:
            return grid_points[0], None
        score = _selection_score(task, labels, oof.loc[train_part.samples].to_numpy(), getattr(method, "classes_", None))
        rows.append(_row(candidate.name, split, "oof", "all", f"inner_{HEADLINE[task][0]}", score, params))
        finite = np.isfinite(score)
        if best[2] is None or (finite and score > best[0]):  # an undefined score never wins, but the first fit stands
            best = (score if finite else -np.inf, params, method)
    return best[1], best[2]


def _select_inner(candidate, graph, grid_points, settings, train_all, inner, seed, training_seeds, rows, split):
    """The grid point with the best mean selection score (BACC, R², Harrell's C) over the inner
    folds (preprocessing refit per fold); folds where the score is undefined do not count."""
    task = candidate.task
    scores = []
    for params in grid_points:
        fold_scores = []
        for fold, (fit_idx, val_idx) in enumerate(inner):
            fit_part, (val_part,) = _prepare(settings, train_all.subset(fit_idx), [train_all.subset(val_idx)], seed)
            method = _fit(candidate, graph, params, seed, fit_part, training_seeds)
            predicted = _predict(method, fit_part, val_part, task=task)
            score = _selection_score(task, val_part.labels, predicted, getattr(method, "classes_", None))
            fold_scores.append(score)
            rows.append(_row(candidate.name, split, fold, "all", f"inner_{HEADLINE[task][0]}", score, params))
        finite = [v for v in fold_scores if np.isfinite(v)]
        scores.append(np.mean(finite) if finite else -np.inf)
    return grid_points[int(np.argmax(scores))]


def _row(method, split, fold, modalities, metric, value, params) -> dict:
    return {"method": method, "split": split, "fold": fold, "modalities": modalities, "metric": metric,
            "value": value, "params": json.dumps(params, default=str, sort_keys=True)}


def _record(
    rows, curves, method, split, modalities, y_true, proba, classes, params, *, task="classification", train_labels=None, survival=None
) -> None:
    """The task's test metrics of one method on one modality set as result rows; on the first
    split also its (truth, scores, classes or output name) for the figures.

    Survival reads the training rows' ``train_labels`` (the censoring distribution of Uno's C and
    the Brier score) and, when the method gives them, its curves ``survival(times)``.
    """
    if task == "regression":
        truth = numeric_labels(y_true)
        metrics = regression_metrics(truth, proba[:, 0], n_boot=0)
        names = np.asarray(["predicted"])
    elif task == "survival":
        time, event = survival_labels(y_true)
        train_time, train_event = survival_labels(train_labels)
        metrics = survival_metrics(time, event, proba[:, 0], train_time=train_time, train_event=train_event, survival=survival, n_boot=0)
        truth, names = np.column_stack([time, event.astype(np.float64)]), np.asarray(["risk"])
    else:
        truth = np.asarray(y_true)
        metrics = classification_metrics(truth, proba, classes)
    for metric in TEST_METRICS[task]:
        rows.append(_row(method, split, "test", modalities, metric, metrics[metric], params))
    if task == "classification":
        predicted = np.asarray(classes)[proba.argmax(axis=1)]
        for label, value in per_class_bacc(truth, predicted, np.asarray(classes)).items():
            rows.append(_row(method, split, "test", modalities, f"bacc[{label}]", value, params))
        names = np.asarray(classes)
    if split == 0:
        curves.setdefault(modalities, {})[method] = (truth, proba, names)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd and count over splits of every test metric, per method and modality set."""
    test = results[results["fold"] == "test"]
    summary = test.groupby(["method", "modalities", "metric"], sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    return summary.rename(columns={"std": "sd", "count": "n_splits"})


def _tuning_lines(tuning: dict[str, str]) -> list[str]:
    """The summary's account of what each method had tuned on the training rows, and how."""
    lines = ["\n## How each method was tuned (training rows of each outer split only)\n", "| method | tuned |", "|---|---|"]
    return lines + [f"| {method} | {how} |" for method, how in tuning.items()]


def _headline(results: pd.DataFrame) -> str:
    """The headline metric of the task the results are of (``bacc``, ``r2`` or ``c_index``)."""
    metrics = set(results["metric"])
    return next((metric for metric, _ in HEADLINE.values() if metric in metrics), "bacc")


def null_graph_comparison(results: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """Per null-graph ablation, DeepGAMI's test score (all modalities) with the real prior and
    with the null graph, paired by outer split: means, mean difference and the paired t-test
    p-value (NaN with fewer than two splits). The score is ``metric``, by default the task's
    headline metric: BACC, R² or Harrell's C."""
    metric = metric or _headline(results)
    test = results[(results["fold"] == "test") & (results["modalities"] == "all") & (results["metric"] == metric)]
    bacc = test.pivot_table(index="split", columns="method", values="value")
    rows = []
    for column in bacc.columns:
        if column.startswith("deepgami_") and column.endswith("_graph") and "deepgami" in bacc:
            pair = bacc[["deepgami", column]].dropna()
            differences = pair["deepgami"] - pair[column]
            p_value = stats.ttest_rel(pair["deepgami"], pair[column]).pvalue if len(pair) > 1 and differences.std() > 0 else np.nan
            rows.append({"null_graph": column.removeprefix("deepgami_").removesuffix("_graph"), "prior": pair["deepgami"].mean(),
                         "null": pair[column].mean(), "difference": differences.mean(), "p_value": p_value, "n_splits": len(pair)})
    return pd.DataFrame(rows, columns=["null_graph", "prior", "null", "difference", "p_value", "n_splits"])


def _null_graph_lines(results: pd.DataFrame) -> list[str]:
    """The summary's verdict on the prior against each null graph, flagged when a null does as well."""
    metric = _headline(results)
    name = next(label for key, label in HEADLINE.values() if key == metric)
    table = null_graph_comparison(results, metric)
    if table.empty:
        return []
    lines = [f"\n## The prior against null graphs (test {name}, all modalities, paired by split)\n"]
    for row in table.itertuples():
        test = f"paired t p = {row.p_value:.3g}, {row.n_splits} splits" if not np.isnan(row.p_value) else f"no test with {row.n_splits} split(s)"
        scores = f"{name} {row.null:.3f} against {row.prior:.3f} with the prior ({test})"
        if row.null >= row.prior:
            lines.append(f"- **The {row.null_graph} graph scored at or above the real prior**: {scores}; the prior's structure did not help here.")
        else:
            lines.append(f"- The prior is ahead of the {row.null_graph} graph by {row.difference:+.3f}: {scores}.")
    return lines


def write_cv(result: CVResult, out: Path, classes: np.ndarray | None = None, header: str = "") -> None:
    """results.csv, summary.md and the task's figures of the first split into ``out`` (a staging
    folder): ROC curves per modality set (classification; ``classes`` in score-column order,
    default the fitted ones); predicted against observed (regression) or Kaplan-Meier curves of
    the predicted risk's halves (survival) per modality set, for DeepGAMI and the best other
    method by the test R² or Harrell's C."""
    result.results.to_csv(out / "results.csv", index=False)
    lines = [f"# deepgami cv summary\n\n{header}\n"]
    if result.task != "classification":
        lines += _task_tables(result)
        lines += _tuning_lines(result.tuning) + _null_graph_lines(result.results)
        (out / "summary.md").write_text("\n".join(lines) + "\n")
        _task_figures(result, out)
        return
    from ..plotting import plot_roc

    if classes is None:
        classes = next((c for by_method in result.curves.values() for _, _, c in by_method.values()), np.array([]))
    for modalities, part in result.summary.groupby("modalities", sort=False):
        table = part[part["metric"].isin(["bacc", "f1", "auc"])].pivot(index="method", columns="metric", values=["mean", "sd"])
        lines.append(f"\n## Test set, modalities: {modalities}\n")
        auc_name = "AUC" if len(classes) == 2 else "macro one-vs-rest AUC"
        lines.append(f"| method | BACC | macro-F1 | {auc_name} | seconds, all splits |\n|---|---|---|---|---|")
        for method in part["method"].unique():
            cells = []
            for metric in ("bacc", "f1", "auc"):
                mean, sd = table.loc[method, ("mean", metric)], table.loc[method, ("sd", metric)]
                cells.append("n/a" if pd.isna(mean) else f"{mean:.3f} ± {0.0 if pd.isna(sd) else sd:.3f}")
            lines.append(f"| {method} | {' | '.join(cells)} | {result.seconds.get(method, float('nan')):.1f} |")
        per_class = part[part["metric"].str.startswith("bacc[")]
        if len(per_class):
            lines.append("\nPer-class balanced accuracy (one vs rest, mean over splits):\n")
            pivot = per_class.pivot(index="method", columns="metric", values="mean")
            lines.append("| method | " + " | ".join(c[5:-1] for c in pivot.columns) + " |")
            lines.append("|---|" + "---|" * len(pivot.columns))
            for method, values in pivot.loc[part["method"].unique()].iterrows():
                lines.append(f"| {method} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    lines += _tuning_lines(result.tuning) + _null_graph_lines(result.results)
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    for modalities, by_method in result.curves.items():
        curves = {method: (y, p) for method, (y, p, _) in by_method.items()}
        used = "all modalities" if modalities == "all" else f"{modalities} only"
        plot_roc(curves, classes, out / f"roc_{modalities}.png", subtitle=f"{used}, test rows of the first outer split")


def _cell(mean: float, sd: float) -> str:
    return "n/a" if pd.isna(mean) else f"{mean:.3f} ± {0.0 if pd.isna(sd) else sd:.3f}"


def _task_tables(result: CVResult) -> list[str]:
    """The summary's test tables of a regression or survival task, one per modality set."""
    columns = TABLE_COLUMNS[result.task]
    lines = []
    for modalities, part in result.summary.groupby("modalities", sort=False):
        table = part.pivot(index="method", columns="metric", values=["mean", "sd"])
        lines.append(f"\n## Test set, modalities: {modalities}\n")
        lines.append(f"| method | {' | '.join(name for _, name in columns)} | seconds, all splits |")
        lines.append("|---|" + "---|" * (len(columns) + 1))
        for method in part["method"].unique():
            cells = [_cell(table.loc[method, ("mean", m)], table.loc[method, ("sd", m)]) if ("mean", m) in table else "n/a" for m, _ in columns]
            lines.append(f"| {method} | {' | '.join(cells)} | {result.seconds.get(method, float('nan')):.1f} |")
    if result.task == "survival":
        lines.append(
            "\nHarrell's and Uno's C: higher is better (0.5 is chance); integrated Brier score: lower is better, "
            "n/a for a method without survival curves."
        )
    return lines


def _figure_methods(result: CVResult, modalities: str) -> list[str]:
    """DeepGAMI (when compared) and the best other method (no ablation) on ``modalities`` by the
    mean test headline metric, among those with first-split scores."""
    drawn = result.curves.get(modalities, {})
    metric = HEADLINE[result.task][0]
    summary = result.summary
    means = summary[(summary["modalities"] == modalities) & (summary["metric"] == metric)].set_index("method")["mean"]
    others = [m for m in drawn if not m.startswith("deepgami") and pd.notna(means.get(m))]
    chosen = ["deepgami"] if "deepgami" in drawn else []
    if others:
        chosen.append(max(others, key=lambda m: means[m]))
    elif not chosen and drawn:
        chosen.append(next(iter(drawn)))
    return chosen


def _task_figures(result: CVResult, out: Path) -> None:
    """Predicted against observed (regression) or Kaplan-Meier by risk group (survival), first split."""
    from ..plotting import plot_kaplan_meier, plot_predicted_vs_observed

    for modalities, by_method in result.curves.items():
        used = "all modalities" if modalities == "all" else f"{modalities} only"
        for method in _figure_methods(result, modalities):
            truth, scores, _ = by_method[method]
            truth, scores = np.asarray(truth, dtype=np.float64), np.asarray(scores, dtype=np.float64)
            if result.task == "regression":
                title = f"{method}: predicted vs observed\n{used}, test rows of the first outer split"
                plot_predicted_vs_observed(truth, scores[:, 0], out / f"predicted_vs_observed_{modalities}_{method}.png", title=title)
            else:
                title = f"{method}, {used}: test rows of the first outer split"
                plot_kaplan_meier(truth[:, 0], truth[:, 1] > 0, scores[:, 0], out / f"kaplan_meier_{modalities}_{method}.png", title=title)
