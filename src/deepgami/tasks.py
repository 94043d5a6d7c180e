"""What an estimator predicts: targets, output width, loss, scores, metrics and prediction table.

The network, the training loop and the estimator ask a :class:`Task` for everything that
depends on the kind of phenotype, so a regression or survival estimator is a new task, not
a copy of :class:`~deepgami.DeepGAMIClassifier`. Today there is one: :class:`Classification`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score
from torch import Tensor

from .data import training_classes
from .metrics import classification_metrics

# Target of a (sample, member) pair that the member must not train on: its validation rows
# under cross-fitting (F.cross_entropy's default ignore_index).
HELD_OUT = -100


class Task(Protocol):
    """The phenotype-specific pieces of fitting and predicting.

    Shapes: ``outputs`` (n, n_outputs) network outputs of one member, ``targets`` (n,)
    encoded targets (``HELD_OUT`` where a member skips a sample), ``scores`` (n, n_outputs)
    predictions (class probabilities for a classification).
    """

    n_outputs: int
    validation_metric: str

    def loss(self, outputs: Tensor, targets: Tensor, weight: Tensor | None = None) -> Tensor:
        """Per-sample losses (n,), 0 where the target is ``HELD_OUT``."""

    def score(self, outputs: Tensor) -> Tensor:
        """Predictions (n, n_outputs) from outputs (n, n_outputs); works on any leading shape."""

    def validation_score(self, targets: np.ndarray, scores: np.ndarray) -> float:
        """The score early stopping reports beside the loss (higher is better)."""

    def metrics(self, truth: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
        """Report metrics of predictions against the original (not encoded) targets."""

    def prediction_table(self, samples: pd.Index, scores: np.ndarray) -> pd.DataFrame:
        """One row per sample: ``sample``, then the task's prediction columns."""


@dataclass
class Classification:
    """Classes of a categorical phenotype: softmax outputs, (weighted) cross-entropy.

    ``classes`` (n_classes,) are the sorted training labels; targets are indices into them.
    """

    classes: np.ndarray
    validation_metric = "val_bacc"

    @classmethod
    def from_labels(cls, labels: pd.Series | None) -> tuple[Classification, np.ndarray]:
        """The task of training labels and their codes (n,); InputError for < 2 classes."""
        classes, codes = training_classes(labels)
        return cls(classes), codes

    @property
    def n_outputs(self) -> int:
        return len(self.classes)

    def loss(self, outputs: Tensor, targets: Tensor, weight: Tensor | None = None) -> Tensor:
        return F.cross_entropy(outputs, targets, weight=weight, reduction="none", ignore_index=HELD_OUT)

    def score(self, outputs: Tensor) -> Tensor:
        return torch.softmax(outputs, dim=-1)

    def validation_score(self, targets: np.ndarray, scores: np.ndarray) -> float:
        with warnings.catch_warnings():
            # A small validation set may miss a predicted class; the score stays defined.
            warnings.simplefilter("ignore", UserWarning)
            return float(balanced_accuracy_score(targets, scores.argmax(axis=1)))

    def metrics(self, truth: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
        return classification_metrics(truth, scores, self.classes)

    def prediction_table(self, samples: pd.Index, scores: np.ndarray) -> pd.DataFrame:
        """``sample``, ``predicted``, then ``p_<class>`` per class."""
        table = pd.DataFrame({"sample": samples, "predicted": self.classes[scores.argmax(axis=1)]})
        for i, c in enumerate(self.classes):
            table[f"p_{c}"] = scores[:, i]
        return table
