"""Figures for attributions and prioritised networks (matplotlib, written as PNG, no pyplot state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.cluster.hierarchy import leaves_list, linkage
from sklearn.metrics import auc, roc_curve

from .graph import parse_relation_name
from .metrics import classification_metrics, regression_metrics

NODE_COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]
FEATURE_VALUE_LABEL = "feature value (scaled; low -> high)"
# Node labels sit on a light box, readable over the edges they cross.
LABEL_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
EDGE_SCORE_LABEL = "mean signed edge attribution to the class score\n(red raises it, blue lowers it)"


def plot_feature_summary(
    attributions: Mapping[Any, Mapping[str, np.ndarray]],
    values: Mapping[str, np.ndarray],
    feature_names: Mapping[str, Sequence[str]],
    path: str | Path,
    *,
    observed: Mapping[str, np.ndarray] | None = None,
    label: Any = None,
    n: int = 15,
    score: str = "class probability",
) -> Path:
    """Per-sample attributions of each class's top ``n`` features, coloured by the feature's value.

    One panel per class (or ``label`` only), one row per feature (``<modality>:<feature>``),
    ranked by mean |attribution| over the samples drawn, and one point per sample at its
    attribution (right of 0: the feature raised that sample's class score), coloured blue (low)
    to red (high) by the sample's value of the feature, scaled per feature to its 5th-95th
    percentiles. Points sharing a position are stacked vertically (deterministic beeswarm).

    Parameters
    ----------
    attributions : mapping of class -> modality -> ndarray of shape (n_samples, n_features_m)
        Per-sample attributions, e.g. :attr:`deepgami.explain.FeatureAttributions.per_sample`.
    values : mapping of modality -> array of shape (n_samples, n_features_m)
        The same samples' (scaled) inputs, e.g. ``Explainer.batch.x_dict``.
    feature_names : mapping of modality -> sequence of n_features_m names
    path : PNG file to write
    observed : mapping of modality -> bool array of shape (n_samples,), optional
        Samples not observed in a modality are neither drawn nor ranked for its features (as in
        the ``abs_score`` of features.csv); non-finite values are not drawn either.
    label : a class of ``attributions`` to draw alone (default: every class)
    n : int, default=15
        Features per panel.
    score : str, default="class probability"
        What was attributed, for the axis label and caption.
    """
    classes = list(attributions) if label is None else [label]
    samples = {m: np.ones(len(x), dtype=bool) if observed is None else np.asarray(observed[m], dtype=bool) for m, x in values.items()}
    fig = Figure(figsize=(5.2 * len(classes) + 1.2, 0.36 * n + 2.4), layout="constrained")
    axes = fig.subplots(1, len(classes), squeeze=False)[0]
    cmap = colormaps["coolwarm"]
    for ax, c in zip(axes, classes):
        top = _top_features(attributions[c], samples, n)[::-1]  # best at the top
        points = []
        for m, j in top:
            value = np.asarray(values[m][:, j], dtype=float)
            rows = samples[m] & np.isfinite(value)
            points.append((attributions[c][m][rows, j], _relative(value[rows])))
        bin_width = max(np.ptp(np.concatenate([x for x, _ in points])), 1e-12) / 90 if points else 1.0
        for y, (x, colour) in enumerate(points):
            ax.scatter(x, y + _swarm(x, bin_width), c=colour, cmap=cmap, vmin=0, vmax=1, s=9, linewidths=0)
        ax.axvline(0, color="grey", linewidth=0.8, zorder=0)
        ax.set_yticks(range(len(top)), [f"{m}:{feature_names[m][j]}" for m, j in top])
        ax.set_ylim(-0.6, len(top) - 0.4)
        ax.set_xlabel(f"attribution to the {score}")
        ax.set_title(f"class {c}" if "class" in score else str(c))
    colorbar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=axes, ticks=[0, 1], label=FEATURE_VALUE_LABEL, shrink=0.6)
    colorbar.ax.set_yticklabels(["low", "high"])
    per = " per class" if "class" in score else ""
    fig.suptitle(f"Top {n} features{per} by mean |attribution|, one point per sample")
    fig.supxlabel(
        f"Points right of 0 raise the {score}, left of 0 lower it; colour is the sample's value of the feature\n"
        "(scaled per feature), so red points on the right read: high values raise the score.",
        fontsize=9,
    )
    return _save(fig, path)


def plot_network(
    graph: nx.DiGraph,
    path: str | Path,
    *,
    max_nodes: int = 60,
    n_labels: int = 15,
    names: Mapping[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """Draw the prioritised subnetwork: its best-ranked edges, up to ``max_nodes`` nodes.

    Node colour shows the node type, node size its score (summed |attribution| of its
    prioritised edges), edge width the edge's mean |attribution|; a legend keys all three.
    Connected components are laid out apart, largest first. The ``n_labels`` highest-scoring
    nodes are labelled beside their node, placed to avoid other labels and nodes. ``names``
    maps a node name (e.g. a Reactome pathway id) to the text shown (default: the name).
    """
    keep: set = set()
    for u, v, _ in sorted(graph.edges(data="rank"), key=lambda edge: edge[2]):
        if len(keep | {u, v}) > max_nodes:
            break
        keep |= {u, v}
    sub = graph.subgraph(keep)
    types = sorted({graph.nodes[n]["node_type"] for n in sub})
    colour = {t: NODE_COLOURS[i % len(NODE_COLOURS)] for i, t in enumerate(types)}
    fig = Figure(figsize=(11, 8), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    handles = [Line2D([], [], linestyle="", label="node type")]
    handles += [Line2D([], [], marker="o", linestyle="", markersize=8, color=colour[t], label=t) for t in types]
    labelled = sorted(sub, key=lambda n: -sub.nodes[n]["score"])[:n_labels]
    ax.set_title(
        f"Prioritised network, class {graph.graph.get('label', '')}: {sub.number_of_nodes()} of {graph.number_of_nodes()} nodes\n"
        f"labels: the {len(labelled)} highest-scoring nodes",
        fontsize=11,
    )
    if sub.number_of_nodes():
        position = _component_layout(sub, seed)
        scores = [s for _, s in sub.nodes(data="score")]
        edge_scores = [a for *_, a in sub.edges(data="abs_score")]
        top_score, top_edge = max(max(scores), 1e-12), max(max(edge_scores), 1e-12)
        sizes = [_node_size(s, top_score) for s in scores]
        nx.draw_networkx_edges(sub, position, ax=ax, width=[_edge_width(a, top_edge) for a in edge_scores], alpha=0.45, arrowsize=8, node_size=sizes)
        nx.draw_networkx_nodes(sub, position, ax=ax, node_size=sizes, node_color=[colour[sub.nodes[n]["node_type"]] for n in sub])
        ax.set_aspect("equal", adjustable="datalim")
        ax.margins(0.08)
        handles.append(Line2D([], [], linestyle="", label="node size: score\n(summed |attribution|)"))
        handles += [
            Line2D([], [], marker="o", linestyle="", color="#8C8C8C", markersize=np.sqrt(_node_size(s, top_score)), label=f"{s:.2g}")
            for s in _legend_values(scores)
        ]
        handles.append(Line2D([], [], linestyle="", label="edge width:\nmean |attribution|"))
        handles += [Line2D([], [], color="grey", linewidth=_edge_width(a, top_edge), label=f"{a:.2g}") for a in _legend_values(edge_scores)]
    legend = fig.legend(handles=handles, loc="outside right upper", frameon=False, labelspacing=0.9, handlelength=2.5)
    for text, handle in zip(legend.get_texts(), handles):
        if handle.get_marker() == "None" and handle.get_linestyle() == "None":
            text.set_fontweight("bold")
    if labelled:
        radius = {n: np.sqrt(size) / 2 * fig.dpi / 72 for n, size in zip(sub, sizes)}
        _place_labels(ax, position, radius, {n: _display(sub.nodes[n]["name"], names) for n in labelled})
    return _save(fig, path)


def plot_class_comparison(
    edges: pd.DataFrame, path: str | Path, *, n: int = 15, max_rows: int = 40, names: Mapping[str, str] | None = None
) -> Path:
    """Heatmap of the mean edge attribution per class for the union of each class's top ``n`` edges.

    At most ``max_rows`` rows (the edges with the best rank in any class), clustered by their
    pattern across classes (average linkage on rows scaled to max |value| 1). Rows read
    ``<source type>:<source> -> <target>`` (the relation added when two relations share a
    source type); a dot marks an edge within that class's top ``n``. ``names`` maps node names
    to the text shown.
    """
    edge = ["edge_type", "source", "target"]
    best = edges[edges["rank"] <= n].groupby(edge, sort=False)["rank"].min().sort_values(kind="stable")
    keys = list(best.index[:max_rows])
    wide = edges.pivot_table(index=edge, columns="class", values=["score", "rank"], aggfunc="first", sort=False).reindex(keys)
    classes = list(wide["score"].columns)
    values, ranks = wide["score"].to_numpy(dtype=float), wide["rank"].to_numpy(dtype=float)
    if len(keys) > 2:
        scaled = values / np.maximum(np.nanmax(np.abs(values), axis=1, keepdims=True), 1e-12)
        order = leaves_list(linkage(np.nan_to_num(scaled), method="average", optimal_ordering=True))
        keys, values, ranks = [keys[i] for i in order], values[order], ranks[order]
    relations = {t: parse_relation_name(t) for t in dict.fromkeys(k[0] for k in keys)}
    shared = len({s for s, _, _ in relations.values()}) < len(relations)
    labels = []
    for edge_type, source, target in keys:
        source_type, relation, _ = relations[edge_type]
        arrow = f" -{relation}-> " if shared else " -> "
        labels.append(f"{source_type}:{_display(source, names)}{arrow}{_display(target, names)}")
    fig = Figure(figsize=(4.5 + 1.1 * len(classes), 0.24 * len(keys) + 2.2), layout="constrained")
    ax = fig.subplots()
    limit = max(np.nanmax(np.abs(values)), 1e-12) if len(keys) else 1.0
    image = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
    in_top = np.argwhere(ranks <= n)
    ax.scatter(in_top[:, 1], in_top[:, 0], s=6, color="black", marker="o")
    ax.set_xticks(range(len(classes)), [str(c) for c in classes])
    ax.set_yticks(range(len(keys)), labels, fontsize=7)
    fig.colorbar(image, ax=ax, label=EDGE_SCORE_LABEL, shrink=0.8)
    ax.set_title(f"Each class's top {n} edges by mean |attribution| ({len(keys)} rows, clustered)\n• = in that class's top {n}", fontsize=10)
    return _save(fig, path)


def plot_roc(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], classes: np.ndarray, path: str | Path, *, subtitle: str | None = None
) -> Path:
    """ROC curves of the test set, one per method or modality set.

    ``curves`` maps a name ("all", "snp only", ...) to ``(y_true, proba)`` with proba columns
    in ``classes`` order. Two classes: the curve of ``classes[1]``. More: the one-vs-rest
    curves averaged over the classes (macro, each class's true positive rate interpolated on
    one false positive grid), labelled with the macro one-vs-rest AUC that the metric tables
    report, so a plot and a table never disagree. ``subtitle`` names what the curves share
    (e.g. the modalities used).
    """
    fig = Figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.subplots()
    grid = np.linspace(0, 1, 201)
    for name, (y_true, proba) in curves.items():
        y_true = np.asarray(y_true)
        if len(classes) == 2:
            truth = y_true == classes[1]
            if truth.all() or not truth.any():
                continue
            fpr, tpr, _ = roc_curve(truth, proba[:, 1])
            ax.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})")
            continue
        present = [i for i, c in enumerate(classes) if 0 < (y_true == c).sum() < len(y_true)]
        if len(present) < 2:
            continue
        tprs = [np.interp(grid, *roc_curve(y_true == classes[i], proba[:, i])[:2]) for i in present]
        macro = classification_metrics(y_true, proba, classes)["auc"]
        ax.plot(grid, np.mean(tprs, axis=0), label=f"{name} (macro AUC {macro:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    kind = f"class {classes[1]} vs {classes[0]}" if len(classes) == 2 else f"one-vs-rest, macro-averaged over {len(classes)} classes"
    ax.set_title(f"Test ROC ({kind})" + (f"\n{subtitle}" if subtitle else ""))
    ax.legend(loc="lower right", frameon=False)
    return _save(fig, path)


def plot_predicted_vs_observed(observed: np.ndarray, predicted: np.ndarray, path: str | Path, *, title: str | None = None) -> Path:
    """Predicted against observed values of the test set, one point per sample.

    The dotted identity line marks perfect prediction; the corner gives R² and Pearson's r (as
    :func:`deepgami.metrics.regression_metrics` reports them) and the number of samples. Pairs
    with a missing (non-finite) value are left out.
    """
    observed = np.asarray(observed, dtype=float).ravel()
    predicted = np.asarray(predicted, dtype=float).ravel()
    keep = np.isfinite(observed) & np.isfinite(predicted)
    observed, predicted = observed[keep], predicted[keep]
    fig = Figure(figsize=(5.5, 5.2), layout="constrained")
    ax = fig.subplots()
    ax.scatter(observed, predicted, s=16, alpha=0.7, linewidths=0, color=NODE_COLOURS[0])
    if len(observed):
        low, high = min(observed.min(), predicted.min()), max(observed.max(), predicted.max())
        pad = 0.04 * (high - low) if high > low else 1.0
        low, high = low - pad, high + pad
        ax.plot([low, high], [low, high], color="grey", linestyle=":", linewidth=1, label="predicted = observed")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.legend(loc="lower right", frameon=False)
    metrics = regression_metrics(observed, predicted, n_boot=0)
    text = f"R² = {_number(metrics['r2'])}\nPearson r = {_number(metrics['pearson'])}\nn = {metrics['n']}"
    ax.text(0.03, 0.97, text, transform=ax.transAxes, va="top", ha="left", fontsize=10, bbox=LABEL_BOX)
    ax.set_xlabel("observed")
    ax.set_ylabel("predicted")
    ax.set_title(title or "Test set: predicted vs observed")
    return _save(fig, path)


def plot_kaplan_meier(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, path: str | Path, *, groups: int = 2, title: str | None = None
) -> Path:
    """Kaplan-Meier survival curves of the samples split by predicted risk.

    ``groups=2`` splits at the median risk ("low risk" at or below it, "high risk" above),
    ``groups=3`` at the tertiles (low, intermediate, high), more at the matching quantiles. Groups
    left empty by tied risks are dropped. Each curve carries its 95 % log-log confidence band and
    a "+" at each censored sample; the legend gives each group's samples and events, the title
    the log-rank p-value of the difference between the groups.

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Follow-up times.
    event : array-like of shape (n_samples,)
        True (or 1) where the event was observed, False (0) where the sample was censored.
    risk : array-like of shape (n_samples,)
        Predicted risk; higher means an earlier event.
    path : PNG file to write
    groups : int, default=2
        Number of risk groups, split at the risk quantiles.
    title : str, optional
        First title line (default: "Kaplan-Meier survival by predicted risk").
    """
    from sksurv.compare import compare_survival
    from sksurv.nonparametric import kaplan_meier_estimator
    from sksurv.util import Surv

    if groups < 2:
        raise ValueError(f"groups must be at least 2, got {groups}")
    time, risk = np.asarray(time, dtype=float).ravel(), np.asarray(risk, dtype=float).ravel()
    event = np.asarray(event).ravel().astype(bool)
    cuts = np.quantile(risk, np.arange(1, groups) / groups)
    group = np.searchsorted(cuts, risk, side="left")  # ties with a cut go to the lower group
    names = {2: ["low risk", "high risk"], 3: ["low risk", "intermediate risk", "high risk"]}.get(
        groups, [f"risk quantile {k + 1} of {groups}" for k in range(groups)]
    )
    present = [k for k in range(groups) if (group == k).any()]
    fig = Figure(figsize=(6.5, 5.6), layout="constrained")
    ax = fig.subplots()
    middle = [c for i, c in enumerate(NODE_COLOURS) if i not in (0, 3)]
    colours = {k: NODE_COLOURS[0] if k == 0 else NODE_COLOURS[3] if k == groups - 1 else middle[(k - 1) % len(middle)] for k in present}
    for k in present:
        rows = group == k
        x, y, band = kaplan_meier_estimator(event[rows], time[rows], conf_type="log-log")
        x, y, band = np.r_[0.0, x], np.r_[1.0, y], np.c_[[1.0, 1.0], band]
        name = names[k] if len(present) > 1 else "all samples (tied predicted risk)"
        label = f"{name} (n = {rows.sum()}, {event[rows].sum()} events)"
        ax.step(x, y, where="post", color=colours[k], linewidth=1.8, label=label)
        ax.fill_between(x, band[0], band[1], step="post", color=colours[k], alpha=0.15, linewidth=0)
        censored = time[rows & ~event]
        ax.plot(censored, y[np.searchsorted(x, censored, side="right") - 1], "+", color=colours[k], markersize=7)
    if len(present) < 2:
        test = "one risk group, no log-rank test"
    elif not event.any():
        test = "no events, no log-rank test"
    else:
        test = f"log-rank p = {compare_survival(Surv.from_arrays(event, time), group)[1]:.2g}"
    split = "median" if groups == 2 else "tertiles" if groups == 3 else f"{groups}-quantiles"
    ax.set_title(f"{title or 'Kaplan-Meier survival by predicted risk'}\nsplit at the {split} of predicted risk; {test}", fontsize=10)
    ax.set_xlabel("time")
    ax.set_ylabel("survival probability")
    ax.set_ylim(0, 1.03)
    ax.set_xlim(left=0)
    fig.legend(loc="outside lower center", title="shaded: 95 % confidence band;  +: censored sample", title_fontsize=9, frameon=False)
    return _save(fig, path)


def plot_paths(paths: pd.DataFrame, path: str | Path, *, n: int = 20) -> Path:
    """Attribution flowing across the levels of a deep prior along the top ``n`` paths of one
    class (:func:`deepgami.paths.top_paths`): the inputs on the left, the nodes the classifier
    reads on the right; a link's width is the summed score of the paths through it, a node's
    colour its type."""
    paths = paths.nlargest(n, "score")
    chains = [list(zip(t.split(" -> "), p.split(" -> "))) for t, p in zip(paths["node_types"], paths["path"])]
    depth = max(len(chain) for chain in chains)
    flow: dict[tuple, float] = {}
    links: dict[tuple, float] = {}
    for chain, score in zip(chains, paths["score"]):
        # Right-aligned: every path ends in the last column, where the classifier reads.
        keys = [(depth - len(chain) + i, node) for i, node in enumerate(chain)]
        for key in keys:
            flow[key] = flow.get(key, 0.0) + score
        for a, b in zip(keys, keys[1:]):
            links[(a, b)] = links.get((a, b), 0.0) + score
    position = {}
    for column in range(depth):
        nodes = sorted((k for k in flow if k[0] == column), key=lambda k: -flow[k])
        for i, key in enumerate(nodes):
            position[key] = (column, 1.0 - (i + 0.5) / max(len(nodes), 1))
    types = list(dict.fromkeys(t for chain in chains for t, _ in chain))
    colour = {t: NODE_COLOURS[i % len(NODE_COLOURS)] for i, t in enumerate(types)}
    top = max(links.values(), default=1.0)
    fig = Figure(figsize=(2.6 * depth + 1.5, 0.32 * max(len(paths), 8) + 1.5))
    ax = fig.subplots()
    for (a, b), score in links.items():
        (x0, y0), (x1, y1) = position[a], position[b]
        ax.plot([x0, x1], [y0, y1], color="#999999", linewidth=0.5 + 7 * score / top, alpha=0.6, solid_capstyle="round", zorder=1)
    for key, (x, y) in position.items():
        (node_type, name) = key[1]
        ax.scatter([x], [y], s=30 + 220 * flow[key] / max(flow.values()), color=colour[node_type], zorder=2, edgecolors="white")
        ax.text(x, y + 0.018, _display(name, None, width=18), ha="center", va="bottom", fontsize=7, bbox=LABEL_BOX, zorder=3)
    ax.legend(handles=[Line2D([], [], marker="o", linestyle="", color=colour[t], label=t) for t in types], loc="upper left",
              bbox_to_anchor=(1.0, 1.0), frameon=False, title="node type")
    ax.set_xlim(-0.5, depth - 0.5)
    ax.set_ylim(0, 1.05)
    ticks = [f"{depth - 1 - c} step{'s' if depth - 1 - c > 1 else ''} below the top" for c in range(depth - 1)]
    ax.set_xticks(range(depth), [*ticks, "read by the classifier"], fontsize=8)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    label = paths["class"].iloc[0] if len(paths) else ""
    ax.set_title(f"Top {len(paths)} paths for class {label}: attribution flow across the levels of the prior\n"
                 "(link width: summed path score; node size: flow through the node)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _top_features(attributions: Mapping[str, np.ndarray], samples: Mapping[str, np.ndarray], n: int) -> list[tuple[str, int]]:
    """``(modality, feature index)`` of the ``n`` features with the largest mean |attribution| over
    the samples (modality -> bool (n_samples,)) observed in their modality, best first;
    ``attributions`` maps modality -> (n_samples, n_features)."""
    candidates = []
    for m, rows in samples.items():
        if rows.any():
            mean_abs = np.abs(attributions[m][rows]).mean(axis=0)
            candidates += [(-mean_abs[j], m, j) for j in range(len(mean_abs))]
    return [(m, j) for _, m, j in sorted(candidates, key=lambda item: item[0])[:n]]


def _relative(values: np.ndarray) -> np.ndarray:
    """Values (n,) mapped to [0, 1] between their 5th and 95th percentiles (min and max if those
    coincide; 0.5 for a constant)."""
    if len(values) == 0:
        return values
    low, high = np.percentile(values, [5, 95])
    if high <= low:
        low, high = values.min(), values.max()
    if high <= low:
        return np.full(len(values), 0.5)
    return np.clip((values - low) / (high - low), 0, 1)


def _swarm(x: np.ndarray, bin_width: float, *, half_width: float = 0.38) -> np.ndarray:
    """Vertical offsets (n,) for a beeswarm: points in the same x bin stacked 0, +1, -1, +2, ...
    steps in input order (deterministic), the widest stack spanning at most ``half_width``."""
    if len(x) == 0:
        return x
    bins = np.round((x - x.min()) / bin_width)
    order = np.argsort(bins, kind="stable")
    ordered = bins[order]
    k = np.arange(len(x)) - np.searchsorted(ordered, ordered, side="left")
    slot = np.where(k % 2 == 1, (k + 1) // 2, -(k // 2))
    offsets = np.empty(len(x))
    offsets[order] = slot
    return offsets * min(half_width / max(np.abs(slot).max(), 1), 0.05)


def _node_size(score: float, top: float) -> float:
    return 60 + 540 * score / top


def _edge_width(abs_score: float, top: float) -> float:
    return 0.5 + 3.5 * abs_score / top


def _legend_values(values: Sequence[float]) -> list[float]:
    """Largest, middle and smallest of ``values`` (fewer when they coincide), for a size legend."""
    ordered = np.sort(np.asarray(values, dtype=float))[::-1]
    return list(dict.fromkeys([ordered[0], ordered[len(ordered) // 2], ordered[-1]]))


def _display(name: str, names: Mapping[str, str] | None, *, width: int = 34) -> str:
    """The text shown for a node name: ``names[name]`` when given, shortened to ``width`` characters."""
    text = str(names.get(name, name)) if names else str(name)
    return text if len(text) <= width else text[: width - 1] + "…"


def _component_layout(graph: nx.DiGraph, seed: int, *, gap: float = 0.6) -> dict:
    """Node positions (x, y): each weakly connected component laid out alone (spring layout,
    unweighted: learned edge weights may be negative) in a disc of radius ~ sqrt(its size), the
    discs packed in rows, largest first."""
    components = sorted(nx.weakly_connected_components(graph), key=lambda c: (-len(c), min(c)))
    radii = [0.5 * np.sqrt(len(c)) for c in components]
    row_width = 1.15 * np.sqrt(sum((2 * r + gap) ** 2 for r in radii))
    position, x, y, row_height = {}, 0.0, 0.0, 0.0
    for component, r in zip(components, radii):
        if x > 0 and x + 2 * r > row_width:
            x, y, row_height = 0.0, y - row_height - gap, 0.0
        part = graph.subgraph(component)
        local = nx.spring_layout(part, seed=seed, weight=None, scale=r) if len(part) > 1 else {n: np.zeros(2) for n in part}
        position.update({n: p + np.array([x + r, y - r]) for n, p in local.items()})
        x, row_height = x + 2 * r + gap, max(row_height, 2 * r)
    return position


def _place_labels(ax, position: Mapping[str, np.ndarray], radius: Mapping[str, float], text: Mapping[str, str]) -> None:
    """Label the nodes of ``text`` in order, each beside its node: the first of eight directions,
    one to three steps out, whose text box overlaps no earlier label and no node and stays in the
    axes, else the least overlapping; a leader line marks a label set off by more than one step.
    ``position``: every node's data coordinates; ``radius``: every node's radius in pixels."""
    ax.figure.draw_without_rendering()  # settles the layout, so that data -> pixel is final
    to_pixels, to_data = ax.transData, ax.transData.inverted()
    frame = ax.get_window_extent()
    centres = {n: to_pixels.transform(p) for n, p in position.items()}
    discs = {n: np.r_[c - radius[n], c + radius[n]] for n, c in centres.items()}
    placed: list[np.ndarray] = []
    directions = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]
    for node, label in text.items():
        artist = ax.text(0, 0, label, fontsize=8, zorder=5, in_layout=False, bbox=LABEL_BOX)
        extent = artist.get_window_extent()
        width, height = extent.width, extent.height
        obstacles = placed + [box for n, box in discs.items() if n != node]
        best, best_overlap = None, np.inf
        for step, (dx, dy) in ((step, d) for step in range(3) for d in directions):
            anchor = centres[node] + (radius[node] + 2 + 12 * step) * np.array([dx, dy]) / np.hypot(dx, dy)
            left = anchor[0] - (0 if dx > 0 else width if dx < 0 else width / 2)
            bottom = anchor[1] - (0 if dy > 0 else height if dy < 0 else height / 2)
            box = np.array([left, bottom, left + width, bottom + height])
            inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
            overlap = sum(_overlap(box, other) for other in obstacles) + (0 if inside else width * height)
            if overlap < best_overlap:
                best, best_overlap = (step, anchor, box, dx, dy), overlap
            if overlap == 0:
                break
        step, anchor, box, dx, dy = best
        artist.set_position(to_data.transform(anchor))
        artist.set_horizontalalignment("left" if dx > 0 else "right" if dx < 0 else "center")
        artist.set_verticalalignment("bottom" if dy > 0 else "top" if dy < 0 else "center")
        if step:
            ax.plot(*np.transpose([position[node], to_data.transform(anchor)]), color="#808080", linewidth=0.6, zorder=4)
        placed.append(box)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap area of two boxes (x0, y0, x1, y1)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def _number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"
