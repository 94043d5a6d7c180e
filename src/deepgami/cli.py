"""Command-line interface: ``deepgami demo | fit | predict``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

from . import __version__
from .config import load_config
from .errors import InputError, preview

log = logging.getLogger("deepgami")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepgami",
        description="Biologically guided multi-modal phenotype prediction (DeepGAMI).",
    )
    parser.add_argument("--version", action="version", version=f"deepgami {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or log lines; results and errors still print")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="simulate the embedded default cohort and run `fit` on it")
    demo.add_argument("--out", required=True, type=Path, help="run folder to write")
    _overwrite_flag(demo)

    fit = commands.add_parser("fit", help="train and evaluate from a TOML config")
    fit.add_argument("config", type=Path, help="TOML config (see README)")
    fit.add_argument("--out", required=True, type=Path, help="run folder to write")
    _overwrite_flag(fit)
    fit.add_argument(
        "--resume", action="store_true", help="go on from the checkpoint an interrupted fit left in <out>.checkpoint (same config)"
    )
    fit.add_argument(
        "--distributed",
        action="store_true",
        help="train in the torchrun process group (automatic when torchrun starts more than one process)",
    )

    cv = commands.add_parser("cv", help="nested cross-validation: DeepGAMI, baselines and ablations on the same splits")
    cv.add_argument("config", type=Path, help="TOML config with optional [cv], [search], [preprocessing] tables")
    cv.add_argument("--out", required=True, type=Path, help="folder to write results.csv, summary.md and ROC plots")
    _overwrite_flag(cv)
    cv.add_argument("--repeats", type=int, help="repeated random outer splits (overrides [cv] repeats)")
    cv.add_argument("--resume", action="store_true", help="keep the (split, method) results an interrupted cv left in <out>.checkpoint")

    explain = commands.add_parser("explain", help="prioritise features, latent nodes and prior edges of a trained run")
    explain.add_argument("run", type=Path, help="run folder written by `fit`")
    explain.add_argument("--out", required=True, type=Path, help="folder to write the attributions, networks and figures")
    _overwrite_flag(explain)
    explain.add_argument("--samples", choices=("test", "all"), default="test", help="samples to explain (default: test)")
    explain.add_argument(
        "--modality", action="append", metavar="NAME", help="explain prediction from these modalities only (repeat)"
    )
    explain.add_argument("--n-steps", type=int, default=50, help="integration steps (default: 50)")
    explain.add_argument("--baseline", choices=("zeros", "mean"), default="zeros", help="input baseline (default: zeros)")
    explain.add_argument("--output", choices=("proba", "logit"), default="proba", help="class score to attribute")
    explain.add_argument("--top-fraction", type=float, default=0.1, help="share of edges in the prioritised network")
    explain.add_argument(
        "--max-q-value", type=float, default=None, metavar="Q",
        help="instead of --top-fraction, keep the edges with q_value <= Q (models with null members)",
    )  # fmt: skip
    explain.add_argument("--gmt", type=Path, help="gene-set file (GMT) for enrichment of prioritised genes")

    predict = commands.add_parser("predict", help="predict with a trained run from any subset of its modalities")
    predict.add_argument("run", type=Path, help="run folder written by `fit` (or its model/ folder)")
    predict.add_argument(
        "--modality", action="append", required=True, metavar="NAME=PATH", help="a modality table; repeat per modality"
    )
    predict.add_argument("--out", required=True, type=Path, help="predictions CSV to write")
    predict.add_argument(
        "--covariates", type=Path, metavar="PATH", help="the samples' covariates (sample id, then columns); needed by a model fitted with them"
    )
    return parser


def _overwrite_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--overwrite", action="store_true", help="replace the files of an existing, non-empty --out folder")


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out folder that already holds files, unless --overwrite."""
    out = args.out
    if getattr(args, "overwrite", True) or not out.is_dir():
        return
    entries = sorted(p.name for p in out.iterdir())
    if entries:
        msg = f"--out {out} already holds {len(entries)} entries ({preview(entries)}); pass --overwrite to replace them, or choose another folder"
        raise InputError(msg)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.INFO, format="deepgami: %(message)s", stream=sys.stderr
    )
    logging.captureWarnings(True)
    # A warning is one line naming the problem, not the source file and line that raised it.
    warnings.formatwarning = lambda message, category, *_, **__: f"warning: {message}"
    try:
        if args.command != "fit" and os.environ.get("WORLD_SIZE", "1") != "1":
            msg = f"`deepgami {args.command}` runs in one process; only `deepgami fit` can be launched by torchrun"
            raise InputError(msg)
        _check_out(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "fit":
            return _fit(args.config, args.out, quiet=args.quiet, distributed=args.distributed, resume=args.resume)
        if args.command == "cv":
            return _cv(args)
        if args.command == "explain":
            return _explain(args)
        return _predict(args)
    except InputError as error:
        print(f"deepgami: error: {error}", file=sys.stderr)
        return 2


def _demo(args: argparse.Namespace) -> int:
    from .simulate import simulate_cohort

    cohort = simulate_cohort()
    config = cohort.write(args.out / "cohort")
    log.info("simulated cohort: %d samples, %d SNPs, %d TFs, %d eQTL and %d GRN edges -> %s",
             len(cohort.labels), cohort.snp.shape[1], cohort.tf.shape[1], len(cohort.eqtl), len(cohort.grn), config)
    return _fit(config, args.out, quiet=args.quiet)


def _fit(config_path: Path, out: Path, *, quiet: bool, distributed: bool = False, resume: bool = False) -> int:
    from . import distributed as dist
    from .params import DEFAULTS
    from .workflow import run_fit

    config = load_config(config_path)
    main_process = True
    if distributed or dist.launched_by_torchrun():
        if "RANK" not in os.environ or "MASTER_ADDR" not in os.environ:
            msg = "--distributed needs the environment torchrun sets; launch with: torchrun --nproc-per-node N -m deepgami fit ..."
            raise InputError(msg)
        dist.init_from_environment(config.estimator_params.get("device", DEFAULTS["device"]))
        main_process = dist.is_main_process()
        # torchrun --max-restarts starts the worker group again after a failure: go on from the checkpoint.
        resume = resume or os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") != "0"
        if not main_process:
            quiet = True
            logging.getLogger().setLevel(logging.ERROR)
    try:
        result = run_fit(config, out, progress=not quiet, resume=resume)
    finally:
        dist.shutdown()
    if main_process:
        print(_report(result.metrics, out, result.seconds, result.model.task_))
    return 0


def _cv(args: argparse.Namespace) -> int:
    from .workflow import run_cv_job

    if args.repeats is not None and args.repeats < 1:
        msg = f"--repeats must be at least 1 (got {args.repeats})"
        raise InputError(msg)
    from .evaluation.cv import HEADLINE

    config = load_config(args.config)
    result, seconds = run_cv_job(config, args.out, repeats=args.repeats, progress=not args.quiet, resume=args.resume)
    metric, name = HEADLINE[config.task]
    table = result.summary[(result.summary["modalities"] == "all") & (result.summary["metric"] == metric)]
    label = {"bacc": "balanced accuracy"}.get(metric, name)
    print(f"test {label}, all modalities (mean ± sd over {int(table['n_splits'].max())} split(s)); {seconds:.0f} s:")
    width = max(len(m) for m in table["method"]) + 2
    for row in table.itertuples():
        mean = "n/a" if row.mean != row.mean else f"{row.mean:.3f}"
        print(f"  {row.method:<{width}} {mean} ± {0.0 if row.sd != row.sd else row.sd:.3f}")
    figures = {"classification": "roc_*.png", "regression": "predicted_vs_observed_*.png", "survival": "kaplan_meier_*.png"}[config.task]
    print(f"wrote {args.out}/results.csv, summary.md, {figures}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from .workflow import run_explain

    explanation = run_explain(
        args.run, args.out, samples=args.samples, use_modalities=args.modality, baseline=args.baseline,
        n_steps=args.n_steps, output=args.output, top_fraction=args.top_fraction, max_q_value=args.max_q_value, gmt=args.gmt, progress=not args.quiet,
    )
    print(f"explained {explanation.settings['n_samples']} samples; completeness per class:")
    for label, gaps in explanation.completeness.items():
        edge_gap = gaps.get("edges_relative_gap")
        edge_text = f", edge attributions relative gap {edge_gap:.2%}" if edge_gap is not None else ""
        print(f"  {label}: feature IG max |delta| {gaps['features_max_abs_delta']:.2e}{edge_text}")
    for label in explanation.edges["class"].unique():
        top = explanation.edges[explanation.edges["class"] == label].head(3)
        links = ", ".join(f"{s}->{t}" for s, t in zip(top["source"], top["target"]))
        print(f"  top links for {label}: {links}")
        q = explanation.edges.loc[explanation.edges["class"] == label, "q_value"]
        if q.notna().any():
            print(f"  {label}: {int((q <= 0.1).sum())} of {len(q)} edges with q_value <= 0.1 (permuted-label null members)")
    networks = ", networks/" if len(explanation.edges) else " (no prior edges: edges.csv is empty, no networks)"
    print(f"wrote {args.out}/edges.csv, features.csv, latents.csv, explain.json{networks} and figures")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .workflow import run_predict

    tables = {}
    for item in args.modality:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            msg = f"--modality expects NAME=PATH (got {item!r})"
            raise InputError(msg)
        if name in tables:
            msg = f"--modality {name} is given twice"
            raise InputError(msg)
        tables[name] = Path(path)
    predictions = run_predict(args.run, tables, args.out, covariates=args.covariates)
    print(f"wrote {len(predictions)} predictions from {', '.join(tables)} to {args.out}")
    return 0


# The test-set table `deepgami fit` prints, per task: (metrics.json key, column width, decimals).
REPORT_COLUMNS = {
    "classification": [("acc", 6, 3), ("bacc", 6, 3), ("auc", 6, 3), ("f1", 6, 3)],
    "regression": [("r2", 6, 3), ("pearson", 7, 3), ("spearman", 8, 3), ("mae", 9, 4), ("rmse", 9, 4)],
    "survival": [("c_index", 7, 3), ("c_index_uno", 11, 3), ("integrated_brier_score", 22, 3)],
}


def _report(metrics: dict, out: Path, seconds: float, task) -> str:
    from .workflow import figure_names

    lines = [f"test set ({metrics['n_test']} samples; trained on {metrics['n_train']}, {metrics['epochs']} epochs, {seconds:.1f} s):"]
    targets = task.targets if task.kind == "multi" else {None: task}
    for name, sub in targets.items():
        if name is not None:
            lines.append(f" target {name} ({sub.kind}):")
        lines += _metric_table(metrics["test"], sub, name)
    if task.kind != "classification":
        lines.append("  (95 % bootstrap intervals in metrics.json)")
    figures = ", ".join(f"{out}/{f}" for f in figure_names(task))
    lines.append(f"wrote {out}/metrics.json, {out}/predictions.csv, {figures}, {out}/model/, {out}/config.toml")
    return "\n".join(lines)


def _metric_table(test: dict, task, target: str | None) -> list[str]:
    """One task's test metrics, a row per modality set (a target's block of several targets)."""
    labels = {name: "all" if name == "all" else f"{name} only" for name in test}
    width = max(12, *(len(label) for label in labels.values()))
    columns = REPORT_COLUMNS[task.kind]
    lines = [f"  {'modalities':<{width}} " + " ".join(f"{key:>{w}}" for key, w, _ in columns)]
    for name, block in test.items():
        row = block[target] if target is not None else block
        cells = ("n/a" if row[key] is None else f"{row[key]:.{d}f}" for key, _, d in columns)
        lines.append(f"  {labels[name]:<{width}} " + " ".join(f"{cell:>{w}}" for cell, (_, w, _) in zip(cells, columns)))
    if task.kind == "classification" and task.n_outputs > 2:
        lines.append("  (auc: macro-averaged one-vs-rest, as in metrics.json and roc.png)")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
