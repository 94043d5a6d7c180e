"""Planted pathway recovery: the deep prior against post-hoc enrichment of a one-hop model.

The pre-registered design and decision rules are in bench/study_deep_hierarchy.md. Each cohort of
``COHORTS`` (``simulate_hierarchy_cohort``) is split 80/20 (stratified, the cohort seed) and fit by:

- ``deep``: DeepGAMI on the full prior (SNP -> TF -> gene -> pathway -> parent pathway); a
  pathway's score is the total edge IG (``abs_score``, summed over classes) into it;
- ``onehop``: DeepGAMI on SNP -> gene only (the direct eQTLs plus every SNP -> TF -> gene chain
  composed into a SNP -> gene edge); genes are scored by the gene-level latent IG and pathways by
  post-hoc enrichment of the genes below them (``mean`` score, or one-sided Mann-Whitney ``mwu``);
- an L2 logistic regression on the SNPs (test AUC only).

    OMP_NUM_THREADS=1 python bench/bench_hierarchy.py --cohorts 0-13 --results-csv bench/out/hierarchy_runs.csv
    python bench/bench_hierarchy.py --report-only   # rebuild the report and figure from the CSVs
    python bench/bench_hierarchy.py --quick         # tiny smoke run, writes under /tmp
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import mannwhitneyu, rankdata, wilcoxon
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepgami import DeepGAMIClassifier
from deepgami.explain import Explainer
from deepgami.graph import RegulatoryGraph
from deepgami.nn.model import DeepGAMINet
from deepgami.nn.stages import UpperTower, make_activation
from deepgami.simulate_hierarchy import simulate_hierarchy_cohort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402
from _report import median_iqr  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZES = {"n_samples": 600, "n_snps": 1500, "n_tfs": 60, "n_genes": 300, "n_pathways": 50}
QUICK_SIZES = {"n_samples": 200, "n_snps": 300, "n_tfs": 20, "n_genes": 60, "n_pathways": 16}
MODEL = {"n_members": 5, "null_members": 0, "random_state": 0, "verbose": False}
IG_STEPS = 16
# Arms of bench/study_deep_defaults.md and bench/study_upper_activation.md: deep-model keyword
# arguments, whether the edge lasso covers only the edges from the data, and the activation of
# the levels above the meeting type (None: the package's).
DEEP_ARMS = {
    "registered": ({}, False, None),
    "levels": ({"level_loss_weight": 1.0}, False, None),
    "datalasso": ({}, True, None),
    "levels_datalasso": ({"level_loss_weight": 1.0}, True, None),
    "levels_linear_upper": ({"level_loss_weight": 1.0}, False, "none"),
    "levels_tanh_upper": ({"level_loss_weight": 1.0}, False, "tanh"),
}


def _cohorts() -> list[dict]:
    rows = []
    i = 0
    for difficulty in ("medium", "hard"):
        for depth in (3, 4):
            for n_causal in (1, 2, 3):
                rows.append(
                    {
                        "id": i,
                        "seed": 100 + i,
                        "difficulty": difficulty,
                        "depth": depth,
                        "n_causal_pathways": n_causal,
                        "pathway_activation": "linear" if (i + (i >= 6)) % 2 == 0 else "relu",
                        "null": "",
                    }
                )
                i += 1
    rows.append({"id": 12, "seed": 112, "difficulty": "medium", "depth": 3, "n_causal_pathways": 2, "pathway_activation": "relu", "null": "permuted"})
    rows.append({"id": 13, "seed": 113, "difficulty": 0.0, "depth": 4, "n_causal_pathways": 2, "pathway_activation": "linear", "null": "h0"})
    return rows


COHORTS = _cohorts()


def make_cohort(spec: dict, sizes: dict):
    cohort = simulate_hierarchy_cohort(
        **sizes,
        depth=spec["depth"],
        n_causal_pathways=spec["n_causal_pathways"],
        pathway_activation=spec["pathway_activation"],
        difficulty=spec["difficulty"],
        seed=spec["seed"],
    )
    if spec["null"] == "permuted":
        rng = np.random.default_rng(spec["seed"])
        cohort.labels = pd.Series(rng.permutation(cohort.labels.to_numpy()), index=cohort.labels.index, name=cohort.labels.name)
    return cohort


def one_hop_table(cohort) -> pd.DataFrame:
    """SNP -> gene: the direct eQTLs plus every SNP -> TF -> gene chain composed."""
    prior = {k[0] + "-" + k[2]: v for k, v in cohort.prior.items()}
    chains = prior["snp-tf"].merge(prior["tf-gene"], left_on="target", right_on="source", suffixes=("", "_g"))
    composed = pd.DataFrame({"source": chains["source"], "target": chains["target_g"]})
    return pd.concat([prior["snp-gene"], composed], ignore_index=True).drop_duplicates().reset_index(drop=True)


def genes_below(cohort) -> dict[str, set[str]]:
    """Pathway -> the member genes of every leaf under it (itself for a leaf)."""
    members = cohort.prior[("gene", "member_of", "pathway")].groupby("target")["source"].apply(set).to_dict()
    parent_key = ("pathway", "parent", "pathway")
    children: dict[str, list[str]] = {}
    if parent_key in cohort.prior:
        for child, parent in cohort.prior[parent_key][["source", "target"]].itertuples(index=False):
            children.setdefault(parent, []).append(child)
    memo: dict[str, set[str]] = {}

    def below(p: str) -> set[str]:
        if p not in memo:
            memo[p] = set(members.get(p, set())).union(*[below(c) for c in children.get(p, [])])
        return memo[p]

    return {p: below(p) for p in cohort.truth["pathway_level"].index}


def planted_by_level(cohort) -> dict[int, list[str]]:
    out = {1: list(cohort.truth["causal_pathways"])}
    out.update({int(k): list(v) for k, v in cohort.truth["causal_pathway_ancestors"].items()})
    return out


def rank_metrics(scores: pd.Series, planted: list[str]) -> dict:
    """Ranks (1 = best, ties averaged) of the planted names among ``scores`` and the summary metrics."""
    ranks = pd.Series(rankdata(-scores.to_numpy(), method="average"), index=scores.index)
    r = ranks.loc[planted].to_numpy()
    k, n = len(planted), len(scores)
    top = set(ranks.sort_values(kind="stable").index[:k])
    y = scores.index.isin(planted)
    return {
        "n_level": n,
        "k": k,
        "median_rank": float(np.median(r)),
        "mrr": float(np.mean(1.0 / r)),
        "precision_at_k": len(top & set(planted)) / k,
        "auroc": float(roc_auc_score(y, scores.to_numpy())) if 0 < k < n else np.nan,
        "ranks": ";".join(f"{x:g}" for x in r),
    }


def chance(n: int, k: int) -> dict:
    return {"median_rank": (n + 1) / 2, "mrr": float(np.mean(1.0 / np.arange(1, n + 1))), "precision_at_k": k / n, "auroc": 0.5}


def data_edge_l1(net) -> torch.Tensor:
    """The edge lasso on the edges from the data only (arm ``datalasso`` of
    bench/study_deep_defaults.md): the convs of the encoders' stages that read features."""
    norms = []
    for encoder in net.encoders.values():
        stages = encoder.stages.values() if hasattr(encoder, "stages") else [encoder] if hasattr(encoder, "from_data") else []
        norms += [conv.weight.abs().sum() for stage in stages for conv, data in zip(stage.convs, stage.from_data) if data]
    return torch.stack(norms).sum()


@contextmanager
def upper_activation(name: str | None):
    """Within the block, every stage above the meeting type (``UpperTower``) uses activation
    ``name`` (bench/study_upper_activation.md); None leaves the package's."""
    if name is None:
        yield
        return
    original = UpperTower.__init__

    def patched(self, *args, **kwargs):
        original(self, *args, **kwargs)
        for stage in self.stages.values():
            stage.activation = make_activation(name)

    UpperTower.__init__ = patched
    try:
        yield
    finally:
        UpperTower.__init__ = original


def run_cohort(
    spec: dict, sizes: dict, model_kwargs: dict, deep_kwargs: dict | None = None, data_lasso: bool = False, upper: str | None = None
) -> tuple[list[dict], dict]:
    t0 = time.perf_counter()
    cohort = make_cohort(spec, sizes)
    X, y = cohort.modalities, cohort.labels
    train, test = train_test_split(y.index, test_size=0.2, stratify=y, random_state=spec["seed"])
    Xtr = {m: f.loc[train] for m, f in X.items()}
    Xte = {m: f.loc[test] for m, f in X.items()}
    ytest = (y.loc[test] == "case").astype(int)
    level_of = cohort.truth["pathway_level"]
    planted = planted_by_level(cohort)
    below = genes_below(cohort)
    rows: list[dict] = []
    info = {"id": spec["id"]}

    # Deep model.
    t = time.perf_counter()
    graph = RegulatoryGraph.from_edge_tables(cohort.edge_tables())
    deep = DeepGAMIClassifier(graph=graph, **{**model_kwargs, **(deep_kwargs or {})})
    original = DeepGAMINet.edge_weight_l1
    if data_lasso:
        DeepGAMINet.edge_weight_l1 = data_edge_l1
    try:
        with upper_activation(upper):
            deep.fit(Xtr, y.loc[train])
    finally:
        DeepGAMINet.edge_weight_l1 = original
    info["deep_fit_s"] = time.perf_counter() - t
    info["deep_auc"] = roc_auc_score(ytest, deep.predict_proba(Xte)[:, list(deep.classes_).index("case")])
    t = time.perf_counter()
    table = Explainer(deep, Xtr, n_steps=IG_STEPS, progress=False).edges().table
    info["deep_explain_s"] = time.perf_counter() - t
    into = table[table["edge_type"].isin(["gene-member_of->pathway", "pathway-parent->pathway"])]
    deep_scores = into.groupby("target")["abs_score"].sum().reindex(level_of.index, fill_value=0.0)

    # One-hop model on the composed SNP -> gene prior.
    t = time.perf_counter()
    onehop_graph = RegulatoryGraph.from_edge_tables([(one_hop_table(cohort), "snp", "gene", "eqtl")])
    onehop = DeepGAMIClassifier(graph=onehop_graph, **model_kwargs).fit(Xtr, y.loc[train])
    info["onehop_fit_s"] = time.perf_counter() - t
    info["onehop_auc"] = roc_auc_score(ytest, onehop.predict_proba(Xte)[:, list(onehop.classes_).index("case")])
    t = time.perf_counter()
    lat = Explainer(onehop, Xtr, n_steps=IG_STEPS, progress=False).latents()
    info["onehop_explain_s"] = time.perf_counter() - t
    gene_scores = lat[lat["layer"] == "snp"].groupby("node")["abs_score"].sum()
    gene_scores = gene_scores.reindex(sorted(set(one_hop_table(cohort)["target"])), fill_value=0.0)
    mean_scores, mwu_scores = {}, {}
    for p in level_of.index:
        genes = [g for g in below[p] if g in gene_scores.index]
        inside = gene_scores.loc[genes].to_numpy()
        outside = gene_scores.drop(genes).to_numpy()
        mean_scores[p] = inside.mean() if len(inside) else 0.0
        mwu_scores[p] = -np.log10(mannwhitneyu(inside, outside, alternative="greater").pvalue) if len(inside) and len(outside) else 0.0
    # Causal-gene recovery of the one-hop genes, for context.
    causal = set(cohort.truth["causal_genes"])
    info["onehop_gene_auroc"] = roc_auc_score(gene_scores.index.isin(causal), gene_scores.to_numpy())

    # L2 logistic regression on the SNPs.
    lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(Xtr["snp"], y.loc[train])
    info["lr_auc"] = roc_auc_score(ytest, lr.predict_proba(Xte["snp"])[:, list(lr.classes_).index("case")])

    for method, scores in (("deep", deep_scores), ("onehop_mean", pd.Series(mean_scores)), ("onehop_mwu", pd.Series(mwu_scores))):
        for level, names in planted.items():
            level_names = level_of.index[level_of == level]
            rows.append({"id": spec["id"], "method": method, "level": level, **rank_metrics(scores.loc[level_names], names)})
    for level, names in planted.items():
        n = int((level_of == level).sum())
        rows.append({"id": spec["id"], "method": "chance", "level": level, "n_level": n, "k": len(names), **chance(n, len(names))})
    info["total_s"] = time.perf_counter() - t0
    return rows, info


def _parse_ids(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


# ---------------------------------------------------------------- report


def _per_level_summary(ranks: pd.DataFrame, ids: list[int]) -> pd.DataFrame:
    sub = ranks[ranks["id"].isin(ids)]
    return (
        sub.groupby(["level", "method"])
        .agg(
            cohorts=("id", "nunique"),
            median_rank=("median_rank", "median"),
            mrr=("mrr", "median"),
            mean_mrr=("mrr", "mean"),
            precision_at_k=("precision_at_k", "median"),
            auroc=("auroc", "median"),
        )
        .reset_index()
    )


def judge(ranks: pd.DataFrame, runs: pd.DataFrame) -> tuple[list[str], dict]:
    planted_ids = runs.loc[runs["null"].fillna("").eq(""), "id"].tolist()
    null_ids = runs.loc[~runs["null"].fillna("").eq(""), "id"].tolist()
    sub = ranks[ranks["id"].isin(planted_ids)]
    lines, verdict = [], {}
    # Choose the one-hop comparator per level: the variant with the higher mean MRR over planted cohorts.
    comparator = {}
    for level, grp in sub[sub["method"].str.startswith("onehop")].groupby("level"):
        comparator[level] = grp.groupby("method")["mrr"].mean().idxmax()
    verdict["comparator"] = comparator
    for level in sorted(sub["level"].unique()):
        d = sub[(sub["level"] == level) & (sub["method"] == "deep")].set_index("id")
        o = sub[(sub["level"] == level) & (sub["method"] == comparator[level])].set_index("id")
        ids = d.index.intersection(o.index)
        wins = int((d.loc[ids, "median_rank"] < o.loc[ids, "median_rank"]).sum())
        diff = d.loc[ids, "mrr"] - o.loc[ids, "mrr"]
        p = wilcoxon(diff, alternative="greater", zero_method="wilcox").pvalue if (diff != 0).sum() > 0 else 1.0
        need = int(np.ceil(2 * len(ids) / 3))
        ok = wins >= need and p < 0.05 and diff.mean() > 0
        tag = "R1" if level == 1 else "secondary"
        lines.append(
            f"- level {level} ({tag}): deep's median planted rank lower than {comparator[level]} in {wins}/{len(ids)} cohorts "
            f"(need {need}); mean MRR difference {diff.mean():+.3f}, Wilcoxon one-sided p = {p:.4f} -> "
            f"{'MET' if ok else 'not met'}"
        )
        if level == 1:
            verdict["R1"] = ok
    for method in ["deep", *sorted(set(comparator.values()))]:
        for level in sorted(sub["level"].unique()):
            g = sub[(sub["level"] == level) & (sub["method"] == method)]
            n = int(g["n_level"].iloc[0]) if len(g["n_level"].unique()) == 1 else int(g["n_level"].median())
            ch = float(np.mean(1.0 / np.arange(1, n + 1)))
            r2 = g["median_rank"].median() <= 3
            r3 = (g["mrr"].median() >= 3 * ch and g["auroc"].median() >= 0.8) if n >= 10 else None
            verdict[(method, level, "R2")], verdict[(method, level, "R3")] = r2, r3
            lines.append(
                f"- {method}, level {level} (N={n}): R2 median of median ranks {g['median_rank'].median():g} -> "
                f"{'MET' if r2 else 'not met'}{' (trivial: 4 pathways)' if n <= 4 else ''}; R3 median MRR "
                f"{g['mrr'].median():.3f} vs 3x chance {3 * ch:.3f}, median AUROC {g['auroc'].median():.3f} -> "
                f"{'n/a (N<10)' if r3 is None else 'MET' if r3 else 'not met'}"
            )
    if null_ids:
        nr = runs[runs["id"].isin(null_ids)]
        nl = ranks[ranks["id"].isin(null_ids) & (ranks["method"] == "deep") & (ranks["level"] == 1)]
        auc_ok = bool((nr["deep_auc"] <= 0.6).all())
        hi = [bool(row.mrr >= 3 * float(np.mean(1.0 / np.arange(1, row.n_level + 1)))) for row in nl.itertuples()]
        r4 = auc_ok and not (len(hi) == 2 and all(hi))
        verdict["R4"] = r4
        lines.append(
            f"- R4 null cohorts {null_ids}: deep test AUC {', '.join(f'{a:.3f}' for a in nr['deep_auc'])} (need <= 0.6); "
            f"leaf MRR {', '.join(f'{m:.3f}' for m in nl['mrr'])} (>= 3x chance: {hi}) -> {'MET' if r4 else 'not met'}"
        )
    return lines, verdict


def figure(ranks: pd.DataFrame, runs: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    planted_ids = runs.loc[runs["null"].fillna("").eq(""), "id"].tolist()
    sub = ranks[ranks["id"].isin(planted_ids)]
    methods = [
        ("deep", "deep (edge IG into pathway)", "tab:blue"),
        ("onehop_mean", "one-hop + mean gene IG", "tab:orange"),
        ("onehop_mwu", "one-hop + Mann-Whitney", "tab:green"),
        ("chance", "chance", "grey"),
    ]
    levels = sorted(sub["level"].unique())
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    width = 0.2
    for j, (m, label, color) in enumerate(methods):
        for ax, metric in zip(axes[:2], ("mrr", "precision_at_k")):
            vals = [sub[(sub["method"] == m) & (sub["level"] == lv)][metric] for lv in levels]
            med = [v.median() for v in vals]
            x = np.arange(len(levels)) + (j - 1.5) * width
            ax.bar(x, med, width, color=color, label=label, alpha=0.85)
            for xi, v in zip(x, vals):
                ax.scatter(np.full(len(v), xi), v, s=8, color="k", alpha=0.5, zorder=3)
    for ax, title in zip(axes[:2], ("MRR of planted pathways (bar = median; dots = cohorts)", "precision@k (k = planted at level)")):
        ax.set_xticks(np.arange(len(levels)))
        ax.set_xticklabels([f"level {lv}\n{'(leaves)' if lv == 1 else ''}" for lv in levels])
        ax.set_ylim(0, 1.05)
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8, loc="upper left")
    # Paired leaf MRR, deep vs the better one-hop variant.
    d = sub[(sub["method"] == "deep") & (sub["level"] == 1)].set_index("id")["mrr"]
    best = max(("onehop_mean", "onehop_mwu"), key=lambda m: sub[(sub["method"] == m) & (sub["level"] == 1)]["mrr"].mean())
    o = sub[(sub["method"] == best) & (sub["level"] == 1)].set_index("id")["mrr"]
    ax = axes[2]
    ax.scatter(o.loc[d.index], d, color="tab:blue")
    for i in d.index:
        ax.annotate(str(i), (o.loc[i], d.loc[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.plot([0, 1.02], [0, 1.02], "k--", lw=0.8)
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"one-hop leaf MRR ({best})")
    ax.set_ylabel("deep leaf MRR")
    ax.set_title("Leaf pathways, paired by cohort (above diagonal = deep better)", fontsize=10)
    fig.suptitle(f"Planted pathway recovery, {len(planted_ids)} planted cohorts", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(ranks: pd.DataFrame, runs: pd.DataFrame, out: Path, png: Path, command: str, model_kwargs: dict) -> str:
    planted_ids = runs.loc[runs["null"].fillna("").eq(""), "id"].tolist()
    summary = _per_level_summary(ranks, planted_ids)
    verdict_lines, _ = judge(ranks, runs)
    lines = [
        "# Planted pathway recovery: deep prior vs one-hop + enrichment",
        "",
        "Design and decision rules: `bench/study_deep_hierarchy.md` (written before the runs). "
        f"Produced by `{command}`. Machine: {cpu_model()}, torch {torch.__version__}, Python {platform.python_version()}, "
        "OMP_NUM_THREADS=1, one process.",
        "",
        f"Cohorts run: {len(runs)} ({len(planted_ids)} planted, {len(runs) - len(planted_ids)} null). "
        f"Models: DeepGAMI `{model_kwargs}`, package defaults otherwise; IG with {IG_STEPS} steps on the training rows; "
        "test AUC on a stratified 20% split.",
        "",
        "## Per level, planted cohorts (medians over cohorts of the per-cohort value; mean MRR also shown)",
        "",
        "| level | method | cohorts | median planted rank | MRR | mean MRR | precision@k | AUROC |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary.itertuples():
        lines.append(
            f"| {r.level} | {r.method} | {r.cohorts} | {r.median_rank:g} | {r.mrr:.3f} | {r.mean_mrr:.3f} | {r.precision_at_k:.3f} | {r.auroc:.3f} |"
        )
    lines += [
        "",
        "## Decision rules",
        "",
        *verdict_lines,
        "",
        "## Test AUC per cohort",
        "",
        "| id | seed | difficulty | depth | causal | activation | null | deep | one-hop | L2 logistic | one-hop causal-gene AUROC | seconds |",
        "|---:|---:|---|---:|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in runs.itertuples():
        lines.append(
            f"| {r.id} | {r.seed} | {r.difficulty} | {r.depth} | {r.n_causal_pathways} | {r.pathway_activation} | {r.null if isinstance(r.null, str) else ''} | "
            f"{r.deep_auc:.3f} | {r.onehop_auc:.3f} | {r.lr_auc:.3f} | {r.onehop_gene_auroc:.3f} | {r.total_s:.0f} |"
        )
    p = runs[runs["id"].isin(planted_ids)]
    lines += [
        "",
        f"Planted cohorts, median [IQR] test AUC: deep {median_iqr(p['deep_auc'])}, one-hop {median_iqr(p['onehop_auc'])}, "
        f"L2 logistic {median_iqr(p['lr_auc'])}; paired deep - one-hop {median_iqr(p['deep_auc'] - p['onehop_auc'], signed=True)}.",
        "",
        "## Per cohort and level (ranks of each planted pathway)",
        "",
        "| id | level | N | k | deep ranks | one-hop mean ranks | one-hop MWU ranks |",
        "|---:|---:|---:|---:|---|---|---|",
    ]
    piv = (
        ranks[ranks["method"] != "chance"]
        .pivot_table(index=["id", "level", "n_level", "k"], columns="method", values="ranks", aggfunc="first")
        .reset_index()
    )
    for r in piv.itertuples():
        lines.append(f"| {r.id} | {r.level} | {r.n_level} | {r.k} | {r.deep} | {r.onehop_mean} | {r.onehop_mwu} |")
    lines += ["", f"Figure: `{png.name}`.", ""]
    text = "\n".join(lines)
    out.write_text(text)
    figure(ranks, runs, png)
    return text


def deep_leaf_mrr(ranks: pd.DataFrame, ids: list[int]) -> pd.Series:
    """The deep model's leaf-level MRR per cohort id, in the order of ``ids``."""
    return ranks[(ranks["method"] == "deep") & (ranks["level"] == 1)].set_index("id")["mrr"].reindex(ids)


def compare_arms(out_dir: Path) -> str:
    """The decision table of bench/study_deep_defaults.md: each deep arm against the registered
    arm on the 12 planted cohorts (leaf MRR, one-sided Wilcoxon; paired test AUC)."""
    planted = [c["id"] for c in COHORTS if not c.get("null")]
    base_ranks = pd.read_csv(out_dir / "hierarchy_ranks.csv")
    base_runs = pd.read_csv(out_dir / "hierarchy_runs.csv").set_index("id")

    lines = [
        "| arm | leaf median rank | leaf MRR (median) | MRR up in | Wilcoxon p (one-sided) | test AUC (median) | paired AUC difference | rule met |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    base_mrr = deep_leaf_mrr(base_ranks, planted)
    for arm in DEEP_ARMS:
        stem = "hierarchy" if arm == "registered" else f"hierarchy_{arm}"
        if not (out_dir / f"{stem}_ranks.csv").exists():
            continue
        ranks, runs = pd.read_csv(out_dir / f"{stem}_ranks.csv"), pd.read_csv(out_dir / f"{stem}_runs.csv").set_index("id")
        mrr = deep_leaf_mrr(ranks, planted)
        leaves = ranks[(ranks["method"] == "deep") & (ranks["level"] == 1) & ranks["id"].isin(planted)]
        auc_diff = (runs.loc[planted, "deep_auc"] - base_runs.loc[planted, "deep_auc"]).median()
        if arm == "registered":
            p, met = np.nan, "baseline"
        else:
            p = wilcoxon(mrr - base_mrr, alternative="greater").pvalue if (mrr != base_mrr).any() else 1.0
            met = "yes" if p < 0.05 and auc_diff >= -0.01 else "no"
        lines.append(
            f"| {arm} | {leaves['median_rank'].median():g} | {mrr.median():.3f} | {int((mrr > base_mrr).sum())}/{len(planted)} | "
            f"{p:.4f} | {runs.loc[planted, 'deep_auc'].median():.3f} | {auc_diff:+.3f} | {met} |"
        )
    return "\n".join(lines)


def compare_upper(out_dir: Path) -> str:
    """The decision table of bench/study_upper_activation.md: each arm against the rerun
    ``levels`` baseline on the 12 planted cohorts (paired test AUC and leaf MRR, one-sided
    Wilcoxon tests), from ``upper_<arm>_{runs,ranks}.csv``."""
    planted = [c["id"] for c in COHORTS if not c.get("null")]
    nulls = [c["id"] for c in COHORTS if c.get("null")]

    def load(arm: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return pd.read_csv(out_dir / f"upper_{arm}_ranks.csv"), pd.read_csv(out_dir / f"upper_{arm}_runs.csv").set_index("id")

    base_ranks, base_runs = load("levels")
    base_auc, base_mrr = base_runs.loc[planted, "deep_auc"], deep_leaf_mrr(base_ranks, planted)
    lines = [
        "| arm | test AUC (median) | paired AUC difference (median) | AUC up in | Wilcoxon p, AUC higher | "
        "leaf MRR (median) | leaf median rank | Wilcoxon p, MRR lower | rules 1-2 met | null cohorts: test AUC, leaf MRR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for arm in [a for a in DEEP_ARMS if a == "levels" or DEEP_ARMS[a][2] is not None]:
        if not (out_dir / f"upper_{arm}_runs.csv").exists():
            continue
        ranks, runs = load(arm)
        auc, mrr = runs.loc[planted, "deep_auc"], deep_leaf_mrr(ranks, planted)
        leaves = ranks[(ranks["method"] == "deep") & (ranks["level"] == 1) & ranks["id"].isin(planted)]
        null_cells = ", ".join(f"{runs.loc[i, 'deep_auc']:.3f} / {deep_leaf_mrr(ranks, [i]).iloc[0]:.3f}" for i in nulls if i in runs.index)
        if arm == "levels":
            p_auc, p_mrr, met, diff, up = np.nan, np.nan, "baseline", 0.0, "-"
        else:
            diff = float((auc - base_auc).median())
            p_auc = wilcoxon(auc - base_auc, alternative="greater").pvalue
            p_mrr = wilcoxon(mrr - base_mrr, alternative="less").pvalue if (mrr != base_mrr).any() else 1.0
            met = "yes" if diff > 0 and p_auc < 0.05 and p_mrr >= 0.05 else "no"
            up = f"{int((auc > base_auc).sum())}/{len(planted)}"
        lines.append(
            f"| {arm} | {auc.median():.3f} | {diff:+.3f} | {up} | {p_auc:.4f} | {mrr.median():.3f} | "
            f"{leaves['median_rank'].median():g} | {p_mrr:.4f} | {met} | {null_cells} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cohorts", default="0-13", help="cohort ids, e.g. 0-11,13")
    parser.add_argument(
        "--results-csv", default=str(HERE / "out" / "hierarchy_runs.csv"), help="per-cohort run table; ranks go to *_ranks.csv next to it"
    )
    parser.add_argument("--quick", action="store_true", help="tiny cohorts and epochs, outputs under /tmp (smoke test)")
    parser.add_argument("--report-only", action="store_true", help="rebuild the report and figure from the CSVs")
    parser.add_argument("--out", default=str(HERE / "results_hierarchy.md"))
    parser.add_argument(
        "--model",
        choices=("fast", "default", "nolasso"),
        default="fast",
        help="fast: n_members=5, null_members=0 (the registered arm); default: the package defaults (10 + 5 null "
        "members); nolasso: fast with edge_l1=0 for both models (exploratory, added after the results)",
    )
    parser.add_argument(
        "--deep-arm",
        choices=tuple(DEEP_ARMS),
        default="registered",
        help="the deep model's training choice (bench/study_deep_defaults.md); the one-hop model keeps --model's settings",
    )
    parser.add_argument("--compare-arms", action="store_true", help="print the decision table of bench/study_deep_defaults.md from saved runs")
    parser.add_argument("--compare-upper", action="store_true", help="print the decision table of bench/study_upper_activation.md from saved runs")
    args = parser.parse_args()
    if args.compare_arms:
        print(compare_arms(Path(args.results_csv).parent))
        return
    if args.compare_upper:
        print(compare_upper(Path(args.results_csv).parent))
        return
    torch.set_num_threads(1)
    deep_kwargs, data_lasso, upper = DEEP_ARMS[args.deep_arm]
    model = {"fast": MODEL, "default": {"random_state": 0, "verbose": False}, "nolasso": {**MODEL, "edge_l1": 0.0}}[args.model]
    sizes, model_kwargs = (QUICK_SIZES, {**model, "max_epochs": 5, "n_members": 2}) if args.quick else (SIZES, model)
    runs_csv = Path("/tmp/hierarchy_quick_runs.csv") if args.quick else Path(args.results_csv)
    ranks_csv = runs_csv.with_name(runs_csv.stem.replace("_runs", "") + "_ranks.csv")
    out = Path("/tmp/results_hierarchy_quick.md") if args.quick else Path(args.out)
    png = out.with_suffix(".png")
    runs_csv.parent.mkdir(parents=True, exist_ok=True)
    command = "python bench/bench_hierarchy.py " + " ".join(sys.argv[1:])
    if not args.report_only:
        specs = {c["id"]: c for c in COHORTS}
        for cid in _parse_ids(args.cohorts):
            spec = specs[cid]
            rows, info = run_cohort(spec, sizes, model_kwargs, deep_kwargs, data_lasso, upper)
            info = {**spec, **info, "difficulty": str(spec["difficulty"])}
            # Append per cohort, so a partial run still leaves its results.
            old_runs = pd.read_csv(runs_csv) if runs_csv.exists() else pd.DataFrame()
            old_ranks = pd.read_csv(ranks_csv) if ranks_csv.exists() else pd.DataFrame()
            if len(old_runs):
                old_runs, old_ranks = old_runs[old_runs["id"] != cid], old_ranks[old_ranks["id"] != cid]
            pd.concat([old_runs, pd.DataFrame([info])], ignore_index=True).sort_values("id").to_csv(runs_csv, index=False)
            pd.concat([old_ranks, pd.DataFrame(rows)], ignore_index=True).sort_values(["id", "method", "level"]).to_csv(ranks_csv, index=False)
            print(
                f"cohort {cid}: {info['total_s']:.0f}s (deep fit {info['deep_fit_s']:.0f}s explain {info['deep_explain_s']:.0f}s; "
                f"one-hop fit {info['onehop_fit_s']:.0f}s explain {info['onehop_explain_s']:.0f}s)",
                flush=True,
            )
    runs, ranks = pd.read_csv(runs_csv), pd.read_csv(ranks_csv)
    print(report(ranks, runs, out, png, command, model_kwargs))


if __name__ == "__main__":
    main()
