"""Aligned multi-modal data: per-modality samples x features tables, labels, sample ids."""

from __future__ import annotations

import logging
import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InputError, preview

log = logging.getLogger(__name__)

# Missing genotype calls in int8 tables, bed-reader's convention (dosages are 0, 1, 2).
MISSING_INT8 = -127


def check_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Validate one samples x features table; return it with string ids and compact values.

    int8 tables (genotype dosages, :data:`MISSING_INT8` for a missing call) stay int8 and
    float32 tables are not copied, so a genome-scale panel is held once; anything else
    numeric becomes float32. Raises :class:`InputError` for an empty table, duplicate sample
    or feature ids, or non-numeric values. NaNs pass (the scaler's ``missing`` policy decides).
    """
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        msg = f"modality '{name}' is empty ({frame.shape[0]} samples x {frame.shape[1]} features)"
        raise InputError(msg)
    empty = frame.index.isna() | (frame.index.astype(str).str.strip() == "")
    if empty.any():
        rows = preview(np.flatnonzero(empty))
        msg = f"modality '{name}' has {int(empty.sum())} rows without a sample id (row positions {rows}); give every row an id"
        raise InputError(msg)
    frame = frame.copy(deep=False)  # new labels below; the values stay shared
    frame.index = frame.index.astype(str)
    frame.columns = frame.columns.astype(str)
    for axis, ids in (("sample", frame.index), ("feature", frame.columns)):
        if ids.has_duplicates:
            msg = f"modality '{name}' has duplicate {axis} ids ({preview(ids[ids.duplicated()].unique())}); make them unique"
            raise InputError(msg)
    dtypes = frame.dtypes
    numeric = dtypes.map(pd.api.types.is_numeric_dtype).to_numpy(dtype=bool)
    if not numeric.all():
        column = frame.columns[np.flatnonzero(~numeric)[0]]
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column][values.isna() & frame[column].notna()]
        example = f" (sample {bad.index[0]}: {bad.iloc[0]!r})" if len(bad) else ""
        msg = f"modality '{name}' has non-numeric values in {int((~numeric).sum())} features, e.g. '{column}'{example}"
        raise InputError(msg)
    if (dtypes == np.int8).all() or (dtypes == np.float32).all():
        return frame
    return frame.astype(np.float32)


def missing_value(frame: pd.DataFrame) -> float:
    """The value that marks an unobserved entry of a checked table: NaN, or MISSING_INT8."""
    return MISSING_INT8 if (frame.dtypes == np.int8).all() else np.nan


def float_values(frame: pd.DataFrame, dtype=np.float64) -> np.ndarray:
    """A new float array of a checked table's values; missing int8 calls become NaN."""
    values = frame.to_numpy(dtype=dtype, copy=True)
    if (frame.dtypes == np.int8).all():
        values[values == MISSING_INT8] = np.nan
    return values


def encode_labels(labels: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, codes)``: sorted unique labels and each sample's index into them."""
    classes, codes = np.unique(labels.to_numpy(), return_inverse=True)
    return classes, codes.astype(np.int64)


def training_classes(labels: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode_labels` of the labels a classifier fits on; :class:`InputError` when
    there are none or they hold a single class."""
    if labels is None:
        msg = "labels are required to fit"
        raise InputError(msg)
    classes, codes = encode_labels(labels)
    if len(classes) < 2:
        msg = f"the labels hold a single class ({classes[0]!r}); a classifier needs at least two"
        raise InputError(msg)
    return classes, codes


def align_features(frame: pd.DataFrame, features: Sequence[str], modality: str) -> pd.DataFrame:
    """``frame`` with exactly the training ``features`` as columns, in their order (names
    compared as strings): (n_samples, any) -> (n_samples, len(features)).

    Every fitted model and preprocessor reads new data through this one check; a lacking
    feature raises :class:`InputError` naming it.
    """
    columns = frame.columns.astype(str)
    absent = pd.Index(features).difference(columns)
    if len(absent):
        transposed = frame.index.astype(str).isin(absent).sum() > len(absent) / 2
        fix = "the table looks transposed (its rows are features): give samples as rows" if transposed else "give the same features as in training"
        msg = f"modality '{modality}' lacks {len(absent)} of the {len(features)} features seen in training ({preview(absent)}); {fix}"
        raise InputError(msg)
    extra = columns.difference(pd.Index(features))
    if len(extra):
        log.info("modality '%s': %d columns not seen in training are ignored (%s)", modality, len(extra), preview(extra))
    return frame.set_axis(columns, axis=1)[list(features)]


class MultiOmicsData:
    """Per-modality tables aligned on sample ids.

    Parameters
    ----------
    modalities : mapping of modality name -> DataFrame of shape (n_samples_m, n_features_m)
        Sample ids in the index, feature names in the columns.
    labels : Series or DataFrame, optional
        Phenotype per sample id (a DataFrame for several label columns: survival's ``time``
        and ``event``).
    join : {"inner", "outer"}
        ``"inner"`` keeps samples present in every modality (and the labels); ``"outer"``
        keeps samples present in at least one modality (and the labels, when given). Dropped
        samples are counted in a warning.

    Attributes
    ----------
    samples : Index of str, the aligned sample ids
    modalities : dict of name -> DataFrame reindexed to ``samples`` (rows of NaN, or of
        MISSING_INT8 in an int8 table, where unobserved)
    observed : dict of name -> bool ndarray of shape (n_samples,)
    labels : Series or DataFrame aligned to ``samples``, or None
    covariates : DataFrame aligned to ``samples`` (NaN rows where a sample has none), or None;
        set by :meth:`with_covariates`
    """

    def __init__(
        self,
        modalities: Mapping[str, pd.DataFrame],
        labels: pd.Series | None = None,
        *,
        join: str = "inner",
    ) -> None:
        if not modalities:
            msg = "no modality given"
            raise InputError(msg)
        tables = {name: check_table(frame, name) for name, frame in modalities.items()}
        if labels is not None:
            labels = labels.copy()
            labels.index = labels.index.astype(str)
            if labels.index.has_duplicates:
                msg = f"labels have duplicate sample ids ({preview(labels.index[labels.index.duplicated()].unique())})"
                raise InputError(msg)
            # Unlabelled samples leave; a table of several label columns (survival: time and
            # event) keeps partly filled rows for the task to refuse with a clear message.
            labels = labels[labels.notna() if labels.ndim == 1 else labels.notna().any(axis=1)]
        self.samples = self._align(tables, labels, join)
        self.modalities = {
            name: frame if frame.index.equals(self.samples) else frame.reindex(self.samples, fill_value=missing_value(frame))
            for name, frame in tables.items()
        }
        self.observed = {name: self.samples.isin(frame.index) for name, frame in tables.items()}
        self.labels = labels.reindex(self.samples) if labels is not None else None
        self.covariates: pd.DataFrame | None = None

    @staticmethod
    def _align(tables: Mapping[str, pd.DataFrame], labels: pd.Series | None, join: str) -> pd.Index:
        indices = [frame.index for frame in tables.values()]
        for name, frame in tables.items():
            others = [t.index for n, t in tables.items() if n != name]
            against = "the labels" if labels is not None else "the other modalities"
            reference = labels.index if labels is not None else others[0].append(others[1:]) if others else frame.index
            if not frame.index.isin(reference).any():
                if frame.columns.isin(reference).any():
                    msg = (
                        f"modality '{name}' looks transposed: its columns are sample ids of {against} (e.g. "
                        f"{preview(frame.columns[frame.columns.isin(reference)])}); give samples as rows, or set "
                        f'orientation = "features_by_samples" for it'
                    )
                    raise InputError(msg)
                msg = (
                    f"no sample of modality '{name}' matches {against} (its ids e.g. {preview(frame.index)}; ids of {against} "
                    f"e.g. {preview(reference)}){_id_hint(frame.index, reference)}; check the sample id columns"
                )
                raise InputError(msg)
        if join == "inner":
            samples = indices[0]
            for index in indices[1:]:
                samples = samples[samples.isin(index)]
        elif join == "outer":
            samples = pd.Index(pd.unique(np.concatenate([index.to_numpy() for index in indices])))
        else:
            msg = f"join must be 'inner' or 'outer' (got {join!r})"
            raise ValueError(msg)
        if labels is not None:
            samples = samples[samples.isin(labels.index)]
        if len(samples) == 0:
            msg = "no sample is shared by all modalities" + (" and the labels" if labels is not None else "")
            raise InputError(msg)
        causes = _dropped_samples(tables, labels, samples)
        if causes:
            dropped = pd.Index([]).append([ids for ids in causes.values()]).unique()
            reasons = "; ".join(f"{len(ids)} {cause} (e.g. {preview(ids)})" for cause, ids in causes.items())
            msg = f"kept {len(samples)} samples, dropped {len(dropped)}: {reasons}"
            warnings.warn(msg, stacklevel=3)
        return samples

    @property
    def modality_names(self) -> list[str]:
        return list(self.modalities)

    def __len__(self) -> int:
        return len(self.samples)

    def subset(self, rows: np.ndarray) -> MultiOmicsData:
        """A copy restricted to positional ``rows`` (no re-validation)."""
        new = object.__new__(MultiOmicsData)
        new.samples = self.samples[rows]
        new.modalities = {name: frame.iloc[rows] for name, frame in self.modalities.items()}
        new.observed = {name: mask[rows] for name, mask in self.observed.items()}
        new.labels = self.labels.iloc[rows] if self.labels is not None else None
        new.covariates = self.covariates.iloc[rows] if self.covariates is not None else None
        return new

    def with_covariates(self, covariates: pd.DataFrame | None) -> MultiOmicsData:
        """A copy whose ``covariates`` are ``covariates`` (samples x covariates, sample ids in
        the index) aligned to ``samples``; a sample without a row gets NaN (refused when the
        covariates are encoded). None removes them."""
        new = self.subset(np.arange(len(self)))
        if covariates is not None:
            if not isinstance(covariates, pd.DataFrame):
                msg = f"covariates must be a DataFrame of samples x covariates with sample ids in the index (got {type(covariates).__name__})"
                raise InputError(msg)
            covariates = covariates.set_axis(covariates.index.astype(str))
            if covariates.index.has_duplicates:
                msg = f"covariates have duplicate sample ids ({preview(covariates.index[covariates.index.duplicated()].unique())})"
                raise InputError(msg)
            covariates = covariates.reindex(self.samples)
        new.covariates = covariates
        return new

    def select_modalities(self, names) -> MultiOmicsData:
        """A copy with only the modalities ``names`` and the samples observed in at least one of them."""
        names = list(names)
        keep = np.logical_or.reduce([np.asarray(self.observed[m]) for m in names])
        part = self.subset(np.flatnonzero(keep))
        part.modalities = {m: part.modalities[m] for m in names}
        part.observed = {m: part.observed[m] for m in names}
        return part

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {int(self.observed[n].sum())} x {f.shape[1]}" for n, f in self.modalities.items())
        return f"MultiOmicsData({len(self)} samples; {shapes})"


def _id_hint(ids: pd.Index, reference: pd.Index) -> str:
    """Why two id lists that share no id may still name the same samples: case, or a suffix
    (TCGA aliquot barcodes such as ``TCGA-A1-A0SB-01A`` against patient ``TCGA-A1-A0SB``)."""
    if ids.str.lower().isin(reference.str.lower()).any():
        return "; the ids differ only in upper/lower case"
    pairs = [(a, b) for a in ids[:200] for b in reference[:200] if a.startswith(b) or b.startswith(a)]
    if pairs:
        return f"; the ids differ by a suffix (e.g. {pairs[0][0]!r} and {pairs[0][1]!r}): strip it from one side"
    return ""


def _dropped_samples(tables: Mapping[str, pd.DataFrame], labels: pd.Series | None, samples: pd.Index) -> dict[str, pd.Index]:
    """Why sample ids of the tables or labels are not among ``samples``: cause -> ids."""
    union = pd.Index(pd.unique(np.concatenate([frame.index.to_numpy() for frame in tables.values()])))
    causes = {}
    if labels is not None:
        causes["without a label"] = union[~union.isin(labels.index)]
        causes["labelled but in no modality"] = labels.index[~labels.index.isin(union)]
        union = union[union.isin(labels.index)]
    for name, frame in tables.items():
        # Under an inner join a sample missing from one modality is dropped from all.
        causes[f"missing from {name}"] = union[~union.isin(frame.index) & ~union.isin(samples)]
    return {cause: ids for cause, ids in causes.items() if len(ids)}
