"""Per-modality preprocessing, fit on training rows only (fit/transform objects)."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from torch import Tensor

from .data import MISSING_INT8
from .errors import InputError

SCALINGS = ("standard", "minmax", "log1p", "none")
MISSING = ("error", "mean")
# Values per column block when fitting or checking (64 MB of float32).
BLOCK_ENTRIES = 2**24


class ModalityScaler:
    """Impute, transform and scale one modality as ``x' = g(x) * scale_ + shift_``.

    Parameters
    ----------
    method : {"standard", "minmax", "log1p", "none"}
        ``standard`` centres and scales to unit variance, ``minmax`` maps to [0, 1], ``log1p``
        applies ``log(1 + x)`` (counts) then standardises, ``none`` leaves values as they are.
    missing : {"error", "mean"}
        What to do with NaNs (and missing calls, ``MISSING_INT8``, in int8 genotype tables):
        refuse them, or replace them by the training mean of the feature.
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
        self._names = None
        # (imputed value after scaling, scale, shift) per device, built on first use.
        self._tensors: dict[torch.device, tuple[Tensor, Tensor, Tensor]] = {}

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        """float32 values (int8 missing calls as NaN), checked, log-transformed if asked."""
        x = np.asarray(x)
        if x.dtype == np.int8:
            missing = x == MISSING_INT8
            x = x.astype(np.float32)
            x[missing] = np.nan
        else:
            x = x.astype(np.float32, copy=False)
        if not np.isfinite(x[~np.isnan(x)]).all():
            msg = f"modality '{self.name}' has infinite values; replace them before training"
            raise InputError(msg)
        if self.method == "log1p" and np.nanmin(x, initial=0.0) <= -1:
            msg = f"modality '{self.name}' has values <= -1, which log1p scaling cannot take; use scaling = 'standard'"
            raise InputError(msg)
        return np.log1p(x) if self.method == "log1p" else x

    def _refuse_missing(self, n_values: int, n_features: int, first: int) -> None:
        if n_values and self.missing == "error":
            example = str(self._names[first]) if self._names is not None else f"column {first}"
            msg = (
                f"modality '{self.name}' has {n_values} missing values (NaN) in {n_features} features, e.g. "
                f"'{example}'; remove them or set missing = \"mean\" for this modality to impute training means"
            )
            raise InputError(msg)

    def _blocks(self, x: np.ndarray, rows: np.ndarray | None):
        """Yield ``(columns, prepared float32 block)`` over column slices of ``x[rows]``.

        Blocks of about BLOCK_ENTRIES values keep a genome-scale int8 panel from ever being
        converted to float32 as a whole.
        """
        n_rows = x.shape[0] if rows is None else len(rows)
        step = max(1, BLOCK_ENTRIES // max(n_rows, 1))
        n_missing, missing_features, first = 0, 0, -1
        for start in range(0, x.shape[1], step):
            columns = slice(start, min(start + step, x.shape[1]))
            block = self._prepare(x[:, columns] if rows is None else x[:, columns][rows])
            nan_columns = np.isnan(block).any(axis=0)
            if nan_columns.any():
                n_missing += int(np.isnan(block).sum())
                missing_features += int(nan_columns.sum())
                first = first if first >= 0 else start + int(np.flatnonzero(nan_columns)[0])
            yield columns, block
        self._refuse_missing(n_missing, missing_features, first)

    def fit(self, x: np.ndarray, rows: np.ndarray | None = None, feature_names=None) -> ModalityScaler:
        """Learn imputation and scaling from the training rows ``x[rows]`` (all rows if None).

        ``x`` has shape (n_samples, n_features), float or int8; it is read in column blocks.
        """
        self._names, self._tensors = feature_names, {}
        n_features = x.shape[1]
        self.fill_ = np.zeros(n_features, dtype=np.float32)
        self.scale_ = np.ones(n_features, dtype=np.float32)
        self.shift_ = np.zeros(n_features, dtype=np.float32)
        for columns, block in self._blocks(x, rows):
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: filled with 0 below
                fill = np.nanmean(block, axis=0) if np.isnan(block).any() else block.mean(axis=0)
            fill = np.nan_to_num(fill, nan=0.0)
            self.fill_[columns] = fill
            block = np.where(np.isnan(block), fill, block)
            if self.method in ("standard", "log1p"):
                scaler = StandardScaler().fit(block)
                self.scale_[columns], self.shift_[columns] = 1.0 / scaler.scale_, -scaler.mean_ / scaler.scale_
            elif self.method == "minmax":
                scaler = MinMaxScaler().fit(block)
                self.scale_[columns], self.shift_[columns] = scaler.scale_, scaler.min_
        return self

    def check(self, x: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Raise :class:`InputError` if ``x[rows]`` holds values :meth:`transform` refuses."""
        for _ in self._blocks(x, rows):
            pass

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Apply the fitted imputation and scaling; returns float32 of the same shape."""
        x = self._prepare(x)
        nan_columns = np.isnan(x).any(axis=0)
        if nan_columns.any():
            self._refuse_missing(int(np.isnan(x).sum()), int(nan_columns.sum()), int(np.flatnonzero(nan_columns)[0]))
        x = np.where(np.isnan(x), self.fill_, x)
        return (x * self.scale_ + self.shift_).astype(np.float32)

    def transform_tensor(self, x: Tensor) -> Tensor:
        """:meth:`transform` for a tensor batch on any device, without checks (see :meth:`check`).

        ``x`` (n_rows, n_features) holds raw values, float or int8; returns float32. Written
        as few full passes as possible: at genome scale a batch is 64M values.
        """
        device = x.device
        if self._tensors.get(device) is None:
            fill, scale, shift = (torch.from_numpy(a).to(device) for a in (self.fill_, self.scale_, self.shift_))
            self._tensors[device] = (fill * scale + shift, scale, shift)
        filled, scale, shift = self._tensors[device]
        if x.dtype == torch.int8:
            missing = x == MISSING_INT8
            x = x.to(torch.float32)  # a new tensor: the passes below may work in place
            out = torch.log1p_(x) if self.method == "log1p" else x
            out = out.mul_(scale).add_(shift)
        else:
            missing = torch.isnan(x)
            x = x.to(torch.float32)
            out = torch.addcmul(shift, torch.log1p(x) if self.method == "log1p" else x, scale)
        if bool(missing.any()):
            rows, columns = missing.nonzero(as_tuple=True)
            out[rows, columns] = filled[columns]
        return out

    def get_state(self) -> dict[str, np.ndarray]:
        """Fitted arrays, for saving."""
        return {"fill": self.fill_, "scale": self.scale_, "shift": self.shift_}

    def set_state(self, state: dict[str, np.ndarray]) -> ModalityScaler:
        self.fill_ = np.asarray(state["fill"], dtype=np.float32)
        self.scale_ = np.asarray(state["scale"], dtype=np.float32)
        self.shift_ = np.asarray(state["shift"], dtype=np.float32)
        self._tensors = {}
        return self
