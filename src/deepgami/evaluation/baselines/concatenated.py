"""One scikit-learn estimator on the concatenated features of all modalities.

``logistic_l2``, ``logistic_lasso``, ``random_forest``, ``svm``, ``mlp``: the estimator sits behind
a Pipeline StandardScaler -> SimpleImputer -> estimator fit on the training rows only. Values a
sample lacks (a whole unobserved modality or single NaNs) become the training mean: the scaler
ignores NaN when fitting, the imputer then fills the scaled mean, 0.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ...data import MultiOmicsData, training_classes
from ..methods import MethodSpec, register
from ._common import _check_fitted, _feature_names, _full_proba, _modality_values, _resolve_modalities, logistic_regression


class ConcatenatedBaseline:
    """One scikit-learn classifier on the concatenated features of every modality.

    The Pipeline StandardScaler -> SimpleImputer(mean) -> estimator is fit on the training
    rows only (``pipeline_``). Samples lacking a modality get the training means of its
    features. ``use_modalities`` must name exactly the modalities the model was fit on: to
    predict from fewer, refit on them (``supports_missing_modalities`` is False).
    """

    supports_missing_modalities = False

    def __init__(self, *, graph=None, random_state=None) -> None:
        self.graph = graph
        self.random_state = random_state

    def _estimator(self, codes: np.ndarray):
        raise NotImplementedError

    def fit(self, train: MultiOmicsData) -> ConcatenatedBaseline:
        """Fit on the rows of ``train`` (labels required)."""
        self.classes_, codes = training_classes(train.labels)
        self.modalities_ = train.modality_names
        self.feature_names_in_ = _feature_names(train)
        X = self._design(train)
        estimator = self._estimator(codes)
        self.pipeline_ = make_pipeline(
            StandardScaler(), SimpleImputer(strategy="mean", keep_empty_features=True), estimator
        ).fit(X, codes)
        return self

    def _design(self, data: MultiOmicsData) -> np.ndarray:
        return np.hstack([_modality_values(data, m, self.feature_names_in_[m]) for m in self.modalities_])

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order."""
        _check_fitted(self)
        _resolve_modalities(self, use_modalities, any_subset=False)
        return _full_proba(self.pipeline_, self._design(data), len(self.classes_))


class LogisticL2(ConcatenatedBaseline):
    """L2-penalised logistic regression (lbfgs) on concatenated features."""

    def __init__(self, *, graph=None, random_state=None, C: float = 1.0, max_iter: int = 5000) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.C = C
        self.max_iter = max_iter

    def _estimator(self, codes: np.ndarray):
        return logistic_regression(C=self.C, random_state=self.random_state, max_iter=self.max_iter)


class LogisticLasso(ConcatenatedBaseline):
    """L1-penalised (lasso) logistic regression on concatenated features (liblinear).

    More than two classes: one-vs-rest, probabilities normalised over the classes. The
    multinomial L1 fit (saga, the only solver for it) took 30-50 s per fit on 480 samples x
    3,150 features against well under a second for liblinear.
    """

    def __init__(self, *, graph=None, random_state=None, C: float = 1.0, max_iter: int = 5000) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.C = C
        self.max_iter = max_iter

    def _estimator(self, codes: np.ndarray):
        lasso = logistic_regression(C=self.C, l1=True, random_state=self.random_state, max_iter=self.max_iter)
        return lasso if len(np.unique(codes)) == 2 else OneVsRestClassifier(lasso)


class RandomForest(ConcatenatedBaseline):
    """Random forest on concatenated features."""

    def __init__(
        self, *, graph=None, random_state=None, n_estimators: int = 500, max_features: str | float = "sqrt"
    ) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.n_estimators = n_estimators
        self.max_features = max_features

    def _estimator(self, codes: np.ndarray):
        return RandomForestClassifier(
            n_estimators=self.n_estimators, max_features=self.max_features, random_state=self.random_state
        )


class SupportVectorMachine(ConcatenatedBaseline):
    """RBF-kernel SVM with Platt-scaled probabilities on concatenated features.

    ``SVC(probability=True)`` is deprecated since scikit-learn 1.9; its replacement, used here,
    is ``CalibratedClassifierCV(SVC(), method="sigmoid", ensemble=False)``: sigmoid (Platt)
    calibration fit on cross-validated decision values of the training rows (5 folds, as
    libsvm did), then one SVC refit on all training rows.
    """

    def __init__(self, *, graph=None, random_state=None, C: float = 1.0, gamma: str | float = "scale") -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.C = C
        self.gamma = gamma

    def _estimator(self, codes: np.ndarray):
        svc = SVC(C=self.C, gamma=self.gamma, kernel="rbf")
        n_splits = max(2, min(5, int(np.bincount(codes).min())))
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        return CalibratedClassifierCV(svc, method="sigmoid", cv=folds, ensemble=False)


class MultilayerPerceptron(ConcatenatedBaseline):
    """Feed-forward network (adam, no early stopping) on concatenated features."""

    def __init__(
        self,
        *,
        graph=None,
        random_state=None,
        hidden_layer_sizes: Sequence[int] = (64,),
        alpha: float = 1e-2,
        max_iter: int = 2000,
    ) -> None:
        super().__init__(graph=graph, random_state=random_state)
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.max_iter = max_iter

    def _estimator(self, codes: np.ndarray):
        return MLPClassifier(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            early_stopping=False,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )


register(MethodSpec("logistic_l2", LogisticL2, grid={"C": [0.01, 0.1, 1.0, 10.0]}))
register(MethodSpec("logistic_lasso", LogisticLasso, grid={"C": [0.05, 0.1, 0.5, 1.0]}))
register(
    MethodSpec("random_forest", RandomForest, grid={"n_estimators": [200, 500], "max_features": ["sqrt", 0.1]})
)
register(MethodSpec("svm", SupportVectorMachine, grid={"C": [0.1, 1.0, 10.0, 100.0]}))
register(
    MethodSpec("mlp", MultilayerPerceptron, grid={"hidden_layer_sizes": [(32,), (128,)], "alpha": [1e-2, 1.0]})
)
