"""Modality dropout with three modalities: hide one (current) against keep one (pre-registered in
bench/study_modality_dropout.md).

Five TCGA settings (BRCA, KIPAN, LGG without a prior; BRCA with the one-hop pathway prior and
with the full Reactome hierarchy of bench/tcga_hierarchy.py), one `deepgami cv` job per outer
split (split seeds 0..repeats-1) and arm, DeepGAMI only; the data and jobs go under ``--work``
(nothing of the data is copied into this repository). ``keep_one`` replaces
``deepgami.training.hide_modalities`` for its jobs with the rule under test.

    OMP_NUM_THREADS=1 python bench/modality_dropout.py --work /tmp/modality_dropout --settings brca kipan lgg
    OMP_NUM_THREADS=1 python bench/modality_dropout.py --work /tmp/modality_dropout --settings brca_onehop brca_deep
    python bench/modality_dropout.py --work /tmp/modality_dropout --report   # the decision table
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import torch
from scipy.stats import wilcoxon
from threadpoolctl import threadpool_limits

import deepgami.training as training
from deepgami.adapters.tcga import load_tcga
from deepgami.config import load_config
from deepgami.workflow import run_cv_job

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tcga_hierarchy import EDGE, HEAD, deep_edges, feature_symbols, onehop_edges, toml_list  # noqa: E402

SETTINGS = ("brca", "kipan", "lgg", "brca_onehop", "brca_deep")
ARMS = ("hide_one", "keep_one")
MODALITIES = ("rna", "meth", "mirna")


def keep_one(observed: dict[str, torch.Tensor], rate: float, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The rule under test: with probability ``rate``, keep one random observed modality of a
    sample and hide the others. The kept one is the lowest-scored observed modality of the same
    draws the current rule uses (it hides the highest), so with two modalities the masks agree."""
    names = list(observed)
    stacked = torch.stack([observed[m] for m in names], dim=1)
    n_samples = stacked.shape[0]
    scores = torch.rand(n_samples, len(names), generator=generator).to(stacked.device)
    keeper = scores.masked_fill(~stacked, 2.0).argmin(dim=1)
    hide = (torch.rand(n_samples, generator=generator).to(stacked.device) < rate) & (stacked.sum(dim=1) > 1)
    kept = torch.zeros_like(stacked)
    kept[torch.arange(n_samples, device=stacked.device), keeper] = True
    hidden = torch.where(hide.view(-1, 1), stacked & kept, stacked)
    return {m: hidden[:, i] for i, m in enumerate(names)}


@contextmanager
def dropout_rule(arm: str):
    if arm == "hide_one":
        yield
        return
    original = training.hide_modalities
    training.hide_modalities = keep_one
    try:
        yield
    finally:
        training.hide_modalities = original


def write_data(work: Path, dataset: str) -> Path:
    """The dataset's tables (and for BRCA the prior tables) under ``work/<dataset>/data``."""
    data = work / dataset / "data"
    if (data / "labels.csv").is_file():
        return data
    data.mkdir(parents=True, exist_ok=True)
    tcga = load_tcga(dataset)
    for m, frame in tcga.modalities.items():
        frame.to_csv(data / f"{m}.csv", index_label="sample")
    tcga.labels.rename("label").to_csv(data / "labels.csv", index_label="sample")
    if dataset == "brca":
        symbols = feature_symbols(tcga.modalities)
        one = onehop_edges(symbols)
        deep, parents = deep_edges(symbols, None)
        for m in ("rna", "meth"):
            one[m].to_csv(data / f"onehop_{m}.csv", index=False)
            deep[m].to_csv(data / f"deep_{m}.csv", index=False)
        parents.to_csv(data / "deep_parent.csv", index=False)
    return data


def edges_text(setting: str) -> str:
    if setting == "brca_onehop":
        return "".join(EDGE.format(file=f"onehop_{m}.csv", source=m, target="pathway", relation="in_pathway") for m in ("rna", "meth"))
    if setting == "brca_deep":
        text = "".join(EDGE.format(file=f"deep_{m}.csv", source=m, target="pathway", relation="member_of") for m in ("rna", "meth"))
        return text + EDGE.format(file="deep_parent.csv", source="pathway", target="pathway", relation="parent")
    return ""


def run(work: Path, settings: list[str], repeats: int) -> None:
    for setting in settings:
        dataset = setting.split("_")[0]
        write_data(work, dataset)
        for r in range(repeats):
            for arm in ARMS:
                folder = work / dataset / setting / arm / f"seed{r}"
                if (folder / "cv" / "results.csv").is_file():
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                extra = "level_loss_weight = 1.0\n" if setting == "brca_deep" else ""
                text = HEAD.format(
                    arm=f"{setting} {arm}",
                    folds=3,
                    seed=r,
                    methods=toml_list(["deepgami"]),
                    model_extra=extra,
                    ablations=toml_list([]),
                    null_relations="",
                ) + edges_text(setting)
                depth = len(folder.relative_to(work / dataset).parts)
                (folder / "config.toml").write_text(text.replace('"../data/', '"' + "../" * depth + "data/"))
                tic = time.perf_counter()
                with dropout_rule(arm):
                    run_cv_job(load_config(folder / "config.toml"), folder / "cv")
                print(f"{setting} {arm} split {r}: {(time.perf_counter() - tic) / 60:.1f} min", flush=True)


def collect(work: Path) -> pd.DataFrame:
    """One row per setting, arm, split, modalities and metric (test rows of the outer split)."""
    parts = []
    for path in sorted(work.glob("*/*/*/seed*/cv/results.csv")):
        arm, seed = path.parts[-4], path.parts[-3]
        frame = pd.read_csv(path)
        frame = frame[(frame["fold"] == "test") & (frame["method"] == "deepgami")]
        parts.append(frame.assign(setting=path.parts[-5], arm=arm, split=int(seed[4:])))
    return pd.concat(parts, ignore_index=True)


def report(work: Path) -> str:
    table = collect(work)
    bacc = table[table["metric"] == "bacc"].pivot_table(index=["setting", "split", "modalities"], columns="arm", values="value")
    bacc = bacc.dropna()
    single = bacc[bacc.index.get_level_values("modalities").isin(MODALITIES)].groupby(level=["setting", "split"]).mean()
    joint = bacc.xs("all", level="modalities")
    d_single = single["keep_one"] - single["hide_one"]
    d_all = joint["keep_one"] - joint["hide_one"]
    p = wilcoxon(d_single, alternative="greater").pvalue if (d_single != 0).any() else 1.0
    met1 = d_single.mean() > 0 and p < 0.05
    met2 = d_all.mean() >= -0.01
    lines = [
        "| setting | split | BACC all: hide_one | keep_one | single-modality mean: hide_one | keep_one |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for (setting, split), row in single.iterrows():
        a = joint.loc[(setting, split)]
        lines.append(f"| {setting} | {split} | {a['hide_one']:.3f} | {a['keep_one']:.3f} | {row['hide_one']:.3f} | {row['keep_one']:.3f} |")
    per_modality = bacc.groupby(level=["setting", "modalities"]).mean()
    lines += ["", "Mean over splits, per setting and modalities (BACC hide_one -> keep_one):", ""]
    lines += [f"- {s}, {m}: {r['hide_one']:.3f} -> {r['keep_one']:.3f}" for (s, m), r in per_modality.iterrows()]
    auc = table[(table["metric"] == "auc") & (table["modalities"] == "all")].groupby(["setting", "arm"])["value"].mean().unstack()
    lines += ["", "AUC, all modalities (mean over splits):", ""]
    lines += [f"- {s}: {r['hide_one']:.3f} -> {r['keep_one']:.3f}" for s, r in auc.dropna().iterrows()]
    lines += [
        "",
        f"Units: {len(d_single)}. Rule 1 (single-modality BACC higher): mean difference {d_single.mean():+.3f}, "
        f"{int((d_single > 0).sum())}/{len(d_single)} up, one-sided Wilcoxon p = {p:.4f} -> {'met' if met1 else 'not met'}. "
        f"Rule 2 (all-modality BACC not lower by more than 0.01): mean difference {d_all.mean():+.3f} -> {'met' if met2 else 'not met'}. "
        f"Verdict: {'keep_one adopted' if met1 and met2 else 'hide_one stays'}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/modality_dropout"))
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--report", action="store_true", help="print the decision table from the finished jobs")
    args = parser.parse_args()
    if args.report:
        print(report(args.work))
        return
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    run(args.work, args.settings, args.repeats)


if __name__ == "__main__":
    main()
