"""Figures: the ROC plot labels each curve with the AUC the metric tables report; the feature summary, network and
class comparison carry their legends, labels and limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from deepgami.metrics import classification_metrics
from deepgami.network import prioritized_network
from deepgami.plotting import (
    EDGE_SCORE_LABEL,
    FEATURE_VALUE_LABEL,
    plot_class_comparison,
    plot_feature_summary,
    plot_network,
    plot_roc,
)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_roc_legend_shows_the_tables_auc_and_the_title_names_the_averaging(n_classes, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    classes = np.array([f"c{i}" for i in range(n_classes)])
    y = rng.choice(classes, 120)
    proba = np.exp(rng.normal(size=(120, n_classes)) + (y[:, None] == classes[None, :]))
    proba /= proba.sum(axis=1, keepdims=True)
    saved = {}
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, **_: saved.update(figure=fig, path=path))
    plot_roc({"model": (y, proba)}, classes, tmp_path / "roc.png", subtitle="rna only")
    axes = saved["figure"].axes[0]
    label = axes.get_legend().get_texts()[0].get_text()
    expected = classification_metrics(y, proba, classes)["auc"]
    assert label == (f"model (AUC {expected:.3f})" if n_classes == 2 else f"model (macro AUC {expected:.3f})")
    title = axes.get_title()
    assert title.endswith("\nrna only")
    assert ("class c1 vs c0" in title) if n_classes == 2 else ("one-vs-rest, macro-averaged over 4 classes" in title)


@pytest.fixture
def captured(monkeypatch):
    """The figure a plotting function would have written."""
    saved = {}
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, **_: saved.update(figure=fig, path=path))
    return saved


def _edge_table(n_classes: int, n_edges: int, seed: int = 0) -> pd.DataFrame:
    """An edges.csv-like table: ``n_edges`` SNP->gene and as many TF->gene edges per class."""
    rng = np.random.default_rng(seed)
    frames = []
    for c in range(n_classes):
        for edge_type, prefix in (("snp-eqtl->gene", "rs"), ("tf-regulates->gene", "TF")):
            score = rng.normal(size=n_edges) * rng.exponential(size=n_edges)
            frames.append(pd.DataFrame({
                "edge_type": edge_type, "source": [f"{prefix}{i}" for i in range(n_edges)],
                "target": [f"G{i % 7}" for i in range(n_edges)], "class": f"class {c}", "score": score, "abs_score": np.abs(score),
            }))  # fmt: skip
    table = pd.concat(frames, ignore_index=True)
    table["rank"] = table.groupby("class")["abs_score"].rank(ascending=False, method="first").astype(int)
    return table


def test_feature_summary_draws_one_point_per_observed_sample_coloured_by_value(captured, tmp_path):
    rng = np.random.default_rng(0)
    n_samples = 30
    values = {"snp": rng.normal(size=(n_samples, 4)), "rna": rng.normal(size=(n_samples, 3))}
    observed = {"snp": np.ones(n_samples, bool), "rna": np.arange(n_samples) >= 10}  # rna missing for 10 samples
    # Attributions of class "b" are the negatives of class "a"'s; rna:g0 dominates (on its observed samples).
    a = {"snp": values["snp"] * [0.1, 0.2, 0.01, 0.02], "rna": values["rna"] * [5.0, 0.05, 0.03]}
    attributions = {"a": a, "b": {m: -x for m, x in a.items()}}
    names = {"snp": [f"rs{i}" for i in range(4)], "rna": [f"g{i}" for i in range(3)]}
    plot_feature_summary(attributions, values, names, tmp_path / "f.png", observed=observed, n=3)
    figure = captured["figure"]
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["class a", "class b"]
    assert figure.axes[-1].get_ylabel() == FEATURE_VALUE_LABEL  # the colorbar
    caption = figure.get_supxlabel()
    assert "right of 0 raise the class probability" in caption and "colour is the sample's value of the feature" in caption
    for ax in panels:
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels[-1] == "rna:g0" and set(labels) == {"rna:g0", "snp:rs1", "snp:rs0"}  # best at the top
        for row, points in zip(labels, ax.collections):
            assert len(points.get_offsets()) == (20 if row.startswith("rna:") else 30)  # unobserved samples are not drawn
    # Deterministic jitter: the same input draws the same points.
    first = [points.get_offsets().copy() for points in panels[0].collections]
    plot_feature_summary(attributions, values, names, tmp_path / "f.png", observed=observed, n=3, label="a")
    assert len([ax for ax in captured["figure"].axes if ax.get_title()]) == 1
    assert all(np.array_equal(x, points.get_offsets()) for x, points in zip(first, captured["figure"].axes[0].collections))


def test_network_has_size_width_and_type_legends_and_labels_only_the_top_nodes_without_overlap(captured, tmp_path):
    graph = prioritized_network(_edge_table(1, 30), "class 0", top_k=40)
    names = {"G0": "Apoptosis", "G1": "Cell cycle checkpoints"}
    plot_network(graph, tmp_path / "net.png", n_labels=6, names=names)
    figure = captured["figure"]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert {"node type", "gene", "snp", "tf"} <= set(legend)
    assert any(t.startswith("node size") for t in legend) and any(t.startswith("edge width") for t in legend)
    ax = figure.axes[0]
    top = sorted(graph, key=lambda n: -graph.nodes[n]["score"])[:6]
    expected = [names.get(graph.nodes[n]["name"], graph.nodes[n]["name"]) for n in top]
    assert [t.get_text() for t in ax.texts] == expected
    boxes = [t.get_window_extent() for t in ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_class_comparison_rows_are_capped_clustered_and_carry_the_source_type(captured, tmp_path):
    edges = _edge_table(3, 40)
    plot_class_comparison(edges, tmp_path / "cmp.png", n=20, max_rows=25)
    figure = captured["figure"]
    ax = figure.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert len(rows) == 25 == ax.images[0].get_array().shape[0]
    assert all(r.split(":", 1)[0] in {"snp", "tf"} and " -> G" in r for r in rows)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["class 0", "class 1", "class 2"]
    assert figure.axes[1].get_ylabel() == EDGE_SCORE_LABEL
