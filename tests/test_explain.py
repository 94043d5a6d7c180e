"""Integrated-gradient attributions: completeness, closed form, invariances, CLI outputs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.explain import Explainer, explain_model
from deepgami.nn.encoder import GuidedEncoder


@pytest.fixture(scope="module")
def fitted(small_cohort, small_graph):
    return DeepGAMIClassifier(small_graph, max_epochs=15, random_state=0).fit(small_cohort.modalities, small_cohort.labels)


@pytest.fixture(scope="module")
def X(small_cohort):
    return {m: f.iloc[:30] for m, f in small_cohort.modalities.items()}


def test_edge_attributions_are_complete(fitted, X):
    """Per sample and class, the edge attributions sum to the model's probability minus that of
    a copy whose prior edge weights are all set to zero (every GuidedEncoder relation), computed
    with plain ``predict_proba``, not with explain's own edge masking."""
    result = Explainer(fitted, X, n_steps=100).edges(per_sample=True)
    on = fitted.predict_proba(X)
    off = copy.deepcopy(fitted)
    convs = [conv for encoder in off.module_.encoders.values() if isinstance(encoder, GuidedEncoder) for conv in encoder.convs]
    assert len(convs) == 2  # the eQTL and GRN relations
    with torch.no_grad():
        for conv in convs:
            conv.weight.zero_()
    np.testing.assert_array_equal(fitted.predict_proba(X), on)  # the copy shares no weights with the model
    difference = on - off.predict_proba(X)  # (n_samples, n_classes)
    for c, label in enumerate(fitted.classes_):
        attributions = sum(values.sum(axis=1) for values in result.per_sample[label].values())  # (n_samples,)
        assert np.abs(difference[:, c]).sum() > 1e-2
        gap = np.abs(attributions - difference[:, c]).sum() / np.abs(difference[:, c]).sum()
        assert gap < 0.02, (label, gap)
        # explain's own report agrees with the independent difference
        assert result.completeness[str(label)]["output_difference"] == pytest.approx(difference[:, c].sum(), abs=1e-4)


def linear_model(cohort, graph):
    """No activation, no hidden layer, logits: every class score is linear in each edge mask."""
    model = DeepGAMIClassifier(graph, n_members=1, null_members=0, hidden_dims=(), latent_activation="none", max_epochs=3, random_state=0)
    return model.fit(cohort.modalities, cohort.labels)


def test_linear_toy_model_matches_the_closed_form(small_cohort, small_graph, X):
    model = linear_model(small_cohort, small_graph)
    result = Explainer(model, X, n_steps=4, output="logit").edges(per_sample=True)
    table, completeness, per_sample = result.table, result.completeness, result.per_sample
    head = model.module_.head[0].weight[0].detach().numpy()  # (n_classes, 2 * n_latent), the only member
    n_latent = model.module_.n_latent
    for block, m in enumerate(model.modalities_):
        conv = model.module_.encoders[m].convs[0]
        edge_type = model.graph_.relations_from(m)[0]
        src, dst = conv.edge_index.numpy()
        x = model.model_inputs(model.prediction_data(X)).x_dict[m].numpy()
        for c, label in enumerate(model.classes_):
            expected = head[c, block * n_latent + dst] * conv.weight.detach().numpy() * x[:, src]
            np.testing.assert_allclose(per_sample[label][edge_type], expected, rtol=1e-4, atol=1e-6)
    for gaps in completeness.values():
        assert gaps["max_abs_gap"] < 1e-4


def test_zero_weight_edge_gets_zero_attribution_and_shapes(fitted, X):
    conv = fitted.module_.encoders["snp"].convs[0]
    slots = fitted.module_.n_slots
    n_prior = conv.n_edges // slots  # the weights hold one copy of the prior edges per member
    saved = conv.weight.detach().clone()
    try:
        with torch.no_grad():
            conv.weight.view(slots, n_prior)[:, :5] = 0.0  # in every member
        result = Explainer(fitted, X, n_steps=8).edges(per_sample=True)
        table, per_sample = result.table, result.per_sample
    finally:
        with torch.no_grad():
            conv.weight.copy_(saved)
    edge_type = ("snp", "eqtl", "gene")
    for label in fitted.classes_:
        values = per_sample[label][edge_type]
        assert values.shape == (30, n_prior)
        assert np.all(values[:, :5] == 0)
        assert np.any(values[:, 5:] != 0)
    n_edges = sum(c.n_edges // slots for m in ("snp", "tf") for c in fitted.module_.encoders[m].convs)
    assert len(table) == n_edges * 2
    assert set(table.columns) >= {"edge_type", "source", "target", "class", "score", "abs_score", "rank"}


def test_edge_attributions_do_not_depend_on_edge_order(small_cohort, small_graph, fitted, X):
    frames = [small_cohort.eqtl.sample(frac=1.0, random_state=1), small_cohort.grn.sample(frac=1.0, random_state=2)]
    shuffled = RegulatoryGraph.from_edge_tables([(frames[0], "snp", "gene", "eqtl"), (frames[1], "tf", "gene", "regulates")])
    twin = DeepGAMIClassifier(shuffled, max_epochs=0).fit(small_cohort.modalities, small_cohort.labels)
    # copy the fitted weights edge by edge (by source and target names)
    twin.scalers_ = fitted.scalers_
    twin.module_.load_state_dict({k: v for k, v in fitted.module_.state_dict().items() if "convs" not in k}, strict=False)
    slots = fitted.module_.n_slots
    for m in ("snp", "tf"):
        edge_type = fitted.graph_.relations_from(m)[0]
        weights = fitted.module_.encoders[m].convs[0].weight.detach().view(slots, -1).numpy()  # (members, edges)
        original = fitted.graph_.edge_frame(edge_type).assign(**{f"w{k}": weights[k] for k in range(slots)})
        order = twin.graph_.edge_frame(edge_type).merge(original, on=["source", "target"], how="left")
        reordered = np.stack([order[f"w{k}"].to_numpy() for k in range(slots)])
        with torch.no_grad():
            twin.module_.encoders[m].convs[0].weight.copy_(torch.as_tensor(reordered.reshape(-1)))
    a = Explainer(fitted, X, n_steps=8).edges().table
    b = Explainer(twin, X, n_steps=8).edges().table
    key = ["edge_type", "source", "target", "class"]
    merged = a.merge(b, on=key, suffixes=("_a", "_b"))
    assert len(merged) == len(a)
    np.testing.assert_allclose(merged["score_a"], merged["score_b"], rtol=1e-4, atol=1e-7)


def test_single_modality_explains_only_present_edges_and_features(fitted, X):
    table = Explainer(fitted, {"snp": X["snp"]}, n_steps=8).edges().table
    assert set(table["edge_type"]) == {"snp-eqtl->gene"}
    features = Explainer(fitted, {"snp": X["snp"]}, n_steps=8).features().table
    assert set(features["modality"]) == {"snp"}


def test_single_edge_feature_equals_its_edge(fitted, X):
    # For a guided modality, scaling inputs from zero and scaling edges from zero trace the same path.
    features = Explainer(fitted, X, n_steps=16).features().table
    edges = Explainer(fitted, X, n_steps=16).edges().table
    snp_edges = edges[edges["edge_type"] == "snp-eqtl->gene"]
    single = snp_edges.groupby(["source", "class"]).filter(lambda g: len(g) == 1)
    merged = single.merge(features.rename(columns={"feature": "source"}), on=["source", "class"], suffixes=("_edge", "_feature"))
    assert len(merged) > 10
    np.testing.assert_allclose(merged["score_edge"], merged["score_feature"], rtol=1e-3, atol=1e-6)


def test_feature_and_latent_tables(fitted, X):
    result = Explainer(fitted, X, n_steps=20).features()
    features, per_sample, deltas = result.table, result.per_sample, result.deltas
    assert per_sample["case"]["snp"].shape == X["snp"].shape
    assert len(features) == 2 * (X["snp"].shape[1] + X["tf"].shape[1])
    assert all(np.abs(d).max() < 0.05 for d in deltas.values())
    assert features.groupby("class")["rank"].min().eq(1).all()
    latents = Explainer(fitted, X, n_steps=10).latents()
    assert set(latents["layer"]) == {"snp", "tf", "fused:snp", "fused:tf"}
    # The node type of every latent row (the prior's target type), the third column.
    assert list(latents.columns[:3]) == ["layer", "node", "level"] and set(latents["level"]) == {fitted.graph_.latent_type}
    n_latent = fitted.module_.n_latent
    assert len(latents) == 4 * n_latent * 2


def test_explain_model_without_graph(small_cohort):
    model = DeepGAMIClassifier(latent_dim=8, max_epochs=2).fit(small_cohort.modalities, small_cohort.labels)
    explanation = explain_model(model, {m: f.iloc[:10] for m, f in small_cohort.modalities.items()}, n_steps=5)
    assert explanation.edges.empty and not explanation.features.empty
    assert set(explanation.latents["level"]) == {"latent"}
