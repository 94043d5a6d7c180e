"""Covariate design matrices: the encoding is learnt on the training rows, then applied to any rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, preview


@dataclass
class _CovariateDesign:
    """Training encoding of the covariates: numeric columns as they are, others one-hot."""

    numeric: list[str]
    categories: dict[str, list[str]]
    columns: list[str]

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> _CovariateDesign:
        numeric, categories, columns = [], {}, []
        for name in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[name]):
                numeric.append(name)
                columns.append(name)
            else:
                levels = sorted(frame[name].astype(str).unique())
                categories[name] = levels
                columns += [f"{name}={level}" for level in levels[1:]]  # first level is the reference
        return cls(numeric, categories, columns)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        parts = [frame[self.numeric].to_numpy(dtype=np.float64)]
        for name, levels in self.categories.items():
            values = frame[name].astype(str)
            unseen = sorted(set(values) - set(levels))
            if unseen:
                msg = (
                    f"covariate '{name}' has values never seen in the training rows ({preview(unseen)}); "
                    f"known values: {preview(levels, 5)}"
                )
                raise InputError(msg)
            parts.append((values.to_numpy()[:, None] == np.asarray(levels[1:])[None, :]).astype(np.float64))
        return np.hstack([np.ones((len(frame), 1)), *parts])
