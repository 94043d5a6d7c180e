"""Does the prior graph matter? DeepGAMI on its planted prior against three null graphs.

A simulated cohort whose genotype panel is much larger than the eQTL prior (as with a
genome-wide panel: 20,000 SNPs, of which the eQTL table touches about 2,500). `run_cv`
compares DeepGAMI on the planted prior with the same model on random, Bernoulli (80 % of the
prior kept, the rest new edges) and degree-preserving shuffled graphs, on identical repeated
splits (every method sees the same outer splits and seeds), and reports per-split paired
differences of the prior over each null.

Two choices matter and are options here:

- ``--gene-activation relu`` (default) plants genes whose SNP and TF components are
  cooperative switches of several causal inputs (see ``simulate_cohort``); ``linear`` is the
  additive cohort of ``simulate_cohort``'s defaults, where any wiring that reaches the causal
  inputs can represent the phenotype.
- ``--null-nodes panel`` (default) gives the prior graph every SNP and TF of the data as nodes
  (non-eQTL SNPs isolated), so the random and Bernoulli nulls draw their edges over the whole
  genotype panel, as a random eQTL table would; ``prior`` draws them among the SNPs the eQTL
  table names, so the nulls inherit the prior's choice of SNPs. The degree-preserving shuffle
  is the same graph either way.

    python bench/prior_ablation.py [--repeats 10] [--n-snps 20000] [--gene-activation relu]

Powered study (``--preset powered``): the default cohort (n = 600, 40 causal genes) carries too
little SNP -> phenotype signal for any method to learn, so no graph can matter. The preset is a
cohort chosen on pilot seeds by a criterion that looks at neither DeepGAMI nor a null graph:
L2 logistic regression on the planted gene-level SNP components of all genes must reach test
BACC >= 0.65, clearly above the same on the prior SNPs' dosages. ``--pilot SEEDS`` evaluates
that criterion (and nothing else) for the cohort the other flags describe:

    python bench/prior_ablation.py --pilot 101,102 --n-samples 2000 --n-causal-genes 10 ...
    python bench/prior_ablation.py --preset powered --seed 7 --out bench/results_powered.md

``--edge-l1`` trains every graph (prior and nulls alike) with that edge lasso (see
``DeepGAMIClassifier(edge_l1=...)``); the second pre-registered study used 0.003, chosen with
``--sweep-edge-l1`` on the pilot cohorts:

    python bench/prior_ablation.py --preset powered --seed 101 --sweep-edge-l1 0,1e-4,1e-3,3e-3,1e-2 --training-seeds 0,1,2,3,4,5

``--seed-average K`` scores every graph by the mean prediction of K fits that differ only in their
training seed (``[cv] training_seeds``; the third study used 3). A long study runs in parts, one per
core, with ``--first-split`` and ``--results-csv``, and ``--merge`` writes their joint report (see the
Makefile's bench target).

Explicit flags override a preset's values.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import subprocess
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import ttest_rel, wilcoxon

from deepgami.config import parse_config
from deepgami.data import MultiOmicsData
from deepgami.evaluation.ablation import NULL_GRAPHS, null_graph
from deepgami.evaluation.cv import run_cv, summarise
from deepgami.graph import RegulatoryGraph
from deepgami.simulate import CONFIG_TEMPLATE, simulate_cohort
from deepgami.workflow import cv_settings

EXTRA = """
[cv]
folds = 3
repeats = {repeats}
training_seeds = {training_seeds}
methods = ["deepgami"]
ablations = {ablations}
"""


# The model of studies 1-3 (before bench/study_guided_learning.md changed the defaults).
SINGLE_NETWORK = {"n_members": 1, "null_members": 0, "edge_init_scale": 1.0, "hidden_dims": (64,)}
SINGLE_NETWORK_TOML = "n_members = 1\nnull_members = 0\nedge_init_scale = 1.0\nhidden_dims = [64]\n"

# Cohort presets: values for the simulator flags below (explicit flags win). "powered" was
# chosen on pilot cohort seeds 101 and 102 by the learnability criterion of ``pilot`` (see
# bench/results_prior_ablation.md, "Pre-registration"); study seeds must differ from those.
PRESETS = {
    "powered": {
        "n_samples": 2000, "n_causal_genes": 10, "difficulty": "easy", "snp_share": 0.8, "tf_share": 0.1,
        "gene_activation": "relu", "causal_eqtls": 3, "causal_regulators": 3,
    },
}
# Parser defaults of the simulator flags (None: the simulator's own default).
SIM_DEFAULTS = {
    "n_samples": 600, "n_causal_genes": None, "difficulty": "medium", "snp_share": 0.55, "tf_share": 0.35,
    "activation_threshold": 1.0, "gene_activation": "relu", "causal_eqtls": 3, "causal_regulators": 3,
}


def cohort_settings(args: argparse.Namespace, seed: int) -> dict:
    """``simulate_cohort`` keyword arguments from the flags (a preset's values under explicit flags)."""
    values = dict(SIM_DEFAULTS) | PRESETS.get(args.preset, {})
    values |= {k: getattr(args, k) for k in SIM_DEFAULTS if getattr(args, k) is not None}
    sim = {"n_snps": args.n_snps, "seed": seed}
    if values["n_samples"] != 600:
        sim["n_samples"] = values["n_samples"]
    if values["n_causal_genes"] is not None:
        sim["n_causal_genes"] = values["n_causal_genes"]
    for key in ("difficulty", "snp_share", "tf_share"):
        if values[key] != SIM_DEFAULTS[key]:
            sim[key] = values[key]
    if values["gene_activation"] == "relu":
        sim |= {"gene_activation": "relu", "causal_eqtls": values["causal_eqtls"], "causal_regulators": values["causal_regulators"]}
        if values["activation_threshold"] != 1.0:
            sim["activation_threshold"] = values["activation_threshold"]
    return sim


def planted_snp_components(cohort, threshold: float = 1.0) -> np.ndarray:
    """(n_samples, n_genes): each gene's planted SNP component, exactly as the simulator built it."""
    from deepgami.simulate import _activate

    dosage = cohort.snp.to_numpy(np.float64)
    std = (dosage - dosage.mean(0)) / np.maximum(dosage.std(0), 1e-6)
    snp_pos = cohort.snp.columns.get_indexer
    genes = list(cohort.genes.columns)
    comp = np.zeros((len(dosage), len(genes)))
    edges = cohort.truth["edges"].query("relation == 'eqtl'")
    for gene, group in edges.groupby("target"):
        drive = std[:, snp_pos(group["source"])] @ group["effect"].to_numpy()
        comp[:, genes.index(gene)] = _activate(drive, cohort.truth["gene_activation"], threshold)
    return comp


def pilot(args: argparse.Namespace, seeds: list[int]) -> None:
    """The learnability criterion only (no DeepGAMI, no null graph): L2 logistic regression, C by
    5-fold inner CV on the training rows, one stratified 80/20 split per cohort seed (split seed =
    cohort seed), on (a) the planted SNP components of the causal genes (reference), (b) the planted
    SNP components of all genes (a perfect SNP->gene layer, not told which genes are causal), (c) the
    standardised dosages of the SNPs the eQTL prior names."""
    import warnings

    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    warnings.filterwarnings("ignore", category=FutureWarning)
    rows = []
    for seed in seeds:
        sim = cohort_settings(args, seed)
        start = time.perf_counter()
        cohort = simulate_cohort(**sim)
        y = (cohort.labels.to_numpy() == "case").astype(int)
        train, test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed)
        comp = planted_snp_components(cohort, sim.get("activation_threshold", 1.0))
        causal = cohort.genes.columns.get_indexer(cohort.truth["causal_genes"])
        prior_snps = np.unique(cohort.snp.columns.get_indexer(cohort.eqtl["source"]))
        dosage = cohort.snp.to_numpy(np.float64)[:, prior_snps]
        row = {"seed": seed}
        for name, x in (("causal-gene components", comp[:, causal]), ("all-gene components", comp), ("prior SNP dosages", dosage)):
            model = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=10, cv=5, max_iter=3000)).fit(x[train], y[train])
            p = model.predict_proba(x[test])[:, 1]
            row[f"{name}: BACC"] = balanced_accuracy_score(y[test], p > 0.5)
            row[f"{name}: AUC"] = roc_auc_score(y[test], p)
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(f"pilot {sim}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
    frame = pd.DataFrame(rows).set_index("seed")
    mean = frame.mean()
    gap = mean["all-gene components: BACC"] - mean["prior SNP dosages: BACC"]
    print(f"PILOT MEAN {cohort_settings(args, seeds[0]) | {'seed': seeds}}: "
          + ", ".join(f"{k} {v:.3f}" for k, v in mean.items()) + f"; gap (all-gene comp - dosages) BACC {gap:+.3f}", flush=True)


def sweep_edge_l1(args: argparse.Namespace, lambdas: list[float]) -> None:
    """Development runs for choosing ``edge_l1`` (never on a study seed): DeepGAMIClassifier defaults
    but ``edge_l1``, on the cohort the flags describe (graph nodes = the panel), stratified 80/20 splits
    ``--splits`` (split seed s also draws the null graphs), one fit per training seed, lambda and graph.
    Prints test BACC / AUC with all modalities and with SNPs alone, then the means per lambda and graph."""
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    from deepgami import DeepGAMIClassifier

    cohort = simulate_cohort(**cohort_settings(args, args.seed))
    nodes = {"snp": list(cohort.snp.columns), "tf": list(cohort.tf.columns)}
    graph = RegulatoryGraph.from_edge_tables(
        [(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")], node_names=nodes
    )
    rows, averaged = [], []
    for split in (int(s) for s in args.splits.split(",")):
        train, test = train_test_split(np.arange(len(cohort.labels)), test_size=0.2, stratify=cohort.labels.to_numpy(), random_state=split)
        X_train, X_test = ({m: v.iloc[r] for m, v in cohort.modalities.items()} for r in (train, test))
        for kind in args.graphs.split(","):
            fit_graph = graph if kind == "prior" else null_graph(graph, kind, seed=split)
            for lam in lambdas:
                proba = {"all": [], "snp only": []}
                for seed in (int(s) for s in args.training_seeds.split(",")):
                    model = DeepGAMIClassifier(fit_graph, edge_l1=lam, random_state=seed, **SINGLE_NETWORK).fit(X_train, cohort.labels.iloc[train])
                    y = (cohort.labels.iloc[test].to_numpy() == model.classes_[1]).astype(int)
                    row = {"split": split, "graph": kind, "edge_l1": lam, "training seed": seed, "epochs": len(model.history_)}
                    for name, use in (("all", None), ("snp only", ["snp"])):
                        p = model.predict_proba(X_test, use_modalities=use)[:, 1]
                        proba[name].append(p)
                        row[f"{name}: BACC"], row[f"{name}: AUC"] = balanced_accuracy_score(y, p > 0.5), roc_auc_score(y, p)
                    rows.append(row)
                    print(", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
                # What [cv] training_seeds scores: the mean prediction of the training seeds.
                mean = {"split": split, "graph": kind, "edge_l1": lam}
                for name, ps in proba.items():
                    p = np.mean(ps, axis=0)
                    mean[f"{name}: BACC"], mean[f"{name}: AUC"] = balanced_accuracy_score(y, p > 0.5), roc_auc_score(y, p)
                averaged.append(mean)
    frame = pd.DataFrame(rows)
    print("single fits, mean over splits and training seeds:")
    print(frame.groupby(["graph", "edge_l1"]).mean(numeric_only=True).drop(columns=["split", "training seed"]).round(3).to_string())
    print("mean prediction of the training seeds, per split:")
    print(pd.DataFrame(averaged).round(3).to_string(index=False))


def graph_facts(cohort, graph: RegulatoryGraph, seed: int) -> list[str]:
    """Edge counts of each null graph and how much of the planted truth it keeps (null seed ``seed``)."""
    truth = cohort.truth["edges"]
    causal = truth[truth["target"].isin(cohort.truth["causal_genes"])]
    lines = [
        "| graph | relation | edges | shared with prior | planted causal-gene edges kept | causal-gene inputs with any edge |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("prior", *NULL_GRAPHS):
        g = graph if kind == "prior" else null_graph(graph, kind, seed=seed)
        for edge_type in g.edge_types:
            frame, prior = g.edge_frame(edge_type), graph.edge_frame(edge_type)
            pairs = set(zip(frame["source"], frame["target"]))
            planted = causal[causal["relation"] == edge_type[1]]
            kept = np.mean([(s, t) in pairs for s, t in zip(planted["source"], planted["target"])])
            reached = planted["source"].isin(set(frame["source"])).mean()
            shared = len(pairs & set(zip(prior["source"], prior["target"])))
            lines.append(f"| {kind} | {edge_type[0]}->{edge_type[2]} | {len(frame)} | {shared} | {kept:.2f} | {reached:.2f} |")
    return lines


def paired(results: pd.DataFrame, prior: str, null: str, metric: str, modalities: str = "all") -> pd.Series:
    test = results[(results["fold"] == "test") & (results["metric"] == metric) & (results["modalities"] == modalities)]
    values = test.pivot_table(index="split", columns="method", values="value")
    return values[prior] - values[null]


def machine() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout
        commit += " (working tree with uncommitted changes)" if dirty.strip() else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    cpu = platform.processor() or platform.machine()
    return (f"{platform.system()} {platform.machine()} ({cpu}), {os.cpu_count()} CPU cores visible, "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, torch {torch.__version__}, "
            f"Python {platform.python_version()}; commit {commit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--preset", choices=("none", *PRESETS), default="none", help="cohort preset (explicit flags win)")
    parser.add_argument("--pilot", default="", help="comma-separated cohort seeds: run only the learnability criterion")
    parser.add_argument("--n-samples", type=int, default=None, help="default 600 (or the preset's)")
    parser.add_argument("--n-causal-genes", type=int, default=None, help="default: the simulator's (8 %% of genes)")
    parser.add_argument("--difficulty", default=None, help="easy/medium/hard or a liability share; default medium")
    parser.add_argument("--snp-share", type=float, default=None, help="default 0.55")
    parser.add_argument("--tf-share", type=float, default=None, help="default 0.35")
    parser.add_argument("--activation-threshold", type=float, default=None, help="with relu; default 1.0")
    parser.add_argument("--n-snps", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0, help="cohort seed")
    parser.add_argument("--gene-activation", choices=("linear", "relu"), default=None, help="default relu")
    parser.add_argument("--causal-eqtls", type=int, default=None, help="with --gene-activation relu, default 3 (linear: simulator default)")
    parser.add_argument("--causal-regulators", type=int, default=None, help="with --gene-activation relu, default 3 (linear: simulator default)")
    parser.add_argument("--null-nodes", choices=("panel", "prior"), default="panel")
    parser.add_argument("--ablations", default="random,bernoulli,shuffle")
    parser.add_argument("--edge-l1", type=float, default=0.0, help="DeepGAMIClassifier edge_l1 for every graph (default 0)")
    parser.add_argument("--sweep-edge-l1", default="", help="comma-separated lambdas: run only the edge_l1 development sweep")
    parser.add_argument("--splits", default="0", help="with --sweep-edge-l1: comma-separated split seeds")
    parser.add_argument("--training-seeds", default="0", help="with --sweep-edge-l1: comma-separated random_state values")
    parser.add_argument("--graphs", default="prior", help="with --sweep-edge-l1: prior and/or null kinds, comma-separated")
    parser.add_argument("--seed-average", type=int, default=1,
                        help="fit every graph with this many training seeds and average the predictions ([cv] training_seeds)")
    parser.add_argument("--first-split", type=int, default=0, help="seed of the first outer split (splits are numbered by seed)")
    parser.add_argument("--results-csv", type=Path, default=None, help="also save the raw cv results (and a .json of time and command)")
    parser.add_argument("--merge", default="", help="comma-separated --results-csv files of parts: write their joint report, fit nothing")
    parser.add_argument("--out", type=Path, default=Path("bench/results_prior_ablation.md"))
    args = parser.parse_args()
    if args.difficulty is not None and args.difficulty not in ("easy", "medium", "hard"):
        args.difficulty = float(args.difficulty)
    if args.pilot:
        pilot(args, [int(s) for s in args.pilot.split(",")])
        return
    if args.sweep_edge_l1:
        sweep_edge_l1(args, [float(v) for v in args.sweep_edge_l1.split(",")])
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sim = cohort_settings(args, args.seed)
    cohort = simulate_cohort(**sim)
    nodes = None
    if args.null_nodes == "panel":
        nodes = {"snp": list(cohort.snp.columns), "tf": list(cohort.tf.columns)}
    graph = RegulatoryGraph.from_edge_tables(
        [(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")], node_names=nodes
    )
    ablations = [a for a in args.ablations.split(",") if a]
    unused = ("pilot", "sweep_edge_l1", "splits", "training_seeds", "graphs")
    if args.merge:
        unused += ("repeats", "first_split", "results_csv")
    command = " ".join(["python bench/prior_ablation.py", *(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                                                             if k not in ("out", *unused) and v not in (None, ""))])
    if args.merge:
        parts = [Path(p) for p in args.merge.split(",")]
        results = pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
        logs = [json.loads(p.with_suffix(".json").read_text()) for p in parts]
        seconds = sum(part["seconds"] for part in logs)
        where = "; ".join(sorted({part.get("machine", "not recorded") for part in logs}))
        command = " and ".join(f"`OMP_NUM_THREADS=1 {part['command']}`" for part in logs) + f" concurrently, then `{command}`"
        repeats = results["split"].nunique()
    else:
        # Studies 1-3 ran single networks with the initialisation of the time: keep them so.
        model = "\n[model]\n" + SINGLE_NETWORK_TOML + (f"edge_l1 = {args.edge_l1!r}\n" if args.edge_l1 else "")
        extra = EXTRA.format(repeats=args.repeats, ablations=ablations, training_seeds=args.seed_average)
        config = parse_config(tomllib.loads(CONFIG_TEMPLATE + extra + model), Path("."))
        settings = dataclasses.replace(cv_settings(config), split_seed=args.first_split)
        data = MultiOmicsData(cohort.modalities, cohort.labels)
        start = time.perf_counter()
        result = run_cv(data, graph, settings)
        seconds = time.perf_counter() - start
        # Splits are numbered by their seed, so parts run with different --first-split merge.
        results = result.results.assign(split=result.results["split"] + args.first_split)
        repeats = args.repeats
        if args.results_csv:
            results.to_csv(args.results_csv, index=False)
            part = {"seconds": seconds, "command": command, "machine": machine()}
            args.results_csv.with_suffix(".json").write_text(json.dumps(part))
        command, where = f"`OMP_NUM_THREADS=1 {command}`", machine()

    summary = summarise(results)
    summary = summary[summary["metric"].isin(["bacc", "auc"])]
    table = summary.pivot_table(index="method", columns=["modalities", "metric"], values="mean", sort=False)
    sds = summary.pivot_table(index="method", columns=["modalities", "metric"], values="sd", sort=False, dropna=False)
    lines = [
        f"## Cohort `simulate_cohort({', '.join(f'{k}={v!r}' for k, v in sim.items())})`, nulls over the {args.null_nodes} nodes\n",
        f"{len(cohort.labels)} samples, {cohort.snp.shape[1]} SNPs, {cohort.tf.shape[1]} TFs, {cohort.genes.shape[1]} hidden genes "
        f"({len(cohort.truth['causal_genes'])} causal); prior: {len(cohort.eqtl)} eQTL and {len(cohort.grn)} GRN edges; "
        f"the prior graph's nodes: {graph.num_nodes('snp')} SNPs, {graph.num_nodes('tf')} TFs. "
        f"{repeats} outer splits (stratified, test 20 %), defaults of DeepGAMIClassifier"
        + (f" but edge_l1 = {args.edge_l1:g} for every graph" if args.edge_l1 else "") + ", no search; "
        f"split r uses seed r for the split and the null graph draw"
        + (f"; each graph's test prediction is the mean of {args.seed_average} fits with training seeds "
           f"{args.seed_average}r ... {args.seed_average}r + {args.seed_average - 1}" if args.seed_average > 1 else " and training")
        + f". Wall time {seconds / 60:.1f} min" + (" (the parts' sum; they ran concurrently, one per core)" if args.merge else "") + ".\n",
        f"Command: {command}\n",
        f"Machine: {where}" + (" (of the parts)" if args.merge else "") + ".\n",
        "Test metrics, mean ± sd over splits:\n",
        "| graph | all: BACC | all: AUC | snp only: BACC | snp only: AUC | tf only: BACC | tf only: AUC |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in table.index:
        cells = [f"{table.loc[method, (m, k)]:.3f} ± {sds.loc[method, (m, k)]:.3f}" for m in ("all", "snp", "tf") for k in ("bacc", "auc")]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += [
        "\nPaired margins of the prior over each null (prior minus null per split, all modalities): mean ± sd, "
        "splits the prior wins / ties / loses, two-sided paired t-test and Wilcoxon signed-rank p:\n",
        "| null | BACC margin | W/T/L | t p | Wilcoxon p | AUC margin | W/T/L | t p | Wilcoxon p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    nulls = [m for m in table.index if m.endswith("_graph")]
    for null in nulls:
        cells = []
        for metric in ("bacc", "auc"):
            d = paired(results, "deepgami", null, metric)
            t_p = ttest_rel(d, np.zeros_like(d)).pvalue if len(d) > 1 and d.std() > 0 else float("nan")
            w_p = wilcoxon(d).pvalue if (d != 0).sum() > 0 else float("nan")
            cells += [f"{d.mean():+.3f} ± {d.std():.3f}", f"{(d > 0).sum()}/{(d == 0).sum()}/{(d < 0).sum()}", f"{t_p:.3g}", f"{w_p:.3g}"]
        lines.append(f"| {null} | " + " | ".join(cells) + " |")
    lines += ["\nPer-split BACC (all modalities):\n"]
    test = results[(results["fold"] == "test") & (results["metric"] == "bacc") & (results["modalities"] == "all")]
    per_split = test.pivot_table(index="split", columns="method", values="value", sort=False)
    lines += ["| split | " + " | ".join(per_split.columns) + " |", "|---" * (len(per_split.columns) + 1) + "|"]
    lines += [f"| {s} | " + " | ".join(f"{v:.3f}" for v in row) + " |" for s, row in per_split.iterrows()]
    first = int(results["split"].min())
    lines += [f"\nThe graphs of split {first} (null seed {first}) against the planted truth (causal genes only):\n",
              *graph_facts(cohort, graph, seed=first), ""]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
