"""Benchmark of ``deepgami.nn.BioDropConnect``: forward + backward time per kernel.

What is measured: the wall time of one training step of the layer alone,
``layer(x).sum().backward()`` with ``x`` of shape (batch, num_src) requiring grad, float32,
CPU, ``torch.set_num_threads(--threads)``. Each configuration gets 2 warm-up steps (these
also build the cached CSR structure of the "sparse" kernel) and then ``--repeats`` timed
steps; kernels are timed round-robin inside one process so their ratios are comparable,
and the median is reported. Before timing, the outputs of all kernels and of the
reference are checked to agree.

The reference is the dense masked formulation of the original DeepGAMI: a dense weight
Parameter W (num_src x num_dst), a fixed 0/1 mask M, ``out = x @ (W * M) + b``.

Sections: (1) paper-scale SNP relation 7,433 -> 2,870, 11,000 edges; (2) paper-scale TF
relation 208 -> 2,870, 57,000 edges; (3) density sweep at 2,000 x 2,000 that checks the
'auto' thresholds of ``deepgami.nn.conv``; (4, ``--large`` only) 1,000,000 SNPs -> 20,000
genes, 5,000,000 edges, sparse kernel, run in a child process so its peak RSS is its own.

Usage: python bench/bench_layer.py [--repeats N] [--large] [--out bench/results_layer.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch_geometric
from _machine import cpu_model, peak_rss_mib

from deepgami.nn import BioDropConnect
from deepgami.nn.conv import DENSE_MAX_ENTRIES, DENSE_MIN_DENSITY

KERNELS = ("sparse", "scatter", "dense")
SWEEP_DENSITIES = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


class MaskedDense(torch.nn.Module):
    """Original DeepGAMI formulation: ``x @ (W * M) + b`` with a dense W and a 0/1 mask M."""

    def __init__(self, edge_index: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, num_src: int, num_dst: int) -> None:
        super().__init__()
        dense = torch.zeros(num_src, num_dst)
        dense[edge_index[0], edge_index[1]] = weight
        mask = torch.zeros(num_src, num_dst)
        mask[edge_index[0], edge_index[1]] = 1.0
        self.weight = torch.nn.Parameter(dense)
        self.bias = torch.nn.Parameter(bias.clone())
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ (self.weight * self.mask) + self.bias


def random_edges(num_src: int, num_dst: int, n_edges: int, gen: torch.Generator) -> torch.Tensor:
    """``n_edges`` distinct (src, dst) pairs drawn uniformly, shape (2, n_edges)."""
    total = num_src * num_dst
    if n_edges > total:
        raise ValueError(f"{n_edges} edges do not fit in {num_src} x {num_dst}")
    if total <= 50_000_000:
        flat = torch.randperm(total, generator=gen)[:n_edges]
    else:  # too many pairs to permute: oversample, deduplicate, subsample
        flat = torch.empty(0, dtype=torch.long)
        while flat.numel() < n_edges:
            draw = torch.randint(total, (int(n_edges * 1.05) + 1000,), generator=gen)
            flat = torch.unique(torch.cat([flat, draw]))
        flat = flat[torch.randperm(flat.numel(), generator=gen)[:n_edges]]
    return torch.stack([flat // num_dst, flat % num_dst])


def step(module: torch.nn.Module, x: torch.Tensor) -> float:
    """Seconds for one forward + backward."""
    x.grad = None
    module.zero_grad(set_to_none=True)
    start = time.perf_counter()
    module(x).sum().backward()
    return time.perf_counter() - start


def bench_relation(num_src: int, num_dst: int, n_edges: int, args, gen: torch.Generator, reference: bool = True) -> dict:
    """Median seconds per kernel (and the reference) on one random relation."""
    edge_index = random_edges(num_src, num_dst, n_edges, gen)
    weight = torch.randn(n_edges, generator=gen) / 10
    bias = torch.randn(num_dst, generator=gen) / 10
    modules = {}
    for kernel in KERNELS:
        layer = BioDropConnect(edge_index, num_src, num_dst, bias=True, kernel=kernel)
        with torch.no_grad():
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)
        modules[kernel] = layer
    auto = BioDropConnect(edge_index, num_src, num_dst, kernel="auto").active_kernel
    if reference:
        modules["reference"] = MaskedDense(edge_index, weight, bias, num_src, num_dst)
    x = torch.randn(args.batch, num_src, generator=gen).requires_grad_()
    with torch.no_grad():  # all formulations must agree before their times mean anything
        expected = modules[KERNELS[0]](x)
        for name, module in modules.items():
            err = (module(x) - expected).abs().max().item()
            if err > 1e-4 * max(expected.abs().max().item(), 1.0):
                raise AssertionError(f"{name} differs from {KERNELS[0]} by {err}")
    for module in modules.values():
        for _ in range(2):
            step(module, x)
    times = {name: [] for name in modules}
    for _ in range(args.repeats):
        for name, module in modules.items():
            times[name].append(step(module, x))
    result = {name: statistics.median(ts) for name, ts in times.items()}
    result.update(edges=n_edges, density=n_edges / (num_src * num_dst), auto=auto)
    return result


def large_child(args) -> None:
    """Run in a subprocess: the 1M x 20k sparse relation; prints one JSON line."""
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    num_src, num_dst, n_edges = 1_000_000, 20_000, 5_000_000
    rss_import = peak_rss_mib()
    edge_index = random_edges(num_src, num_dst, n_edges, gen)
    layer = BioDropConnect(edge_index, num_src, num_dst, kernel="sparse")
    x = torch.randn(args.batch, num_src, generator=gen).requires_grad_()
    first = step(layer, x)  # includes building the CSR structure
    step(layer, x)
    times = [step(layer, x) for _ in range(args.repeats)]
    rss = peak_rss_mib()
    print(json.dumps({"first": first, "median": statistics.median(times), "min": min(times), "max": max(times), "rss_mib": rss, "rss_import_mib": rss_import}))


def machine_info(args) -> list[str]:
    cpu = cpu_model()
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores, torch threads: {torch.get_num_threads()}",
        f"- torch {torch.__version__}, torch_geometric {torch_geometric.__version__}, Python {platform.python_version()}, {platform.system()} {platform.release()}",
        f"- load average at start (1/5/15 min): {' / '.join(f'{v:.2f}' for v in os.getloadavg())} (timings need an otherwise idle machine)",
        f"- command: `python {' '.join(sys.argv)}`",
        f"- forward + backward of `layer(x).sum()`, batch {args.batch}, float32, median of {args.repeats} repeats after 2 warm-ups, seed {args.seed}; all kernels timed round-robin in one process",
    ]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per configuration (>= 7 recommended)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--densities", type=float, nargs="*", default=SWEEP_DENSITIES, help="densities of the sweep (none: skip it)")
    parser.add_argument("--sweep-size", type=int, nargs=2, default=(2_000, 2_000), metavar=("SRC", "DST"), help="relation size of the sweep")
    parser.add_argument("--skip-paper", action="store_true", help="only run the sweep (and --large)")
    parser.add_argument("--large", action="store_true", help="also run 1M SNPs -> 20k genes, 5M edges (sparse only)")
    parser.add_argument("--out", default="bench/results_layer.md")
    parser.add_argument("--large-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_child:
        return large_child(args)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    lines = ["# BioDropConnect layer benchmark", "", *machine_info(args), ""]

    paper = () if args.skip_paper else (("SNP -> gene", 7_433, 2_870, 11_000), ("TF -> gene", 208, 2_870, 57_000))
    if paper:
        lines += ["## Paper-scale relations (ms per forward + backward; ratio = reference / kernel)", ""]
        lines += ["| relation | src x dst | edges | density | reference | sparse | scatter | dense | ref/sparse | ref/scatter | ref/dense | fastest | auto picks | auto / fastest |"]
        lines += ["|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for name, num_src, num_dst, n_edges in paper:
        r = bench_relation(num_src, num_dst, n_edges, args, gen)
        ratios = " | ".join(f"{r['reference'] / r[k]:.2f}x" for k in KERNELS)
        fastest = min(KERNELS, key=lambda k: r[k])
        lines.append(
            f"| {name} | {num_src:,} x {num_dst:,} | {n_edges:,} | {r['density']:.4f} | {ms(r['reference'])} | "
            + " | ".join(ms(r[k]) for k in KERNELS)
            + f" | {ratios} | {fastest} | {r['auto']} | {r[r['auto']] / r[fastest]:.2f} |"
        )
        print(lines[-1], flush=True)

    sweep_src, sweep_dst = args.sweep_size
    if args.densities:
        lines += ["", f"## Density sweep, {sweep_src:,} x {sweep_dst:,} (ms; 'auto' = dense iff src*dst <= {DENSE_MAX_ENTRIES:,} and density >= {DENSE_MIN_DENSITY})", ""]
        lines += ["| density | edges | reference | sparse | scatter | dense | fastest | auto picks | auto / fastest | auto within 10 % |"]
        lines += ["|---:|---:|---:|---:|---:|---:|---|---|---:|---|"]
    for density in args.densities:
        n_edges = round(density * sweep_src * sweep_dst)
        r = bench_relation(sweep_src, sweep_dst, n_edges, args, gen)
        fastest = min(KERNELS, key=lambda k: r[k])
        slack = r[r["auto"]] / r[fastest]
        lines.append(
            f"| {density} | {n_edges:,} | {ms(r['reference'])} | "
            + " | ".join(ms(r[k]) for k in KERNELS)
            + f" | {fastest} | {r['auto']} | {slack:.2f} | {'yes' if slack <= 1.10 else 'NO'} |"
        )
        print(lines[-1], flush=True)

    if args.large:
        cmd = [sys.executable, os.path.abspath(__file__), "--large-child", f"--repeats={args.repeats}", f"--batch={args.batch}", f"--threads={args.threads}", f"--seed={args.seed}"]
        child = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        lines += ["", "## Large relation, sparse kernel (own process)", ""]
        lines += ["| src x dst | edges | first step (builds CSR), ms | median ms | min ms | max ms | peak RSS MiB | RSS after import MiB |"]
        lines += ["|---|---:|---:|---:|---:|---:|---:|---:|"]
        lines.append(
            f"| 1,000,000 x 20,000 | 5,000,000 | {ms(child['first'])} | {ms(child['median'])} | {ms(child['min'])} | {ms(child['max'])} | {child['rss_mib']:.0f} | {child['rss_import_mib']:.0f} |"
        )
        print(lines[-1], flush=True)

    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
