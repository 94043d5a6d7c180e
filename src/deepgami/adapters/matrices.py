"""Matrix files, AnnData and MuData to deepgami's canonical modality tables.

The canonical modality table is a :class:`pandas.DataFrame` of shape (n_samples, n_features):
sample ids (str) in the index, feature names (str) in the columns, numeric values.

Orientation of a plain matrix file is never guessed: :func:`load_matrix` needs it spelled out.
The AnnData and MuData loaders live in the core, :mod:`deepgami.scverse` (the estimator reads
those objects directly), and are re-exported here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, preview
from ..readers import ORIENTATIONS
from ..scverse import _check_ids, load_anndata, load_mudata, load_mudata_labels

__all__ = ["ORIENTATIONS", "load_anndata", "load_matrix", "load_mudata", "load_mudata_labels"]

logger = logging.getLogger(__name__)

_TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_EXCEL_ENGINES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".xls": "xlrd"}


# --------------------------------------------------------------------------- plain matrices


def load_matrix(
    path: str | Path,
    *,
    orientation: str | None = None,
    sep: str | None = None,
    id_column: str | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a numeric matrix file as a canonical samples x features table.

    Parameters
    ----------
    path : str or Path
        A delimited text file (``.csv``; ``.tsv``, ``.tab`` or ``.txt`` for tab-separated; each
        optionally compressed, e.g. ``.csv.gz``), a Parquet file (``.parquet``, ``.pq``) or an
        Excel workbook (``.xlsx``, needs ``openpyxl``).
    orientation : {"samples_by_features", "features_by_samples"}
        Required. ``"samples_by_features"``: one row per sample, one column per feature.
        ``"features_by_samples"``: one row per feature (e.g. a gene x sample expression
        matrix); the table is transposed. It is never guessed.
    sep : str, optional
        Field separator of a text file. By default taken from the suffix (``,`` for ``.csv``,
        a tab for ``.tsv``/``.tab``/``.txt``); required for other suffixes.
    id_column : str, optional
        The column holding the row ids (sample ids for ``"samples_by_features"``, feature ids
        for ``"features_by_samples"``). By default the first column; for Parquet, the stored
        index when it is not a plain 0..n-1 range, else the first column.
    sheet : str or int, optional
        Sheet name or position of an Excel workbook (default: the first sheet).

    Returns
    -------
    DataFrame of shape (n_samples, n_features)
        Sample ids (str) as index, feature names (str) as columns, numeric values (missing
        cells are NaN). Row ids are read as text, so ``"001"`` stays ``"001"``.

    Raises
    ------
    InputError
        When ``orientation`` is missing or unknown, the file is missing or unreadable, an id is
        missing or duplicated (sample or feature), or a value is not numeric.

    Examples
    --------
    >>> rna = load_matrix("expression.tsv.gz", orientation="features_by_samples")  # doctest: +SKIP
    """
    if orientation is None or orientation not in ORIENTATIONS:
        got = "" if orientation is None else f" (got {orientation!r})"
        msg = (
            f"load_matrix needs orientation='samples_by_features' (rows are samples) or "
            f"'features_by_samples' (rows are features) for {path}{got}; it is never guessed"
        )
        raise InputError(msg)
    path = Path(path)
    if not path.is_file():
        msg = f"matrix file {path} does not exist; check the path"
        raise InputError(msg)
    suffix = _format_suffix(path)
    if sheet is not None and suffix not in _EXCEL_ENGINES:
        msg = f"sheet={sheet!r} applies to Excel workbooks only, not {path.name}; drop the sheet argument"
        raise InputError(msg)
    if suffix in _PARQUET_SUFFIXES:
        frame = _read_parquet(path, id_column)
    else:
        frame = _read_table(path, suffix, sep, id_column, sheet)
    rows, columns = ("sample", "feature") if orientation == "samples_by_features" else ("feature", "sample")
    _check_ids(frame.index, rows, path)
    _check_ids(frame.columns, columns, path)
    _check_numeric(frame, path)
    if orientation == "features_by_samples":
        frame = frame.T
    frame.index = pd.Index(frame.index.astype(str), name=None)
    frame.columns = pd.Index(frame.columns.astype(str), name=None)
    logger.info("read %s: %d samples x %d features (%s)", path.name, frame.shape[0], frame.shape[1], orientation)
    return frame


def _format_suffix(path: Path) -> str:
    name = path.name.lower()
    for compression in _COMPRESSION_SUFFIXES:
        if name.endswith(compression):
            name = name[: -len(compression)]
            break
    return Path(name).suffix


def _read_parquet(path: Path, id_column: str | None) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except ImportError as error:
        msg = f"reading {path.name} needs pyarrow; install it with: pip install pyarrow"
        raise InputError(msg) from error
    except Exception as error:  # noqa: BLE001 - pyarrow raises many types for a bad file
        msg = f"matrix file {path} could not be read as Parquet: {error}".splitlines()[0]
        raise InputError(msg) from error
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    if id_column is None:
        if not default_index:
            return frame
        if frame.shape[1] == 0:
            msg = f"matrix file {path} has no columns"
            raise InputError(msg)
        id_column = frame.columns[0]
    elif id_column == frame.index.name:
        return frame
    if id_column not in frame.columns:
        msg = f"matrix file {path} has no column '{id_column}' (columns: {preview(frame.columns, 5)}); fix id_column"
        raise InputError(msg)
    ids = frame[id_column]
    frame = frame.drop(columns=id_column)
    frame.index = pd.Index([None if pd.isna(i) else str(i) for i in ids])
    return frame


def _read_table(path: Path, suffix: str, sep: str | None, id_column: str | None, sheet: str | int | None) -> pd.DataFrame:
    if suffix in _EXCEL_ENGINES:
        reader, what = _excel_reader(path, suffix, sheet), "Excel sheet"
    else:
        if sep is None:
            if suffix not in _TEXT_SUFFIXES:
                msg = f"cannot tell the separator of {path.name}; pass sep=',' or sep='\\t' (or use .csv/.tsv/.parquet)"
                raise InputError(msg)
            sep = _TEXT_SUFFIXES[suffix]
        what = "TSV" if sep == "\t" else "CSV" if sep == "," else f"table separated by {sep!r}"

        def reader(**kwargs: Any) -> pd.DataFrame:
            return pd.read_csv(path, sep=sep, **kwargs)

    try:
        header = reader(header=None, nrows=1, dtype=str)
        if header.shape[0] == 0:
            msg = f"matrix file {path} is empty"
            raise InputError(msg)
        names = [None if pd.isna(v) else str(v) for v in header.iloc[0]]
        if id_column is None:
            position = 0
        elif id_column in names:
            position = names.index(id_column)
        else:
            msg = f"matrix file {path} has no column '{id_column}' (header: {preview([n for n in names if n], 5)}); fix id_column"
            raise InputError(msg)
        frame = reader(header=0, converters={position: str})
    except pd.errors.EmptyDataError as error:
        msg = f"matrix file {path} is empty"
        raise InputError(msg) from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        msg = f"matrix file {path} could not be parsed as a {what}: {error}".splitlines()[0]
        raise InputError(msg) from error
    if frame.shape[0] == 0:
        msg = f"matrix file {path} has a header but no rows"
        raise InputError(msg)
    if frame.shape[1] < 2:
        msg = f"matrix file {path} has no value columns besides the ids; check sep (got {sep!r})"
        raise InputError(msg)
    ids = frame.iloc[:, position]
    frame = frame.drop(columns=frame.columns[position])
    # pandas renames repeated header names ('a', 'a.1'); restore them so duplicates are caught
    frame.columns = pd.Index([n for i, n in enumerate(names) if i != position])
    frame.index = pd.Index([None if pd.isna(i) or str(i).strip() == "" else str(i) for i in ids])
    return frame


def _excel_reader(path: Path, suffix: str, sheet: str | int | None):
    engine = _EXCEL_ENGINES[suffix]
    try:
        __import__(engine)
    except ImportError as error:
        msg = f"reading {path.name} needs {engine}; install it with: pip install {engine}"
        raise InputError(msg) from error

    def reader(**kwargs: Any) -> pd.DataFrame:
        return pd.read_excel(path, sheet_name=0 if sheet is None else sheet, engine=engine, **kwargs)

    return reader


def _check_numeric(frame: pd.DataFrame, source: Any) -> None:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        msg = f"{source}: the table is empty ({frame.shape[0]} rows x {frame.shape[1]} value columns)"
        raise InputError(msg)
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]
        if pd.api.types.is_numeric_dtype(values):
            continue
        converted = pd.to_numeric(values, errors="coerce")
        bad = values[converted.isna() & values.notna()]
        if len(bad):
            example = f" (row {bad.index[0]}: {bad.iloc[0]!r})"
            msg = f"{source}: column '{column}' holds non-numeric values{example}; remove annotation columns or fix the values"
            raise InputError(msg)
        frame.isetitem(position, converted)
