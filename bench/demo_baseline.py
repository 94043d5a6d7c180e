"""DeepGAMI against scikit-learn baselines on the embedded demo cohort, same split.

Reproduces the README table: `deepgami demo`'s cohort and train/test split; logistic
regression (L2, C tuned by 5-fold CV on the training rows only) on the concatenated SNP and
TF features, and on each modality alone; DeepGAMI with its defaults, as `deepgami demo` runs it.

    python bench/demo_baseline.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepgami import DeepGAMIClassifier, RegulatoryGraph
from deepgami.config import parse_config
from deepgami.data import MultiOmicsData
from deepgami.metrics import classification_metrics
from deepgami.simulate import CONFIG_TEMPLATE, simulate_cohort
from deepgami.workflow import split_rows


def logistic_regression(X_train, y_train, X_test, classes, seed):
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=seed)),
        {"logisticregression__C": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]},
        cv=5,
        scoring="balanced_accuracy",
    ).fit(X_train, y_train)
    proba = search.predict_proba(X_test)
    return proba[:, [list(search.classes_).index(c) for c in classes]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="DeepGAMI training seeds")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)

    cohort = simulate_cohort()
    config = parse_config(tomllib.loads(CONFIG_TEMPLATE), base=Path("."))
    data = MultiOmicsData(cohort.modalities, cohort.labels)
    train, test = split_rows(data, config)
    y_train, y_test = cohort.labels.iloc[train], cohort.labels.iloc[test].to_numpy()
    classes = np.unique(cohort.labels)
    rows = []
    features = {"snp + tf": np.hstack([cohort.snp, cohort.tf]), "snp": cohort.snp.to_numpy(), "tf": cohort.tf.to_numpy()}
    for name, X in features.items():
        start = time.perf_counter()
        proba = logistic_regression(X[train], y_train, X[test], classes, seed=0)
        rows.append(("logistic regression (L2, CV-tuned)", name, classification_metrics(y_test, proba, classes), time.perf_counter() - start))

    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
    for seed in args.seeds:
        start = time.perf_counter()
        model = DeepGAMIClassifier(graph, random_state=seed).fit(data.subset(train))
        seconds = time.perf_counter() - start
        test_data = data.subset(test)
        for name, use in (("snp + tf", None), ("snp", ("snp",)), ("tf", ("tf",))):
            proba = model.predict_proba(test_data, use_modalities=use)
            rows.append((f"DeepGAMI (seed {seed})", name, classification_metrics(y_test, proba, classes), seconds))

    print(f"demo cohort: {len(data)} samples, {len(train)} train / {len(test)} test (split seed 0)\n")
    print("| method | modalities at test | BACC | AUC | fit s |")
    print("|---|---|---|---|---|")
    for method, name, metrics, seconds in rows:
        print(f"| {method} | {name} | {metrics['bacc']:.3f} | {metrics['auc']:.3f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
