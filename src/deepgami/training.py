"""Training loop, losses and early stopping for :class:`~deepgami.nn.DeepGAMINet` (no I/O)."""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import dataclass
from itertools import permutations
from typing import Mapping

import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from .batches import Batchable, SampleStore
from .distributed import process_count, process_rank
from .nn.model import DeepGAMINet

log = logging.getLogger(__name__)

# Rows per forward pass when evaluating a whole sample set without gradients.
EVAL_BATCH_SIZE = 512


@dataclass
class TrainingSettings:
    """Optimiser and stopping settings (see :class:`~deepgami.DeepGAMIClassifier`)."""

    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 32
    max_epochs: int = 100
    patience: int = 10
    aux_weight: float = 1.0
    modality_dropout: float = 0.0
    edge_l1: float = 0.0
    # Early stopping watches the validation cross-entropy (the primary task, on which the
    # paper judges the model), not the total loss: the auxiliary MSE falls steadily as the
    # latents shrink and dominated the total, so the restored epoch was past the CE minimum.
    monitor: str = "val_ce"


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
    """What one batch's losses are averaged over: its number of rows, the class weight summed
    over its samples, and per ordered modality pair the number of samples observed in both.

    Computed from the whole batch, so a batch split across processes gives every process
    the same denominators and their gradients add up to the one-process gradient.
    """

    rows: int
    cross_entropy: float
    pairs: dict[tuple[str, str], float]

    @classmethod
    def of(cls, y: Tensor, observed: Mapping[str, Tensor], class_weight: Tensor | None = None) -> LossTotals:
        """Totals of the samples with class codes ``y`` (n,) and observed masks (n,) per modality."""
        ce = float(len(y)) if class_weight is None else float(class_weight.cpu()[y.cpu()].sum())
        pairs = {(a, b): float((observed[a] & observed[b]).sum()) for a, b in permutations(observed, 2)}
        return cls(len(y), ce, pairs)


class DeepGAMILoss(nn.Module):
    """The training objective as one module: cross-entropy on the completed latents plus
    ``aux_weight`` times the auxiliary MSE plus ``edge_l1`` times the summed absolute prior
    edge weights (a lasso on the edges: each latent node keeps few of its prior inputs).

    A module (not a function) so DistributedDataParallel sees the whole computation as one
    forward. ``head_observed`` (default ``batch.observed``) hides modalities from the
    classifier while the auxiliary loss still uses every observed pair. Returns
    ``(total, cross_entropy, auxiliary, logits)``, losses averaged over ``totals``; a call on
    part of the rows of ``totals`` carries that part of the edge penalty, so the parts of a
    batch (or of a validation set) add up to one penalty.
    """

    def __init__(
        self, net: DeepGAMINet, aux_weight: float, class_weight: Tensor | None = None, edge_l1: float = 0.0
    ) -> None:
        super().__init__()
        self.net, self.aux_weight, self.class_weight, self.edge_l1 = net, aux_weight, class_weight, edge_l1

    def forward(
        self, batch: Batchable, totals: LossTotals, head_observed: dict[str, Tensor] | None = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        z_dict = self.net.encode(batch.x_dict)
        logits = self.net.classify(self.net.complete(z_dict, head_observed or batch.observed))
        cross_entropy = F.cross_entropy(logits, batch.y, weight=self.class_weight, reduction="sum") / totals.cross_entropy
        auxiliary = self.net.auxiliary_loss(z_dict, batch.observed, totals.pairs)
        total = cross_entropy + self.aux_weight * auxiliary
        if self.edge_l1:
            total = total + self.edge_l1 * self.net.edge_weight_l1() * (len(batch) / totals.rows)
        return total, cross_entropy, auxiliary, logits


def train_module(
    module: DeepGAMINet,
    train: SampleStore,
    validation: SampleStore | None,
    settings: TrainingSettings,
    *,
    class_weight: Tensor | None = None,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    progress: bool = False,
) -> list[dict[str, float]]:
    """Train with Adam; stop when the validation cross-entropy (``settings.monitor``) has not
    improved for ``patience`` epochs.

    The weights of the best validation epoch are restored. Without a validation set, all
    ``max_epochs`` run. Returns one dict of losses (and validation balanced accuracy) per epoch.

    Inside an initialised ``torch.distributed`` process group every process holds the same
    store and generator state: each draws the same shuffled batches, runs its share of every
    batch through DistributedDataParallel and validates on the whole validation set, so all
    processes take the same steps and stop at the same epoch.
    """
    rank, world = process_rank(), process_count()
    objective = DeepGAMILoss(module, settings.aux_weight, class_weight, settings.edge_l1)
    step_module: nn.Module = objective
    if world > 1:
        # Buffers (edge indices) never change, so they are not re-broadcast every step; a batch
        # that misses a modality pair leaves that auxiliary map unused on some processes.
        device_ids = [torch.device(device).index] if torch.device(device).type == "cuda" else None
        step_module = DistributedDataParallel(
            objective, device_ids=device_ids, broadcast_buffers=False, find_unused_parameters=True
        )
    optimizer = torch.optim.Adam(module.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    history: list[dict[str, float]] = []
    best_loss, best_state, stale = float("inf"), None, 0
    show = progress and rank == 0
    epochs = tqdm(range(settings.max_epochs), desc="training", unit="epoch", disable=None if show else True, leave=False)
    for epoch in epochs:
        module.train()
        order = torch.randperm(len(train), generator=generator)
        sums = torch.zeros(3, dtype=torch.float64)
        for start in range(0, len(train), settings.batch_size):
            index = order[start : start + settings.batch_size]
            observed = train.observed_rows(index)
            totals = LossTotals.of(train.labels(index), observed, class_weight)
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
            sums += torch.tensor([total.item(), ce.item(), aux.item()], dtype=torch.float64) * len(index)
        if world > 1:
            torch.distributed.all_reduce(sums)
        record = dict(zip(("epoch", "train_loss", "train_ce", "train_aux"), (epoch + 1, *(sums / len(train)).tolist())))
        if validation is not None:
            record.update(evaluate_loss(objective, validation, device))
            if record[settings.monitor] < best_loss - 1e-6:
                best_loss, best_state, stale = record[settings.monitor], copy.deepcopy(module.state_dict()), 0
            else:
                stale += 1
        history.append(record)
        epochs.set_postfix({k: f"{record[k]:.3f}" for k in ("train_loss", "val_loss", "val_bacc") if k in record})
        log.debug("epoch %d: %s", epoch + 1, record)
        if validation is not None and stale >= settings.patience:
            log.info("early stopping after epoch %d (best validation %s %.4f)", epoch + 1, settings.monitor.removeprefix("val_"), best_loss)
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return history


@torch.no_grad()
def evaluate_loss(
    objective: DeepGAMILoss, data: SampleStore, device: torch.device | str = "cpu", batch_size: int = EVAL_BATCH_SIZE
) -> dict[str, float]:
    """Validation loss, cross-entropy, auxiliary loss and balanced accuracy in eval mode, in batches."""
    objective.eval()
    totals = LossTotals.of(data.labels(), data.observed_rows(), objective.class_weight)
    sums, predicted = torch.zeros(3, dtype=torch.float64), []
    for batch in data.batches(batch_size, device):
        total, ce, aux, logits = objective(batch, totals)
        sums += torch.tensor([total.item(), ce.item(), aux.item()], dtype=torch.float64)
        predicted.append(logits.argmax(1).cpu())
    with warnings.catch_warnings():
        # A small validation set may miss a predicted class; the score stays defined.
        warnings.simplefilter("ignore", UserWarning)
        bacc = balanced_accuracy_score(data.labels().numpy(), torch.cat(predicted).numpy())
    return {"val_loss": sums[0].item(), "val_ce": sums[1].item(), "val_aux": sums[2].item(), "val_bacc": float(bacc)}
