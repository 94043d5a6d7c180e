"""``snf_label_propagation``: Similarity Network Fusion over training + new samples, then label propagation.

SNF (:mod:`.snf_fusion`) fuses the per-modality affinities of the training and new samples
(features only); the training labels are then propagated over the fused network (transductive).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ...data import MultiOmicsData, training_classes
from ..methods import MethodSpec, register
from ._common import _check_fitted, _feature_names, _modality_values, _resolve_modalities
from .snf_fusion import affinity_matrix, label_propagation, snf


class SNFLabelPropagation:
    """Similarity Network Fusion over training + new samples, then label propagation.

    SNF is transductive: :meth:`fit` stores the training rows, scaled with per-modality
    StandardScalers fit on them (``scalers_``), and their labels; :meth:`predict_proba` builds
    one affinity matrix per modality over the training rows followed by the rows of ``data``
    (features only: the labels of ``data`` are never read), fuses them
    (:func:`.snf_fusion.snf`) and propagates the training labels over the fused network
    (:func:`.snf_fusion.label_propagation`). Missing values (and unobserved modalities) become
    the training mean.
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


register(MethodSpec("snf_label_propagation", SNFLabelPropagation, grid={"K": [10, 20], "alpha": [0.5, 0.9]}))
