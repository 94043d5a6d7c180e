"""The deep-hierarchy simulator: SNP -> TF -> gene -> pathway -> parent pathway."""

from __future__ import annotations

import tomllib

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from deepgami.graph import RegulatoryGraph, relation_name
from deepgami.simulate_hierarchy import RELATION_FILES, simulate_hierarchy_cohort

SMALL = {"n_samples": 300, "n_snps": 600, "n_tfs": 20, "n_genes": 120, "n_pathways": 30}


@pytest.fixture(scope="module")
def cohort():
    return simulate_hierarchy_cohort(seed=1)


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(x)), x])
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(1 - residual.var() / y.var())


def _hierarchy(cohort) -> nx.DiGraph:
    parents = cohort.prior.get(("pathway", "parent", "pathway"), pd.DataFrame(columns=["source", "target"]))
    graph = nx.DiGraph(zip(parents["source"], parents["target"]))
    graph.add_nodes_from(cohort.truth["pathway_level"].index)
    return graph


def test_same_seed_same_cohort_other_seed_other_cohort():
    first, again, other = (simulate_hierarchy_cohort(**SMALL, seed=s) for s in (5, 5, 6))
    assert first.snp.equals(again.snp) and first.labels.equals(again.labels)
    assert first.truth["edges"].equals(again.truth["edges"]) and first.truth["chains"].equals(again.truth["chains"])
    assert all(first.prior[t].equals(again.prior[t]) for t in first.prior)
    assert not first.snp.equals(other.snp) and first.truth["causal_genes"] != other.truth["causal_genes"]


def test_shapes_dosages_and_activities(cohort):
    assert cohort.snp.shape == (800, 2000) and set(np.unique(cohort.snp.to_numpy())) == {0, 1, 2}
    assert cohort.labels.index.equals(cohort.snp.index) and set(cohort.labels) == {"control", "case"}
    truth = cohort.truth
    assert list(cohort.activity["gene"].columns) == truth["causal_genes"]
    assert list(cohort.activity["tf"].columns) == truth["causal_tfs"]
    planted = truth["causal_pathways"] + [p for names in truth["causal_pathway_ancestors"].values() for p in names]
    assert sorted(cohort.activity["pathway"].columns) == sorted(planted)
    assert truth["pathway_level"].size == 60 and len(truth["causal_pathways"]) == 2
    # TFs are latent: the only modality is the genotype.
    assert list(cohort.modalities) == ["snp"] and cohort.task is None


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_hierarchy_is_acyclic_with_depth_levels(depth):
    cohort = simulate_hierarchy_cohort(**SMALL, depth=depth, n_roots=3, seed=2)
    graph, level = _hierarchy(cohort), cohort.truth["pathway_level"]
    assert nx.is_directed_acyclic_graph(graph)
    assert sorted(level.unique()) == list(range(1, depth + 1)) and level.size == SMALL["n_pathways"]
    assert (level == depth).sum() == (3 if depth > 1 else SMALL["n_pathways"])
    for child, parent in graph.edges:
        assert level[parent] == level[child] + 1
    non_roots = level.index[level < depth]
    assert all(1 <= graph.out_degree(p) <= 2 for p in non_roots) and all(graph.out_degree(p) == 0 for p in level.index[level == depth])
    # Only leaves hold genes, and no pathway above them is empty.
    assert set(level[cohort.prior[("gene", "member_of", "pathway")]["target"]]) == {1}
    assert all(graph.in_degree(p) >= 1 for p in level.index[level > 1])
    assert (("pathway", "parent", "pathway") in cohort.prior) == (depth > 1)


def test_every_planted_edge_is_in_the_prior_among_null_edges(cohort):
    truth_edges = cohort.truth["edges"]
    assert set(truth_edges["relation"]) == {relation_name(t) for t in RELATION_FILES}
    for edge_type, prior in cohort.prior.items():
        planted = truth_edges[truth_edges["relation"] == relation_name(edge_type)]
        listed = set(zip(prior["source"], prior["target"]))
        assert set(zip(planted["source"], planted["target"])) <= listed
        assert len(listed) > 2 * len(planted), f"{edge_type}: too few null edges"
        assert not prior.duplicated().any()
    assert (truth_edges["effect"].abs().between(0.5, 1.0)).all()
    # Causal pathways hold null members as well as causal genes.
    members = cohort.prior[("gene", "member_of", "pathway")]
    causal_members = set(members.loc[members["target"].isin(cohort.truth["causal_pathways"]), "source"])
    assert set(cohort.truth["causal_genes"]) < causal_members


def test_chains_run_through_planted_edges(cohort):
    truth = cohort.truth
    planted = set(zip(truth["edges"]["source"], truth["edges"]["target"]))
    chains = truth["chains"]
    direct, via_tf = chains[chains["tf"].isna()], chains[chains["tf"].notna()]
    assert len(direct) and len(via_tf)
    assert all((s, g) in planted and (g, p) in planted for s, g, p in zip(direct["snp"], direct["gene"], direct["pathway"]))
    assert all({(s, t), (t, g), (g, p)} <= planted for s, t, g, p in via_tf[["snp", "tf", "gene", "pathway"]].itertuples(index=False))
    assert set(chains["snp"]) == set(truth["causal_snps"]) and set(via_tf["tf"]) == set(truth["causal_tfs"])
    assert set(chains["gene"]) == set(truth["causal_genes"]) and set(chains["pathway"]) == set(truth["causal_pathways"])


def test_planted_ancestors_follow_the_parent_table(cohort):
    graph, truth = _hierarchy(cohort), cohort.truth
    expected = set().union(*(nx.descendants(graph, p) for p in truth["causal_pathways"]))
    ancestors = truth["causal_pathway_ancestors"]
    assert sorted(ancestors) == [2, 3] and set().union(*map(set, ancestors.values())) == expected
    for level, names in ancestors.items():
        assert (truth["pathway_level"][names] == level).all()
    edges = truth["edges"]
    parent_edges = edges[edges["relation"] == "pathway-parent->pathway"]
    planted = expected | set(truth["causal_pathways"])
    assert set(zip(parent_edges["source"], parent_edges["target"])) == {(c, p) for c, p in graph.edges if c in planted}


def test_causal_gene_activity_comes_from_its_planted_snps(cohort):
    chains, dosage = cohort.truth["chains"], cohort.snp.to_numpy(np.float64)
    rng = np.random.default_rng(0)
    for gene in cohort.truth["causal_genes"][:4]:
        snps = chains.loc[chains["gene"] == gene, "snp"].unique()
        activity = cohort.activity["gene"][gene].to_numpy(np.float64)
        # Expected share 0.4 (cis) + 0.4 * 0.7 (regulators' eQTLs) = 0.68.
        assert _r2(cohort.snp[snps].to_numpy(np.float64), activity) > 0.5
        unrelated = rng.choice(np.flatnonzero(~cohort.snp.columns.isin(cohort.truth["causal_snps"])), size=len(snps), replace=False)
        assert _r2(dosage[:, unrelated], activity) < 0.1


def test_signal_is_linear_in_causal_genes_and_labels_follow_the_heritability():
    easy = simulate_hierarchy_cohort(**SMALL, difficulty="easy", seed=3)
    signal = easy.truth["signal"].to_numpy()
    assert _r2(easy.activity["gene"].to_numpy(np.float64), signal) > 0.99
    cases = (easy.labels == "case").to_numpy()
    assert np.mean(cases == (signal > np.median(signal))) > 0.9
    for h in (0.3, 0.8):
        continuous = simulate_hierarchy_cohort(**SMALL, difficulty=h, phenotype="continuous", seed=3)
        assert continuous.task == "regression"
        assert _r2(continuous.truth["signal"].to_numpy(), continuous.labels.to_numpy()) == pytest.approx(h, abs=0.1)
    null = simulate_hierarchy_cohort(**SMALL, difficulty=0.0, phenotype="continuous", seed=3)
    assert _r2(null.truth["signal"].to_numpy(), null.labels.to_numpy()) < 0.05


def test_relu_pathways_and_survival_phenotype():
    relu = simulate_hierarchy_cohort(**SMALL, pathway_activation="relu", phenotype="survival", seed=4)
    assert (relu.activity["pathway"].to_numpy() >= 0).all()
    assert _r2(relu.activity["gene"].to_numpy(np.float64), relu.truth["signal"].to_numpy()) < 0.95
    assert list(relu.labels.columns) == ["time", "event"] and (relu.labels["time"] > 0).all()
    assert relu.labels["event"].mean() == pytest.approx(0.7, abs=0.1) and relu.task == "survival"


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"phenotype": "ordinal"}, "phenotype"),
        ({"pathway_activation": "tanh"}, "pathway_activation"),
        ({"depth": 0}, "depth"),
        ({"n_roots": 20}, "n_roots"),
        ({"n_causal_pathways": 30}, "n_causal_pathways"),
        ({"n_causal_tfs": 1}, "n_causal_tfs"),
    ],
)
def test_bad_settings_raise(settings, match):
    with pytest.raises(ValueError, match=match):
        simulate_hierarchy_cohort(**{**SMALL, **settings})


def test_regulatory_graph_builds_from_edge_tables(cohort):
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    assert set(graph.edge_types) == set(RELATION_FILES)
    assert set(graph.node_types) == {"snp", "tf", "gene", "pathway"}
    for edge_type, prior in cohort.prior.items():
        assert graph.edge_index(edge_type).shape == (2, len(prior))


def test_write_produces_every_file_and_a_config(cohort, tmp_path):
    config = cohort.write(tmp_path / "cohort")
    folder = config.parent
    expected = {"snp.csv", "labels.csv", "truth_edges.csv", "truth_pathways.csv", "config.toml", *RELATION_FILES.values()}
    assert {p.name for p in folder.iterdir()} == expected
    parsed = tomllib.loads(config.read_text())
    assert parsed["data"] == {"labels": "labels.csv", "modalities": {"snp": {"path": "snp.csv"}}}
    listed = {(e["source"], e["relation"], e["target"]): e["path"] for e in parsed["graph"]["edges"]}
    assert listed == RELATION_FILES
    snp = pd.read_csv(folder / "snp.csv", index_col="sample")
    assert snp.shape == cohort.snp.shape and snp.to_numpy().dtype.kind == "i"
    labels = pd.read_csv(folder / "labels.csv")
    assert list(labels.columns) == ["sample", "label"]
    tf_gene = pd.read_csv(folder / "tf_gene.csv")
    assert tf_gene.equals(cohort.prior[("tf", "regulates", "gene")])
    pathways = pd.read_csv(folder / "truth_pathways.csv")
    assert list(pathways.columns) == ["pathway", "level"] and set(pathways["level"]) == {1, 2, 3}
    assert set(pathways.loc[pathways["level"] == 1, "pathway"]) == set(cohort.truth["causal_pathways"])
    assert len(pd.read_csv(folder / "truth_edges.csv")) == len(cohort.truth["edges"])


def test_write_names_the_task_of_a_continuous_phenotype(tmp_path):
    cohort = simulate_hierarchy_cohort(**SMALL, depth=1, phenotype="continuous", seed=7)
    parsed = tomllib.loads(cohort.write(tmp_path).read_text())
    assert parsed["data"]["task"] == "regression"
    assert [e["relation"] for e in parsed["graph"]["edges"]] == ["eqtl", "eqtl", "regulates", "member_of"]
