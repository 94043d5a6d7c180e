"""Figures for attributions and prioritised networks (matplotlib, written as PNG, no pyplot state)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import auc, roc_curve

from .metrics import classification_metrics

NODE_COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


def plot_top_features(features: pd.DataFrame, path: str | Path, *, n: int = 15) -> Path:
    """One panel per class: the ``n`` features with the largest mean |attribution|.

    Bars show mean |IG|; colour shows the sign of the mean attribution (towards or away from
    the class).
    """
    classes = list(dict.fromkeys(features["class"]))
    fig = Figure(figsize=(5 * len(classes), 0.32 * n + 1.5), layout="constrained")
    axes = fig.subplots(1, len(classes), squeeze=False)[0]
    for ax, label in zip(axes, classes):
        top = features[features["class"] == label].nsmallest(n, "rank").iloc[::-1]
        names = [f"{f} ({m})" for m, f in zip(top["modality"], top["feature"])]
        colours = np.where(top["score"] >= 0, "#C44E52", "#4C72B0")
        ax.barh(names, top["abs_score"], color=colours)
        ax.set_title(f"class {label}")
        ax.set_xlabel("mean |integrated gradient|")
    fig.suptitle("Top features (red: raises the class score, blue: lowers it)")
    return _save(fig, path)


def plot_network(graph: nx.DiGraph, path: str | Path, *, max_nodes: int = 60, seed: int = 0) -> Path:
    """Draw the prioritised subnetwork coloured by node type: its best-ranked edges, up to ``max_nodes`` nodes."""
    keep: set = set()
    for u, v, _ in sorted(graph.edges(data="rank"), key=lambda edge: edge[2]):
        if len(keep | {u, v}) > max_nodes:
            break
        keep |= {u, v}
    sub = graph.subgraph(keep)
    types = sorted({graph.nodes[n]["node_type"] for n in sub})
    colour = {t: NODE_COLOURS[i % len(NODE_COLOURS)] for i, t in enumerate(types)}
    fig = Figure(figsize=(9, 8), layout="constrained")
    ax = fig.subplots()
    if sub.number_of_nodes():
        position = nx.spring_layout(sub, seed=seed, k=1.5 / np.sqrt(sub.number_of_nodes()))
        scores = np.array([sub.nodes[n]["score"] for n in sub])
        sizes = 80 + 600 * scores / max(scores.max(), 1e-12)
        widths = [0.5 + 3 * a / max(max(nx.get_edge_attributes(sub, "abs_score").values()), 1e-12) for *_, a in sub.edges(data="abs_score")]
        nx.draw_networkx_edges(sub, position, ax=ax, width=widths, alpha=0.5, arrowsize=8, node_size=sizes)
        nx.draw_networkx_nodes(sub, position, ax=ax, node_size=sizes, node_color=[colour[sub.nodes[n]["node_type"]] for n in sub])
        nx.draw_networkx_labels(sub, position, ax=ax, labels={n: sub.nodes[n]["name"] for n in sub}, font_size=7)
    for t in types:
        ax.scatter([], [], color=colour[t], label=t)
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(f"Prioritised network, class {graph.graph.get('label', '')} ({sub.number_of_nodes()} of {graph.number_of_nodes()} nodes)")
    ax.set_axis_off()
    return _save(fig, path)


def plot_class_comparison(edges: pd.DataFrame, path: str | Path, *, n: int = 30) -> Path:
    """Heatmap of the mean edge attribution per class for the union of each class's top ``n`` edges."""
    top = edges[edges["rank"] <= n]
    keys = list(dict.fromkeys(zip(top["source"], top["target"])))
    table = edges.assign(key=list(zip(edges["source"], edges["target"])))
    matrix = table[table["key"].isin(keys)].pivot_table(index="key", columns="class", values="score", aggfunc="first")
    matrix = matrix.reindex(keys)
    fig = Figure(figsize=(2 + 1.2 * matrix.shape[1], 0.25 * len(keys) + 1.5), layout="constrained")
    ax = fig.subplots()
    limit = max(np.nanmax(np.abs(matrix.to_numpy())), 1e-12) if len(matrix) else 1.0
    image = ax.imshow(matrix.to_numpy(), aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns])
    ax.set_yticks(range(len(keys)), [f"{s} -> {t}" for s, t in keys], fontsize=7)
    fig.colorbar(image, ax=ax, label="mean edge attribution")
    ax.set_title("Top edges per class")
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


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path
