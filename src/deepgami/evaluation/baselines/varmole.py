"""Varmole, a graph-based baseline of the DeepGAMI paper, written with PyTorch / PyG.

Nguyen, Jin & Wang, Bioinformatics 2021 (https://doi.org/10.1093/bioinformatics/btaa866;
code: github.com/daifengwanglab/Varmole), re-implemented from the published code behind the
method interface of :mod:`deepgami.evaluation.methods` (registered at import as ``"varmole"``).
The modalities are concatenated into one input and a single biologically masked layer
(:class:`~deepgami.nn.conv.BioDropConnect`) maps it to the latent genes through the union of the
prior relations (eQTL for SNPs, GRN for TFs), then ReLU and a feed-forward head. As in Varmole,
a feature that is itself a latent gene is also connected to that gene (Varmole adds the identity
to its GRN block), the loss carries an L1 penalty on every parameter, and batches are drawn
class-balanced (its ``ImbalancedDatasetSampler``). Differences: softmax cross-entropy for any
number of classes (Varmole: sigmoid + BCE, binary only), dropout in the head (none in Varmole),
and early stopping on a stratified validation split of the training rows (Varmole runs a fixed
number of epochs).
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data import MultiOmicsData
from ...errors import InputError
from ...graph import RegulatoryGraph
from ...nn.conv import BioDropConnect
from ...nn.model import feedforward_head
from ...training import EarlyStopping
from ..methods import MethodSpec, register
from ._torch import _seed_everything, _TorchBaseline

log = logging.getLogger(__name__)


def varmole_edge_index(
    graph: RegulatoryGraph, n_features: Mapping[str, int], *, self_loops: bool = True
) -> tuple[Tensor | None, int]:
    """Edges of Varmole's masked layer over the concatenated inputs.

    Parameters
    ----------
    graph : RegulatoryGraph
        Prior restricted to the data (node indices of a modality are its column indices); all
        relations target one latent node type.
    n_features : mapping of modality -> int
        Inputs are concatenated in this order; the source indices of modality ``m`` are
        offset by the widths of the modalities before it.
    self_loops : bool, default=True
        Connect a feature to the latent node of the same name (Varmole's GRN identity).

    Returns
    -------
    edge_index : LongTensor of shape (2, n_edges), or None when no modality has a relation
        Row 0 indexes the concatenated input, row 1 the latent nodes. A modality without a
        relation is connected to every latent node.
    n_latent : int
    """
    if not graph.layout.one_hop:
        msg = (
            f"the varmole baseline reads a one-hop prior, but this one has latent levels {graph.layout.order}; "
            "leave varmole out of [cv] methods for a deeper prior"
        )
        raise InputError(msg)
    latent = graph.latent_type
    n_latent = graph.num_nodes(latent)
    position = {name: i for i, name in enumerate(graph.node_names[latent])}
    pieces, offset, guided = [], 0, False
    for modality, count in n_features.items():
        relations = graph.relations_from(modality)
        if relations:
            if graph.num_nodes(modality) != count:
                msg = f"graph has {graph.num_nodes(modality)} '{modality}' nodes but the data {count} features"
                raise ValueError(msg)
            guided = True
            edge_index = torch.cat([graph.edge_index(t) for t in relations], dim=1)
            if self_loops:
                pairs = [(i, position[n]) for i, n in enumerate(graph.node_names[modality]) if n in position]
                if pairs:
                    edge_index = torch.cat([edge_index, torch.tensor(pairs, dtype=torch.long).t()], dim=1)
            # Relations from one modality may share pairs; the layer holds one weight per pair.
            key = torch.unique(edge_index[0] * n_latent + edge_index[1])
            edge_index = torch.stack([key // n_latent, key % n_latent])
        else:
            edge_index = torch.stack(
                [torch.arange(count).repeat_interleave(n_latent), torch.arange(n_latent).repeat(count)]
            )
        pieces.append(edge_index + torch.tensor([[offset], [0]]))
        offset += count
    return (torch.cat(pieces, dim=1) if guided else None), n_latent


class VarmoleNet(nn.Module):
    r"""Varmole's network: one masked layer from all inputs to latent genes, then an MLP.

    .. math::
        h = \mathrm{ReLU}\big(x\,(W \odot M) + b\big), \qquad \mathrm{logits} = \mathrm{MLP}(h)

    with :math:`x` the concatenated modalities and :math:`M` the union of the prior relations.

    Parameters
    ----------
    masked : nn.Module
        Maps (n_samples, n_inputs) to (n_samples, n_latent): a :class:`BioDropConnect` (or a
        ``Linear`` without a prior).
    n_latent, n_classes : int
    hidden_dims : sequence of int
        Widths of the head's hidden layers (Linear, ReLU, Dropout each).
    dropout : float

    Shapes: (n_samples, n_inputs) -> (n_samples, n_classes).
    """

    def __init__(
        self, masked: nn.Module, n_latent: int, n_classes: int, hidden_dims: Sequence[int] = (64, 32), dropout: float = 0.3
    ) -> None:
        super().__init__()
        self.masked = masked
        self.head = feedforward_head(int(n_latent), hidden_dims, n_classes, dropout)

    @classmethod
    def from_graph(
        cls,
        graph: RegulatoryGraph | None,
        n_features: Mapping[str, int],
        n_classes: int,
        *,
        latent_dim: int = 100,
        self_loops: bool = True,
        kernel: str = "auto",
        **head_kwargs,
    ) -> VarmoleNet:
        """Build the masked layer from a prior restricted to the data (see :func:`varmole_edge_index`).

        Without a graph the first layer is dense to ``latent_dim`` nodes; with a graph whose
        relations start from none of the modalities it is dense to the graph's latent nodes.
        """
        n_inputs = sum(n_features.values())
        if graph is None or not graph.edge_types:
            return cls(nn.Linear(n_inputs, latent_dim), latent_dim, n_classes, **head_kwargs)
        edge_index, n_latent = varmole_edge_index(graph, n_features, self_loops=self_loops)
        if edge_index is None:
            return cls(nn.Linear(n_inputs, n_latent), n_latent, n_classes, **head_kwargs)
        masked = BioDropConnect(edge_index, n_inputs, n_latent, bias=True, kernel=kernel)
        return cls(masked, n_latent, n_classes, **head_kwargs)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(torch.relu(self.masked(x)))


class VarmoleMethod(_TorchBaseline):
    """Varmole (biologically masked feed-forward network) behind the method interface.

    Parameters
    ----------
    graph : RegulatoryGraph or None, default=None
        Prior relations from modality features to latent genes.
    latent_dim : int, default=100
        Latent width without a graph.
    hidden_dims : sequence of int, default=(64, 32)
        Varmole's H2, H3.
    dropout : float, default=0.3
    l1 : float, default=1e-4
        Varmole's L1REG: ``l1 * sum(|p|)`` over every parameter is added to each batch loss.
    lr, weight_decay : float, default=1e-3, 0.0
        Adam settings (weight decay is Varmole's L2REG).
    batch_size : int, default=32
    max_epochs : int, default=100
    patience : int, default=20
    validation_fraction : float, default=0.2
        Stratified share of the training rows for early stopping (0: run all epochs).
    balanced_sampling : bool, default=True
        Draw each epoch's samples with replacement, inversely to class frequency.
    self_loops : bool, default=True
    scaling : str or mapping of modality -> str, default="standard"
    kernel : str, default="auto"
    device : str, default="cpu"
    random_state : int, default=0

    Attributes
    ----------
    classes_, modalities_, feature_names_in_, scalers_, graph_, module_, history_
    """

    def __init__(
        self,
        *,
        graph: RegulatoryGraph | None = None,
        latent_dim: int = 100,
        hidden_dims: Sequence[int] = (64, 32),
        dropout: float = 0.3,
        l1: float = 1e-4,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 32,
        max_epochs: int = 100,
        patience: int = 20,
        validation_fraction: float = 0.2,
        balanced_sampling: bool = True,
        self_loops: bool = True,
        scaling: str | Mapping[str, str] = "standard",
        kernel: str = "auto",
        device: str = "cpu",
        random_state: int = 0,
    ) -> None:
        self.graph = graph
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.dropout = dropout
        self.l1 = l1
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.balanced_sampling = balanced_sampling
        self.self_loops = self_loops
        self.scaling = scaling
        self.kernel = kernel
        self.device = device
        self.random_state = random_state

    def fit(self, train: MultiOmicsData) -> VarmoleMethod:
        """Fit on the labelled samples of ``train`` observed in every modality."""
        train, codes, fit_rows, val_rows = self._prepare_fit(train)
        self.graph_ = None
        if self.graph is not None:
            # A refit on some of the modalities keeps the relations from those only.
            self.graph_, report = self.graph.restrict_to_data(self.feature_names_in_, foreign_sources="ignore")
            log.info("prior graph: %s", report)
        x = torch.cat(list(self._inputs(train).values()), dim=1).to(self.device)
        y = torch.as_tensor(codes).to(self.device)
        with torch.random.fork_rng(devices=[]):
            generator = _seed_everything(self.random_state)
            self.module_ = VarmoleNet.from_graph(
                self.graph_,
                {m: len(self.feature_names_in_[m]) for m in self.modalities_},
                len(self.classes_),
                latent_dim=self.latent_dim,
                self_loops=self.self_loops,
                kernel=self.kernel,
                hidden_dims=tuple(self.hidden_dims),
                dropout=self.dropout,
            ).to(self.device)
            log.debug("Varmole: %s", self.module_.masked)
            fit_index, val_index = torch.as_tensor(fit_rows), torch.as_tensor(val_rows)
            self.history_ = self._train(x[fit_index], y[fit_index], x[val_index], y[val_index], generator)
        return self

    def _train(self, x: Tensor, y: Tensor, x_val: Tensor, y_val: Tensor, generator: torch.Generator) -> list[dict]:
        module = self.module_
        optimizer = torch.optim.Adam(module.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sample_weight = (1.0 / torch.bincount(y.cpu()).float())[y.cpu()]
        history: list[dict] = []
        stopping = EarlyStopping(module, self.patience)
        for epoch in range(self.max_epochs):
            module.train()
            if self.balanced_sampling:
                order = torch.multinomial(sample_weight, len(y), replacement=True, generator=generator)
            else:
                order = torch.randperm(len(y), generator=generator)
            total = 0.0
            for start in range(0, len(y), self.batch_size):
                batch = order[start : start + self.batch_size].to(x.device)
                loss = F.cross_entropy(module(x[batch]), y[batch])
                if self.l1:
                    loss = loss + self.l1 * sum(p.abs().sum() for p in module.parameters())
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            record = {"epoch": epoch + 1, "train_loss": total / len(y)}
            if len(y_val):
                module.eval()
                with torch.no_grad():
                    record["val_loss"] = F.cross_entropy(module(x_val), y_val).item()
                stopping.update(record["val_loss"])
            history.append(record)
            log.debug("Varmole epoch %d: %s", epoch + 1, record)
            if len(y_val) and stopping.done:
                log.info("Varmole: early stopping after epoch %d (best validation loss %.4f)", epoch + 1, stopping.best[0])
                break
        stopping.restore()
        module.eval()
        return history

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Class probabilities (n_samples, n_classes) in ``classes_`` order; needs every trained modality."""
        x = torch.cat(list(self._inputs(data, use_modalities).values()), dim=1).to(self.device)
        self.module_.eval()
        with torch.no_grad():
            return torch.softmax(self.module_(x), dim=1).cpu().numpy()


register(
    MethodSpec(
        "varmole",
        VarmoleMethod,
        grid={"hidden_dims": [(64, 32), (256, 128)], "l1": [1e-4, 1e-3]},
        uses_graph=True,
    )
)
