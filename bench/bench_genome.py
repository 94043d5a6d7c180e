"""Genome-scale benchmark: one full training epoch from a PLINK .bed with 1M SNPs.

What is measured, each part in its own child process so peak RSS is its own:

1. ``generate``: a PLINK fileset (``--snps`` x ``--samples``, written with bed-reader),
   an eQTL edge table (``--edges-per-snp`` genes per SNP, among ``--genes`` genes), a GRN
   (``--tfs`` TFs, ``--tfs-per-gene`` per gene) and TF expression; labels depend on 200
   causal SNPs. Cached under ``--cache`` and reused.
2. ``epoch``: ``deepgami.adapters.plink.load_plink(dtype="int8", impute="none")`` (one byte per
   call, sample-major), ``RegulatoryGraph`` from index tensors, then
   ``DeepGAMIClassifier(max_epochs=1, validation_fraction=0, missing="mean" for the
   genotypes).fit``: scaler statistics in column blocks, then one epoch in batches of
   ``--batch-size`` converted from int8 one batch at a time. Reported: wall time of each
   phase, median step time, and the peak RSS of the process (``ru_maxrss``).

Usage: python bench/bench_genome.py [--snps 1000000 --samples 2000 ...] [--out bench/results_genome.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _machine import peak_rss_mib

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snps", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--edges-per-snp", type=int, default=5)
    parser.add_argument("--tfs", type=int, default=1_600)
    parser.add_argument("--tfs-per-gene", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "genome")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results_genome.md")
    parser.add_argument("--quick", action="store_true", help="20k SNPs x 300 samples, 2k genes (a smoke run)")
    parser.add_argument("--child", choices=("generate", "epoch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.snps, args.samples, args.genes, args.tfs, args.tfs_per_gene = 20_000, 300, 2_000, 160, 20
        args.cache = args.cache.with_name(args.cache.name + "_quick")
        args.out = ROOT / "bench" / "out" / "results_genome_quick.md"
    return args


def generate(args) -> dict:
    """Write the fileset, edges, TF expression and labels; return sizes and timings."""
    from bed_reader import to_bed

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    args.cache.mkdir(parents=True, exist_ok=True)
    maf = rng.uniform(0.05, 0.5, size=args.snps).astype(np.float32)
    calls = np.empty((args.samples, args.snps), dtype=np.int8)
    block = 50_000
    for lo in range(0, args.snps, block):
        hi = min(lo + block, args.snps)
        p = maf[lo:hi]
        # Two Bernoulli draws per call give a binomial(2, maf) dosage.
        calls[:, lo:hi] = (rng.random((args.samples, hi - lo), dtype=np.float32) < p).astype(np.int8)
        calls[:, lo:hi] += (rng.random((args.samples, hi - lo), dtype=np.float32) < p).astype(np.int8)
    missing = rng.random(args.snps) < 0.01  # 1 % of SNPs carry a missing call
    calls[rng.integers(0, args.samples, int(missing.sum())), np.flatnonzero(missing)] = -127
    causal = rng.choice(args.snps, 200, replace=False)
    effects = rng.normal(size=200).astype(np.float32)
    dosage = np.where(calls[:, causal] == -127, 1, calls[:, causal]).astype(np.float32)
    score = (dosage - dosage.mean(0)) @ effects
    labels = np.where(score + rng.normal(scale=score.std(), size=args.samples) > 0, "case", "control")
    iid = [f"s{i}" for i in range(args.samples)]
    sid = [f"rs{j}" for j in range(args.snps)]
    properties = {"fid": iid, "iid": iid, "sid": sid, "chromosome": ["1"] * args.snps, "bp_position": np.arange(1, args.snps + 1)}
    to_bed(args.cache / "genotypes.bed", calls, properties=properties, count_A1=True)
    del calls
    # eQTL edges: each SNP to --edges-per-snp distinct genes near its position on the genome.
    centre = (np.arange(args.snps) * args.genes // args.snps)[:, None]
    offsets = np.arange(args.edges_per_snp)[None, :] - args.edges_per_snp // 2
    genes = np.clip(centre + offsets, 0, args.genes - 1)
    eqtl = np.unique(np.stack([np.repeat(np.arange(args.snps), args.edges_per_snp), genes.ravel()]), axis=1)
    # GRN: --tfs-per-gene distinct TFs per gene.
    grn_src = np.concatenate([rng.choice(args.tfs, args.tfs_per_gene, replace=False) for _ in range(args.genes)])
    grn = np.stack([grn_src, np.repeat(np.arange(args.genes), args.tfs_per_gene)])
    tf = rng.normal(size=(args.samples, args.tfs)).astype(np.float32)
    np.savez(args.cache / "prior.npz", eqtl=eqtl, grn=grn, tf=tf, labels=labels, maf=maf)
    return {"generate_s": time.perf_counter() - start, "eqtl_edges": int(eqtl.shape[1]), "grn_edges": int(grn.shape[1])}


def epoch(args) -> dict:
    """Load the .bed as int8, build the graph and fit one epoch; return timings and peak RSS."""
    import pandas as pd

    import deepgami.estimator as estimator_module
    from deepgami import DeepGAMIClassifier, RegulatoryGraph
    from deepgami.adapters.plink import load_plink

    torch.set_num_threads(args.threads)
    times = {}
    start = time.perf_counter()
    table = load_plink(args.cache / "genotypes.bed", impute="none", dtype="int8")
    times["load_bed_s"] = time.perf_counter() - start
    snp = table.dosages
    prior = np.load(args.cache / "prior.npz")
    tf = pd.DataFrame(prior["tf"], index=snp.index, columns=[f"TF{j}" for j in range(args.tfs)])
    labels = pd.Series(prior["labels"], index=snp.index)

    start = time.perf_counter()
    graph = RegulatoryGraph(
        {"snp": list(snp.columns), "tf": list(tf.columns), "gene": [f"G{g}" for g in range(args.genes)]},
        {
            ("snp", "eqtl", "gene"): torch.from_numpy(prior["eqtl"]).long(),
            ("tf", "regulates", "gene"): torch.from_numpy(prior["grn"]).long(),
        },
    )
    times["graph_s"] = time.perf_counter() - start

    # Time the training epoch and its steps apart from the set-up inside fit.
    step_times: list[float] = []
    original_train = estimator_module.train_module

    def timed_train(module, *a, **kw):
        original_forward = module.encode

        def timed_encode(*fa, **fkw):
            step_times.append(time.perf_counter())
            return original_forward(*fa, **fkw)

        module.encode = timed_encode
        t0 = time.perf_counter()
        history = original_train(module, *a, **kw)
        times["epoch_s"] = time.perf_counter() - t0
        del module.encode
        return history

    estimator_module.train_module = timed_train
    model = DeepGAMIClassifier(
        graph, max_epochs=1, validation_fraction=0.0, batch_size=args.batch_size, missing={"snp": "mean", "tf": "error"},
        dropout=0.5, random_state=0, n_members=1, null_members=0, hidden_dims=(64,), edge_init_scale=1.0,
    )  # fmt: skip
    start = time.perf_counter()
    model.fit({"snp": snp, "tf": tf}, labels)
    times["fit_s"] = time.perf_counter() - start
    steps = np.diff(step_times)
    kernels = {
        f"{m}:{t}": conv.active_kernel
        for m, encoder in model.module_.encoders.items()
        if hasattr(encoder, "convs")
        for t, conv in zip(getattr(encoder, "relations", range(len(encoder.convs))), encoder.convs)
    }
    return {
        **times,
        "steps": len(step_times),
        "median_step_s": float(np.median(steps)) if len(steps) else float("nan"),
        "genotype_bytes": int(snp.to_numpy().nbytes),
        "genotype_dtype": str(snp.to_numpy().dtype),
        "n_snps_kept": int(snp.shape[1]),
        "train_loss": model.history_[-1]["train_loss"],
        "kernels": kernels,
        "peak_rss_gib": peak_rss_mib() / 1024,
    }


def run_child(args, part: str) -> dict:
    command = [sys.executable, __file__, "--child", part, *sys.argv[1:]]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{part} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    if args.child:
        out = generate(args) if args.child == "generate" else epoch(args)
        out["peak_rss_gib"] = peak_rss_mib() / 1024
        print(json.dumps(out))
        return
    made, load_before = None, os.getloadavg()[0]
    if not (args.cache / "prior.npz").is_file():
        print(f"writing the PLINK fileset and prior to {args.cache} ...", flush=True)
        made = run_child(args, "generate")
    print("loading and training one epoch ...", flush=True)
    result = run_child(args, "epoch")
    bed_mb = (args.cache / "genotypes.bed").stat().st_size / 2**20
    lines = [
        "# Genome scale: one training epoch from a PLINK .bed",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM; torch {torch.__version__}; "
        f"{args.threads} threads. Command: `python bench/bench_genome.py{''.join(' ' + a for a in sys.argv[1:])}`. "
        f"1-minute load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run "
        "(above 0.5: other processes shared the cores, so times are upper bounds).",
        "",
        f"Data: {args.snps:,} SNPs x {args.samples:,} samples ({bed_mb:,.0f} MiB .bed), {args.genes:,} genes, "
        f"{args.tfs:,} TFs x {args.tfs_per_gene} per gene. Batch {args.batch_size}, one epoch, dropout 0.5, Adam.",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| genotypes in memory | {result['genotype_dtype']}, {result['genotype_bytes'] / 2**30:.2f} GiB |",
        f"| kernels | {', '.join(f'{k}: {v}' for k, v in result['kernels'].items())} |",
        f"| load .bed (int8) | {result['load_bed_s']:.1f} s |",
        f"| build graph | {result['graph_s']:.1f} s |",
        f"| fit (scaler statistics + epoch) | {result['fit_s']:.1f} s |",
        f"| one epoch ({result['steps']} steps) | {result['epoch_s']:.1f} s |",
        f"| median step (forward + backward + Adam, incl. int8 -> float32 batch) | {result['median_step_s']:.2f} s |",
        f"| peak RSS of the process | {result['peak_rss_gib']:.2f} GiB |",
        f"| training loss after the epoch | {result['train_loss']:.3f} |",
    ]
    if made:
        lines += ["", f"Generation (not counted above): {made['generate_s']:.0f} s, peak RSS {made['peak_rss_gib']:.2f} GiB, "
                  f"{made['eqtl_edges']:,} eQTL and {made['grn_edges']:,} GRN edges."]  # fmt: skip
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
