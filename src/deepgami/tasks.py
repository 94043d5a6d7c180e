"""What an estimator predicts: targets, output width, loss, scores, metrics and prediction table.

The network, the training loop and the estimators ask a :class:`Task` for everything that
depends on the kind of phenotype:

- :class:`Classification`: classes, softmax outputs, (weighted) cross-entropy;
- :class:`Regression`: a number, standardised on the training rows, squared error or Huber loss;
- :class:`Survival`: time to an event with right censoring, Cox partial likelihood (Efron ties),
  a log-risk score, survival curves from a Breslow baseline hazard;
- :class:`MultiTarget`: several of those at once, one block of outputs and one weighted loss each.

Targets travel per member slot: ``y`` of shape (n, n_slots) + ``target_shape`` (the slot axis
may be absent, then every slot shares the targets). A (sample, slot) pair a member must not train
on (its validation rows under cross-fitting) holds the task's held-out code: ``HELD_OUT`` for a
class, NaN for a value or a survival time.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score, r2_score
from torch import Tensor

from .data import training_classes
from .errors import InputError
from .metrics import classification_metrics, regression_metrics, survival_metrics

# Target of a (sample, member) pair that the member must not train on: its validation rows
# under cross-fitting (F.cross_entropy's default ignore_index). Values and times use NaN.
HELD_OUT = -100

# Strata of a regression's stratified splits: quantile bins of the target.
REGRESSION_STRATA = 5


class Task(Protocol):
    """The phenotype-specific pieces of fitting and predicting.

    Shapes: ``outputs`` (n, n_slots, n_outputs) network outputs, ``y`` (n, n_slots) +
    ``target_shape`` encoded targets, ``scores`` (n, n_outputs) predictions (class
    probabilities, a value, a log-risk).
    """

    kind: ClassVar[str]
    loss_name: ClassVar[str]
    validation_metric: ClassVar[str]
    target_shape: ClassVar[tuple[int, ...]]
    # The loss couples rows (Cox risk sets): validation computes it once over the whole set.
    pooled_loss: ClassVar[bool]

    @property
    def n_outputs(self) -> int: ...

    @property
    def output_names(self) -> list[str]:
        """One name per score column: the classes, or the predicted quantity."""

    def strata(self, targets: np.ndarray) -> np.ndarray:
        """Integer codes (n,) that validation splits and member folds are stratified by."""

    def hold_out(self, targets: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        """``targets`` (n, n_slots, ...) with the held-out code where ``held_out`` (n, n_slots)."""

    def used(self, y: Tensor) -> Tensor:
        """Boolean (n, n_slots): the pairs that train (not held out)."""

    def loss_totals(self, y: Tensor, weight: Tensor | None = None) -> Tensor:
        """What the loss of a batch is averaged over per slot ((n_slots,), or (n_targets,
        n_slots)): rows, class weights or events, computed from a whole batch."""

    def loss(self, outputs: Tensor, y: Tensor, totals: Tensor, weight: Tensor | None = None) -> Tensor:
        """The loss per slot (n_slots,) of the rows of ``outputs``, averaged over ``totals``
        (:meth:`loss_totals` of the whole batch these rows belong to)."""

    def score(self, outputs: Tensor) -> Tensor:
        """Predictions from outputs; works on any leading shape."""

    def validation_score(self, truth: np.ndarray, scores: np.ndarray) -> float:
        """The score early stopping reports beside the loss (higher is better)."""

    def metrics(self, truth, scores: np.ndarray) -> dict:
        """Report metrics of predictions against the original (not encoded) targets."""

    def prediction_table(self, samples: pd.Index, scores: np.ndarray) -> pd.DataFrame:
        """One row per sample: ``sample``, then the task's prediction columns."""

    def state(self) -> dict:
        """What a saved model needs to rebuild the task (JSON values)."""


class _AveragedLoss:
    """``loss`` as ``loss_sums / totals`` for a task of one target (0 where a slot has no row)."""

    def loss(self, outputs: Tensor, y: Tensor, totals: Tensor, weight: Tensor | None = None) -> Tensor:
        return self.loss_sums(outputs, y, weight) / totals.to(outputs.device).clamp(min=1e-12)


def per_slot(y: Tensor, n_slots: int, target_shape: tuple[int, ...]) -> Tensor:
    """Targets per member slot, (n, n_slots) + target_shape: ``y`` as given if it has the slot axis, else repeated."""
    if y.dim() == 2 + len(target_shape):
        return y
    return y.unsqueeze(1).expand(y.shape[0], n_slots, *target_shape)


def has_slot_axis(y: Tensor, target_shape: tuple[int, ...]) -> bool:
    """Whether targets ``y`` carry a member-slot axis after the sample axis."""
    return y.dim() == 2 + len(target_shape)


@dataclass
class Classification(_AveragedLoss):
    """Classes of a categorical phenotype: softmax outputs, (weighted) cross-entropy.

    ``classes`` (n_classes,) are the sorted training labels; targets are indices into them.
    """

    classes: np.ndarray
    kind: ClassVar[str] = "classification"
    loss_name: ClassVar[str] = "ce"
    validation_metric: ClassVar[str] = "val_bacc"
    target_shape: ClassVar[tuple[int, ...]] = ()
    pooled_loss: ClassVar[bool] = False

    @classmethod
    def from_labels(cls, labels: pd.Series | None) -> tuple[Classification, np.ndarray]:
        """The task of training labels and their codes (n,); InputError for < 2 classes."""
        classes, codes = training_classes(labels)
        return cls(classes), codes

    @property
    def n_outputs(self) -> int:
        return len(self.classes)

    @property
    def output_names(self) -> list:
        return list(self.classes)

    def strata(self, targets: np.ndarray) -> np.ndarray:
        return targets

    def hold_out(self, targets: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        return np.where(held_out, HELD_OUT, targets)

    def used(self, y: Tensor) -> Tensor:
        return y != HELD_OUT

    def loss_sums(self, outputs: Tensor, y: Tensor, weight: Tensor | None = None) -> Tensor:
        n, n_slots, n_classes = outputs.shape
        per_row = F.cross_entropy(outputs.reshape(-1, n_classes), y.reshape(-1), weight=weight, reduction="none", ignore_index=HELD_OUT)
        return per_row.view(n, n_slots).sum(dim=0)

    def loss_totals(self, y: Tensor, weight: Tensor | None = None) -> Tensor:
        used = self.used(y)
        if weight is None:
            return used.sum(dim=0).to(torch.float32)
        return (weight.to(y.device)[y.clamp(min=0)] * used).sum(dim=0).to(torch.float32)

    def score(self, outputs: Tensor) -> Tensor:
        return torch.softmax(outputs, dim=-1)

    def validation_score(self, truth: np.ndarray, scores: np.ndarray) -> float:
        with warnings.catch_warnings():
            # A small validation set may miss a predicted class; the score stays defined.
            warnings.simplefilter("ignore", UserWarning)
            return float(balanced_accuracy_score(truth, scores.argmax(axis=1)))

    def metrics(self, truth: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
        return classification_metrics(truth, scores, self.classes)

    def prediction_table(self, samples: pd.Index, scores: np.ndarray) -> pd.DataFrame:
        """``sample``, ``predicted``, then ``p_<class>`` per class."""
        table = pd.DataFrame({"sample": samples, "predicted": self.classes[scores.argmax(axis=1)]})
        for i, c in enumerate(self.classes):
            table[f"p_{c}"] = scores[:, i]
        return table

    def state(self) -> dict:
        return {"classes": self.classes.tolist()}


@dataclass
class Regression(_AveragedLoss):
    """A numeric phenotype: one output, the standardised target (``(y - mean) / scale`` of the
    training rows), squared error or Huber loss (``criterion``; Huber's ``delta`` in standard deviations)."""

    mean: float
    scale: float
    criterion: str = "squared_error"
    delta: float = 1.0
    kind: ClassVar[str] = "regression"
    validation_metric: ClassVar[str] = "val_r2"
    target_shape: ClassVar[tuple[int, ...]] = ()
    pooled_loss: ClassVar[bool] = False
    n_outputs: ClassVar[int] = 1
    output_names: ClassVar[list[str]] = ["predicted"]

    @classmethod
    def from_labels(cls, labels: pd.Series | None, criterion: str = "squared_error", delta: float = 1.0) -> tuple[Regression, np.ndarray]:
        """The task of numeric training labels and their standardised values (n,) float32."""
        values = numeric_labels(labels)
        scale = float(values.std())
        if not scale > 0:
            msg = f"the {len(values)} training labels all equal {values[0]:g}; a regression needs a target that varies"
            raise InputError(msg)
        task = cls(float(values.mean()), scale, criterion, delta)
        return task, ((values - task.mean) / task.scale).astype(np.float32)

    @property
    def loss_name(self) -> str:
        return "mse" if self.criterion == "squared_error" else "huber"

    def strata(self, targets: np.ndarray) -> np.ndarray:
        return value_strata(targets)

    def hold_out(self, targets: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        return np.where(held_out, np.nan, targets).astype(np.float32)

    def used(self, y: Tensor) -> Tensor:
        return ~torch.isnan(y)

    def loss_sums(self, outputs: Tensor, y: Tensor, weight: Tensor | None = None) -> Tensor:
        used = self.used(y)
        predicted, target = outputs[..., 0], torch.where(used, y, torch.zeros_like(y))
        if self.criterion == "squared_error":
            per_row = F.mse_loss(predicted, target, reduction="none")
        else:
            per_row = F.huber_loss(predicted, target, reduction="none", delta=self.delta)
        return (per_row * used).sum(dim=0)

    def loss_totals(self, y: Tensor, weight: Tensor | None = None) -> Tensor:
        return self.used(y).sum(dim=0).to(torch.float32)

    def score(self, outputs: Tensor) -> Tensor:
        return outputs * self.scale + self.mean

    def validation_score(self, truth: np.ndarray, scores: np.ndarray) -> float:
        return float(r2_score(truth * self.scale + self.mean, scores[:, 0])) if len(truth) > 1 else float("nan")

    def metrics(self, truth: np.ndarray, scores: np.ndarray) -> dict:
        return regression_metrics(np.asarray(truth, dtype=np.float64), scores[:, 0])

    def prediction_table(self, samples: pd.Index, scores: np.ndarray) -> pd.DataFrame:
        """``sample``, ``predicted``."""
        return pd.DataFrame({"sample": samples, "predicted": scores[:, 0]})

    def state(self) -> dict:
        return {"mean": self.mean, "scale": self.scale, "loss": self.criterion, "delta": self.delta}


@dataclass
class Survival(_AveragedLoss):
    """Time to an event under right censoring: one output, the log-risk ``eta`` (higher = earlier
    event), trained on the negative Cox partial log-likelihood with Efron's ties.

    ``train_time``/``train_event`` (n_train,) are the training rows' follow-up, kept for the
    metrics' censoring weights; ``baseline_times``/``baseline_hazard`` the Breslow cumulative
    baseline hazard at the event times of the training rows (set after fitting), from which
    ``S(t | x) = exp(-H0(t) * exp(eta(x)))``. Targets are (time, event) pairs; a
    held-out pair has a NaN time.
    """

    train_time: np.ndarray
    train_event: np.ndarray
    baseline_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    baseline_hazard: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kind: ClassVar[str] = "survival"
    loss_name: ClassVar[str] = "cox"
    validation_metric: ClassVar[str] = "val_c_index"
    target_shape: ClassVar[tuple[int, ...]] = (2,)
    pooled_loss: ClassVar[bool] = True
    n_outputs: ClassVar[int] = 1
    output_names: ClassVar[list[str]] = ["risk"]

    @classmethod
    def from_labels(cls, labels: pd.DataFrame | None) -> tuple[Survival, np.ndarray]:
        """The task of training (time, event) labels and their targets (n, 2) float32."""
        time, event = survival_labels(labels)
        if not event.any():
            msg = f"none of the {len(time)} training samples has an observed event (event = 1); a survival model needs events"
            raise InputError(msg)
        return cls(time, event), np.column_stack([time, event]).astype(np.float32)

    def strata(self, targets: np.ndarray) -> np.ndarray:
        return targets[:, 1].astype(np.int64)

    def hold_out(self, targets: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        held = np.array(targets, dtype=np.float32, copy=True)
        held[held_out, 0] = np.nan
        return held

    def used(self, y: Tensor) -> Tensor:
        return ~torch.isnan(y[..., 0])

    def loss_sums(self, outputs: Tensor, y: Tensor, weight: Tensor | None = None) -> Tensor:
        used = self.used(y)
        return torch.stack([cox_efron_loss(outputs[used[:, s], s, 0], y[used[:, s], s, 0], y[used[:, s], s, 1]) for s in range(y.shape[1])])

    def loss_totals(self, y: Tensor, weight: Tensor | None = None) -> Tensor:
        return (self.used(y) & (y[..., 1] > 0)).sum(dim=0).to(torch.float32)

    def score(self, outputs: Tensor) -> Tensor:
        return outputs

    def validation_score(self, truth: np.ndarray, scores: np.ndarray) -> float:
        from sksurv.metrics import concordance_index_censored

        event = truth[:, 1] > 0
        if not event.any():
            return float("nan")
        return float(concordance_index_censored(event, truth[:, 0], scores[:, 0])[0])

    def metrics(self, truth: pd.DataFrame | np.ndarray, scores: np.ndarray) -> dict:
        time, event = survival_labels(truth) if isinstance(truth, pd.DataFrame) else (truth[:, 0], truth[:, 1] > 0)
        return survival_metrics(
            time, event, scores[:, 0], train_time=self.train_time, train_event=self.train_event,
            survival=lambda times: self.survival_function(scores[:, 0], times),
        )  # fmt: skip

    def prediction_table(self, samples: pd.Index, scores: np.ndarray) -> pd.DataFrame:
        """``sample``, ``risk`` (the log-risk: higher means an earlier event)."""
        return pd.DataFrame({"sample": samples, "risk": scores[:, 0]})

    def fit_baseline(self, risk: np.ndarray) -> None:
        """Breslow's cumulative baseline hazard from the training rows' log-risks (n_train,)."""
        from sksurv.linear_model.coxph import BreslowEstimator

        # float64: scikit-survival subtracts risk-set sums from the total, which float32 risks ruin at late times.
        breslow = BreslowEstimator().fit(np.asarray(risk, dtype=np.float64), self.train_event, self.train_time)
        self.baseline_times = np.asarray(breslow.cum_baseline_hazard_.x, dtype=np.float64)
        self.baseline_hazard = np.asarray(breslow.cum_baseline_hazard_.y, dtype=np.float64)

    def survival_function(self, risk: np.ndarray, times: np.ndarray) -> np.ndarray:
        """``S(t | x)`` of samples with log-risks ``risk`` (n,) at ``times`` (m,): (n, m)."""
        at = np.searchsorted(self.baseline_times, np.asarray(times, dtype=np.float64), side="right") - 1
        hazard = np.where(at >= 0, self.baseline_hazard[np.clip(at, 0, None)], 0.0)
        return np.exp(-np.exp(np.asarray(risk, dtype=np.float64))[:, None] * hazard[None, :])

    def state(self) -> dict:
        return {
            "train_time": self.train_time.tolist(), "train_event": self.train_event.astype(int).tolist(),
            "baseline_times": self.baseline_times.tolist(), "baseline_hazard": self.baseline_hazard.tolist(),
        }  # fmt: skip


@dataclass
class MultiTarget:
    """Several phenotypes predicted by one model: one head output block and one loss per target,
    any mix of classification, regression and survival, the losses added with ``weights``.

    Targets are packed as float columns, one block per target in ``targets`` order: a class code
    (classification), a standardised value (regression), or time and event (survival); NaN
    where a sample lacks that target (or a member skips the sample), so a sample missing one
    target still trains the others. Head outputs follow the same order.
    """

    targets: dict[str, Classification | Regression | Survival]
    weights: dict[str, float]
    kind: ClassVar[str] = "multi"
    loss_name: ClassVar[str] = "targets"
    validation_metric: ClassVar[str] = "val_score"
    pooled_loss: ClassVar[bool] = False

    def __post_init__(self) -> None:
        self.pooled_loss = any(t.pooled_loss for t in self.targets.values())
        self.columns, self.outputs = {}, {}
        column = output = 0
        for name, task in self.targets.items():
            width = 2 if task.kind == "survival" else 1
            self.columns[name], self.outputs[name] = slice(column, column + width), slice(output, output + task.n_outputs)
            column, output = column + width, output + task.n_outputs
        self.target_shape = (column,)

    @property
    def n_outputs(self) -> int:
        return sum(t.n_outputs for t in self.targets.values())

    @property
    def output_names(self) -> list[str]:
        return [f"{name}:{o}" for name, task in self.targets.items() for o in task.output_names]

    def block(self, name: str, y):
        """Target ``name``'s targets in its own task's form from packed ``y`` (any leading shape)."""
        part = y[..., self.columns[name]]
        task = self.targets[name]
        if task.kind == "survival":
            return part
        part = part[..., 0]
        if task.kind == "regression":
            return part
        if isinstance(part, Tensor):
            return torch.where(torch.isnan(part), torch.full_like(part, HELD_OUT), part).long()
        return np.where(np.isnan(part), HELD_OUT, part).astype(np.int64)

    def strata(self, targets: np.ndarray) -> np.ndarray:
        """The first target's strata; samples without it form their own stratum."""
        name, task = next(iter(self.targets.items()))
        part = self.block(name, targets)
        present = task.used(torch.as_tensor(part)).numpy() if task.kind != "classification" else part != HELD_OUT
        own = task.strata(part[present])
        strata = np.full(len(targets), own.max() + 1 if len(own) else 0, dtype=np.int64)
        strata[present] = own
        return strata

    def hold_out(self, targets: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        held = np.array(targets, dtype=np.float32, copy=True)
        held[held_out] = np.nan
        return held

    def used(self, y: Tensor) -> Tensor:
        return torch.stack([t.used(self.block(n, y)) for n, t in self.targets.items()]).any(dim=0)

    def loss_totals(self, y: Tensor, weight: Tensor | None = None) -> Tensor:
        return torch.stack([t.loss_totals(self.block(n, y)) for n, t in self.targets.items()])

    def loss(self, outputs: Tensor, y: Tensor, totals: Tensor, weight: Tensor | None = None) -> Tensor:
        parts = [
            self.weights[n] * t.loss(outputs[..., self.outputs[n]], self.block(n, y), totals[i]) for i, (n, t) in enumerate(self.targets.items())
        ]
        return torch.stack(parts).sum(dim=0)

    def score(self, outputs: Tensor) -> Tensor:
        return torch.cat([t.score(outputs[..., self.outputs[n]]) for n, t in self.targets.items()], dim=-1)

    def validation_score(self, truth: np.ndarray, scores: np.ndarray) -> float:
        """The mean over targets of each target's validation score on the samples that have it."""
        values = []
        for name, task in self.targets.items():
            part = self.block(name, truth)
            present = part != HELD_OUT if task.kind == "classification" else ~np.isnan(part if part.ndim == 1 else part[:, 0])
            if present.sum() > 1:
                values.append(task.validation_score(part[present], scores[present][:, self.outputs[name]]))
        return float(np.nanmean(values)) if values and not np.isnan(values).all() else float("nan")

    def metrics(self, truth: pd.DataFrame, scores: np.ndarray) -> dict:
        """One block of the target's own metrics per target name, on the samples that have it."""
        result = {}
        for name, task in self.targets.items():
            labels = target_labels(truth, name, task.kind)
            present = np.asarray(labels.notna().all(axis=1) if labels.ndim == 2 else labels.notna())
            part = labels[present]
            result[name] = task.metrics(part if task.kind == "survival" else part.to_numpy(), scores[present][:, self.outputs[name]])
        return result

    def prediction_table(self, samples: pd.Index, scores: np.ndarray) -> pd.DataFrame:
        """``sample``, then each target's columns prefixed ``<target>_`` (e.g. ``age_predicted``, ``os_risk``)."""
        table = pd.DataFrame({"sample": samples})
        for name, task in self.targets.items():
            own = task.prediction_table(samples, scores[:, self.outputs[name]]).drop(columns="sample")
            table = pd.concat([table, own.add_prefix(f"{name}_")], axis=1)
        return table

    def state(self) -> dict:
        return {"targets": {n: {"kind": t.kind, **t.state()} for n, t in self.targets.items()}, "weights": self.weights}


def target_labels(labels: pd.DataFrame, name: str, kind: str) -> pd.Series | pd.DataFrame:
    """One target's labels from the table of several (columns ``<name>``, or ``<name>:time`` and
    ``<name>:event`` for survival): a Series, or a ``time``, ``event`` table."""
    if kind == "survival":
        return labels[[f"{name}:time", f"{name}:event"]].set_axis(["time", "event"], axis=1)
    return labels[name]


def value_strata(values: np.ndarray) -> np.ndarray:
    """``REGRESSION_STRATA`` quantile bins (n,) of numeric values: what splits of a regression are stratified by."""
    ranks = pd.Series(values).rank(method="first").to_numpy()
    return np.minimum(((ranks - 1) * REGRESSION_STRATA // len(values)).astype(np.int64), REGRESSION_STRATA - 1)


def label_strata(labels: pd.Series | pd.DataFrame, kind: str) -> np.ndarray:
    """What splits of a task's labels are stratified by (n,): the classes, quantile bins of a
    regression's values (:func:`value_strata`), survival's event indicator."""
    if kind == "regression":
        return value_strata(numeric_labels(labels))
    if kind == "survival":
        return survival_labels(labels)[1].astype(np.int64)
    return labels.to_numpy()


def cox_efron_loss(risk: Tensor, time: Tensor, event: Tensor) -> Tensor:
    """Negative Cox partial log-likelihood with Efron's handling of tied event times, summed over events.

    ``risk`` (n,) log-risks, ``time`` (n,) follow-up times, ``event`` (n,) 1 = observed, 0 = censored.
    Written here rather than taken from torchsurv: every member slot has its own rows and
    targets, so the loss is called per slot on masked rows, and sorting-free scatter sums keep
    it O(n log n) for whole validation sets.
    """
    if risk.numel() == 0 or not bool((event > 0).any()):
        return risk.sum() * 0.0
    shift = risk.detach().max()
    weight = torch.exp(risk - shift)
    times, group = torch.unique(time, sorted=True, return_inverse=True)  # ascending distinct times
    n_times = len(times)
    observed = (event > 0).to(risk.dtype)
    # Per distinct time: the risk set's weight (every row followed up at least that long), and
    # the number, weight and log-risk of the events at that time.
    at_time = torch.zeros(n_times, dtype=risk.dtype, device=risk.device).index_add(0, group, weight)
    at_risk = at_time.flip(0).cumsum(0).flip(0)
    deaths = torch.zeros_like(at_time).index_add(0, group, observed)
    death_weight = torch.zeros_like(at_time).index_add(0, group, weight * observed)
    # Efron: the l-th of d tied events (l = 0..d-1) sees the risk set less l/d of the tied events' weight.
    events = torch.nonzero(observed > 0).squeeze(1)
    event_group = group[events]
    order = torch.argsort(event_group, stable=True)
    sorted_group = event_group[order]
    first = torch.searchsorted(sorted_group, sorted_group, right=False)
    tie_rank = torch.empty_like(order)
    tie_rank[order] = torch.arange(len(order), device=risk.device) - first
    fraction = tie_rank.to(risk.dtype) / deaths[event_group]
    denominator = at_risk[event_group] - fraction * death_weight[event_group]
    return -((risk[events] - shift) - torch.log(denominator)).sum()


def numeric_labels(labels: pd.Series | None) -> np.ndarray:
    """Float64 values (n,) of regression labels; one-line InputError for missing or non-numeric ones."""
    if labels is None:
        msg = "fitting needs labels: pass y, or a MultiOmicsData with labels"
        raise InputError(msg)
    values = pd.to_numeric(labels, errors="coerce")
    bad = labels.index[values.isna() | ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))]
    if len(bad):
        shown = ", ".join(f"{s}={labels[s]!r}" for s in bad[:3])
        msg = f"a regression needs numeric labels; {len(bad)} of {len(labels)} are not finite numbers ({shown})"
        raise InputError(msg)
    return values.to_numpy(dtype=np.float64)


def survival_labels(labels: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """``time`` (n,) float64 and ``event`` (n,) bool of a table with columns time and event;
    one-line InputError for missing, negative or non-numeric times and events other than 0/1."""
    if labels is None:
        msg = "fitting needs labels: pass y, or a MultiOmicsData with labels"
        raise InputError(msg)
    if not isinstance(labels, pd.DataFrame) or not {"time", "event"} <= set(labels.columns):
        msg = "survival labels need two columns, time and event (1 = event observed, 0 = censored)"
        raise InputError(msg)
    time = pd.to_numeric(labels["time"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = labels.index[~np.isfinite(time) | (time < 0)]
    if len(bad):
        shown = ", ".join(f"{s}={labels.loc[s, 'time']!r}" for s in bad[:3])
        msg = f"survival times must be non-negative numbers; {len(bad)} of {len(time)} are not ({shown})"
        raise InputError(msg)
    event = pd.to_numeric(labels["event"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = labels.index[~np.isin(event, (0.0, 1.0))]
    if len(bad):
        shown = ", ".join(f"{s}={labels.loc[s, 'event']!r}" for s in bad[:3])
        msg = f"survival events must be 1 (event observed) or 0 (censored); {len(bad)} of {len(event)} are not ({shown})"
        raise InputError(msg)
    return time, event.astype(bool)


def task_from_state(kind: str, state: dict) -> Classification | Regression | Survival | MultiTarget:
    """The task a saved model describes (see ``state()``)."""
    if kind == "multi":
        targets = {name: task_from_state(sub.pop("kind"), sub) for name, sub in ((n, dict(s)) for n, s in state["targets"].items())}
        return MultiTarget(targets, {n: float(w) for n, w in state["weights"].items()})
    if kind == "classification":
        classes = np.asarray(state["classes"])
        # fit keeps string labels as objects (np.unique of a pandas column): so does load.
        return Classification(classes.astype(object) if classes.dtype.kind == "U" else classes)
    if kind == "regression":
        return Regression(float(state["mean"]), float(state["scale"]), state["loss"], float(state["delta"]))
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
    return Survival(arrays["train_time"], arrays["train_event"] > 0, arrays["baseline_times"], arrays["baseline_hazard"])
