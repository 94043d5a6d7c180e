"""Prioritisation by integrated gradients: input features, latent nodes and prior edges.

One verb in captum's shape: ``Explainer(model, X, ...)`` prepares the samples once, then
:meth:`Explainer.features`, :meth:`Explainer.latents` and :meth:`Explainer.edges` each return
one result type; :func:`explain_model` runs all three for ``deepgami explain``.

- Features: captum's :class:`~captum.attr.IntegratedGradients` on every modality's (scaled)
  inputs, per class, from a baseline of zeros (the training mean under standard scaling) or
  the training mean.
- Latent nodes: captum's :class:`~captum.attr.LayerIntegratedGradients` on each modality's
  latent and on the fused (concatenated) latent that enters the classifier.
- Edges: integrated gradients over one multiplier per prior edge, shared by every relation,
  integrated from all edges off to all on. Written here rather than with captum because a
  captum input must carry a separate mask per sample (n_samples x n_edges x n_steps floats);
  the path is the same for every sample, so one batched forward/backward per step gives every
  sample's edge attributions from the gradient at the relation outputs:
  ``dF_k/dm_e = w_e * x[k, src_e] * dF_k/dout[k, dst_e]``.

Attributions are of the task's prediction (``output="proba"``: a class probability, a predicted
value, a log-risk) or the network's raw output (``"logit"``), per output: per class for a
classification, one ``class`` named ``predicted`` (regression) or ``risk`` (survival) otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients
from torch import Tensor, nn
from tqdm.auto import tqdm

from ._typing import EdgeType
from .batches import Batchable
from .estimator import DeepGAMIEstimator
from .graph import relation_name
from .nn.conv import BioDropConnect
from .nn.encoder import GuidedEncoder
from .nn.stages import LayeredEncoder, UpperTower
from .paths import level_inflow

log = logging.getLogger(__name__)

BASELINES = ("zeros", "mean")
OUTPUTS = ("proba", "logit")
# Per-sample edge attributions are accumulated for at most this many (sample, edge) pairs at
# once (about 256 MB each for the gathered inputs and gradients in float32).
EDGE_CHUNK_ELEMENTS = 1 << 26
# Edge stability: the share of members whose own top 5 % of edges (per class) holds the edge.
STABILITY_TOP = 0.05
# The ``modality`` of covariate rows in the feature table.
COVARIATES = "covariates"


@dataclass
class Explanation:
    """Summaries of every attribution, tidy tables ranked per class.

    Attributes
    ----------
    features : DataFrame with columns modality, feature, class, score, abs_score, rank
    latents : DataFrame with columns layer, node, level, class, score, abs_score, rank
        ``layer`` is a modality (its own latent) or ``"fused:<modality>"`` (the completed
        latent entering the classifier, observed or imputed); for a prior deeper than one hop
        also ``"inflow"``: every latent node of every level with its summed incoming edge
        attributions (:func:`deepgami.paths.level_inflow`), ranked within class and level.
    edges : DataFrame with columns edge_type, source, target, class, score, abs_score, rank, weight,
        stability, q_value (see :meth:`Explainer.edges`)
    settings : dict, the settings used
    completeness : dict of class -> dict of gaps (edge and feature attributions)
    feature_per_sample : dict of class -> modality -> ndarray (n_samples, n_features), or None
        Per-sample feature attributions (:attr:`FeatureAttributions.per_sample`), rows in the
        order of the explained samples (``Explainer.data.samples``).
    """

    features: pd.DataFrame
    latents: pd.DataFrame
    edges: pd.DataFrame
    settings: dict = field(default_factory=dict)
    completeness: dict = field(default_factory=dict)
    feature_per_sample: dict | None = None


@dataclass
class FeatureAttributions:
    """Input-feature attributions.

    Attributes
    ----------
    table : DataFrame with columns modality, feature, class, score (mean attribution over the
        samples observed in the modality), abs_score (mean ``|attribution|``), rank
    per_sample : dict of class -> modality -> ndarray (n_samples, n_features)
    deltas : dict of class -> ndarray (n_samples,), captum's convergence delta per sample
    """

    table: pd.DataFrame
    per_sample: dict
    deltas: dict


@dataclass
class EdgeAttributions:
    """Prior-edge attributions (see :meth:`Explainer.edges`).

    Attributes
    ----------
    table : DataFrame with columns edge_type, source, target, class, score, abs_score, rank,
        weight, stability, q_value
    completeness : dict of class -> {"sum_attributions", "output_difference", "max_abs_gap",
        "relative_gap"}
    per_sample : dict of class -> edge type -> ndarray (n_samples, n_edges), or None unless asked for
    """

    table: pd.DataFrame
    completeness: dict
    per_sample: dict | None = None


class _ClassScore(nn.Module):
    """Wraps the network for captum: ``forward(*x, [covariates], *observed) -> (n_samples, n_outputs)``,
    the ensemble's score (mean over the real members); the covariates tensor comes after the
    modalities' inputs when ``with_covariates``."""

    def __init__(
        self, module: nn.Module, modalities: Sequence[str], output: str, score: Callable[[Tensor], Tensor], with_covariates: bool = False
    ) -> None:
        super().__init__()
        self.module, self.modalities, self.output, self.score = module, list(modalities), output, score
        self.with_covariates = with_covariates

    def forward(self, *tensors: Tensor) -> Tensor:
        n = len(self.modalities)
        x_dict = dict(zip(self.modalities, tensors[:n]))
        covariates = tensors[n] if self.with_covariates else None
        observed = dict(zip(self.modalities, tensors[n + self.with_covariates :]))
        return self.module.ensemble_score(self.module(x_dict, observed, covariates=covariates), self.output, score=self.score)


def _rank(frame: pd.DataFrame) -> pd.DataFrame:
    frame["rank"] = frame.groupby("class")["abs_score"].rank(ascending=False, method="first").astype(int)
    return frame.sort_values(["class", "rank"], ignore_index=True)


def _summarise(per_sample: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean signed and mean absolute attribution over the observed samples: (n_items,) each."""
    rows = per_sample[observed]
    if len(rows) == 0:
        return np.zeros(per_sample.shape[1]), np.zeros(per_sample.shape[1])
    return rows.mean(axis=0), np.abs(rows).mean(axis=0)


class Explainer:
    """Integrated-gradients prioritisation of a fitted model on the samples of ``X``.

    Parameters
    ----------
    model : fitted DeepGAMIClassifier, DeepGAMIRegressor or DeepGAMISurvival
    X : mapping of modality -> DataFrame, or MultiOmicsData
    use_modalities : modalities to predict from (the others are imputed and get no attribution)
    covariates : DataFrame, optional
        The samples' covariates, for a model fitted with them (or those of a MultiOmicsData ``X``).
    baseline : {"zeros", "mean"}
        Features and latents: zeros in the scaled space (the training mean under standard
        scaling) or the scaled training mean.
    n_steps : int, default=50
        Quadrature steps of every integral.
    internal_batch_size : passed to captum (features and latents)
    output : {"proba", "logit"}
        Attribute the ensemble's prediction (class probability, value, log-risk) or raw output.
    stability_top : float, default=STABILITY_TOP
        Edges: the top share of each member's own ranking that counts for ``stability``.
    progress : bool, default=False
        Show a progress bar over the edge attribution chunks.
    """

    def __init__(
        self,
        model: DeepGAMIEstimator,
        X,
        *,
        use_modalities: Sequence[str] | None = None,
        covariates: pd.DataFrame | None = None,
        baseline: str = "zeros",
        n_steps: int = 50,
        internal_batch_size: int | None = None,
        output: str = "proba",
        stability_top: float = STABILITY_TOP,
        progress: bool = False,
    ) -> None:
        for name, value, allowed in (("output", output, OUTPUTS), ("baseline", baseline, BASELINES)):
            if value not in allowed:
                msg = f"{name} must be one of {allowed} (got {value!r})"
                raise ValueError(msg)
        if not 0 < stability_top <= 1:
            msg = f"stability_top must lie in (0, 1] (got {stability_top})"
            raise ValueError(msg)
        self.model, self.baseline, self.n_steps, self.output = model, baseline, n_steps, output
        self.internal_batch_size, self.stability_top, self.progress = internal_batch_size, stability_top, progress
        self.data = model.prediction_data(X, use_modalities, covariates)
        self.batch = model.model_inputs(self.data)
        self.modalities = list(self.batch.x_dict)
        model.module_.eval()

    def _captum_inputs(self) -> tuple[_ClassScore, tuple[Tensor, ...], tuple[Tensor, ...], tuple[Tensor, ...]]:
        """The wrapped network and its inputs, observed masks and baselines, in modality order."""
        inputs = tuple(self.batch.x_dict[m] for m in self.modalities)
        observed = tuple(self.batch.observed[m] for m in self.modalities)
        baselines = []
        for m, x in zip(self.modalities, inputs):
            if self.baseline == "zeros":
                baselines.append(torch.zeros_like(x))
            else:
                scaler = self.model.scalers_[m]
                # The training mean in model-input space; fill_ is already log-transformed for log1p.
                mean = torch.as_tensor(scaler.fill_ * scaler.scale_ + scaler.shift_, device=x.device)
                baselines.append(mean.expand_as(x).contiguous())
        if self.batch.covariates is not None:
            # Covariates from zeros: the training mean of numeric ones, the reference level of the others.
            inputs, baselines = (*inputs, self.batch.covariates), [*baselines, torch.zeros_like(self.batch.covariates)]
        with_covariates = self.batch.covariates is not None
        wrapper = _ClassScore(self.model.module_, self.modalities, self.output, self.model.task_.score, with_covariates)
        return wrapper, inputs, observed, tuple(baselines)

    def features(self) -> FeatureAttributions:
        """Integrated gradients of each class score with respect to every input feature.

        A model with covariates attributes them too: rows with modality ``covariates`` (one per
        encoded column), reported beside, not among, the biological features and left out of
        ``per_sample``.
        """
        model, data = self.model, self.data
        wrapper, inputs, observed, baselines = self._captum_inputs()
        ig = IntegratedGradients(wrapper)
        rows, per_sample, deltas = [], {}, {}
        for c, label in enumerate(model.task_.output_names):
            attributions, delta = ig.attribute(
                inputs,
                baselines=baselines,
                target=c,
                additional_forward_args=observed,
                n_steps=self.n_steps,
                internal_batch_size=self.internal_batch_size,
                return_convergence_delta=True,
            )
            deltas[label] = delta.detach().cpu().numpy()
            per_sample[label] = {}
            for m, attribution in zip(self.modalities, attributions):
                values = attribution.detach().cpu().numpy()
                per_sample[label][m] = values
                score, abs_score = _summarise(values, data.observed[m])
                rows.append(
                    pd.DataFrame(
                        {"modality": m, "feature": model.feature_names_in_[m], "class": label, "score": score, "abs_score": abs_score}
                    )
                )
            if len(attributions) > len(self.modalities):
                score, abs_score = _summarise(attributions[-1].detach().cpu().numpy(), np.ones(len(data), dtype=bool))
                names = model.covariates_.columns_
                rows.append(pd.DataFrame({"modality": COVARIATES, "feature": names, "class": label, "score": score, "abs_score": abs_score}))
        return FeatureAttributions(_rank(pd.concat(rows, ignore_index=True)), per_sample, deltas)

    def latents(self) -> pd.DataFrame:
        """Layer integrated gradients on each modality's latent and on the fused latent.

        Returns a DataFrame with columns layer, node, level, class, score, abs_score, rank:
        ``layer`` is ``<modality>`` for the encoder output of an input modality and
        ``fused:<modality>`` for that modality's block of the completed latent (observed or
        imputed) entering the head, or with a deeper prior, of the nodes the head reads (the
        tops of the paths: root pathways, genes without a pathway); ``level`` is the node type
        of the latent nodes (``gene``, ``pathway``, or ``latent`` without a prior graph).
        """
        model, data = self.model, self.data
        wrapper, inputs, observed, baselines = self._captum_inputs()
        names = model.latent_names()
        level = model.graph_.latent_type if model.graph_ is not None else "latent"
        fused_names, fused_levels = model.head_input_nodes()
        width = len(fused_names)
        layers = [(m, model.module_.encoders[m], False) for m in self.modalities] + [("fused", model.module_.head, True)]
        any_observed = np.logical_or.reduce([data.observed[m] for m in self.modalities])
        rows = []
        for layer_name, layer, to_input in layers:
            lig = LayerIntegratedGradients(wrapper, layer)
            for c, label in enumerate(model.task_.output_names):
                attribution = lig.attribute(
                    inputs,
                    baselines=baselines,
                    target=c,
                    additional_forward_args=observed,
                    n_steps=self.n_steps,
                    internal_batch_size=self.internal_batch_size,
                    attribute_to_layer_input=to_input,
                )
                # Both layers carry a member axis, (n, n_slots * n_latent) or (n, n_slots, width):
                # a node's attribution to the ensemble is the sum over members.
                values = attribution.detach().reshape(len(attribution), model.module_.n_slots, -1).sum(dim=1).cpu().numpy()
                if layer_name == "fused":
                    for i, m in enumerate(model.modalities_):
                        block = values[:, i * width : (i + 1) * width]
                        score, abs_score = _summarise(block, any_observed)
                        rows.append(
                            pd.DataFrame(
                                {"layer": f"fused:{m}", "node": fused_names, "level": fused_levels, "class": label}
                            ).assign(score=score, abs_score=abs_score)
                        )
                else:
                    score, abs_score = _summarise(values, data.observed[layer_name])
                    frame = pd.DataFrame({"layer": layer_name, "node": names, "level": level, "class": label})
                    rows.append(frame.assign(score=score, abs_score=abs_score))
        table = pd.concat(rows, ignore_index=True)
        return _rank(table)

    def edges(self, *, per_sample: bool = False) -> EdgeAttributions:
        """Integrated gradients over a multiplier on every prior edge, all relations at once.

        The path scales every edge's message by ``alpha`` from 0 (all edges off) to 1, so per
        sample and class the attributions sum to ``f(x) - f(x; all edges off)`` up to quadrature
        error (reported in ``completeness``); ``f`` is the ensemble's score. Relations of
        modalities not used for the prediction get no attribution. One pass attributes every
        member's edges, so each member also ranks the edges on its own.

        Returns :class:`EdgeAttributions`: its table has columns edge_type, source, target, class,
        score (mean attribution over samples), abs_score (mean ``|attribution|``), rank, weight
        (learned edge weight, mean over members), stability (share of the members whose own top
        ``stability_top`` share of edges, ranked by their abs_score, holds the edge; 1.0 for a
        single network when the edge is in its top share) and q_value (see below; NaN without
        null members); ``per_sample`` (class -> edge type -> (n_samples, n_edges)) only when
        ``per_sample`` is True (it holds n_samples x n_edges floats per class).

        ``q_value`` is an empirical false-discovery rate from the model's null members (trained
        on permuted labels, scored as an ensemble exactly as the real members are): per class,
        each edge's share of the total abs_score of the first ``min(n_members, null_members)``
        real members is compared with the shares of as many null members (ensembles of
        different sizes are not exchangeable under the null: averaging more members
        concentrates the shares);
        for an edge with share ``s``, the q-value is the smallest over thresholds ``t <= s`` of
        (1 + null edges with share >= t) / (edges with share >= t), capped at 1 (the 1 keeps it
        conservative: at least 1 / q edges must pass for a q-value of q). Shares, because a model that
        learned a signal attributes more to every edge than a null model does; under the complete
        null the two sets of shares are exchangeable, with a signal the causal edges take share
        from the others, which makes the estimate conservative.
        """
        model, data, batch, modalities, output = self.model, self.data, self.batch, self.modalities, self.output
        relations = _prior_relations(model, modalities)
        if not relations:
            msg = f"modalities {modalities} have no prior edges to attribute"
            raise ValueError(msg)
        net = model.module_
        members, slots = net.n_members, net.n_slots
        alphas, quad_weights = _gauss_legendre(self.n_steps)
        n_samples = len(data)
        n_classes = len(model.task_.output_names)
        total_edges = sum(r.conv.n_edges for r in relations)
        chunk = max(1, EDGE_CHUNK_ELEMENTS // max(total_edges, 1))
        edges_of = {r.edge_type: r.conv.n_edges // slots for r in relations}
        sums = {t: np.zeros((n_classes, e)) for t, e in edges_of.items()}
        # The q-values compare equally large ensembles: under the complete null the first `matched`
        # real members and as many null members are exchangeable, while a larger real ensemble
        # averages member noise away and concentrates its shares (10 real against 5 null members
        # let 21-268 edges pass q <= 0.1 on null cohorts, bench/study_ensemble_size.md).
        matched = min(members, net.n_null_members)
        # |attribution| summed over samples: the real ensemble's, the matched null and real
        # sub-ensembles' (for the q-values), then each member's.
        abs_sums = {t: np.zeros((n_classes, 3 + slots, e)) for t, e in edges_of.items()}
        per_sample_values = None
        if per_sample:
            per_sample_values = {
                label: {t: np.zeros((n_samples, e), dtype=np.float32) for t, e in edges_of.items()} for label in model.task_.output_names
            }
        attribution_total = np.zeros((n_samples, n_classes))
        output_difference = np.zeros((n_samples, n_classes))
        wrapper = _ClassScore(net, modalities, output, model.task_.score, batch.covariates is not None)
        any_observed = np.logical_or.reduce([np.asarray(data.observed[m]) for m in modalities])
        starts = range(0, n_samples, chunk)
        for start in tqdm(starts, desc="edge attributions", disable=None if self.progress else True, leave=False):
            rows = torch.arange(start, min(start + chunk, n_samples), device=batch.y.device)
            row_index = rows.cpu().numpy()
            part = batch.rows(rows)
            args = [part.x_dict[m] for m in modalities] + ([] if part.covariates is None else [part.covariates])
            args += [part.observed[m] for m in modalities]
            with torch.no_grad():
                on = wrapper(*args)
                off = _masked_forward(model, part, modalities, relations, torch.tensor(0.0), output)
            output_difference[row_index] = (on - off).detach().cpu().numpy()
            # A relation reading the features sees the same input at every step: gather it once.
            static = {}
            for c, label in enumerate(model.task_.output_names):
                accum = {r.edge_type: torch.zeros(len(rows), r.conv.n_edges, device=rows.device) for r in relations}
                for alpha, quad in zip(alphas, quad_weights):
                    calls: dict[EdgeType, list] = {}
                    # The real and the null ensembles' scores summed: their edges are disjoint, so
                    # one gradient gives each edge its own ensemble's attribution.
                    score = _masked_forward(model, part, modalities, relations, torch.tensor(float(alpha)), output, calls, with_null=True)
                    recorded = [(r, inputs, out) for r in relations for inputs, out in calls.get(r.edge_type, [])]
                    grads = torch.autograd.grad(score[:, c].sum(), [out for *_, out in recorded])
                    for (r, inputs, _), grad in zip(recorded, grads):
                        src, dst = r.conv.edge_index
                        if any(inputs is part.x_dict[m] for m in modalities):
                            if r.edge_type not in static:
                                static[r.edge_type] = inputs.index_select(1, src) * r.conv.weight.detach()
                            gathered = static[r.edge_type]
                        else:
                            gathered = inputs.detach().index_select(1, src) * r.conv.weight.detach()
                        # dF/dm_e = w_e * input[src_e] * dF/dout[dst_e]; the shared upper levels read
                        # every modality's latents stacked along the rows: fold them back per sample.
                        value = float(quad) * grad.index_select(1, dst) * gathered
                        accum[r.edge_type] += value.view(-1, len(rows), value.shape[1]).sum(dim=0)
                for r in relations:
                    t = r.edge_type
                    per_slot = accum[t].view(len(rows), slots, -1).cpu().numpy()
                    observed = (np.asarray(data.observed[r.modality]) if r.modality is not None else any_observed)[row_index]
                    ensemble = per_slot[:, :members].sum(axis=1)
                    null = per_slot[:, members : members + matched].sum(axis=1)
                    real = per_slot[:, :matched].sum(axis=1)
                    sums[t][c] += ensemble[observed].sum(axis=0)
                    abs_sums[t][c, 0] += np.abs(ensemble[observed]).sum(axis=0)
                    abs_sums[t][c, 1] += np.abs(null[observed]).sum(axis=0)
                    abs_sums[t][c, 2] += np.abs(real[observed]).sum(axis=0)
                    abs_sums[t][c, 3:] += np.abs(per_slot[observed]).sum(axis=0)
                    attribution_total[row_index, c] += ensemble.sum(axis=1)
                    if per_sample_values is not None:
                        per_sample_values[label][t][row_index] = ensemble
        tables = []
        for r in relations:
            t, conv = r.edge_type, r.conv
            frame = model.graph_.edge_frame(t)[["source", "target"]]
            n_observed = max(int((data.observed[r.modality] if r.modality is not None else any_observed).sum()), 1)
            weight = conv.weight.detach().view(slots, -1)[:members].mean(dim=0).cpu().numpy()
            for c, label in enumerate(model.task_.output_names):
                tables.append(
                    frame.assign(
                        edge_type=relation_name(t),
                        **{"class": label},
                        score=sums[t][c] / n_observed,
                        abs_score=abs_sums[t][c, 0] / n_observed,
                        weight=weight,
                        _null=abs_sums[t][c, 1] / n_observed,
                        _matched=abs_sums[t][c, 2] / n_observed,
                        **{f"_member{k}": abs_sums[t][c, 3 + k] for k in range(members)},
                    )
                )
        table = pd.concat(tables, ignore_index=True)
        table["stability"] = _stability(table, members, self.stability_top)
        table["q_value"] = _q_values(table) if net.n_null_members else np.nan
        table = _rank(table)
        table = table[["edge_type", "source", "target", "class", "score", "abs_score", "rank", "weight", "stability", "q_value"]]
        gaps = attribution_total - output_difference
        completeness = {
            str(label): {
                "sum_attributions": float(attribution_total[:, c].sum()),
                "output_difference": float(output_difference[:, c].sum()),
                "max_abs_gap": float(np.abs(gaps[:, c]).max()),
                "relative_gap": float(np.abs(gaps[:, c]).sum() / max(np.abs(output_difference[:, c]).sum(), 1e-12)),
            }
            for c, label in enumerate(model.task_.output_names)
        }
        return EdgeAttributions(table, completeness, per_sample_values)


class _Relation(NamedTuple):
    """A prior relation as the network holds it: its conv, and the modality whose rows it
    reads (None for the levels above the shared latents, which read every modality's)."""

    modality: str | None
    conv: BioDropConnect
    edge_type: EdgeType


def _prior_relations(model: DeepGAMIEstimator, modalities: Sequence[str]) -> list[_Relation]:
    """Every prior relation the prediction from ``modalities`` passes through, at every level."""
    net = model.module_
    out = []
    for m in modalities:
        encoder = net.encoders[m]
        if isinstance(encoder, GuidedEncoder):
            edge_types = [next(t for t in model.graph_.edge_types if t[0] == m and t[1] == relation) for relation in encoder.relations]
            out += [_Relation(m, conv, t) for conv, t in zip(encoder.convs, edge_types)]
        elif isinstance(encoder, LayeredEncoder):
            out += [_Relation(m, conv, t) for conv, t in zip(_convs(encoder), encoder.edge_types)]
    if net.upper is not None and out:
        out += [_Relation(None, conv, t) for conv, t in zip(_convs(net.upper), net.upper.edge_types)]
    return out


def _convs(module: LayeredEncoder | UpperTower) -> list[BioDropConnect]:
    """The convs of a stack of stages, in the order of its ``edge_types``."""
    return [conv for stage in module.stages.values() for conv in stage.convs]


def _gauss_legendre(n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in (0, 1) and weights summing to 1 (captum's default quadrature)."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    return (nodes + 1) / 2, weights / 2


def _stability(table: pd.DataFrame, members: int, top: float) -> np.ndarray:
    """Per row, the share of members whose own top ``top`` share of edges (per class) holds it."""
    selected = np.zeros(len(table))
    for _, rows in table.groupby("class").groups.items():
        k = max(1, int(np.ceil(top * len(rows))))
        for member in range(members):
            scores = table.loc[rows, f"_member{member}"].to_numpy()
            chosen = rows[np.argsort(-scores, kind="stable")[:k]]
            selected[table.index.get_indexer(chosen)] += 1
    return selected / members


def _q_values(table: pd.DataFrame) -> np.ndarray:
    """Empirical false-discovery q-values, per class, of the edges' shares of the real
    sub-ensemble's abs_score (``_matched``) against the equally large null ensemble's (``_null``)."""
    q = np.ones(len(table))
    for _, rows in table.groupby("class").groups.items():
        observed = table.loc[rows, "_matched"].to_numpy()
        observed = observed / max(observed.sum(), 1e-300)
        null = table.loc[rows, "_null"].to_numpy()
        null = np.sort(null / max(null.sum(), 1e-300))
        order = np.argsort(-observed, kind="stable")
        # At the threshold of the i-th best edge: i + 1 edges and this many null edges pass;
        # one null edge more than seen (as knockoff+ does) keeps the estimate from reaching 0.
        null_passing = len(null) - np.searchsorted(null, observed[order], side="left")
        fdr = np.minimum((null_passing + 1) / np.arange(1, len(order) + 1), 1.0)
        # q: the smallest FDR over thresholds at or below the edge's score (a running minimum from the bottom).
        q_sorted = np.minimum.accumulate(fdr[::-1])[::-1]
        q[table.index.get_indexer(rows[order])] = q_sorted
    return q


def _masked_forward(
    model,
    part: Batchable,
    modalities,
    relations: Sequence[_Relation],
    alpha: Tensor,
    output: str,
    calls: dict | None = None,
    *,
    with_null: bool = False,
) -> Tensor:
    """The ensemble's class scores (plus the null ensemble's, if ``with_null`` and the model has
    null members) with every prior edge's message scaled by ``alpha``; each relation's
    (input, output) pairs, one per call, go to ``calls`` (a hierarchy is called once per level)."""
    handles = []
    for r in relations:
        mask = alpha.to(r.conv.weight.device)
        handles.append(r.conv.register_forward_pre_hook(lambda _m, args, kwargs, mask=mask: (args, {**kwargs, "edge_mask": mask}), with_kwargs=True))
        if calls is not None:
            def keep(_module, inputs, out, t=r.edge_type):
                calls.setdefault(t, []).append((inputs[0], out))
            handles.append(r.conv.register_forward_hook(keep))
    try:
        with torch.enable_grad():
            logits = model.module_(
                {m: part.x_dict[m] for m in modalities}, {m: part.observed[m] for m in modalities}, covariates=part.covariates
            )
        score = model.module_.ensemble_score(logits, output, score=model.task_.score)
        if with_null and model.module_.n_null_members:
            score = score + model.module_.ensemble_score(logits, output, null=True, score=model.task_.score)
        return score
    finally:
        for handle in handles:
            handle.remove()


def explain_model(model: DeepGAMIEstimator, X, **options) -> Explanation:
    """Feature, latent and edge attributions of ``model`` on the samples of ``X``: one
    :class:`Explainer` (``options`` are its keyword arguments), all three verbs."""
    explainer = Explainer(model, X, **options)
    settings = {
        "n_samples": len(explainer.data),
        "use_modalities": explainer.modalities,
        "baseline": explainer.baseline,
        "n_steps": explainer.n_steps,
        "output": explainer.output,
        "method": "integrated gradients (Gauss-Legendre)",
    }
    features = explainer.features()
    completeness = {str(label): {"features_max_abs_delta": float(np.abs(d).max())} for label, d in features.deltas.items()}
    if model.graph_ is not None and _prior_relations(model, explainer.modalities):
        edges = explainer.edges()
        for label, gaps in edges.completeness.items():
            completeness[label].update({f"edges_{k}": v for k, v in gaps.items()})
        edge_table = edges.table
    else:
        edge_table = pd.DataFrame(columns=["edge_type", "source", "target", "class", "score", "abs_score", "rank", "weight", "stability", "q_value"])
    latents = explainer.latents()
    if len(edge_table) and not model.graph_.layout.one_hop:
        # A deep prior's latent levels beyond what the layer attributions cover: each node's
        # attribution inflow at every level (ranked within class and level).
        latents = pd.concat([latents, level_inflow(edge_table, model.graph_.layout.order)], ignore_index=True)
    return Explanation(features.table, latents, edge_table, settings, completeness, features.per_sample)
