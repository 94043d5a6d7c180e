"""Formatting shared by the benchmark reports."""

from __future__ import annotations

import numpy as np
import pandas as pd


def median_iqr(values: pd.Series, digits: int = 3, *, signed: bool = False) -> str:
    """``median [Q1, Q3]`` of the non-missing values (``-`` when there are none); ``signed``
    prints a sign on every number, for paired differences."""
    values = values.dropna()
    if values.empty:
        return "-"
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    fmt = f"{'+' if signed else ''}.{digits}f"
    return f"{q2:{fmt}} [{q1:{fmt}}, {q3:{fmt}}]"
