"""Training loop, losses and early stopping for :class:`~deepgami.nn.DeepGAMINet` (no I/O)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import permutations
from typing import Mapping

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from .batches import Batchable, SampleStore
from .checkpoint import Checkpoint
from .distributed import process_count, process_rank
from .nn.model import DeepGAMINet
from .tasks import Task, has_slot_axis, per_slot

log = logging.getLogger(__name__)

# Rows per forward pass when evaluating a whole sample set without gradients.
EVAL_BATCH_SIZE = 512


# Early stopping watches the task's validation loss (cross-entropy for a classification: the
# primary task, on which the paper judges the model), not the total loss: the auxiliary MSE falls
# steadily as the latents shrink and dominated the total, so the restored epoch was past the CE minimum.
def monitor(task: Task) -> str:
    """The history key early stopping watches: ``val_ce``, ``val_mse``, ``val_huber`` or ``val_cox``."""
    return f"val_{task.loss_name}"


@dataclass
class TrainingSettings:
    """Optimiser and stopping settings; their defaults live in :mod:`deepgami.params` (see
    :class:`~deepgami.DeepGAMIClassifier`)."""

    lr: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    patience: int
    aux_weight: float
    modality_dropout: float
    edge_l1: float
    level_loss_weight: float

    @classmethod
    def of(cls, estimator) -> TrainingSettings:
        """The settings of an estimator's parameters (anything with these attributes)."""
        return cls(**{name: getattr(estimator, name) for name in cls.__dataclass_fields__})


def hide_modalities(observed: dict[str, Tensor], rate: float, generator: torch.Generator) -> dict[str, Tensor]:
    """Hide one random observed modality from each sample with probability ``rate``.

    Samples keep at least one modality; the classifier then learns from imputed latents too,
    which is what single-modality prediction feeds it.
    """
    names = list(observed)
    stacked = torch.stack([observed[m] for m in names], dim=1)  # (n_samples, n_modalities)
    n_samples = stacked.shape[0]
    scores = torch.rand(n_samples, len(names), generator=generator).to(stacked.device)
    scores = scores.masked_fill(~stacked, -1.0)
    victim = scores.argmax(dim=1)
    hide = (torch.rand(n_samples, generator=generator).to(stacked.device) < rate) & (stacked.sum(dim=1) > 1)
    hidden = stacked.clone()
    hidden[hide, victim[hide]] = False
    return {m: hidden[:, i] for i, m in enumerate(names)}


@dataclass
class LossTotals:
    """What one batch's losses are averaged over, per member slot: the task's total (rows,
    class weights or events) over the samples the slot trains on, and per ordered modality
    pair the number of those samples observed in both; and the batch's number of rows.

    Computed from the whole batch, so a batch split across processes gives every process
    the same denominators and their gradients add up to the one-process gradient.
    """

    rows: int
    task: Tensor
    pairs: dict[tuple[str, str], Tensor]

    @classmethod
    def of(cls, task: Task, y: Tensor, observed: Mapping[str, Tensor], class_weight: Tensor | None = None) -> LossTotals:
        """Totals of the samples with targets ``y`` (n,) + target_shape, or with a slot axis after
        n holding the task's held-out code where a slot skips a sample, and observed masks (n,)
        per modality."""
        y = y.cpu()
        y = y if has_slot_axis(y, task.target_shape) else y.unsqueeze(1)
        used = task.used(y)
        totals = task.loss_totals(y, None if class_weight is None else class_weight.cpu())
        pairs = {(a, b): ((observed[a] & observed[b]).cpu().unsqueeze(1) & used).sum(dim=0).to(torch.float32) for a, b in permutations(observed, 2)}
        return cls(len(y), totals, pairs)


class DeepGAMILoss(nn.Module):
    """The training objective as one module: per member, the task's loss (cross-entropy for
    a classification) on the completed latents plus ``aux_weight`` times the auxiliary MSE
    plus ``edge_l1`` times the summed absolute prior edge weights (a lasso on the edges: each
    latent node keeps few of its prior inputs) plus ``level_weight`` times the mean task loss
    of the level heads of a deep prior (deep supervision); the total is the sum over the members, so
    members never interact.

    A module (not a function) so DistributedDataParallel sees the whole computation as one
    forward. ``head_observed`` (default ``batch.observed``) hides modalities from the
    head while the auxiliary loss still uses every observed pair. Returns
    ``(total, task_loss, auxiliary, outputs)``: ``task_loss`` per member slot (n_slots,),
    the others summed over members, losses averaged over ``totals``; a call on part of the
    rows of ``totals`` carries that part of the edge penalty, so the parts of a batch (or of
    a validation set) add up to one penalty. A Cox loss couples the rows of a batch: each
    part (process) takes its risk sets within its own rows.
    """

    def __init__(
        self,
        net: DeepGAMINet,
        task: Task,
        aux_weight: float,
        class_weight: Tensor | None = None,
        edge_l1: float = 0.0,
        level_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.net, self.task, self.aux_weight, self.class_weight, self.edge_l1 = net, task, aux_weight, class_weight, edge_l1
        self.level_weight = level_weight if net.level_heads is not None else 0.0

    def forward(
        self, batch: Batchable, totals: LossTotals, head_observed: dict[str, Tensor] | None = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        z_dict = self.net.encode(batch.x_dict)
        full = self.net.complete(z_dict, head_observed or batch.observed)
        outputs, levels = self.net.classify(full, batch.covariates, with_levels=True)
        if not self.level_weight:
            levels = {}
        y = per_slot(batch.y, outputs.shape[1], self.task.target_shape)
        # A slot may train on none of a batch's rows (all held out): 0 / 0 counts as 0.
        task_loss = self.task.loss(outputs, y, totals.task, self.class_weight)
        member_rows = self.task.used(y).to(outputs.dtype) if has_slot_axis(batch.y, self.task.target_shape) else None
        auxiliary = self.net.auxiliary_loss(z_dict, batch.observed, totals.pairs, member_rows)
        total = task_loss.sum() + self.aux_weight * auxiliary
        if levels:
            level_losses = [self.task.loss(value, y, totals.task, self.class_weight).sum() for value in levels.values()]
            total = total + self.level_weight * torch.stack(level_losses).mean()
        if self.edge_l1:
            total = total + self.edge_l1 * self.net.edge_weight_l1() * (len(batch) / totals.rows)
        return total, task_loss, auxiliary, outputs


class EarlyStopping:
    """Early stopping on a validation loss, shared by DeepGAMI and the torch baselines.

    A :class:`~deepgami.nn.DeepGAMINet` stops each member slot on its own: a member stops
    once its loss has not improved for ``patience`` epochs, and later epochs no longer count
    for it, so each member ends exactly where it would have ended if trained alone. Any other
    module is one slot. Keeps each slot's best state for :meth:`restore`.
    """

    def __init__(self, module: nn.Module, patience: int) -> None:
        self.module, self.patience = module, patience
        self.slotted = isinstance(module, DeepGAMINet)
        n_slots = module.n_slots if self.slotted else 1
        self.best = torch.full((n_slots,), float("inf"), dtype=torch.float64)
        self.stale = torch.zeros(n_slots, dtype=torch.long)
        self.states: dict[int, dict[str, Tensor]] = {}

    @property
    def done(self) -> bool:
        return bool((self.stale >= self.patience).all())

    def update(self, losses: Tensor | float) -> None:
        """Record one epoch's validation loss per slot, shape (n_slots,) (a float for one slot)."""
        for slot, loss in enumerate(torch.as_tensor(losses).reshape(-1).tolist()):
            if self.stale[slot] >= self.patience:
                continue
            if loss < self.best[slot] - 1e-6:
                self.best[slot], self.stale[slot] = loss, 0
                self.states[slot] = self._state(slot)
            else:
                self.stale[slot] += 1

    def restore(self) -> None:
        """Load every slot's best state (slots that never validated keep their last one)."""
        for slot, state in self.states.items():
            if self.slotted:
                self.module.load_member_state(slot, state)
            else:
                self.module.load_state_dict(state)

    def _state(self, slot: int) -> dict[str, Tensor]:
        if self.slotted:
            return self.module.member_state(slot)
        return {name: value.detach().clone() for name, value in self.module.state_dict().items()}


def edge_movement(net: DeepGAMINet, initial: Mapping[str, Tensor]) -> dict[str, float]:
    """How far each relation's prior edge weights moved from ``initial`` (see :func:`edge_weights`):
    ``||w - w0|| / ||w0||`` per relation, the mean over the real members."""
    moved, current = {}, _relation_weights(net)
    with torch.no_grad():
        for name, start in initial.items():
            start = start.view(net.n_slots, -1)[: net.n_members]
            delta = current[name].view(net.n_slots, -1)[: net.n_members] - start
            moved[name] = float((delta.norm(dim=1) / start.norm(dim=1).clamp(min=1e-12)).mean())
    return moved


def edge_weights(net: DeepGAMINet) -> dict[str, Tensor]:
    """Copies of every guided relation's edge weights, keyed ``<modality>-<relation>``."""
    return {name: weight.detach().clone() for name, weight in _relation_weights(net).items()}


def _relation_weights(net: DeepGAMINet) -> dict[str, Tensor]:
    """Every guided relation's edge weight parameter (not copied), keyed ``<modality>-<relation>``."""
    return {
        f"{m}-{relation}": conv.weight
        for m, encoder in net.encoders.items()
        for relation, conv in zip(getattr(encoder, "relations", ()), getattr(encoder, "convs", ()))
    }


def train_module(
    module: DeepGAMINet,
    train: SampleStore,
    validation: SampleStore | None,
    settings: TrainingSettings,
    *,
    task: Task,
    class_weight: Tensor | None = None,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
) -> list[dict[str, float]]:
    """Train with Adam; each member stops when its validation loss of the task
    (:func:`monitor`: cross-entropy for a classification) has not improved for ``patience`` epochs, and training ends when
    every member has stopped.

    Each member's weights of its best validation epoch are restored. Without a validation
    set, all ``max_epochs`` run. Returns one dict per epoch: losses and validation scores
    (means over the real members; ``val_bacc`` of their mean prediction) and, per guided
    relation, ``moved:<modality>-<relation>``, how far its edge weights have moved from
    their initial values (relative L2 distance, mean over members).

    Inside an initialised ``torch.distributed`` process group every process holds the same
    store and generator state: each draws the same shuffled batches, runs its share of every
    batch through DistributedDataParallel and validates on the whole validation set, so all
    processes take the same steps and stop at the same epoch.

    With a ``checkpoint``, the state after every epoch is saved there, and a saved state is
    loaded first: training goes on from the epoch it reached and ends where it would have
    ended without the interruption (bit for bit on CPU).
    """
    rank, world = process_rank(), process_count()
    objective = DeepGAMILoss(module, task, settings.aux_weight, class_weight, settings.edge_l1, settings.level_loss_weight)
    step_module: nn.Module = objective
    if world > 1:
        # Buffers (edge indices) never change, so they are not re-broadcast every step; a batch
        # that misses a modality pair leaves that auxiliary map unused on some processes.
        device_ids = [torch.device(device).index] if torch.device(device).type == "cuda" else None
        step_module = DistributedDataParallel(
            objective, device_ids=device_ids, broadcast_buffers=False, find_unused_parameters=True
        )
        log.info("training in %d processes, each taking its share of every batch", world)
    optimizer = torch.optim.Adam(module.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    initial = edge_weights(module)
    history: list[dict[str, float]] = []
    stopping = EarlyStopping(module, settings.patience)
    first = 0
    state = checkpoint.load(rank) if checkpoint is not None else None
    if state is not None:
        module.load_state_dict(state["module"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        initial, history, first = state["initial"], state["history"], len(state["history"])
        stopping.best, stopping.stale, stopping.states = state["best"], state["stale"], state["best_states"]
        log.info("resuming from the checkpoint in %s after epoch %d", checkpoint.folder, first)
    members, slots = module.n_members, module.n_slots
    show = progress and rank == 0
    epochs = tqdm(range(first, settings.max_epochs), desc="training", unit="epoch", disable=None if show else True, leave=False)
    for epoch in epochs:
        if validation is not None and stopping.done:  # a checkpoint written after the last epoch
            break
        module.train()
        order = torch.randperm(len(train), generator=generator)
        sums = torch.zeros(3, dtype=torch.float64)
        for start in range(0, len(train), settings.batch_size):
            index = order[start : start + settings.batch_size]
            observed = train.observed_rows(index)
            totals = LossTotals.of(task, train.labels(index), observed, class_weight)
            head_observed = None
            if settings.modality_dropout > 0:
                head_observed = hide_modalities(observed, settings.modality_dropout, generator)
            share = torch.tensor_split(torch.arange(len(index)), world)[rank]
            batch = train.batch(index[share], device)
            if head_observed is not None:
                head_observed = {m: mask[share].to(device) for m, mask in head_observed.items()}
            total, ce, aux, _ = step_module(batch, totals, head_observed)
            optimizer.zero_grad(set_to_none=True)
            # DistributedDataParallel averages gradients over processes; each share's loss is
            # already a part of the whole batch's mean, so scale the sum back up.
            (total * world).backward()
            optimizer.step()
            # Reported per member: the objective and auxiliary loss are sums over the slots.
            parts = [total.item() / slots, ce[:members].mean().item(), aux.item() / slots]
            sums += torch.tensor(parts, dtype=torch.float64) * len(index)
        if world > 1:
            torch.distributed.all_reduce(sums)
        record = dict(zip(("epoch", "train_loss", f"train_{task.loss_name}", "train_aux"), (epoch + 1, *(sums / len(train)).tolist())))
        if validation is not None:
            scores, slot_losses = evaluate_loss(objective, validation, device)
            record.update(scores)
            stopping.update(slot_losses)
        record.update({f"moved:{name}": value for name, value in edge_movement(module, initial).items()})
        history.append(record)
        epochs.set_postfix({k: f"{record[k]:.3f}" for k in ("train_loss", "val_loss", task.validation_metric) if k in record})
        log.debug("epoch %d: %s", epoch + 1, record)
        if checkpoint is not None:
            checkpoint.save(
                {
                    "module": module.state_dict(), "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                    "initial": initial, "history": history, "best": stopping.best, "stale": stopping.stale,
                    "best_states": stopping.states,
                },
                rank,
            )  # fmt: skip
        if validation is not None and stopping.done:
            best = ", ".join(f"{value:.4f}" for value in stopping.best[:members].tolist())
            log.info("early stopping after epoch %d (best validation %s %s)", epoch + 1, task.loss_name, best)
            break
    stopping.restore()
    module.eval()
    return history


@torch.no_grad()
def evaluate_loss(
    objective: DeepGAMILoss, data: SampleStore, device: torch.device | str = "cpu", batch_size: int = EVAL_BATCH_SIZE
) -> tuple[dict[str, float], Tensor]:
    """Validation losses in eval mode, in batches.

    Returns ``(scores, slot_losses)``: ``scores`` holds val_loss, the task's loss
    (:func:`monitor`) and val_aux (means over the real members) and the task's validation
    score (``val_bacc`` for a classification) of the mean prediction of the real members that
    validate on each sample; ``slot_losses`` the task's loss per member slot (n_slots,). A loss
    that couples rows (Cox) is computed once over the outputs of all batches.
    """
    objective.eval()
    net, task = objective.net, objective.task
    labels = data.labels()
    totals = LossTotals.of(task, labels, data.observed_rows(), objective.class_weight)
    task_sum, aux_sum, penalty, outputs, targets = torch.zeros(net.n_slots, dtype=torch.float64), 0.0, 0.0, [], []
    for batch in data.batches(batch_size, device):
        total, task_loss, aux, batch_outputs = objective(batch, totals)
        task_sum += task_loss.double().cpu()
        aux_sum += aux.item()
        penalty += total.item() - task_loss.sum().item() - objective.aux_weight * aux.item()
        outputs.append(batch_outputs.cpu())
        targets.append(per_slot(batch.y, net.n_slots, task.target_shape).cpu())
    outputs, targets = torch.cat(outputs), torch.cat(targets)
    if task.pooled_loss:
        task_sum = task.loss(outputs, targets, totals.task, objective.class_weight).double()
    # Each sample is predicted by the real members that validate on it (all of them without
    # cross-fitting): an out-of-fold prediction under cross-fitting.
    real = slice(0, net.n_members)
    validating = task.used(targets[:, real]).unsqueeze(2).to(outputs.dtype)
    predicted = (task.score(outputs[:, real]) * validating).sum(dim=1) / validating.sum(dim=1).clamp(min=1)
    truth = targets[torch.arange(len(targets)), task.used(targets[:, real]).to(torch.int8).argmax(dim=1)]
    scores = {
        # The objective per member: the auxiliary loss and edge penalty are sums over the slots.
        "val_loss": task_sum[real].mean().item() + (objective.aux_weight * aux_sum + penalty) / net.n_slots,
        monitor(task): task_sum[real].mean().item(),
        "val_aux": aux_sum / net.n_slots,
        task.validation_metric: task.validation_score(truth.numpy(), predicted.numpy()),
    }
    return scores, task_sum
