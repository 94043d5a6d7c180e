"""Plumbing shared by the torch baselines (:mod:`.varmole`, :mod:`.mogonet`).

Labels, features, scaling and the validation split for early stopping, behind the method
interface of :mod:`deepgami.evaluation.methods`. These methods cannot predict from a subset of
their modalities (``supports_missing_modalities`` is False); the evaluator refits them on each
single modality instead.
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from ...data import MultiOmicsData, align_features, training_classes
from ...errors import InputError, preview
from ...preprocessing import ModalityScaler
from ...splits import stratified_holdout
from ._common import _check_fitted, _check_modalities_present, _resolve_modalities

log = logging.getLogger(__name__)


class _TorchBaseline:
    """Data handling shared by the baselines: labels, features, scaling, validation split.

    Subclasses set ``scaling``, ``validation_fraction`` and ``random_state`` in ``__init__``.
    """

    supports_missing_modalities = False
    scaling: str | Mapping[str, str]
    validation_fraction: float
    random_state: int

    def _prepare_fit(self, train: MultiOmicsData) -> tuple[MultiOmicsData, np.ndarray, np.ndarray, np.ndarray]:
        """Set ``classes_``, ``modalities_``, ``feature_names_in_``, ``scalers_``.

        Returns ``(train, codes, fit_rows, val_rows)``: ``train`` restricted to the labelled
        samples observed in every modality, their class codes, and the positions of the rows
        that fit (scalers, weights) and of the validation rows (early stopping).
        """
        if train.labels is None:
            msg = f"{type(self).__name__} needs labels to fit"
            raise InputError(msg)
        self.modalities_ = train.modality_names
        self.feature_names_in_ = {m: train.modalities[m].columns.to_numpy(dtype=str) for m in self.modalities_}
        rows = self._complete_rows(train)
        rows = rows[np.asarray(train.labels.iloc[rows].notna())]
        if len(rows) < len(train):
            log.warning(
                "%s: dropped %d training samples that miss a label or a modality (it needs all of %s)",
                type(self).__name__,
                len(train) - len(rows),
                ", ".join(self.modalities_),
            )
        train = train.subset(rows)
        self.classes_, codes = training_classes(train.labels)
        fit_rows, val_rows = stratified_holdout(codes, self.validation_fraction, self.random_state)
        self.scalers_ = {}
        for m in self.modalities_:
            method = self.scaling if isinstance(self.scaling, str) else self.scaling.get(m, "standard")
            values = train.modalities[m].to_numpy()[fit_rows]
            self.scalers_[m] = ModalityScaler(method, "error", name=m).fit(values)
        return train, codes, fit_rows, val_rows

    @staticmethod
    def _complete_rows(data: MultiOmicsData) -> np.ndarray:
        complete = np.ones(len(data), dtype=bool)
        for mask in data.observed.values():
            complete &= np.asarray(mask)
        return np.flatnonzero(complete)

    def _inputs(self, data: MultiOmicsData, use_modalities: Sequence[str] | None = None) -> dict[str, Tensor]:
        """Scaled inputs (n_samples, n_features_m) per trained modality, in ``data.samples`` order."""
        _check_fitted(self)
        _resolve_modalities(self, use_modalities, any_subset=False)
        _check_modalities_present(self.modalities_, data)
        inputs = {}
        for m in self.modalities_:
            frame = align_features(data.modalities[m], self.feature_names_in_[m], m)
            observed = np.asarray(data.observed[m])
            if not observed.all():
                msg = (
                    f"{int((~observed).sum())} samples miss modality '{m}' ({preview(data.samples[~observed])}); "
                    f"{type(self).__name__} needs every modality it was trained on"
                )
                raise InputError(msg)
            inputs[m] = torch.from_numpy(self.scalers_[m].transform(frame.to_numpy()))
        return inputs


def _seed_everything(random_state: int) -> torch.Generator:
    torch.manual_seed(random_state)
    return torch.Generator().manual_seed(random_state)
