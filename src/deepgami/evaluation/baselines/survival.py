"""Survival baselines: one survival model on the concatenated features of all modalities.

- ``coxnet``: elastic-net penalised Cox regression (scikit-survival's
  ``CoxnetSurvivalAnalysis``); ``alpha_ratio`` is the penalty as a share of the smallest one
  that zeroes every coefficient, so the grid means the same on any data set;
- ``random_survival_forest``: scikit-survival's ``RandomSurvivalForest`` (log-rank splits);
- ``cox_ph``: a ridge-penalised Cox proportional-hazards model (lifelines' ``CoxPHFitter``,
  from ``pip install 'deepgami[evaluation]'``) on the first ``n_components`` principal
  components of the features: its Newton steps build a features x features Hessian, which a
  few thousand omics features would make far too slow.

Each model sits behind a StandardScaler -> SimpleImputer pipeline fit on the training rows
only; values a sample lacks become the training mean. Scores are risk scores, higher meaning an
earlier event (the linear predictor, a log-risk, for the Cox models; the forest's summed
cumulative hazard). Every model gives survival curves (``predict_survival_function``), so the
integrated Brier score is reported for each: Breslow baselines for the Cox models, the
forest's own ensemble curves.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from ...data import MultiOmicsData
from ...errors import InputError
from ...tasks import survival_labels
from ..methods import MethodSpec, register
from ._common import _check_fitted, _concatenated, _feature_names, _resolve_modalities, _standardising


def survival_target(labels: pd.DataFrame | None) -> np.ndarray:
    """scikit-survival's structured (event, time) array of survival labels (columns time, event)."""
    from sksurv.util import Surv

    time, event = survival_labels(labels)
    return Surv.from_arrays(event, time)


def step_values(grid: np.ndarray, values: np.ndarray, times: Sequence[float]) -> np.ndarray:
    """A right-continuous step function known at ascending ``grid`` (values (n, len(grid))) read at
    ``times``: (n, len(times)); 1 (nobody has had the event) before the first grid time."""
    at = np.searchsorted(np.asarray(grid, dtype=np.float64), np.asarray(times, dtype=np.float64), side="right") - 1
    out = np.ones((values.shape[0], len(at)))
    inside = at >= 0
    out[:, inside] = values[:, at[inside]]
    return out


def coxnet(l1_ratio: float, alpha_ratio: float, *, n_alphas: int = 30, max_iter: int = 100000):
    """A CoxnetSurvivalAnalysis whose path ends at ``alpha_ratio`` times the largest penalty, with
    Breslow baselines (for survival curves); its last alpha is the one it predicts with."""
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    return CoxnetSurvivalAnalysis(
        l1_ratio=l1_ratio, alpha_min_ratio=alpha_ratio, n_alphas=n_alphas, fit_baseline_model=True, max_iter=max_iter
    )


class ConcatenatedSurvival:
    """One survival model on the concatenated features of every modality.

    StandardScaler -> SimpleImputer(mean) (``preprocess_``) and the model (``model_``) are fit
    on the training rows. ``use_modalities`` must name exactly the modalities the model was fit
    on: to predict from fewer, refit on them (``supports_missing_modalities`` is False).
    """

    supports_missing_modalities = False
    output_names = ["risk"]

    def __init__(self, *, graph=None, random_state=None) -> None:
        self.graph = graph
        self.random_state = random_state

    def _fit_model(self, X: np.ndarray, y: np.ndarray):
        raise NotImplementedError

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(X)

    def _survival(self, X: np.ndarray, times: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, train: MultiOmicsData) -> ConcatenatedSurvival:
        """Fit on the rows of ``train`` (labels with columns time and event required)."""
        y = survival_target(train.labels)
        if not y["event"].any():
            msg = f"none of the {len(y)} training samples has an observed event; a survival model needs events"
            raise InputError(msg)
        self.modalities_ = train.modality_names
        self.feature_names_in_ = _feature_names(train)
        self.preprocess_ = _standardising()
        X = self.preprocess_.fit_transform(_concatenated(train, self.modalities_, self.feature_names_in_))
        self.model_ = self._fit_model(X, y)
        return self

    def _design(self, data: MultiOmicsData, use_modalities) -> np.ndarray:
        _check_fitted(self, "model_")
        _resolve_modalities(self, use_modalities, any_subset=False)
        return self.preprocess_.transform(_concatenated(data, self.modalities_, self.feature_names_in_))

    def predict(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Risk scores (n_samples,): higher means an earlier event."""
        return np.asarray(self._risk(self._design(data, use_modalities)), dtype=np.float64)

    def predict_scores(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Risk scores as one column (n_samples, 1)."""
        return self.predict(data, use_modalities=use_modalities)[:, None]

    def predict_survival_function(self, data: MultiOmicsData, times, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """``S(t | x)`` of shape (n_samples, len(times))."""
        return self._survival(self._design(data, use_modalities), np.asarray(times, dtype=np.float64))


class CoxNet(ConcatenatedSurvival):
    """Elastic-net Cox regression: ``l1_ratio`` the L1 share of the penalty, ``alpha_ratio`` the
    penalty as a share of the smallest one that zeroes every coefficient."""

    def __init__(self, *, graph=None, random_state=None, l1_ratio: float = 0.5, alpha_ratio: float = 0.2) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.l1_ratio = l1_ratio
        self.alpha_ratio = alpha_ratio

    def _fit_model(self, X: np.ndarray, y: np.ndarray):
        return coxnet(self.l1_ratio, self.alpha_ratio).fit(X, y)

    def _survival(self, X: np.ndarray, times: np.ndarray) -> np.ndarray:
        values = self.model_.predict_survival_function(X, return_array=True)
        return step_values(self.model_.unique_times_, values, times)


class RandomSurvivalForest(ConcatenatedSurvival):
    """Random survival forest (log-rank splits); risk = the ensemble's summed cumulative hazard."""

    def __init__(
        self, *, graph=None, random_state=None, n_estimators: int = 100, max_features: str | float = "sqrt", min_samples_leaf: int = 3
    ) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf

    def _fit_model(self, X: np.ndarray, y: np.ndarray):
        from sksurv.ensemble import RandomSurvivalForest as Forest

        forest = Forest(
            n_estimators=self.n_estimators, max_features=self.max_features, min_samples_leaf=self.min_samples_leaf, random_state=self.random_state
        )
        return forest.fit(X, y)

    def _survival(self, X: np.ndarray, times: np.ndarray) -> np.ndarray:
        values = self.model_.predict_survival_function(X, return_array=True)
        return step_values(self.model_.unique_times_, values, times)


class CoxPH(ConcatenatedSurvival):
    """Ridge-penalised Cox PH (lifelines) on the first ``n_components`` principal components of
    the standardised features (fewer when there are fewer samples or features); ``penalizer``
    is lifelines' L2 penalty."""

    def __init__(self, *, graph=None, random_state=None, n_components: int = 10, penalizer: float = 0.1) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.n_components = n_components
        self.penalizer = penalizer

    def _fit_model(self, X: np.ndarray, y: np.ndarray):
        try:
            from lifelines import CoxPHFitter
        except ImportError as error:
            msg = "cox_ph needs lifelines; install it with: pip install 'deepgami[evaluation]'"
            raise InputError(msg) from error
        k = max(1, min(self.n_components, X.shape[0] - 1, X.shape[1]))
        self.pca_ = PCA(n_components=k, random_state=self.random_state).fit(X)
        frame = self._frame(self.pca_.transform(X))
        frame["time"], frame["event"] = y["time"], y["event"].astype(int)
        with warnings.catch_warnings():
            # lifelines warns about its own convergence checks; the penalty keeps the fit defined.
            warnings.simplefilter("ignore")
            return CoxPHFitter(penalizer=self.penalizer).fit(frame, duration_col="time", event_col="event")

    @staticmethod
    def _frame(components: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(components, columns=[f"pc{i + 1}" for i in range(components.shape[1])])

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_log_partial_hazard(self._frame(self.pca_.transform(X))).to_numpy()

    def _survival(self, X: np.ndarray, times: np.ndarray) -> np.ndarray:
        # Breslow's step function, as for the other models (lifelines' own curves interpolate
        # between event times and fall below 1 before the first one).
        hazard = self.model_.baseline_cumulative_hazard_.iloc[:, 0]
        baseline = step_values(hazard.index.to_numpy(dtype=np.float64), np.exp(-hazard.to_numpy(dtype=np.float64))[None, :], times)
        partial = self.model_.predict_partial_hazard(self._frame(self.pca_.transform(X))).to_numpy(dtype=np.float64)
        return baseline ** partial[:, None]


SURVIVAL = ("survival",)
register(MethodSpec("coxnet", CoxNet, grid={"l1_ratio": [0.2, 0.9], "alpha_ratio": [0.03, 0.1, 0.4]}, tasks=SURVIVAL))
register(
    MethodSpec(
        "random_survival_forest", RandomSurvivalForest, grid={"max_features": ["sqrt", 0.1], "min_samples_leaf": [3, 10]}, tasks=SURVIVAL
    )
)
register(MethodSpec("cox_ph", CoxPH, grid={"n_components": [5, 20], "penalizer": [0.01, 0.1]}, tasks=SURVIVAL))
