"""What an ensemble costs: fit time of K members batched in one module against one network.

On cohorts of the recovery panel (``panel_settings(20, 4, seed=2026)``, the first ``--cohorts``
planted ones of 1,000 samples), fits one network, 5 and 10 members (cross-fitted), each alone and
with 5 null members, round-robin in one process, 1 CPU thread, on the CPU or a CUDA device, and reports
the medians of fit time and time per epoch (early stopping makes the epoch counts differ) and
their ratios to one network.

    python bench/bench_members.py [--cohorts 3] [--device cuda] [--out bench/results_members.md]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.simulate import panel_settings, simulate_cohort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

SETTINGS = {
    "one network": {"n_members": 1, "null_members": 0},
    "5 members": {"n_members": 5, "null_members": 0},
    "5 members + 5 null": {"n_members": 5, "null_members": 5},
    "10 members": {"n_members": 10, "null_members": 0},
    "10 members + 5 null": {"n_members": 10, "null_members": 5},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cohorts", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", type=Path, default=Path("bench/results_members.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    panel = [s for s in panel_settings(20, 4, seed=2026) if s["n_samples"] == 1000 and s["difficulty"] > 0][: args.cohorts]
    rows = []
    if args.device != "cpu":  # the first CUDA call initialises the context; keep it out of the timings
        torch.zeros(1, device=args.device).sum().item()
    for settings in panel:
        cohort = simulate_cohort(**settings)
        graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
        for name, params in SETTINGS.items():
            start = time.perf_counter()
            model = DeepGAMIClassifier(graph, device=args.device, **params).fit(cohort.modalities, cohort.labels)
            seconds = time.perf_counter() - start
            rows.append({"cohort": settings["seed"], "model": name, "fit_s": seconds, "epochs": len(model.history_), "s_per_epoch": seconds / len(model.history_)})
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    base = frame[frame["model"] == "one network"].set_index("cohort")
    machine = cpu_model() if args.device == "cpu" else f"{torch.cuda.get_device_name(args.device)} ({cpu_model()} host)"
    device_flag = "" if args.device == "cpu" else f" --device {args.device}"
    lines = [
        "# What an ensemble costs",
        "",
        f"Machine: {machine}, {platform.system()}, torch {torch.__version__}, 1 CPU thread. Command: `python bench/bench_members.py --cohorts {args.cohorts}{device_flag}`. "
        f"Cohorts: the first {len(panel)} planted cohorts of 1,000 samples in the recovery panel (3,000 SNPs, 150 TFs, 600 genes; all samples used for training). "
        "Medians over cohorts; ratios are to one network on the same cohort, in the same run.",
        "",
        "| model | fit s | epochs | s per epoch | fit time ratio | per-epoch ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name in SETTINGS:
        part = frame[frame["model"] == name].set_index("cohort")
        lines.append(
            f"| {name} | {part['fit_s'].median():.1f} | {part['epochs'].median():.0f} | {part['s_per_epoch'].median():.3f} | "
            f"x{(part['fit_s'] / base['fit_s']).median():.2f} | x{(part['s_per_epoch'] / base['s_per_epoch']).median():.2f} |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
