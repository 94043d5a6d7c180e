"""Covariate design matrices for fold preprocessing: the encoding is learnt on the training rows, then applied to any rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..covariates import CovariateEncoder


class _CovariateDesign:
    """An intercept, the numeric covariates as they are and the others one-hot against their
    first training level (:class:`~deepgami.covariates.CovariateEncoder` without scaling)."""

    def __init__(self, encoder: CovariateEncoder) -> None:
        self.encoder = encoder
        self.columns = encoder.columns_

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> _CovariateDesign:
        return cls(CovariateEncoder(standardise=False).fit(frame))

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """(n_samples, 1 + len(columns)): the intercept, then the encoded covariates."""
        return np.hstack([np.ones((len(frame), 1)), self.encoder.transform(frame)])
