"""Per-modality preprocessing, fit on training rows only (fit/transform objects)."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from .errors import InputError

SCALINGS = ("standard", "minmax", "log1p", "none")
MISSING = ("error", "mean")


class ModalityScaler:
    """Impute, transform and scale one modality as ``x' = g(x) * scale_ + shift_``.

    Parameters
    ----------
    method : {"standard", "minmax", "log1p", "none"}
        ``standard`` centres and scales to unit variance, ``minmax`` maps to [0, 1], ``log1p``
        applies ``log(1 + x)`` (counts) then standardises, ``none`` leaves values as they are.
    missing : {"error", "mean"}
        What to do with NaNs: refuse them, or replace them by the training mean of the feature.
    name : str
        Modality name used in error messages.

    Attributes
    ----------
    fill_ : ndarray of shape (n_features,), training means used for imputation
    scale_, shift_ : ndarray of shape (n_features,)
    """

    def __init__(self, method: str = "standard", missing: str = "error", name: str = "data") -> None:
        if method not in SCALINGS:
            msg = f"scaling for '{name}' must be one of {', '.join(SCALINGS)} (got {method!r})"
            raise InputError(msg)
        if missing not in MISSING:
            msg = f"missing for '{name}' must be one of {', '.join(MISSING)} (got {missing!r})"
            raise InputError(msg)
        self.method, self.missing, self.name = method, missing, name

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if not np.isfinite(x[~np.isnan(x)]).all():
            msg = f"modality '{self.name}' has infinite values; replace them before training"
            raise InputError(msg)
        if self.method == "log1p" and np.nanmin(x, initial=0.0) <= -1:
            msg = f"modality '{self.name}' has values <= -1, which log1p scaling cannot take; use scaling = 'standard'"
            raise InputError(msg)
        return np.log1p(x) if self.method == "log1p" else x

    def _check_missing(self, x: np.ndarray) -> None:
        n_missing = int(np.isnan(x).sum())
        if n_missing and self.missing == "error":
            msg = (
                f"modality '{self.name}' has {n_missing} missing values (NaN); remove them or set "
                f"missing = \"mean\" for this modality to impute training means"
            )
            raise InputError(msg)

    def fit(self, x: np.ndarray) -> ModalityScaler:
        """Learn imputation and scaling from training rows ``x`` of shape (n_samples, n_features)."""
        x = self._prepare(x)
        self._check_missing(x)
        with np.errstate(invalid="ignore"):
            fill = np.nanmean(x, axis=0) if np.isnan(x).any() else x.mean(axis=0)
        self.fill_ = np.nan_to_num(fill, nan=0.0).astype(np.float32)
        x = np.where(np.isnan(x), self.fill_, x)
        n_features = x.shape[1]
        if self.method in ("standard", "log1p"):
            scaler = StandardScaler().fit(x)
            self.scale_, self.shift_ = 1.0 / scaler.scale_, -scaler.mean_ / scaler.scale_
        elif self.method == "minmax":
            scaler = MinMaxScaler().fit(x)
            self.scale_, self.shift_ = scaler.scale_, scaler.min_
        else:
            self.scale_, self.shift_ = np.ones(n_features), np.zeros(n_features)
        self.scale_ = self.scale_.astype(np.float32)
        self.shift_ = self.shift_.astype(np.float32)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Apply the fitted imputation and scaling; returns float32 of the same shape."""
        x = self._prepare(x)
        self._check_missing(x)
        x = np.where(np.isnan(x), self.fill_, x)
        return (x * self.scale_ + self.shift_).astype(np.float32)

    def get_state(self) -> dict[str, np.ndarray]:
        """Fitted arrays, for saving."""
        return {"fill": self.fill_, "scale": self.scale_, "shift": self.shift_}

    def set_state(self, state: dict[str, np.ndarray]) -> ModalityScaler:
        self.fill_ = np.asarray(state["fill"], dtype=np.float32)
        self.scale_ = np.asarray(state["scale"], dtype=np.float32)
        self.shift_ = np.asarray(state["shift"], dtype=np.float32)
        return self
