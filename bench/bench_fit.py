"""End-to-end training benchmark at paper scale: deepgami vs the dense masked reference.

What is measured: ``DeepGAMIClassifier.fit`` on a random cohort of the DeepGAMI paper's size
(600 samples; 7,433 SNPs -> 2,870 genes through 11,000 eQTL edges; 208 TFs -> 2,870 genes
through 57,000 GRN edges; 2 classes), a fixed number of epochs (``validation_fraction=0``, so
no early stopping), for two models that differ only in the guided encoders:

- **deepgami**: the package as it is (``GuidedEncoder``: one weight per prior edge,
  ``BioDropConnect`` with ``kernel="auto"``).
- **reference**: the original DeepGAMI formulation. A subclass of ``DeepGAMIClassifier``
  overrides ``_build_module`` and swaps every guided encoder for ``MaskedDenseEncoder``,
  a dense weight Parameter ``W`` (n_features x n_genes), a fixed 0/1 mask buffer ``M`` and
  ``act(x @ (W * M) + b)``. ``W`` starts from the package's own initial edge weights, so both
  models start from the same point; data, scaling, batches, optimiser (Adam), head,
  auxiliary maps, modality dropout and seeds are identical, and their training losses agree
  (the table shows the largest relative difference over the epochs).

Time per epoch: a hook on the network's ``train()`` method (``train_module`` calls it at the
start of every epoch and ``eval()`` after the last) timestamps the epoch boundaries; no package
file is touched. Reported: the median over epochs 2..N (the first is a warm-up), and the median
of that over ``--repeats`` runs. Peak memory: ``ru_maxrss`` of the child process that ran one
model (data generation included; the RSS right after the data were built is shown too). Each
(model, repeat, thread count) runs in its own child process, the two models alternating; the
ratio is taken between the two medians of one invocation.

Usage: python bench/bench_fit.py [--threads 1 2] [--epochs 6] [--repeats 3] [--quick] [--out bench/results_fit.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time

from _machine import cpu_model, peak_rss_mib, status_mib

PAPER = {"n_samples": 600, "n_snps": 7_433, "n_tfs": 208, "n_genes": 2_870, "n_eqtl": 11_000, "n_grn": 57_000}
QUICK = {"n_samples": 200, "n_snps": 1_500, "n_tfs": 60, "n_genes": 500, "n_eqtl": 2_200, "n_grn": 3_000}
METHODS = ("reference", "deepgami")
GIB = 1024**3


# ---------------------------------------------------------------------------- the reference model
def _model_classes():
    """Imported lazily so that a child sets its thread count before torch starts."""
    import torch
    from torch import nn

    from deepgami import DeepGAMIClassifier
    from deepgami.nn.encoder import GuidedEncoder

    class MaskedDenseEncoder(nn.Module):
        """Original DeepGAMI guided layer: ``act(x @ (W * M) + b)``, W dense, M a 0/1 mask."""

        def __init__(self, weight: torch.Tensor, mask: torch.Tensor, bias: torch.Tensor, activation: nn.Module) -> None:
            super().__init__()
            self.weight = nn.Parameter(weight)
            self.register_buffer("mask", mask)
            self.bias = nn.Parameter(bias)
            self.activation = activation

        @classmethod
        def from_guided(cls, encoder: GuidedEncoder) -> MaskedDenseEncoder:
            """Same edges, same initial edge weights and bias as ``encoder``."""
            num_src, num_dst = encoder.convs[0].num_src, encoder.convs[0].num_dst
            weight = torch.zeros(num_src, num_dst)
            mask = torch.zeros(num_src, num_dst)
            with torch.no_grad():
                for conv in encoder.convs:
                    src, dst = conv.edge_index
                    weight.index_put_((src, dst), conv.weight.detach(), accumulate=True)
                    mask[src, dst] = 1.0
            return cls(weight, mask, encoder.bias.detach().clone(), encoder.activation)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.activation(x @ (self.weight * self.mask) + self.bias)

    class EpochClock:
        """Timestamps of ``module.train(mode)`` calls: epoch starts (True) and the final eval (False)."""

        def __init__(self) -> None:
            self.marks: list[tuple[float, bool]] = []

        def attach(self, module: nn.Module) -> nn.Module:
            original = module.train

            def train(mode: bool = True):
                self.marks.append((time.perf_counter(), bool(mode)))
                return original(mode)

            module.train = train  # instance attribute: only the top-level call is recorded
            return module

        def epoch_seconds(self) -> list[float]:
            starts = [t for t, mode in self.marks if mode]
            end = next((t for t, mode in reversed(self.marks) if not mode), None)
            if end is None or not starts or end < starts[-1]:
                msg = f"epoch hook saw an unexpected call sequence: {self.marks}"
                raise RuntimeError(msg)
            bounds = [*starts, end]
            return [b - a for a, b in zip(bounds[:-1], bounds[1:])]

    class TimedDeepGAMI(DeepGAMIClassifier):
        """The package's classifier, unchanged except for the epoch clock on its network."""

        def _build_module(self, member_seeds=None):
            self.clock_ = EpochClock()
            return self.clock_.attach(self._build_network(member_seeds))

        def _build_network(self, member_seeds=None):
            return super()._build_module(member_seeds)

    class DenseMaskedDeepGAMI(TimedDeepGAMI):
        """Everything as DeepGAMIClassifier, but guided encoders hold a dense W and mask M."""

        def _build_network(self, member_seeds=None):
            net = super()._build_network(member_seeds)
            for name in list(net.encoders):
                if isinstance(net.encoders[name], GuidedEncoder):
                    net.encoders[name] = MaskedDenseEncoder.from_guided(net.encoders[name])
            return net

    return {"deepgami": TimedDeepGAMI, "reference": DenseMaskedDeepGAMI}


# ---------------------------------------------------------------------------- data
def random_cohort(sizes: dict, seed: int, min_grn_per_gene: int = 1, genotype_dtype: str = "int8"):
    """Random genotypes (0/1/2), TF expression and labels, and a random prior graph.

    Edges are unique random (source, gene) pairs; every gene gets ``min_grn_per_gene`` GRN
    edges first, so no gene loses all its edges (the estimator drops unreached latent nodes).
    Genotypes are drawn in column chunks and stored as ``genotype_dtype`` (int8, the package's
    genome-scale storage: 1 byte per call; or float32).
    """
    import numpy as np
    import pandas as pd

    from deepgami import RegulatoryGraph

    rng = np.random.default_rng(seed)
    n, n_snps, n_tfs, n_genes = sizes["n_samples"], sizes["n_snps"], sizes["n_tfs"], sizes["n_genes"]
    snps = [f"rs{i:07d}" for i in range(n_snps)]
    tfs = [f"TF{i:04d}" for i in range(n_tfs)]
    genes = [f"G{i:05d}" for i in range(n_genes)]
    samples = [f"S{i:04d}" for i in range(n)]

    def unique_pairs(n_src: int, n_edges: int, forced: np.ndarray | None = None) -> np.ndarray:
        flat = forced if forced is not None else np.empty(0, dtype=np.int64)
        while flat.size < n_edges:
            draw = rng.integers(0, n_src * n_genes, size=int((n_edges - flat.size) * 1.05) + 100)
            merged = np.concatenate([flat, draw])
            _, first = np.unique(merged, return_index=True)
            flat = merged[np.sort(first)]  # keep the forced edges and drawing order
        flat = flat[:n_edges]
        return np.stack([flat // n_genes, flat % n_genes])

    eqtl = unique_pairs(n_snps, sizes["n_eqtl"])
    forced = None
    if min_grn_per_gene:
        gene_ids = np.repeat(np.arange(n_genes), min_grn_per_gene)
        tf_ids = np.stack([rng.choice(n_tfs, size=min_grn_per_gene, replace=False) for _ in range(n_genes)]).ravel()
        forced = tf_ids * n_genes + gene_ids
    grn = unique_pairs(n_tfs, sizes["n_grn"], forced)
    graph = RegulatoryGraph(
        {"snp": snps, "tf": tfs, "gene": genes},
        {("snp", "eqtl", "gene"): eqtl, ("tf", "regulates", "gene"): grn},
    )
    maf = rng.uniform(0.05, 0.5, size=n_snps)
    dosage = np.empty((n, n_snps), dtype=np.dtype(genotype_dtype))
    for start in range(0, n_snps, 50_000):
        stop = min(start + 50_000, n_snps)
        dosage[:, start:stop] = rng.binomial(2, maf[start:stop], size=(n, stop - start))
    snp = pd.DataFrame(dosage, index=samples, columns=snps, copy=False)
    tf = pd.DataFrame(rng.normal(size=(n, n_tfs)).astype(np.float32), index=samples, columns=tfs)
    labels = pd.Series(np.where(rng.random(n) < 0.5, "case", "control"), index=samples)
    return {"snp": snp, "tf": tf}, labels, graph


# ---------------------------------------------------------------------------- child process
def vm_peak_mib() -> float:
    """Peak virtual address space (what RLIMIT_AS caps)."""
    return status_mib("VmPeak")


def child_main(spec: dict) -> dict:
    """Fit one model; returns the measurements. Runs in its own process."""
    import torch

    torch.set_num_threads(spec["threads"])
    classes = _model_classes()
    start = time.perf_counter()
    X, y, graph = random_cohort(spec["sizes"], spec["seed"], genotype_dtype=spec.get("genotypes", "int8"))
    data_s = time.perf_counter() - start
    out = {"rss_data_mib": peak_rss_mib(), "data_s": data_s, "threads": torch.get_num_threads()}
    model = classes[spec["method"]](
        graph,
        max_epochs=spec["epochs"],
        validation_fraction=0.0,
        batch_size=spec["batch_size"],
        random_state=spec["seed"],
        # One network against the reference, as the table measured it (the defaults of the time).
        n_members=1,
        null_members=0,
        hidden_dims=(64,),
        edge_init_scale=1.0,
    )
    start = time.perf_counter()
    try:
        model.fit(X, y)
    except (RuntimeError, MemoryError) as error:  # RLIMIT_AS turns an impossible allocation into this
        if isinstance(error, MemoryError) or "alloc" in str(error).lower() or "memory" in str(error).lower():
            out.update(oom=True, error=str(error).splitlines()[0][:300], peak_rss_mib=peak_rss_mib(), vm_peak_mib=vm_peak_mib())
            return out
        raise
    out["fit_s"] = time.perf_counter() - start
    epochs = model.clock_.epoch_seconds()
    if len(epochs) != spec["epochs"]:
        msg = f"expected {spec['epochs']} epochs, the hook timed {len(epochs)}"
        raise RuntimeError(msg)
    encoders = model.module_.encoders
    out.update(
        oom=False,
        epoch_s=epochs,
        median_epoch_s=statistics.median(epochs[1:] if len(epochs) > 1 else epochs),
        peak_rss_mib=peak_rss_mib(),
        vm_peak_mib=vm_peak_mib(),
        train_loss=[h["train_loss"] for h in model.history_],
        n_parameters=sum(p.numel() for p in model.module_.parameters()),
        n_train=len(y),
        steps_per_epoch=-(-len(y) // spec["batch_size"]),
        encoders={m: type(e).__name__ for m, e in encoders.items()},
        kernels={m: [c.active_kernel for c in e.convs] for m, e in encoders.items() if hasattr(e, "convs")},
        n_edges={m: [c.n_edges for c in e.convs] for m, e in encoders.items() if hasattr(e, "convs")},
    )
    return out


def run_child(spec: dict, mem_cap_gb: float | None = None, script: str | None = None) -> dict:
    """Run one child with OMP/MKL thread counts set and an optional address-space cap."""
    env = dict(os.environ, OMP_NUM_THREADS=str(spec["threads"]), MKL_NUM_THREADS=str(spec["threads"]))

    def limit():
        if mem_cap_gb:
            cap = int(mem_cap_gb * GIB)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    command = [sys.executable, script or os.path.abspath(__file__), "--child", json.dumps(spec)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=limit, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1][len("RESULT ") :])
    tail = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
    memory_words = ("memory", "alloc", "bad_alloc", "killed")
    if mem_cap_gb and (proc.returncode < 0 or any(w in proc.stderr.lower() for w in memory_words)):
        return {"oom": True, "error": f"exit status {proc.returncode}: {tail[0][:300]}"}
    msg = f"child {spec['method']} failed (exit status {proc.returncode}):\n{proc.stderr[-4000:]}"
    raise RuntimeError(msg)


# ---------------------------------------------------------------------------- machine and load
class OtherLoad:
    """Samples the CPU use of processes outside this process tree every ``interval`` seconds."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.samples: list[float] = []  # % of one core, summed over other processes
        self.top: dict[str, float] = {}  # command -> highest % of one core seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _read() -> dict[int, tuple[int, int, str]]:
        procs = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
            except OSError:
                continue
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            procs[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), name)  # ppid, utime + stime
        return procs

    def _ours(self, procs) -> set[int]:
        ours, changed = {os.getpid()}, True
        while changed:
            changed = False
            for pid, (ppid, _, _) in procs.items():
                if ppid in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        return ours

    def _run(self) -> None:
        before, t0 = self._read(), time.monotonic()
        while not self._stop.wait(self.interval):
            now, t1 = self._read(), time.monotonic()
            ours = self._ours(now)
            total = 0.0
            for pid, (_, ticks, name) in now.items():
                if pid in ours or pid not in before:
                    continue
                pct = 100.0 * (ticks - before[pid][1]) / self._tick / (t1 - t0)
                total += pct
                if pct > 5:
                    self.top[name] = max(self.top.get(name, 0.0), pct)
            self.samples.append(total)
            before, t0 = now, t1

    def __enter__(self) -> OtherLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        if not self.samples:
            return "other processes' CPU use: not sampled"
        mean, peak = statistics.mean(self.samples), max(self.samples)
        busy = sum(s > 20 for s in self.samples) / len(self.samples)
        shared = "**shared**: other processes were busy" if mean > 5 or busy > 0.05 else "otherwise idle"
        names = ", ".join(f"{k} {v:.0f} %" for k, v in sorted(self.top.items(), key=lambda kv: -kv[1])[:5])
        return (
            f"other processes' CPU use during the run (sampled every {self.interval:.0f} s, % of one core, "
            f"2 cores = 200 %): mean {mean:.0f} %, max {peak:.0f} %, above 20 % in {100 * busy:.0f} % of samples; "
            f"machine {shared}" + (f" (busiest: {names})" if names else "")
        )


def machine_info(command: str, threads) -> list[str]:
    import torch
    import torch_geometric

    cpu = cpu_model()
    with open("/proc/meminfo") as f:
        mem_gib = int(f.readline().split()[1]) / 1024**2
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores, {mem_gib:.0f} GiB RAM; torch threads (and OMP_NUM_THREADS) per run: {threads}",
        f"- torch {torch.__version__}, torch_geometric {torch_geometric.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"- {deepgami_source()}",
        f"- load average at start (1/5/15 min): {' / '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"- command: `{command}`",
    ]


def deepgami_source() -> str:
    """Which deepgami ran: its folder, and the commit (a checkout's HEAD, or a COMMIT file beside ``src``)."""
    import deepgami

    package = os.path.dirname(os.path.abspath(deepgami.__file__))
    root = os.path.dirname(os.path.dirname(package))
    marker = os.path.join(root, "COMMIT")
    if os.path.exists(marker):
        with open(marker) as f:
            return f"deepgami {deepgami.__version__} from {package}, an export of commit {f.read().strip()[:12]}"
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "src"], capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"deepgami {deepgami.__version__} from {package}"
    return f"deepgami {deepgami.__version__} from {package}, commit {head[:12]}" + (" with uncommitted changes under src/" if dirty else "")


def command_line() -> str:
    return "python " + " ".join([os.path.relpath(sys.argv[0]) if os.path.exists(sys.argv[0]) else sys.argv[0], *sys.argv[1:]])


# ---------------------------------------------------------------------------- report
def loss_gap(a: list[float], b: list[float]) -> float:
    return max(abs(x - y) / max(abs(x), 1e-12) for x, y in zip(a, b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch/OMP threads; one row per value")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per fit (the first is a warm-up)")
    parser.add_argument("--repeats", type=int, default=3, help="child processes per model and thread count")
    parser.add_argument("--batch-size", type=int, default=32, help="the estimator's default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--genotypes", choices=("int8", "float32"), default="int8", help="dtype of the SNP table given to fit")
    parser.add_argument("--mem-cap-gb", type=float, default=16.0, help="address-space cap of each child (RLIMIT_AS)")
    parser.add_argument("--quick", action="store_true", help="small cohort, 3 epochs, 1 repeat, 1 thread (smoke run)")
    parser.add_argument("--out", default=None, help="default bench/results_fit.md (--quick: /tmp/deepgami_bench_fit_quick.md)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child_main(json.loads(args.child))), flush=True)
        return
    sizes = PAPER
    if args.quick:
        sizes, args.epochs, args.repeats, args.threads = QUICK, 3, 1, [1]
    out_path = args.out or ("/tmp/deepgami_bench_fit_quick.md" if args.quick else "bench/results_fit.md")
    command = command_line()

    results: dict[tuple[str, int], list[dict]] = {}
    wall = time.perf_counter()
    with OtherLoad() as load:
        for repeat in range(args.repeats):
            for threads in args.threads:
                order = METHODS if repeat % 2 == 0 else METHODS[::-1]
                for method in order:
                    spec = {"method": method, "threads": threads, "sizes": sizes, "epochs": args.epochs,
                            "batch_size": args.batch_size, "seed": args.seed, "genotypes": args.genotypes}
                    r = run_child(spec, args.mem_cap_gb)
                    if r.get("oom"):
                        msg = f"{method} ran out of memory under the {args.mem_cap_gb} GB cap: {r['error']}"
                        raise RuntimeError(msg)
                    results.setdefault((method, threads), []).append(r)
                    print(f"repeat {repeat + 1}, {threads} thread(s), {method}: {r['median_epoch_s']:.3f} s/epoch, "
                          f"peak {r['peak_rss_mib']:.0f} MiB", flush=True)
    wall = time.perf_counter() - wall

    first = results[("deepgami", args.threads[0])][0]
    lines = ["# End-to-end training: deepgami vs the dense masked reference", ""]
    lines += machine_info(command, ", ".join(map(str, args.threads)))
    lines += [
        f"- {load.summary()}",
        f"- cohort: {sizes['n_samples']} samples (all used for training), {sizes['n_snps']:,} SNPs -> {sizes['n_genes']:,} genes "
        f"({first['n_edges']['snp'][0]:,} eQTL edges), {sizes['n_tfs']:,} TFs -> {sizes['n_genes']:,} genes "
        f"({first['n_edges']['tf'][0]:,} GRN edges), 2 classes, random data and edges, seed {args.seed}; genotypes given to `fit` as {args.genotypes}",
        f"- `DeepGAMIClassifier` defaults except max_epochs={args.epochs}, validation_fraction=0 (no early stopping), "
        f"batch_size={args.batch_size} ({first['steps_per_epoch']} steps per epoch); deepgami kernels: "
        + ", ".join(f"{m} {'/'.join(k)}" for m, k in first["kernels"].items()),
        f"- time per epoch: median over epochs 2..{args.epochs} of one fit (epoch 1 is a warm-up), then the median over "
        f"{args.repeats} fits, each in its own child process (models alternating); peak RSS = `ru_maxrss` of that child, "
        "data generation included; total wall time of the benchmark "
        f"{wall / 60:.1f} min",
        "",
        "| threads | model | guided encoder | parameters | s / epoch (median) | per fit (min-max) | first epoch s | fit s | peak RSS MiB | RSS after data MiB | speed-up | memory ratio |",
        "|---:|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for threads in args.threads:
        med = {}
        for method in METHODS:
            rs = results[(method, threads)]
            per_fit = [r["median_epoch_s"] for r in rs]
            med[method] = (statistics.median(per_fit), statistics.median(r["peak_rss_mib"] for r in rs))
        for method in METHODS:
            rs = results[(method, threads)]
            per_fit = [r["median_epoch_s"] for r in rs]
            speed = f"{med['reference'][0] / med['deepgami'][0]:.1f}x" if method == "deepgami" else ""
            memory = f"{med['reference'][1] / med['deepgami'][1]:.1f}x" if method == "deepgami" else ""
            encoder = "W (n_features x n_genes) and 0/1 mask M" if method == "reference" else "BioDropConnect, one weight per edge"
            lines.append(
                f"| {threads} | {method} | {encoder} | {rs[0]['n_parameters']:,} | {med[method][0]:.3f} | "
                f"{min(per_fit):.3f}-{max(per_fit):.3f} | {statistics.median(r['epoch_s'][0] for r in rs):.3f} | "
                f"{statistics.median(r['fit_s'] for r in rs):.1f} | {med[method][1]:,.0f} | "
                f"{statistics.median(r['rss_data_mib'] for r in rs):,.0f} | {speed} | {memory} |"
            )
    gaps = [loss_gap(a["train_loss"], b["train_loss"])
            for t in args.threads for a, b in zip(results[("reference", t)], results[("deepgami", t)])]
    lines += [
        "",
        "Speed-up = reference / deepgami median time per epoch; memory ratio = reference / deepgami median peak RSS "
        "(whole process: Python, torch, the data and the model).",
        f"Both models follow the same training run: the largest relative difference between their per-epoch training "
        f"losses was {max(gaps):.1e} (float32 summation order).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(out_path, "w") as f:
        f.write(text)
    print(f"written to {out_path}")


if __name__ == "__main__":
    main()
