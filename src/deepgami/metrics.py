"""Classification metrics (scikit-learn) for reports."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score


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
