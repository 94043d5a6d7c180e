"""``late_fusion`` of the regression and survival tasks: one linear model per modality, their
scores averaged over the modalities a sample has (classification's is :mod:`.late_fusion`).

- regression: a ridge regression per modality, ``alpha`` chosen among ``alphas`` by efficient
  leave-one-out (``RidgeCV``) on the training rows observing it (target standardised there);
  a sample's prediction is the mean of its modalities' predictions;
- survival: an elastic-net Cox model (coxnet, ``l1_ratio``) per modality, the penalty chosen
  among ``alpha_ratios`` (shares of the largest penalty) by Harrell's C in an inner
  ``n_inner_folds``-fold CV stratified by event on the training rows observing it; a sample's
  risk is the mean of its modalities' log-risks. No survival curves (the fused score has no
  baseline hazard), so its integrated Brier score is not reported.

``use_modalities`` may name any subset: a single modality predicts from its own model alone.
"""

from __future__ import annotations

import logging
import warnings
from typing import Sequence

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import StratifiedKFold

from ...data import MultiOmicsData
from ...errors import InputError, preview
from ...tasks import numeric_labels
from ..methods import MethodSpec, register
from ._common import _check_fitted, _feature_names, _modality_values, _resolve_modalities, _standardising
from .survival import coxnet, survival_target

log = logging.getLogger(__name__)


class _LateFusion:
    """Per-modality models fit on the training rows observing each modality; scores averaged."""

    supports_missing_modalities = True

    def __init__(self, *, graph=None, random_state=None) -> None:
        self.graph = graph
        self.random_state = random_state

    def _targets(self, train: MultiOmicsData):
        raise NotImplementedError

    def _fit_modality(self, name: str, X: np.ndarray, y):
        """The fitted model of one modality, or None when its rows cannot train one."""
        raise NotImplementedError

    def _predict_modality(self, model, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, train: MultiOmicsData) -> _LateFusion:
        """Fit one model per modality on the training rows that observe it."""
        y = self._targets(train)
        self.feature_names_in_ = _feature_names(train)
        models = {}
        for m in train.modality_names:
            rows = np.asarray(train.observed[m], dtype=bool)
            model = self._fit_modality(m, _modality_values(train, m, self.feature_names_in_[m])[rows], y[rows])
            if model is not None:
                models[m] = model
        if not models:
            msg = "late_fusion: no modality has training rows that can fit its model"
            raise InputError(msg)
        self.models_ = models
        self.modalities_ = list(models)
        return self

    def predict(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Mean of the per-modality scores (n_samples,) over the (used) modalities each sample has."""
        _check_fitted(self, "models_")
        use = _resolve_modalities(self, use_modalities, any_subset=True)
        total, count = np.zeros(len(data)), np.zeros(len(data))
        for m in use:
            rows = np.asarray(data.observed[m], dtype=bool)
            if rows.any():
                X = _modality_values(data, m, self.feature_names_in_[m])[rows]
                total[rows] += self._predict_modality(self.models_[m], X)
                count[rows] += 1
        if (count == 0).any():
            msg = f"samples {preview(data.samples[count == 0])} have none of the modalities {use}"
            raise InputError(msg)
        return total / count

    def predict_scores(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """The fused scores as one column (n_samples, 1)."""
        return self.predict(data, use_modalities=use_modalities)[:, None]


class LateFusionRegression(_LateFusion):
    """One ridge regression per modality (``alpha`` by leave-one-out among ``alphas``); predictions averaged."""

    output_names = ["predicted"]

    def __init__(self, *, graph=None, random_state=None, alphas: Sequence[float] = (1.0, 10.0, 100.0, 1000.0)) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.alphas = alphas

    def _targets(self, train: MultiOmicsData) -> np.ndarray:
        return numeric_labels(train.labels)

    def _fit_modality(self, name: str, X: np.ndarray, y: np.ndarray):
        if len(y) < 3:
            log.warning("late_fusion: modality '%s' observes %d training samples; left out", name, len(y))
            return None
        mean, scale = float(y.mean()), float(y.std()) or 1.0
        return _standardising(RidgeCV(alphas=list(self.alphas))).fit(X, (y - mean) / scale), mean, scale

    def _predict_modality(self, model, X: np.ndarray) -> np.ndarray:
        pipeline, mean, scale = model
        return pipeline.predict(X) * scale + mean


class LateFusionSurvival(_LateFusion):
    """One elastic-net Cox model per modality (penalty by inner-fold Harrell's C); log-risks averaged."""

    output_names = ["risk"]

    def __init__(
        self,
        *,
        graph=None,
        random_state=None,
        l1_ratio: float = 0.5,
        alpha_ratios: Sequence[float] = (0.1, 0.2, 0.4, 0.7),
        n_inner_folds: int = 3,
    ) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.l1_ratio = l1_ratio
        self.alpha_ratios = alpha_ratios
        self.n_inner_folds = n_inner_folds

    def _targets(self, train: MultiOmicsData) -> np.ndarray:
        return survival_target(train.labels)

    def _fit_modality(self, name: str, X: np.ndarray, y: np.ndarray):
        if y["event"].sum() < 2:
            log.warning("late_fusion: modality '%s' observes %d training events; left out", name, int(y["event"].sum()))
            return None
        ratio = self._inner_ratio(X, y)
        pipeline = _standardising(coxnet(self.l1_ratio, ratio))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return pipeline.fit(X, y)

    def _inner_ratio(self, X: np.ndarray, y: np.ndarray) -> float:
        """The alpha ratio with the best mean Harrell's C over inner folds (one path per fold)."""
        from sksurv.metrics import concordance_index_censored

        ratios = sorted(self.alpha_ratios, reverse=True)
        counts = np.bincount(y["event"].astype(np.int64))
        n_splits = min(self.n_inner_folds, int(counts[counts > 0].min()))
        if len(ratios) == 1 or n_splits < 2:
            # One candidate, or too few events or censored rows to stratify folds: the middle one.
            return ratios[len(ratios) // 2]
        folds = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state).split(X, y["event"])
        scores = np.zeros((n_splits, len(ratios)))
        for k, (fit_rows, val_rows) in enumerate(folds):
            path = _standardising(coxnet(self.l1_ratio, ratios[-1]))
            path.fit(X[fit_rows], y[fit_rows])
            alphas = path[-1].alphas_
            val = y[val_rows]
            for j, ratio in enumerate(ratios):
                risk = _predict_at(path, X[val_rows], alphas[0] * ratio)
                scores[k, j] = concordance_index_censored(val["event"], val["time"], risk)[0] if val["event"].any() else np.nan
        mean = np.nanmean(scores, axis=0) if np.isfinite(scores).any() else np.zeros(len(ratios))
        return ratios[int(np.argmax(mean))]

    def _predict_modality(self, model, X: np.ndarray) -> np.ndarray:
        return model.predict(X)


def _predict_at(pipeline, X: np.ndarray, alpha: float) -> np.ndarray:
    """A fitted (scaler, imputer, coxnet) pipeline's log-risk at penalty ``alpha`` (interpolated on its path)."""
    return pipeline[-1].predict(pipeline[:-1].transform(X), alpha=alpha)


# The per-modality penalties are tuned inside fit, so the outer search has nothing to do.
register(MethodSpec("late_fusion", LateFusionRegression, tasks=("regression",)))
register(MethodSpec("late_fusion", LateFusionSurvival, tasks=("survival",)))
