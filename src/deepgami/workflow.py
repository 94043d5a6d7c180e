"""End-to-end jobs behind the CLI: load a config's data, split, fit, evaluate, write outputs.

Everything is validated and computed before the output folder is touched, and files are
written to a temporary folder first, so a failed run leaves no partial output.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .checkpoint import Checkpoint
from .config import RunConfig, load_config
from .data import MultiOmicsData
from .distributed import is_main_process
from .errors import InputError, preview
from .estimator import DeepGAMIClassifier, DeepGAMIEstimator, DeepGAMIMultiTarget, DeepGAMIRegressor, DeepGAMISurvival
from .explain import Explanation, explain_model
from .graph import RegulatoryGraph, leftover_node_names
from .network import class_overlap, enrichment, hubs, modules, prioritized_network, read_gmt, top_edges, write_cytoscape
from .paths import top_paths
from .plotting import (
    plot_class_comparison,
    plot_feature_summary,
    plot_kaplan_meier,
    plot_network,
    plot_paths,
    plot_predicted_vs_observed,
    plot_roc,
)
from .readers import read_edges, read_ids, read_label_columns, read_labels, read_modality, read_sample_table, read_survival_labels
from .tasks import label_strata, numeric_labels, survival_labels, target_labels

if TYPE_CHECKING:
    from .evaluation.cv import CVSettings

log = logging.getLogger(__name__)

MODEL_DIR = "model"
CONFIG_FILE = "config.toml"
#: The estimator of each ``[data] task``.
ESTIMATORS: dict[str, type[DeepGAMIEstimator]] = {
    "classification": DeepGAMIClassifier, "regression": DeepGAMIRegressor, "survival": DeepGAMISurvival, "multi": DeepGAMIMultiTarget
}  # fmt: skip
#: Chains per class in paths.csv of a deeper prior (the figure draws the top 20).
PATHS_PER_CLASS = 100
#: The test-set figure of each task.
FIGURES = {"classification": "roc.png", "regression": "predicted_vs_observed.png", "survival": "kaplan_meier.png"}


@dataclass
class FitResult:
    """What :func:`run_fit` produced."""

    model: DeepGAMIEstimator
    metrics: dict
    predictions: pd.DataFrame
    seconds: float


def check_files(config: RunConfig) -> None:
    """Every file the config names exists, or one error listing all that do not."""
    named = {config.labels: "labels file"}
    if config.covariates is not None:
        named[config.covariates] = "covariates file"
    named.update({m.path: f"modality '{m.name}' file" for m in config.modalities})
    named.update({e.path: "edge table" for e in config.edges})
    if config.test_ids is not None:
        named[config.test_ids] = "test_ids file"
    named.update({config.preprocessing[k]["path"]: f"{k} file" for k in ("covariates", "batch") if k in config.preprocessing})
    # A PLINK .bed needs its .bim and .fam beside it (bed-reader's default names).
    named.update({p.with_suffix(s): f"{what} ({s})" for p, what in list(named.items()) if p.suffix == ".bed" for s in (".bim", ".fam")})
    missing = [f"{what} {path}" for path, what in named.items() if not path.is_file()]
    if missing:
        rule = "relative paths in a config resolve against the config file's folder"
        head = f"{missing[0]} does not exist" if len(missing) == 1 else f"{len(missing)} files do not exist: {'; '.join(missing)}"
        msg = f"{head} ({rule})"
        raise InputError(msg)


def load_data(config: RunConfig) -> tuple[MultiOmicsData, RegulatoryGraph | None]:
    """Read the labels, modalities and edge tables of a config; align samples."""
    check_files(config)
    labels = read_task_labels(config)
    tables = {m.name: read_modality(m.path, m.name, m.orientation) for m in config.modalities}
    data = MultiOmicsData(tables, labels, join=config.join)
    if config.covariates is not None:
        data = data.with_covariates(read_sample_table(config.covariates, "covariates"))
        log.info("covariates: %s", ", ".join(map(str, data.covariates.columns)))
    for name in data.modality_names:
        log.info("modality %s: %d of %d samples", name, int(data.observed[name].sum()), len(data))
    if config.task == "classification" and data.labels.nunique() < 2:
        msg = f"the labels hold a single class ({data.labels.iloc[0]!r}); a classifier needs two or more"
        raise InputError(msg)
    for spec in config.modalities:
        observed = data.modalities[spec.name][data.observed[spec.name]]
        n_missing = int(observed.isna().to_numpy().sum())
        if n_missing and spec.missing == "error":
            msg = (
                f"modality '{spec.name}' has {n_missing} missing values (NaN); remove them or set "
                f'missing = "mean" under [data.modalities.{spec.name}] to impute training means'
            )
            raise InputError(msg)
    graph = None
    if config.edges:
        frames = [
            (read_edges(e.path, e.source_column, e.target_column, e.weight_column), e.source, e.target, e.relation)
            for e in config.edges
        ]
        for (frame, source, _, _), spec in zip(frames, config.edges):
            if source not in data.modalities:
                continue  # a latent type (TF -> gene): matched to the levels below it in the model
            features = set(data.modalities[source].columns)
            if not frame["source"].isin(features).any():
                msg = (
                    f"no source of edge table {spec.path.name} matches a feature of modality '{source}' "
                    f"(edge sources e.g. {preview(frame['source'].unique())}; features e.g. "
                    f"{preview(data.modalities[source].columns)}); use the same ids in both"
                )
                raise InputError(msg)
        graph = RegulatoryGraph.from_edge_tables(frames)
        # Measured modalities that relations end in get their activity type (as the model sees them).
        measured = sorted({spec.target for spec in config.edges} & set(data.modalities))
        walked = graph.with_measured_targets(measured, {m: data.modalities[m].columns for m in measured}) if measured else graph
        layout = walked.layout
        if layout.one_hop:
            log.info("prior: relations end in latent node type '%s'", layout.meeting)
        else:
            log.info("prior: inputs meet at '%s'; latent node types bottom-up: %s", layout.meeting, " -> ".join(layout.order))
    return data, graph


def read_task_labels(config: RunConfig) -> pd.Series | pd.DataFrame:
    """The labels of a config's task, checked: class names (strings), numbers (regression) or
    a table of ``time`` and ``event`` (survival); samples without any label value are left out
    (and counted when samples are aligned)."""
    if config.targets:
        table = read_label_columns(config.labels, config.id_column, {t.name: t.columns() for t in config.targets})
        parts = []
        for target in config.targets:
            columns = target.columns()
            raw = table[columns].set_axis(["time", "event"], axis=1) if target.task == "survival" else table[columns[0]]
            part = _checked_labels(raw, target.task)
            parts.append(part.add_prefix(f"{target.name}:") if target.task == "survival" else part.rename(target.name))
        return pd.concat(parts, axis=1)
    if config.task == "survival":
        raw = read_survival_labels(config.labels, config.id_column, config.time_column, config.event_column)
        return _checked_labels(raw, "survival")
    return _checked_labels(read_labels(config.labels, config.id_column, config.label_column), config.task)


def _checked_labels(raw: pd.Series | pd.DataFrame, task: str) -> pd.Series | pd.DataFrame:
    """One target's labels as its task reads them; samples without a value are left out."""
    if task == "survival":
        raw = raw[raw.notna().any(axis=1)]
        time, event = survival_labels(raw)
        return pd.DataFrame({"time": time, "event": event.astype(np.int64)}, index=raw.index)
    if task == "regression":
        raw = raw[raw.notna()]
        return pd.Series(numeric_labels(raw), index=raw.index, name=raw.name)
    return raw


def split_rows(data: MultiOmicsData, config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """Training and test row positions: the ``test_ids`` list, or a stratified random split."""
    rows = np.arange(len(data))
    if config.test_ids is not None:
        ids = read_ids(config.test_ids)
        is_test = data.samples.isin(ids)
        unknown = sorted(set(ids) - set(data.samples))
        if not is_test.any():
            msg = f"no id of {config.test_ids.name} is a usable sample (e.g. {preview(ids)}); check the ids"
            raise InputError(msg)
        if unknown:
            log.warning("%d test ids are not usable samples and are ignored (%s)", len(unknown), preview(unknown))
        return rows[~is_test], rows[is_test]
    strata = split_strata(data.labels, config)
    counts = pd.Series(strata).value_counts()
    if config.task == "classification" and counts.min() < 2:
        msg = f"class {counts.idxmin()!r} has {counts.min()} sample; a stratified test split needs at least 2 per class"
        raise InputError(msg)
    train, test = train_test_split(
        rows, test_size=config.test_fraction, stratify=strata if counts.min() >= 2 else None, random_state=config.split_seed
    )
    return np.sort(train), np.sort(test)


def split_strata(labels: pd.Series | pd.DataFrame, config: RunConfig) -> np.ndarray:
    """What test splits are stratified by: the labels' strata (:func:`~deepgami.tasks.label_strata`),
    of the first target when there are several (samples without it form their own stratum)."""
    if not config.targets:
        return label_strata(labels, config.task)
    first = config.targets[0]
    own = target_labels(labels, first.name, first.task)
    present = np.asarray(own.notna().all(axis=1) if own.ndim == 2 else own.notna())
    strata = np.zeros(len(labels), dtype=np.int64)
    part = own[present]
    codes = label_strata(part, first.task)
    strata[present] = pd.factorize(codes)[0] + 1
    return strata


def evaluate(model: DeepGAMIEstimator, data: MultiOmicsData) -> tuple[dict[str, dict], dict[str, tuple]]:
    """Metrics with all modalities and with each single modality (the others imputed).

    Returns ``(metrics, curves)``: metrics keyed "all" and by modality; curves keyed by a
    display name, each ``(truth, scores)`` (labels, or survival's time and event table, and
    the model's predictions (n, n_outputs)) for the figures.
    """
    truth = _truth(data.labels)
    scores = model.predict_scores(data)
    results = {"all": model.task_.metrics(truth, scores)}
    curves = {"all modalities": (truth, scores)}
    for m in model.modalities_:
        observed = np.flatnonzero(data.observed[m])
        scores = model.predict_scores(data.subset(observed), use_modalities=(m,))
        results[m] = model.task_.metrics(truth[observed] if isinstance(truth, np.ndarray) else truth.iloc[observed], scores)
        curves[f"{m} only"] = (truth[observed] if isinstance(truth, np.ndarray) else truth.iloc[observed], scores)
    return results, curves


def _truth(labels: pd.Series | pd.DataFrame) -> np.ndarray | pd.DataFrame:
    """Labels as a task's metrics read them: an array, or survival's time and event table."""
    return labels if isinstance(labels, pd.DataFrame) else labels.to_numpy()


def figure_names(task) -> list[str]:
    """The test-set figures :func:`plot_test_set` writes for a task: one, or one per target."""
    if task.kind == "multi":
        return [f"{FIGURES[sub.kind].removesuffix('.png')}_{_file_label(name)}.png" for name, sub in task.targets.items()]
    return [FIGURES[task.kind]]


def plot_test_set(task, curves: dict[str, tuple], folder: Path) -> None:
    """The test-set figures of a task (:func:`figure_names`): ROC curves (classification),
    predicted against observed values (regression), Kaplan-Meier curves of predicted risk
    groups (survival); one per target of a model with several, each on the samples that have it."""
    if task.kind != "multi":
        _plot_one(task, curves, folder / FIGURES[task.kind])
        return
    for (name, sub), file in zip(task.targets.items(), figure_names(task)):
        own = {}
        for key, (truth, scores) in curves.items():
            labels = target_labels(truth, name, sub.kind)
            present = np.asarray(labels.notna().all(axis=1) if labels.ndim == 2 else labels.notna())
            part = labels[present]
            own[key] = (part if sub.kind == "survival" else part.to_numpy(), scores[present][:, task.outputs[name]])
        _plot_one(sub, own, folder / file, name)


def _plot_one(task, curves: dict[str, tuple], path: Path, target: str | None = None) -> None:
    """One single-target task's figure; ``target`` names the target of a model with several."""
    title = f"{target}: test set, all modalities" if target else "test set, all modalities"
    if task.kind == "classification":
        plot_roc(curves, task.classes, path, subtitle=target)
        return
    truth, scores = curves["all modalities"]
    if task.kind == "regression":
        plot_predicted_vs_observed(truth, scores[:, 0], path, title=title)
    else:
        plot_kaplan_meier(truth["time"].to_numpy(), truth["event"].to_numpy(), scores[:, 0], path, title=title)


def checkpoint_of(config: RunConfig, out: str | Path, *, resume: bool, extra: str = "") -> Checkpoint:
    """The checkpoint folder of a job writing ``out``: ``<out>.checkpoint`` beside it (``out``
    itself is only ever written whole), fingerprinted by the resolved config (and ``extra``).
    A checkpoint an interrupted job left is refused unless ``resume``, so nothing is resumed
    or lost by accident."""
    out = Path(out)
    try:  # before any work: a folder that cannot be made fails now, not after training
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        msg = f"cannot write the output folder {out}: {error.strerror or error}"
        raise InputError(msg) from error
    checkpoint = Checkpoint(out.with_name(f"{out.name}.checkpoint"), hashlib.sha256((config.to_toml() + extra).encode()).hexdigest())
    if checkpoint.exists() and not resume:
        msg = f"an interrupted run left a checkpoint in {checkpoint.folder}; pass --resume to go on from it, or remove the folder to start over"
        raise InputError(msg)
    return checkpoint


def run_fit(config: RunConfig, out: str | Path, *, progress: bool = False, resume: bool = False) -> FitResult:
    """Train on the training split, evaluate on the test split, write the run folder.

    Writes ``metrics.json``, ``predictions.csv`` (test samples), the task's figure (``roc.png``,
    ``predicted_vs_observed.png`` or ``kaplan_meier.png``), ``model/`` and
    ``config.toml`` (the resolved config) into ``out``. Training checkpoints every epoch to
    :func:`checkpoint_of`; ``resume`` goes on from a checkpoint an interrupted fit left there.
    The checkpoint is removed once ``out`` is written.
    """
    checkpoint = checkpoint_of(config, out, resume=resume)
    start = time.perf_counter()
    data, graph = load_data(config)
    train_rows, test_rows = split_rows(data, config)
    train, test = data.subset(train_rows), data.subset(test_rows)
    log.info("%s; %d training and %d test samples", data, len(train), len(test))
    if config.task == "classification" and len(np.unique(train.labels)) < 2:
        msg = f"the training samples hold a single class ({train.labels.iloc[0]!r}); a classifier needs two or more"
        raise InputError(msg)
    model = ESTIMATORS[config.task](graph, verbose=progress, **config.estimator_params)
    model.fit(train, checkpoint=checkpoint)
    if model.graph_ is not None:
        log.info("prior graph: %s", model.graph_report_)
    seconds = time.perf_counter() - start
    if not is_main_process():
        # In a torchrun process group every process trained the same model; process 0 writes.
        return FitResult(model, {}, pd.DataFrame(), seconds)
    test_metrics, curves = evaluate(model, test)
    metrics = {
        "test": test_metrics,
        "samples_per_modality": {m: int(data.observed[m].sum()) for m in data.modality_names},
        "n_train": len(train),
        "n_test": len(test),
        "epochs": len(model.history_),
        "fit_seconds": round(seconds, 2),
        "n_members": model.n_members,
        # How far the prior edges moved from their random start (||w - w0|| / ||w0||): near 0
        # means the guided layer stayed a random projection of the prior's pattern.
        "edge_movement": model.edge_movement_,
    }
    if model.oof_scores_ is not None:
        # Cross-fitted members: every training sample scored by the member that never trained on it.
        oof = model.oof_scores_.loc[train.samples]
        metrics["out_of_fold"] = model.task_.metrics(_truth(train.labels), oof.to_numpy())
    predictions = model.predict_table(test)
    with staged_output(out) as stage:
        model.save(stage / MODEL_DIR)
        (stage / "metrics.json").write_text(json.dumps(metrics, indent=2))
        predictions.to_csv(stage / "predictions.csv", index=False)
        plot_test_set(model.task_, curves, stage)
        (stage / CONFIG_FILE).write_text(config.to_toml())
    checkpoint.remove()
    return FitResult(model, metrics, predictions, seconds)


def run_explain(
    run_dir: str | Path,
    out: str | Path,
    *,
    samples: str = "test",
    use_modalities: Sequence[str] | None = None,
    baseline: str = "zeros",
    n_steps: int = 50,
    output: str = "proba",
    top_fraction: float = 0.1,
    max_q_value: float | None = None,
    gmt: str | Path | None = None,
    progress: bool = False,
) -> Explanation:
    """Attributions, prioritised networks and figures for a run folder written by :func:`run_fit`.

    ``samples``: ``"test"`` (the run's test split, as the paper does) or ``"all"``. Writes
    ``features.csv``, ``latents.csv``, ``edges.csv``, ``explain.json`` and, when the model has a
    prior graph, per class ``network_<class>.graphml`` with Cytoscape node/edge tables, hub,
    module and class-overlap tables, enrichment tables when ``gmt`` is given, and PNG figures.
    The networks hold each class's top ``top_fraction`` of edges, or, with ``max_q_value``,
    its edges with ``q_value <= max_q_value`` (models with null members).
    """
    run_dir = Path(run_dir)
    if samples not in ("test", "all"):
        msg = f"samples must be 'test' or 'all' (got {samples!r})"
        raise InputError(msg)
    if not (run_dir / CONFIG_FILE).is_file():
        msg = f"{run_dir} is not a run folder written by `deepgami fit` (no {CONFIG_FILE})"
        raise InputError(msg)
    model = DeepGAMIEstimator.load(run_dir / MODEL_DIR)
    config = load_config(run_dir / CONFIG_FILE)
    data, _ = load_data(config)
    if samples == "test":
        data = data.subset(split_rows(data, config)[1])
    unknown = [m for m in use_modalities or [] if m not in model.modalities_]
    if unknown:
        msg = f"--modality {unknown[0]} is not a modality of the model ({', '.join(model.modalities_)})"
        raise InputError(msg)
    if max_q_value is not None:
        # Checked before the attributions run: a cut that cannot be made should not cost minutes.
        if not 0 < max_q_value <= 1:
            msg = f"--max-q-value must lie in (0, 1] (got {max_q_value})"
            raise InputError(msg)
        if model.module_.n_null_members == 0:
            msg = "--max-q-value needs q-values, and this model has no null members; refit with null_members > 0 or cut by --top-fraction"
            raise InputError(msg)
    gene_sets = None
    if gmt is not None:
        gene_sets = read_gmt(gmt)
        _check_gene_sets(gene_sets, gmt, model)
    if model.graph_ is None:
        log.warning("the model has no prior graph: edges.csv will hold no rows and no networks are written")
    log.info("explaining %d %s samples with %s", len(data), samples, ", ".join(use_modalities or model.modalities_))
    explanation = explain_model(
        model, data, use_modalities=use_modalities, baseline=baseline, n_steps=n_steps, output=output, progress=progress
    )
    explanation.settings.update(
        {"samples": samples, "top_fraction": top_fraction, "max_q_value": max_q_value, "gmt": str(gmt) if gmt else None}
    )
    if max_q_value is not None and len(explanation.edges):
        for label in model.task_.output_names:
            passing = len(top_edges(explanation.edges, label, max_q_value=max_q_value))
            log.info("class %s: %d edges with q <= %g", label, passing, max_q_value)
            if passing == 0:
                msg = f"no edge of class {label} has q_value <= {max_q_value}; raise --max-q-value or cut by --top-fraction"
                raise InputError(msg)
    # The explained samples' scaled inputs, rows as in the attributions, colour the feature summary.
    explained = model.prediction_data(data, use_modalities)
    inputs = model.model_inputs(explained)
    with staged_output(out) as stage:
        explanation.features.to_csv(stage / "features.csv", index=False)
        explanation.latents.to_csv(stage / "latents.csv", index=False)
        explanation.edges.to_csv(stage / "edges.csv", index=False)
        plot_feature_summary(
            explanation.feature_per_sample,
            {m: x.cpu().numpy() for m, x in inputs.x_dict.items()},
            model.feature_names_in_,
            stage / "top_features.png",
            observed=explained.observed,
            score=_score_name(model, output),
        )
        if len(explanation.edges):
            _write_networks(explanation.edges, model, stage, top_fraction, max_q_value, gene_sets)
        if len(explanation.edges) and not model.graph_.layout.one_hop:
            _write_paths(explanation.edges, model, stage)
        (stage / "explain.json").write_text(
            json.dumps({"settings": explanation.settings, "completeness": explanation.completeness}, indent=2)
        )
    return explanation


def _write_paths(edges: pd.DataFrame, model: DeepGAMIEstimator, stage: Path) -> None:
    """A deeper prior's ``paths.csv`` (top chains per class) and ``paths_<class>.png`` (their flow across levels)."""
    tables = []
    for label in model.task_.output_names:
        table = top_paths(edges, label, n=PATHS_PER_CLASS)
        tables.append(table)
        if len(table):
            plot_paths(table, stage / f"paths_{_file_label(label)}.png")
    pd.concat(tables, ignore_index=True).to_csv(stage / "paths.csv", index=False)


def _score_name(model: DeepGAMIEstimator, output: str) -> str:
    """What the attributions explain, for figure labels."""
    if output != "proba":
        return {"classification": "class logit"}.get(model.task_.kind, "network output")
    return {"classification": "class probability", "regression": "predicted value", "survival": "log-risk"}.get(model.task_.kind, "prediction")


def _check_gene_sets(gene_sets: dict, gmt: str | Path, model: DeepGAMIEstimator) -> None:
    """Refuse, before any attribution runs, a GMT that cannot give an enrichment table: one that
    names none of the model's latent nodes, or a model without prior networks."""
    if model.graph_ is None:
        msg = f"--gmt needs prioritised networks, and this model has no prior graph; drop --gmt ({Path(gmt).name})"
        raise InputError(msg)
    latent = model.graph_.latent_type
    nodes = set(model.graph_.node_names[latent]) - set(leftover_node_names())
    members = {gene for _, genes in gene_sets.values() for gene in genes}
    if not members & nodes:
        msg = (
            f"gene-set file {Path(gmt).name} names no '{latent}' node of the model (sets hold e.g. {preview(sorted(members))}; "
            f"'{latent}' nodes are e.g. {preview(sorted(nodes))}); give sets over the latent nodes"
        )
        raise InputError(msg)


def _write_networks(
    edges: pd.DataFrame, model: DeepGAMIEstimator, stage: Path, top_fraction: float, max_q_value: float | None, gene_sets
) -> None:
    networks = {
        label: prioritized_network(edges, label, top_fraction=top_fraction, max_q_value=max_q_value) for label in model.task_.output_names
    }
    latent_type = model.graph_.latent_type
    # Gene sets are tested against the prior's own nodes, not the leftover ones.
    background = [n for n in model.graph_.node_names[latent_type] if n not in set(leftover_node_names())]
    # Latent node ids that are GMT set names (e.g. Reactome pathway ids) are drawn with the set's description.
    latent_nodes = set(model.graph_.node_names[latent_type])
    names = {
        k: description
        for k, (description, _) in (gene_sets or {}).items()
        if k in latent_nodes and description and not description.startswith("http")
    }
    hub_tables, module_tables = [], []
    for label, graph in networks.items():
        name = _file_label(label)
        write_cytoscape(graph, stage / "networks", f"network_{name}")
        plot_network(graph, stage / f"network_{name}.png", names=names)
        hub_tables.append(hubs(graph).assign(**{"class": label}))
        module_tables.append(modules(graph).assign(**{"class": label}))
        if gene_sets is not None:
            genes = [graph.nodes[n]["name"] for n in graph if graph.nodes[n]["node_type"] == latent_type]
            table = enrichment(genes, gene_sets, background)
            if table.empty:
                log.warning("class %s: no gene set holds enough latent nodes of the model to test; enrichment_%s.csv holds no rows", label, name)
            table.to_csv(stage / f"enrichment_{name}.csv", index=False)
    pd.concat(hub_tables, ignore_index=True).to_csv(stage / "hubs.csv", index=False)
    pd.concat(module_tables, ignore_index=True).to_csv(stage / "modules.csv", index=False)
    if len(networks) > 1:  # a regression or survival model has one network: nothing to compare
        class_overlap(networks).to_csv(stage / "class_overlap.csv", index=False)
        plot_class_comparison(edges, stage / "class_comparison.png", names=names)


def _file_label(label) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(label))


def cv_settings(config: RunConfig) -> CVSettings:
    """The settings of ``deepgami cv`` from a config; reads the covariate and batch tables it names."""
    from .evaluation.cv import CVSettings

    preprocessing = {k: v for k, v in config.preprocessing.items() if k not in ("covariates", "batch")}
    if "covariates" in config.preprocessing:
        spec = config.preprocessing["covariates"]
        preprocessing["covariates"] = read_sample_table(spec["path"], "covariates", spec.get("columns"))
        preprocessing["covariate_modalities"] = spec.get("modalities")
    if "batch" in config.preprocessing:
        spec = config.preprocessing["batch"]
        table = read_sample_table(spec["path"], "batch", [spec["column"]] if "column" in spec else None)
        if table.shape[1] == 0:
            msg = f"batch file {spec['path']} holds only sample ids; add a column of batch labels"
            raise InputError(msg)
        preprocessing["batch"] = table.iloc[:, 0]
        preprocessing["combat_modalities"] = spec.get("modalities")
    return CVSettings(
        **config.cv,  # [cv] keys are CVSettings fields; the ones left out keep its defaults
        search={k: v for k, v in config.search.items() if not isinstance(v, dict)},
        method_grids={k: v for k, v in config.search.items() if isinstance(v, dict)},
        estimator_params=config.estimator_params,
        preprocessing=preprocessing,
        test_fraction=config.test_fraction,
        test_ids=config.test_ids,
        split_seed=config.split_seed,
        task=config.task,
    )


def run_cv_job(config: RunConfig, out: str | Path, *, repeats: int | None = None, progress: bool = False, resume: bool = False):
    """``deepgami cv``: nested model selection and comparison; writes results.csv, summary.md, ROC PNGs.

    Each finished (split, method) is checkpointed (:func:`checkpoint_of`); ``resume`` keeps
    those of an interrupted run and runs only what is missing.
    """
    from .evaluation.cv import run_cv, write_cv

    if config.targets:
        msg = "deepgami cv compares methods on one target; give the config one target ([data] task and its label columns)"
        raise InputError(msg)
    if config.covariates is not None:
        msg = (
            "deepgami cv does not take [data] covariates yet (the baselines cannot read them); "
            "adjust the features for covariates with [preprocessing.covariates] instead"
        )
        raise InputError(msg)
    checkpoint = checkpoint_of(config, out, resume=resume, extra=f"repeats={repeats}")
    start = time.perf_counter()
    data, graph = load_data(config)
    settings = cv_settings(config)
    result = run_cv(data, graph, settings, repeats=repeats, progress=progress, checkpoint=checkpoint)
    seconds = time.perf_counter() - start
    counts = ", ".join(f"{m} {int(data.observed[m].sum())}" for m in data.modality_names)
    header = (
        f"{len(data)} samples ({counts}); {result.results['split'].nunique()} outer split(s), "
        f"{settings.folds} inner folds; wall time {seconds:.0f} s."
    )
    with staged_output(out) as stage:
        write_cv(result, stage, np.unique(data.labels.to_numpy()), header)
        (stage / CONFIG_FILE).write_text(config.to_toml())
    checkpoint.remove()
    return result, seconds


def run_predict(
    model_dir: str | Path, tables: Mapping[str, str | Path], out: str | Path, *, covariates: str | Path | None = None
) -> pd.DataFrame:
    """Predict from any subset of a run's modalities (and the covariates of a model fitted
    with them) and write the predictions CSV."""
    model_dir = Path(model_dir)
    if (model_dir / MODEL_DIR).is_dir():
        model_dir = model_dir / MODEL_DIR
    model = DeepGAMIEstimator.load(model_dir)
    frames = {name: read_modality(path, name) for name, path in tables.items()}
    if model.covariates_ is not None and covariates is None:
        msg = "the model was fitted with covariates and needs them to predict; pass --covariates PATH"
        raise InputError(msg)
    table = None if covariates is None else read_sample_table(covariates, "covariates")
    predictions = model.predict_table(frames, covariates=table)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=out.parent, suffix=".tmp", delete=False) as handle:
            try:
                predictions.to_csv(handle, index=False)
            except OSError:
                Path(handle.name).unlink(missing_ok=True)
                raise
        Path(handle.name).replace(out)
    except OSError as error:
        msg = f"cannot write the predictions file {out}: {error.strerror or error}"
        raise InputError(msg) from error
    return predictions


@contextmanager
def staged_output(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success move its entries into ``out``.

    Entries of ``out`` with the same names are replaced; other files there are left alone.
    On failure nothing under ``out`` changes; a folder that cannot be written, or a disk that
    fills up while writing, ends in one :class:`InputError` line.
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as error:
        msg = f"cannot write the output folder {out}: {error.strerror or error}"
        raise InputError(msg) from error
    try:
        try:
            yield stage
        except OSError as error:
            msg = f"writing the output folder {out} failed ({error.strerror or error}); nothing was written there"
            raise InputError(msg) from error
        out.mkdir(exist_ok=True)
        for entry in stage.iterdir():
            target = out / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            entry.replace(target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
