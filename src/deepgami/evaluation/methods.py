"""The interface every compared method implements, and the registry of methods by name and task.

A method is built by a factory ``factory(*, graph, random_state, **params)`` and then used as

    method.fit(train)                      # train: MultiOmicsData with labels (no test rows)
    method.predict_proba(test, use_modalities=None)    # classification: (n_samples, n_classes), classes_ order
    method.predict_scores(test, use_modalities=None)   # regression, survival: (n_samples, 1)

``graph`` is the prior :class:`~deepgami.RegulatoryGraph` (or None) for the methods that use
one. A method whose ``supports_missing_modalities`` is False can only predict from the
modalities it was trained on; the evaluator then refits it on each single modality.

What the scores mean follows the task (:mod:`deepgami.tasks`): class probabilities in
``classes_`` order (classification), the predicted value on the labels' scale (regression), a
risk score, higher meaning an earlier event (survival; a log-risk for the Cox models). A
survival method may also give survival curves, ``predict_survival_function(data, times,
use_modalities=None)`` of shape (n_samples, len(times)); then the integrated Brier score is
reported for it.

Every :class:`MethodSpec` names the tasks it serves (``tasks``). One name may be registered
once per task with a different implementation (``late_fusion``, ``random_forest``, ``mlp``):
:func:`method_spec` finds a task's, :func:`task_methods` lists a task's names in registration
order (``deepgami cv``'s default method list). A spec serving several tasks (DeepGAMI) is built
with ``task=<kind>`` as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np
import pandas as pd

from ..data import MultiOmicsData
from ..errors import InputError
from ..estimator import DeepGAMIClassifier, DeepGAMIRegressor, DeepGAMISurvival
from ..graph import RegulatoryGraph
from ..params import TASK_KINDS


class Method(Protocol):
    """What ``deepgami cv`` needs of a method: fit on a training MultiOmicsData, then scores of
    the task (see the module docstring); classification methods give class probabilities
    (n_samples, n_classes) in ``classes_`` order through ``predict_proba``."""

    supports_missing_modalities: bool

    def fit(self, train: MultiOmicsData) -> Method: ...

    def predict_scores(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray: ...


@dataclass
class MethodSpec:
    """A named method: its factory, fixed parameters, the grid searched on inner folds and the
    tasks it serves (``"classification"``, ``"regression"``, ``"survival"``)."""

    name: str
    factory: Callable[..., Method]
    params: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list] = field(default_factory=dict)
    uses_graph: bool = False
    # The fitted method scores its own training rows out of fold (``oof_scores_``): cv tunes on that.
    scores_out_of_fold: bool = False
    tasks: tuple[str, ...] = ("classification",)


#: DeepGAMI's estimator of each task.
ESTIMATORS = {"classification": DeepGAMIClassifier, "regression": DeepGAMIRegressor, "survival": DeepGAMISurvival}


class DeepGAMIMethod:
    """The DeepGAMI estimator of a task (:class:`~deepgami.DeepGAMIClassifier`,
    :class:`~deepgami.DeepGAMIRegressor` or :class:`~deepgami.DeepGAMISurvival`) behind the
    method interface."""

    supports_missing_modalities = True

    def __init__(self, *, graph: RegulatoryGraph | None = None, random_state: int = 0, task: str = "classification", **params) -> None:
        if task not in ESTIMATORS:
            msg = f"task must be one of {', '.join(ESTIMATORS)} (got {task!r})"
            raise InputError(msg)
        # Null members only serve edge q-values; cross-validation never explains, so it skips
        # them unless the config asks for them.
        params.setdefault("null_members", 0)
        self.task = task
        self.estimator = ESTIMATORS[task](graph, random_state=random_state, **params)

    def fit(self, train: MultiOmicsData) -> DeepGAMIMethod:
        self.estimator.fit(train)
        # Cross-fitted members score every training row out of fold: cv tunes on these.
        self.oof_scores_: pd.DataFrame | None = self.estimator.oof_scores_
        if self.task == "classification":
            self.classes_ = self.estimator.classes_
            self.oof_proba_ = self.oof_scores_
        return self

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        return self.estimator.predict_proba(data, use_modalities=use_modalities)

    def predict_scores(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """(n_samples, n_outputs): probabilities, the predicted value or the log-risk."""
        if self.task == "classification":
            return self.predict_proba(data, use_modalities=use_modalities)
        return self.estimator.predict_scores(data, use_modalities=use_modalities)

    def predict_survival_function(self, data: MultiOmicsData, times, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Survival: ``S(t | x)`` (n_samples, len(times)) from the Breslow baseline of the training rows."""
        if self.task != "survival":
            msg = f"survival curves need a survival task (this method's is {self.task})"
            raise InputError(msg)
        return self.estimator.predict_survival_function(data, times, use_modalities=use_modalities).to_numpy()


#: Every registered name with the spec it was first registered with (the classification one
#: for the names every task shares); :func:`method_spec` gives a task's.
REGISTRY: dict[str, MethodSpec] = {}
#: Per task, its methods by name in registration order.
TASK_METHODS: dict[str, dict[str, MethodSpec]] = {kind: {} for kind in TASK_KINDS}


def register(spec: MethodSpec) -> MethodSpec:
    """Add a method to the registry of each task it serves (used by the baseline modules at import)."""
    unknown = [t for t in spec.tasks if t not in TASK_METHODS]
    if unknown or not spec.tasks:
        msg = f"method {spec.name!r} names unknown tasks {unknown or spec.tasks} (known: {', '.join(TASK_METHODS)})"
        raise ValueError(msg)
    REGISTRY.setdefault(spec.name, spec)
    for task in spec.tasks:
        TASK_METHODS[task][spec.name] = spec
    return spec


def task_methods(task: str) -> list[str]:
    """The names of the methods registered for ``task``, in registration order."""
    return list(TASK_METHODS[task])


def method_spec(name: str, task: str) -> MethodSpec | None:
    """The spec of ``name`` for ``task``; None when no method of that name serves the task."""
    return TASK_METHODS[task].get(name)


# The head is what bench/study_guided_learning.md found to matter by data set (a linear
# head on the latents, or the paper's 64 hidden units); a [search] table replaces this grid.
register(
    MethodSpec(
        "deepgami", DeepGAMIMethod, grid={"hidden_dims": [(), (64,)]}, uses_graph=True, scores_out_of_fold=True, tasks=TASK_KINDS
    )
)
