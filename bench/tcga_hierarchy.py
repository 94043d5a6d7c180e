"""TCGA BRCA with the full Reactome hierarchy (binn) against its shuffled copies and the one-hop
pathway model, by `deepgami cv` on identical outer splits (pre-registered in
bench/study_tcga_hierarchy.md).

Writes the tables, edge files and configs into ``--work`` (outside the repository; nothing of the
data is copied into it), runs three `deepgami cv` jobs one after the other:

- ``deep``: the hierarchy prior (rna/meth -> lowest Reactome pathways -> parent pathways):
  DeepGAMI, the hierarchy-only shuffle (``null_relations = ["pathway-parent->pathway"]``) and the
  baselines ``logistic_l2``, ``late_fusion``, ``random_forest``;
- ``onehop``: tutorial 03's prior (features -> pathways of all levels, MIN_GENES = 5): DeepGAMI;
- ``deep_both``: the hierarchy prior, DeepGAMI and the shuffle of all three relations;

and writes the paired comparison to ``--out``.

    OMP_NUM_THREADS=1 python bench/tcga_hierarchy.py --work /tmp/tcga_hier --repeats 5 --folds 3

Follow-up (not registered): ``--level-loss-weight W`` reruns only the deep DeepGAMI arms with
``level_loss_weight = W`` written into their ``[model]`` (``--arms``: ``deep``, ``deep_shuffled``
(hierarchy shuffled), ``deep_both`` (hierarchy + membership shuffled)) into ``--work``/``--sub``
(default ``levels``), and pairs them with the one-hop and baseline results of the registered jobs
in ``--work`` (same split seeds; the report checks that the test rows agree):

    OMP_NUM_THREADS=1 python bench/tcga_hierarchy.py --work /tmp/tcga_hier --repeats 3 --folds 3 \
        --level-loss-weight 1.0 --arms deep deep_shuffled deep_both --out /tmp/tcga_hier/levels/results.md
"""

from __future__ import annotations

import argparse
import logging
import platform
import re
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats
from threadpoolctl import threadpool_limits

import deepgami.evaluation.cv as cvmod
from deepgami import MultiOmicsData
from deepgami.adapters.hierarchy import reactome_hierarchy_tables
from deepgami.adapters.reactome import load_reactome_gene_pathways
from deepgami.adapters.tcga import load_tcga
from deepgami.config import load_config
from deepgami.graph import RegulatoryGraph, hierarchy_levels
from deepgami.workflow import run_cv_job

MIN_GENES = 5  # tutorial 03
BASELINES = ["logistic_l2", "late_fusion", "random_forest"]
FOLLOW_ARMS = {"deep": "deep (hierarchy)", "deep_shuffled": "deep, hierarchy shuffled", "deep_both": "deep, hierarchy + membership shuffled"}
PARENT = "pathway-parent->pathway"
MEMBERSHIP = ["rna-member_of->pathway", "meth-member_of->pathway"]

HEAD = """\
# TCGA BRCA, {arm}; written by bench/tcga_hierarchy.py
[data]
labels = "../data/labels.csv"
[data.modalities.rna]
path = "../data/rna.csv"
[data.modalities.meth]
path = "../data/meth.csv"
[data.modalities.mirna]
path = "../data/mirna.csv"

[split]
test_fraction = 0.2
seed = {seed}

[model]
n_members = 5
null_members = 0
hidden_dims = [64]
{model_extra}
[cv]
folds = {folds}
repeats = 1
methods = {methods}
ablations = {ablations}
{null_relations}
[search.random_forest]
n_estimators = [300]
max_features = ["sqrt"]
"""

EDGE = """
[[graph.edges]]
path = "../data/{file}"
source = "{source}"
target = "{target}"
relation = "{relation}"
"""


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def feature_symbols(modalities: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """Feature -> gene symbol, as tutorial 03: RNA column before '_', methylation column as is."""
    return {
        "rna": pd.Series(modalities["rna"].columns.str.split("_").str[0], index=modalities["rna"].columns),
        "meth": pd.Series(modalities["meth"].columns, index=modalities["meth"].columns),
    }


def onehop_edges(symbols: dict[str, pd.Series]) -> dict[str, pd.DataFrame]:
    """Tutorial 03's prior: feature -> every pathway (all levels) with >= MIN_GENES mapped genes;
    of pathways with identical measured members the most specific (fewest Reactome genes) kept."""
    gene_pathways = load_reactome_gene_pathways(id_type="symbol", all_levels=True)
    edges = {}
    for m, sym in symbols.items():
        table = pd.DataFrame({"source": sym.index, "symbol": sym.to_numpy()})
        edges[m] = table.merge(gene_pathways.rename(columns={"source": "symbol"}), on="symbol")[["source", "target", "symbol"]]
    both = pd.concat(edges.values(), ignore_index=True)
    n_genes = both.groupby("target")["symbol"].nunique()
    pathway_size = gene_pathways.groupby("target").size()
    members = both.groupby("target")["source"].agg(lambda s: tuple(sorted(set(s))))
    candidates = n_genes[n_genes >= MIN_GENES].index
    kept, seen = [], set()
    for pathway in sorted(candidates, key=lambda p: (pathway_size[p], p)):
        if members[pathway] not in seen:
            seen.add(members[pathway])
            kept.append(pathway)
    return {m: e.loc[e["target"].isin(kept), ["source", "target"]].reset_index(drop=True) for m, e in edges.items()}


def deep_edges(symbols: dict[str, pd.Series], max_depth: int | None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Gene -> lowest pathway and pathway -> parent from binn, composed with feature -> symbol."""
    genes = sorted(set(symbols["rna"]) | set(symbols["meth"]))
    tables = reactome_hierarchy_tables(genes, max_depth=max_depth, leftover=False)
    membership = tables[0][0]
    parents = tables[1][0]
    edges = {}
    for m, sym in symbols.items():
        table = pd.DataFrame({"source": sym.index, "symbol": sym.to_numpy()})
        edges[m] = table.merge(membership.rename(columns={"source": "symbol"}), on="symbol")[["source", "target"]]
    return edges, parents


def graph_stats(graph: RegulatoryGraph, features: dict[str, pd.DataFrame], parents: pd.DataFrame | None) -> dict:
    """Pathways, edges per relation, features with an edge, and for a hierarchy the pathways per
    level (0 = no child pathway, else 1 + the highest child's, as the model walks them) and roots."""
    summary = graph.summary()
    out = {
        "pathways": graph.num_nodes("pathway"),
        "edges": {f"{r.source}-{r.relation}->{r.target}": int(r.n_edges) for r in summary.itertuples()},
        "genes_with_edges": {m: int(e["source"].nunique()) for m, e in features.items()},
    }
    if parents is not None:
        levels = pd.Series(hierarchy_levels(graph, ("pathway", "parent", "pathway")).numpy())
        out["levels"] = levels.value_counts().sort_index().to_dict()
        out["roots"] = len(set(parents["target"]) - set(parents["source"]))
        out["fed"] = int(pd.concat(features.values())["target"].nunique())
    return out


def paired(a: pd.Series, b: pd.Series) -> dict:
    pair = pd.concat([a, b], axis=1, keys=["a", "b"]).dropna()
    d = pair["a"] - pair["b"]
    n = len(d)
    mean = d.mean()
    if n > 1 and d.std(ddof=1) > 0:
        half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)
        p = stats.ttest_rel(pair["a"], pair["b"]).pvalue
    else:
        half, p = np.nan, np.nan
    return {"n": n, "mean": mean, "lo": mean - half, "hi": mean + half, "p": p}


def verdict(row: dict, better: str, worse: str) -> str:
    if np.isnan(row["lo"]):
        return "no interval (fewer than 2 splits)"
    if row["lo"] > 0:
        return f"{better} better (interval above 0)"
    if row["hi"] < 0:
        return f"{worse} better (interval below 0)"
    return "no detectable difference (interval contains 0)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/tcga_hier"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--max-depth", type=int, default=None, help="Reactome depth cut (default: the full hierarchy)")
    parser.add_argument("--runs", nargs="+", default=["deep", "onehop", "deep_both"])
    parser.add_argument("--out", type=Path, default=Path("bench/results_tcga_hierarchy.md"))
    parser.add_argument(
        "--level-loss-weight",
        type=float,
        default=None,
        help="follow-up: rerun only the deep DeepGAMI arms (--arms) with this level_loss_weight "
        "into --work/--sub; one-hop and baselines are read from the registered jobs in --work",
    )
    parser.add_argument("--arms", nargs="+", choices=list(FOLLOW_ARMS), default=list(FOLLOW_ARMS), help="follow-up only: which deep arms to rerun")
    parser.add_argument("--sub", default="levels", help="follow-up only: subfolder of --work for the reruns")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    started = time.perf_counter()

    brca = load_tcga("brca")
    data = args.work / "data"
    data.mkdir(parents=True, exist_ok=True)
    for m, frame in brca.modalities.items():
        frame.to_csv(data / f"{m}.csv", index_label="sample")
    brca.labels.rename("label").to_csv(data / "labels.csv", index_label="sample")
    symbols = feature_symbols(brca.modalities)

    one = onehop_edges(symbols)
    deep, parents = deep_edges(symbols, args.max_depth)
    for m in ("rna", "meth"):
        one[m].to_csv(data / f"onehop_{m}.csv", index=False)
        deep[m].to_csv(data / f"deep_{m}.csv", index=False)
    parents.to_csv(data / "deep_parent.csv", index=False)
    names = {m: brca.modalities[m].columns for m in ("rna", "meth")}
    g_one = RegulatoryGraph.from_edge_tables([(one[m], m, "pathway", "in_pathway") for m in ("rna", "meth")], node_names=names)
    g_deep = RegulatoryGraph.from_edge_tables(
        [*[(deep[m], m, "pathway", "member_of") for m in ("rna", "meth")], (parents, "pathway", "pathway", "parent")], node_names=names
    )
    sizes = {"onehop": graph_stats(g_one, one, None), "deep": graph_stats(g_deep, deep, parents)}
    print(sizes, flush=True)

    edges_one = "".join(EDGE.format(file=f"onehop_{m}.csv", source=m, target="pathway", relation="in_pathway") for m in ("rna", "meth"))
    edges_deep = "".join(EDGE.format(file=f"deep_{m}.csv", source=m, target="pathway", relation="member_of") for m in ("rna", "meth"))
    edges_deep += EDGE.format(file="deep_parent.csv", source="pathway", target="pathway", relation="parent")
    runs = {
        "deep": (edges_deep, ["deepgami", *BASELINES], ["shuffle"], [PARENT]),
        "onehop": (edges_one, ["deepgami"], [], None),
        "deep_both": (edges_deep, ["deepgami"], ["shuffle"], [PARENT, *MEMBERSHIP]),
    }
    root, model_extra, skip_plain = args.work, "", {"deep_both"}
    if args.level_loss_weight is not None:  # follow-up: the deep DeepGAMI arms only, no baselines
        root, model_extra = args.work / args.sub, f"level_loss_weight = {args.level_loss_weight!r}\n"
        runs = {}
        if "deep" in args.arms or "deep_shuffled" in args.arms:
            shuffled = "deep_shuffled" in args.arms
            runs["deep"] = (edges_deep, ["deepgami"], ["shuffle"] if shuffled else [], [PARENT] if shuffled else None)
            if "deep" not in args.arms:
                skip_plain.add("deep")
        if "deep_both" in args.arms:
            runs["deep_both"] = (edges_deep, ["deepgami"], ["shuffle"], [PARENT, *MEMBERSHIP])
        args.runs = list(runs)
    seconds: dict[str, float] = {}
    for r in range(args.repeats):
        for name in args.runs:
            edges, methods, ablations, nulls = runs[name]
            folder = root / name / f"seed{r}"
            if (folder / "cv" / "results.csv").is_file():
                print(f"{name} split {r}: reusing {folder / 'cv'}", flush=True)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            null_line = f"null_relations = {toml_list(nulls)}\n" if nulls else ""
            text = (
                HEAD.format(
                    arm=name,
                    folds=args.folds,
                    seed=r,
                    methods=toml_list(methods),
                    model_extra=model_extra,
                    ablations=toml_list(ablations),
                    null_relations=null_line,
                )
                + edges
            )
            data_rel = '"' + "../" * len(folder.relative_to(args.work).parts) + "data/"
            (folder / "config.toml").write_text(text.replace('"../data/', data_rel))
            tic = time.perf_counter()
            with _without_plain_deepgami(name in skip_plain):
                run_cv_job(load_config(folder / "config.toml"), folder / "cv")
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - tic
            print(f"{name} split {r}: {(time.perf_counter() - tic) / 60:.1f} min", flush=True)
        write_report(args, brca, sizes, seconds, started)


@contextmanager
def _without_plain_deepgami(active: bool):
    """In the ``deep_both`` run, leave out the plain ``deepgami`` candidate (arm 2, already fitted
    in the ``deep`` run with the same seeds) so only its shuffled copy is fitted: `[cv] ablations`
    need ``deepgami`` among the methods, so the config names it and this filter drops its fit."""
    if not active:
        yield
        return
    original = cvmod.candidates
    cvmod.candidates = lambda settings, graph: [c for c in original(settings, graph) if c.name != "deepgami"]
    try:
        yield
    finally:
        cvmod.candidates = original


def write_report(args, brca, sizes, seconds, started) -> None:
    # ------------------------------------------------------------------ collect
    follow = args.level_loss_weight is not None
    folders = {name: args.work / name for name in args.runs}  # run -> folder of its seed{r} jobs
    if follow:  # reruns of the deep arms; one-hop and baselines from the registered jobs
        folders = {
            **{f"{name}_levels": args.work / args.sub / name for name in args.runs},
            "deep": args.work / "deep",
            "onehop": args.work / "onehop",
        }
    results = {}
    for name, root in folders.items():
        parts = []
        for r in range(args.repeats):
            path = root / f"seed{r}" / "cv" / "results.csv"
            if path.is_file():
                parts.append(pd.read_csv(path).assign(split=r))  # each job is one split: [split] seed = r
        if parts:
            results[name] = pd.concat(parts, ignore_index=True)
    tag = "_levels" if follow else ""
    arms = {  # arm label -> (run, method)
        "deep (hierarchy)": (f"deep{tag}", "deepgami"),
        "deep, hierarchy shuffled": (f"deep{tag}", "deepgami_shuffle_graph"),
        "deep, hierarchy + membership shuffled": (f"deep_both{tag}", "deepgami_shuffle_graph"),
        "one-hop (tutorial 03)": ("onehop", "deepgami"),
        **{b: ("deep", b) for b in BASELINES},
    }
    if follow:
        arms = {k: v for k, v in arms.items() if k not in FOLLOW_ARMS.values() or k in [FOLLOW_ARMS[a] for a in args.arms]}
    arms = {k: v for k, v in arms.items() if v[0] in results and (results[v[0]]["method"] == v[1]).any()}
    test = {name: r[r["fold"] == "test"] for name, r in results.items()}
    split_sets = {name: tuple(sorted(t["split"].unique())) for name, t in test.items()}
    # each job is one split with [split] seed = r: check that its split is outer split r of one seed-0 run
    data = MultiOmicsData(brca.modalities, brca.labels)
    joint = cvmod.outer_splits(data, cvmod.CVSettings(split_seed=0, test_fraction=0.2), args.repeats)
    same = all(
        np.array_equal(cvmod.outer_splits(data, cvmod.CVSettings(split_seed=r, test_fraction=0.2), 1)[0][1], joint[r][1]) for r in range(args.repeats)
    )

    def score(arm: str, metric: str, modalities: str = "all") -> pd.Series:
        run, method = arms[arm]
        t = test[run]
        s = t[(t["method"] == method) & (t["modalities"] == modalities) & (t["metric"] == metric)]
        return s.set_index("split")["value"].sort_index()

    command = (
        f"`OMP_NUM_THREADS=1 python bench/tcga_hierarchy.py --work {args.work} --repeats {args.repeats} --folds {args.folds}"
        f"{'' if args.max_depth is None else f' --max-depth {args.max_depth}'}"
    )
    if follow:
        command += f" --level-loss-weight {args.level_loss_weight!r} --arms {' '.join(args.arms)} --sub {args.sub} --out {args.out}"
    command += "`"
    lines = [
        (
            "# TCGA BRCA: the full Reactome hierarchy against shuffled copies and the one-hop pathway model\n"
            if not follow
            else f"# TCGA BRCA follow-up (not registered): deep arms rerun with level_loss_weight = {args.level_loss_weight!r}; "
            "one-hop and baselines from the registered jobs\n"
        ),
        f"Pre-registration: `bench/study_tcga_hierarchy.md`. Code: `{_git()}` plus the working tree. Machine: "
        f"{platform.processor() or platform.machine()}, 2 cores shared, 1 torch thread, torch {torch.__version__}. Command: "
        f"{command}; total wall time "
        f"{(time.perf_counter() - started) / 60:.1f} min in this invocation; wall time per job (one run, one split, from its "
        f"summary.md): {_job_times(args, folders)}.\n",
        f"{len(brca.labels)} patients, classes {brca.labels.value_counts().sort_index().to_dict()}; "
        f"{args.repeats} outer stratified 80/20 splits (seeds 0-{args.repeats - 1}), {args.folds} inner folds; splits per run: "
        f"{ {k: len(v) for k, v in split_sets.items()} } (identical split seeds in every run; the test rows of the job with seed r "
        f"{'equal' if same else 'DIFFER from'} those of outer split r of one seed-0 run with {args.repeats} repeats). "
        "DeepGAMI: 5 members, no null members, hidden_dims [64], untuned; random_forest fixed (300 trees, sqrt).\n",
        "## Priors\n",
        "| prior | pathways | edges per relation | features with an edge | pathways per level (0 = no child pathway; by height) |",
        "|---|---:|---|---|---|",
    ]
    for name, s in sizes.items():
        edges = "; ".join(f"{k} {v}" for k, v in s["edges"].items())
        genes = ", ".join(f"{k} {v}" for k, v in s["genes_with_edges"].items())
        levels = " / ".join(str(v) for v in s.get("levels", {}).values()) or "one level"
        if "roots" in s:
            levels += f"; {s['roots']} roots (no parent), {s['fed']} pathways fed by features"
        lines.append(f"| {name} | {s['pathways']} | {edges} | {genes} | {levels} |")
    lines.append(
        "\nmiRNA (100 features) has no edge in either prior: fully connected to the pathway latents where the modalities meet "
        "(in the deep prior, from 694cc52 on, to the lowest level of the hierarchy only; bench/study_dense_modality_deep.md).\n"
    )

    lines += [
        "## Test scores, all modalities (mean ± sd over splits)\n",
        "| arm | BACC | macro-F1 | AUC | BACC rna only | BACC meth only | BACC mirna only | per split BACC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm in arms:
        cells = []
        for metric, mods in (("bacc", "all"), ("f1", "all"), ("auc", "all"), ("bacc", "rna"), ("bacc", "meth"), ("bacc", "mirna")):
            v = score(arm, metric, mods)
            cells.append(f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else (f"{v.mean():.3f}" if len(v) else "—"))
        per = " ".join(f"{x:.3f}" for x in score(arm, "bacc"))
        lines.append(f"| {arm} | {' | '.join(cells)} | {per} |")

    comparisons = [
        ("H1", "deep (hierarchy)", "deep, hierarchy shuffled"),
        ("H1b", "deep (hierarchy)", "deep, hierarchy + membership shuffled"),
        ("H2", "deep (hierarchy)", "one-hop (tutorial 03)"),
        ("—", "one-hop (tutorial 03)", "logistic_l2"),
        ("—", "deep (hierarchy)", "logistic_l2"),
    ]
    lines += [
        "\n## Paired differences (first - second; mean and 95 % t-interval over splits, paired t p)\n",
        "| rule | first | second | ΔBACC [95 % CI] | p | ΔF1 [95 % CI] | ΔAUC [95 % CI] | BACC verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule, a, b in comparisons:
        if a not in arms or b not in arms:
            continue
        cells = {}
        for metric in ("bacc", "f1", "auc"):
            cells[metric] = paired(score(a, metric), score(b, metric))
        fmt = lambda r: f"{r['mean']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}]"  # noqa: E731
        lines.append(
            f"| {rule} | {a} | {b} | {fmt(cells['bacc'])} | {cells['bacc']['p']:.3g} | {fmt(cells['f1'])} | "
            f"{fmt(cells['auc'])} | {verdict(cells['bacc'], a, b)} |"
        )

    tuning = {
        name: (args.work / name / "seed0" / "cv" / "summary.md").read_text().split("## How each method was tuned", 1)[-1].split("\n## ", 1)[0]
        for name in results
        if (args.work / name / "seed0" / "cv" / "summary.md").is_file()
    }
    lines.append("\nHow each method was tuned (from the `deep` job of split 0):" + tuning.get("deep", ""))
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _job_times(args, folders: dict[str, Path]) -> str:
    cells = []
    for name, root in folders.items():
        times = []
        for r in range(args.repeats):
            path = root / f"seed{r}" / "cv" / "summary.md"
            if path.is_file():
                found = re.search(r"wall time (\d+) s", path.read_text())
                times.append(found.group(1) if found else "?")
        cells.append(f"{name} {'/'.join(times) or '-'} s")
    return "; ".join(cells)


def _git() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    main()
