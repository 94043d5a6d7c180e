"""Report metrics with percentile-bootstrap 95 % intervals: classification (scikit-learn),
regression (scikit-learn, scipy) and survival (scikit-survival, imported on first use)."""

from __future__ import annotations

import logging
import warnings
from typing import Callable

import numpy as np
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

Metrics = dict[str, float | list[float] | int | None]
SURVIVAL_KEYS = ("c_index", "c_index_uno", "integrated_brier_score")

log = logging.getLogger(__name__)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, float | None]:
    """Accuracy, balanced accuracy, ROC AUC (one-vs-rest macro for > 2 classes) and macro F1.

    ``proba`` has shape (n_samples, n_classes) with columns in ``classes`` order. AUC is None
    when the true labels hold a single class.
    """
    y_true = np.asarray(y_true)
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    with warnings.catch_warnings():
        # Small test sets may lack a predicted class; sklearn warns, the numbers stay defined.
        warnings.simplefilter("ignore", UserWarning)
        result = {
            "acc": float(accuracy_score(y_true, predicted)),
            "bacc": float(balanced_accuracy_score(y_true, predicted)),
            "f1": float(f1_score(y_true, predicted, average="macro", labels=classes, zero_division=0)),
        }
    present = np.unique(y_true)
    if len(present) < 2:
        result["auc"] = None
    elif len(classes) == 2:
        result["auc"] = float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    else:
        keep = np.isin(classes, present)
        scores = proba[:, keep] / proba[:, keep].sum(axis=1, keepdims=True)
        result["auc"] = float(roc_auc_score(y_true, scores, multi_class="ovr", labels=np.asarray(classes)[keep]))
    result["n"] = int(len(y_true))
    return result


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, *, n_boot: int = 200, random_state: int = 0) -> Metrics:
    """R², Pearson and Spearman correlation, mean absolute and root mean squared error.

    Each metric comes with ``<metric>_ci95``: the 2.5th and 97.5th percentiles of the metric over
    ``n_boot`` resamples of the rows drawn with replacement (None without a defined resample).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Observed and predicted values.
    n_boot : int, default=200
        Bootstrap resamples; 0 skips the intervals.
    random_state : int, default=0
        Seed of the resampling (:func:`numpy.random.default_rng`).

    Returns
    -------
    dict
        ``r2``, ``pearson``, ``spearman``, ``mae``, ``rmse`` (float, or None when undefined: R²
        needs at least two distinct observed values, the correlations also two distinct
        predictions), each with its ``_ci95`` ``[low, high]``, and ``n``.
    """
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {len(y_true)} != {len(y_pred)}")

    def statistics(rows: np.ndarray) -> dict[str, float | None]:
        observed, predicted = y_true[rows], y_pred[rows]
        varied = len(rows) >= 2 and np.ptp(observed) > 0
        correlated = varied and np.ptp(predicted) > 0
        with warnings.catch_warnings():
            # Nearly constant resamples: scipy warns, the coefficient is still returned.
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            return {
                "r2": float(r2_score(observed, predicted)) if varied else None,
                "pearson": _finite(stats.pearsonr(observed, predicted)[0]) if correlated else None,
                "spearman": _finite(stats.spearmanr(observed, predicted)[0]) if correlated else None,
                "mae": float(mean_absolute_error(observed, predicted)) if len(rows) else None,
                "rmse": float(root_mean_squared_error(observed, predicted)) if len(rows) else None,
            }

    return {**_with_bootstrap(statistics, len(y_true), n_boot, random_state), "n": len(y_true)}


def survival_metrics(
    time: np.ndarray,
    event: np.ndarray,
    risk: np.ndarray,
    *,
    train_time: np.ndarray,
    train_event: np.ndarray,
    survival: Callable[[np.ndarray], np.ndarray] | None = None,
    n_boot: int = 200,
    random_state: int = 0,
) -> Metrics:
    """Harrell's and Uno's concordance index and the integrated Brier score of test rows.

    Each metric comes with ``<metric>_ci95``: the 2.5th and 97.5th percentiles of the metric over
    ``n_boot`` resamples of the test rows drawn with replacement; resamples where the metric is
    undefined (no event, no comparable pair) are skipped, and the interval is None if all were.

    Uno's C weights each test event by the inverse probability of remaining uncensored, from the
    Kaplan-Meier estimate of the training rows' censoring, and counts only events before the
    largest training time (``tau``), where that estimate is defined. The integrated Brier score
    averages the inverse-probability-of-censoring weighted Brier score over 50 times spread
    between the 10th and 90th percentile of the test times within the training follow-up, on
    the test rows followed up less long than the longest training row (where the censoring
    weights are defined).

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Follow-up times of the test rows.
    event : array-like of shape (n_samples,)
        True (or 1) where the event was observed, False (0) where the row was censored.
    risk : array-like of shape (n_samples,)
        Predicted risk; higher means an earlier event.
    train_time, train_event : array-like of shape (n_train,)
        The training rows' follow-up, for the censoring distribution.
    survival : callable, optional
        ``survival(times)`` returns an array of shape (n_samples, len(times)): each test row's
        predicted probability of surviving past each time. Without it the Brier score is None.
    n_boot : int, default=200
        Bootstrap resamples; 0 skips the intervals.
    random_state : int, default=0
        Seed of the resampling (:func:`numpy.random.default_rng`).

    Returns
    -------
    dict
        ``c_index``, ``c_index_uno``, ``integrated_brier_score`` (float, or None when undefined:
        no test event, no comparable pair, no test event before ``tau`` for Uno's C, no training
        event for Uno's C and the Brier score), each with its ``_ci95`` ``[low, high]``, ``n``
        and ``n_events``.
    """
    from sksurv.exceptions import NoComparablePairException
    from sksurv.metrics import concordance_index_censored, concordance_index_ipcw, integrated_brier_score
    from sksurv.util import Surv

    time, event, risk = np.asarray(time, dtype=float).ravel(), _events(event), np.asarray(risk, dtype=float).ravel()
    if not len(time) == len(event) == len(risk):
        raise ValueError(f"time, event and risk differ in length: {len(time)}, {len(event)}, {len(risk)}")
    train_time, train_event = np.asarray(train_time, dtype=float).ravel(), _events(train_event)
    train = Surv.from_arrays(train_event, train_time) if train_event.any() else None
    tau = float(train_time.max()) if len(train_time) else 0.0
    grid = _brier_grid(time, train_time) if survival is not None and train is not None else None
    predicted = None
    if grid is not None:
        predicted = np.asarray(survival(grid), dtype=float)
        if predicted.shape != (len(time), len(grid)):
            raise ValueError(f"survival(times) returned shape {predicted.shape}, expected {(len(time), len(grid))}")
        if not np.isfinite(predicted).all():
            # A model whose survival curves overflowed (a huge risk) has no Brier score, rather than a wrong one.
            bad = int((~np.isfinite(predicted)).sum())
            log.warning("%d of %d predicted survival probabilities are not finite: no integrated Brier score", bad, predicted.size)
            predicted = None

    def concordance(compute: Callable[[], tuple]) -> float | None:
        try:
            with np.errstate(divide="ignore", invalid="ignore"):  # events with no later rows: 0 / 0
                return _finite(compute()[0])
        except NoComparablePairException:
            return None

    def statistics(rows: np.ndarray) -> dict[str, float | None]:
        t, e, r = time[rows], event[rows], risk[rows]
        result = dict.fromkeys(SURVIVAL_KEYS)
        if len(rows) < 2 or not e.any():
            return result
        test = Surv.from_arrays(e, t)
        result["c_index"] = concordance(lambda: concordance_index_censored(e, t, r))
        if train is not None and (e & (t < tau)).any():
            result["c_index_uno"] = concordance(lambda: concordance_index_ipcw(train, test, r, tau=tau))
        # The censoring weights exist only within the training follow-up: rows followed up
        # longer than every training row are left out of the Brier score.
        inside = t < tau
        if predicted is not None and inside.sum() >= 2 and t[inside].min() <= grid[0] and grid[-1] < t[inside].max():
            within = Surv.from_arrays(e[inside], t[inside])
            result["integrated_brier_score"] = _finite(integrated_brier_score(train, within, predicted[rows][inside], grid))
        return result

    result = _with_bootstrap(statistics, len(time), n_boot, random_state)
    return {**result, "n": len(time), "n_events": int(event.sum())}


def _with_bootstrap(
    statistics: Callable[[np.ndarray], dict[str, float | None]], n: int, n_boot: int, random_state: int
) -> Metrics:
    """``statistics`` of all ``n`` rows, each followed by ``<key>_ci95``: its percentile bootstrap
    95 % interval over ``n_boot`` resamples of the rows (undefined, None, values skipped)."""
    point = statistics(np.arange(n))
    rng = np.random.default_rng(random_state)
    draws = [statistics(rng.integers(0, n, n)) for _ in range(n_boot)] if n else []
    result: Metrics = {}
    for key, value in point.items():
        values = [d[key] for d in draws if d[key] is not None]
        result[key] = value
        result[f"{key}_ci95"] = [float(v) for v in np.percentile(values, [2.5, 97.5])] if values else None
    return result


def _brier_grid(time: np.ndarray, train_time: np.ndarray, size: int = 50) -> np.ndarray | None:
    """``size`` times from the 10th to the 90th percentile of the test times within the training
    follow-up, below the largest test and training time (as scikit-survival requires); None if
    fewer than two remain."""
    inside = time[(time >= train_time.min()) & (time < train_time.max())] if len(train_time) else time[:0]
    if not len(inside):
        return None
    grid = np.unique(np.linspace(*np.percentile(inside, [10, 90]), size))
    grid = grid[grid < min(time.max(), train_time.max())]
    return grid if len(grid) >= 2 else None


def _events(event: np.ndarray) -> np.ndarray:
    event = np.asarray(event).ravel()
    if event.dtype != bool and not np.isin(event, [0, 1]).all():
        raise ValueError("event must be boolean or 0/1")
    return event.astype(bool)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
