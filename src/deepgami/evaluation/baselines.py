"""Baseline methods compared with DeepGAMI, registered in :data:`~deepgami.evaluation.methods.REGISTRY` at import.

Every method follows the interface of :mod:`deepgami.evaluation.methods`: built by
``factory(*, graph, random_state, **params)`` (``graph`` is ignored: no baseline uses the
prior), ``fit(train)`` learns only from the rows of ``train``, ``predict_proba(data)``
returns one row per sample of ``data`` in ``data.samples`` order and one column per class in
``classes_`` order.

- ``logistic_l2``, ``logistic_lasso``, ``random_forest``, ``svm``, ``mlp``: one estimator on
  the concatenated features of all modalities, behind a Pipeline StandardScaler ->
  SimpleImputer -> estimator fit on the training rows only. Values a sample lacks (a whole
  unobserved modality or single NaNs) become the training mean: the scaler ignores NaN when
  fitting, the imputer then fills the scaled mean, 0.
- ``late_fusion``: one L2 logistic regression per modality (C tuned by an inner 3-fold CV on
  the training rows); a sample's probabilities are the mean over the modalities it has.
- ``mofa_lr``: MOFA+ factors learned on the training rows, then an L2 logistic regression on
  the factors. MOFA has no out-of-sample transform; every sample's factors, training rows
  included, are the least-squares projection of its scaled data on the learned weights.
- ``snf_label_propagation``: Similarity Network Fusion (:mod:`.snf`) over training + new
  samples (features only), then label propagation of the training labels (transductive).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import warnings
from typing import Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..data import MultiOmicsData, align_features, float_values, training_classes
from ..errors import InputError, preview
from .methods import MethodSpec, register
from .snf import affinity_matrix, label_propagation, snf

log = logging.getLogger(__name__)

# scikit-learn 1.8 deprecated ``penalty`` in favour of ``l1_ratio`` (FutureWarning when set).
_PENALTY_DEPRECATED = inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated"


def logistic_regression(*, C: float = 1.0, l1: bool = False, random_state=None, max_iter: int = 5000) -> LogisticRegression:
    """An L2 (lbfgs, multinomial) or L1 (liblinear, binary) logistic regression, spelled for the installed scikit-learn."""
    penalty = {"l1_ratio": 1.0 if l1 else 0.0} if _PENALTY_DEPRECATED else {"penalty": "l1" if l1 else "l2"}
    solver = "liblinear" if l1 else "lbfgs"
    return LogisticRegression(C=C, solver=solver, max_iter=max_iter, random_state=random_state, **penalty)


# ---------------------------------------------------------------------------- shared helpers
def _feature_names(train: MultiOmicsData) -> dict[str, list[str]]:
    return {m: [str(c) for c in frame.columns] for m, frame in train.modalities.items()}


def _modality_values(data: MultiOmicsData, name: str, features: Sequence[str]) -> np.ndarray:
    """Float64 array (n_samples, n_features) of one modality in ``features`` order; NaN rows where unobserved."""
    if name not in data.modalities:
        msg = f"the data lack modality '{name}' that the model was trained on (they hold {data.modality_names})"
        raise InputError(msg)
    values = float_values(align_features(data.modalities[name], features, name))
    values[~np.asarray(data.observed[name], dtype=bool)] = np.nan
    return values


def _resolve_modalities(method, use_modalities: Sequence[str] | None, *, any_subset: bool) -> list[str]:
    """The fitted modalities to predict from; a method without missing-modality support needs all of them."""
    fitted = method.modalities_
    if use_modalities is None:
        return list(fitted)
    if isinstance(use_modalities, str):
        use_modalities = [use_modalities]
    use = list(dict.fromkeys(use_modalities))
    unknown = [m for m in use if m not in fitted]
    if not use or unknown:
        msg = f"{type(method).__name__} was trained on modalities {fitted}; cannot predict from {use or 'none'}"
        raise InputError(msg)
    if not any_subset and set(use) != set(fitted):
        msg = (
            f"{type(method).__name__} was fit on modalities {fitted} and does not support missing modalities; "
            f"refit it on {use} to predict from them alone"
        )
        raise InputError(msg)
    return [m for m in fitted if m in use]


def _check_fitted(method) -> None:
    if not hasattr(method, "classes_"):
        msg = f"this {type(method).__name__} is not fitted yet; call fit first"
        raise NotFittedError(msg)


def _full_proba(estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """``predict_proba`` of a model fit on class codes, with zero columns for codes it never saw."""
    proba = np.zeros((X.shape[0], n_classes))
    proba[:, np.asarray(estimator.classes_, dtype=np.int64)] = estimator.predict_proba(X)
    return proba


def _inner_cv(codes: np.ndarray, n_splits: int, random_state) -> StratifiedKFold | None:
    """Stratified folds, fewer when the smallest class is small; None when it has a single sample."""
    n_splits = min(n_splits, int(np.bincount(codes).min()))
    if n_splits < 2:
        return None
    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


# ---------------------------------------------------------------- concatenated features
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


# ------------------------------------------------------------------------- late fusion
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


# ------------------------------------------------------------------------------ MOFA+
def _project(X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Least-squares factors Z minimising ||x - W z|| per sample over its observed features.

    ``X`` (n_samples, n_features) may hold NaN; samples are grouped by their pattern of
    observed features. A sample observing nothing gets the prior mean, 0.
    """
    Z = np.zeros((X.shape[0], weights.shape[1]))
    observed = ~np.isnan(X)
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.ravel() == p)
        if pattern.any():
            solution = np.linalg.lstsq(weights[pattern], X[np.ix_(rows, np.flatnonzero(pattern))].T, rcond=None)[0]
            Z[rows] = solution.T
    return Z


def _mofa_entry_point():
    """mofapy2's ``entry_point``, imported without its process-wide side effect."""
    try:
        # mofapy2.core.BayesNet calls warnings.filterwarnings("ignore") at import, silencing
        # every warning of the process from then on; catch_warnings restores the filters.
        with warnings.catch_warnings():
            from mofapy2.run.entry_point import entry_point
    except ImportError as error:
        msg = "mofa_lr needs mofapy2; install it with: pip install 'deepgami[evaluation]'"
        raise ImportError(msg) from error
    return entry_point


class MofaLogistic:
    """MOFA+ factors (mofapy2) fit on the training rows, then L2 logistic regression on them.

    Each modality is standardised with training-row statistics (features constant in the
    training rows are dropped) and MOFA+ (Gaussian likelihoods, ``factors`` factors, ARD and
    spike-and-slab priors on the weights, ``n_iterations`` at most, ``convergence_mode='fast'``,
    seeded from ``random_state``) learns the weights W on the training rows only; unobserved
    modalities are passed as missing values, which MOFA+ handles.

    Projection: MOFA+ has no out-of-sample transform, so a sample's factors are the least
    squares solution z of ``x = W z`` over its observed (scaled) features, W the weights of
    all modalities stacked. Training rows are projected the same way (rather than taking
    MOFA's posterior means), so the classifier sees factors computed as at prediction.
    """

    supports_missing_modalities = False

    def __init__(
        self, *, graph=None, random_state=None, factors: int = 10, C: float = 1.0, n_iterations: int = 200
    ) -> None:
        self.graph = graph
        self.random_state = random_state
        self.factors = factors
        self.C = C
        self.n_iterations = n_iterations

    def fit(self, train: MultiOmicsData) -> MofaLogistic:
        """Learn MOFA+ weights and the classifier on the rows of ``train``."""
        entry_point = _mofa_entry_point()
        self.classes_, codes = training_classes(train.labels)
        self.modalities_ = train.modality_names
        names = _feature_names(train)
        self.scalers_: dict[str, StandardScaler] = {}
        self.feature_names_in_: dict[str, list[str]] = {}
        views = []
        for m in self.modalities_:
            values = _modality_values(train, m, names[m])
            keep = np.nan_to_num(StandardScaler().fit(values).var_, nan=0.0) > 0
            if not keep.any():
                msg = f"modality '{m}' has no feature that varies across the training rows"
                raise InputError(msg)
            self.feature_names_in_[m] = [f for f, k in zip(names[m], keep) if k]
            self.scalers_[m] = StandardScaler().fit(values[:, keep])
            views.append(self.scalers_[m].transform(values[:, keep]))
        seed = int(np.random.default_rng(self.random_state).integers(2**31 - 1))
        buffer = io.StringIO()
        # mofapy2 prints its progress to stdout (kept at debug level in our log) and seeds
        # numpy's global generator: restore it so fitting leaves no trace on other code.
        state = np.random.get_state()
        try:
            with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
                # The spike-and-slab terms S log S of mofapy2's ELBO take log(0) when an inclusion
                # probability is exactly 0 or 1 (harmless: the ELBO stays finite); mofapy2 hides
                # these by ignoring every warning of the process, which we undo at import.
                warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"mofapy2\.")
                mofa = entry_point()
                mofa.set_data_options(scale_views=False, center_groups=True)
                mofa.set_data_matrix([[v] for v in views], likelihoods=["gaussian"] * len(views), views_names=list(self.modalities_))
                mofa.set_model_options(factors=int(self.factors), spikeslab_weights=True, ard_weights=True)
                mofa.set_train_options(
                    iter=int(self.n_iterations), convergence_mode="fast", seed=seed, quiet=True, verbose=False
                )
                mofa.build()
                mofa.run()
        finally:
            np.random.set_state(state)
            log.debug("mofapy2 output:\n%s", buffer.getvalue())
        self.weights_ = np.vstack([np.asarray(w) for w in mofa.model.nodes["W"].getExpectation()])
        self.classifier_ = logistic_regression(C=self.C, random_state=self.random_state).fit(
            self._factors(train), codes
        )
        return self

    def _factors(self, data: MultiOmicsData) -> np.ndarray:
        X = np.hstack(
            [
                self.scalers_[m].transform(_modality_values(data, m, self.feature_names_in_[m]))
                for m in self.modalities_
            ]
        )
        return _project(X, self.weights_)

    def transform(self, data: MultiOmicsData) -> np.ndarray:
        """Projected factors of shape (n_samples, n_factors)."""
        _check_fitted(self)
        return self._factors(data)

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order."""
        _check_fitted(self)
        _resolve_modalities(self, use_modalities, any_subset=False)
        return _full_proba(self.classifier_, self._factors(data), len(self.classes_))


# ------------------------------------------------------------------------------- SNF
class SNFLabelPropagation:
    """Similarity Network Fusion over training + new samples, then label propagation.

    SNF is transductive: :meth:`fit` stores the training rows, scaled with per-modality
    StandardScalers fit on them (``scalers_``), and their labels; :meth:`predict_proba` builds
    one affinity matrix per modality over the training rows followed by the rows of ``data``
    (features only: the labels of ``data`` are never read), fuses them (:func:`.snf.snf`) and
    propagates the training labels over the fused network (:func:`.snf.label_propagation`).
    Missing values (and unobserved modalities) become the training mean.
    """

    supports_missing_modalities = False

    def __init__(
        self,
        *,
        graph=None,
        random_state=None,
        K: int = 20,
        mu: float = 0.5,
        t: int = 20,
        alpha: float = 0.9,
    ) -> None:
        self.graph = graph
        self.random_state = random_state  # unused: SNF and label propagation are deterministic
        self.K = K
        self.mu = mu
        self.t = t
        self.alpha = alpha

    def fit(self, train: MultiOmicsData) -> SNFLabelPropagation:
        """Scale and store the training rows and labels."""
        self.classes_, self.codes_ = training_classes(train.labels)
        self.modalities_ = train.modality_names
        self.feature_names_in_ = _feature_names(train)
        self.scalers_: dict[str, Pipeline] = {}
        self.train_values_: dict[str, np.ndarray] = {}
        for m in self.modalities_:
            values = _modality_values(train, m, self.feature_names_in_[m])
            self.scalers_[m] = make_pipeline(StandardScaler(), SimpleImputer(strategy="mean", keep_empty_features=True))
            self.train_values_[m] = self.scalers_[m].fit_transform(values)
        return self

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes) from the fused train + ``data`` network."""
        _check_fitted(self)
        _resolve_modalities(self, use_modalities, any_subset=False)
        n_train = len(self.codes_)
        affinities = []
        for m in self.modalities_:
            new = self.scalers_[m].transform(_modality_values(data, m, self.feature_names_in_[m]))
            affinities.append(affinity_matrix(np.vstack([self.train_values_[m], new]), K=self.K, mu=self.mu))
        fused = snf(affinities, K=self.K, t=self.t)
        labels = np.concatenate([self.codes_, np.full(len(data), -1)])
        proba = label_propagation(fused, labels, len(self.classes_), alpha=self.alpha)
        return proba[n_train:]


# ------------------------------------------------------------------------------ registry
register(MethodSpec("logistic_l2", LogisticL2, grid={"C": [0.01, 0.1, 1.0, 10.0]}))
register(MethodSpec("logistic_lasso", LogisticLasso, grid={"C": [0.05, 0.1, 0.5, 1.0]}))
register(
    MethodSpec("random_forest", RandomForest, grid={"n_estimators": [200, 500], "max_features": ["sqrt", 0.1]})
)
register(MethodSpec("svm", SupportVectorMachine, grid={"C": [0.1, 1.0, 10.0, 100.0]}))
register(
    MethodSpec("mlp", MultilayerPerceptron, grid={"hidden_layer_sizes": [(32,), (128,)], "alpha": [1e-2, 1.0]})
)
# C is tuned inside fit (inner 3-fold CV per modality), so the outer search has nothing to do.
register(MethodSpec("late_fusion", LateFusion))
register(MethodSpec("mofa_lr", MofaLogistic, grid={"factors": [5, 10]}))
register(MethodSpec("snf_label_propagation", SNFLabelPropagation, grid={"K": [10, 20], "alpha": [0.5, 0.9]}))

__all__ = [
    "ConcatenatedBaseline",
    "LateFusion",
    "LogisticL2",
    "LogisticLasso",
    "MofaLogistic",
    "MultilayerPerceptron",
    "RandomForest",
    "SNFLabelPropagation",
    "SupportVectorMachine",
    "logistic_regression",
]
