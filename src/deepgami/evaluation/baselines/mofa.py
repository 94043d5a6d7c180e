"""``mofa_lr``: MOFA+ factors learned on the training rows, then an L2 logistic regression on them.

MOFA has no out-of-sample transform; every sample's factors, training rows included, are the
least-squares projection of its scaled data on the learned weights.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from typing import Sequence

import numpy as np
from sklearn.preprocessing import StandardScaler

from ...data import MultiOmicsData, training_classes
from ...errors import InputError
from ..methods import MethodSpec, register
from ._common import _check_fitted, _feature_names, _full_proba, _modality_values, _resolve_modalities, logistic_regression

log = logging.getLogger(__name__)


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


register(MethodSpec("mofa_lr", MofaLogistic, grid={"factors": [5, 10]}))
