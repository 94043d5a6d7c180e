"""Biobank-size deep prior: epoch time and peak RSS of SNP -> gene against SNP -> gene ->
pathway -> system on the same data.

Synthetic graph (seeded): ``--snps`` SNPs, each an eQTL of 1 or 2 genes (equal odds) near its
position on the genome (~1.5 edges per SNP); ``--genes`` genes, each a member of 2-4 (mean 3)
of ``--pathways`` random pathways; each pathway part of 1 or 2 of ``--systems`` systems.
Genotypes 0/1/2 (binomial(2, MAF), MAF ~ U(0.05, 0.5)) for ``--samples`` samples, held as
int8 (one byte per call) and converted to standardised float32 one batch at a time; binary
labels from 200 causal SNPs. Generated once in a child process and cached under ``--cache``.

Each configuration (one-hop / deep x ``--members``) runs in its own child process, so its
``ru_maxrss`` is its own: load the genotypes, build ``RegulatoryGraph`` from index tensors and
``DeepGAMINet.from_graph(graph, {"snp": n_snps}, n_classes=2, edge_init_scale=0.1,
n_members=K)`` (no null members, linear head as the estimator's default ``hidden_dims=()``,
dropout 0.5), then train it **directly** (not through ``DeepGAMIClassifier``): Adam (lr 1e-3),
shuffled batches of ``--batch-size``, loss = per-member cross-entropy summed over members +
1e-3 x the edge L1 (the estimator's defaults), for one warm-up epoch and ``--epochs`` timed
epochs. Reported: epoch wall time (median [IQR] over the timed epochs), RSS after the data are
loaded and after the model is built, peak RSS (``ru_maxrss``), edges per relation, parameter
count and the measured bytes each relation's conv holds (weights, index buffers, CSR structure).

Usage: python bench/bench_deep_scale.py [--snps 1000000 --genes 20000 --pathways 2000 --systems 30
    --samples 1000 --epochs 5 --members 1 10] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _machine import cpu_model, peak_rss_mib, status_mib
from _report import median_iqr

ROOT = Path(__file__).resolve().parents[1]
N_CAUSAL = 200
EDGE_L1, LR = 1e-3, 1e-3


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snps", type=int, default=1_000_000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--pathways", type=int, default=2_000)
    parser.add_argument("--systems", type=int, default=30)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs, after one warm-up epoch")
    parser.add_argument("--members", type=int, nargs="+", default=[1, 10], help="ensemble sizes to run (null_members=0)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/deepgami_deep_scale"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results_deep_scale.md")
    parser.add_argument("--quick", action="store_true", help="100k SNPs, 2k genes, 200 pathways, 10 systems, 300 samples, 2 epochs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.snps, args.genes, args.pathways, args.systems, args.samples, args.epochs = 100_000, 2_000, 200, 10, 300, 2
        args.out = Path("/tmp") / "results_deep_scale_quick.md"
    args.cache = args.cache / f"{args.snps}x{args.samples}_{args.genes}_{args.pathways}_{args.systems}"
    return args


# ---------------------------------------------------------------------- data
def generate(args) -> dict:
    """Write genotypes (int8, samples x SNPs), edges and labels under ``args.cache``."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    args.cache.mkdir(parents=True, exist_ok=True)
    maf = rng.uniform(0.05, 0.5, size=args.snps).astype(np.float32)
    calls = np.lib.format.open_memmap(args.cache / "genotypes.npy", mode="w+", dtype=np.int8, shape=(args.samples, args.snps))
    block = 50_000
    for lo in range(0, args.snps, block):
        hi = min(lo + block, args.snps)
        p = maf[lo:hi]
        part = (rng.random((args.samples, hi - lo), dtype=np.float32) < p).astype(np.int8)
        part += (rng.random((args.samples, hi - lo), dtype=np.float32) < p).astype(np.int8)
        calls[:, lo:hi] = part
    causal = np.sort(rng.choice(args.snps, N_CAUSAL, replace=False))
    dosage = np.asarray(calls[:, causal], dtype=np.float32)
    calls.flush()
    del calls
    score = (dosage - dosage.mean(0)) @ rng.normal(size=N_CAUSAL).astype(np.float32)
    labels = (score + rng.normal(scale=score.std(), size=args.samples) > 0).astype(np.int64)
    # snp -> gene: 1 or 2 genes near the SNP's position.
    centre = np.arange(args.snps) * args.genes // args.snps
    two = rng.random(args.snps) < 0.5
    eqtl_src = np.concatenate([np.arange(args.snps), np.flatnonzero(two)])
    eqtl_dst = np.concatenate([centre, np.minimum(centre[two] + 1, args.genes - 1)])
    eqtl = np.unique(np.stack([eqtl_src, eqtl_dst]), axis=1)  # a SNP at the last gene keeps one edge
    # gene -> pathway: 2, 3 or 4 distinct random pathways per gene (mean 3).
    per_gene = rng.integers(2, 5, size=args.genes)
    member = np.concatenate([rng.choice(args.pathways, k, replace=False) for k in per_gene])
    member_of = np.stack([np.repeat(np.arange(args.genes), per_gene), member])
    # pathway -> system: 1 or 2 distinct systems per pathway.
    per_pathway = rng.integers(1, 3, size=args.pathways)
    system = np.concatenate([rng.choice(args.systems, k, replace=False) for k in per_pathway])
    part_of = np.stack([np.repeat(np.arange(args.pathways), per_pathway), system])
    np.savez(args.cache / "prior.npz", eqtl=eqtl, member_of=member_of, part_of=part_of, labels=labels)
    return {"generate_s": time.perf_counter() - start, "peak_rss_gib": peak_rss_mib() / 1024}


def build_graph(args, deep: bool):
    from deepgami import RegulatoryGraph

    prior = np.load(args.cache / "prior.npz")
    names = {"snp": [f"rs{j}" for j in range(args.snps)], "gene": [f"G{g}" for g in range(args.genes)]}
    edges = {("snp", "eqtl", "gene"): torch.from_numpy(prior["eqtl"])}
    if deep:
        names["pathway"] = [f"P{p}" for p in range(args.pathways)]
        names["system"] = [f"S{s}" for s in range(args.systems)]
        edges[("gene", "member_of", "pathway")] = torch.from_numpy(prior["member_of"])
        edges[("pathway", "part_of", "system")] = torch.from_numpy(prior["part_of"])
    return RegulatoryGraph(names, edges), torch.from_numpy(prior["labels"])


# ---------------------------------------------------------------------- one configuration
def conv_bytes(conv) -> dict:
    """Bytes a BioDropConnect holds: parameters (x4 with gradient and Adam's two moments) and
    index tensors (edge_index, flat_index, the CSR structure), each storage counted once."""
    seen, index = set(), 0
    tensors = [conv.edge_index, conv.flat_index]
    if conv._structure is not None:
        tensors += [v for v in vars(conv._structure).values() if isinstance(v, torch.Tensor)]
    for t in tensors:
        key = t.untyped_storage().data_ptr()
        if key not in seen:
            seen.add(key)
            index += t.untyped_storage().nbytes()
    params = sum(p.numel() * p.element_size() for p in conv.parameters())
    return {"edges": conv.n_edges, "param_bytes_x4": 4 * params, "index_bytes": index}


def run_config(args, deep: bool, members: int) -> dict:
    from deepgami.nn.conv import BioDropConnect
    from deepgami.nn.model import DeepGAMINet

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out: dict = {"deep": deep, "members": members}
    t0 = time.perf_counter()
    calls = np.load(args.cache / "genotypes.npy")  # int8, (samples, snps), in memory
    # Column statistics in blocks (the estimator's scaler does the same on int8).
    mean = np.empty(args.snps, np.float32)
    std = np.empty(args.snps, np.float32)
    # Narrow blocks (40 MB of float32 at 1,000 samples), so the statistics do not set the peak.
    for lo in range(0, args.snps, 10_000):
        block = calls[:, lo : lo + 10_000].astype(np.float32)
        mean[lo : lo + 10_000], std[lo : lo + 10_000] = block.mean(0), block.std(0)
    std[std == 0] = 1.0
    mean_t, inv_std = torch.from_numpy(mean), torch.from_numpy(1.0 / std)
    out["load_s"] = time.perf_counter() - t0
    out["rss_data_gib"] = status_mib("VmRSS") / 1024
    out["hwm_data_gib"] = status_mib("VmHWM") / 1024

    t0 = time.perf_counter()
    graph, labels = build_graph(args, deep)
    net = DeepGAMINet.from_graph(
        graph, {"snp": args.snps}, n_classes=2, edge_init_scale=0.1, n_members=members, n_null_members=0,
        hidden_dims=(), dropout=0.5,
    )  # fmt: skip
    out["build_s"] = time.perf_counter() - t0
    out["hwm_build_gib"] = status_mib("VmHWM") / 1024
    out["edges"] = {f"{s}->{d}": int(graph.edge_index((s, r, d)).shape[1]) for s, r, d in graph.edge_types}
    out["params"] = int(sum(p.numel() for p in net.parameters()))
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    n = args.samples
    generator = torch.Generator().manual_seed(0)
    calls_t = torch.from_numpy(calls)

    def epoch() -> float:
        net.train()
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        for lo in range(0, n, args.batch_size):
            index = order[lo : lo + args.batch_size]
            x = (calls_t.index_select(0, index).to(torch.float32) - mean_t) * inv_std
            logits = net({"snp": x})  # (batch, members, 2)
            y = labels[index].unsqueeze(1).expand(-1, members)
            ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 2), y.reshape(-1), reduction="none").view(-1, members)
            loss = ce.mean(0).sum() + EDGE_L1 * net.edge_weight_l1() * (len(index) / n)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        out["last_loss"] = float(loss)
        return time.perf_counter() - start

    out["warmup_s"] = epoch()
    out["rss_after_warmup_gib"] = status_mib("VmRSS") / 1024
    out["epoch_s"] = [epoch() for _ in range(args.epochs)]
    convs = {}
    for name, module in net.named_modules():
        if isinstance(module, BioDropConnect):
            parts = name.split(".")  # encoders.snp.convs.0 or upper.stages.<type>.convs.<i>
            if parts[0] == "upper":
                relation = [r for r in graph.edge_types if r[2] == parts[2] and r[0] != parts[2]][int(parts[-1])]
                name = f"{relation[0]}->{relation[2]}"
            else:
                name = "snp->gene"
            convs[name] = {**conv_bytes(module), "kernel": module.active_kernel, "num_src": module.num_src, "num_dst": module.num_dst}
    out["convs"] = convs
    out["peak_rss_gib"] = peak_rss_mib() / 1024
    return out


def run_child(args, part: str) -> dict:
    command = [sys.executable, __file__, "--child", part, *sys.argv[1:]]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        return {"error": f"{part} failed (rc {result.returncode}): {result.stderr[-2000:]}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- report
def report(args, made, results, load_before) -> list[str]:
    gib = 2**30
    lines = [
        "# Biobank-size deep prior: epoch time and peak RSS, one-hop against deep",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / gib:.0f} GiB RAM; torch {torch.__version__}; "
        f"{args.threads} thread(s). Command: `OMP_NUM_THREADS={args.threads} .venv/bin/python bench/bench_deep_scale.py"
        f"{''.join(' ' + a for a in sys.argv[1:])}`. 1-minute load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after (above ~1: other processes shared the 2 cores, so times are upper bounds).",
        "",
        f"Data: {args.snps:,} SNPs x {args.samples:,} samples, genotypes held as int8 "
        f"({args.snps * args.samples / gib:.2f} GiB; float32 would be {4 * args.snps * args.samples / gib:.2f} GiB), "
        f"standardised to float32 one batch at a time; {args.genes:,} genes, {args.pathways:,} pathways, "
        f"{args.systems} systems; binary labels from {N_CAUSAL} causal SNPs. Training: `DeepGAMINet.from_graph(graph, "
        "{'snp': n_snps}, n_classes=2, edge_init_scale=0.1, n_members=K, n_null_members=0, hidden_dims=(), dropout=0.5)` "
        f"trained directly (not through the estimator): Adam lr {LR}, batch {args.batch_size}, summed per-member "
        f"cross-entropy + {EDGE_L1} x edge L1; one warm-up epoch, then {args.epochs} timed epochs. Each row is its own "
        "child process (peak RSS = its `ru_maxrss`, data loading and model building included).",
    ]
    if made and "error" not in made:
        lines += ["", f"Generation (not counted; its own process): {made['generate_s']:.0f} s, peak RSS {made['peak_rss_gib']:.2f} GiB."]
    lines += [
        "",
        "| prior | members | edges per relation | parameters | epoch s, median [IQR] | peak RSS after data / after model build GiB | "
        "peak RSS GiB | deep / one-hop: time | deep / one-hop: peak RSS | peak RSS deep - one-hop GiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for members in args.members:
        pair = {r["deep"]: r for r in results if r.get("members") == members}
        for deep in (False, True):
            r = pair.get(deep)
            label = "deep" if deep else "one-hop"
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {label} | {members} | failed: see below | | | | | | | |")
                notes.append(f"{label}, {members} member(s): {r['error']}")
                continue
            t = pd.Series(r["epoch_s"])
            ratio_t = ratio_m = diff = "-"
            if deep and False in pair and "error" not in pair[False]:
                base = pair[False]
                ratio_t = f"{t.median() / np.median(base['epoch_s']):.2f}"
                ratio_m = f"{r['peak_rss_gib'] / base['peak_rss_gib']:.3f}"
                diff = f"{r['peak_rss_gib'] - base['peak_rss_gib']:+.3f}"
            edges = ", ".join(f"{k}: {v:,}" for k, v in r["edges"].items())
            lines.append(
                f"| {label} | {members} | {edges} | {r['params']:,} | {median_iqr(t, 2)} | {r['hwm_data_gib']:.2f} / {r['hwm_build_gib']:.2f} | "
                f"{r['peak_rss_gib']:.2f} | {ratio_t} | {ratio_m} | {diff} |"
            )
    # The extra edges' own cost, measured on the deep model's convs.
    lines += [
        "",
        "## Do the extra edges explain the memory difference?",
        "",
        "Cost of each relation's conv in the deep model, measured from its tensors after training: parameters x4 "
        "(weight, gradient, Adam's two moments) and index tensors (edge_index, flat_index and the cached CSR "
        "structure: perm, perm_t, col, col_t, crow, crow_t), member-replicated. Transients per step (the CSR values "
        "`weight[perm]`, the sampled-product buffers) are a few more bytes per edge and not counted.",
        "",
        "| members | relation | conv edges (x members) | kernel | params x4 MiB | index MiB | total MiB | bytes / edge |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for members in args.members:
        deep = next((r for r in results if r.get("members") == members and r.get("deep") and "error" not in r), None)
        base = next((r for r in results if r.get("members") == members and not r.get("deep") and "error" not in r), None)
        if deep is None:
            continue
        extra = 0.0
        for name, c in deep["convs"].items():
            total = c["param_bytes_x4"] + c["index_bytes"]
            relation = name
            if name != "snp->gene":
                extra += total
            lines.append(
                f"| {members} | {relation} ({c['num_src']:,} x {c['num_dst']:,}) | {c['edges']:,} | {c['kernel']} | "
                f"{c['param_bytes_x4'] / 2**20:.2f} | {c['index_bytes'] / 2**20:.2f} | {total / 2**20:.2f} | {total / max(c['edges'], 1):.0f} |"
            )
        if base is not None:
            diff = (deep["peak_rss_gib"] - base["peak_rss_gib"]) * 1024
            extra_mib = extra / 2**20
            head = (deep["params"] - base["params"])
            # Per batch, the pathway stage keeps a transposed copy of the gene latents for its
            # backward and returns their gradient: about two more (batch, K * genes) float32 buffers.
            act_mib = 2 * args.batch_size * members * args.genes * 4 / 2**20
            verdicts.append(
                f"- {members} member(s): the extra relations hold {extra_mib:.1f} MiB; measured peak RSS difference "
                f"deep - one-hop {diff:+.1f} MiB (parameter count {head:+,}: the head reads {args.systems} systems "
                f"instead of {args.genes:,} genes). "
                + ("Holds: the deep run fits in the one-hop peak plus the extra edges' cost."
                   if diff <= extra_mib + 1.0 else
                   f"Exceeds the extra edges' cost by {diff - extra_mib:.1f} MiB "
                   f"({100 * (diff - extra_mib) / 1024 / base['peak_rss_gib']:.2f} % of the one-hop peak); "
                   f"the extra edges plus ~{act_mib:.0f} MiB of per-batch activations (two more copies of the "
                   f"batch's gene latents, {args.batch_size} x {members} x {args.genes:,} float32, for the pathway "
                   f"stage's backward) give {extra_mib + act_mib:.0f} MiB, "
                   + ("which covers it." if diff <= extra_mib + act_mib + 1.0 else "which does not cover it."))
            )  # fmt: skip
    lines += ["", *verdicts]
    if notes:
        lines += ["", "## Failures", "", *[f"- {n}" for n in notes]]
    return lines


def main() -> None:
    args = parse_args()
    if args.child:
        if args.child == "generate":
            out = generate(args)
        else:
            kind, members = args.child.split(":")
            out = run_config(args, kind == "deep", int(members))
        print(json.dumps(out))
        return
    load_before = os.getloadavg()[0]
    made = None
    if not (args.cache / "prior.npz").is_file():
        print(f"generating data under {args.cache} ...", flush=True)
        made = run_child(args, "generate")
        if "error" in made:
            raise SystemExit(made["error"])
    results = []
    for members in args.members:
        for kind in ("onehop", "deep"):
            print(f"{kind}, {members} member(s) ...", flush=True)
            r = run_child(args, f"{kind}:{members}")
            r.setdefault("deep", kind == "deep")
            r.setdefault("members", members)
            results.append(r)
            print(json.dumps({k: v for k, v in r.items() if k != "convs"}), flush=True)
    (args.cache / "results.json").write_text(json.dumps(results, indent=1))
    lines = report(args, made, results, load_before)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
