"""The interface every compared method implements, and the registry of methods by name.

A method is built by a factory ``factory(*, graph, random_state, **params)`` and then used as

    method.fit(train)                      # train: MultiOmicsData with labels (no test rows)
    method.predict_proba(test, use_modalities=None)   # (n_samples, n_classes), classes_ order

``graph`` is the prior :class:`~deepgami.RegulatoryGraph` (or None) for the methods that use
one. A method whose ``supports_missing_modalities`` is False can only predict from the
modalities it was trained on; the evaluator then refits it on each single modality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ..data import MultiOmicsData
from ..estimator import DeepGAMIClassifier
from ..graph import RegulatoryGraph


class Method(Protocol):
    """What ``deepgami cv`` needs of a method: fit on a training MultiOmicsData, then class
    probabilities (n_samples, n_classes) in ``classes_`` order."""

    classes_: np.ndarray
    supports_missing_modalities: bool

    def fit(self, train: MultiOmicsData) -> Method: ...

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray: ...


@dataclass
class MethodSpec:
    """A named method: its factory, fixed parameters and the grid searched on inner folds."""

    name: str
    factory: Callable[..., Method]
    params: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list] = field(default_factory=dict)
    uses_graph: bool = False
    # The fitted method scores its own training rows out of fold (``oof_proba_``): cv tunes on that.
    scores_out_of_fold: bool = False


class DeepGAMIMethod:
    """:class:`~deepgami.DeepGAMIClassifier` behind the method interface."""

    supports_missing_modalities = True

    def __init__(self, *, graph: RegulatoryGraph | None = None, random_state: int = 0, **params) -> None:
        # Null members only serve edge q-values; cross-validation never explains, so it skips
        # them unless the config asks for them.
        params.setdefault("null_members", 0)
        self.estimator = DeepGAMIClassifier(graph, random_state=random_state, **params)

    def fit(self, train: MultiOmicsData) -> DeepGAMIMethod:
        self.estimator.fit(train)
        self.classes_ = self.estimator.classes_
        # Cross-fitted members score every training row out of fold: cv tunes on these.
        self.oof_proba_ = self.estimator.oof_proba_
        return self

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        return self.estimator.predict_proba(data, use_modalities=use_modalities)


REGISTRY: dict[str, MethodSpec] = {
    # The head is what bench/study_guided_learning.md found to matter by data set (a linear
    # head on the latents, or the paper's 64 hidden units); a [search] table replaces this grid.
    "deepgami": MethodSpec("deepgami", DeepGAMIMethod, grid={"hidden_dims": [(), (64,)]}, uses_graph=True, scores_out_of_fold=True),
}


def register(spec: MethodSpec) -> MethodSpec:
    """Add a method to :data:`REGISTRY` (used by the baseline modules at import)."""
    REGISTRY[spec.name] = spec
    return spec
