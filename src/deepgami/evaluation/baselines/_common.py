"""Helpers shared by the scikit-learn baselines.

A logistic regression spelled for the installed scikit-learn, a modality's values as a float
array (n_samples, n_features), the modality and fitted checks, probabilities over every
training class, and (for the regression and survival baselines) the concatenated design and
its standardising pipeline.
"""

from __future__ import annotations

import inspect
from typing import Sequence

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ...data import MultiOmicsData, align_features, float_values
from ...errors import InputError

# scikit-learn 1.8 deprecated ``penalty`` in favour of ``l1_ratio`` (FutureWarning when set).
_PENALTY_DEPRECATED = inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated"


def logistic_regression(*, C: float = 1.0, l1: bool = False, random_state=None, max_iter: int = 5000) -> LogisticRegression:
    """An L2 (lbfgs, multinomial) or L1 (liblinear, binary) logistic regression, spelled for the installed scikit-learn."""
    penalty = {"l1_ratio": 1.0 if l1 else 0.0} if _PENALTY_DEPRECATED else {"penalty": "l1" if l1 else "l2"}
    solver = "liblinear" if l1 else "lbfgs"
    return LogisticRegression(C=C, solver=solver, max_iter=max_iter, random_state=random_state, **penalty)


def _feature_names(train: MultiOmicsData) -> dict[str, list[str]]:
    return {m: [str(c) for c in frame.columns] for m, frame in train.modalities.items()}


def _modality_values(data: MultiOmicsData, name: str, features: Sequence[str]) -> np.ndarray:
    """Float64 array (n_samples, n_features) of one modality in ``features`` order; NaN rows where unobserved."""
    _check_modalities_present([name], data)
    values = float_values(align_features(data.modalities[name], features, name))
    values[~np.asarray(data.observed[name], dtype=bool)] = np.nan
    return values


def _resolve_modalities(method, use_modalities: Sequence[str] | None, *, any_subset: bool) -> list[str]:
    """The fitted modalities to predict from; a method without missing-modality support needs all of them."""
    fitted = method.modalities_
    if use_modalities is None:
        return list(fitted)
    if isinstance(use_modalities, str):
        use_modalities = [use_modalities]
    use = list(dict.fromkeys(use_modalities))
    unknown = [m for m in use if m not in fitted]
    if not use or unknown:
        msg = f"{type(method).__name__} was trained on modalities {fitted}; cannot predict from {use or 'none'}"
        raise InputError(msg)
    if not any_subset and set(use) != set(fitted):
        msg = (
            f"{type(method).__name__} predicts only from all the modalities it was fit on ({', '.join(fitted)}); "
            f"refit it on {', '.join(use)} to predict from them alone"
        )
        raise InputError(msg)
    return [m for m in fitted if m in use]


def _check_modalities_present(names: Sequence[str], data: MultiOmicsData) -> None:
    """InputError naming the trained modalities ``names`` that ``data`` lacks."""
    absent = [m for m in names if m not in data.modalities]
    if absent:
        msg = f"the data lacks modalities {absent}, which the model was trained on (it holds {data.modality_names})"
        raise InputError(msg)


def _check_fitted(method, attribute: str = "classes_") -> None:
    if not hasattr(method, attribute):
        msg = f"this {type(method).__name__} is not fitted yet; call fit first"
        raise NotFittedError(msg)


def _full_proba(estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """``predict_proba`` of a model fit on class codes, with zero columns for codes it never saw."""
    proba = np.zeros((X.shape[0], n_classes))
    proba[:, np.asarray(estimator.classes_, dtype=np.int64)] = estimator.predict_proba(X)
    return proba


def _concatenated(data: MultiOmicsData, modalities: Sequence[str], features: dict[str, list[str]]) -> np.ndarray:
    """The modalities' values side by side (n_samples, sum of their features); NaN rows where unobserved."""
    return np.hstack([_modality_values(data, m, features[m]) for m in modalities])


def _standardising(*steps) -> Pipeline:
    """StandardScaler -> SimpleImputer(mean) -> ``steps``: values a sample lacks become the
    training mean (the scaler ignores NaN when fitting, the imputer then fills the scaled mean, 0)."""
    return make_pipeline(StandardScaler(), SimpleImputer(strategy="mean", keep_empty_features=True), *steps)
