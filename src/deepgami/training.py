"""Training loop, losses and early stopping for :class:`~deepgami.nn.DeepGAMINet` (no I/O)."""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score
from torch import Tensor
from tqdm.auto import tqdm

from .nn.model import DeepGAMINet

log = logging.getLogger(__name__)


@dataclass
class Batchable:
    """Tensors of one sample set: inputs and observed masks per modality, and class codes.

    ``x_dict[m]`` has shape (n_samples, n_features_m), unobserved rows zero-filled;
    ``observed[m]`` is a BoolTensor (n_samples,); ``y`` a LongTensor (n_samples,).
    """

    x_dict: dict[str, Tensor]
    observed: dict[str, Tensor]
    y: Tensor

    def __len__(self) -> int:
        return self.y.shape[0]

    def rows(self, index: Tensor) -> Batchable:
        """Gather the rows ``index`` of every tensor (copies only the batch)."""
        return Batchable(
            {m: x.index_select(0, index) for m, x in self.x_dict.items()},
            {m: o.index_select(0, index) for m, o in self.observed.items()},
            self.y.index_select(0, index),
        )

    def to(self, device: torch.device | str) -> Batchable:
        return Batchable(
            {m: x.to(device) for m, x in self.x_dict.items()},
            {m: o.to(device) for m, o in self.observed.items()},
            self.y.to(device),
        )


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


def deepgami_loss(
    module: DeepGAMINet,
    batch: Batchable,
    aux_weight: float,
    class_weight: Tensor | None = None,
    head_observed: dict[str, Tensor] | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Cross-entropy on the completed latents plus ``aux_weight`` times the auxiliary MSE.

    ``head_observed`` (default ``batch.observed``) lets training hide modalities from the
    classifier while the auxiliary loss still uses every observed pair. Returns
    ``(total, cross_entropy, auxiliary, logits)``.
    """
    z_dict = module.encode(batch.x_dict)
    logits = module.classify(module.complete(z_dict, head_observed or batch.observed))
    cross_entropy = F.cross_entropy(logits, batch.y, weight=class_weight)
    auxiliary = module.auxiliary_loss(z_dict, batch.observed)
    return cross_entropy + aux_weight * auxiliary, cross_entropy, auxiliary, logits


def train_module(
    module: DeepGAMINet,
    train: Batchable,
    validation: Batchable | None,
    settings: TrainingSettings,
    *,
    class_weight: Tensor | None = None,
    generator: torch.Generator,
    progress: bool = False,
) -> list[dict[str, float]]:
    """Train with Adam; stop when the validation loss has not improved for ``patience`` epochs.

    The weights of the best validation epoch are restored. Without a validation set, all
    ``max_epochs`` run. Returns one dict of losses (and validation balanced accuracy) per epoch.
    """
    optimizer = torch.optim.Adam(module.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    history: list[dict[str, float]] = []
    best_loss, best_state, stale = float("inf"), None, 0
    epochs = tqdm(range(settings.max_epochs), desc="training", unit="epoch", disable=None if progress else True, leave=False)
    for epoch in epochs:
        module.train()
        order = torch.randperm(len(train), generator=generator).to(train.y.device)
        sums = torch.zeros(3)
        for start in range(0, len(train), settings.batch_size):
            batch = train.rows(order[start : start + settings.batch_size])
            head_observed = None
            if settings.modality_dropout > 0:
                head_observed = hide_modalities(batch.observed, settings.modality_dropout, generator)
            total, ce, aux, _ = deepgami_loss(module, batch, settings.aux_weight, class_weight, head_observed)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            sums += torch.tensor([total.item(), ce.item(), aux.item()]) * len(batch)
        record = dict(zip(("epoch", "train_loss", "train_ce", "train_aux"), (epoch + 1, *(sums / len(train)).tolist())))
        if validation is not None:
            record.update(evaluate_loss(module, validation, settings.aux_weight, class_weight))
            if record["val_loss"] < best_loss - 1e-6:
                best_loss, best_state, stale = record["val_loss"], copy.deepcopy(module.state_dict()), 0
            else:
                stale += 1
        history.append(record)
        epochs.set_postfix({k: f"{record[k]:.3f}" for k in ("train_loss", "val_loss", "val_bacc") if k in record})
        log.debug("epoch %d: %s", epoch + 1, record)
        if validation is not None and stale >= settings.patience:
            log.info("early stopping after epoch %d (best validation loss %.4f)", epoch + 1, best_loss)
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return history


@torch.no_grad()
def evaluate_loss(
    module: DeepGAMINet, data: Batchable, aux_weight: float, class_weight: Tensor | None = None
) -> dict[str, float]:
    """Validation loss, cross-entropy and balanced accuracy in eval mode."""
    module.eval()
    total, ce, _, logits = deepgami_loss(module, data, aux_weight, class_weight)
    with warnings.catch_warnings():
        # A small validation set may miss a predicted class; the score stays defined.
        warnings.simplefilter("ignore", UserWarning)
        bacc = balanced_accuracy_score(data.y.cpu().numpy(), logits.argmax(1).cpu().numpy())
    return {"val_loss": total.item(), "val_ce": ce.item(), "val_bacc": float(bacc)}

