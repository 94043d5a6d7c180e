"""The DeepGAMI network for K >= 2 modalities: encoders, auxiliary maps, fusion head; an
ensemble of such networks batched in one module (see :mod:`deepgami.nn.members`)."""

from __future__ import annotations

from itertools import permutations
from typing import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from ..graph import RegulatoryGraph
from .auxiliary import AuxiliaryMapSpec, MemberwiseMap, make_auxiliary_map
from .conv import BioDropConnect
from .encoder import DenseEncoder, GuidedEncoder
from .members import MemberLinear, member_slice
from .stages import LayeredEncoder, UpperTower

OUTPUTS = ("proba", "logit")


def feedforward_head(
    width: int, hidden_dims: Sequence[int], n_classes: int, dropout: float, n_members: int | None = None
) -> nn.Sequential:
    """Linear -> ReLU -> Dropout per hidden layer, then Linear to logits: (n, width) -> (n, n_classes),
    or per member, (n, n_members, width) -> (n, n_members, n_classes), when ``n_members`` is given."""

    def linear(n_in: int, n_out: int) -> nn.Module:
        return nn.Linear(n_in, n_out) if n_members is None else MemberLinear(n_in, n_out, n_members)

    layers: list[nn.Module] = []
    for hidden in hidden_dims:
        layers += [linear(width, int(hidden)), nn.ReLU(), nn.Dropout(dropout)]
        width = int(hidden)
    layers.append(linear(width, n_classes))
    return nn.Sequential(*layers)


def _pair_key(source: str, target: str) -> str:
    return f"{source}__to__{target}"


class DeepGAMINet(nn.Module):
    r"""Biologically guided multi-modal classifier with cross-modal latent imputation.

    Each modality ``m`` is encoded to latents :math:`C_m` on the shared latent nodes; for every
    ordered pair ``(a, b)`` an auxiliary map estimates :math:`\hat C_b = f_{ab}(C_a)`. A sample
    missing modality ``b`` uses the mean of :math:`f_{ab}(C_a)` over its observed ``a``. The
    completed latents are concatenated (modality order fixed at construction), followed by
    ``n_covariates`` covariates when there are any, and fed to a feed-forward head (Linear,
    ReLU, Dropout per hidden layer) that returns class logits (or a value, or a log-risk). A
    single modality is the guided network alone: no auxiliary map, nothing to impute.

    The module holds ``n_members`` such networks (an ensemble; predictions average their
    probabilities) and ``n_null_members`` more trained on permuted labels (a null for link
    prioritisation, never used to predict), all batched: latents have shape
    (n_samples, n_slots, n_latent) and logits (n_samples, n_slots, n_classes), with
    ``n_slots = n_members + n_null_members``, the real members first.

    Parameters
    ----------
    encoders : mapping of modality name -> module
        Each maps (n_samples, n_features_m) to (n_samples, n_slots * n_latent), member-major.
    n_latent : int
    n_classes : int
    hidden_dims : sequence of int
    dropout : float
    aux_map : str or callable
        ``"scalar"``, ``"per_node"``, ``"mlp"`` or a factory ``f(n_latent) -> nn.Module``.
    n_members, n_null_members : int
    n_covariates : int
        Width of the encoded covariates the head reads beside the latents (0: none).
    upper : UpperTower, optional
        The latent types above the shared latent nodes (pathways) of a deeper prior: each
        modality's completed latents pass through it, and the head reads its ``n_read`` nodes
        (the tops of the paths) per modality instead of the latents.
    level_heads : bool
        With ``upper``: one linear head per latent level (the meeting type and each type above
        it, every modality's nodes), for deep supervision (:meth:`classify` ``with_levels``).
    """

    def __init__(
        self,
        encoders: Mapping[str, nn.Module],
        n_latent: int,
        n_classes: int,
        hidden_dims: Sequence[int] = (64,),
        dropout: float = 0.3,
        aux_map: AuxiliaryMapSpec = "scalar",
        n_members: int = 1,
        n_null_members: int = 0,
        n_covariates: int = 0,
        upper: UpperTower | None = None,
        level_heads: bool = False,
    ) -> None:
        super().__init__()
        if not encoders:
            msg = "DeepGAMINet needs at least one modality"
            raise ValueError(msg)
        self.modalities = list(encoders)
        self.n_latent = int(n_latent)
        self.n_members, self.n_null_members = int(n_members), int(n_null_members)
        self.n_slots = self.n_members + self.n_null_members
        self.encoders = nn.ModuleDict(encoders)
        self.aux_maps = nn.ModuleDict(
            {_pair_key(a, b): make_auxiliary_map(aux_map, self.n_latent, self.n_slots) for a, b in permutations(self.modalities, 2)}
        )
        self.n_covariates = int(n_covariates)
        self.upper = upper
        width = (self.n_latent if upper is None else upper.n_read) * len(self.modalities) + self.n_covariates
        self.head = feedforward_head(width, hidden_dims, n_classes, dropout, self.n_slots)
        self.level_heads = None
        if level_heads and upper is not None:
            k = len(self.modalities)
            self.level_heads = nn.ModuleDict({t: MemberLinear(upper.widths[t] * k, n_classes, self.n_slots) for t in upper.level_types})

    @classmethod
    def from_graph(
        cls,
        graph: RegulatoryGraph | None,
        n_features: Mapping[str, int],
        n_classes: int,
        *,
        latent_dim: int = 100,
        latent_activation: str = "relu",
        kernel: str = "auto",
        edge_init_scale: float = 1.0,
        n_members: int = 1,
        n_null_members: int = 0,
        member_seeds: Sequence[int] | None = None,
        **head_kwargs,
    ) -> DeepGAMINet:
        """Build encoders from a prior graph restricted to the data.

        Modalities whose name is a source node type of ``graph`` get a :class:`GuidedEncoder`
        over their relations to the latent node type where the inputs meet (or a
        :class:`LayeredEncoder` through latent types of their own on the way); the others a
        :class:`DenseEncoder` to the same latent nodes (to the lowest level of a hierarchy
        there). Latent types above it form an
        :class:`UpperTower`. Without a graph (or without edges) every modality is dense to
        ``latent_dim`` latent nodes. With ``member_seeds`` (one per slot), slot ``k`` starts
        exactly as a one-member network built after ``torch.manual_seed(member_seeds[k])``.
        """
        n_slots = n_members + n_null_members
        if member_seeds is not None:
            if len(member_seeds) != n_slots:
                msg = f"member_seeds needs one seed per slot ({n_slots}), got {len(member_seeds)}"
                raise ValueError(msg)
            args = (graph, n_features, n_classes)
            kwargs = dict(latent_dim=latent_dim, latent_activation=latent_activation, kernel=kernel, edge_init_scale=edge_init_scale, **head_kwargs)
            net = cls.from_graph(*args, n_members=n_members, n_null_members=n_null_members, **kwargs)
            for k, seed in enumerate(member_seeds):
                torch.manual_seed(int(seed))
                net.set_member(k, cls.from_graph(*args, **kwargs))
            return net
        guided = graph is not None and bool(graph.edge_types)
        n_latent = graph.num_nodes(graph.latent_type) if guided else latent_dim
        options = dict(activation=latent_activation, kernel=kernel, n_members=n_slots, init_scale=edge_init_scale)
        # A modality without prior edges feeds the lowest level of a hierarchy at the meeting type
        # (bench/study_dense_modality_deep.md), or every latent node.
        levels = graph.layout.levels.get(graph.layout.meeting) if guided else None
        lowest = None if levels is None else torch.nonzero(torch.as_tensor(levels) == 0).flatten()
        encoders: dict[str, nn.Module] = {}
        for modality, count in n_features.items():
            relations = graph.relations_from(modality) if graph is not None else []
            if relations and graph.layout.own[modality]:
                encoders[modality] = LayeredEncoder(graph, modality, **options)
            elif relations:
                encoders[modality] = GuidedEncoder(count, n_latent, {t[1]: graph.edge_index(t) for t in relations}, **options)
            else:
                encoders[modality] = DenseEncoder(count, n_latent, latent_activation, n_members=n_slots, nodes=lowest)
        deeper = guided and (graph.layout.above or graph.layout.meeting in graph.layout.levels)
        upper = UpperTower(graph, **options) if deeper else None
        return cls(encoders, n_latent, n_classes, n_members=n_members, n_null_members=n_null_members, upper=upper, **head_kwargs)

    # ------------------------------------------------------------------ members
    def slot_parameters(self, slot: int) -> dict[str, Tensor]:
        """Flat views of slot ``slot``'s share of every parameter, keyed by the parameter's name
        in a one-member network (member-major parameters, or a user map's own copy)."""
        memberwise = [name for name, module in self.named_modules() if isinstance(module, MemberwiseMap)]
        views = {}
        for name, value in self.named_parameters():
            owner = next((m for m in memberwise if name.startswith(f"{m}.maps.")), None)
            if owner is None:
                views[name] = member_slice(value, self.n_slots, slot)
                continue
            index, _, rest = name[len(owner) + len(".maps.") :].partition(".")
            if int(index) == slot:
                views[f"{owner}.maps.0.{rest}"] = value.view(-1)
        return views

    def set_member(self, slot: int, single: DeepGAMINet) -> None:
        """Copy a one-member network's parameters into slot ``slot``."""
        params = dict(single.named_parameters())
        self.load_member_state(slot, {name: value.reshape(-1) for name, value in params.items()})

    def member_state(self, slot: int) -> dict[str, Tensor]:
        """Copies of slot ``slot``'s share of every parameter (flat, keyed as in :meth:`slot_parameters`)."""
        return {name: view.detach().clone() for name, view in self.slot_parameters(slot).items()}

    def load_member_state(self, slot: int, state: Mapping[str, Tensor]) -> None:
        """Write :meth:`member_state` output (or any flat tensors under those keys) into slot ``slot``."""
        with torch.no_grad():
            for name, view in self.slot_parameters(slot).items():
                view.copy_(state[name])

    def ensemble_score(
        self, logits: Tensor, output: str = "proba", *, null: bool = False, score: Callable[[Tensor], Tensor] | None = None
    ) -> Tensor:
        """(n, n_slots, n_outputs) outputs -> (n, n_outputs): the mean over the real members (or
        the null members) of their predictions (``"proba"``: ``score`` of the outputs, class
        probabilities by default) or raw outputs (``"logit"``)."""
        part = logits[:, self.n_members :] if null else logits[:, : self.n_members]
        if output == "proba":
            part = score(part) if score is not None else torch.softmax(part, dim=2)
        return part.mean(dim=1)

    # ------------------------------------------------------------------ pieces
    def encode(self, x_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Latents (n_samples, n_slots, n_latent) for the modalities given in ``x_dict``."""
        unknown = set(x_dict) - set(self.modalities)
        if unknown:
            msg = f"unknown modalities {sorted(unknown)}; the model knows {self.modalities}"
            raise KeyError(msg)
        z = {m: self.encoders[m](x) for m, x in x_dict.items()}
        return {m: value.view(value.shape[0], self.n_slots, self.n_latent) for m, value in z.items()}

    def complete(
        self, z_dict: Mapping[str, Tensor], observed: Mapping[str, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Latents for every modality: observed rows kept, missing rows imputed.

        ``observed[m]`` is a BoolTensor of shape (n_samples,); a modality absent from ``z_dict``
        counts as unobserved for every sample, and its input is never read.
        """
        observed = self._observed(z_dict, observed)
        full = {}
        for target in self.modalities:
            target_obs = observed.get(target)
            if target_obs is not None and bool(target_obs.all()):
                full[target] = z_dict[target]
                continue
            total, count = 0.0, 0.0
            for source, z in z_dict.items():
                if source == target:
                    continue
                estimate = self.aux_maps[_pair_key(source, target)](z)
                if bool(observed[source].all()):  # the common case: no select, count stays a float
                    total, count = total + estimate, count + 1.0
                    continue
                seen = observed[source].view(-1, 1, 1)
                # Select, not multiply by 0: an unobserved row's input may hold NaN or inf.
                total = total + torch.where(seen, estimate, torch.zeros_like(estimate))
                count = count + seen.to(z.dtype)
            imputed = total / (count.clamp(min=1.0) if isinstance(count, Tensor) else max(count, 1.0))
            full[target] = imputed if target_obs is None else torch.where(target_obs.view(-1, 1, 1), z_dict[target], imputed)
        return full

    def classify(
        self, full: Mapping[str, Tensor], covariates: Tensor | None = None, *, with_levels: bool = False
    ) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """Logits (n_samples, n_slots, n_classes) from completed latents and, for a network with
        covariates, the encoded covariates (n_samples, n_covariates). ``with_levels``: also the
        level heads' logits, node type -> (n_samples, n_slots, n_classes) (empty without them)."""
        parts = [full[m] for m in self.modalities]
        levels: dict[str, Tensor] = {}
        if self.upper is not None:
            # Every modality's latents through the shared upper levels in one pass.
            tops, values = self.upper(torch.cat(parts, dim=0), with_levels=True)
            parts = list(tops.chunk(len(parts), dim=0))
            if with_levels and self.level_heads is not None:
                for node_type, head in self.level_heads.items():
                    levels[node_type] = head(torch.cat(values[node_type].chunk(len(self.modalities), dim=0), dim=2))
        if self.n_covariates:
            if covariates is None:
                msg = f"this network reads {self.n_covariates} covariate columns beside the latents; pass covariates"
                raise ValueError(msg)
            parts.append(covariates.unsqueeze(1).expand(-1, self.n_slots, -1))
        logits = self.head(torch.cat(parts, dim=2))
        return (logits, levels) if with_levels else logits

    def forward(
        self,
        x_dict: Mapping[str, Tensor],
        observed: Mapping[str, Tensor] | None = None,
        covariates: Tensor | None = None,
    ) -> Tensor:
        """Logits (n_samples, n_slots, n_classes) from any non-empty subset of modalities (and the
        covariates (n_samples, n_covariates) of a network that has them)."""
        return self.classify(self.complete(self.encode(x_dict), observed), covariates)

    def edge_weight_l1(self) -> Tensor:
        """Sum of the absolute weights of every prior edge, at every level (a scalar)."""
        norms = [conv.weight.abs().sum() for conv in self.modules() if isinstance(conv, BioDropConnect)]
        return torch.stack(norms).sum() if norms else next(self.parameters()).new_zeros(())

    def auxiliary_loss(
        self,
        z_dict: Mapping[str, Tensor],
        observed: Mapping[str, Tensor] | None = None,
        pair_counts: Mapping[tuple[str, str], Tensor] | None = None,
        member_rows: Tensor | None = None,
    ) -> Tensor:
        """Sum over ordered pairs (and members) of the MSE between ``f_ab(C_a)`` and ``C_b`` on samples with both.

        ``member_rows`` (n_samples, n_slots), optional, marks the samples each member trains on
        (cross-fitting); ``pair_counts[(a, b)]`` (a tensor of shape (n_slots,) or (1,))
        replaces the number of samples each pair's squared error is averaged over (a batch
        split across processes averages over the whole batch).
        """
        observed = self._observed(z_dict, observed)
        loss = next(iter(z_dict.values())).new_zeros(())
        for source, target in permutations(z_dict, 2):
            both = observed[source] & observed[target]
            if not both.any():
                continue
            # Without missing rows (the common case) skip the gathers.
            every = bool(both.all())
            z_source, z_target = (z_dict[source], z_dict[target]) if every else (z_dict[source][both], z_dict[target][both])
            rows = member_rows if member_rows is None or every else member_rows[both]
            estimate = self.aux_maps[_pair_key(source, target)](z_source)
            error = (estimate - z_target).square().sum(dim=2)  # (n_both, n_slots)
            if rows is not None:
                error = error * rows.to(error.dtype)
            if pair_counts is not None:
                count = pair_counts[(source, target)].to(error.device)
            elif rows is not None:
                count = rows.sum(dim=0).to(error.dtype)
            else:
                count = both.sum().to(error.dtype)
            loss = loss + (error.sum(dim=0) / (count.clamp(min=1) * self.n_latent)).sum()
        return loss

    def _observed(self, z_dict: Mapping[str, Tensor], observed: Mapping[str, Tensor] | None) -> dict[str, Tensor]:
        if not z_dict:
            msg = "at least one modality is needed to predict"
            raise ValueError(msg)
        n_samples = next(iter(z_dict.values())).shape[0]
        device = next(iter(z_dict.values())).device
        observed = dict(observed or {})
        out = {m: observed.get(m, torch.ones(n_samples, dtype=torch.bool, device=device)) for m in z_dict}
        if not bool(torch.stack(list(out.values())).any(dim=0).all()):
            msg = "every sample needs at least one observed modality"
            raise ValueError(msg)
        return out
