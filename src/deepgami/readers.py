"""Reading the core's file formats: samples x features tables, labels, edge tables, id lists.

Tables are CSV (``.csv``) or tab-separated (``.tsv``, ``.txt``, ``.tab``), optionally gzipped.
Samples are rows and the first column holds sample ids, unless a modality is declared
``features_by_samples``; orientation is never guessed. A genotype modality may also be a PLINK
``.bed`` fileset.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .errors import InputError, preview
from .plink import load_plink


def _read(path: Path, what: str, **kwargs) -> pd.DataFrame:
    if not path.is_file():
        msg = f"{what} file {path} does not exist"
        raise InputError(msg)
    name = path.name.removesuffix(".gz")
    sep = "\t" if name.endswith((".tsv", ".txt", ".tab")) else ","
    try:
        frame = pd.read_csv(path, sep=sep, **kwargs)
    except pd.errors.EmptyDataError as error:
        msg = f"{what} file {path} is empty"
        raise InputError(msg) from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        msg = f"{what} file {path} could not be parsed as a {'TSV' if sep == chr(9) else 'CSV'} table: {error}".splitlines()[0]
        raise InputError(msg) from error
    if frame.shape[0] == 0:
        msg = f"{what} file {path} has a header but no rows"
        raise InputError(msg)
    return frame


#: How a modality table is laid out: rows are samples (the default), or rows are features.
ORIENTATIONS = ("samples_by_features", "features_by_samples")


def read_modality(path: str | Path, name: str, orientation: str = ORIENTATIONS[0]) -> pd.DataFrame:
    """A samples x features table: first column sample ids, header row feature names
    (``features_by_samples``: first column feature names, header row sample ids, transposed).

    A PLINK ``.bed`` (with its ``.bim``/``.fam`` beside it) is read as int8 dosages of the A1
    allele with missing calls kept (``deepgami.plink.load_plink(dtype="int8",
    impute="none")``): one byte per call, converted to float one batch at a time, so a
    genome-wide panel fits in memory. Missing calls then need ``missing = "mean"``.
    """
    if Path(path).suffix == ".bed":
        return _read_plink(Path(path), name)
    if orientation not in ORIENTATIONS:
        msg = f"orientation of modality '{name}' must be one of {', '.join(ORIENTATIONS)} (got {orientation!r})"
        raise InputError(msg)
    frame = read_sample_table(path, f"modality '{name}'")
    if orientation == "features_by_samples":
        frame = frame.T
        frame.index = frame.index.astype(str)
    if frame.shape[1] == 0:
        rows, first = ("samples", "sample ids") if orientation == ORIENTATIONS[0] else ("features", "feature names")
        msg = f"modality '{name}' file {path} has no feature columns ({rows} are rows, the first column holds {first})"
        raise InputError(msg)
    return frame


def read_sample_table(path: str | Path, what: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A table with one row per sample (covariates, batches): first column sample ids (as str).

    ``columns``: the columns to keep, in this order, each required; default every column.
    """
    frame = _read(Path(path), what, index_col=0)
    empty = frame.index.isna()
    if empty.any():
        rows = preview(empty.nonzero()[0] + 1)
        msg = f"{what} file {path} has {int(empty.sum())} rows without a sample id (data rows {rows}); give every row an id"
        raise InputError(msg)
    frame.index = frame.index.astype(str)
    if columns is None:
        return frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what} file {path} has no column '{missing[0]}' (columns: {', '.join(repr(str(c)) for c in frame.columns)}); "
            "fix the column name"
        )
        raise InputError(msg)
    return frame[list(columns)]


def _read_plink(path: Path, name: str) -> pd.DataFrame:
    if importlib.util.find_spec("bed_reader") is None:  # an optional dependency
        msg = f"modality '{name}' is a PLINK .bed, which needs bed-reader: pip install 'deepgami[adapters]'"
        raise InputError(msg)
    return load_plink(path, dtype="int8", impute="none").dosages


def read_labels(path: str | Path, id_column: str = "sample", label_column: str = "label") -> pd.Series:
    """Labels as a Series indexed by sample id; labels are the strings in the file (classes 0..4
    stay "0".."4", never "0.0" because a missing value made the column float)."""
    return _label_table(path, id_column, {"label_column": label_column})[label_column]


def read_survival_labels(path: str | Path, id_column: str = "sample", time_column: str = "time", event_column: str = "event") -> pd.DataFrame:
    """Survival labels indexed by sample id: columns ``time`` and ``event``, the strings in the
    file (checked and converted by :func:`deepgami.tasks.survival_labels`)."""
    frame = _label_table(path, id_column, {"time_column": time_column, "event_column": event_column})
    return frame[[time_column, event_column]].set_axis(["time", "event"], axis=1)


def read_label_columns(path: str | Path, id_column: str, targets: dict[str, list[str]]) -> pd.DataFrame:
    """The label columns of several targets (target name -> its columns), indexed by sample id,
    as the strings in the file; a missing column names its target and the config key to set."""
    frame = _read(Path(path), "labels", dtype=str)
    for name, columns in targets.items():
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            msg = (
                f"labels file {path} has no column '{absent[0]}' for target '{name}' (columns: "
                f"{', '.join(repr(str(c)) for c in frame.columns)}); rename it or set its column in [[data.targets]]"
            )
            raise InputError(msg)
    if id_column not in frame.columns:
        msg = f"labels file {path} has no column '{id_column}'; rename it or set id_column in [data]"
        raise InputError(msg)
    return frame.set_index(id_column)


def _label_table(path: str | Path, id_column: str, columns: dict[str, str]) -> pd.DataFrame:
    """A labels file indexed by ``id_column``, read as strings; ``columns`` maps each config key
    (``label_column``, ...) to the column it names, which must exist and hold a value."""
    frame = _read(Path(path), "labels", dtype=str)
    for column, key in ((id_column, "id_column"), *((c, k) for k, c in columns.items())):
        if column not in frame.columns:
            msg = (
                f"labels file {path} has no column '{column}' (columns: {', '.join(repr(str(c)) for c in frame.columns)}); "
                f"rename it or set {key} in [data]"
            )
            raise InputError(msg)
    frame = frame.set_index(id_column)
    for column in columns.values():
        if frame[column].isna().all():
            msg = f"labels file {path} has no label values in column '{column}'"
            raise InputError(msg)
    return frame


def read_edges(
    path: str | Path, source_column: str = "source", target_column: str = "target", weight_column: str = "weight"
) -> pd.DataFrame:
    """An edge table with columns ``source, target[, weight]``; other columns are ignored."""
    frame = _read(Path(path), "edge table", dtype={source_column: str, target_column: str})
    missing = [c for c in (source_column, target_column) if c not in frame.columns]
    if missing:
        msg = (
            f"edge table {path} needs columns '{source_column}' and '{target_column}' "
            f"(found: {', '.join(repr(str(c)) for c in frame.columns)}); rename them or set source_column/target_column"
        )
        raise InputError(msg)
    columns = {source_column: "source", target_column: "target"}
    if weight_column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[weight_column]) or frame[weight_column].isna().any():
            msg = f"edge table {path} column '{weight_column}' must hold a number on every row"
            raise InputError(msg)
        columns[weight_column] = "weight"
    return frame[list(columns)].rename(columns=columns)


def read_ids(path: str | Path) -> list[str]:
    """Sample ids, one per line (blank lines ignored)."""
    path = Path(path)
    if not path.is_file():
        msg = f"id list {path} does not exist"
        raise InputError(msg)
    ids = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not ids:
        msg = f"id list {path} is empty"
        raise InputError(msg)
    return ids
