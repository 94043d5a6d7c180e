"""The scikit-learn style estimators: DeepGAMIClassifier, DeepGAMIRegressor, DeepGAMISurvival and DeepGAMIMultiTarget.

One :class:`DeepGAMIEstimator` holds everything they share (data, graph, scalers, ensembles,
training, persistence); each subclass names its task (:mod:`deepgami.tasks`) and what
``predict`` and ``score`` return. Their parameters come from :data:`deepgami.params.PARAMETERS`.
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from .batches import Batchable, SampleStore
from .checkpoint import Checkpoint
from .covariates import CovariateEncoder
from .data import MultiOmicsData, align_features
from .distributed import local_device
from .errors import InputError, preview
from .graph import LEFTOVER_NODES, RegulatoryGraph
from .nn.model import DeepGAMINet
from .params import DEFAULTS, PARAMETERS, TASK_KINDS, constraints
from .persistence import load_model, save_model
from .preprocessing import ModalityScaler
from .scverse import as_multiomics, is_scverse, prediction_input
from .splits import stratified_folds, stratified_holdout
from .tasks import Classification, MultiTarget, Regression, Survival, Task, target_labels
from .training import EVAL_BATCH_SIZE, TrainingSettings, edge_movement, edge_weights, train_module

log = logging.getLogger(__name__)


class DeepGAMIEstimator(BaseEstimator):
    """DeepGAMI: biologically guided multi-modal prediction with cross-modal imputation.

    The shared base of :class:`DeepGAMIClassifier`, :class:`DeepGAMIRegressor`,
    :class:`DeepGAMISurvival` and :class:`DeepGAMIMultiTarget`; use one of them.

    ``X`` is a mapping of modality name -> DataFrame (samples x features, sample ids in the
    index, feature names in the columns), a :class:`~deepgami.data.MultiOmicsData`, a MuData
    (one modality per ``mdata.mod``) or an AnnData (one modality; see :mod:`deepgami.scverse`).
    Modalities whose name is a source node type of ``graph`` are connected to the latent
    nodes by its edges; the others are fully connected. All preprocessing (imputation,
    scaling) and the early-stopping split are fit inside :meth:`fit` on its own rows, so a
    fold's test rows can never reach them.

    With ``n_members > 1`` the model is an ensemble of networks that differ in their random
    initialisation and dropout, trained together in one batched module (each member stops
    early on its own); predictions average the members' probabilities and explanations
    aggregate over members. ``null_members`` more networks train on permuted labels beside
    them: they never predict, and give link prioritisation its null (``q_value``).

    A subclass sets ``_kind`` (its task) and builds the task from the training labels
    (``_task_of``); its ``__init__`` signature lists the parameters of that task
    (:func:`_init_signature`).

    Parameters
    ----------
    graph : RegulatoryGraph or None, default=None
        Prior edges from modality features to one latent node type. None: fully connected.
    n_members : int, default=10
        Ensemble members; 1 is a single network (the paper's model).
    null_members : int, default=5
        Members trained on one random permutation of the training labels (the null of the
        edge ``q_value`` in :meth:`deepgami.explain.Explainer.edges`); 0 trains none (faster,
        no q-values). Defaults chosen by bench/study_guided_learning.md and
        bench/study_ensemble_size.md.
    latent_dim : int, default=100
        Latent nodes when there is no graph.
    hidden_dims : sequence of int, default=()
        Hidden layer widths of the feed-forward head; () is a linear head on the latents (the
        latent layer is the network's hidden layer), the paper used (64,).
    dropout : float, default=0.5
        Dropout after each hidden layer of the head (none with a linear head).
    aux_map : {"scalar", "per_node", "mlp"}, default="scalar"
        Auxiliary map between modality latents; ``scalar`` is the paper's alpha * C + beta.
    aux_weight : float, default=1.0
        Weight lambda of the auxiliary MSE in the loss.
    edge_l1 : float, default=0.001
        Lasso weight on the prior edges: this times the sum of the absolute edge weights of
        every relation, at every level of a deeper prior (gene -> pathway and hierarchy edges
        too), is added to the loss, so each latent node keeps few of its prior inputs (most
        eQTL or GRN edges of a gene carry no signal for the phenotype). 0 trains as the paper
        does. Edges of fully connected modalities are not penalised. Default chosen on one-hop
        priors by bench/study_ensemble_size.md.
    level_loss_weight : float, default=1.0
        Deep supervision for a prior deeper than one hop (P-NET's per-layer outputs): above 0,
        every latent level from where the modalities meet upward (genes, pathways, ...) gets a
        linear head of its own, and this times the mean of their losses is added to the loss;
        predictions still come from the top level. 0: no level heads. A one-hop prior has one
        level and no level heads. Default chosen by bench/study_deep_defaults.md.
    modality_dropout : float, default=0.5
        During training, hide one modality of a sample from the classifier with this
        probability (its latent is imputed instead), so single-modality prediction sees
        inputs like those it was trained on. 0 trains as the paper does.
    latent_activation : {"relu", "sigmoid", "tanh", "none"}, default="relu"
    edge_init_scale : float, default=0.1
        Prior edge weights start as ``U(-1, 1) * edge_init_scale / sqrt(fan_in)``. 1 is the
        paper's (``nn.Linear``-like) initialisation; then the edges barely move from their
        random start, because Adam moves every weight by about ``lr`` per step, far less than
        their size, while the head overfits. Small values make the final edge weights (and
        the edge attributions, which scale with them) reflect what was learned.
    unconnected_features : {"drop", "dense", "error"}, default="drop"
        What happens to features of a modality with prior edges that have no edge themselves
        (``fit`` reports how many there are): ``drop`` leaves them out; ``dense`` connects
        each of them to ``LEFTOVER_NODES`` (8) extra latent nodes ``unconnected_1..`` through a
        relation ``unconnected`` (P-NET's leftover node), learned and attributed like any
        other edge but not prior biology; ``error`` refuses to fit. Chosen by
        bench/study_unconnected.md.
    scaling : str or mapping of modality -> str, default="standard"
        ``standard``, ``minmax``, ``log1p`` or ``none``, per modality or for all.
    missing : str or mapping of modality -> str, default="error"
        ``error`` refuses NaNs; ``mean`` imputes training means.
    lr, weight_decay : float, default=1e-3, 0.0
        Adam settings.
    batch_size : int, default=32
    max_epochs : int, default=100
    patience : int, default=20
        Early stopping patience on the validation loss of the task (cross-entropy, squared
        error or Cox partial likelihood; the auxiliary loss is a training term only; it does
        not choose the epoch).
    validation_fraction : float, default=0.1
        Share of the training rows held out (stratified) for early stopping; 0 disables it.
        Cross-fitted ensembles (below) validate on folds instead; there only 0 matters.
    cross_fit : bool, default=True
        With ``n_members > 1``, member ``k`` early-stops on the ``k``-th of ``n_members``
        stratified folds of the training rows and trains on the others (null member ``j``
        on fold ``j mod n_members``), so every row trains the ensemble, each member's
        stopping epoch is chosen on more rows than one small holdout, and the ensemble does
        not hinge on one split. False: all members share one ``validation_fraction`` split.
    kernel : {"auto", "sparse", "scatter", "dense"}, default="auto"
        Message-passing kernel of the guided layers.
    device : str, default="cpu"
    random_state : int, default=0
        Seeds initialisation, the validation split, shuffling and dropout. Member ``k``
        starts as a one-member model with ``random_state + k`` would.
    verbose : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    task_ : Classification, Regression, Survival or MultiTarget, what the model predicts (see :mod:`deepgami.tasks`)
    covariates_ : CovariateEncoder or None, the covariates' encoding learnt on the training rows
    modalities_ : list of str
    feature_names_in_ : dict of modality -> ndarray of str
    graph_ : RegulatoryGraph or None, the prior restricted to the training features
    graph_report_ : RestrictionReport, what that restriction dropped (when there is a graph)
    unconnected_features_ : dict of modality -> ndarray of str, the features of each modality
        with prior edges that have none themselves (when there is a graph)
    scalers_ : dict of modality -> ModalityScaler
    module_ : DeepGAMINet
    history_ : list of dict, one per epoch
    edge_movement_ : dict of ``<modality>-<relation>`` -> float, how far the trained prior
        edge weights lie from their initial values (``||w - w0|| / ||w0||``, mean over members)
    oof_scores_ : DataFrame of shape (n_train_samples, n_outputs) or None
        Cross-fitted ensembles: each training sample's prediction (class probabilities, value
        or log-risk) from the member that validated on it and never trained on it (an
        out-of-fold prediction); None otherwise and after :meth:`load` (not saved with the model).
    """

    _kind: str = ""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls._kind:
            cls._parameter_constraints = {"graph": [RegulatoryGraph, None], **constraints(cls._kind)}

    def __init__(self, graph: RegulatoryGraph | None = None, **params) -> None:
        # scikit-learn's contract: every parameter stored unchanged under its own name; the
        # names and defaults are the signature's (from the parameter table, per task).
        names = [p for p in inspect.signature(type(self).__init__).parameters if p not in ("self", "graph", "params")]
        unknown = sorted(set(params) - set(names))
        if unknown:
            msg = f"{type(self).__name__} got unexpected keyword arguments {unknown}"
            raise TypeError(msg)
        self.graph = graph
        for name in names:
            setattr(self, name, params.get(name, DEFAULTS[name]))

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, *, covariates: pd.DataFrame | None = None, checkpoint: Checkpoint | None = None) -> DeepGAMIEstimator:
        """Fit on ``X`` (modality -> samples x features) and labels ``y``.

        ``X`` may also be a MuData (one modality per ``mdata.mod``, each its ``X``) or an
        AnnData (one modality named ``"X"``); see :func:`deepgami.scverse.as_multiomics` for
        layers and other names. ``y`` is a Series indexed by sample id (aligned by id; a
        DataFrame with ``time`` and ``event`` columns for survival), the name of an ``obs``
        column of a MuData or AnnData ``X`` (e.g. ``fit(mdata, "subtype")``), or array-like
        in the row order of ``X`` when every table has the same index; it may be omitted when
        ``X`` is a :class:`MultiOmicsData` with labels. Tables are joined as the CLI joins
        them (outer): a labelled sample missing a modality trains with that modality's latent
        imputed. ``covariates`` (samples x covariates, sample ids in the index; numeric or
        categorical columns) enter the head beside the latents, encoded on the training rows
        (:class:`~deepgami.covariates.CovariateEncoder`); every training sample needs them, and
        so does every prediction. With a :class:`~deepgami.checkpoint.Checkpoint`, training
        saves its state there after every epoch and, when the folder already holds one, goes
        on from it: the fitted model equals an uninterrupted fit's.
        """
        self._check_params()
        data = self._as_data(X, y, join="outer")
        if covariates is not None:
            data = data.with_covariates(covariates)
        self.task_, targets = self._task_of(data.labels)
        strata = self.task_.strata(targets)
        self.modalities_ = data.modality_names
        self.feature_names_in_ = {m: data.modalities[m].columns.to_numpy(dtype=str) for m in self.modalities_}
        self.graph_ = None
        if self.graph is not None:
            self.graph_, self.graph_report_ = self.graph.restrict_to_data(self.feature_names_in_)
            log.debug("prior graph: %s", self.graph_report_)
            if self.graph_ is not None:
                self.graph_ = self._handle_unconnected(self.graph_)

        folds = self._member_folds(strata)
        if folds is None:
            fit_rows, val_rows = stratified_holdout(strata, self.validation_fraction, self.random_state)
        else:
            # Cross-fitting: every row trains all members but the one validating on its fold;
            # the scalers (unsupervised) see every training row.
            fit_rows, val_rows = np.arange(len(strata)), np.arange(0)
        self.scalers_ = {}
        for m in self.modalities_:
            values, observed = data.modalities[m].to_numpy(), np.asarray(data.observed[m])
            scaler = ModalityScaler(_per_modality(self.scaling, m, DEFAULTS["scaling"]), _per_modality(self.missing, m, DEFAULTS["missing"]), name=m)
            self.scalers_[m] = scaler.fit(values, fit_rows[observed[fit_rows]], self.feature_names_in_[m])
            scaler.check(values, val_rows[observed[val_rows]])
        self.covariates_ = None if data.covariates is None else CovariateEncoder().fit(data.covariates.iloc[fit_rows])
        slot_targets = self._slot_targets(targets)
        if folds is None:
            store = self._store(data, slot_targets, checked=True)
            train = store.take(fit_rows)
            validation = store.take(val_rows) if len(val_rows) else None
        else:
            slots = np.arange(self.n_members + self.null_members)
            validating = folds[:, None] == (slots % self.n_members)[None, :]  # (n, n_slots)
            if slot_targets.ndim == targets.ndim:  # one column of targets shared by every slot
                slot_targets = np.broadcast_to(slot_targets[:, None], validating.shape + targets.shape[1:])
            train = self._store(data, self.task_.hold_out(slot_targets, validating), checked=True)
            validation = self._store(data, self.task_.hold_out(slot_targets, ~validating), checked=True)

        self._check_dense_memory()
        device = local_device(self.device)
        with torch.random.fork_rng(devices=[]):
            seeds = [self.random_state + k for k in range(self.n_members + self.null_members)]
            self.module_ = self._build_module(member_seeds=seeds).to(device)
            initial = edge_weights(self.module_)
            generator = torch.Generator().manual_seed(self.random_state)
            self.history_ = train_module(
                self.module_,
                train,
                validation,
                TrainingSettings.of(self),
                task=self.task_,
                class_weight=self._class_weights(targets, device),
                generator=generator,
                device=device,
                progress=self.verbose,
                checkpoint=checkpoint,
            )
        self.edge_movement_ = edge_movement(self.module_, initial)
        self.oof_scores_ = None if folds is None else self._out_of_fold_scores(data, folds)
        self._fitted(data)
        return self

    def _task_of(self, labels) -> tuple[Task, np.ndarray]:
        """The task of the training labels and their encoded targets (n,) + target_shape."""
        raise NotImplementedError

    def _fitted(self, data: MultiOmicsData) -> None:
        """What a task needs from the trained model before it predicts (survival: the baseline hazard)."""

    def _handle_unconnected(self, graph: RegulatoryGraph) -> RegulatoryGraph:
        """Report, per modality with prior edges, how many features have none; leave those out,
        connect them to leftover latent nodes or refuse, as ``unconnected_features`` says."""
        reached, self.unconnected_features_ = {}, {}
        for m in self.modalities_:
            relations = graph.relations_from(m)
            if relations:
                has_edge = np.zeros(len(self.feature_names_in_[m]), dtype=bool)
                for edge_type in relations:
                    has_edge[graph.edge_index(edge_type)[0].numpy()] = True
                reached[m] = f"{m} {int(has_edge.sum())} of {len(has_edge)}"
                if not has_edge.all():
                    self.unconnected_features_[m] = self.feature_names_in_[m][~has_edge]
        counts = "; ".join(f"{m}: {len(v)} of {len(self.feature_names_in_[m])} ({preview(v)})" for m, v in self.unconnected_features_.items())
        if counts and self.unconnected_features == "error":
            msg = f"features without a prior edge: {counts}; give them edges, or set unconnected_features to 'drop' or 'dense'"
            raise InputError(msg)
        log.info("prior edges reach %s features", ", ".join(reached.values()))
        if not counts:
            return graph
        if self.unconnected_features == "drop":
            log.warning("features without a prior edge are left out (unconnected_features = 'drop'; 'dense' keeps them): %s", counts)
            return graph
        log.warning(
            "features without a prior edge are connected to %d leftover latent nodes (unconnected_features = 'dense'): %s", LEFTOVER_NODES, counts
        )
        return graph.with_leftover_nodes(self.unconnected_features_)

    def _check_dense_memory(self) -> None:
        """Refuse, before training, ``kernel = "dense"`` on relations whose dense weight matrices
        cannot fit in this machine's memory (the estimate and the fix in one line)."""
        if self.kernel != "dense" or self.graph_ is None:
            return
        slots = self.n_members + self.null_members
        inputs = set(self.graph_.layout.inputs)
        # Per relation one float32 (n_sources, n_targets * slots) matrix, kept for the backward
        # pass, plus its gradient and a temporary of the same size; a relation between latent
        # levels reads every member's own sources, (n_sources * slots, n_targets * slots).
        need = sum(
            3 * 4 * self.graph_.num_nodes(src) * (1 if src in inputs else slots) * self.graph_.num_nodes(dst) * slots
            for src, _, dst in self.graph_.edge_types
        )
        have = _physical_memory()
        if have is not None and need > have:
            msg = (
                f'kernel = "dense" needs about {_bytes(need)} for the dense weight matrices of '
                f"{len(self.graph_.edge_types)} relations, more than this machine's {_bytes(have)}; "
                'use kernel = "auto" or "sparse"'
            )
            raise InputError(msg)

    def _check_params(self) -> None:
        """Check every parameter against :data:`deepgami.params.PARAMETERS`; one-line InputError."""
        try:
            self._validate_params()
        except InvalidParameterError as error:
            raise InputError(str(error)) from error
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in self.hidden_dims):
            msg = f"hidden_dims must list positive layer widths (got {list(self.hidden_dims)}); () is a linear head"
            raise InputError(msg)

    def _out_of_fold_scores(self, data: MultiOmicsData, folds: np.ndarray) -> pd.DataFrame:
        """Each training row predicted by the one real member that never trained on it."""
        self.module_.eval()
        parts = []
        with torch.no_grad():
            for batch in self._store(data).batches(EVAL_BATCH_SIZE, local_device(self.device)):
                outputs = self.module_(batch.x_dict, batch.observed, covariates=batch.covariates)[:, : self.module_.n_members]
                parts.append(self.task_.score(outputs).cpu())
        scores = torch.cat(parts).numpy()[np.arange(len(folds)), folds]
        return pd.DataFrame(scores, index=data.samples, columns=self.task_.output_names)

    def _slot_targets(self, targets: np.ndarray) -> np.ndarray:
        """Targets per member slot, (n, n_members + null_members) + target_shape: the null
        members' column is one permutation of the rows of ``targets``, shared by all of them
        (so together they form a null ensemble, as the real members form the real one).
        Without null members, ``targets`` as given (every slot shares them)."""
        if not self.null_members:
            return targets
        permuted = targets[np.random.default_rng(self.random_state).permutation(len(targets))]
        return np.stack([targets] * self.n_members + [permuted] * self.null_members, axis=1)

    def _member_folds(self, strata: np.ndarray) -> np.ndarray | None:
        """Fold (0..n_members-1) of every training row for cross-fitted members, or None for
        one shared validation split (a single network, ``cross_fit=False``, no validation, or
        a stratum with fewer samples than members)."""
        if self.n_members == 1 or not self.cross_fit or not self.validation_fraction:
            return None
        folds = stratified_folds(strata, self.n_members, self.random_state)
        if folds is None:
            log.info("a class or stratum has fewer than %d samples: the members share one validation split", self.n_members)
        return folds

    def _class_weights(self, targets: np.ndarray, device: str) -> torch.Tensor | None:
        """Per-class loss weights (classification only)."""
        return None

    def _build_module(self, member_seeds: Sequence[int] | None = None) -> DeepGAMINet:
        return DeepGAMINet.from_graph(
            self.graph_,
            {m: len(self.feature_names_in_[m]) for m in self.modalities_},
            self.task_.n_outputs,
            latent_dim=self.latent_dim,
            latent_activation=self.latent_activation,
            kernel=self.kernel,
            edge_init_scale=self.edge_init_scale,
            n_members=self.n_members,
            n_null_members=self.null_members,
            member_seeds=member_seeds,
            hidden_dims=tuple(self.hidden_dims),
            dropout=self.dropout,
            aux_map=self.aux_map,
            n_covariates=0 if self.covariates_ is None else len(self.covariates_.columns_),
            level_heads=self.level_loss_weight > 0,
        )

    # ------------------------------------------------------------------ prediction
    def predict_table(self, X, *, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None) -> pd.DataFrame:
        """Predictions as a table: ``sample``, then the task's columns (``predicted`` and
        ``p_<class>`` per class; ``predicted``; ``risk``).

        Any non-empty subset of the trained modalities predicts; the others are imputed from
        the auxiliary maps and never read. A model fitted with covariates needs them here too.
        """
        data = self.prediction_data(X, use_modalities, covariates)
        return self.task_.prediction_table(data.samples, self._scores(data))

    def predict_scores(self, X, *, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None) -> np.ndarray:
        """The ensemble's mean prediction (n_samples, n_outputs): class probabilities, the value
        or the log-risk; rows as :meth:`prediction_data` orders them."""
        return self._scores(self.prediction_data(X, use_modalities, covariates))

    def transform(self, X, *, use_modalities: Sequence[str] | None = None) -> pd.DataFrame:
        """Completed latents (observed or imputed) per modality: (n_samples, n_modalities * n_latent).

        Columns are ``<modality>:<latent node>``; an ensemble gives its members' mean.
        """
        data = self.prediction_data(X, use_modalities)
        self.module_.eval()
        parts = []
        with torch.no_grad():
            for batch in self._store(data).batches(EVAL_BATCH_SIZE, local_device(self.device)):
                full = self.module_.complete(self.module_.encode(batch.x_dict), batch.observed)
                members = torch.cat([full[m] for m in self.modalities_], dim=2)[:, : self.module_.n_members]
                parts.append(members.mean(dim=1).cpu())
        names = self.latent_names()
        return pd.DataFrame(
            torch.cat(parts).numpy(),
            index=data.samples,
            columns=[f"{m}:{n}" for m in self.modalities_ for n in names],
        )

    def head_input_nodes(self) -> tuple[list[str], list[str]]:
        """Names and node types of the nodes the head reads per modality, in its input order:
        the latents, or with a deeper prior, the tops of its paths (root pathways, genes
        without a pathway)."""
        check_is_fitted(self, "module_")
        upper = self.module_.upper
        if upper is None:
            level = self.graph_.latent_type if self.graph_ is not None else "latent"
            names = self.latent_names()
            return names, [level] * len(names)
        names, levels = [], []
        for node_type in upper.read_types:
            index = upper.read_index(node_type).cpu().numpy()
            names += [self.graph_.node_names[node_type][i] for i in index]
            levels += [node_type] * len(index)
        return names, levels

    def latent_names(self) -> list[str]:
        """Names of the latent nodes (genes of the prior, or ``latent_0..``)."""
        check_is_fitted(self, "module_")
        if self.graph_ is not None:
            return list(self.graph_.node_names[self.graph_.latent_type])
        return [f"latent_{i}" for i in range(self.module_.n_latent)]

    def _scores(self, data: MultiOmicsData) -> np.ndarray:
        """The task's scores (n_samples, n_outputs), the members' mean, in batches of EVAL_BATCH_SIZE rows."""
        check_is_fitted(self, "module_")
        self.module_.eval()
        with torch.no_grad():
            parts = [
                self.task_.score(self.module_(batch.x_dict, batch.observed, covariates=batch.covariates)[:, : self.module_.n_members])
                .mean(dim=1)
                .cpu()
                for batch in self._store(data).batches(EVAL_BATCH_SIZE, local_device(self.device))
            ]
        return torch.cat(parts).numpy()

    def prediction_data(self, X, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None) -> MultiOmicsData:
        """``X`` as the model reads it: the used modalities with exactly the training features.

        Samples follow ``X.samples`` for a MultiOmicsData (those observed in none of the used
        modalities left out), otherwise the outer join of the tables. A MuData gives its
        modalities that the model reads, an AnnData the one modality it reads (or names in
        ``use_modalities``); see :func:`deepgami.scverse.prediction_input`. ``covariates``
        (or those of a MultiOmicsData ``X``) go with the samples. Raises :class:`InputError`
        for a modality or feature the model was not trained on or lacks.
        """
        check_is_fitted(self, "module_")
        _check_input_type(X)
        if is_scverse(X):
            X = prediction_input(X, self.modalities_ if use_modalities is None else list(use_modalities))
        order = None
        if isinstance(X, MultiOmicsData):
            order = X.samples
            if covariates is None and X.covariates is not None:
                covariates = X.covariates[X.covariates.notna().any(axis=1)]
            X = {m: X.modalities[m][X.observed[m]] for m in X.modality_names}
        tables = dict(X)
        if use_modalities is not None:
            missing = [m for m in use_modalities if m not in tables]
            if missing:
                msg = f"use_modalities names {missing}, which X does not hold"
                raise InputError(msg)
            tables = {m: tables[m] for m in use_modalities}
        unknown = [m for m in tables if m not in self.modalities_]
        if unknown or not tables:
            msg = f"the model was trained on modalities {self.modalities_}; got {list(tables) or 'none'}"
            raise InputError(msg)
        tables = {m: align_features(frame, self.feature_names_in_[m], m) for m, frame in tables.items()}
        data = MultiOmicsData(tables, join="outer")
        if order is not None:
            # Keep the caller's sample order (an outer join lists samples by first appearance).
            data = data.subset(data.samples.get_indexer(order[order.isin(data.samples)]))
        if covariates is not None and self.covariates_ is None:
            msg = "the model was fitted without covariates; predict without them"
            raise InputError(msg)
        return data.with_covariates(covariates)

    # ------------------------------------------------------------------ helpers
    def _as_data(self, X, y, join: str) -> MultiOmicsData:
        _check_input_type(X)
        if is_scverse(X):
            column, y = (y, None) if isinstance(y, str) else (None, y)
            X = as_multiomics(X, column)
        elif isinstance(y, str):
            msg = f"y={y!r} names an obs column, which needs X to be a MuData or AnnData; pass the labels as a Series"
            raise InputError(msg)
        covariates = None
        if isinstance(X, MultiOmicsData):
            if y is None:
                return X
            covariates = None if X.covariates is None else X.covariates[X.covariates.notna().any(axis=1)]
            X = {m: X.modalities[m][X.observed[m]] for m in X.modality_names}
        labels = None
        if y is not None:
            if isinstance(y, (pd.Series, pd.DataFrame)):
                labels = y
            else:
                indices = [frame.index for frame in X.values()]
                if any(not index.equals(indices[0]) for index in indices[1:]):
                    msg = "y without sample ids needs every table of X to have the same index; pass y as a pandas Series"
                    raise InputError(msg)
                y = np.asarray(y)
                if len(y) != len(indices[0]):
                    msg = f"X has {len(indices[0])} samples but y has {len(y)} labels"
                    raise InputError(msg)
                labels = self._labels_of(y, indices[0])
        data = MultiOmicsData(X, labels, join=join)
        return data if covariates is None else data.with_covariates(covariates)

    def _labels_of(self, y: np.ndarray, index: pd.Index) -> pd.Series | pd.DataFrame:
        """Labels in the row order of ``index`` as the task reads them (a Series here)."""
        return pd.Series(y, index=index)

    def _store(self, data: MultiOmicsData, targets: np.ndarray | None = None, *, checked: bool = False) -> SampleStore:
        """The samples of ``data`` for batched reading; values are shared with its tables, not copied.

        Unless ``checked``, the observed rows are first checked against each scaler's policy
        (NaNs, infinities), so a bad value fails here and not in the middle of a pass.
        """
        values, observed = {}, {}
        for m in data.modality_names:
            array, mask = data.modalities[m].to_numpy(), np.asarray(data.observed[m])
            if not checked:
                self.scalers_[m].check(array, np.flatnonzero(mask))
            with warnings.catch_warnings():
                # A read-only view of the caller's table is fine: batches are gathered, never written.
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                values[m] = torch.from_numpy(array)
            observed[m] = torch.from_numpy(mask)
        if targets is None:  # predicting: no targets are read
            y = torch.zeros(len(data), dtype=torch.long)
        else:
            y = torch.as_tensor(targets, dtype=torch.long if targets.dtype.kind in "iu" else torch.float32)
        transforms = {m: self.scalers_[m].transform_tensor for m in data.modality_names}
        return SampleStore(values, observed, y, transforms, covariates=self._covariate_matrix(data))

    def _covariate_matrix(self, data: MultiOmicsData) -> torch.Tensor | None:
        """The encoded covariates of ``data``'s samples, float32 (n_samples, n_covariates), or
        None for a model without covariates; one InputError when a needed value is missing."""
        if self.covariates_ is None:
            return None
        if data.covariates is None:
            names = ", ".join(self.covariates_.numeric_ + list(self.covariates_.categories_))
            msg = f"the model was fitted with covariates ({names}) and needs them to predict; pass covariates (or [data] covariates)"
            raise InputError(msg)
        return torch.as_tensor(self.covariates_.transform(data.covariates), dtype=torch.float32)

    def model_inputs(self, data: MultiOmicsData) -> Batchable:
        """Every sample of :meth:`prediction_data` output as one scaled float32 batch on the
        model's device: ``x_dict[m]`` (n_samples, n_features_m), ``observed[m]`` (n_samples,),
        ``covariates`` (n_samples, n_covariates) or None."""
        return self._store(data).batch(torch.arange(len(data)), local_device(self.device))

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write ``path/weights.safetensors`` (tensors only) and ``path/model.json`` (metadata and
        the weights' sha256); see :mod:`deepgami.persistence`."""
        check_is_fitted(self, "module_")
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> DeepGAMIEstimator:
        """Load a model written by :meth:`save`, checking every file; never unpickles arbitrary
        objects. ``DeepGAMIEstimator.load`` returns the saved task's estimator; a subclass
        refuses a model of another task."""
        return load_model(cls, path)

    def _scored(self, X, y) -> tuple[MultiOmicsData, np.ndarray | pd.DataFrame]:
        """The data :meth:`score` predicts and its labels in that row order: a Series or
        DataFrame ``y`` (or an ``obs`` column of a MuData or AnnData ``X``) aligned by id."""
        if isinstance(y, str) and is_scverse(X):
            y = as_multiomics(X, y).labels
        data = self.prediction_data(X, None)
        if isinstance(y, (pd.Series, pd.DataFrame)):
            y = y.set_axis(y.index.astype(str)).reindex(data.samples)
            y = y.to_numpy() if isinstance(y, pd.Series) else y
        return data, y


def _init_signature(kind: str) -> inspect.Signature:
    """``__init__(self, graph=None, *, <the parameters of the task's estimator>)`` with the table's defaults."""
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("self", positional), inspect.Parameter("graph", positional, default=None)]
    parameters += [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default) for p in PARAMETERS if kind in p.tasks]
    return inspect.Signature(parameters, return_annotation=None)


class DeepGAMIClassifier(ClassifierMixin, DeepGAMIEstimator):
    """DeepGAMI for a categorical phenotype (disease status, subtype, cell type).

    Takes the parameters of :class:`DeepGAMIEstimator` and ``class_weight`` (None,
    "balanced" or a mapping of class -> weight, default None): weights of the classes in
    the cross-entropy. Adds the attributes ``classes_`` (n_classes,), the sorted training
    labels, and ``oof_proba_``, the out-of-fold class probabilities (``oof_scores_``).
    """

    _kind = "classification"

    def __init__(self, graph: RegulatoryGraph | None = None, **params) -> None:
        super().__init__(graph, **params)

    __init__.__signature__ = _init_signature(_kind)

    def _task_of(self, labels) -> tuple[Classification, np.ndarray]:
        task, codes = Classification.from_labels(labels)
        self._warn_imbalance(task.classes, codes)
        self.classes_ = task.classes
        return task, codes

    def _warn_imbalance(self, classes: np.ndarray, codes: np.ndarray) -> None:
        """Say so when, without class weights, a class holds less than half its balanced share."""
        shares = np.bincount(codes, minlength=len(classes)) / len(codes)
        smallest = int(shares.argmin())
        if self.class_weight is None and shares[smallest] < 0.5 / len(classes):
            log.warning(
                "the smallest class, %r, holds %.1f%% of the %d training samples; class_weight = 'balanced' weighs classes "
                "inversely to their frequency",
                classes[smallest],
                100 * shares[smallest],
                len(codes),
            )

    def _class_weights(self, targets: np.ndarray, device: str) -> torch.Tensor | None:
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, Mapping):
            weights = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
        else:
            weights = compute_class_weight(self.class_weight, classes=np.arange(len(self.classes_)), y=targets)
        return torch.as_tensor(weights, dtype=torch.float32, device=device)

    @property
    def oof_proba_(self) -> pd.DataFrame | None:
        """Out-of-fold class probabilities of the training rows (``oof_scores_``)."""
        return self.oof_scores_

    def predict_proba(self, X, *, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order.

        Any non-empty subset of the trained modalities predicts; the others are imputed from
        the auxiliary maps and never read. Rows follow ``X.samples`` for a MultiOmicsData
        (samples observed in none of the used modalities are left out), otherwise
        ``MultiOmicsData(X, join="outer").samples`` (the shared index when every table has
        the same one).
        """
        return self.predict_scores(X, use_modalities=use_modalities, covariates=covariates)

    def predict(self, X, *, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted labels of shape (n_samples,), values from ``classes_``."""
        proba = self.predict_proba(X, use_modalities=use_modalities, covariates=covariates)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy; a Series ``y`` (or an ``obs`` column named by ``y`` of a MuData or AnnData
        ``X``) is aligned to the predicted samples by id."""
        data, y = self._scored(X, y)
        return super().score(data, y, sample_weight=sample_weight)


class DeepGAMIRegressor(RegressorMixin, DeepGAMIEstimator):
    """DeepGAMI for a numeric phenotype (a clinical score, age, a quantitative trait).

    Targets are standardised on the training rows; the network predicts the standardised
    value and :meth:`predict` returns it on the labels' scale. Takes the parameters of
    :class:`DeepGAMIEstimator`, and

    loss : {"squared_error", "huber"}, default="squared_error"
        The training loss; Huber is less swayed by outlying targets.
    huber_delta : float, default=1.0
        Where the Huber loss turns linear, in standard deviations of the training targets.

    ``oof_scores_`` holds the out-of-fold predictions (column ``predicted``).
    """

    _kind = "regression"

    def __init__(self, graph: RegulatoryGraph | None = None, **params) -> None:
        super().__init__(graph, **params)

    __init__.__signature__ = _init_signature(_kind)

    def _task_of(self, labels) -> tuple[Regression, np.ndarray]:
        return Regression.from_labels(labels, self.loss, self.huber_delta)

    def predict(self, X, *, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted values of shape (n_samples,), on the scale of the training labels."""
        return self.predict_scores(X, use_modalities=use_modalities, covariates=covariates)[:, 0]

    def score(self, X, y, sample_weight=None) -> float:
        """R² of the predictions; a Series ``y`` is aligned to the predicted samples by id."""
        data, y = self._scored(X, y)
        return super().score(data, y, sample_weight=sample_weight)


class DeepGAMISurvival(DeepGAMIEstimator):
    """DeepGAMI for time to an event under right censoring (death, relapse), trained on the Cox
    partial likelihood with Efron's ties.

    ``y`` is a DataFrame with columns ``time`` and ``event`` (1 = observed, 0 = censored),
    indexed by sample id, or scikit-survival's structured array of (event, time) in the row
    order of ``X``. :meth:`predict` returns the log-risk (higher: an earlier event);
    :meth:`predict_survival_function` the survival curves of a Breslow baseline hazard fitted
    on the training rows. Takes the parameters of :class:`DeepGAMIEstimator`;
    ``oof_scores_`` holds out-of-fold log-risks (column ``risk``).
    """

    _kind = "survival"

    def __init__(self, graph: RegulatoryGraph | None = None, **params) -> None:
        super().__init__(graph, **params)

    __init__.__signature__ = _init_signature(_kind)

    def _task_of(self, labels) -> tuple[Survival, np.ndarray]:
        return Survival.from_labels(labels)

    def _labels_of(self, y: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """A structured (event, time) array (scikit-survival's ``Surv``) or an (n, 2) array of
        time, event as a DataFrame with columns ``time`` and ``event``."""
        if y.dtype.names is not None and len(y.dtype.names) == 2:
            event, time = y.dtype.names
            return pd.DataFrame({"time": y[time], "event": y[event].astype(int)}, index=index)
        if y.ndim == 2 and y.shape[1] == 2:
            return pd.DataFrame({"time": y[:, 0], "event": y[:, 1]}, index=index)
        msg = "survival labels without sample ids must be a structured (event, time) array or an (n, 2) array of time, event"
        raise InputError(msg)

    def _fitted(self, data: MultiOmicsData) -> None:
        self.task_.fit_baseline(self._scores(data)[:, 0])

    def predict(self, X, *, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None) -> np.ndarray:
        """Log-risk of shape (n_samples,): higher means an earlier event (the members' mean)."""
        return self.predict_scores(X, use_modalities=use_modalities, covariates=covariates)[:, 0]

    def predict_survival_function(
        self, X, times: Sequence[float], *, use_modalities: Sequence[str] | None = None, covariates: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """``S(t | x)`` at ``times``: one row per sample, one column per time."""
        data = self.prediction_data(X, use_modalities, covariates)
        times = np.asarray(times, dtype=np.float64)
        return pd.DataFrame(self.task_.survival_function(self._scores(data)[:, 0], times), index=data.samples, columns=times)

    def score(self, X, y, sample_weight=None) -> float:
        """Harrell's concordance index of the predicted risks."""
        data, y = self._scored(X, y)
        if not isinstance(y, pd.DataFrame):
            y = self._labels_of(np.asarray(y), data.samples)
        truth = y[["time", "event"]].to_numpy(dtype=np.float64)
        return self.task_.validation_score(truth, self._scores(data))


class DeepGAMIMultiTarget(DeepGAMIEstimator):
    """DeepGAMI for several phenotypes at once: one network, one head output block and one loss
    per target, any mix of classes, values and survival.

    Takes the parameters of :class:`DeepGAMIEstimator`, ``loss`` and ``huber_delta`` (for the
    regression targets, as in :class:`DeepGAMIRegressor`), and

    targets : mapping of name -> {"classification", "regression", "survival"}
        The targets, in order.
    target_weights : mapping of name -> float, optional
        Weights of the targets' losses in the sum (default 1 each).

    ``y`` is a DataFrame indexed by sample id with one column per classification or regression
    target (named as the target) and ``<name>:time``, ``<name>:event`` per survival target, or a
    mapping of name -> Series (or time/event DataFrame). A sample missing one target (NaN)
    still trains the others. :meth:`predict_table` has each target's columns prefixed
    ``<name>_``; :meth:`predict_scores` their scores side by side (``task_.outputs[name]``).
    """

    _kind = "multi"

    def __init__(self, graph: RegulatoryGraph | None = None, **params) -> None:
        super().__init__(graph, **params)

    __init__.__signature__ = _init_signature(_kind)

    def fit(self, X, y=None, *, covariates: pd.DataFrame | None = None, checkpoint: Checkpoint | None = None) -> DeepGAMIMultiTarget:
        """Fit as :meth:`DeepGAMIEstimator.fit` does; ``y`` as the class docstring says."""
        if isinstance(y, Mapping):
            y = self._label_table(y)
        return super().fit(X, y, covariates=covariates, checkpoint=checkpoint)

    def _label_table(self, y: Mapping) -> pd.DataFrame:
        columns = {}
        for name, values in y.items():
            if isinstance(values, pd.DataFrame):
                columns.update({f"{name}:time": values["time"], f"{name}:event": values["event"]})
            else:
                columns[name] = values
        return pd.DataFrame(columns)

    def _task_of(self, labels) -> tuple[MultiTarget, np.ndarray]:
        kinds = self._targets()
        if not isinstance(labels, pd.DataFrame):
            msg = "several targets need their labels as a DataFrame (or a mapping of target name -> labels)"
            raise InputError(msg)
        weights = dict.fromkeys(kinds, 1.0) | {str(k): float(v) for k, v in (self.target_weights or {}).items()}
        unknown = sorted(set(weights) - set(kinds))
        if unknown:
            msg = f"target_weights names {unknown}, which are not targets ({', '.join(kinds)})"
            raise InputError(msg)
        tasks, blocks = {}, []
        for name, kind in kinds.items():
            needed = [f"{name}:time", f"{name}:event"] if kind == "survival" else [name]
            absent = [c for c in needed if c not in labels.columns]
            if absent:
                msg = f"the labels lack column(s) {absent} of target '{name}' ({kind}); they hold {list(labels.columns)}"
                raise InputError(msg)
            own = target_labels(labels, name, kind)
            present = np.asarray(own.notna().any(axis=1) if own.ndim == 2 else own.notna())
            if kind == "classification":
                task, values = Classification.from_labels(own[present])
            elif kind == "regression":
                task, values = Regression.from_labels(own[present], self.loss, self.huber_delta)
            else:
                task, values = Survival.from_labels(own[present])
            block = np.full((len(labels), 2 if kind == "survival" else 1), np.nan, dtype=np.float32)
            block[present] = values.reshape(int(present.sum()), -1)
            tasks[name] = task
            blocks.append(block)
        return MultiTarget(tasks, weights), np.hstack(blocks)

    def _targets(self) -> dict[str, str]:
        kinds = dict(self.targets or {})
        if not kinds or any(k not in TASK_KINDS for k in kinds.values()):
            msg = f"targets must map each target name to 'classification', 'regression' or 'survival' (got {kinds or None})"
            raise InputError(msg)
        return {str(n): k for n, k in kinds.items()}

    def _fitted(self, data: MultiOmicsData) -> None:
        """Breslow baselines of the survival targets, each on the training rows that have it."""
        scores = self._scores(data)
        for name, task in self.task_.targets.items():
            if task.kind == "survival":
                own = target_labels(data.labels, name, "survival")
                present = np.asarray(own.notna().any(axis=1))
                task.fit_baseline(scores[present, self.task_.outputs[name].start])


def _per_modality(setting: str | Mapping[str, str], modality: str, default: str) -> str:
    return setting.get(modality, default) if isinstance(setting, Mapping) else setting


def _bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit that keeps the number at least 1."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _physical_memory() -> int | None:
    """Bytes of physical memory, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_input_type(X) -> None:
    """TypeError unless ``X`` is a mapping of modality -> DataFrame, a MultiOmicsData, a MuData or
    an AnnData (checked before anything iterates ``X``: iterating some objects never ends well)."""
    if isinstance(X, (Mapping, MultiOmicsData)) or is_scverse(X):
        return
    msg = f"X must be a mapping of modality name -> DataFrame, a MultiOmicsData, a MuData or an AnnData (got {type(X).__name__})"
    raise TypeError(msg)
