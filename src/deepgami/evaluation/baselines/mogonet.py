r"""MOGONET, a graph-based baseline of the DeepGAMI paper, written with PyTorch / PyG.

Wang et al., Nat Commun 2021 (https://doi.org/10.1038/s41467-021-23774-w; code:
github.com/txWang/MOGONET), re-implemented from the published code behind the method interface
of :mod:`deepgami.evaluation.methods` (registered at import as ``"mogonet"``). Per modality a
3-layer GCN (LeakyReLU 0.25, dropout) with a linear classifier runs on a patient-similarity
graph; the per-modality outputs are fused by the View Correlation Discovery Network (VCDN):
sigmoid per class, the K-way outer product flattened to ``n_classes ** n_modalities`` features,
and a small MLP. Training follows MOGONET: the GCNs are pretrained alone, then every epoch
updates each GCN on its own loss and the VCDN on the fused loss. The similarity graph keeps the
pairs whose cosine similarity exceeds the threshold giving ``k`` neighbours per node on average
(the threshold is fit on the training rows), weighs edges by similarity, adds self-loops and
row-normalises (:math:`\hat A = \mathrm{rownorm}(A + I)`, used through
``GCNConv(normalize=False)``). Differences: MOGONET counts the zero self-distances when picking
the threshold (so it keeps ``k - 1`` neighbours on average), weighs samples by class frequency,
and runs a fixed number of epochs; here the threshold gives ``k``, the loss is unweighted, and
training stops early on a validation split.

MOGONET is transductive. :meth:`MOGONETMethod.predict_proba` builds MOGONET's test graph: the
training samples used to fit the GCNs plus the new samples, edges only between a new sample and
a training sample whose similarity passes the training threshold (none within either group),
then runs the trained networks and returns the rows of the new samples. The graph uses the new
samples' features, never their labels; a new sample's prediction can depend on the other new
samples predicted with it (through two- and three-hop paths).
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv

from ...data import MultiOmicsData
from ...graph import RegulatoryGraph
from ...training import EarlyStopping
from ..methods import MethodSpec, register
from ._torch import _seed_everything, _TorchBaseline

log = logging.getLogger(__name__)


def cosine_similarity(a: Tensor, b: Tensor, eps: float = 1e-8) -> Tensor:
    """Cosine similarity (n_a, n_b) between the rows of ``a`` and ``b`` (MOGONET's ``1 - distance``)."""
    norm_a = a.norm(p=2, dim=1, keepdim=True)
    norm_b = b.norm(p=2, dim=1, keepdim=True)
    return (a @ b.t()) / (norm_a * norm_b.t()).clamp(min=eps)


def similarity_threshold(x: Tensor, k: float) -> float:
    """Cosine similarity above which pairs of rows of ``x`` give ``k`` neighbours per row on average.

    The ``k * n``-th largest off-diagonal similarity of the (symmetric) similarity matrix.
    """
    n = x.shape[0]
    sim = cosine_similarity(x, x)
    values = sim[~torch.eye(n, dtype=torch.bool, device=x.device)]
    count = int(min(max(round(k * n), 1), values.numel()))
    if count == 0:
        return float("inf")
    return float(torch.topk(values, count).values[-1])


def _normalised(src: Tensor, dst: Tensor, weight: Tensor, n_nodes: int) -> tuple[Tensor, Tensor]:
    """Add self-loops of weight 1 and row-normalise (L1, per destination): rownorm(A + I)."""
    loops = torch.arange(n_nodes, device=weight.device)
    src, dst = torch.cat([src, loops]), torch.cat([dst, loops])
    weight = torch.cat([weight, torch.ones(n_nodes, dtype=weight.dtype, device=weight.device)])
    norm = torch.zeros(n_nodes, dtype=weight.dtype, device=weight.device).index_add_(0, dst, weight.abs())
    return torch.stack([src, dst]), weight / norm[dst]


def similarity_graph(x: Tensor, threshold: float) -> tuple[Tensor, Tensor]:
    """MOGONET's training graph among the rows of ``x``.

    Pairs with cosine similarity >= ``threshold`` (no self pairs) are joined in both directions,
    weighted by their similarity; then self-loops and row normalisation.

    Returns ``edge_index`` (2, n_edges) (row 0 source, row 1 target, self-loops last) and
    ``edge_weight`` (n_edges,).
    """
    n = x.shape[0]
    sim = cosine_similarity(x, x)
    keep = (sim >= threshold) & ~torch.eye(n, dtype=torch.bool, device=x.device)
    dst, src = keep.nonzero(as_tuple=True)
    return _normalised(src, dst, sim[dst, src], n)


def bipartite_similarity_graph(x_ref: Tensor, x_new: Tensor, threshold: float) -> tuple[Tensor, Tensor]:
    """MOGONET's test graph on ``cat(x_ref, x_new)``: edges only between a reference and a new row.

    A pair (reference, new) with cosine similarity >= ``threshold`` is joined in both
    directions; no edges within either group; then self-loops and row normalisation.
    New rows are nodes ``n_ref..n_ref + n_new - 1``.
    """
    n_ref = x_ref.shape[0]
    sim = cosine_similarity(x_ref, x_new)
    ref, new = (sim >= threshold).nonzero(as_tuple=True)
    weight = sim[ref, new]
    new = new + n_ref
    src, dst = torch.cat([ref, new]), torch.cat([new, ref])
    return _normalised(src, dst, torch.cat([weight, weight]), n_ref + x_new.shape[0])


class GCNEncoder(nn.Module):
    r"""MOGONET's per-modality GCN (``GCN_E``): GCN layers with LeakyReLU(0.25) and dropout.

    .. math::
        H^{(l+1)} = \mathrm{LeakyReLU}\big(\hat A H^{(l)} W^{(l)} + b^{(l)}\big)

    with :math:`\hat A` the row-normalised similarity graph given as edge weights
    (``GCNConv(normalize=False)``). Weights are Xavier-normal and biases zero, as in MOGONET.

    Shapes: x (n_samples, n_features), edge_index (2, n_edges), edge_weight (n_edges,) ->
    (n_samples, hidden_dims[-1]).
    """

    def __init__(self, n_features: int, hidden_dims: Sequence[int] = (200, 200, 100), dropout: float = 0.5) -> None:
        super().__init__()
        widths = [int(n_features), *map(int, hidden_dims)]
        self.convs = nn.ModuleList(
            GCNConv(a, b, normalize=False, add_self_loops=False) for a, b in zip(widths[:-1], widths[1:])
        )
        self.dropout = dropout
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
            nn.init.xavier_normal_(conv.lin.weight)
            nn.init.zeros_(conv.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor) -> Tensor:
        for i, conv in enumerate(self.convs):
            x = F.leaky_relu(conv(x, edge_index, edge_weight), 0.25)
            if i < len(self.convs) - 1:
                x = F.dropout(x, self.dropout, training=self.training)
        return x


def vcdn_features(probabilities: Sequence[Tensor]) -> Tensor:
    r"""Flattened K-way outer product of per-modality vectors: (n_samples, n_classes ** K).

    Entry ``(c_1, ..., c_K)`` (row-major) is :math:`\prod_k p_k[c_k]`, as MOGONET builds it.
    """
    out = probabilities[0]
    for p in probabilities[1:]:
        out = (out.unsqueeze(-1) * p.unsqueeze(1)).reshape(out.shape[0], -1)
    return out


class VCDN(nn.Module):
    """View Correlation Discovery Network: sigmoid per view, outer product, Linear-LeakyReLU-Linear.

    Shapes: K tensors of logits (n_samples, n_classes) -> (n_samples, n_classes).
    """

    def __init__(self, n_views: int, n_classes: int, hidden_dim: int | None = None) -> None:
        super().__init__()
        n_inputs = n_classes**n_views
        hidden_dim = n_inputs if hidden_dim is None else int(hidden_dim)
        self.model = nn.Sequential(nn.Linear(n_inputs, hidden_dim), nn.LeakyReLU(0.25), nn.Linear(hidden_dim, n_classes))
        for layer in self.model:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_normal_(layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(self, logits: Sequence[Tensor]) -> Tensor:
        return self.model(vcdn_features([torch.sigmoid(z) for z in logits]))


class MOGONETNet(nn.Module):
    """Per-modality GCN + linear classifier, fused by a :class:`VCDN` when there are >= 2 modalities."""

    def __init__(
        self,
        n_features: Mapping[str, int],
        n_classes: int,
        hidden_dims: Sequence[int] = (200, 200, 100),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.modalities = list(n_features)
        self.encoders = nn.ModuleDict({m: GCNEncoder(n, hidden_dims, dropout) for m, n in n_features.items()})
        self.classifiers = nn.ModuleDict({m: nn.Linear(int(hidden_dims[-1]), n_classes) for m in n_features})
        for layer in self.classifiers.values():
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.vcdn = VCDN(len(self.modalities), n_classes) if len(self.modalities) > 1 else None

    def view_logits(self, modality: str, x: Tensor, graph: tuple[Tensor, Tensor]) -> Tensor:
        return self.classifiers[modality](self.encoders[modality](x, *graph))

    def fuse(self, logits: Mapping[str, Tensor]) -> Tensor:
        if self.vcdn is None:
            return logits[self.modalities[0]]
        return self.vcdn([logits[m] for m in self.modalities])

    def forward(self, x_dict: Mapping[str, Tensor], graph_dict: Mapping[str, tuple[Tensor, Tensor]]) -> Tensor:
        return self.fuse({m: self.view_logits(m, x_dict[m], graph_dict[m]) for m in self.modalities})


class MOGONETMethod(_TorchBaseline):
    """MOGONET (per-modality GCNs on patient-similarity graphs + VCDN) behind the method interface.

    Full-batch and transductive at prediction (see the module docstring).

    Parameters
    ----------
    graph : ignored
        Accepted for the factory interface; MOGONET uses no prior.
    k : float, default=5
        Average neighbours per sample in the similarity graphs (MOGONET's ``adj_parameter``).
    hidden_dims : sequence of int, default=(64, 64, 32)
        GCN widths (MOGONET's ``dim_he_list``: (200, 200, 100) for ROSMAP; narrower by default
        for cohorts of a few hundred samples).
    dropout : float, default=0.5
    lr_pretrain, lr, lr_vcdn : float, default=1e-3, 5e-4, 1e-2
        Adam learning rates for pretraining the GCNs, then for the GCNs and the VCDN (MOGONET:
        1e-3, 5e-4, 1e-3 over 500 + 2,500 epochs; the VCDN's is raised for the shorter run).
    pretrain_epochs : int, default=50
    max_epochs : int, default=150
        Joint epochs (one full-batch step each), stopped early on the validation loss.
    patience : int, default=30
    validation_fraction : float, default=0.2
    scaling : str or mapping of modality -> str, default="standard"
    device : str, default="cpu"
    random_state : int, default=0

    Attributes
    ----------
    classes_, modalities_, feature_names_in_, scalers_, module_, history_
    reference_ : dict of modality -> Tensor (n_fit, n_features), scaled training rows the GCNs were fit on
    thresholds_ : dict of modality -> float, similarity thresholds fit on those rows
    """

    def __init__(
        self,
        *,
        graph: RegulatoryGraph | None = None,
        k: float = 5,
        hidden_dims: Sequence[int] = (64, 64, 32),
        dropout: float = 0.5,
        lr_pretrain: float = 1e-3,
        lr: float = 5e-4,
        lr_vcdn: float = 1e-2,
        pretrain_epochs: int = 50,
        max_epochs: int = 150,
        patience: int = 30,
        validation_fraction: float = 0.2,
        scaling: str | Mapping[str, str] = "standard",
        device: str = "cpu",
        random_state: int = 0,
    ) -> None:
        self.graph = graph
        self.k = k
        self.hidden_dims = hidden_dims
        self.dropout = dropout
        self.lr_pretrain = lr_pretrain
        self.lr = lr
        self.lr_vcdn = lr_vcdn
        self.pretrain_epochs = pretrain_epochs
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.scaling = scaling
        self.device = device
        self.random_state = random_state

    def fit(self, train: MultiOmicsData) -> MOGONETMethod:
        """Fit on the labelled samples of ``train`` observed in every modality."""
        train, codes, fit_rows, val_rows = self._prepare_fit(train)
        x_dict = {m: x.to(self.device) for m, x in self._inputs(train).items()}
        fit_index, val_index = torch.as_tensor(fit_rows, device=self.device), torch.as_tensor(val_rows, device=self.device)
        self.reference_ = {m: x[fit_index] for m, x in x_dict.items()}
        self.thresholds_ = {m: similarity_threshold(x, self.k) for m, x in self.reference_.items()}
        graphs = {m: similarity_graph(x, self.thresholds_[m]) for m, x in self.reference_.items()}
        validation = None
        if len(val_rows):
            validation = self._transductive({m: x[val_index] for m, x in x_dict.items()})
        y = torch.as_tensor(codes, device=self.device)
        with torch.random.fork_rng(devices=[]):
            _seed_everything(self.random_state)
            self.module_ = MOGONETNet(
                {m: len(self.feature_names_in_[m]) for m in self.modalities_},
                len(self.classes_),
                hidden_dims=tuple(self.hidden_dims),
                dropout=self.dropout,
            ).to(self.device)
            self.history_ = self._train(graphs, y[fit_index], validation, y[val_index])
        return self

    def _transductive(self, x_new: Mapping[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, tuple[Tensor, Tensor]]]:
        """Inputs and test graphs on reference + new rows, per modality."""
        x_all = {m: torch.cat([self.reference_[m], x_new[m]]) for m in self.modalities_}
        graphs = {m: bipartite_similarity_graph(self.reference_[m], x_new[m], self.thresholds_[m]) for m in self.modalities_}
        return x_all, graphs

    def _view_epoch(self, optimizers: Mapping[str, torch.optim.Optimizer], graphs, y: Tensor) -> dict[str, float]:
        """One full-batch step of every GCN + classifier on its own cross-entropy."""
        net = self.module_
        net.train()
        losses = {}
        for m in self.modalities_:
            optimizers[m].zero_grad(set_to_none=True)
            loss = F.cross_entropy(net.view_logits(m, self.reference_[m], graphs[m]), y)
            loss.backward()
            optimizers[m].step()
            losses[f"loss_{m}"] = loss.item()
        return losses

    def _train(self, graphs, y: Tensor, validation, y_val: Tensor) -> list[dict]:
        net = self.module_

        def view_optimizers(lr: float) -> dict[str, torch.optim.Optimizer]:
            return {
                m: torch.optim.Adam([*net.encoders[m].parameters(), *net.classifiers[m].parameters()], lr=lr)
                for m in self.modalities_
            }

        history: list[dict] = []
        optimizers = view_optimizers(self.lr_pretrain)
        for epoch in range(self.pretrain_epochs):
            record = {"epoch": epoch + 1, "phase": "pretrain", **self._view_epoch(optimizers, graphs, y)}
            history.append(record)
            log.debug("MOGONET %s", record)
        optimizers = view_optimizers(self.lr)
        vcdn_optimizer = torch.optim.Adam(net.vcdn.parameters(), lr=self.lr_vcdn) if net.vcdn is not None else None
        stopping = EarlyStopping(net, self.patience)
        for epoch in range(self.max_epochs):
            record = {"epoch": self.pretrain_epochs + epoch + 1, "phase": "joint", **self._view_epoch(optimizers, graphs, y)}
            if vcdn_optimizer is not None:
                net.train()
                with torch.no_grad():
                    logits = {m: net.view_logits(m, self.reference_[m], graphs[m]) for m in self.modalities_}
                vcdn_optimizer.zero_grad(set_to_none=True)
                loss = F.cross_entropy(net.fuse(logits), y)
                loss.backward()
                vcdn_optimizer.step()
                record["loss_vcdn"] = loss.item()
            if validation is not None:
                net.eval()
                with torch.no_grad():
                    logits = net(*validation)[len(y) :]
                record["val_loss"] = F.cross_entropy(logits, y_val).item()
                stopping.update(record["val_loss"])
            history.append(record)
            log.debug("MOGONET %s", record)
            if validation is not None and stopping.done:
                log.info("MOGONET: early stopping after epoch %d (best validation loss %.4f)", record["epoch"], stopping.best[0])
                break
        stopping.restore()
        net.eval()
        return history

    def predict_proba(self, data: MultiOmicsData, *, use_modalities: Sequence[str] | None = None) -> np.ndarray:
        """Class probabilities (n_samples, n_classes) in ``classes_`` order, transductively.

        The new samples join the training samples in MOGONET's test graph (features only;
        ``data.labels`` is never read). Needs every trained modality.
        """
        x_new = {m: x.to(self.device) for m, x in self._inputs(data, use_modalities).items()}
        x_all, graphs = self._transductive(x_new)
        n_ref = len(next(iter(self.reference_.values())))
        self.module_.eval()
        with torch.no_grad():
            return torch.softmax(self.module_(x_all, graphs)[n_ref:], dim=1).cpu().numpy()


register(
    MethodSpec(
        "mogonet",
        MOGONETMethod,
        grid={"k": [3, 10], "hidden_dims": [(32, 32, 16), (100, 100, 50)]},
        uses_graph=False,
    )
)
