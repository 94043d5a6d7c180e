# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quickstart: genotypes + TF expression -> phenotype, with a prior regulatory graph
#
# DeepGAMI predicts a phenotype from several molecular modalities. Each modality is mapped
# onto a shared layer of latent genes through prior biology: eQTL links (SNP -> gene) and
# gene-regulatory-network links (TF -> gene). Only prior links carry weights, so every learned
# weight belongs to a named regulatory edge. An auxiliary map learns to predict one modality's
# gene latents from another's, so a model trained on both modalities can still predict when
# only genotypes are available.
#
# This tutorial walks through one complete analysis on a simulated cohort whose ground truth
# we know:
#
# 1. simulate a cohort and build the prior graph,
# 2. fit on a stratified training split,
# 3. evaluate on held-out samples with both modalities and with genotypes alone,
# 4. explain the model (integrated gradients over input features and prior edges) and check
#    how many of the planted causal links it prioritises,
# 5. draw the prioritised network, and save and reload the model.
#
# Run it with `python tutorials/01_quickstart.py` from the repository root. Set
# `DEEPGAMI_TUTORIAL_QUICK=1` for a small, fast version (the numbers are then only a smoke
# test) and `DEEPGAMI_TUTORIAL_OUT` to write somewhere other than `runs/tutorials/`.

# %%
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.explain import Explainer
from deepgami.metrics import classification_metrics
from deepgami.network import hubs, prioritized_network
from deepgami.plotting import plot_feature_summary, plot_network, plot_roc
from deepgami.simulate import simulate_cohort

START = time.perf_counter()
QUICK = os.environ.get("DEEPGAMI_TUTORIAL_QUICK") == "1"
OUT = Path(os.environ.get("DEEPGAMI_TUTORIAL_OUT", "runs/tutorials")) / "01_quickstart"
OUT.mkdir(parents=True, exist_ok=True)

# Sizes: the full run uses the README's demo cohort; quick mode shrinks everything.
COHORT = dict(n_samples=200, n_snps=600, n_tfs=40, n_genes=100) if QUICK else dict(n_samples=600, n_snps=3000, n_tfs=150, n_genes=500)
MAX_EPOCHS = 15 if QUICK else 100
N_STEPS = 8 if QUICK else 50  # integration steps of integrated gradients
TOP_K = 20 if QUICK else 100  # prioritised links we inspect
print(f"mode: {'quick' if QUICK else 'full'}; outputs in {OUT}")

# %% [markdown]
# ## 1. A simulated cohort and its prior graph
#
# `simulate_cohort` draws genotypes in LD blocks (0/1/2 dosages) and TF expression, then an
# **unobserved** gene layer driven by a few planted eQTLs and regulators per gene. The
# phenotype (case/control) depends on a small set of causal genes. The eQTL and GRN tables
# hold every planted edge plus many null edges, as real eQTL and GRN resources do. The truth
# (`cohort.truth`) is kept aside to check the explanation later; the model never sees it.

# %%
cohort = simulate_cohort(**COHORT, seed=0)
print(f"cohort: {len(cohort.labels)} samples, {cohort.snp.shape[1]} SNPs, {cohort.tf.shape[1]} TFs")
print(f"prior edges: {len(cohort.eqtl)} eQTL (SNP -> gene), {len(cohort.grn)} GRN (TF -> gene)")
print("labels:", cohort.labels.value_counts().to_dict())
cohort.eqtl.head()

# %% [markdown]
# The prior graph is built from plain edge tables with columns `source, target[, weight]`.
# Each tuple names the table, the source node type (which must be the name of a modality),
# the latent node type and the relation.

# %%
graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
print(graph)
graph.summary()

# %% [markdown]
# ## 2. Fit on a stratified training split
#
# We hold out 20 % of the samples, stratified by label, before anything is fitted. The model
# takes a dict of samples x features DataFrames (sample ids in the index) and labels as a
# Series indexed by sample id. Everything learned from data happens inside `fit` and sees
# only the training rows: per-modality scaling (standard scaling by default), optional mean
# imputation of missing values, and the validation split used for early stopping. Test
# samples therefore cannot leak into the model.

# %%
train_ids, test_ids = train_test_split(
    cohort.labels.index.to_numpy(), test_size=0.2, stratify=cohort.labels.to_numpy(), random_state=0
)
train = {m: table.loc[train_ids] for m, table in cohort.modalities.items()}
test = {m: table.loc[test_ids] for m, table in cohort.modalities.items()}
y_train, y_test = cohort.labels.loc[train_ids], cohort.labels.loc[test_ids].to_numpy()

model = DeepGAMIClassifier(graph, max_epochs=MAX_EPOCHS, random_state=0)
tic = time.perf_counter()
model.fit(train, y_train)
fit_seconds = time.perf_counter() - tic
best = min(model.history_, key=lambda row: row.get("val_loss", np.inf))
print(
    f"fitted on {len(train_ids)} samples in {fit_seconds:.1f} s: {len(model.history_)} epochs, best validation loss "
    f"{best['val_loss']:.4f} at epoch {best['epoch']} (weights restored from it); classes {list(model.classes_)}"
)

# %% [markdown]
# ## 3. Evaluate on the held-out samples
#
# `predict_proba` accepts any subset of the training modalities. With genotypes alone, the
# TF-expression latents are **imputed** from the genotype latents by the auxiliary map; the
# TF input is never read. This is the situation of a new genotyped cohort without expression
# data. Rows of the output follow the sample order of the input tables.

# %%
curves, metrics = {}, {}
for name, X in {"snp + tf": test, "snp only": {"snp": test["snp"]}, "tf only": {"tf": test["tf"]}}.items():
    proba = model.predict_proba(X)
    curves[name] = (y_test, proba)
    metrics[name] = classification_metrics(y_test, proba, model.classes_)

results = pd.DataFrame(metrics).T[["bacc", "auc", "acc", "f1", "n"]].astype({"n": int})
print(f"test set ({len(test_ids)} samples):")
print(results.to_string(float_format="{:.3f}".format))
plot_roc(curves, model.classes_, OUT / "roc.png")
print(f"wrote {OUT / 'roc.png'}")

# %% [markdown]
# ## 4. Explain: which features and which prior links drive the prediction?
#
# We attribute the predicted class probability on the test samples with integrated gradients
# (IG), which accumulates gradients along a path from a baseline input to the real input.
#
# One `Explainer(model, test)` prepares the samples once; each verb returns one result.
#
# * **Feature attributions** (`Explainer.features`): per input feature (SNP or TF), how much
#   it moves the class probability away from the baseline (zeros in scaled space, i.e. the
#   training mean).
# * **Edge attributions** (`Explainer.edges`): one multiplier per prior edge is integrated
#   from 0 (all prior links switched off) to 1 (the trained model). An edge's attribution is
#   its share of the change in the class probability when the links are switched on; per
#   sample they add up to `f(x) - f(x; all edges off)` (the completeness check below). A high
#   |attribution| means "the model routes much of its evidence through this SNP -> gene or
#   TF -> gene link", a statement about the model, which we can compare with the planted truth.
#
# With two classes the probabilities sum to one, so the two classes' attributions are mirror
# images and rank edges identically; we look at the class `case`.

# %%
explainer = Explainer(model, test, n_steps=N_STEPS)
feature_attributions = explainer.features()
features = feature_attributions.table
result = explainer.edges()
edges, completeness = result.table, result.completeness
features.to_csv(OUT / "features.csv", index=False)
edges.to_csv(OUT / "edges.csv", index=False)
# One point per test sample, coloured by its (scaled) value of the feature: whether high or low values raise the score.
x_scaled = {m: x.cpu().numpy() for m, x in explainer.batch.x_dict.items()}
plot_feature_summary(
    feature_attributions.per_sample, x_scaled, model.feature_names_in_, OUT / "top_features.png", observed=explainer.data.observed
)
gap = completeness["case"]["relative_gap"]
print(f"edge attributions: {edges['edge_type'].nunique()} relations, {len(edges) // len(model.classes_)} edges; completeness gap {gap:.1%}")

# %% [markdown]
# The top prioritised links of class `case` (mean signed attribution `score`, mean absolute
# attribution `abs_score`, and the learned edge weight):

# %%
case_edges = edges[edges["class"] == "case"].sort_values("rank")
print(case_edges.head(10)[["edge_type", "source", "target", "score", "abs_score", "weight"]].to_string(index=False, float_format="{:.4f}".format))

# %% [markdown]
# ### How many planted causal links are among the top k?
#
# The planted causal links are the simulated eQTL and regulatory effects into the causal
# genes (`cohort.truth["edges"]` whose target is in `cohort.truth["causal_genes"]`). Picking k
# prior edges at random would hit on average `k x (causal links) / (all prior edges)`.

# %%
truth = cohort.truth["edges"]
causal_genes = set(cohort.truth["causal_genes"])
causal_links = set(zip(truth.loc[truth["target"].isin(causal_genes), "source"], truth.loc[truth["target"].isin(causal_genes), "target"]))
top = case_edges.head(TOP_K)
hits = sum((s, t) in causal_links for s, t in zip(top["source"], top["target"]))
to_causal_gene = int(top["target"].isin(causal_genes).sum())
n_prior = len(case_edges)
expected = TOP_K * len(causal_links) / n_prior
print(f"{len(causal_genes)} causal genes with {len(causal_links)} planted causal links among {n_prior} prior edges")
print(f"top {TOP_K} links: {hits} planted causal links (expected by chance {expected:.1f}, {hits / expected:.1f}x enrichment)")
print(f"top {TOP_K} links: {to_causal_gene} point into a causal gene (chance {TOP_K * case_edges['target'].isin(causal_genes).mean():.1f})")

# %% [markdown]
# ### How sure is a link?
#
# The model is an ensemble (10 members by default), so every edge also has a `stability`: the
# share of members whose own top 5 % of edges holds it. Five more members trained beside them on
# permuted labels give each edge a `q_value`, an empirical false-discovery rate of its
# attribution against that null. A small q-value says that signal flows through the edge; it
# does not say that the edge is the causal link: an edge from a SNP in LD with the causal eQTL,
# or from a causal TF into a gene that does not mediate it, carries the same signal (see the
# README's "What prioritised links can and cannot tell").

# %%
stable = case_edges[case_edges["stability"] >= 0.5]
stable_hits = sum((s, t) in causal_links for s, t in zip(stable["source"], stable["target"]))
print(f"{len(stable)} edges in the top 5 % of at least half of the members; {stable_hits} of them planted causal links")
print(f"edges with q_value <= 0.1: {int((case_edges['q_value'] <= 0.1).sum())}")
print(case_edges.head(5)[["source", "target", "abs_score", "stability", "q_value"]].to_string(index=False, float_format="{:.4f}".format))

# %% [markdown]
# Feature attributions can be checked the same way: the SNPs and TFs that are sources of
# planted causal links are the truly informative inputs.

# %%
causal_sources = {s for s, _ in causal_links}
top_features = features[features["class"] == "case"].sort_values("rank").head(20)
print(f"top 20 features: {int(top_features['feature'].isin(causal_sources).sum())} are sources of planted causal links")
print(top_features.head(10)[["modality", "feature", "score", "abs_score"]].to_string(index=False, float_format="{:.4f}".format))

# %% [markdown]
# ## 5. The prioritised network
#
# `prioritized_network` turns the top-ranked edges of one class into a networkx DiGraph
# (nodes keyed `"<type>:<name>"`, scored by the summed |attribution| of their links);
# `hubs` lists the genes receiving the most prioritised links. `plot_network` draws the
# best-ranked part, coloured by node type.

# %%
network = prioritized_network(edges, "case", top_k=TOP_K)
plot_network(network, OUT / "network_case.png")
target_hubs = hubs(network).query("role == 'target hub'").head(5)
target_hubs = target_hubs.assign(causal=target_hubs["name"].isin(causal_genes))
print(f"prioritised network: {network.number_of_nodes()} nodes, {network.number_of_edges()} edges -> {OUT / 'network_case.png'}")
print(target_hubs[["name", "degree", "score", "causal"]].to_string(index=False, float_format="{:.4f}".format))

# %% [markdown]
# ## 6. Save and reload
#
# `save` writes tensors (`weights.safetensors`) and JSON metadata (feature names, graph,
# scalers, classes, the weight file's sha256, checked on load); nothing is pickled. The
# reloaded model predicts exactly as the original.

# %%
model.save(OUT / "model")
reloaded = DeepGAMIClassifier.load(OUT / "model")
difference = np.abs(reloaded.predict_proba(test) - model.predict_proba(test)).max()
print(f"saved to {OUT / 'model'}; reloaded model max |proba difference| = {difference:.2e}")

summary = {
    "quick": QUICK,
    "n_train": len(train_ids),
    "n_test": len(test_ids),
    "epochs": len(model.history_),
    "test": metrics,
    "top_k": TOP_K,
    "causal_links_in_top_k": int(hits),
    "expected_by_chance": expected,
    "edge_completeness_gap": gap,
    "reload_max_difference": float(difference),
    "seconds": time.perf_counter() - START,
}
(OUT / "summary.json").write_text(json.dumps(summary, indent=2))
print(f"done in {summary['seconds']:.1f} s; wrote {OUT / 'summary.json'}")
