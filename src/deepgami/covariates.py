"""Covariates (age, sex, ancestry components, batch): numbers that enter a model but are not biology to prioritise.

:class:`CovariateEncoder` learns its encoding on the training rows only (numeric columns
centred and scaled, other columns one-hot against their first training level) and applies it
to any rows, refusing missing values and levels it never saw in one clear line each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError, preview


class CovariateEncoder:
    """Encode a samples x covariates table as a float matrix.

    Parameters
    ----------
    standardise : bool, default=True
        Centre and scale numeric columns by their training mean and standard deviation
        (False keeps them as they are, for linear adjustment with an intercept).

    Attributes
    ----------
    numeric_ : list of str, the numeric columns
    categories_ : dict of column -> list of str, the training levels of the other columns
    columns_ : list of str, the encoded columns: numeric names, then ``<column>=<level>`` for
        every level but the first (the reference)
    mean_, scale_ : ndarray of shape (n_numeric,)
    """

    def __init__(self, standardise: bool = True) -> None:
        self.standardise = standardise

    def fit(self, frame: pd.DataFrame) -> CovariateEncoder:
        """Learn the encoding of the training rows of ``frame`` (samples x covariates)."""
        _check_complete(frame)
        self.numeric_, self.categories_, self.columns_ = [], {}, []
        for name in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):
                self.numeric_.append(str(name))
                self.columns_.append(str(name))
            else:
                levels = sorted(frame[name].astype(str).unique())
                self.categories_[str(name)] = levels
                self.columns_ += [f"{name}={level}" for level in levels[1:]]
        values = frame[self.numeric_].to_numpy(dtype=np.float64)
        self.mean_ = values.mean(axis=0) if self.standardise and len(values) else np.zeros(len(self.numeric_))
        scale = values.std(axis=0) if self.standardise and len(values) else np.ones(len(self.numeric_))
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The encoded rows of ``frame``: float64 (n_samples, len(``columns_``))."""
        absent = [c for c in (*self.numeric_, *self.categories_) if c not in frame.columns]
        if absent:
            msg = f"the covariates lack column(s) {preview(absent)}, which the model was trained with"
            raise InputError(msg)
        _check_complete(frame[[*self.numeric_, *self.categories_]])
        parts = [(frame[self.numeric_].to_numpy(dtype=np.float64) - self.mean_) / self.scale_]
        for name, levels in self.categories_.items():
            values = frame[name].astype(str)
            unseen = sorted(set(values) - set(levels))
            if unseen:
                msg = f"covariate '{name}' has values never seen in the training rows ({preview(unseen)}); known values: {preview(levels, 5)}"
                raise InputError(msg)
            parts.append((values.to_numpy()[:, None] == np.asarray(levels[1:])[None, :]).astype(np.float64))
        return np.hstack(parts) if parts else np.zeros((len(frame), 0))

    def get_state(self) -> dict:
        """JSON values that :meth:`from_state` rebuilds the fitted encoder from."""
        return {
            "standardise": self.standardise, "numeric": self.numeric_, "categories": self.categories_,
            "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
        }  # fmt: skip

    @classmethod
    def from_state(cls, state: dict) -> CovariateEncoder:
        encoder = cls(bool(state["standardise"]))
        encoder.numeric_, encoder.categories_ = list(state["numeric"]), {k: list(v) for k, v in state["categories"].items()}
        encoder.columns_ = encoder.numeric_ + [f"{name}={level}" for name, levels in encoder.categories_.items() for level in levels[1:]]
        encoder.mean_, encoder.scale_ = np.asarray(state["mean"], dtype=np.float64), np.asarray(state["scale"], dtype=np.float64)
        return encoder


def _check_complete(frame: pd.DataFrame) -> None:
    """One-line InputError naming the samples with a missing covariate value."""
    missing = frame.isna().any(axis=1)
    if missing.any():
        columns = [str(c) for c in frame.columns[frame.isna().any(axis=0)]]
        msg = (
            f"covariates are missing for {int(missing.sum())} samples ({preview(frame.index[missing])}; columns {preview(columns)}); "
            "fill them in or leave those samples out"
        )
        raise InputError(msg)
