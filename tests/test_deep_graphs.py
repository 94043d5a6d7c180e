"""Priors deeper than one hop: layout and its errors, restriction, the dense reference of the
stacked layers, ensembles, and edge attributions across levels."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import torch

from deepgami import DeepGAMIClassifier
from deepgami.batches import Batchable
from deepgami.cli import main
from deepgami.errors import InputError
from deepgami.evaluation.ablation import null_graph
from deepgami.evaluation.cv import CVSettings, candidates
from deepgami.explain import Explainer
from deepgami.graph import RegulatoryGraph, hierarchy_levels
from deepgami.nn.model import DeepGAMINet
from deepgami.nn.stages import UpperTower
from deepgami.paths import top_paths
from deepgami.simulate_hierarchy import simulate_hierarchy_cohort
from deepgami.training import DeepGAMILoss, LossTotals


def _graph(*tables, names=None) -> RegulatoryGraph:
    """Edge tables given as (source type, relation, target type, [(source, target), ...])."""
    frames = [(pd.DataFrame(edges, columns=["source", "target"]), s, t, r) for s, r, t, edges in tables]
    return RegulatoryGraph.from_edge_tables(frames, node_names=names)


SNP_GENE = ("snp", "eqtl", "gene", [("s0", "g0"), ("s1", "g0"), ("s1", "g1"), ("s2", "g2")])
GENE_PATHWAY = ("gene", "member_of", "pathway", [("g0", "p0"), ("g1", "p0"), ("g1", "p1"), ("g2", "p1")])
PATHWAY_PARENT = ("pathway", "parent", "pathway", [("p0", "p2"), ("p1", "p2"), ("p2", "p3")])


def test_layout_of_one_hop_and_deep_priors():
    one_hop = _graph(SNP_GENE, ("tf", "regulates", "gene", [("t0", "g1")])).layout
    assert one_hop.one_hop and one_hop.meeting == "gene" and one_hop.inputs == ["snp", "tf"]
    assert one_hop.read["gene"].tolist() == [0, 1, 2]

    deep = _graph(("snp", "eqtl", "tf", [("s0", "t0")]), ("tf", "regulates", "gene", [("t0", "g0"), ("t0", "g2")]), SNP_GENE,
                  GENE_PATHWAY, PATHWAY_PARENT).layout
    assert deep.meeting == "gene" and deep.below == ["tf"] and deep.above == ["pathway"] and deep.own == {"snp": ["tf"]}
    assert deep.levels["pathway"].tolist() == [0, 0, 1, 2]
    assert deep.read["gene"].numel() == 0 and deep.read["pathway"].tolist() == [3]  # only the root is read

    # One modality may feed several levels (genes and pathways): they meet at the higher one.
    direct = _graph(SNP_GENE, GENE_PATHWAY, ("snp", "direct", "pathway", [("s0", "p1")])).layout
    assert direct.meeting == "pathway" and direct.own == {"snp": ["gene"]}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ([SNP_GENE, ("gene", "x", "pathway", [("g0", "p0")]), ("pathway", "y", "gene", [("p0", "g1")])], "form a cycle"),
        ([SNP_GENE, GENE_PATHWAY, ("pathway", "parent", "pathway", [("p0", "p1"), ("p1", "p0")])], "has a loop"),
        ([SNP_GENE, ("term", "parent", "term", [("a", "b")])], "nothing but the hierarchy"),
        ([SNP_GENE, ("expr", "is", "gene", [("e0", "g0")]), GENE_PATHWAY, ("snp", "direct", "pathway", [("s0", "p0")])], "several inputs"),
        ([SNP_GENE, ("cpg", "x", "region", [("c0", "r0")])], "meet at no node type"),
        ([SNP_GENE, ("snp", "eqtl", "tf", [("s0", "t0")])], "leads nowhere"),
        ([SNP_GENE, GENE_PATHWAY, PATHWAY_PARENT, ("pathway", "part_of", "pathway", [("p0", "p1")])], "2 hierarchies"),
    ],
)
def test_layout_errors_name_the_problem(tables, message):
    with pytest.raises(InputError, match=message):
        _ = _graph(*tables).layout


def test_restriction_prunes_levels_that_lose_every_edge():
    graph = _graph(SNP_GENE, GENE_PATHWAY, PATHWAY_PARENT)
    with pytest.warns(UserWarning, match="graph restricted"):
        restricted, report = graph.restrict_to_data({"snp": ["s2"]})
    # Only s2 -> g2 -> p1 -> p2 -> p3 survives: g0, g1 and p0 receive nothing any more.
    assert restricted.node_names["gene"] == ["g2"] and restricted.node_names["pathway"] == ["p1", "p2", "p3"]
    assert report.dropped_nodes["pathway"] == ["p0"]
    with pytest.raises(InputError, match="no edge of snp-eqtl->gene is left"), pytest.warns(UserWarning):
        _graph(SNP_GENE, ("gene", "member_of", "pathway", [("g9", "p0")])).restrict_to_data({"snp": ["s0", "s1", "s2"]})


def test_restriction_keeps_a_child_whose_only_way_up_is_its_parent_of_the_same_type():
    # g0 sends no gene -> pathway edge, but reaches p0 through its parent gene g1; g3's parent
    # g4 reaches no pathway, so both go.
    part_of = ("gene", "part_of", "gene", [("g0", "g1"), ("g3", "g4")])
    member_of = ("gene", "member_of", "pathway", [("g1", "p0"), ("g2", "p0")])
    snp_gene = ("snp", "eqtl", "gene", [("s0", "g0"), ("s1", "g1"), ("s2", "g2"), ("s3", "g3"), ("s4", "g4")])
    with pytest.warns(UserWarning, match="graph restricted"):
        restricted, report = _graph(snp_gene, part_of, member_of).restrict_to_data({"snp": ["s0", "s1", "s2", "s3", "s4"]})
    assert restricted.node_names["gene"] == ["g0", "g1", "g2"] and report.dropped_nodes["gene"] == ["g3", "g4"]


def test_a_measured_modality_can_receive_messages_through_its_activity():
    # SNPs are eQTLs of TFs whose expression is measured too: TF activity combines both.
    snp_tf = ("snp", "eqtl", "tf", [("s0", "t0"), ("s1", "t1"), ("s2", "t9")])
    graph = _graph(snp_tf, ("tf", "regulates", "gene", [("t0", "g0"), ("t1", "g0"), ("t1", "g1")]))
    with pytest.warns(UserWarning, match="graph restricted"):
        restricted, _ = graph.restrict_to_data({"snp": ["s0", "s1", "s2"], "tf": ["t0", "t1", "t2"]})
    assert set(restricted.edge_types) == {("snp", "eqtl", "tf_activity"), ("tf", "measured", "tf_activity"), ("tf_activity", "regulates", "gene")}
    assert restricted.layout.meeting == "tf_activity" and restricted.layout.above == ["gene"]
    assert restricted.node_names["tf"] == ["t0", "t1", "t2"]
    assert restricted.node_names["tf_activity"] == ["t0", "t1"]  # t2 regulates nothing, t9 is not measured or regulating
    measured = restricted.edge_frame(("tf", "measured", "tf_activity"))
    assert list(zip(measured["source"], measured["target"])) == [("t0", "t0"), ("t1", "t1")]
    net = DeepGAMINet.from_graph(restricted, {"snp": 3, "tf": 3}, n_classes=2)
    # Genotypes alone predict: the TF activity is imputed from the genotypes' latents.
    logits = net({"snp": torch.randn(4, 3)}, {"snp": torch.ones(4, dtype=torch.bool)})
    assert logits.shape == (4, 1, 2) and set(net.aux_maps) == {"snp__to__tf", "tf__to__snp"}


def test_two_levels_equal_the_dense_formula_and_its_gradients():
    torch.manual_seed(0)
    graph = _graph(SNP_GENE, GENE_PATHWAY)
    net = DeepGAMINet.from_graph(graph, {"snp": 3}, n_classes=2, edge_init_scale=1.0, hidden_dims=())
    encoder, tower = net.encoders["snp"], net.upper
    x = torch.randn(5, 3, requires_grad=True)
    w1, b1 = encoder.convs[0].to_dense(), encoder.bias
    w2, b2 = tower.stages["pathway"].convs[0].to_dense(), tower.stages["pathway"].bias
    expected = torch.relu(torch.relu(x @ w1 + b1) @ w2 + b2)
    got = tower(encoder(x).view(5, 1, 3)).view(5, -1)
    assert torch.allclose(got, expected[:, [0, 1]], atol=1e-6)
    (grad_got,) = torch.autograd.grad(got.square().sum(), x)
    (grad_expected,) = torch.autograd.grad(expected.square().sum(), x)
    assert torch.allclose(grad_got, grad_expected, atol=1e-6)
    edge_grads = torch.autograd.grad(tower(encoder(x).view(5, 1, 3)).sum(), [encoder.convs[0].weight, tower.stages["pathway"].convs[0].weight])
    dense_grads = torch.autograd.grad(torch.relu(torch.relu(x @ w1 + b1) @ w2 + b2).sum(), [w1, w2])
    src1, dst1 = encoder.convs[0].edge_index
    src2, dst2 = tower.stages["pathway"].convs[0].edge_index
    # to_dense is differentiable, so the dense gradient lands on the edge weights too; compare
    # the edge weights' gradient with the dense matrices' gradient at the edges.
    assert torch.allclose(edge_grads[0], dense_grads[0][src1, dst1], atol=1e-6)
    assert torch.allclose(edge_grads[1], dense_grads[1][src2, dst2], atol=1e-6)


def test_a_hierarchy_is_walked_level_by_level():
    torch.manual_seed(1)
    graph = _graph(SNP_GENE, GENE_PATHWAY, PATHWAY_PARENT)
    tower = UpperTower(graph, init_scale=1.0)
    stage = tower.stages["pathway"]
    genes = torch.rand(4, 1, 3)
    member_of, parent, bias = stage.convs[0].to_dense(), stage.convs[1].to_dense(), stage.bias
    pre = genes.view(4, 3) @ member_of + bias
    h = torch.zeros(4, 4)
    for level, nodes in enumerate([[0, 1], [2], [3]]):
        h[:, nodes] = torch.relu(pre + (h @ parent if level else 0))[:, nodes]
    # The head reads the root (p3) only: genes all have a pathway.
    assert torch.allclose(tower(genes).view(4, -1), h[:, [3]], atol=1e-6)


def test_a_hierarchy_where_the_inputs_meet_walks_the_completed_latents():
    # P-NET's arrangement: expression features straight into pathways, pathways into parents.
    torch.manual_seed(2)
    rna_pathway = ("rna", "member_of", "pathway", [("g0", "p0"), ("g1", "p0"), ("g1", "p1"), ("g2", "p2")])
    graph = _graph(rna_pathway, PATHWAY_PARENT)
    assert graph.layout.meeting == "pathway" and graph.layout.read["pathway"].tolist() == [3]
    net = DeepGAMINet.from_graph(graph, {"rna": 3}, n_classes=2, edge_init_scale=1.0, hidden_dims=())
    encoder, stage = net.encoders["rna"], net.upper.stages["pathway"]
    x = torch.randn(5, 3)
    z = torch.relu(x @ encoder.convs[0].to_dense() + encoder.bias)
    h = torch.zeros(5, 4)
    for level, nodes in enumerate([[0, 1], [2], [3]]):
        h[:, nodes] = torch.relu(z + stage.bias + (h @ stage.convs[0].to_dense() if level else 0))[:, nodes]
    assert torch.allclose(net.upper(encoder(x).view(5, 1, 4)).view(5, -1), h[:, [3]], atol=1e-6)
    two = _graph(rna_pathway, ("meth", "near", "pathway", [("c0", "p2")]), PATHWAY_PARENT)
    net = DeepGAMINet.from_graph(two, {"rna": 3, "meth": 1}, n_classes=2)
    assert net(dict(rna=x, meth=torch.randn(5, 1))).shape == (5, 1, 2) and len(net.aux_maps) == 2


def test_a_modality_without_edges_feeds_the_lowest_level_of_a_hierarchy_where_the_inputs_meet():
    # miRNA without a prior beside rna -> pathway -> parent: its dense layer writes the leaves
    # (p0, p1) only, so it reaches the node the head reads (p3) through the hierarchy.
    rna_pathway = ("rna", "member_of", "pathway", [("g0", "p0"), ("g1", "p0"), ("g1", "p1"), ("g2", "p1")])
    graph = _graph(rna_pathway, PATHWAY_PARENT)
    sizes = {"rna": 3, "mirna": 4}
    net = DeepGAMINet.from_graph(graph, sizes, n_classes=2, hidden_dims=(), n_members=2, member_seeds=[5, 6])
    dense, x = net.encoders["mirna"], torch.randn(5, 4)
    out = dense(x).view(5, 2, 4)
    assert torch.equal(out[:, :, [0, 1]], torch.relu(x @ dense.linear.weight.T + dense.linear.bias).view(5, 2, 2))
    assert not out[:, :, [2, 3]].any()
    torch.manual_seed(6)
    single = DeepGAMINet.from_graph(graph, sizes, n_classes=2, hidden_dims=())
    inputs = {"rna": torch.randn(5, 3), "mirna": x}
    assert torch.allclose(net(inputs)[:, 1], single(inputs)[:, 0], atol=1e-6)
    # Without a hierarchy where the inputs meet, the dense layer still feeds every latent node.
    flat = DeepGAMINet.from_graph(_graph(rna_pathway), sizes, n_classes=2)
    assert flat.encoders["mirna"].nodes is None and flat.encoders["mirna"](x).shape == (5, 2)


def test_ensemble_slots_of_a_deep_network_equal_single_networks():
    graph = _graph(("snp", "eqtl", "tf", [("s0", "t0"), ("s2", "t0")]), ("tf", "regulates", "gene", [("t0", "g0"), ("t0", "g2")]),
                   SNP_GENE, GENE_PATHWAY, PATHWAY_PARENT)
    kwargs = dict(n_classes=2, edge_init_scale=0.1, hidden_dims=(4,))
    ensemble = DeepGAMINet.from_graph(graph, {"snp": 3, "expr": 2}, n_members=2, n_null_members=1, member_seeds=[3, 4, 5], **kwargs)
    x = {"snp": torch.randn(6, 3), "expr": torch.randn(6, 2)}
    ensemble.eval()
    for slot, seed in enumerate([3, 4, 5]):
        torch.manual_seed(seed)
        single = DeepGAMINet.from_graph(graph, {"snp": 3, "expr": 2}, **kwargs).eval()
        assert torch.allclose(ensemble(x)[:, slot], single(x)[:, 0], atol=1e-6)


@pytest.fixture(scope="module")
def fitted_hierarchy():
    cohort = simulate_hierarchy_cohort(n_samples=240, n_snps=300, n_tfs=20, n_genes=60, n_pathways=16, depth=3, difficulty="easy", seed=3)
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    model = DeepGAMIClassifier(graph=graph, max_epochs=8, n_members=2, null_members=1, random_state=0, verbose=False)
    with pytest.warns(UserWarning, match="gene nodes left out, cut off from the data or the top level"):
        model.fit(cohort.modalities, cohort.labels)
    return cohort, model


def test_edge_attributions_cover_every_level_and_add_up(fitted_hierarchy):
    cohort, model = fitted_hierarchy
    edges = Explainer(model, cohort.modalities, n_steps=16, progress=False).edges()
    relations = {"snp-eqtl->tf", "snp-eqtl->gene", "tf-regulates->gene", "gene-member_of->pathway", "pathway-parent->pathway"}
    assert set(edges.table["edge_type"]) == relations
    for gaps in edges.completeness.values():
        assert gaps["relative_gap"] < 0.02
    parent = edges.table[edges.table["edge_type"] == "pathway-parent->pathway"]
    assert len(parent) == len(model.graph_.edge_frame(("pathway", "parent", "pathway"))) * len(model.task_.output_names)
    assert parent["abs_score"].gt(0).any() and np.isfinite(parent["q_value"]).all()


def test_latents_of_a_deep_network_name_the_nodes_the_head_reads(fitted_hierarchy):
    cohort, model = fitted_hierarchy
    latents = Explainer(model, cohort.modalities, n_steps=8, progress=False).latents()
    fused = latents[latents["layer"] == "fused:snp"]
    names, levels = model.head_input_nodes()
    assert set(fused["node"]) == set(names) and set(fused["level"]) <= {"gene", "pathway"}
    roots = [n for n, level in zip(names, levels) if level == "pathway"]
    assert roots and all(cohort.truth["pathway_level"][n] == 3 for n in roots)
    assert set(latents.loc[latents["layer"] == "snp", "level"]) == {"gene"}


@pytest.mark.parametrize("kind", ["random", "bernoulli", "shuffle"])
def test_null_hierarchies_stay_acyclic_per_level_and_spare_other_relations(kind):
    cohort = simulate_hierarchy_cohort(n_samples=50, n_snps=200, n_genes=60, n_pathways=30, depth=4, seed=1)
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    parent = ("pathway", "parent", "pathway")
    null = null_graph(graph, kind, seed=2, relations=[parent])
    levels = hierarchy_levels(graph, parent)
    real_src, real_dst = graph.edge_index(parent)
    null_src, null_dst = null.edge_index(parent)
    pairs = lambda s, d: sorted(zip(levels[s].tolist(), levels[d].tolist()))  # noqa: E731
    assert pairs(null_src, null_dst) == pairs(real_src, real_dst)  # same edges per pair of levels
    assert not torch.equal(null.edge_index(parent), graph.edge_index(parent))
    for edge_type in graph.edge_types:
        if edge_type != parent:
            assert torch.equal(null.edge_index(edge_type), graph.edge_index(edge_type))
    assert null.layout.levels["pathway"].max() <= levels.max()  # validated: no loop


def test_paths_split_each_top_edge_among_the_chains_below():
    edges = pd.DataFrame(
        {
            "edge_type": ["snp-eqtl->gene"] * 3 + ["gene-member_of->pathway"] * 2,
            "source": ["s0", "s1", "s2", "g0", "g1"],
            "target": ["g0", "g0", "g1", "p0", "p0"],
            "class": "case",
            "abs_score": [3.0, 1.0, 2.0, 4.0, 1.0],
        }
    )
    paths = top_paths(edges, "case")
    assert paths["path"].tolist() == ["s0 -> g0 -> p0", "s1 -> g0 -> p0", "s2 -> g1 -> p0"]
    assert np.allclose(paths["score"], [3.0, 1.0, 1.0]) and np.isclose(paths["share"].sum(), 1.0)
    assert set(paths["node_types"]) == {"snp -> gene -> pathway"}


@pytest.mark.filterwarnings("ignore:graph restricted to the data")
def test_a_deep_prior_runs_through_fit_predict_explain_and_cv(tmp_path, capsys):
    cohort = simulate_hierarchy_cohort(n_samples=160, n_snps=200, n_tfs=15, n_genes=50, n_pathways=14, depth=3, seed=4)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(
        config.read_text()
        + '\n[model]\nn_members = 2\nnull_members = 1\n\n[training]\nmax_epochs = 4\n\n'
        + '[cv]\nfolds = 2\nmethods = ["deepgami"]\nablations = ["shuffle"]\nnull_relations = ["pathway-parent->pathway"]\n'
    )
    run, explained = tmp_path / "run", tmp_path / "explain"
    assert main(["-q", "fit", str(config), "--out", str(run)]) == 0
    assert main(["-q", "predict", str(run), "--modality", f"snp={tmp_path / 'cohort' / 'snp.csv'}", "--out", str(tmp_path / "p.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == 160
    assert main(["-q", "explain", str(run), "--out", str(explained), "--n-steps", "8"]) == 0
    edges = pd.read_csv(explained / "edges.csv")
    assert "pathway-parent->pathway" in set(edges["edge_type"])
    paths = pd.read_csv(explained / "paths.csv")
    assert set(paths["node_types"].str.split(" -> ").str[-1]) == {"pathway"} and (explained / "paths_case.png").is_file()
    latents = pd.read_csv(explained / "latents.csv")
    assert {"gene", "pathway"} <= set(latents["level"])
    inflow = latents[latents["layer"] == "inflow"]
    assert set(inflow["level"]) == {"tf", "gene", "pathway"}
    pathway_edges = edges[edges["edge_type"].str.endswith("->pathway") & (edges["class"] == "case")]
    expected = pathway_edges.groupby("target")["abs_score"].sum()
    got = inflow[(inflow["level"] == "pathway") & (inflow["class"] == "case")].set_index("node")["abs_score"]
    np.testing.assert_allclose(got.loc[expected.index], expected.to_numpy())
    assert inflow.groupby(["class", "level"])["rank"].min().eq(1).all()
    assert main(["-q", "cv", str(config), "--out", str(tmp_path / "cv"), "--repeats", "1"]) == 0
    results = pd.read_csv(tmp_path / "cv" / "results.csv")
    assert {"deepgami", "deepgami_shuffle_graph"} <= set(results["method"])
    capsys.readouterr()


@pytest.mark.filterwarnings("ignore:graph restricted to the data")
def test_cv_leaves_varmole_out_of_the_default_methods_of_a_deep_prior(caplog):
    graph = _graph(SNP_GENE, GENE_PATHWAY, PATHWAY_PARENT)
    with caplog.at_level("WARNING"):
        names = [c.name for c in candidates(CVSettings(ablations=[]), graph)]
    assert "varmole" not in names and "logistic_l2" in names and "varmole left out of the methods" in caplog.text
    with pytest.raises(InputError, match=r"varmole reads a one-hop prior, but this one has latent levels \['gene', 'pathway'\]"):
        candidates(CVSettings(methods=["deepgami", "varmole"], ablations=[]), graph)


def test_cv_refuses_an_unknown_null_relation(tmp_path, capsys):
    cohort = simulate_hierarchy_cohort(n_samples=60, n_snps=100, n_genes=30, n_pathways=10, depth=2, seed=5)
    config = cohort.write(tmp_path)
    config.write_text(config.read_text() + '\n[cv]\nmethods = ["deepgami"]\nablations = ["shuffle"]\nnull_relations = ["pathway-x->pathway"]\n')
    assert main(["-q", "cv", str(config), "--out", str(tmp_path / "cv")]) != 0
    err = capsys.readouterr().err
    assert "null_relations names unknown relation 'pathway-x->pathway'" in err and not (tmp_path / "cv").exists()


def test_deep_supervision_adds_level_heads_that_train_and_reload(fitted_hierarchy, tmp_path):
    cohort, _ = fitted_hierarchy
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    model = DeepGAMIClassifier(graph=graph, level_loss_weight=0.5, max_epochs=4, n_members=2, null_members=0, random_state=0)
    with pytest.warns(UserWarning, match="graph restricted"):
        model.fit(cohort.modalities, cohort.labels)
    net = model.module_
    assert set(net.level_heads) == {"gene", "pathway"}
    assert net.level_heads["gene"].in_features == model.graph_.num_nodes("gene")
    assert net.level_heads["pathway"].in_features == model.graph_.num_nodes("pathway")
    # The level heads train (they start as nn.Linear draws and receive gradient from the level loss).
    torch.manual_seed(0)
    fresh = DeepGAMINet.from_graph(model.graph_, {"snp": model.graph_.num_nodes("snp")}, 2, n_members=2, level_heads=True)
    assert not torch.equal(fresh.level_heads["pathway"].weight, net.level_heads["pathway"].weight)
    model.save(tmp_path / "model")
    loaded = type(model).load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(cohort.modalities), model.predict_proba(cohort.modalities))
    assert set(loaded.module_.level_heads) == {"gene", "pathway"}
    # A one-hop prior has one level, the top: no level heads.
    one_hop = RegulatoryGraph.from_edge_tables([(cohort.prior[("snp", "eqtl", "gene")], "snp", "gene", "eqtl")])
    assert DeepGAMINet.from_graph(one_hop, {"snp": 300}, 2, level_heads=True).level_heads is None


def test_level_loss_enters_the_objective(fitted_hierarchy):
    _, model = fitted_hierarchy
    torch.manual_seed(0)
    n_snps = model.graph_.num_nodes("snp")
    net = DeepGAMINet.from_graph(model.graph_, {"snp": n_snps}, 2, level_heads=True)
    x = {"snp": torch.randn(8, n_snps)}
    batch = Batchable(x, {"snp": torch.ones(8, dtype=torch.bool)}, torch.tensor([0, 1] * 4))
    totals = LossTotals.of(model.task_, batch.y, batch.observed)
    plain, supervised = DeepGAMILoss(net, model.task_, 1.0), DeepGAMILoss(net, model.task_, 1.0, level_weight=1.0)
    net.eval()
    total_plain, task_plain, *_ = plain(batch, totals)
    total_levels, task_levels, *_ = supervised(batch, totals)
    assert torch.equal(task_plain, task_levels) and total_levels > total_plain


def test_edge_attributions_at_every_depth_equal_a_brute_force_integral(fitted_hierarchy):
    """Per-edge IG of a deep network against autograd on explicit per-edge masks, one relation
    (and one Gauss-Legendre node) at a time: the hooks' bookkeeping across levels is exact."""
    from deepgami.explain import _gauss_legendre, _prior_relations

    cohort, _ = fitted_hierarchy
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    model = DeepGAMIClassifier(graph=graph, max_epochs=3, n_members=1, null_members=0, random_state=1, verbose=False)
    with pytest.warns(UserWarning, match="graph restricted"):
        model.fit(cohort.modalities, cohort.labels)
    explainer = Explainer(model, {"snp": cohort.snp.iloc[:30]}, n_steps=6, progress=False)
    edges = explainer.edges(per_sample=True)
    relations = _prior_relations(model, ["snp"])
    net, part = model.module_, explainer.batch
    alphas, weights = _gauss_legendre(6)
    expected = {r.edge_type: torch.zeros(len(part), r.conv.n_edges) for r in relations}
    for alpha, weight in zip(alphas, weights):
        masks = {r.edge_type: torch.full((r.conv.n_edges,), float(alpha), requires_grad=True) for r in relations}
        def masked(_module, args, kwargs, mask):
            return args, {**kwargs, "edge_mask": mask}

        handles = [r.conv.register_forward_pre_hook(functools.partial(masked, mask=masks[r.edge_type]), with_kwargs=True) for r in relations]
        try:
            for row in range(len(part)):  # per sample: the gradient of that sample's score only
                one = part.rows(torch.tensor([row]))
                score = net.ensemble_score(net(one.x_dict, one.observed), "proba", score=model.task_.score)[0, 0]
                grads = torch.autograd.grad(score, list(masks.values()))
                for t, grad in zip(masks, grads):
                    expected[t][row] += float(weight) * grad
        finally:
            for handle in handles:
                handle.remove()
    label = model.task_.output_names[0]
    for t, values in expected.items():
        got = edges.per_sample[label][t]
        np.testing.assert_allclose(got, values.numpy(), rtol=1e-3, atol=1e-7)


@pytest.mark.filterwarnings("ignore:graph restricted to the data")
def test_measured_tfs_as_targets_through_the_cli(tmp_path):
    from deepgami.simulate import simulate_cohort

    cohort = simulate_cohort(n_samples=160, n_snps=200, n_tfs=20, n_genes=40, seed=3)
    folder = tmp_path / "cohort"
    config = cohort.write(folder)
    rng = np.random.default_rng(0)
    snp_tf = pd.DataFrame({"source": rng.choice(cohort.snp.columns, 60, replace=False), "target": rng.choice(cohort.tf.columns, 60)})
    snp_tf.to_csv(folder / "snp_tf.csv", index=False)
    text = config.read_text().replace('path = "eqtl.csv"\nsource = "snp"\ntarget = "gene"', 'path = "snp_tf.csv"\nsource = "snp"\ntarget = "tf"')
    config.write_text(text + "\n[model]\nn_members = 2\nnull_members = 1\n\n[training]\nmax_epochs = 3\n")
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "run")]) == 0
    assert main(["-q", "explain", str(tmp_path / "run"), "--out", str(tmp_path / "explain"), "--n-steps", "4"]) == 0
    edges = pd.read_csv(tmp_path / "explain" / "edges.csv")
    assert set(edges["edge_type"]) == {"snp-eqtl->tf_activity", "tf-measured->tf_activity", "tf_activity-regulates->gene"}
    single = tmp_path / "snp_only.csv"
    assert main(["-q", "predict", str(tmp_path / "run"), "--modality", f"snp={folder / 'snp.csv'}", "--out", str(single)]) == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_a_deep_network_and_its_edge_attributions_agree_on_cuda():
    cohort = simulate_hierarchy_cohort(n_samples=120, n_snps=200, n_tfs=15, n_genes=50, n_pathways=14, depth=3, seed=6)
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    with pytest.warns(UserWarning, match="graph restricted"):
        restricted, _ = graph.restrict_to_data({"snp": list(cohort.snp.columns)})
    torch.manual_seed(0)
    cpu = DeepGAMINet.from_graph(restricted, {"snp": 200}, 2, n_members=3, kernel="sparse", level_heads=True)
    gpu = DeepGAMINet.from_graph(restricted, {"snp": 200}, 2, n_members=3, kernel="sparse", level_heads=True).cuda()
    gpu.load_state_dict(cpu.state_dict())
    cpu.eval(), gpu.eval()  # no dropout in the head
    x = torch.as_tensor(cohort.snp.to_numpy(np.float32))
    out_cpu, levels_cpu = cpu.classify(cpu.complete(cpu.encode({"snp": x})), with_levels=True)
    out_gpu, levels_gpu = gpu.classify(gpu.complete(gpu.encode({"snp": x.cuda()})), with_levels=True)
    torch.testing.assert_close(out_gpu.cpu(), out_cpu, rtol=1e-4, atol=1e-5)
    grads_cpu = torch.autograd.grad(out_cpu.square().sum() + sum(v.sum() for v in levels_cpu.values()), list(cpu.parameters()))
    grads_gpu = torch.autograd.grad(out_gpu.square().sum() + sum(v.sum() for v in levels_gpu.values()), list(gpu.parameters()))
    for a, b in zip(grads_cpu, grads_gpu):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-3, atol=1e-5)
    model = DeepGAMIClassifier(graph=graph, device="cuda", max_epochs=3, n_members=2, null_members=1, level_loss_weight=0.5, random_state=0)
    with pytest.warns(UserWarning, match="graph restricted"):
        model.fit(cohort.modalities, cohort.labels)
    edges = Explainer(model, cohort.modalities, n_steps=16, progress=False).edges()
    assert "pathway-parent->pathway" in set(edges.table["edge_type"])
    for gaps in edges.completeness.values():
        assert gaps["relative_gap"] < 0.03


def test_leftover_nodes_of_a_deep_prior_are_read_by_the_classifier():
    graph = _graph(SNP_GENE, GENE_PATHWAY, PATHWAY_PARENT)
    restricted, _ = graph.restrict_to_data({"snp": ["s0", "s1", "s2", "s3"]})
    dense = restricted.with_leftover_nodes({"snp": ["s3"]}, n_nodes=2)
    assert dense.layout.read["gene"].tolist() == [3, 4]  # unconnected_1, unconnected_2 lead nowhere
    net = DeepGAMINet.from_graph(dense, {"snp": 4}, n_classes=2)
    assert net.upper.n_read == 3  # the root and the two leftover genes
