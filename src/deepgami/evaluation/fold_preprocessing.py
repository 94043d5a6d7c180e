"""Preprocessing fitted on the training rows of a fold only, then applied to any rows.

:class:`FoldPreprocessor` bundles the optional steps of a cross-validation fold (the DeepGAMI
paper's feature selection by t-test / ANOVA on the training set, plus the usual companions):

1. KNN imputation of missing values (``knn_impute``),
2. regression of covariates out of features (``covariates``, :mod:`.covariates`),
3. ComBat batch correction (``batch``; parametric empirical Bayes, Johnson et al. 2007, :mod:`.combat`),
4. a variance filter (``variance_threshold``),
5. selection of the ``k`` features most associated with the label (``select_k``, :mod:`.association`),

each one learnt in :meth:`FoldPreprocessor.fit` from the training rows (the rows of each
modality that are observed) and applied unchanged by :meth:`FoldPreprocessor.transform`, so
nothing about the evaluation rows reaches the fitted state. SMOTE oversampling lives in its own
method, :meth:`FoldPreprocessor.resample`, which only accepts the rows the object was fitted on.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from ..data import MultiOmicsData, align_features
from ..errors import InputError, preview
from .association import association_pvalues
from .combat import ComBat
from .covariates import _CovariateDesign

__all__ = ["FoldPreprocessor"]


@dataclass
class _ModalityState:
    """What was learnt for one modality (positions refer to the input feature order)."""

    features_in: list[str]
    non_empty: np.ndarray  # positions of features that reach the imputer (all, without knn_impute)
    imputer: object | None
    covariate_coef: np.ndarray | None  # (n_design, n_non_empty)
    covariate_mean: np.ndarray | None  # (n_design,), training means of the design columns
    combat: ComBat | None
    variances: pd.Series
    pvalues: pd.Series | None
    keep: np.ndarray  # positions within non_empty of the kept features
    test: str | None


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class FoldPreprocessor:
    """Fold-wise preprocessing: every statistic is learnt from the training rows only.

    All options are off by default (then ``transform`` returns an unchanged copy). In ``fit``,
    each modality's observed training rows go through, in this order: KNN imputation ->
    covariate regression -> ComBat -> variance filter -> feature selection. ``transform``
    applies the fitted steps to any rows and keeps the selected features.

    Parameters
    ----------
    select_k : int, dict of str -> int, or None, default=None
        Keep the ``k`` features most associated with the label in each modality (or in the
        modalities named in the dict; the others are kept whole): Welch's t-test for two
        classes, one-way ANOVA for more, ranked by p-value on the observed training rows of the
        modality, ties broken by feature order. Kept features stay in their original order.
    variance_threshold : float or None, default=None
        Drop features whose training variance (ddof=0) is at or below this value, as
        scikit-learn's ``VarianceThreshold`` does (``0.0`` drops constant features). Applied
        before selection.
    covariates : DataFrame or None, default=None
        Samples x covariates, indexed by sample id. Numeric columns enter the linear model as
        they are, others one-hot (first training level as reference).
    covariate_modalities : list of str or None, default=None
        Modalities to regress the covariates out of (default: all, when ``covariates`` is set).
        Per feature a least-squares fit ``x ~ 1 + covariates`` on the training rows gives
        coefficients ``B``; any row becomes ``x - (c - mean_train(c)) @ B``, which removes the
        covariate effect and keeps the training mean of the feature.
    batch : Series or None, default=None
        Batch label per sample id, for ComBat.
    combat_modalities : list of str or None, default=None
        Modalities to batch-correct with ComBat (default: all, when ``batch`` is set). See
        :class:`ComBat`: estimates come from the training rows and are applied to any row.
    knn_impute : int or None, default=None
        Impute missing values per modality with ``sklearn.impute.KNNImputer(n_neighbors=k)``
        fitted on the training rows; features with no training value are dropped. Without it
        NaNs are left for deepgami's own ``missing`` policy (and covariate regression / ComBat
        refuse them).
    smote : bool, default=False
        Let :meth:`resample` oversample the training rows with imbalanced-learn's SMOTE.
    smote_k : int, default=5
        ``k_neighbors`` of SMOTE.
    random_state : int, RandomState instance or None, default=0
        Seed of SMOTE.

    Attributes
    ----------
    modalities_ : list of str
    train_samples_ : Index, the sample ids ``fit`` saw
    selected_features_ : dict of str -> list of str, features kept per modality
    pvalues_ : dict of str -> Series, training p-values per feature (modalities with selection)
    variances_ : dict of str -> Series, training variances after correction
    covariate_columns_ : list of str, the design columns of the covariate model
    combat_ : dict of str -> ComBat, the fitted batch correction per modality
    imputers_ : dict of str -> KNNImputer
    """

    def __init__(
        self,
        *,
        select_k: int | dict[str, int] | None = None,
        variance_threshold: float | None = None,
        covariates: pd.DataFrame | None = None,
        covariate_modalities: list[str] | None = None,
        batch: pd.Series | None = None,
        combat_modalities: list[str] | None = None,
        knn_impute: int | None = None,
        smote: bool = False,
        smote_k: int = 5,
        random_state=0,
    ) -> None:
        self.select_k = select_k
        self.variance_threshold = variance_threshold
        self.covariates = covariates
        self.covariate_modalities = covariate_modalities
        self.batch = batch
        self.combat_modalities = combat_modalities
        self.knn_impute = knn_impute
        self.smote = smote
        self.smote_k = smote_k
        self.random_state = random_state

    def __repr__(self) -> str:
        shown = []
        for key in ("select_k", "variance_threshold", "knn_impute", "covariate_modalities", "combat_modalities"):
            value = getattr(self, key)
            if value is not None:
                shown.append(f"{key}={value!r}")
        if self.covariates is not None:
            shown.append(f"covariates=<{self.covariates.shape[1]} columns>")
        if self.batch is not None:
            shown.append(f"batch=<{self.batch.nunique()} batches>")
        if self.smote:
            shown.append(f"smote=True, smote_k={self.smote_k}")
        return f"FoldPreprocessor({', '.join(shown)})"

    # ---------------------------------------------------------------- validation

    def _check_options(self, names: list[str]) -> dict:
        """Validate the settings against the modality names; return the resolved plan."""

        def known(listed, option):
            unknown = [m for m in listed if m not in names]
            if unknown:
                msg = f"{option} names modalities not in the data ({preview(unknown)}); modalities: {preview(names, 10)}"
                raise InputError(msg)
            return list(listed)

        def positive_int(value, option):
            if not _is_int(value) or value < 1:
                msg = f"{option} must be a positive integer (got {value!r})"
                raise InputError(msg)
            return int(value)

        if self.select_k is None:
            select = {}
        elif isinstance(self.select_k, dict):
            known(self.select_k, "select_k")
            select = {m: positive_int(k, f"select_k['{m}']") for m, k in self.select_k.items()}
        else:
            select = {m: positive_int(self.select_k, "select_k") for m in names}
        threshold = self.variance_threshold
        if threshold is not None and (not isinstance(threshold, numbers.Real) or isinstance(threshold, bool) or not threshold >= 0):
            msg = f"variance_threshold must be a non-negative number (got {threshold!r})"
            raise InputError(msg)
        if self.covariates is None:
            if self.covariate_modalities:
                msg = "covariate_modalities is set but no covariates were given; pass covariates (samples x covariates)"
                raise InputError(msg)
            covariate_modalities = []
        else:
            if not isinstance(self.covariates, pd.DataFrame) or self.covariates.shape[1] == 0:
                msg = "covariates must be a DataFrame of samples x covariates with at least one column"
                raise InputError(msg)
            covariate_modalities = names if self.covariate_modalities is None else known(self.covariate_modalities, "covariate_modalities")
        if self.batch is None:
            if self.combat_modalities:
                msg = "combat_modalities is set but no batch labels were given; pass batch (sample id -> batch)"
                raise InputError(msg)
            combat_modalities = []
        else:
            if not isinstance(self.batch, pd.Series):
                msg = "batch must be a Series mapping sample id -> batch label"
                raise InputError(msg)
            combat_modalities = names if self.combat_modalities is None else known(self.combat_modalities, "combat_modalities")
        knn = None if self.knn_impute is None else positive_int(self.knn_impute, "knn_impute")
        positive_int(self.smote_k, "smote_k")
        return {"select": select, "covariates": covariate_modalities, "combat": combat_modalities, "knn": knn}

    def _covariate_frame(self, samples: pd.Index) -> pd.DataFrame:
        table = self.covariates.copy()
        table.index = table.index.astype(str)
        if table.index.has_duplicates:
            msg = f"covariates have duplicate sample ids ({preview(table.index[table.index.duplicated()].unique())})"
            raise InputError(msg)
        frame = table.reindex(samples)
        lacking = samples[frame.isna().any(axis=1).to_numpy()]
        if len(lacking):
            msg = f"covariates are missing for {len(lacking)} samples ({preview(lacking)}); give them values or drop those samples"
            raise InputError(msg)
        return frame

    def _batch_labels(self, samples: pd.Index, name: str) -> np.ndarray:
        labels = self.batch.copy()
        labels.index = labels.index.astype(str)
        if labels.index.has_duplicates:
            msg = f"batch has duplicate sample ids ({preview(labels.index[labels.index.duplicated()].unique())})"
            raise InputError(msg)
        labels = labels.reindex(samples)
        lacking = samples[labels.isna().to_numpy()]
        if len(lacking):
            msg = f"batch labels are missing for {len(lacking)} samples of modality '{name}' ({preview(lacking)})"
            raise InputError(msg)
        return labels.astype(str).to_numpy()

    # ---------------------------------------------------------------- fit / transform

    def fit(self, train: MultiOmicsData) -> FoldPreprocessor:
        """Learn every step from ``train`` (the training rows of a fold); returns self."""
        if not isinstance(train, MultiOmicsData):
            msg = f"fit expects a MultiOmicsData (got {type(train).__name__})"
            raise TypeError(msg)
        names = list(train.modalities)
        plan = self._check_options(names)
        if plan["select"] and train.labels is None:
            msg = "select_k needs labels; build the training MultiOmicsData with labels"
            raise InputError(msg)
        design = None
        if plan["covariates"]:
            rows = np.logical_or.reduce([train.observed[m] for m in plan["covariates"]])
            design = _CovariateDesign.fit(self._covariate_frame(train.samples[rows]))
            self.covariate_columns_ = design.columns
        self._design = design
        self.states_: dict[str, _ModalityState] = {}
        for name in names:
            self.states_[name] = self._fit_modality(train, name, plan, design)
        self.modalities_ = names
        self.train_samples_ = train.samples.copy()
        self.selected_features_ = {n: [s.features_in[i] for i in s.non_empty[s.keep]] for n, s in self.states_.items()}
        self.pvalues_ = {n: s.pvalues for n, s in self.states_.items() if s.pvalues is not None}
        self.variances_ = {n: s.variances for n, s in self.states_.items()}
        self.combat_ = {n: s.combat for n, s in self.states_.items() if s.combat is not None}
        self.imputers_ = {n: s.imputer for n, s in self.states_.items() if s.imputer is not None}
        return self

    def _fit_modality(self, train: MultiOmicsData, name: str, plan: dict, design) -> _ModalityState:
        rows = train.observed[name]
        frame = train.modalities[name]
        samples = train.samples[rows]
        features = list(frame.columns)
        x = frame.to_numpy(dtype=np.float64)[rows]
        if x.shape[0] == 0:
            msg = f"modality '{name}' has no observed training sample"
            raise InputError(msg)
        non_empty = np.arange(x.shape[1])
        imputer = None
        if plan["knn"] is not None:
            from sklearn.impute import KNNImputer

            non_empty = np.flatnonzero(~np.isnan(x).all(axis=0))
            if non_empty.size == 0:
                msg = f"modality '{name}' has no observed value in the training rows"
                raise InputError(msg)
            x = x[:, non_empty]
            imputer = KNNImputer(n_neighbors=plan["knn"]).fit(x)
            x = imputer.transform(x)
        corrected = name in plan["covariates"] or name in plan["combat"]
        if corrected and np.isnan(x).any():
            msg = (
                f"modality '{name}' has {int(np.isnan(x).sum())} missing values, which covariate regression "
                f"and ComBat cannot take; set knn_impute to impute them first"
            )
            raise InputError(msg)
        coef, c_mean = None, None
        if name in plan["covariates"]:
            c = design.matrix(self._covariate_frame(samples))
            coef = np.linalg.lstsq(c, x, rcond=None)[0]
            c_mean = c.mean(axis=0)
            x = x - (c - c_mean) @ coef
        combat = None
        if name in plan["combat"]:
            b = self._batch_labels(samples, name)
            combat = ComBat(name=name).fit(x, b)
            x = combat.transform(x, b)
        kept_names = [features[i] for i in non_empty]
        with np.errstate(invalid="ignore", divide="ignore"):
            finite = ~np.isnan(x).all(axis=0)
            variances = np.full(x.shape[1], np.nan)
            variances[finite] = np.nanvar(x[:, finite], axis=0)
            constant = np.zeros(x.shape[1], dtype=bool)
            constant[finite] = np.nanmax(x[:, finite], axis=0) == np.nanmin(x[:, finite], axis=0)
        variances[constant] = 0.0
        keep = np.arange(x.shape[1])
        if self.variance_threshold is not None:
            keep = np.flatnonzero(variances > self.variance_threshold)
            if keep.size == 0:
                msg = (
                    f"variance_threshold={self.variance_threshold} removes every feature of modality '{name}' "
                    f"(largest training variance {np.nanmax(variances, initial=0.0):.3g})"
                )
                raise InputError(msg)
        pvalues, test = None, None
        if name in plan["select"]:
            labels = train.labels.to_numpy()[rows]
            classes, counts = np.unique(labels, return_counts=True)
            if len(classes) < 2:
                msg = f"select_k needs at least 2 classes in the training rows of modality '{name}' (got {preview(classes)})"
                raise InputError(msg)
            if counts.min() < 2:
                msg = f"select_k needs at least 2 training samples per class in modality '{name}'; class {preview(classes[counts < 2])} has 1"
                raise InputError(msg)
            p, test = association_pvalues(x[:, keep], labels)
            pvalues = pd.Series(np.nan, index=kept_names, name="pvalue")
            pvalues.iloc[keep] = p
            k = plan["select"][name]
            order = np.argsort(p, kind="stable")  # NaN last, ties keep feature order
            keep = np.sort(keep[order[:k]])
        return _ModalityState(
            features_in=features,
            non_empty=non_empty,
            imputer=imputer,
            covariate_coef=coef,
            covariate_mean=c_mean,
            combat=combat,
            variances=pd.Series(variances, index=kept_names, name="variance"),
            pvalues=pvalues,
            keep=keep,
            test=test,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "states_"):
            msg = "this FoldPreprocessor is not fitted yet; call fit on the training rows first"
            raise NotFittedError(msg)

    def transform(self, data: MultiOmicsData) -> MultiOmicsData:
        """Apply the fitted steps to ``data`` (any rows); returns a new MultiOmicsData.

        Features are reduced to ``selected_features_``; rows unobserved in a modality stay
        unobserved (NaN). ``data`` itself is not modified.
        """
        self._check_fitted()
        if not isinstance(data, MultiOmicsData):
            msg = f"transform expects a MultiOmicsData (got {type(data).__name__})"
            raise TypeError(msg)
        missing = [m for m in self.modalities_ if m not in data.modalities]
        extra = [m for m in data.modalities if m not in self.modalities_]
        if missing or extra:
            msg = f"data has modalities {preview(list(data.modalities), 10)} but the preprocessor was fitted on {preview(self.modalities_, 10)}"
            raise InputError(msg)
        modalities = {}
        for name in self.modalities_:
            modalities[name] = self._transform_modality(data, name)
        new = object.__new__(MultiOmicsData)
        new.samples = data.samples.copy()
        new.modalities = modalities
        new.observed = {name: data.observed[name].copy() for name in self.modalities_}
        new.labels = data.labels.copy() if data.labels is not None else None
        new.covariates = data.covariates
        return new

    def _transform_modality(self, data: MultiOmicsData, name: str) -> pd.DataFrame:
        state = self.states_[name]
        frame = data.modalities[name]
        aligned = align_features(frame, state.features_in, name)
        rows = data.observed[name]
        samples = data.samples[rows]
        columns = [state.features_in[i] for i in state.non_empty]
        x = aligned[columns].to_numpy(dtype=np.float64)[rows]
        if state.imputer is not None and x.shape[0]:
            x = state.imputer.transform(x)
        x = x[:, state.keep]
        if (state.covariate_coef is not None or state.combat is not None) and np.isnan(x).any():
            msg = (
                f"modality '{name}' has {int(np.isnan(x).sum())} missing values, which covariate regression "
                f"and ComBat cannot take; set knn_impute to impute them first"
            )
            raise InputError(msg)
        if state.covariate_coef is not None and x.shape[0]:
            c = self._design.matrix(self._covariate_frame(samples))
            x = x - (c - state.covariate_mean) @ state.covariate_coef[:, state.keep]
        if state.combat is not None and x.shape[0]:
            x = state.combat.subset(state.keep).transform(x, self._batch_labels(samples, name))
        out = np.full((len(data.samples), x.shape[1]), np.nan, dtype=np.float32)
        out[rows] = x
        kept = [columns[i] for i in state.keep]
        return pd.DataFrame(out, index=data.samples.copy(), columns=pd.Index(kept, dtype=frame.columns.dtype))

    def fit_transform(self, train: MultiOmicsData) -> MultiOmicsData:
        """``fit(train).transform(train)``."""
        return self.fit(train).transform(train)

    # ---------------------------------------------------------------- SMOTE

    def resample(self, train: MultiOmicsData) -> MultiOmicsData:
        """Oversample the training rows with SMOTE (when ``smote=True``; otherwise a copy).

        Only the rows ``fit`` saw are accepted (raw or already transformed), so evaluation
        rows can never be oversampled. Every modality must be observed, without NaN, for
        every sample; SMOTE runs on the concatenated features and the result is split back per
        modality. Synthetic samples get ids ``smote_0``, ``smote_1``, ... after the originals.
        """
        self._check_fitted()
        if not isinstance(train, MultiOmicsData):
            msg = f"resample expects a MultiOmicsData (got {type(train).__name__})"
            raise TypeError(msg)
        if not train.samples.sort_values().equals(self.train_samples_.sort_values()):
            msg = (
                "resample only takes the training rows the preprocessor was fitted on "
                f"({len(self.train_samples_)} samples; got {len(train.samples)}, e.g. {preview(train.samples.difference(self.train_samples_))})"
            )
            raise InputError(msg)
        if not self.smote:
            return train.subset(np.arange(len(train)))
        if train.labels is None:
            msg = "SMOTE needs labels; build the training MultiOmicsData with labels"
            raise InputError(msg)
        for name, mask in train.observed.items():
            if not mask.all():
                msg = (
                    f"SMOTE needs every modality observed for every training sample; modality '{name}' "
                    f"lacks {int((~mask).sum())} samples ({preview(train.samples[~mask])})"
                )
                raise InputError(msg)
            n_nan = int(train.modalities[name].isna().to_numpy().sum())
            if n_nan:
                msg = f"SMOTE cannot take missing values; modality '{name}' has {n_nan} (set knn_impute to impute them)"
                raise InputError(msg)
        classes, counts = np.unique(train.labels.to_numpy(), return_counts=True)
        if len(classes) < 2:
            msg = f"SMOTE needs at least 2 classes (got {preview(classes)})"
            raise InputError(msg)
        if counts.min() <= self.smote_k:
            msg = (
                f"SMOTE with smote_k={self.smote_k} needs more than {self.smote_k} samples in every class; "
                f"class {classes[counts.argmin()]!r} has {counts.min()}"
            )
            raise InputError(msg)
        from imblearn.over_sampling import SMOTE

        names = list(train.modalities)
        blocks = [train.modalities[n].to_numpy(dtype=np.float64) for n in names]
        x = np.hstack(blocks)
        smote = SMOTE(k_neighbors=self.smote_k, random_state=self.random_state)
        x_res, y_res = smote.fit_resample(x, train.labels.to_numpy())
        n_new = x_res.shape[0] - x.shape[0]
        prefix = "smote_"
        while any(str(s).startswith(prefix) for s in train.samples):
            prefix = "_" + prefix
        samples = train.samples.append(pd.Index([f"{prefix}{i}" for i in range(n_new)]))
        new = object.__new__(MultiOmicsData)
        new.samples = samples
        new.covariates = None  # synthetic samples have no covariates
        new.modalities = {}
        start = 0
        for name, block in zip(names, blocks):
            stop = start + block.shape[1]
            frame = train.modalities[name]
            new.modalities[name] = pd.DataFrame(x_res[:, start:stop].astype(np.float32), index=samples, columns=frame.columns.copy())
            start = stop
        new.observed = {name: np.ones(len(samples), dtype=bool) for name in names}
        new.labels = pd.Series(y_res, index=samples, name=train.labels.name)
        return new

    # ---------------------------------------------------------------- report

    def summary(self) -> str:
        """A short text description of the settings and, once fitted, of what was learnt."""
        if not hasattr(self, "states_"):
            return f"{self!r} (not fitted)"
        lines = [f"FoldPreprocessor fitted on {len(self.train_samples_)} training samples"]
        for name, state in self.states_.items():
            steps = [f"{len(state.features_in)} features"]
            if state.imputer is not None:
                dropped = len(state.features_in) - state.non_empty.size
                steps.append(f"KNN imputation (k={self.knn_impute})" + (f", {dropped} empty features dropped" if dropped else ""))
            if state.covariate_coef is not None:
                steps.append("covariates regressed out")
            if state.combat is not None:
                steps.append(f"ComBat over {len(state.combat.batches_)} batches ({int(state.combat.adjusted_.sum())} features adjusted)")
            if self.variance_threshold is not None:
                n_var = int((state.variances > self.variance_threshold).sum())
                steps.append(f"{n_var} with variance > {self.variance_threshold:g}")
            if state.pvalues is not None:
                steps.append(f"top {len(state.keep)} by {state.test}")
            lines.append(f"  {name}: " + " -> ".join(steps) + f" => {len(state.keep)} kept")
        if getattr(self, "_design", None) is not None:
            lines.append(f"  covariate design: intercept + {preview(self.covariate_columns_, 10) or 'nothing'}")
        if self.smote:
            lines.append(f"  SMOTE (k_neighbors={self.smote_k}) in resample(), on training rows only")
        return "\n".join(lines)
