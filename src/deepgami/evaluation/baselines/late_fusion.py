"""``late_fusion``: one L2 logistic regression per modality, probabilities averaged.

C is tuned by an inner 3-fold CV on the training rows of each modality; a sample's
probabilities are the mean over the modalities it has.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ...data import MultiOmicsData, training_classes
from ...errors import InputError, preview
from ..methods import MethodSpec, register
from ._common import _check_fitted, _feature_names, _full_proba, _modality_values, _resolve_modalities, logistic_regression

log = logging.getLogger(__name__)


def _inner_cv(codes: np.ndarray, n_splits: int, random_state) -> StratifiedKFold | None:
    """Stratified folds, fewer when the smallest class is small; None when it has a single sample."""
    n_splits = min(n_splits, int(np.bincount(codes).min()))
    if n_splits < 2:
        return None
    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


class LateFusion:
    """One tuned L2 logistic regression per modality; probabilities averaged over the modalities a sample has.

    Each modality's Pipeline StandardScaler -> SimpleImputer -> LogisticRegression is fit on
    the training rows observing that modality, C chosen among ``Cs`` by log loss in an inner
    stratified ``n_inner_folds``-fold CV on those rows (fewer folds when a class is smaller;
    C=1 when a class has a single sample). ``use_modalities`` may name any subset: a single
    modality predicts from its own classifier alone.
    """

    supports_missing_modalities = True

    def __init__(
        self,
        *,
        graph=None,
        random_state=None,
        Cs: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
        n_inner_folds: int = 3,
        max_iter: int = 5000,
    ) -> None:
        self.graph = graph
        self.random_state = random_state
        self.Cs = Cs
        self.n_inner_folds = n_inner_folds
        self.max_iter = max_iter

    def fit(self, train: MultiOmicsData) -> LateFusion:
        """Fit one classifier per modality on the training rows that observe it."""
        self.classes_, codes = training_classes(train.labels)
        self.feature_names_in_ = _feature_names(train)
        models = {}
        for m in train.modality_names:
            rows = np.asarray(train.observed[m], dtype=bool)
            if len(np.unique(codes[rows])) < 2:
                log.warning("late_fusion: modality '%s' observes a single class in training; left out", m)
                continue
            X = _modality_values(train, m, self.feature_names_in_[m])[rows]
            pipeline = make_pipeline(
                StandardScaler(),
                SimpleImputer(strategy="mean", keep_empty_features=True),
                logistic_regression(random_state=self.random_state, max_iter=self.max_iter),
            )
            y = codes[rows]
            cv = _inner_cv(np.unique(y, return_inverse=True)[1], self.n_inner_folds, self.random_state)
            if cv is None:
                models[m] = pipeline.fit(X, y)
            else:
                search = GridSearchCV(pipeline, {"logisticregression__C": list(self.Cs)}, cv=cv, scoring="neg_log_loss")
                models[m] = search.fit(X, y).best_estimator_
        if not models:
            msg = "no modality observes at least two classes in the training rows"
            raise InputError(msg)
        self.models_: dict[str, Pipeline] = models
        self.modalities_ = list(models)
        return self

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Mean of the per-modality probabilities over the (used) modalities each sample has."""
        _check_fitted(self)
        use = _resolve_modalities(self, use_modalities, any_subset=True)
        total = np.zeros((len(data), len(self.classes_)))
        count = np.zeros(len(data))
        for m in use:
            X = _modality_values(data, m, self.feature_names_in_[m])
            rows = np.asarray(data.observed[m], dtype=bool)
            if rows.any():
                total[rows] += _full_proba(self.models_[m], X[rows], len(self.classes_))
                count[rows] += 1
        if (count == 0).any():
            msg = f"samples {preview(data.samples[count == 0])} have none of the modalities {use}"
            raise InputError(msg)
        return total / count[:, None]


# C is tuned inside fit (inner 3-fold CV per modality), so the outer search has nothing to do.
register(MethodSpec("late_fusion", LateFusion))
