"""Does the guided layer learn? Accuracy and planted-link recovery over a panel of cohorts.

Each cohort of ``deepgami.simulate.panel_settings`` (planted cohorts that differ in sample
size, causal gene count, heritability, gene-layer shape, hub TFs and LD decoys, plus null
cohorts whose labels ignore the data) is split 80/20 (stratified, the cohort seed) and fit by:

- ``old``: DeepGAMI as it was (``edge_init_scale = 1``, one network, head 64 -> classes);
- ``single``: one network with small initial edges (``edge_init_scale = 0.1``) and a linear
  head on the latents (``hidden_dims = ()``);
- ``ensemble``: 5 such members batched in one module, cross-fitted (member k early-stops on
  fold k of 5), with 5 permuted-label null members;
- ``ensemble10``: the same with 10 members (and 5 null members);
- ``ensemble10_l1``: ``ensemble10`` with an edge lasso (``edge_l1 = 1e-3``), the default;
- ``paper``: the paper's dense masked layer, ``x @ (W * M)`` with ``W`` initialised as
  ``nn.Linear(n_features, n_genes)`` (bound ``1 / sqrt(n_features)``), no modality dropout;
- L2 and L1 logistic regression (C by 3-fold CV) and a random forest on the concatenated,
  standardised features, and the **oracle**: L2 logistic regression on the planted causal
  SNPs and TFs of the causal genes (it knows the truth; no method can be expected to reach it).

Every model is scored on the test rows with all modalities and with genotypes alone (the
baselines refit on SNPs only). Links: the planted edges into causal genes are the truth; each
ranking (edge IG of ``old``, ``single`` and both ensembles, averaged over classes; the
ensemble's mean ``|weight|``; the marginal association ``|corr(source feature, label)|`` on
the training rows; chance) gets precision@k (k = number of true edges) and the area under the
precision-recall curve. The ensembles' q-values: edges with q <= 0.1 and the realised false
discovery proportion among them (on null cohorts every such edge is false). Also: how far the
edges moved from their initialisation, test AUC over 5 training seeds (``single`` and the
ensembles; the spread is max - min), and fit times.

    python bench/bench_recovery.py --cohorts 0-11 --results-csv bench/out/recovery_part1.csv
    python bench/bench_recovery.py --merge bench/out/recovery_part1.csv,bench/out/recovery_part2.csv --out bench/results_recovery.md

``--methods ensemble10`` fits only the named DeepGAMI methods (no baselines, no marginal or
chance rankings), so a method added later can be run on the panel and merged with an earlier run
whose code paths it leaves unchanged.

The designs and decision rules of the studies that set the defaults from this benchmark are in
bench/study_guided_learning.md and bench/study_ensemble_size.md, each committed before its run.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.explain import Explainer
from deepgami.nn.encoder import GuidedEncoder
from deepgami.simulate import panel_settings, simulate_cohort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402
from _report import median_iqr  # noqa: E402

PANEL_SEED = 2026
N_PLANTED, N_NULL = 20, 4
SEEDS = range(5)
IG_STEPS = 16
Q_LEVEL = 0.1
# Explicit settings, so the table does not move when the package defaults do.
DEEPGAMI = {
    "old": {"edge_init_scale": 1.0, "hidden_dims": (64,), "n_members": 1, "null_members": 0},
    "single": {"edge_init_scale": 0.1, "hidden_dims": (), "n_members": 1, "null_members": 0},
    "ensemble": {"edge_init_scale": 0.1, "hidden_dims": (), "n_members": 5, "null_members": 5, "cross_fit": True},
    "ensemble10": {"edge_init_scale": 0.1, "hidden_dims": (), "n_members": 10, "null_members": 5, "cross_fit": True},
    "ensemble10_l1": {"edge_init_scale": 0.1, "hidden_dims": (), "n_members": 10, "null_members": 5, "cross_fit": True, "edge_l1": 1e-3},
}
METHODS = (*DEEPGAMI, "paper")
ENSEMBLES = ("ensemble", "ensemble10", "ensemble10_l1")
# Methods fit with every seed of SEEDS (for the seed spread); the others with seed 0.
SEEDED = ("single", "ensemble", "ensemble10", "ensemble10_l1")
# The ensemble the report compares with the other methods: the package's default.
DEFAULT = "ensemble10_l1"


class PaperDense(DeepGAMIClassifier):
    """DeepGAMI with the paper's guided layer initialisation: the masked dense ``nn.Linear``
    (every edge and bias ``U(-1, 1) / sqrt(n_features)``); the forward is the same product."""

    def _build_module(self, member_seeds=None):
        net = super()._build_module(member_seeds)
        generator = torch.Generator().manual_seed(self.random_state)
        with torch.no_grad():
            for encoder in net.encoders.values():
                if isinstance(encoder, GuidedEncoder):
                    bound = encoder.convs[0].num_src ** -0.5
                    for conv in encoder.convs:
                        conv.weight.copy_(torch.empty_like(conv.weight).uniform_(-bound, bound, generator=generator))
                    encoder.bias.copy_(torch.empty_like(encoder.bias).uniform_(-bound, bound, generator=generator))
        return net


def scores(y_true: np.ndarray, proba: np.ndarray, classes) -> dict[str, float]:
    positive = list(classes).index("case")
    return {
        "auc": roc_auc_score(y_true == "case", proba[:, positive]),
        "bacc": balanced_accuracy_score(y_true, np.asarray(classes)[proba.argmax(axis=1)]),
    }


def truth_mask(edges: pd.DataFrame, cohort) -> np.ndarray:
    """Per edge of ``edges`` (source, target), whether it is a planted edge into a causal gene."""
    planted = cohort.truth["edges"]
    planted = planted[planted["target"].isin(cohort.truth["causal_genes"])]
    true = set(zip(planted["source"], planted["target"]))
    return np.array([pair in true for pair in zip(edges["source"], edges["target"])])


def ranking_scores(ranking: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    k = int(truth.sum())
    order = np.argsort(-ranking, kind="stable")
    return {"precision_at_k": float(truth[order[:k]].mean()), "auprc": float(average_precision_score(truth, ranking))}


def edge_table(model, X) -> pd.DataFrame:
    """Edge IG of ``model`` on ``X``, one row per edge: abs_score averaged over classes, etc."""
    table = Explainer(model, X, n_steps=IG_STEPS).edges().table
    return table.groupby(["edge_type", "source", "target"], sort=False).agg(
        abs_score=("abs_score", "mean"), weight=("weight", "first"), q_value=("q_value", "min"), stability=("stability", "mean")
    ).reset_index()


def baselines(train: dict, test: dict, y_train, y_test, seed: int) -> dict[str, dict[str, float]]:
    """Test scores of the sklearn baselines; each column set is standardised on training rows."""
    models = {
        "logistic_l2": lambda: LogisticRegressionCV(Cs=8, cv=3, max_iter=2000),
        "logistic_l1": lambda: LogisticRegressionCV(Cs=8, cv=3, penalty="l1", solver="liblinear", max_iter=2000),
        "random_forest": lambda: RandomForestClassifier(n_estimators=300, random_state=seed, n_jobs=1),
    }
    out = {}
    for name, make in models.items():
        for view, columns in (("all", ["snp", "tf"]), ("snp", ["snp"])):
            fit = make_pipeline(StandardScaler(), make()).fit(np.hstack([train[m] for m in columns]), y_train)
            proba = fit.predict_proba(np.hstack([test[m] for m in columns]))
            out[f"{name}:{view}"] = scores(y_test, proba, fit.classes_)
    return out


def oracle(cohort, train_ids, test_ids, y_train, y_test) -> dict[str, dict[str, float]]:
    planted = cohort.truth["edges"]
    planted = planted[planted["target"].isin(cohort.truth["causal_genes"])]
    out = {}
    for view, relations in (("all", ("eqtl", "regulates")), ("snp", ("eqtl",))):
        parts = [(cohort.snp if r == "eqtl" else cohort.tf)[planted.loc[planted["relation"] == r, "source"].unique()] for r in relations]
        features = pd.concat(parts, axis=1)
        fit = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=8, cv=3, max_iter=2000)).fit(features.loc[train_ids], y_train)
        out[f"oracle:{view}"] = scores(y_test, fit.predict_proba(features.loc[test_ids]), fit.classes_)
    return out


def run_cohort(index: int, settings: dict, log, methods: tuple[str, ...] = METHODS) -> list[dict]:
    cohort = simulate_cohort(**settings)
    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
    null = settings["difficulty"] == 0.0
    ids = cohort.labels.index.to_numpy()
    train_ids, test_ids = train_test_split(ids, test_size=0.2, stratify=cohort.labels, random_state=settings["seed"])
    X_train = {m: t.loc[train_ids] for m, t in cohort.modalities.items()}
    X_test = {m: t.loc[test_ids] for m, t in cohort.modalities.items()}
    y_train, y_test = cohort.labels.loc[train_ids], cohort.labels.loc[test_ids].to_numpy()
    rows = []

    def record(method, metric, value, view="all"):
        rows.append({"cohort": index, "null": null, "method": method, "view": view, "metric": metric, "value": float(value)})

    fitted = {}
    models = {name: lambda seed, p=params: DeepGAMIClassifier(graph, random_state=seed, **p) for name, params in DEEPGAMI.items()}
    models["paper"] = lambda seed: PaperDense(graph, random_state=seed, modality_dropout=0.0, **DEEPGAMI["old"])
    every = set(methods) == set(METHODS)
    for name in methods:
        make = models[name]
        seeds = SEEDS if name in SEEDED and not null else [0]
        for seed in seeds:
            start = time.perf_counter()
            model = make(seed).fit(X_train, y_train)
            seconds = time.perf_counter() - start
            for view, use in (("all", None), ("snp", ["snp"])):
                result = scores(y_test, model.predict_proba(X_test, use_modalities=use), model.classes_)
                for metric, value in result.items():
                    record(name, f"{metric}@seed{seed}", value, view)
            if seed == 0:
                fitted[name] = model
                record(name, "fit_seconds", seconds)
                record(name, "epochs", len(model.history_))
                record(name, "seconds_per_epoch", seconds / len(model.history_))
                for relation, moved in model.edge_movement_.items():
                    record(name, f"moved:{relation}", moved)
        log(f"  cohort {index}: {name} done")
    if not null and every:
        for name, result in {**baselines(X_train, X_test, y_train, y_test, settings["seed"]), **oracle(cohort, train_ids, test_ids, y_train, y_test)}.items():
            method, view = name.split(":")
            for metric, value in result.items():
                record(method, f"{metric}@seed0", value, view)

    tables = {name: edge_table(fitted[name], X_test) for name in ("old", "single", *ENSEMBLES) if name in fitted}
    edges = tables.get("ensemble", next(iter(tables.values())))  # every ranking in this table's edge order
    truth = None if null else truth_mask(edges, cohort)
    for name in ENSEMBLES:
        if name not in tables:
            continue
        passing = tables[name].set_index(["source", "target"])["q_value"].reindex(list(zip(edges["source"], edges["target"]))).to_numpy() <= Q_LEVEL
        record(name, "q_passing", passing.sum())
        record(name, "q_passing_share", passing.mean())
        if not null:
            record(name, "q_fdp", (~truth[passing]).mean() if passing.any() else np.nan)
    if null:
        return rows
    rankings = {
        f"ig_{name}": table.set_index(["source", "target"])["abs_score"].reindex(list(zip(edges["source"], edges["target"]))).to_numpy()
        for name, table in tables.items()
    }
    if every:
        rankings.update(background_rankings(cohort, train_ids, y_train, edges, tables["ensemble"], settings["seed"]))
        record("chance", "expected_precision", truth.mean())
        record("ensemble", "n_true_edges", truth.sum())
    for name, ranking in rankings.items():
        for metric, value in ranking_scores(ranking, truth).items():
            record(name, metric, value)
    return rows


def background_rankings(cohort, train_ids, y_train, edges: pd.DataFrame, ensemble: pd.DataFrame, seed: int) -> dict[str, np.ndarray]:
    """Rankings of ``edges`` that use no edge attribution: the 5-member ensemble's mean
    ``|weight|``, each source's marginal association with the label on the training rows, chance."""
    standardised = (cohort.snp.loc[train_ids] - cohort.snp.loc[train_ids].mean()) / cohort.snp.loc[train_ids].std().replace(0, 1)
    features = pd.concat([standardised, (cohort.tf.loc[train_ids] - cohort.tf.loc[train_ids].mean()) / cohort.tf.loc[train_ids].std()], axis=1)
    association = features.corrwith(pd.Series((y_train == "case").astype(float), index=train_ids)).abs()
    weight = ensemble.set_index(["source", "target"])["weight"].reindex(list(zip(edges["source"], edges["target"])))
    return {
        "abs_weight": weight.abs().to_numpy(),
        "association": association.reindex(edges["source"]).fillna(0.0).to_numpy(),
        "chance": np.random.default_rng(seed).random(len(edges)),
    }


def parse_range(text: str, total: int) -> list[int]:
    if not text:
        return list(range(total))
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


# ---------------------------------------------------------------------------- report
def report(results: pd.DataFrame, meta: dict, out: Path, plot: Path) -> None:
    planted = results[~results["null"]]
    lines = [
        "# Recovery benchmark: accuracy and planted-link recovery over a panel of cohorts",
        "",
        f"Machine: {meta['machine']}. Command: `{meta['command']}` (parts merged with `--merge`); "
        f"{meta['cohorts']} cohorts, total fit and explain time {meta['seconds'] / 60:.1f} min (sum over parts).",
        "",
        "Medians [IQR] over the planted cohorts. `old` is DeepGAMI's previous default, `single` one network with small "
        "initial edges and a linear head, `ensemble` 5 such members, cross-fitted (+5 null members), `ensemble10` 10 "
        "members (+5 null), `ensemble10_l1` the same with an edge lasso (`edge_l1 = 1e-3`), `paper` the dense masked "
        f"formulation; the oracle knows the causal features. The default is `{DEFAULT}`.",
        "",
        "## Test accuracy (seed 0)",
        "",
        "| method | AUC, all | BACC, all | AUC, genotypes alone | BACC, genotypes alone |",
        "|---|---|---|---|---|",
    ]
    acc = planted[planted["metric"].isin(["auc@seed0", "bacc@seed0"])]
    order = [*ENSEMBLES, "single", "old", "paper", "logistic_l2", "logistic_l1", "random_forest", "oracle"]
    for method in order:
        part = acc[acc["method"] == method]
        if part.empty:
            continue
        cell = {(v, m): median_iqr(part[(part["view"] == v) & (part["metric"] == f"{m}@seed0")]["value"]) for v in ("all", "snp") for m in ("auc", "bacc")}
        lines.append(f"| {method} | {cell[('all', 'auc')]} | {cell[('all', 'bacc')]} | {cell[('snp', 'auc')]} | {cell[('snp', 'bacc')]} |")
    wide = acc[(acc["metric"] == "auc@seed0") & (acc["view"] == "all")].pivot(index="cohort", columns="method", values="value")
    for ensemble in (e for e in ENSEMBLES if e in wide):
        others = [m for m in ("paper", "logistic_l2", "old", "single", *ENSEMBLES) if m in wide and m != ensemble]
        lines += ["", f"Share of cohorts where {ensemble}'s AUC (all) is at least the method's: " + ", ".join(
            f"{m} {(wide[ensemble] >= wide[m]).mean():.0%}" for m in others
        ) + "."]
        gap_old = (wide["oracle"] - wide["old"]).median()
        gap_new = (wide["oracle"] - wide[ensemble]).median()
        lines.append(f"Median gap to the oracle (AUC, all): old {gap_old:.3f}, {ensemble} {gap_new:.3f} ({1 - gap_new / gap_old:.0%} of it closed).")

    lines += ["", "## Link recovery", "", "| ranking | precision@k | x chance | AUPRC |", "|---|---|---|---|"]
    chance = planted[planted["metric"] == "expected_precision"].set_index("cohort")["value"]
    for name in (*(f"ig_{e}" for e in ENSEMBLES), "ig_single", "ig_old", "abs_weight", "association", "chance"):
        part = planted[planted["method"] == name]
        precision = part[part["metric"] == "precision_at_k"].set_index("cohort")["value"]
        ratio = precision / chance.reindex(precision.index)
        lines.append(f"| {name} | {median_iqr(precision)} | {median_iqr(ratio, 1)} | {median_iqr(part[part['metric'] == 'auprc']['value'])} |")
    for ensemble in ENSEMBLES:
        ens = results[results["method"] == ensemble]
        if ens.empty:
            continue
        passing = ens[(ens["metric"] == "q_passing") & ~ens["null"]]["value"]
        fdp = ens[ens["metric"] == "q_fdp"]["value"]
        null_share = ens[(ens["metric"] == "q_passing_share") & ens["null"]]["value"]
        null_count = ens[(ens["metric"] == "q_passing") & ens["null"]]["value"]
        lines += [
            "",
            f"q-values of {ensemble} at q <= {Q_LEVEL}: on planted cohorts {median_iqr(passing, 0)} edges pass, realised false "
            f"discovery proportion {median_iqr(fdp)} (mean {fdp.mean():.3f}, cohorts with passing edges: {fdp.notna().sum()}); on null cohorts "
            f"{', '.join(str(int(v)) for v in null_count)} edges pass (shares {', '.join(f'{v:.4f}' for v in null_share)}).",
        ]
    lines += [
        "",
        "## Seeds, movement and time",
        "",
        "| method | AUC spread over 5 seeds (max - min) | SNP edges moved | TF edges moved | fit s | s per epoch | epochs |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in (*ENSEMBLES, "single", "old", "paper"):
        part = planted[planted["method"] == method]
        if part.empty:
            continue
        aucs = part[(part["view"] == "all") & part["metric"].str.startswith("auc@seed")]
        spread = aucs.groupby("cohort")["value"].agg(lambda v: v.max() - v.min()) if aucs["metric"].nunique() > 1 else pd.Series(dtype=float)
        cell = {m: median_iqr(part[part["metric"] == m]["value"], 2) for m in ("moved:snp-eqtl", "moved:tf-regulates", "fit_seconds", "seconds_per_epoch", "epochs")}
        lines.append(
            f"| {method} | {median_iqr(spread)} | {cell['moved:snp-eqtl']} | {cell['moved:tf-regulates']} | {cell['fit_seconds']} | {cell['seconds_per_epoch']} | {cell['epochs']} |"
        )
    times = planted[planted["metric"] == "fit_seconds"].pivot(index="cohort", columns="method", values="value")
    per_epoch = planted[planted["metric"] == "seconds_per_epoch"].pivot(index="cohort", columns="method", values="value")
    lines.append("")
    for ensemble in (e for e in ENSEMBLES if e in times):
        lines.append(
            f"{ensemble} against one network (`single`): fit time x{median_iqr(times[ensemble] / times['single'], 2)}, "
            f"time per epoch x{median_iqr(per_epoch[ensemble] / per_epoch['single'], 2)} (medians over cohorts)."
        )
    lines.append("Times of methods run in a later part (`--methods`) were taken in another run; bench/results_members.md compares costs in one run.")

    present = [e for e in ENSEMBLES if e in wide]
    lines += [
        "",
        "## Per cohort",
        "",
        f"| cohort | n | causal genes | h2 | genes | hubs | decoys | AUC {' / '.join(present)} / single / old / paper / L2 / oracle "
        f"| P@k {' / '.join(present)} / single / old / assoc / chance |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    settings = meta["panel"]
    prec = planted[planted["metric"] == "precision_at_k"].pivot(index="cohort", columns="method", values="value")
    for cohort in sorted(results["cohort"].unique()):
        s = settings[cohort]
        if s["difficulty"] == 0.0:
            continue
        aucs = " / ".join(f"{wide.loc[cohort, m]:.3f}" for m in (*present, "single", "old", "paper", "logistic_l2", "oracle"))
        p = " / ".join(f"{prec.loc[cohort, m]:.3f}" for m in (*(f"ig_{e}" for e in present), "ig_single", "ig_old", "association"))
        p += f" / {chance[cohort]:.3f}"
        lines.append(
            f"| {cohort} | {s['n_samples']} | {s['n_causal_genes']} | {s['difficulty']} | {s.get('gene_activation', 'linear')} | "
            f"{'yes' if s['tf_hubs'] else 'no'} | {s['ld_decoys']} | {aucs} | {p} |"
        )
    out.write_text("\n".join(lines) + "\n")
    plot_results(wide, prec, chance, plot)


def plot_results(wide: pd.DataFrame, prec: pd.DataFrame, chance: pd.Series, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    methods = [m for m in (*ENSEMBLES, "single", "old", "paper", "logistic_l2", "logistic_l1", "random_forest", "oracle") if m in wide]
    axes[0].boxplot([wide[m].dropna() for m in methods], tick_labels=methods, showfliers=False)
    for i, m in enumerate(methods, start=1):
        axes[0].scatter(np.full(len(wide), i) + np.random.default_rng(i).uniform(-0.15, 0.15, len(wide)), wide[m], s=10, alpha=0.6)
    axes[0].set_ylabel("test AUC, all modalities")
    axes[0].set_title("Accuracy over the planted cohorts")
    plt.setp(axes[0].get_xticklabels(), rotation=40, ha="right")
    rankings = [m for m in (*(f"ig_{e}" for e in ENSEMBLES), "ig_single", "ig_old", "abs_weight", "association") if m in prec]
    # Cohorts with no true link in the top k have ratio 0: drawn on a floor line, not lost off the log axis.
    floor = 0.3
    ratio = prec[rankings].div(chance.reindex(prec.index), axis=0).clip(lower=floor)
    axes[1].axhline(floor, color="black", linewidth=0.6)
    axes[1].text(0.55, floor * 1.08, "no true link in the top k", fontsize=7, va="bottom")
    axes[1].boxplot([ratio[m].dropna() for m in rankings], tick_labels=rankings, showfliers=False)
    for i, m in enumerate(rankings, start=1):
        axes[1].scatter(np.full(len(ratio), i) + np.random.default_rng(i).uniform(-0.15, 0.15, len(ratio)), ratio[m], s=10, alpha=0.6)
    axes[1].axhline(1.0, color="grey", linestyle="--", linewidth=1, label="chance")
    axes[1].axhline(10.0, color="tab:red", linestyle=":", linewidth=1, label="10x chance (target)")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("precision@k / chance (log scale)")
    axes[1].set_title("Recovery of planted links (k = number of true links)")
    plt.setp(axes[1].get_xticklabels(), rotation=40, ha="right")
    axes[1].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panel-seed", type=int, default=PANEL_SEED)
    parser.add_argument("--planted", type=int, default=N_PLANTED, help="planted cohorts in the panel")
    parser.add_argument("--nulls", type=int, default=N_NULL, help="null cohorts in the panel")
    parser.add_argument("--cohorts", default="", help="which panel cohorts to run, e.g. 0-11 (default all)")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated DeepGAMI methods to fit (default all: {','.join(METHODS)})")
    parser.add_argument("--results-csv", type=Path, help="write the raw results (and a .json of settings) here")
    parser.add_argument("--merge", default="", help="comma-separated results CSVs to report together")
    parser.add_argument("--out", type=Path, default=Path("bench/results_recovery.md"))
    parser.add_argument("--plot", type=Path, default=None, help="default: --out with .png")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    panel = panel_settings(args.planted, args.nulls, seed=args.panel_seed)
    plot = args.plot or args.out.with_suffix(".png")
    if args.merge:
        parts = [Path(p) for p in args.merge.split(",")]
        results = pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
        metas = [json.loads(p.with_suffix(".json").read_text()) for p in parts]
        meta = {
            "machine": metas[0]["machine"],
            "command": metas[0]["command"],
            "cohorts": results["cohort"].nunique(),
            "seconds": sum(m["seconds"] for m in metas),
            "panel": panel,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report(results, meta, args.out, plot)
        print(f"wrote {args.out} and {plot}")
        return
    methods = tuple(args.methods.split(","))
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {', '.join(METHODS)}")
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    for index in parse_range(args.cohorts, len(panel)):
        print(f"cohort {index}: {panel[index]}", flush=True)
        rows += run_cohort(index, panel[index], lambda text: print(text, flush=True), methods)
        if args.results_csv:
            args.results_csv.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_csv(args.results_csv, index=False)
    meta = {
        "machine": f"{cpu_model()}, {platform.system()}, torch {torch.__version__}, 1 thread",
        "command": " ".join(["python", *sys.argv]),
        "seconds": time.perf_counter() - start,
    }
    results = pd.DataFrame(rows)
    if args.results_csv:
        results.to_csv(args.results_csv, index=False)
        args.results_csv.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    else:
        report(results, meta | {"cohorts": results["cohort"].nunique(), "panel": panel}, args.out, plot)


if __name__ == "__main__":
    main()
