"""What a checkpoint costs: time per epoch of a paper-scale fit with and without one.

A simulated cohort of the DeepGAMI paper's size, ``simulate_cohort(600, 7430, 208, 2870, seed=0)``
(600 samples, 7,430 SNPs, 208 TFs, 2,870 genes, with the eQTL and GRN edges the simulator
plants), all samples used for training, is fit by the default ``DeepGAMIClassifier`` (5
cross-fitted members and 5 null members, validation every epoch) for ``--epochs`` epochs (no
early stopping that soon), with and without a checkpoint (``fit(X, y, checkpoint=Checkpoint(folder,
"bench"))``, a fresh folder under ``--work`` for every fit, on the disk of the working tree;
writes go through the page cache, no fsync), alternating, ``--repeats`` times each, in one
process with 1 torch thread.

Time per epoch: a hook on the network's ``train()`` method (``train_module`` calls it at the
start of every epoch) timestamps the epoch starts; an epoch runs from its start to the next
one's, so it holds the training steps, the validation and the checkpoint written after it. Epoch
1 (warm-up) and the last (not closed by a next start) are left out. Reported: the median over
fits of each fit's median epoch, their ratio, the median time of one ``Checkpoint.save`` and the
size of the checkpoint folder.

    python bench/bench_checkpoint.py [--epochs 7] [--repeats 5] [--out bench/results_checkpoint.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.checkpoint import Checkpoint
from deepgami.simulate import simulate_cohort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

PAPER = {"n_samples": 600, "n_snps": 7_430, "n_tfs": 208, "n_genes": 2_870}
TARGET = 0.05


class TimedClassifier(DeepGAMIClassifier):
    """The package's classifier; its network records when each epoch starts."""

    def _build_module(self, member_seeds=None):
        module = super()._build_module(member_seeds)
        self.epoch_starts_: list[float] = []
        original = module.train

        def train(mode: bool = True):
            if mode:
                self.epoch_starts_.append(time.perf_counter())
            return original(mode)

        module.train = train  # instance attribute: only the top-level call is recorded
        return module


class TimedCheckpoint(Checkpoint):
    """A checkpoint that records how long each save takes."""

    def __init__(self, folder: Path, fingerprint: str) -> None:
        super().__init__(folder, fingerprint)
        self.save_seconds: list[float] = []

    def save(self, state, rank=0):
        start = time.perf_counter()
        super().save(state, rank)
        self.save_seconds.append(time.perf_counter() - start)


def fit_once(X, y, graph, epochs: int, folder: Path | None) -> dict:
    checkpoint = TimedCheckpoint(folder, "bench") if folder is not None else None
    model = TimedClassifier(graph, max_epochs=epochs)
    start = time.perf_counter()
    model.fit(X, y, checkpoint=checkpoint)
    result = {"fit_s": time.perf_counter() - start, "epochs": len(model.history_)}
    starts = model.epoch_starts_
    if len(starts) != epochs or result["epochs"] != epochs:
        msg = f"expected {epochs} epochs, trained {result['epochs']} and timed {len(starts)} starts"
        raise RuntimeError(msg)
    result["epoch_s"] = statistics.median(b - a for a, b in zip(starts[1:-1], starts[2:]))
    if checkpoint is not None:
        result["save_s"] = statistics.median(checkpoint.save_seconds)
        result["bytes"] = sum(p.stat().st_size for p in folder.iterdir())
        shutil.rmtree(folder)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("bench/out/checkpoint"), help="checkpoint folders (deleted after each fit)")
    parser.add_argument("--out", type=Path, default=Path("bench/results_checkpoint.md"))
    args = parser.parse_args()
    if args.epochs < 4:
        parser.error("--epochs must be at least 4 (epoch 1 and the last are not timed)")
    torch.set_num_threads(1)
    load = os.getloadavg()
    wall = time.perf_counter()
    cohort = simulate_cohort(**PAPER, seed=0)
    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
    args.work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    for repeat in range(args.repeats):
        for name in ("without", "with"):
            folder = args.work / f"fit_{repeat}" if name == "with" else None
            runs[name].append(fit_once(cohort.modalities, cohort.labels, graph, args.epochs, folder))
            print(name, repeat, {k: round(v, 4) for k, v in runs[name][-1].items()}, flush=True)
    wall = time.perf_counter() - wall

    def median(name: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[name])

    without, with_ = median("without", "epoch_s"), median("with", "epoch_s")
    ratio = with_ / without
    spread = {name: f"{min(r['epoch_s'] for r in runs[name]):.3f}-{max(r['epoch_s'] for r in runs[name]):.3f}" for name in runs}
    verdict = "within" if ratio - 1 <= TARGET else "over"
    lines = [
        "# What a checkpoint costs",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()}, torch {torch.__version__}, 1 torch thread; "
        f"load average at start {' / '.join(f'{v:.2f}' for v in load)}. "
        f"Command: `python bench/bench_checkpoint.py --epochs {args.epochs} --repeats {args.repeats}`; wall time {wall / 60:.1f} min.",
        "",
        f"Cohort: `simulate_cohort(600, 7430, 208, 2870, seed=0)`: {len(cohort.labels)} samples, {cohort.snp.shape[1]:,} SNPs, "
        f"{cohort.tf.shape[1]} TFs, {cohort.grn['target'].nunique():,} genes; {len(cohort.eqtl):,} eQTL and {len(cohort.grn):,} GRN edges "
        "(the simulator's planted prior; the paper's had about 11,000 and 57,000). All samples train. `DeepGAMIClassifier` defaults "
        f"(5 cross-fitted members, 5 null members, validation every epoch) with max_epochs={args.epochs}; fits with and without a "
        f"checkpoint alternate, {args.repeats} of each, in one process. An epoch is timed from its start to the next one's (training, "
        "validation and the checkpoint written after it); epochs 2 to "
        f"{args.epochs - 1} of each fit, median per fit, then the median over fits (min-max over fits in brackets).",
        "",
        "| | s per epoch | fit s | one checkpoint save s | checkpoint size |",
        "|---|---|---|---|---|",
        f"| without checkpoint | {without:.3f} ({spread['without']}) | {median('without', 'fit_s'):.2f} | | |",
        f"| with checkpoint | {with_:.3f} ({spread['with']}) | {median('with', 'fit_s'):.2f} | {median('with', 'save_s'):.3f} | "
        f"{median('with', 'bytes') / 2**20:.1f} MiB |",
        "",
        f"Epoch time with checkpointing / without: **x{ratio:.3f}** ({ratio - 1:+.1%}); one save is "
        f"{median('with', 'save_s') / without:.1%} of an epoch without. Verdict: **{verdict} the {TARGET:.0%} target**.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
