"""Scaling curve: time per epoch and peak memory as the number of SNPs grows, deepgami vs reference.

For each number of SNPs (default 10^3, 10^4, 10^5, 10^6) a random cohort is drawn: ``--samples``
samples (default 256), genotypes 0/1/2, ``--edges-per-snp`` (default 5) unique random eQTL edges
per SNP into ``--genes`` genes (default 20,000), plus a small second modality, ``--tfs`` TFs
(default 208) with ``--grn-edges`` GRN edges (default 57,000; every gene gets at least one).
``DeepGAMIClassifier`` trains ``--epochs`` epochs (batch ``--batch-size``, default 64, so an epoch is
a few steps; no early stopping), once as the package is (deepgami) and once with the dense masked
reference of the original DeepGAMI (``W`` n_features x n_genes, 0/1 mask ``M``,
``act(x @ (W * M) + b)``; see ``bench_fit.py``, whose model classes, data generator, epoch
clock and child runner this script reuses).

Every (size, model) point runs in its own child process under a hard address-space cap
(``RLIMIT_AS``, ``--mem-cap-gb``, default 16 GB), so the reference fails with an allocation error
instead of taking down a shared machine; such points are recorded as "out of memory (needs ~X
GB)", X computed from the shapes: one training step of the dense layer holds about 7 float32
arrays of n_features x n_genes (W, M, W * M saved for backward, its gradient, W's gradient, and
Adam's two moments), for the SNP and the TF relation.

Time per epoch: median over epochs 2..N of one fit (epoch 1 is a warm-up). Peak memory:
``ru_maxrss`` of the child (data included; the RSS after the data were built is listed too).
Writes a markdown table (``--out``) and a log-log plot (``--plot``) of both against the number of
SNPs, out-of-memory points marked.

Usage: python bench/bench_scaling.py [--snps 1000 10000 100000 1000000] [--threads 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_fit import GIB, OtherLoad, command_line, machine_info, run_child  # noqa: E402

DENSE_ARRAYS = 7  # float32 n_features x n_genes arrays alive in one dense training step (see docstring)


def dense_need_gb(n_features: int, n_genes: int) -> float:
    return DENSE_ARRAYS * 4 * n_features * n_genes / 1e9


def fmt_gb(gb: float) -> str:
    return f"{gb:,.0f}" if gb >= 10 else f"{gb:.1f}" if gb >= 1 else f"{gb:.2f}"


def plot(rows: list[dict], args, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.8))
    styles = {"deepgami": dict(color="tab:blue", marker="o", label="deepgami (one weight per edge)"),
              "reference": dict(color="tab:red", marker="s", label="dense masked reference, X (W ⊙ M) + b")}
    for method, style in styles.items():
        ok = [r for r in rows if not r[method].get("oom")]
        xs = [r["n_snps"] for r in ok]
        ax_t.plot(xs, [r[method]["median_epoch_s"] for r in ok], **style)
        ax_m.plot(xs, [r[method]["peak_rss_mib"] / 1024 for r in ok], **style)
    oom = [r for r in rows if r["reference"].get("oom")]
    if oom:
        xs = [r["n_snps"] for r in oom]
        needs = [r["need_gb"] * 1e9 / GIB for r in oom]
        ax_m.plot(xs, needs, ls="none", marker="x", ms=10, mew=2, color="tab:red", label="reference: out of memory (estimated need)")
        for x, need in zip(xs, needs):
            ax_m.annotate(f"OOM\n~{fmt_gb(need * GIB / 1e9)} GB", (x, need), textcoords="offset points", xytext=(-12, -30),
                          ha="right", fontsize=8, color="tab:red")
        for x in xs:
            ax_t.axvline(x, color="tab:red", ls=":", lw=1)
            ax_t.annotate("reference:\nout of\nmemory", (x, 0.5), xycoords=("data", "axes fraction"), textcoords="offset points",
                          xytext=(-4, 0), ha="right", va="center", fontsize=8, color="tab:red")
    ax_m.axhline(args.mem_cap_gb * 1e9 / GIB, color="grey", ls="--", lw=1, label=f"memory cap ({args.mem_cap_gb:g} GB)")
    for ax, title, unit in ((ax_t, "Time per training epoch", "seconds"), (ax_m, "Peak memory (RSS)", "GiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"number of SNPs (~{args.edges_per_snp} eQTL edges each, {args.genes:,} genes)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    handles, labels = ax_m.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.suptitle(f"{args.samples} samples, batch {args.batch_size}, + {args.tfs} TFs ({args.grn_edges:,} GRN edges); "
                 f"{args.threads} torch thread(s), CPU", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snps", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--edges-per-snp", type=int, default=5)
    parser.add_argument("--tfs", type=int, default=208)
    parser.add_argument("--grn-edges", type=int, default=57_000)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per fit; the first is a warm-up")
    parser.add_argument("--threads", type=int, default=1, help="torch/OMP threads of every child")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--genotypes", choices=("int8", "float32"), default="int8", help="dtype of the SNP table given to fit")
    parser.add_argument("--mem-cap-gb", type=float, default=16.0, help="RLIMIT_AS of every child, in GB (1e9 bytes)")
    parser.add_argument("--quick", action="store_true", help="2,000 and 100,000 SNPs into 1,000 genes, 2 epochs, 2.5 GB cap: the reference runs out of memory at 100,000 (smoke run)")
    parser.add_argument("--replot", metavar="JSON", help="only redraw the plot from a saved results JSON (written beside --out)")
    parser.add_argument("--out", default=None, help="default bench/results_scaling.md (--quick: /tmp/deepgami_bench_scaling_quick.md)")
    parser.add_argument("--plot", default=None, help="default bench/results_scaling.png (--quick: /tmp/deepgami_bench_scaling_quick.png)")
    args = parser.parse_args()
    if args.quick:
        args.snps, args.genes, args.tfs, args.grn_edges = [2_000, 100_000], 1_000, 50, 3_000
        args.samples, args.epochs, args.mem_cap_gb = 128, 2, 2.5
    out_path = args.out or ("/tmp/deepgami_bench_scaling_quick.md" if args.quick else "bench/results_scaling.md")
    plot_path = args.plot or ("/tmp/deepgami_bench_scaling_quick.png" if args.quick else "bench/results_scaling.png")
    command = command_line()
    json_path = os.path.splitext(out_path)[0] + ".json"
    if args.replot:
        with open(args.replot) as f:
            saved = json.load(f)
        for key, value in saved["args"].items():
            if key not in ("replot", "plot", "out"):
                setattr(args, key, value)
        plot(saved["rows"], args, plot_path)
        print(f"written to {plot_path}")
        return

    rows = []
    wall = time.perf_counter()
    with OtherLoad() as load:
        for n_snps in args.snps:
            sizes = {"n_samples": args.samples, "n_snps": n_snps, "n_tfs": args.tfs, "n_genes": args.genes,
                     "n_eqtl": args.edges_per_snp * n_snps, "n_grn": args.grn_edges}
            row = {"n_snps": n_snps, "sizes": sizes,
                   "need_gb": dense_need_gb(n_snps, args.genes) + dense_need_gb(args.tfs, args.genes)}
            for method in ("deepgami", "reference"):
                spec = {"method": method, "threads": args.threads, "sizes": sizes, "epochs": args.epochs,
                        "batch_size": args.batch_size, "seed": args.seed, "genotypes": args.genotypes}
                start = time.perf_counter()
                r = run_child(spec, args.mem_cap_gb)
                r["child_wall_s"] = time.perf_counter() - start
                row[method] = r
                state = "out of memory" if r.get("oom") else (
                    f"{r['median_epoch_s']:.3f} s/epoch, peak RSS {r['peak_rss_mib']:.0f} MiB, peak VM {r['vm_peak_mib']:.0f} MiB")
                print(f"{n_snps:>9,} SNPs, {method}: {state} ({r['child_wall_s']:.0f} s)", flush=True)
            rows.append(row)
    wall = time.perf_counter() - wall

    lines = ["# Scaling with the number of SNPs: deepgami vs the dense masked reference", ""]
    lines += machine_info(command, args.threads)
    lines += [
        f"- {load.summary()}",
        f"- per point: {args.samples} samples, SNPs -> {args.genes:,} genes with {args.edges_per_snp} unique random eQTL edges "
        f"per SNP (before deduplication), plus {args.tfs} TFs -> {args.genes:,} genes with {args.grn_edges:,} GRN edges; "
        f"2 classes, random data, seed {args.seed}; genotypes given to `fit` as {args.genotypes}",
        f"- `DeepGAMIClassifier` defaults except max_epochs={args.epochs}, validation_fraction=0, batch_size={args.batch_size} "
        f"({-(-args.samples // args.batch_size)} steps per epoch); each (size, model) in its own child process with "
        f"RLIMIT_AS = {args.mem_cap_gb:g} GB",
        f"- time per epoch: median over epochs 2..{args.epochs} (epoch 1 is a warm-up); peak RSS = `ru_maxrss` of the child "
        f"(data included); total wall time {wall / 60:.1f} min",
        f"- reference need = {DENSE_ARRAYS} float32 arrays of n_features x n_genes for the SNP and the TF relation "
        "(W, M, W * M, its gradient, W's gradient, Adam's two moments); it leaves out the data, the head and Python/torch",
        "",
        "| SNPs | eQTL edges | deepgami s / epoch | reference s / epoch | speed-up | deepgami peak RSS MiB (after data) | "
        "reference peak RSS MiB (after data) | memory ratio | reference need (estimate) GB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        d, r = row["deepgami"], row["reference"]
        edges = f"{d['n_edges']['snp'][0]:,}" if not d.get("oom") else f"~{row['sizes']['n_eqtl']:,}"
        if d.get("oom"):
            d_time, d_mem = "out of memory", "-"
        else:
            d_time, d_mem = f"{d['median_epoch_s']:.3f}", f"{d['peak_rss_mib']:,.0f} ({d['rss_data_mib']:,.0f})"
        if r.get("oom"):
            r_time = f"out of memory (needs ~{fmt_gb(row['need_gb'])} GB)"
            r_mem = f"failed under the {args.mem_cap_gb:g} GB cap"
            speed = ratio = "-"
        else:
            r_time, r_mem = f"{r['median_epoch_s']:.3f}", f"{r['peak_rss_mib']:,.0f} ({r['rss_data_mib']:,.0f})"
            speed = f"{r['median_epoch_s'] / d['median_epoch_s']:.1f}x" if not d.get("oom") else "-"
            ratio = f"{r['peak_rss_mib'] / d['peak_rss_mib']:.1f}x" if not d.get("oom") else "-"
        lines.append(f"| {row['n_snps']:,} | {edges} | {d_time} | {r_time} | {speed} | {d_mem} | {r_mem} | {ratio} | {fmt_gb(row['need_gb'])} |")
    measured = [(row, row["reference"]) for row in rows if not row["reference"].get("oom") and not row["deepgami"].get("oom")]
    if measured:
        lines += ["", "Reference memory estimate against the measurement (reference peak RSS minus deepgami peak RSS, same data):", ""]
        for row, r in measured:
            extra = (r["peak_rss_mib"] - row["deepgami"]["peak_rss_mib"]) * 2**20 / 1e9
            lines.append(f"- {row['n_snps']:,} SNPs: estimate {fmt_gb(row['need_gb'])} GB, measured extra {extra:.2f} GB")
    errors = [f"- {row['n_snps']:,} SNPs, reference: {row['reference']['error']}" for row in rows if row["reference"].get("oom")]
    if errors:
        lines += ["", "Out-of-memory errors as the children reported them:", "", *errors]
    same_dir = os.path.dirname(os.path.abspath(plot_path)) == os.path.dirname(os.path.abspath(out_path))
    lines += ["", f"Plot: `{os.path.basename(plot_path) if same_dir else plot_path}`"]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(out_path, "w") as f:
        f.write(text)
    with open(json_path, "w") as f:
        json.dump({"command": command, "args": vars(args), "rows": rows}, f, indent=1)
    plot(rows, args, plot_path)
    print(f"written to {out_path}, {json_path} and {plot_path}")


if __name__ == "__main__":
    main()
