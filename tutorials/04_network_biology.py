# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # From a fitted model to prioritised networks
#
# A trained DeepGAMI model has one weight per prior edge (SNP -> gene, TF -> gene). Integrated
# gradients over those edges say which regulatory links drive each class's prediction. This
# tutorial goes from edge attributions to network biology:
#
# 1. fit on a simulated cohort and attribute every prior edge on the test samples
#    (`deepgami.explain.Explainer(...).edges()`);
# 2. build a prioritised network per class (`deepgami.network.prioritized_network`) and
#    summarise it: hubs, modules, overlap between classes;
# 3. test the network's genes for enrichment in gene sets (GMT files);
# 4. export GraphML and Cytoscape tables, and draw figures.
#
# The cohort has **three** classes (low, middle and high phenotype liability). With two classes
# the attributions of one class's probability are the negatives of the other's, so both classes
# get the same ranked edges; three classes make per-class networks differ.
#
# Run from the repository root: `python tutorials/04_network_biology.py`. Set
# `DEEPGAMI_TUTORIAL_QUICK=1` for a small, fast version.

# %%
from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.adapters.reactome import reactome_gmt
from deepgami.explain import Explainer
from deepgami.metrics import classification_metrics
from deepgami.network import class_overlap, enrichment, hubs, modules, prioritized_network, read_gmt, write_cytoscape
from deepgami.plotting import plot_class_comparison, plot_feature_summary, plot_network
from deepgami.simulate import simulate_cohort

# The model is small: one CPU thread trains it fastest, above all on a busy machine.
torch.set_num_threads(1)
QUICK = os.environ.get("DEEPGAMI_TUTORIAL_QUICK") == "1"
OUT = Path(os.environ.get("DEEPGAMI_TUTORIAL_OUT", "runs/tutorials")) / "04_network_biology"
OUT.mkdir(parents=True, exist_ok=True)

if QUICK:
    sizes = dict(n_samples=240, n_snps=600, n_tfs=40, n_genes=100)
    model_params = dict(max_epochs=15, patience=5)
    n_steps = 8
else:
    sizes = dict(n_samples=800, n_snps=2000, n_tfs=60, n_genes=100)
    model_params = dict(max_epochs=100, patience=20)
    n_steps = 50
TOP_FRACTION = 0.05  # share of each class's ranked edges that enters its network
print(f"mode: {'quick' if QUICK else 'full'}; outputs in {OUT}")

# %% [markdown]
# ## 1. Fit and attribute
#
# The prior holds every planted edge plus many null edges, as real eQTL and GRN tables do;
# `cohort.truth` records which edges and genes were planted, so we can check the prioritisation.
# The gene layer is small (100 genes, 8 of them causal) next to the number of samples, so that
# the model has enough samples to tell the genes apart.

# %%
cohort = simulate_cohort(**sizes, n_classes=3, difficulty="easy", seed=0)
graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
print(graph)
labels = cohort.labels
train_ids, test_ids = train_test_split(labels.index, test_size=0.2, stratify=labels, random_state=0)
train = {m: frame.loc[train_ids] for m, frame in cohort.modalities.items()}
test = {m: frame.loc[test_ids] for m, frame in cohort.modalities.items()}

model = DeepGAMIClassifier(graph, random_state=0, **model_params).fit(train, labels.loc[train_ids])
metrics = classification_metrics(labels.loc[test_ids].to_numpy(), model.predict_proba(test), model.classes_)
print(f"trained {len(model.history_)} epochs; test ({len(test_ids)} samples): "
      f"BACC {metrics['bacc']:.3f}, AUC {metrics['auc']:.3f} (3 classes: chance BACC 0.333)")

# %% [markdown]
# `Explainer.edges` scales every edge's message by a common factor from 0 (all edges off) to 1
# and integrates the gradient, so per sample and class the attributions sum to the change of the
# class probability between the two (up to quadrature error, reported as `relative_gap`).

# %%
tic = time.perf_counter()
explainer = Explainer(model, test, n_steps=n_steps)
result = explainer.edges()
edges, completeness = result.table, result.completeness
print(f"edge attributions: {edges['class'].nunique()} classes x {len(edges) // edges['class'].nunique()} edges "
      f"in {time.perf_counter() - tic:.1f} s; completeness gap per class: "
      + ", ".join(f"{c} {g['relative_gap']:.1%}" for c, g in completeness.items()))
edges.to_csv(OUT / "edges.csv", index=False)
feature_attributions = explainer.features()
features = feature_attributions.table
features.to_csv(OUT / "features.csv", index=False)

# Sanity check against the simulation: are top-ranked edges planted edges more often than
# prior edges in general?
planted = set(zip(cohort.truth["edges"]["source"], cohort.truth["edges"]["target"]))
is_planted = np.array([(s, t) in planted for s, t in zip(edges["source"], edges["target"])])
base_rate = is_planted[edges["class"] == model.classes_[0]].mean()
for label in model.classes_:
    rows = edges["class"] == label
    top = rows & (edges["rank"] <= TOP_FRACTION * rows.sum())
    print(f"class {label}: {is_planted[top].mean():.1%} of the top {TOP_FRACTION:.0%} edges are planted "
          f"(prior base rate {base_rate:.1%})")

# %% [markdown]
# ## 2. Prioritised networks: hubs, modules, class overlap
#
# Each class's network holds its top 5 % of edges by mean |attribution|. Nodes are keyed
# `<type>:<name>` and scored by the summed |attribution| of their selected edges. Hubs are the
# genes with the most prioritised incoming links and the regulators (SNPs, TFs) with the most
# targets; modules are weakly connected components.

# %%
networks = {label: prioritized_network(edges, label, top_fraction=TOP_FRACTION) for label in model.classes_}
hub_tables, module_tables = [], []
for label, net in networks.items():
    n_genes = sum(1 for _, t in net.nodes(data="node_type") if t == "gene")
    hub = hubs(net, n=10).assign(**{"class": label})
    mod = modules(net).assign(**{"class": label})
    hub_tables.append(hub)
    module_tables.append(mod)
    target_hubs = hub[hub["role"] == "target hub"].head(5)
    regulators = hub[hub["role"] == "regulator"].head(5)
    print(f"\nclass {label}: {net.number_of_nodes()} nodes ({n_genes} genes), {net.number_of_edges()} edges, "
          f"{len(mod)} modules of >= 3 nodes (largest {mod['n_nodes'].max() if len(mod) else 0} nodes)")
    print("  target hubs:", ", ".join(f"{n} ({d} links)" for n, d in zip(target_hubs["name"], target_hubs["degree"])))
    print("  regulators: ", ", ".join(f"{n} ({d} targets)" for n, d in zip(regulators["name"], regulators["degree"])))
pd.concat(hub_tables, ignore_index=True).to_csv(OUT / "hubs.csv", index=False)
pd.concat(module_tables, ignore_index=True).to_csv(OUT / "modules.csv", index=False)

overlap = class_overlap(networks)
overlap.to_csv(OUT / "class_overlap.csv", index=False)
print("\nshared prioritised edges between classes:")
print(overlap.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# %% [markdown]
# ## 3. Enrichment
#
# `enrichment` runs a hypergeometric test of a gene list against every set of a GMT file, with
# the model's latent genes as the background, and Benjamini-Hochberg FDR.
#
# **Reactome.** With real data you would use a Reactome or MSigDB GMT. `deepgami.adapters.reactome`
# writes one from the Reactome tables shipped in the `binn` package. Our simulated genes
# (`G0000`, ...) are not human genes, so no Reactome set overlaps the background and the table
# stays empty: that is the expected outcome here, not an error.

# %%
background = model.latent_names()
network_genes = {label: sorted(d["name"] for _, d in net.nodes(data=True) if d["node_type"] == "gene")
                 for label, net in networks.items()}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    n_sets = reactome_gmt(OUT / "reactome.gmt")  # UniProt mnemonics as names; see its docstring
for warning in caught:
    print(f"  [reactome_gmt] {warning.message}")
reactome = read_gmt(OUT / "reactome.gmt")
reactome_genes = set().union(*(set(genes) for _, genes in reactome.values()))
label = model.classes_[-1]
reactome_table = enrichment(network_genes[label], reactome, background)
reactome_table.to_csv(OUT / "enrichment_reactome.csv", index=False)
print(f"Reactome GMT: {n_sets} gene sets over {len(reactome_genes)} genes; "
      f"{len(reactome_genes & set(background))} of our {len(background)} latent genes are among them; "
      f"{len(reactome_table)} sets testable for class {label}")

# %% [markdown]
# **Simulated gene sets.** To see what a real enrichment looks like, we write a small GMT of
# our own: the genes planted as causal for the phenotype, and five sets of as many random genes.
# A network that follows the phenotype's biology should be enriched for the causal set only.

# %%
rng = np.random.default_rng(0)
causal = sorted(cohort.truth["causal_genes"])
sim_sets = {"SIM_CAUSAL_GENES": ("genes planted as causal for the phenotype", causal)}
for i in range(1, 6):
    sim_sets[f"SIM_RANDOM_{i}"] = ("random genes, same size", sorted(rng.choice(background, size=len(causal), replace=False)))
with open(OUT / "simulated_sets.gmt", "w") as handle:
    for name, (description, genes) in sim_sets.items():
        handle.write("\t".join([name, description, *genes]) + "\n")

tables = []
for label, genes in network_genes.items():
    table = enrichment(genes, read_gmt(OUT / "simulated_sets.gmt"), background).assign(**{"class": label})
    tables.append(table)
    row = table.set_index("gene_set").loc["SIM_CAUSAL_GENES"]
    best_random = table[table["gene_set"] != "SIM_CAUSAL_GENES"]["p_value"].min()
    print(f"class {label}: {len(genes)} network genes; causal set {row['overlap']} of {row['set_size']} "
          f"(expected {row['expected']:.1f}, fold {row['fold']:.2f}, p {row['p_value']:.2g}, FDR {row['fdr']:.2g}); "
          f"smallest p of a random set {best_random:.2g}")
pd.concat(tables, ignore_index=True).to_csv(OUT / "enrichment_simulated.csv", index=False)

# %% [markdown]
# ## 4. Export and figures
#
# `write_cytoscape` writes `<prefix>.graphml` plus node and edge tables that Cytoscape imports
# (File > Import > Network from File; the edge table has `source`, `target`, `interaction`).
# GraphML opens in networkx, Cytoscape and Gephi; we read one back to check.

# %%
figures = OUT / "figures"
for label, net in networks.items():
    graphml, node_table, edge_table = write_cytoscape(net, OUT / "networks", f"network_{label}")
    plot_network(net, figures / f"network_{label}.png")
plot_class_comparison(edges, figures / "class_comparison.png")
# One point per test sample and top feature: right of 0 raises the class probability; colour is
# the sample's (scaled) value of the feature, so the figure shows whether high or low values do it.
x_scaled = {m: x.cpu().numpy() for m, x in explainer.batch.x_dict.items()}
plot_feature_summary(
    feature_attributions.per_sample, x_scaled, model.feature_names_in_, figures / "top_features.png", observed=explainer.data.observed
)

back = nx.read_graphml(graphml)
node, attrs = next(iter(back.nodes(data=True)))
print(f"read {graphml.name} back with networkx: {back.number_of_nodes()} nodes, {back.number_of_edges()} edges, "
      f"directed={back.is_directed()}; e.g. node {node!r}: {attrs}")
print(f"wrote {OUT}/edges.csv, features.csv, hubs.csv, modules.csv, class_overlap.csv, enrichment_*.csv, "
      f"networks/ (GraphML + Cytoscape tables), figures/")

# %% [markdown]
# With your own data, replace the simulated cohort by your tables and graph (tutorial 02), and
# `simulated_sets.gmt` by a Reactome (`deepgami.adapters.reactome.reactome_gmt`, with a
# `symbol_map` for exact HGNC symbols) or MSigDB GMT. `deepgami explain RUN --gmt FILE` runs
# these steps from the command line.
