"""Figures: the ROC plot labels each curve with the AUC the metric tables report."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from deepgami.metrics import classification_metrics
from deepgami.plotting import plot_roc


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
