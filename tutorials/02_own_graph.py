# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Bring your own regulatory graph
#
# DeepGAMI reads prior biology as a graph: SNP -> gene edges from an eQTL study and TF -> gene
# edges from a gene regulatory network (GRN). With real data these come as files in their own
# formats and id systems: PLINK genotypes with `chr_pos_ref_alt` variants, a GTEx eQTL table
# with versioned Ensembl gene ids, a TRRUST GRN with gene symbols. This tutorial
#
# 1. writes a simulated cohort in those formats (PLINK `.bed/.bim/.fam`, a GTEx
#    `signif_variant_gene_pairs`-style table, a TRRUST raw file and a BioMart-style
#    Ensembl <-> symbol table), with the flaws real files have;
# 2. reads them back through `deepgami.adapters`, printing what every step drops and why;
# 3. builds a `RegulatoryGraph`, trains `DeepGAMIClassifier`;
# 4. asks whether the prior helps: the same model on null graphs (random, Bernoulli,
#    degree-preserving shuffle) on the same train/test splits.
#
# The genotypes are simulated with `deepgami.simulate` (msprime is not part of this project's
# environment), chromosome positions and alleles are made up, and so are the eQTL p-values and
# slopes: every prior edge of the simulation gets a significant p-value, decoy rows a
# nonsignificant one. Gene symbols are the simulator's names (`G0000`, ...).
#
# Run from the repository root: `python tutorials/02_own_graph.py`. Set
# `DEEPGAMI_TUTORIAL_QUICK=1` for a small, fast version.

# %%
from __future__ import annotations

import os
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from bed_reader import to_bed
from matplotlib.figure import Figure
from sklearn.model_selection import train_test_split

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.adapters.eqtl import load_gtex_eqtl, translate_variant_ids
from deepgami.adapters.graphfiles import harmonise_ids, load_id_mapping, strip_ensembl_version
from deepgami.adapters.grn import load_trrust
from deepgami.adapters.plink import load_plink
from deepgami.evaluation.ablation import NULL_GRAPHS, null_graph
from deepgami.metrics import classification_metrics
from deepgami.simulate import simulate_cohort

# The models here are small: one CPU thread trains them fastest, above all on a busy machine.
torch.set_num_threads(1)
QUICK = os.environ.get("DEEPGAMI_TUTORIAL_QUICK") == "1"
OUT = Path(os.environ.get("DEEPGAMI_TUTORIAL_OUT", "runs/tutorials")) / "02_own_graph"
FILES = OUT / "files"
FILES.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

if QUICK:
    sizes = dict(n_samples=240, n_snps=600, n_tfs=40, n_genes=100)
    model_params = dict(max_epochs=15, patience=5)
    n_splits = 1
else:
    sizes = dict(n_samples=600, n_snps=3000, n_tfs=150, n_genes=500)
    model_params = dict(max_epochs=100, patience=20)
    n_splits = 3
print(f"mode: {'quick' if QUICK else 'full'}; outputs in {OUT}")


@contextmanager
def report(step: str):
    """Run a step and print every warning it raised: the adapters warn about each drop."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        print(f"  [{step}] {warning.message}")


# %% [markdown]
# ## 1. Simulate a cohort and write it in real-world formats
#
# `simulate_cohort` gives genotypes (0/1/2 dosages in LD blocks), TF expression, a phenotype and
# the prior edge tables. We give every SNP a chromosome, a position and two alleles.

# %%
cohort = simulate_cohort(**sizes, difficulty="easy", seed=0)
n_samples, n_snps = cohort.snp.shape
print(f"simulated {n_samples} samples, {n_snps} SNPs, {cohort.tf.shape[1]} TFs, "
      f"{len(cohort.eqtl)} eQTL and {len(cohort.grn)} GRN prior edges, classes {sorted(cohort.labels.unique())}")

# SNPs lie on three chromosomes, in file order, a few kb apart.
chromosome = np.repeat(["1", "2", "3"], -(-n_snps // 3))[:n_snps]
position = np.zeros(n_snps, dtype=np.int64)
for c in np.unique(chromosome):
    on = chromosome == c
    position[on] = 10_000 + np.cumsum(rng.integers(200, 5_000, size=on.sum()))
bases = np.array(list("ACGT"))
ref = bases[rng.integers(0, 4, size=n_snps)]
alt = np.array([rng.choice(bases[bases != r]) for r in ref])
snp_key = pd.Series([f"{c}_{p}_{r}_{a}" for c, p, r, a in zip(chromosome, position, ref, alt)], index=cohort.snp.columns)

# Real genotype files have missing calls: 1 % everywhere, and 25 % in a few badly genotyped SNPs.
genotypes = cohort.snp.to_numpy(dtype=np.float32, copy=True)
genotypes[rng.random(genotypes.shape) < 0.01] = np.nan
bad_snps = rng.choice(n_snps, size=max(5, n_snps // 150), replace=False)
genotypes[:, bad_snps] = np.where(rng.random((n_samples, len(bad_snps))) < 0.25, np.nan, genotypes[:, bad_snps])

# PLINK counts allele A1: the simulated dosage counts ALT, so A1 = ALT and A2 = REF.
bed = FILES / "cohort.bed"
to_bed(
    bed,
    genotypes,
    properties={
        "fid": cohort.snp.index, "iid": cohort.snp.index, "sid": cohort.snp.columns,
        "chromosome": chromosome, "bp_position": position, "allele_1": alt, "allele_2": ref,
    },
    num_threads=1,
)
print(f"wrote {bed.name}, {bed.with_suffix('.bim').name}, {bed.with_suffix('.fam').name}")

# %% [markdown]
# Genes get Ensembl ids with a version (as GTEx writes them) and symbols (as TRRUST writes
# them). The id mapping is a BioMart-style export: versioned Ensembl id -> gene name.

# %%
genes = sorted(set(cohort.eqtl["target"]) | set(cohort.grn["target"]))
ensembl = {g: f"ENSG{i + 1:011d}" for i, g in enumerate(genes)}
version = {g: int(rng.integers(1, 20)) for g in genes}
versioned = {g: f"{ensembl[g]}.{version[g]}" for g in genes}
biomart = pd.DataFrame({"Gene stable ID version": [versioned[g] for g in genes], "Gene name": genes})
biomart.to_csv(FILES / "biomart_genes.tsv", sep="\t", index=False)

# GTEx-style eQTL table: every prior edge with a significant p-value ...
snp_index = {s: i for i, s in enumerate(cohort.snp.columns)}
gene_tss = {g: int(position[min(n_snps - 1, int((j + 0.5) * n_snps / len(genes)))]) for j, g in enumerate(genes)}
truth = cohort.truth["edges"]
planted = truth[truth["relation"] == "eqtl"].set_index(["source", "target"])["effect"]


def gtex_rows(snps, targets, gene_ids, pvals):
    slope = np.array([planted.get((s, t), rng.normal(0, 0.1)) for s, t in zip(snps, targets)])
    return pd.DataFrame({
        "variant_id": [f"chr{snp_key[s]}_b38" for s in snps],
        "gene_id": gene_ids,
        "tss_distance": [int(position[snp_index[s]]) - gene_tss.get(t, 0) for s, t in zip(snps, targets)],
        "pval_nominal": pvals,
        "slope": slope,
        "slope_se": np.abs(slope) / rng.uniform(5, 12, size=len(slope)),
    })


prior = gtex_rows(cohort.eqtl["source"], cohort.eqtl["target"], [versioned[t] for t in cohort.eqtl["target"]],
                  10.0 ** rng.uniform(-14, -6, size=len(cohort.eqtl)))
# ... decoy pairs that are not significant (a p-value filter removes them) ...
n_decoys = len(cohort.eqtl) // 10
decoy_snps = rng.choice(cohort.snp.columns, size=n_decoys)
decoy_genes = rng.choice(genes, size=n_decoys)
nonsignificant = gtex_rows(decoy_snps, decoy_genes, [versioned[g] for g in decoy_genes],
                           10.0 ** rng.uniform(-3, -0.3, size=n_decoys))
# ... significant eQTLs of variants that were not genotyped (chromosome 22) ...
n_absent = len(cohort.eqtl) // 20
absent = pd.DataFrame({
    "variant_id": [f"chr22_{p}_A_G_b38" for p in np.sort(rng.choice(50_000_000, n_absent, replace=False))],
    "gene_id": [versioned[g] for g in rng.choice(genes, size=n_absent)],
    "tss_distance": rng.integers(-900_000, 900_000, size=n_absent),
    "pval_nominal": 10.0 ** rng.uniform(-12, -6, size=n_absent),
    "slope": rng.normal(0, 0.5, size=n_absent),
})
absent["slope_se"] = absent["slope"].abs() / 8
# ... and significant eQTLs of genes the id mapping does not know (e.g. unnamed lncRNAs).
n_unnamed = max(10, len(cohort.eqtl) // 50)
unnamed_snps = rng.choice(cohort.snp.columns, size=n_unnamed)
unnamed = gtex_rows(unnamed_snps, ["?"] * n_unnamed, [f"ENSG{900_000 + i:011d}.1" for i in range(n_unnamed)],
                    10.0 ** rng.uniform(-12, -6, size=n_unnamed))
eqtl_table = pd.concat([prior, nonsignificant, absent, unnamed], ignore_index=True).sample(frac=1.0, random_state=0)
eqtl_path = FILES / "Simulated_Tissue.v8.signif_variant_gene_pairs.txt.gz"
eqtl_table.to_csv(eqtl_path, sep="\t", index=False, float_format="%.4g")
print(f"wrote {eqtl_path.name}: {len(eqtl_table)} rows = {len(prior)} prior edges + {n_decoys} nonsignificant "
      f"+ {n_absent} of ungenotyped variants + {n_unnamed} of genes without a symbol")

# %% [markdown]
# TRRUST raw files have no header: `TF, target, mode, PMIDs`. A pair can be listed once per mode.
# We add rows for TFs that are not in our expression table, pairs listed twice (`Unknown` and a
# known mode) and pairs listed as both activating and repressing.

# %%
modes = rng.choice(["Activation", "Repression", "Unknown"], size=len(cohort.grn), p=[0.5, 0.3, 0.2])
trrust = pd.DataFrame({"TF": cohort.grn["source"], "target": cohort.grn["target"], "mode": modes,
                       "PMIDs": rng.integers(10_000_000, 39_000_000, size=len(cohort.grn)).astype(str)})
n_extra = max(10, len(cohort.grn) // 50)
unmeasured = pd.DataFrame({"TF": [f"TFX{i % 8}" for i in range(n_extra)], "target": rng.choice(genes, n_extra),
                           "mode": "Activation", "PMIDs": "12345678"}).drop_duplicates(["TF", "target"])
known = trrust[trrust["mode"] != "Unknown"]
twice = known.sample(n_extra, random_state=1).assign(mode="Unknown")
flip = {"Activation": "Repression", "Repression": "Activation"}
conflicting = known.sample(n_extra // 2, random_state=2)
conflicting = conflicting.assign(mode=conflicting["mode"].map(flip))
trrust_table = pd.concat([trrust, unmeasured, twice, conflicting], ignore_index=True)
trrust_path = FILES / "trrust_rawdata.simulated.tsv"
trrust_table.to_csv(trrust_path, sep="\t", index=False, header=False)
print(f"wrote {trrust_path.name}: {len(trrust_table)} rows = {len(trrust)} prior edges + {len(unmeasured)} of "
      f"unmeasured TFs + {len(twice)} listed twice + {len(conflicting)} with both signs")

# %% [markdown]
# ## 2. Read everything back through `deepgami.adapters`
#
# **Genotypes.** `snp_id="chr_pos_ref_alt"` names SNPs `{chrom}_{pos}_{A2}_{A1}`, the layout
# GTEx ids take once `chr` and `_b38` are dropped. SNPs with more than 10 % missing calls or a
# minor-allele frequency below 5 % are dropped; other missing calls get the SNP's mean dosage.

# %%
with report("load_plink"):
    genotype = load_plink(bed, snp_id="chr_pos_ref_alt", max_missing=0.1, min_maf=0.05)
snp = genotype.dosages
print("genotypes:", genotype.summary())

# %% [markdown]
# **eQTLs.** `max_pval` keeps significant pairs; `variant_ids="chr_pos_ref_alt"` rewrites
# `chr1_13550_G_A_b38` to `1_13550_G_A`; gene versions are stripped. `translate_variant_ids`
# keeps the edges whose variant is a column of the genotype table: here it drops the
# chromosome 22 variants and the SNPs `load_plink` filtered out.

# %%
with report("load_gtex_eqtl"):
    eqtl = load_gtex_eqtl(eqtl_path, max_pval=1e-5, variant_ids="chr_pos_ref_alt")
print(f"eQTL: {len(eqtl_table)} rows -> {len(eqtl)} pairs with pval_nominal <= 1e-5 "
      f"(dropped {len(eqtl_table) - len(eqtl)} nonsignificant rows)")
with report("translate_variant_ids"):
    eqtl = translate_variant_ids(eqtl, snp)
print(f"eQTL: {len(eqtl)} pairs whose variant is genotyped")

# %% [markdown]
# **Ids.** The eQTL genes are Ensembl ids, the GRN genes are symbols, and the id mapping carries
# versions. We strip the mapping's versions with `strip_ensembl_version` and translate the eQTL
# targets to symbols with `harmonise_ids`; genes without a symbol drop their edges.

# %%
mapping = load_id_mapping(FILES / "biomart_genes.tsv", "Gene stable ID version", "Gene name")
mapping["Gene stable ID version"] = strip_ensembl_version(mapping["Gene stable ID version"])
print(f"id mapping: {len(mapping)} Ensembl -> symbol pairs, e.g. "
      f"{mapping.iloc[0, 0]} -> {mapping.iloc[0, 1]}")
n_before = len(eqtl)
with report("harmonise_ids"):
    eqtl = harmonise_ids(eqtl, mapping, column="target")
print(f"eQTL: {n_before} -> {len(eqtl)} pairs after Ensembl -> symbol")

# %% [markdown]
# **GRN.** `load_trrust` turns modes into weights (Activation +1, Repression -1, Unknown 0),
# keeps the known mode of a pair listed twice and sets pairs with both signs to 0.

# %%
with report("load_trrust"):
    grn = load_trrust(trrust_path)
print(f"GRN: {len(trrust_table)} rows -> {len(grn)} TF -> gene pairs")

# %% [markdown]
# ## 3. Build the graph and restrict it to the data
#
# `restrict_to` keeps the SNP and TF nodes that are columns of the data (in column order) and
# drops edges that lose an endpoint: here the GRN edges of TFs we did not measure.

# %%
tf = cohort.tf
labels = cohort.labels
with report("restrict_to"):
    graph, restriction = RegulatoryGraph.from_edge_tables(
        [(eqtl, "snp", "gene", "eqtl"), (grn, "tf", "gene", "regulates")]
    ).restrict_to({"snp": snp.columns, "tf": tf.columns})
print(graph)
summary = graph.summary()
print(summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
summary.to_csv(OUT / "graph_summary.csv", index=False)

# %% [markdown]
# ## 4. Train DeepGAMI, then the same model on null graphs
#
# Each split is stratified; the prior and its three null versions (`random`: as many edges drawn
# uniformly; `bernoulli`: about 80 % of the prior edges kept, the rest new; `shuffle`: targets
# permuted among edges, every node keeps its degree) are trained with the same settings and
# seed on the same training rows and scored on the same test rows.

# %%
modalities = {"snp": snp, "tf": tf}
rows = []
for split in range(n_splits):
    train_ids, test_ids = train_test_split(labels.index, test_size=0.2, stratify=labels, random_state=split)
    train = {m: frame.loc[train_ids] for m, frame in modalities.items()}
    test = {m: frame.loc[test_ids] for m, frame in modalities.items()}
    graphs = {"prior": graph} | {kind: null_graph(graph, kind, seed=split) for kind in NULL_GRAPHS}
    for name, g in graphs.items():
        tic = time.perf_counter()
        model = DeepGAMIClassifier(g, random_state=split, **model_params).fit(train, labels.loc[train_ids])
        metrics = classification_metrics(labels.loc[test_ids].to_numpy(), model.predict_proba(test), model.classes_)
        rows.append({"split": split, "graph": name, "n_edges": sum(g.edge_index(t).shape[1] for t in g.edge_types),
                     "epochs": len(model.history_), "bacc": metrics["bacc"], "auc": metrics["auc"],
                     "seconds": time.perf_counter() - tic})
        print(f"split {split}  {name:9s}  test BACC {metrics['bacc']:.3f}  AUC {metrics['auc']:.3f}  "
              f"({len(model.history_)} epochs, {time.perf_counter() - tic:.1f} s)")
        if split == 0 and name == "prior":
            model.save(OUT / "model")

results = pd.DataFrame(rows)
results.to_csv(OUT / "ablation.csv", index=False)

# %% [markdown]
# ## 5. Summary and figure

# %%
order = ["prior", *NULL_GRAPHS]
table = results.groupby("graph")[["bacc", "auc"]].agg(["mean", "std"]).reindex(order)
n_test = len(test_ids)
print(f"\nTest set ({n_test} samples), mean{' ± sd' if n_splits > 1 else ''} over {n_splits} split(s):")
width = 13 if n_splits > 1 else 5
print(f"  {'graph':9s}  {'BACC':{width}s}  AUC")
for name in order:
    cells = []
    for metric in ("bacc", "auc"):
        mean, sd = table.loc[name, (metric, "mean")], table.loc[name, (metric, "std")]
        cells.append(f"{mean:.3f}" + (f" ± {sd:.3f}" if n_splits > 1 else ""))
    print(f"  {name:9s}  {'  '.join(cells)}")
se = np.sqrt(0.25 / n_test)
print(f"one standard error of a test accuracy on {n_test} samples is at most sqrt(0.25 / {n_test}) = {se:.3f}")

fig = Figure(figsize=(7, 4), layout="constrained")
ax = fig.subplots()
x = np.arange(len(order))
for offset, metric, colour in ((-0.2, "bacc", "#4C72B0"), (0.2, "auc", "#DD8452")):
    means = table[(metric, "mean")].to_numpy()
    errors = table[(metric, "std")].fillna(0).to_numpy()
    ax.bar(x + offset, means, width=0.4, yerr=errors if n_splits > 1 else None, color=colour,
           label=metric.upper(), capsize=3)
    points = results.assign(x=results["graph"].map({g: i for i, g in enumerate(order)}))
    ax.scatter(points["x"] + offset, points[metric], color="black", s=8, zorder=3)
ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
ax.set_xticks(x, order)
ax.set_ylim(0.4, 1.0)
ax.set_ylabel("test score")
ax.set_title(f"Prior vs null graphs ({n_splits} split{'s' if n_splits > 1 else ''}; dots: splits)")
ax.legend(frameon=False)
fig.savefig(OUT / "ablation.png", dpi=120)
print(f"wrote {OUT / 'ablation.csv'}, {OUT / 'ablation.png'}, {OUT / 'graph_summary.csv'}, {OUT / 'model'}")

# %% [markdown]
# The null graphs have the same node sets and edge counts as the prior, so a gap between
# `prior` and them measures what the prior's *wiring* adds. Read a gap against the standard
# error printed above and against the spread over splits (3 splits in full mode) before
# reading much into it. `deepgami cv` runs the same ablations inside nested
# cross-validation with its `[cv] ablations` setting.
