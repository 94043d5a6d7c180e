"""Splits of a training set's rows by class: the early-stopping holdout and cross-fitting folds.

Shared by the estimator and every baseline that stops early, so all of them validate alike.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from .errors import InputError


def stratified_holdout(codes: np.ndarray, fraction: float, random_state: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions ``(fit_rows, val_rows)`` of a holdout of ``ceil(fraction * n)`` rows.

    Stratified by the class codes (n,) when every class has two samples, and then holding at
    least one sample of each class; ``fraction = 0`` holds out nothing. Raises
    :class:`InputError` when too few rows would be left to fit.
    """
    rows = np.arange(len(codes))
    if not fraction:
        return rows, rows[:0]
    counts = np.bincount(codes)
    n_validation = int(np.ceil(fraction * len(codes)))
    stratify = codes if counts.min() >= 2 else None
    if stratify is not None:
        n_validation = max(n_validation, len(counts))
    if n_validation >= len(codes) - len(counts):
        msg = f"{len(codes)} training samples are too few for a validation split; set validation_fraction = 0"
        raise InputError(msg)
    fit_rows, val_rows = train_test_split(rows, test_size=n_validation, stratify=stratify, random_state=random_state)
    return np.sort(fit_rows), np.sort(val_rows)


def stratified_folds(codes: np.ndarray, n_folds: int, random_state: int | None) -> np.ndarray | None:
    """Fold (0..n_folds-1) of every row (n,), stratified by class; None when a class has
    fewer than ``n_folds`` samples."""
    if np.bincount(codes).min() < n_folds:
        return None
    folds = np.empty(len(codes), dtype=np.int64)
    splitter = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    for fold, (_, rows) in enumerate(splitter.split(np.zeros(len(codes)), codes)):
        folds[rows] = fold
    return folds
