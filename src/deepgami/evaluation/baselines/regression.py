"""Regression baselines: one scikit-learn regressor on the concatenated features of all modalities.

- ``ridge``: L2-penalised linear regression (``Ridge``);
- ``lasso``: L1-penalised linear regression (``Lasso``);
- ``elastic_net``: both penalties (``ElasticNet``);
- ``random_forest``: a random forest of regression trees (``RandomForestRegressor``; the
  regression task's ``random_forest``, classification has its own);
- ``mlp``: a feed-forward network (``MLPRegressor``; the regression task's ``mlp``).

Each regressor sits behind a Pipeline StandardScaler -> SimpleImputer -> regressor fit on the
training rows only; values a sample lacks become the training mean. The target is
standardised on the training rows too (``(y - mean) / sd``), so the penalty grids mean the
same on any scale of the labels; predictions are returned on the labels' scale.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from sklearn.neural_network import MLPRegressor

from ...data import MultiOmicsData
from ...tasks import numeric_labels
from ..methods import MethodSpec, register
from ._common import _check_fitted, _concatenated, _feature_names, _resolve_modalities, _standardising


class ConcatenatedRegressor:
    """One scikit-learn regressor on the concatenated features of every modality.

    The Pipeline StandardScaler -> SimpleImputer(mean) -> regressor (``pipeline_``) is fit on
    the training rows with the standardised target. ``use_modalities`` must name exactly the
    modalities the model was fit on: to predict from fewer, refit on them
    (``supports_missing_modalities`` is False).
    """

    supports_missing_modalities = False
    output_names = ["predicted"]

    def __init__(self, *, graph=None, random_state=None) -> None:
        self.graph = graph
        self.random_state = random_state

    def _estimator(self):
        raise NotImplementedError

    def fit(self, train: MultiOmicsData) -> ConcatenatedRegressor:
        """Fit on the rows of ``train`` (numeric labels required)."""
        y = numeric_labels(train.labels)
        self.modalities_ = train.modality_names
        self.feature_names_in_ = _feature_names(train)
        self.target_mean_ = float(y.mean())
        self.target_scale_ = float(y.std()) or 1.0
        X = _concatenated(train, self.modalities_, self.feature_names_in_)
        self.pipeline_ = _standardising(self._estimator()).fit(X, (y - self.target_mean_) / self.target_scale_)
        return self

    def predict(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Predicted values (n_samples,) on the scale of the training labels."""
        _check_fitted(self, "pipeline_")
        _resolve_modalities(self, use_modalities, any_subset=False)
        X = _concatenated(data, self.modalities_, self.feature_names_in_)
        return self.pipeline_.predict(X) * self.target_scale_ + self.target_mean_

    def predict_scores(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Predicted values as one column (n_samples, 1)."""
        return self.predict(data, use_modalities=use_modalities)[:, None]


class RidgeRegression(ConcatenatedRegressor):
    """L2-penalised linear regression on concatenated features."""

    def __init__(self, *, graph=None, random_state=None, alpha: float = 10.0) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.alpha = alpha

    def _estimator(self):
        return Ridge(alpha=self.alpha)


class LassoRegression(ConcatenatedRegressor):
    """L1-penalised (lasso) linear regression on concatenated features (coordinate descent)."""

    def __init__(self, *, graph=None, random_state=None, alpha: float = 0.05, max_iter: int = 10000) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.alpha = alpha
        self.max_iter = max_iter

    def _estimator(self):
        return Lasso(alpha=self.alpha, max_iter=self.max_iter, random_state=self.random_state)


class ElasticNetRegression(ConcatenatedRegressor):
    """Elastic-net linear regression on concatenated features: ``alpha`` the penalty, ``l1_ratio`` its L1 share."""

    def __init__(self, *, graph=None, random_state=None, alpha: float = 0.1, l1_ratio: float = 0.5, max_iter: int = 10000) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.max_iter = max_iter

    def _estimator(self):
        return ElasticNet(alpha=self.alpha, l1_ratio=self.l1_ratio, max_iter=self.max_iter, random_state=self.random_state)


class RandomForestRegression(ConcatenatedRegressor):
    """Random forest of regression trees on concatenated features."""

    def __init__(
        self, *, graph=None, random_state=None, n_estimators: int = 300, max_features: str | float = "sqrt", min_samples_leaf: int = 1
    ) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf

    def _estimator(self):
        return RandomForestRegressor(
            n_estimators=self.n_estimators, max_features=self.max_features, min_samples_leaf=self.min_samples_leaf, random_state=self.random_state
        )


class MLPRegression(ConcatenatedRegressor):
    """Feed-forward network (adam, no early stopping) on concatenated features, squared error."""

    def __init__(
        self, *, graph=None, random_state=None, hidden_layer_sizes: Sequence[int] = (64,), alpha: float = 1e-2, max_iter: int = 2000
    ) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.max_iter = max_iter

    def _estimator(self):
        return MLPRegressor(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            early_stopping=False,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )


REGRESSION = ("regression",)
# Penalties act on standardised features and target: alpha means the same on any data set.
register(MethodSpec("ridge", RidgeRegression, grid={"alpha": [1.0, 10.0, 100.0, 1e3, 1e4, 1e5]}, tasks=REGRESSION))
register(MethodSpec("lasso", LassoRegression, grid={"alpha": [0.01, 0.03, 0.1, 0.3]}, tasks=REGRESSION))
register(MethodSpec("elastic_net", ElasticNetRegression, grid={"alpha": [0.03, 0.3], "l1_ratio": [0.2, 0.8]}, tasks=REGRESSION))
register(
    MethodSpec("random_forest", RandomForestRegression, grid={"max_features": ["sqrt", 0.33], "min_samples_leaf": [1, 5]}, tasks=REGRESSION)
)
register(MethodSpec("mlp", MLPRegression, grid={"hidden_layer_sizes": [(32,), (128,)], "alpha": [1e-2, 1.0]}, tasks=REGRESSION))
