"""Prioritisation by integrated gradients: input features, latent nodes and prior edges.

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

Attributions are of the class probability (``output="proba"``) or logit (``"logit"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients
from torch import Tensor, nn
from tqdm.auto import tqdm

from .estimator import DeepGAMIClassifier
from .nn.encoder import GuidedEncoder
from .batches import Batchable

log = logging.getLogger(__name__)

BASELINES = ("zeros", "mean")
OUTPUTS = ("proba", "logit")
# Per-sample edge attributions are accumulated for at most this many (sample, edge) pairs at
# once (about 256 MB each for the gathered inputs and gradients in float32).
EDGE_CHUNK_ELEMENTS = 1 << 26


@dataclass
class Explanation:
    """Summaries of every attribution, tidy tables ranked per class.

    Attributes
    ----------
    features : DataFrame with columns modality, feature, class, score, abs_score, rank
    latents : DataFrame with columns layer, node, class, score, abs_score, rank
        ``layer`` is a modality (its own latent) or ``"fused:<modality>"`` (the completed
        latent entering the classifier, observed or imputed).
    edges : DataFrame with columns edge_type, source, target, class, score, abs_score, rank, weight
    settings : dict, the settings used
    completeness : dict of class -> dict of gaps (edge and feature attributions)
    """

    features: pd.DataFrame
    latents: pd.DataFrame
    edges: pd.DataFrame
    settings: dict = field(default_factory=dict)
    completeness: dict = field(default_factory=dict)


class _ClassScore(nn.Module):
    """Wraps the network for captum: ``forward(*x, *observed) -> (n_samples, n_classes)``."""

    def __init__(self, module: nn.Module, modalities: Sequence[str], output: str) -> None:
        super().__init__()
        self.module, self.modalities, self.output = module, list(modalities), output

    def forward(self, *tensors: Tensor) -> Tensor:
        n = len(self.modalities)
        x_dict = dict(zip(self.modalities, tensors[:n]))
        observed = dict(zip(self.modalities, tensors[n:]))
        logits = self.module(x_dict, observed)
        return torch.softmax(logits, dim=1) if self.output == "proba" else logits


def _prepare(model: DeepGAMIClassifier, X, use_modalities, output: str):
    if output not in OUTPUTS:
        msg = f"output must be one of {OUTPUTS} (got {output!r})"
        raise ValueError(msg)
    data = model._prediction_data(X, use_modalities)
    batch = model._tensors(data)
    model.module_.eval()
    return data, batch


def _baselines(model: DeepGAMIClassifier, batch: Batchable, baseline: str) -> tuple[Tensor, ...]:
    if baseline not in BASELINES:
        msg = f"baseline must be one of {BASELINES} (got {baseline!r})"
        raise ValueError(msg)
    out = []
    for m, x in batch.x_dict.items():
        if baseline == "zeros":
            out.append(torch.zeros_like(x))
        else:
            scaler = model.scalers_[m]
            # The training mean in model-input space; fill_ is already log-transformed for log1p.
            mean = torch.as_tensor(scaler.fill_ * scaler.scale_ + scaler.shift_, device=x.device)
            out.append(mean.expand_as(x).contiguous())
    return tuple(out)


def _rank(frame: pd.DataFrame) -> pd.DataFrame:
    frame["rank"] = frame.groupby("class")["abs_score"].rank(ascending=False, method="first").astype(int)
    return frame.sort_values(["class", "rank"], ignore_index=True)


def _summarise(per_sample: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean signed and mean absolute attribution over the observed samples: (n_items,) each."""
    rows = per_sample[observed]
    if len(rows) == 0:
        return np.zeros(per_sample.shape[1]), np.zeros(per_sample.shape[1])
    return rows.mean(axis=0), np.abs(rows).mean(axis=0)


def feature_importance(
    model: DeepGAMIClassifier,
    X,
    *,
    use_modalities: Sequence[str] | None = None,
    baseline: str = "zeros",
    n_steps: int = 50,
    internal_batch_size: int | None = None,
    output: str = "proba",
    return_per_sample: bool = False,
):
    """Integrated gradients of each class score with respect to every input feature.

    Parameters
    ----------
    model : fitted DeepGAMIClassifier
    X : mapping of modality -> DataFrame, or MultiOmicsData
    use_modalities : modalities to predict from (the others are imputed and get none)
    baseline : {"zeros", "mean"}
        Zeros in the scaled space (the training mean under standard scaling) or the scaled
        training mean.
    n_steps, internal_batch_size : passed to captum
    output : {"proba", "logit"}
    return_per_sample : also return a dict of class -> modality -> ndarray (n_samples, n_features)

    Returns
    -------
    DataFrame with columns modality, feature, class, score (mean attribution), abs_score
    (mean ``|attribution|``), rank; plus ``(table, per_sample, deltas)`` when ``return_per_sample``,
    where ``deltas[class]`` is captum's convergence delta per sample.
    """
    data, batch = _prepare(model, X, use_modalities, output)
    modalities = list(batch.x_dict)
    wrapper = _ClassScore(model.module_, modalities, output)
    ig = IntegratedGradients(wrapper)
    inputs = tuple(batch.x_dict[m] for m in modalities)
    observed = tuple(batch.observed[m] for m in modalities)
    baselines = _baselines(model, batch, baseline)
    rows, per_sample, deltas = [], {}, {}
    for c, label in enumerate(model.classes_):
        attributions, delta = ig.attribute(
            inputs,
            baselines=baselines,
            target=c,
            additional_forward_args=observed,
            n_steps=n_steps,
            internal_batch_size=internal_batch_size,
            return_convergence_delta=True,
        )
        deltas[label] = delta.detach().cpu().numpy()
        per_sample[label] = {}
        for m, attribution in zip(modalities, attributions):
            values = attribution.detach().cpu().numpy()
            per_sample[label][m] = values
            score, abs_score = _summarise(values, data.observed[m])
            rows.append(
                pd.DataFrame(
                    {"modality": m, "feature": model.feature_names_in_[m], "class": label, "score": score, "abs_score": abs_score}
                )
            )
    table = _rank(pd.concat(rows, ignore_index=True))
    return (table, per_sample, deltas) if return_per_sample else table


def latent_importance(
    model: DeepGAMIClassifier,
    X,
    *,
    use_modalities: Sequence[str] | None = None,
    baseline: str = "zeros",
    n_steps: int = 50,
    internal_batch_size: int | None = None,
    output: str = "proba",
) -> pd.DataFrame:
    """Layer integrated gradients on each modality's latent and on the fused latent.

    Returns a DataFrame with columns layer, node, class, score, abs_score, rank: ``layer`` is
    ``<modality>`` for the encoder output of an input modality and ``fused:<modality>`` for
    that modality's block of the completed latent (observed or imputed) entering the head.
    """
    data, batch = _prepare(model, X, use_modalities, output)
    modalities = list(batch.x_dict)
    wrapper = _ClassScore(model.module_, modalities, output)
    inputs = tuple(batch.x_dict[m] for m in modalities)
    observed = tuple(batch.observed[m] for m in modalities)
    baselines = _baselines(model, batch, baseline)
    names = model.latent_names()
    n_latent = len(names)
    layers = [(m, model.module_.encoders[m], False) for m in modalities] + [("fused", model.module_.head, True)]
    any_observed = np.logical_or.reduce([data.observed[m] for m in modalities])
    rows = []
    for layer_name, layer, to_input in layers:
        lig = LayerIntegratedGradients(wrapper, layer)
        for c, label in enumerate(model.classes_):
            attribution = lig.attribute(
                inputs,
                baselines=baselines,
                target=c,
                additional_forward_args=observed,
                n_steps=n_steps,
                internal_batch_size=internal_batch_size,
                attribute_to_layer_input=to_input,
            )
            values = attribution.detach().cpu().numpy()
            if layer_name == "fused":
                for i, m in enumerate(model.modalities_):
                    block = values[:, i * n_latent : (i + 1) * n_latent]
                    score, abs_score = _summarise(block, any_observed)
                    rows.append(pd.DataFrame({"layer": f"fused:{m}", "node": names, "class": label, "score": score, "abs_score": abs_score}))
            else:
                score, abs_score = _summarise(values, data.observed[layer_name])
                rows.append(pd.DataFrame({"layer": layer_name, "node": names, "class": label, "score": score, "abs_score": abs_score}))
    return _rank(pd.concat(rows, ignore_index=True))


def _guided_relations(model: DeepGAMIClassifier, modalities: Sequence[str]):
    """(modality, relation position, conv, edge type) for every prior relation of ``modalities``."""
    out = []
    for m in modalities:
        encoder = model.module_.encoders[m]
        if isinstance(encoder, GuidedEncoder):
            for i, (relation, conv) in enumerate(zip(encoder.relations, encoder.convs)):
                edge_type = next(t for t in model.graph_.edge_types if t[0] == m and t[1] == relation)
                out.append((m, i, conv, edge_type))
    return out


def _gauss_legendre(n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in (0, 1) and weights summing to 1 (captum's default quadrature)."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    return (nodes + 1) / 2, weights / 2


def edge_importance(
    model: DeepGAMIClassifier,
    X,
    *,
    use_modalities: Sequence[str] | None = None,
    n_steps: int = 50,
    output: str = "proba",
    progress: bool = False,
    return_per_sample: bool = False,
):
    """Integrated gradients over a multiplier on every prior edge, all relations at once.

    The path scales every edge's message by ``alpha`` from 0 (all edges off) to 1, so per
    sample and class the attributions sum to ``f(x) - f(x; all edges off)`` up to quadrature
    error (reported in ``completeness``). Relations of modalities not used for the prediction
    get no attribution.

    Returns
    -------
    table : DataFrame with columns edge_type, source, target, class, score (mean attribution
        over samples), abs_score (mean ``|attribution|``), rank, weight (learned edge weight)
    completeness : dict of class -> {"sum_attributions", "output_difference", "max_abs_gap",
        "relative_gap"}
    per_sample : only when ``return_per_sample``: class -> edge type -> ndarray (n_samples, n_edges)
    """
    data, batch = _prepare(model, X, use_modalities, output)
    modalities = list(batch.x_dict)
    relations = _guided_relations(model, modalities)
    if not relations:
        msg = f"modalities {modalities} have no prior edges to attribute"
        raise ValueError(msg)
    alphas, quad_weights = _gauss_legendre(n_steps)
    n_samples = len(data)
    n_classes = len(model.classes_)
    total_edges = sum(conv.n_edges for *_, conv, _ in relations)
    chunk = max(1, EDGE_CHUNK_ELEMENTS // max(total_edges, 1))
    sums = {t: np.zeros((n_classes, conv.n_edges)) for *_, conv, t in relations}
    abs_sums = {t: np.zeros((n_classes, conv.n_edges)) for *_, conv, t in relations}
    per_sample = {label: {t: np.zeros((n_samples, conv.n_edges), dtype=np.float32) for *_, conv, t in relations} for label in model.classes_} if return_per_sample else None
    attribution_total = np.zeros((n_samples, n_classes))
    output_difference = np.zeros((n_samples, n_classes))
    wrapper = _ClassScore(model.module_, modalities, output)
    starts = range(0, n_samples, chunk)
    for start in tqdm(starts, desc="edge attributions", disable=None if progress else True, leave=False):
        rows = torch.arange(start, min(start + chunk, n_samples), device=batch.y.device)
        part = batch.rows(rows)
        args = [part.x_dict[m] for m in modalities] + [part.observed[m] for m in modalities]
        with torch.no_grad():
            on = wrapper(*args)
            off = _masked_forward(model, part, modalities, relations, torch.tensor(0.0), output)
        output_difference[rows.cpu().numpy()] = (on - off).detach().cpu().numpy()
        gathered_x = {t: part.x_dict[m].index_select(1, conv.edge_index[0]) * conv.weight.detach() for m, _, conv, t in relations}
        for c, label in enumerate(model.classes_):
            accum = {t: torch.zeros(len(rows), conv.n_edges, device=rows.device) for *_, conv, t in relations}
            for alpha, quad in zip(alphas, quad_weights):
                outputs = {}
                score = _masked_forward(model, part, modalities, relations, torch.tensor(float(alpha)), output, outputs)
                grads = torch.autograd.grad(score[:, c].sum(), [outputs[t] for *_, t in relations])
                for (m, _, conv, t), grad in zip(relations, grads):
                    accum[t] += float(quad) * grad.index_select(1, conv.edge_index[1]) * gathered_x[t]
            for t, values in accum.items():
                values = values.cpu().numpy()
                observed = data.observed[t[0]][rows.cpu().numpy()]
                sums[t][c] += values[observed].sum(axis=0)
                abs_sums[t][c] += np.abs(values[observed]).sum(axis=0)
                attribution_total[rows.cpu().numpy(), c] += values.sum(axis=1)
                if per_sample is not None:
                    per_sample[label][t][rows.cpu().numpy()] = values
    tables = []
    for m, _, conv, t in relations:
        frame = model.graph_.edge_frame(t)[["source", "target"]]
        n_observed = max(int(data.observed[m].sum()), 1)
        for c, label in enumerate(model.classes_):
            tables.append(
                frame.assign(
                    edge_type=edge_type_name(t),
                    **{"class": label},
                    score=sums[t][c] / n_observed,
                    abs_score=abs_sums[t][c] / n_observed,
                    weight=conv.weight.detach().cpu().numpy(),
                )
            )
    table = _rank(pd.concat(tables, ignore_index=True))
    table = table[["edge_type", "source", "target", "class", "score", "abs_score", "rank", "weight"]]
    gaps = attribution_total - output_difference
    completeness = {
        str(label): {
            "sum_attributions": float(attribution_total[:, c].sum()),
            "output_difference": float(output_difference[:, c].sum()),
            "max_abs_gap": float(np.abs(gaps[:, c]).max()),
            "relative_gap": float(np.abs(gaps[:, c]).sum() / max(np.abs(output_difference[:, c]).sum(), 1e-12)),
        }
        for c, label in enumerate(model.classes_)
    }
    return (table, completeness, per_sample) if return_per_sample else (table, completeness)


def edge_type_name(edge_type) -> str:
    """``("snp", "eqtl", "gene")`` -> ``"snp-eqtl->gene"``."""
    return f"{edge_type[0]}-{edge_type[1]}->{edge_type[2]}"


def _masked_forward(model, part: Batchable, modalities, relations, alpha: Tensor, output: str, outputs: dict | None = None) -> Tensor:
    """Class scores with every edge message scaled by ``alpha``; relation outputs go to ``outputs``."""
    handles = []
    if outputs is not None:
        for *_, conv, t in relations:
            def keep(_module, _inputs, out, t=t):
                outputs[t] = out
            handles.append(conv.register_forward_hook(keep))
    try:
        masks: dict[str, list] = {}
        for m, i, conv, _ in relations:
            masks.setdefault(m, [None] * len(model.module_.encoders[m].convs))[i] = alpha.to(conv.weight.device)
        with torch.enable_grad():
            logits = model.module_({m: part.x_dict[m] for m in modalities}, {m: part.observed[m] for m in modalities}, masks)
        return torch.softmax(logits, dim=1) if output == "proba" else logits
    finally:
        for handle in handles:
            handle.remove()


def explain_model(
    model: DeepGAMIClassifier,
    X,
    *,
    use_modalities: Sequence[str] | None = None,
    baseline: str = "zeros",
    n_steps: int = 50,
    internal_batch_size: int | None = None,
    output: str = "proba",
    progress: bool = False,
) -> Explanation:
    """Feature, latent and edge attributions of ``model`` on the samples of ``X``."""
    settings = {
        "n_samples": None,
        "use_modalities": list(use_modalities) if use_modalities else list(model.modalities_),
        "baseline": baseline,
        "n_steps": n_steps,
        "output": output,
        "method": "integrated gradients (Gauss-Legendre)",
    }
    common = dict(use_modalities=use_modalities, n_steps=n_steps, output=output)
    features, _, deltas = feature_importance(
        model, X, baseline=baseline, internal_batch_size=internal_batch_size, return_per_sample=True, **common
    )
    latents = latent_importance(model, X, baseline=baseline, internal_batch_size=internal_batch_size, **common)
    completeness = {str(label): {"features_max_abs_delta": float(np.abs(d).max())} for label, d in deltas.items()}
    settings["n_samples"] = int(len(next(iter(deltas.values()))))
    if model.graph_ is not None and _guided_relations(model, settings["use_modalities"]):
        edges, edge_completeness = edge_importance(model, X, progress=progress, **common)
        for label, gaps in edge_completeness.items():
            completeness[label].update({f"edges_{k}": v for k, v in gaps.items()})
    else:
        edges = pd.DataFrame(columns=["edge_type", "source", "target", "class", "score", "abs_score", "rank", "weight"])
    return Explanation(features, latents, edges, settings, completeness)
