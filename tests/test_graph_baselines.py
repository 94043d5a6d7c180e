"""Varmole and MOGONET baselines: interface, determinism, learning, masked layer, similarity graphs, VCDN."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

from deepgami import InputError, MultiOmicsData, RegulatoryGraph
from deepgami.evaluation.baselines import (
    VCDN,
    MOGONETMethod,
    MOGONETNet,
    VarmoleMethod,
    VarmoleNet,
    bipartite_similarity_graph,
    similarity_graph,
    similarity_threshold,
    varmole_edge_index,
    vcdn_features,
)
from deepgami.evaluation.methods import REGISTRY
from deepgami.simulate import simulate_cohort

METHODS = {"varmole": VarmoleMethod, "mogonet": MOGONETMethod}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Full-batch training on a few hundred rows: intra-op threads only add overhead (and slow
    # down badly on a shared, busy machine).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(n_samples=160, n_snps=120, n_tfs=15, n_genes=25, difficulty="easy", seed=0)


@pytest.fixture(scope="module")
def graph(cohort):
    return RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])


@pytest.fixture(scope="module")
def split(cohort):
    data = MultiOmicsData(cohort.modalities, cohort.labels)
    train, test = train_test_split(np.arange(len(data)), test_size=0.3, stratify=cohort.labels, random_state=0)
    return data.subset(train), data.subset(test)


@pytest.fixture(scope="module")
def fitted(split, graph):
    train, _ = split
    return {name: REGISTRY[name].factory(graph=graph, random_state=0).fit(train) for name in METHODS}


# ---------------------------------------------------------------- interface
def test_registered_with_small_grids():
    assert REGISTRY["varmole"].factory is VarmoleMethod and REGISTRY["varmole"].uses_graph
    assert REGISTRY["mogonet"].factory is MOGONETMethod and not REGISTRY["mogonet"].uses_graph
    for name in METHODS:
        grid = REGISTRY[name].grid
        assert 1 < np.prod([len(v) for v in grid.values()]) <= 4
        for values in itertools.product(*grid.values()):
            REGISTRY[name].factory(graph=None, random_state=0, **dict(zip(grid, values)))


@pytest.mark.parametrize("name", list(METHODS))
def test_probabilities_shape_sum_and_classes(name, fitted, split):
    _, test = split
    method = fitted[name]
    proba = method.predict_proba(test)
    assert method.supports_missing_modalities is False
    assert list(method.classes_) == ["case", "control"]
    assert proba.shape == (len(test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (proba >= 0).all()


@pytest.mark.parametrize("name", list(METHODS))
def test_learns_beyond_chance_with_columns_in_classes_order(name, fitted, split):
    _, test = split
    method = fitted[name]
    proba = method.predict_proba(test)
    # 48 test samples: chance is 0.5 +- 0.07 (one s.e.). Here Varmole reaches a balanced
    # accuracy of 0.73 and MOGONET 0.65, both a ROC AUC of about 0.8.
    truth = test.labels.to_numpy()
    score = balanced_accuracy_score(truth, method.classes_[proba.argmax(axis=1)])
    auc = roc_auc_score(truth == method.classes_[1], proba[:, 1])
    assert score > 0.55 and auc > 0.65, (score, auc)
    # Each column is highest, on average, among the samples of its own class.
    for j, c in enumerate(method.classes_):
        assert proba[truth == c, j].mean() > proba[truth != c, j].mean()


@pytest.mark.parametrize("name", list(METHODS))
def test_same_random_state_gives_identical_probabilities(name, fitted, split, graph):
    train, test = split
    again = METHODS[name](graph=graph, random_state=0).fit(train).predict_proba(test)
    np.testing.assert_array_equal(again, fitted[name].predict_proba(test))
    other = METHODS[name](graph=graph, random_state=1).fit(train).predict_proba(test)
    assert not np.array_equal(other, again)


@pytest.mark.parametrize("name", list(METHODS))
def test_unfitted_raises_not_fitted(name, split):
    with pytest.raises(NotFittedError):
        METHODS[name]().predict_proba(split[1])


@pytest.mark.parametrize("name", list(METHODS))
def test_needs_every_trained_modality(name, fitted, split):
    _, test = split
    method = fitted[name]
    np.testing.assert_array_equal(
        method.predict_proba(test, use_modalities=("tf", "snp")), method.predict_proba(test)
    )
    with pytest.raises(InputError, match="all the modalities"):
        method.predict_proba(test, use_modalities=("snp",))
    only_snp = MultiOmicsData({"snp": test.modalities["snp"]})
    with pytest.raises(InputError, match="lacks modalities"):
        method.predict_proba(only_snp)


@pytest.mark.parametrize("name", list(METHODS))
def test_single_modality_refit_and_string_labels(name, cohort, graph):
    labels = cohort.labels.map({"case": "b", "control": "a"})
    data = MultiOmicsData({"tf": cohort.tf}, labels)
    method = METHODS[name](graph=graph, random_state=0, max_epochs=5, patience=5).fit(data)
    proba = method.predict_proba(data)
    assert list(method.classes_) == ["a", "b"] and proba.shape == (len(data), 2)
    if name == "mogonet":
        assert method.module_.vcdn is None


# ---------------------------------------------------------------- Varmole's masked layer
@pytest.fixture()
def tiny_graph():
    eqtl = pd.DataFrame({"source": ["s0", "s1", "s2"], "target": ["g0", "g0", "g2"]})
    grn = pd.DataFrame({"source": ["t0", "t1", "t1"], "target": ["g1", "g2", "t0"]})
    names = {"snp": ["s0", "s1", "s2"], "tf": ["t0", "t1"], "gene": ["g0", "g1", "g2", "t0"]}
    return RegulatoryGraph.from_edge_tables([(eqtl, "snp", "gene", "eqtl"), (grn, "tf", "gene", "regulates")], names)


# Concatenated input rows s0, s1, s2, t0, t1; latent columns g0, g1, g2, t0. The last row of
# t0 is Varmole's identity edge: TF t0 is also the latent gene t0.
TINY_MASK = torch.tensor(
    [
        [1, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 1, 0],
        [0, 1, 0, 1],
        [0, 0, 1, 1],
    ],
    dtype=torch.float64,
)


def _dense_mask(edge_index, n_src, n_dst):
    mask = torch.zeros(n_src, n_dst, dtype=torch.float64)
    mask[edge_index[0], edge_index[1]] = 1.0
    return mask


@pytest.mark.parametrize("kernel", ["dense", "sparse", "scatter"])
def test_varmole_masked_layer_equals_dense_masked_reference(tiny_graph, kernel):
    torch.manual_seed(0)
    net = VarmoleNet.from_graph(tiny_graph, {"snp": 3, "tf": 2}, 2, kernel=kernel).double()
    layer = net.masked
    assert (layer.num_src, layer.num_dst) == (5, 4)
    torch.testing.assert_close(_dense_mask(layer.edge_index, 5, 4), TINY_MASK)

    weight = torch.randn(5, 4, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(weight[layer.edge_index[0], layer.edge_index[1]])
    x = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    reference = x @ (weight * TINY_MASK) + layer.bias
    torch.testing.assert_close(out, reference, atol=1e-12, rtol=0)
    # Weights outside the mask have no effect: a reference with other values there agrees.
    noisy = weight + 100 * torch.randn(5, 4, dtype=torch.float64) * (1 - TINY_MASK)
    torch.testing.assert_close(out, x @ (noisy * TINY_MASK) + layer.bias, atol=1e-12, rtol=0)
    grad = torch.randn(7, 4, dtype=torch.float64)
    (grad_x,) = torch.autograd.grad(out, x, grad)
    torch.testing.assert_close(grad_x, grad @ (weight * TINY_MASK).t(), atol=1e-12, rtol=0)
    assert net(x).shape == (7, 2)


def test_varmole_without_relation_or_graph_is_dense(tiny_graph):
    eqtl_only = RegulatoryGraph.from_edge_tables(
        [(tiny_graph.edge_frame(("snp", "eqtl", "gene")), "snp", "gene", "eqtl")],
        {"snp": ["s0", "s1", "s2"], "gene": ["g0", "g1", "g2"]},
    )
    edge_index, n_latent = varmole_edge_index(eqtl_only, {"snp": 3, "tf": 2})
    mask = _dense_mask(edge_index, 5, n_latent)
    torch.testing.assert_close(mask[:3], TINY_MASK[:3, :3])
    assert bool((mask[3:] == 1).all())  # the TFs have no prior: fully connected to the genes
    edge_index, _ = varmole_edge_index(tiny_graph, {"snp": 3, "tf": 2}, self_loops=False)
    assert _dense_mask(edge_index, 5, 4)[3, 3] == 0
    dense = VarmoleNet.from_graph(None, {"snp": 3, "tf": 2}, 2, latent_dim=6)
    assert isinstance(dense.masked, torch.nn.Linear) and dense.masked.weight.shape == (6, 5)


def test_varmole_refuses_a_prior_deeper_than_one_hop():
    frames = [
        (pd.DataFrame({"source": ["s0", "s1"], "target": ["t0", "t0"]}), "snp", "tf", "eqtl"),
        (pd.DataFrame({"source": ["s2"], "target": ["g0"]}), "snp", "gene", "eqtl"),
        (pd.DataFrame({"source": ["t0"], "target": ["g0"]}), "tf", "gene", "regulates"),
    ]
    with pytest.raises(InputError, match=r"varmole baseline reads a one-hop prior.*\['tf', 'gene'\]; leave varmole out"):
        varmole_edge_index(RegulatoryGraph.from_edge_tables(frames), {"snp": 3})


# ---------------------------------------------------------------- MOGONET
@pytest.mark.parametrize("k", [2, 5])
def test_similarity_graph_has_about_k_neighbours_per_node(split, k):
    train, _ = split
    x = torch.from_numpy(train.modalities["snp"].to_numpy())
    x = x - x.mean(0)
    edge_index, edge_weight = similarity_graph(x, similarity_threshold(x, k))
    src, dst = edge_index
    loops = src == dst
    assert int(loops.sum()) == len(x)
    degree = torch.bincount(dst[~loops], minlength=len(x)).double()
    assert abs(degree.mean().item() - k) < 0.1
    pairs = set(zip(src[~loops].tolist(), dst[~loops].tolist()))
    assert pairs == {(j, i) for i, j in pairs}  # undirected
    row_sums = torch.zeros(len(x), dtype=edge_weight.dtype).index_add_(0, dst, edge_weight.abs())
    torch.testing.assert_close(row_sums, torch.ones_like(row_sums))


def test_test_graph_links_new_samples_to_training_samples_only():
    torch.manual_seed(0)
    x_ref, x_new = torch.randn(30, 8), torch.randn(10, 8)
    threshold = similarity_threshold(x_ref, 4)
    edge_index, _ = bipartite_similarity_graph(x_ref, x_new, threshold)
    src, dst = edge_index[:, edge_index[0] != edge_index[1]]
    assert len(src) > 0
    assert bool(((src < 30) != (dst < 30)).all())


def test_mogonet_never_reads_test_labels(fitted, split):
    _, test = split
    method = fitted["mogonet"]
    flipped = test.labels.map({"case": "control", "control": "case"})
    relabelled = MultiOmicsData(test.modalities, flipped)
    unlabelled = MultiOmicsData(test.modalities)
    expected = method.predict_proba(test)
    np.testing.assert_array_equal(method.predict_proba(relabelled), expected)
    np.testing.assert_array_equal(method.predict_proba(unlabelled), expected)


@pytest.mark.parametrize("n_modalities", [2, 3])
def test_vcdn_outer_product_has_n_classes_power_n_modalities_features(n_modalities):
    n_classes = 3
    probabilities = [torch.rand(4, n_classes) for _ in range(n_modalities)]
    features = vcdn_features(probabilities)
    assert features.shape == (4, n_classes**n_modalities)
    for index in itertools.product(range(n_classes), repeat=n_modalities):
        flat = int(np.ravel_multi_index(index, (n_classes,) * n_modalities))
        expected = torch.stack([p[:, c] for p, c in zip(probabilities, index)]).prod(0)
        torch.testing.assert_close(features[:, flat], expected)
    vcdn = VCDN(n_modalities, n_classes)
    assert vcdn.model[0].in_features == n_classes**n_modalities
    assert vcdn([torch.randn(4, n_classes) for _ in range(n_modalities)]).shape == (4, n_classes)


def test_mogonet_net_fuses_three_modalities():
    torch.manual_seed(0)
    net = MOGONETNet({"a": 5, "b": 4, "c": 3}, n_classes=2, hidden_dims=(8, 8, 4))
    assert net.vcdn.model[0].in_features == 2**3
    x_dict = {m: torch.randn(12, n) for m, n in {"a": 5, "b": 4, "c": 3}.items()}
    graphs = {m: similarity_graph(x, similarity_threshold(x, 3)) for m, x in x_dict.items()}
    net.eval()
    fused = net(x_dict, graphs)
    assert fused.shape == (12, 2)
    for m in x_dict:  # every modality reaches the fused output
        changed = {**x_dict, m: x_dict[m] + torch.randn_like(x_dict[m])}
        assert not torch.allclose(net(changed, graphs), fused), m
