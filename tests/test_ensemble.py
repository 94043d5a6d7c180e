"""Ensembles batched in one module: members never interact, save/load is exact, and the
link-prioritisation statistics (stability, q_value) behave on null and planted cohorts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.batches import SampleStore
from deepgami.errors import InputError
from deepgami.explain import Explainer
from deepgami.nn import DeepGAMINet
from deepgami.nn.members import MemberLinear, member_slice, replicate_edges
from deepgami.simulate import simulate_cohort
from deepgami.tasks import HELD_OUT, Classification
from deepgami.training import TrainingSettings, train_module

TASK = Classification(np.array([0, 1]))


def test_member_linear_equals_one_linear_per_member():
    layer = MemberLinear(5, 3, n_members=4)
    x = torch.randn(7, 4, 5)
    expected = torch.stack([x[:, k] @ layer.weight[k].T + layer.bias[k] for k in range(4)], dim=1)
    torch.testing.assert_close(layer(x), expected)
    torch.manual_seed(0)
    single = MemberLinear(5, 3)
    torch.manual_seed(0)
    reference = torch.nn.Linear(5, 3)  # the same initial draws as nn.Linear
    torch.testing.assert_close(single.weight[0], reference.weight)
    torch.testing.assert_close(single.bias[0], reference.bias)


def test_replicated_edges_shift_each_members_targets():
    edge_index = torch.tensor([[0, 2], [1, 0]])
    torch.testing.assert_close(replicate_edges(edge_index, 3, 2), torch.tensor([[0, 2, 0, 2], [1, 0, 4, 3]]))
    assert member_slice(torch.arange(6.0), 2, 1).tolist() == [3.0, 4.0, 5.0]


def _store(small_cohort, rows):
    x = {m: torch.as_tensor(small_cohort.modalities[m].to_numpy()[rows], dtype=torch.float32) for m in ("snp", "tf")}
    x = {m: (v - v.mean(0)) / v.std(0).clamp(min=1e-6) for m, v in x.items()}
    observed = {m: torch.ones(len(rows), dtype=torch.bool) for m in x}
    y = torch.as_tensor((small_cohort.labels.to_numpy()[rows] == "case").astype(np.int64))
    return SampleStore(x, observed, y, {m: (lambda t: t) for m in x})


def _build(small_cohort, small_graph, seeds):
    counts = {"snp": small_cohort.snp.shape[1], "tf": small_cohort.tf.shape[1]}
    return DeepGAMINet.from_graph(
        small_graph, counts, 2, n_members=len(seeds), member_seeds=seeds, hidden_dims=(8,), dropout=0.0, edge_init_scale=0.1
    )


def test_a_batched_ensemble_equals_its_members_trained_alone(small_cohort, small_graph):
    """Same seeds, same batches: member k of the batched module ends where a network trained
    alone ends, including early stopping at its own epoch (patience 2 makes them differ)."""
    train, validation = _store(small_cohort, np.arange(0, 120)), _store(small_cohort, np.arange(120, 160))
    settings = TrainingSettings(
        lr=1e-2, weight_decay=0.0, batch_size=16, max_epochs=25, patience=2, aux_weight=1.0, modality_dropout=0.5, edge_l1=1e-3, level_loss_weight=0.0
    )
    seeds = [11, 12, 13]
    ensemble = _build(small_cohort, small_graph, seeds)
    history = train_module(ensemble, train, validation, settings, task=TASK, generator=torch.Generator().manual_seed(0))
    x = {m: validation.values[m] for m in ("snp", "tf")}
    ensemble_logits = ensemble(x)
    lengths = []
    for k, seed in enumerate(seeds):
        single = _build(small_cohort, small_graph, [seed])
        lengths.append(len(train_module(single, train, validation, settings, task=TASK, generator=torch.Generator().manual_seed(0))))
        torch.testing.assert_close(ensemble_logits[:, k], single(x)[:, 0], atol=1e-5, rtol=1e-5)
    assert len(history) == max(lengths)
    assert len(set(lengths)) > 1, "the members should stop at different epochs for this test to bite"


@pytest.fixture(scope="module")
def ensemble(small_cohort, small_graph):
    settings = dict(max_epochs=30, hidden_dims=(16,), random_state=0)
    return DeepGAMIClassifier(small_graph, n_members=3, null_members=3, **settings).fit(small_cohort.modalities, small_cohort.labels)


def test_ensemble_predicts_the_mean_of_its_members(ensemble, small_cohort):
    proba = ensemble.predict_proba(small_cohort.modalities)
    store = ensemble.model_inputs(ensemble.prediction_data(small_cohort.modalities))
    with torch.no_grad():
        logits = ensemble.module_(store.x_dict, store.observed)
    members = torch.softmax(logits[:, :3], dim=2).mean(dim=1).numpy()
    np.testing.assert_allclose(proba, members, atol=1e-6)
    assert logits.shape[1] == 6  # three null members ride along but never predict
    assert not np.allclose(torch.softmax(logits[:, 3:], dim=2).mean(dim=1).numpy(), proba, atol=1e-3)


def test_ensemble_save_load_is_exact(ensemble, small_cohort, tmp_path):
    ensemble.save(tmp_path / "model")
    loaded = DeepGAMIClassifier.load(tmp_path / "model")
    assert (loaded.n_members, loaded.null_members) == (3, 3)
    np.testing.assert_array_equal(loaded.predict_proba(small_cohort.modalities), ensemble.predict_proba(small_cohort.modalities))
    np.testing.assert_array_equal(
        loaded.predict_proba(small_cohort.modalities, use_modalities=["snp"]),
        ensemble.predict_proba(small_cohort.modalities, use_modalities=["snp"]),
    )
    assert loaded.edge_movement_ == ensemble.edge_movement_
    first = Explainer(ensemble, small_cohort.modalities, n_steps=4).edges().table
    second = Explainer(loaded, small_cohort.modalities, n_steps=4).edges().table
    pd.testing.assert_frame_equal(first, second)


def _as_format_1(folder):
    """Rewrite a saved one-network model folder as format 1 wrote it: weights.pt without the
    member axis, no checksum, no ensemble parameters."""
    tensors = load_file(str(folder / "weights.safetensors"))
    old = {k: v[0] if k.startswith(("module.head", "module.aux_maps")) else v for k, v in tensors.items()}
    torch.save(old, folder / "weights.pt")
    (folder / "weights.safetensors").unlink()
    metadata = json.loads((folder / "model.json").read_text())
    metadata["format_version"] = 1
    del metadata["files"]
    for key in ("n_members", "null_members", "edge_init_scale", "cross_fit"):
        del metadata["params"][key]
    (folder / "model.json").write_text(json.dumps(metadata))


def test_a_format_1_model_still_loads(small_cohort, small_graph, tmp_path):
    """Models saved before ensembles (no member axis, weights.pt) load and predict as before."""
    model = DeepGAMIClassifier(
        small_graph, n_members=1, null_members=0, max_epochs=3, edge_init_scale=1.0, aux_map="per_node"
    ).fit(small_cohort.modalities, small_cohort.labels)
    model.save(tmp_path / "model")
    _as_format_1(tmp_path / "model")
    loaded = DeepGAMIClassifier.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(small_cohort.modalities), model.predict_proba(small_cohort.modalities))


@pytest.mark.parametrize("params", [{"n_members": 0}, {"null_members": -1}, {"n_members": 2.5}, {"edge_init_scale": 0.0}])
def test_bad_ensemble_settings_fail_with_one_clear_error(small_cohort, small_graph, params):
    with pytest.raises(InputError, match=next(iter(params))):
        DeepGAMIClassifier(small_graph, **params).fit(small_cohort.modalities, small_cohort.labels)


def test_edge_movement_is_recorded_per_relation(ensemble):
    assert set(ensemble.edge_movement_) == {"snp-eqtl", "tf-regulates"}
    assert all(value > 0.5 for value in ensemble.edge_movement_.values())  # small init: the edges moved far
    assert all(f"moved:{name}" in ensemble.history_[-1] for name in ensemble.edge_movement_)


def test_stability_and_q_values(ensemble, small_cohort):
    result = Explainer(ensemble, small_cohort.modalities, n_steps=8).edges()
    table, completeness = result.table, result.completeness
    assert set(np.unique(table["stability"])) <= {0.0, 1 / 3, 2 / 3, 1.0}
    assert (table["stability"] == 1.0).any()
    planted = small_cohort.truth["edges"]
    planted = planted[planted["target"].isin(small_cohort.truth["causal_genes"])]
    table["planted"] = [pair in set(zip(planted["source"], planted["target"])) for pair in zip(table["source"], table["target"])]
    for _, rows in table.groupby("class"):
        # As many null as real members: the q-values rank the ensemble's own abs_score.
        ordered = rows.sort_values("abs_score", ascending=False)["q_value"].to_numpy()
        assert np.all(np.diff(ordered) >= -1e-12), "q-values never fall as the score falls"
        assert ordered[0] < ordered[-1], "the q-values tell the top edge from the bottom one"
        # The members agree more often on planted links than on the others.
        assert rows.groupby("planted")["stability"].mean()[True] > 1.5 * rows.groupby("planted")["stability"].mean()[False]
    for gaps in completeness.values():
        assert gaps["relative_gap"] < 0.05  # completeness holds for the ensemble's output


def test_q_values_are_nan_without_null_members_and_stability_is_binary_for_one_network(small_cohort, small_graph):
    model = DeepGAMIClassifier(small_graph, n_members=1, null_members=0, max_epochs=5).fit(small_cohort.modalities, small_cohort.labels)
    table = Explainer(model, small_cohort.modalities, n_steps=4).edges().table
    assert table["q_value"].isna().all()
    assert set(np.unique(table["stability"])) == {0.0, 1.0}
    assert np.isclose((table["stability"] == 1.0).mean(), 0.05, atol=0.01)


@pytest.mark.parametrize(("members", "null_members"), [(4, 4), (8, 2)])
def test_on_a_null_cohort_few_edges_pass_q_0_1(members, null_members):
    """Labels independent of the data: the real members are one more permutation, so the
    empirical q-values should let few edges through, also when the real ensemble is larger
    than the null one (the q-values then compare equally large sub-ensembles)."""
    cohort = simulate_cohort(n_samples=300, n_snps=400, n_tfs=40, n_genes=80, n_causal_genes=8, seed=5)
    labels = pd.Series(np.random.default_rng(0).permutation(cohort.labels.to_numpy()), index=cohort.labels.index)
    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
    model = DeepGAMIClassifier(graph, n_members=members, null_members=null_members, max_epochs=30).fit(cohort.modalities, labels)
    table = Explainer(model, cohort.modalities, n_steps=8).edges().table
    assert (table["q_value"] <= 0.1).mean() < 0.02


def test_a_cross_fitted_member_never_trains_on_its_validation_rows(small_cohort, small_graph):
    """Member 0 holds out rows 0-39: flipping their labels leaves it unchanged, not member 1."""
    store = _store(small_cohort, np.arange(160))
    y = store.y.numpy()
    held = np.zeros((160, 2), dtype=bool)
    held[:40, 0], held[40:80, 1] = True, True
    settings = TrainingSettings(
        lr=1e-2, weight_decay=0.0, batch_size=16, max_epochs=4, patience=10, aux_weight=1.0, modality_dropout=0.0, edge_l1=0.0, level_loss_weight=0.0
    )
    outputs = []
    for labels in (y, np.where(np.arange(160) < 40, 1 - y, y)):
        codes = torch.as_tensor(np.where(held, HELD_OUT, labels[:, None].repeat(2, axis=1)))
        train = SampleStore(store.values, store.observed, codes, store.transforms)
        net = _build(small_cohort, small_graph, [1, 2])
        train_module(net, train, None, settings, task=TASK, generator=torch.Generator().manual_seed(0))
        outputs.append(net({m: store.values[m] for m in ("snp", "tf")}).detach())
    torch.testing.assert_close(outputs[0][:, 0], outputs[1][:, 0])
    assert not torch.allclose(outputs[0][:, 1], outputs[1][:, 1])


def test_cross_fitting_gives_every_member_its_own_fold(small_cohort, small_graph):
    model = DeepGAMIClassifier(small_graph, n_members=4, max_epochs=2)
    codes = (small_cohort.labels.to_numpy() == "case").astype(np.int64)
    folds = model._member_folds(codes)
    assert sorted(np.bincount(folds)) == [40, 40, 40, 40]
    for fold in range(4):  # stratified
        assert abs(codes[folds == fold].mean() - codes.mean()) < 0.05
    assert model.set_params(cross_fit=False)._member_folds(codes) is None
    assert DeepGAMIClassifier(small_graph, n_members=1)._member_folds(codes) is None  # one network: one holdout


def test_out_of_fold_predictions_come_from_the_member_that_held_the_row_out(ensemble, small_cohort):
    oof = ensemble.oof_proba_
    assert list(oof.index) == list(small_cohort.labels.index) and list(oof.columns) == list(ensemble.classes_)
    np.testing.assert_allclose(oof.sum(axis=1), 1.0, rtol=1e-5)
    codes = np.unique(small_cohort.labels.to_numpy(), return_inverse=True)[1]
    folds = ensemble._member_folds(codes)
    store = ensemble.model_inputs(ensemble.prediction_data(small_cohort.modalities))
    with torch.no_grad():
        members = torch.softmax(ensemble.module_(store.x_dict, store.observed)[:, :3], dim=2).numpy()
    np.testing.assert_allclose(oof.to_numpy(), members[np.arange(160), folds], atol=1e-6)
    single = DeepGAMIClassifier(ensemble.graph, n_members=1, null_members=0, max_epochs=2).fit(small_cohort.modalities, small_cohort.labels)
    assert single.oof_proba_ is None
