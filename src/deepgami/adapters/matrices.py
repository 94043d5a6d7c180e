"""Matrix files, AnnData and MuData to deepgami's canonical modality tables.

The canonical modality table is a :class:`pandas.DataFrame` of shape (n_samples, n_features):
sample ids (str) in the index, feature names (str) in the columns, numeric values.

Orientation of a plain matrix file is never guessed: :func:`load_matrix` needs it spelled out.
AnnData and MuData are samples (``obs``) x features (``var``) by definition, so they need no
orientation. ``anndata`` and ``mudata`` are imported only when their loaders are called.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InputError, preview

if TYPE_CHECKING:  # pragma: no cover - typing only
    import anndata
    import mudata

__all__ = ["ORIENTATIONS", "load_anndata", "load_matrix", "load_mudata", "load_mudata_labels"]

logger = logging.getLogger(__name__)

#: The two accepted values of ``orientation`` in :func:`load_matrix`.
ORIENTATIONS = ("samples_by_features", "features_by_samples")

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


def _check_ids(ids: pd.Index, axis: str, source: Any) -> None:
    missing = int(pd.isna(ids).sum()) if len(ids) else 0
    if missing:
        msg = f"{source}: {missing} {axis} id(s) are empty; give every {axis} an id"
        raise InputError(msg)
    text = pd.Index(ids.astype(str))
    if text.has_duplicates:
        dups = text[text.duplicated()].unique()
        msg = f"{source}: {len(dups)} duplicate {axis} id(s) ({preview(dups)}); make them unique or aggregate them before loading"
        raise InputError(msg)


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


# --------------------------------------------------------------------------- AnnData / MuData


def _import(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as error:
        msg = f"this loader needs {module}; install it with: pip install {module}"
        raise InputError(msg) from error


@contextlib.contextmanager
def _mudata_options(md: Any):
    """Silence mudata 0.3's FutureWarning about pulling columns on update by adopting the new default."""
    try:
        context = md.set_options(pull_on_update=False)
    except (AttributeError, KeyError, ValueError, TypeError):  # older or newer mudata without the option
        context = contextlib.nullcontext()
    with context:
        yield


def load_anndata(
    path_or_adata: str | Path | anndata.AnnData,
    *,
    layer: str | None = None,
    use_raw: bool = False,
    var_names_column: str | None = None,
) -> pd.DataFrame:
    """Return one AnnData matrix as a canonical samples x features table.

    Parameters
    ----------
    path_or_adata : str, Path or AnnData
        An ``.h5ad`` file (read with :func:`anndata.read_h5ad`) or an AnnData object.
    layer : str, optional
        Read ``adata.layers[layer]`` instead of ``adata.X`` (e.g. ``"counts"``).
    use_raw : bool, default False
        Read ``adata.raw.X`` with ``adata.raw.var`` instead (exclusive with ``layer``).
    var_names_column : str, optional
        A column of ``var`` to use as feature names (e.g. ``"gene_symbols"``) instead of
        ``var_names``.

    Returns
    -------
    DataFrame of shape (n_obs, n_vars)
        ``obs_names`` as index, feature names as columns, the matrix's dtype.

    Raises
    ------
    InputError
        For a missing file, layer or column, ``layer`` together with ``use_raw``, no ``raw``,
        an empty ``X``, or duplicate sample or feature ids.

    Notes
    -----
    A sparse matrix is densified: the table takes ``n_obs * n_vars * itemsize`` bytes
    (e.g. 10,000 cells x 30,000 genes in float32 take 1.2 GB). Subset the AnnData first
    (``adata[:, genes]``) when that is too much.
    """
    ad = _import("anndata")
    adata = _read_h5(path_or_adata, ad.AnnData, ad.read_h5ad, "AnnData", ".h5ad")
    if layer is not None and use_raw:
        msg = "load_anndata takes either layer= or use_raw=True, not both; choose one"
        raise InputError(msg)
    if use_raw:
        if adata.raw is None:
            msg = "use_raw=True but the AnnData has no .raw; read .X (use_raw=False) or a layer"
            raise InputError(msg)
        matrix, var, source = adata.raw.X, adata.raw.var, "raw.X"
    elif layer is not None:
        if layer not in adata.layers:
            msg = f"the AnnData has no layer '{layer}' (layers: {preview(adata.layers.keys(), 5) or 'none'}); fix layer"
            raise InputError(msg)
        matrix, var, source = adata.layers[layer], adata.var, f"layers['{layer}']"
    else:
        matrix, var, source = adata.X, adata.var, "X"
    if matrix is None:
        msg = f"the AnnData has no {source} matrix; pass layer= to read one of its layers"
        raise InputError(msg)
    if var_names_column is None:
        features = pd.Index(var.index.astype(str))
    else:
        if var_names_column not in var.columns:
            msg = f"the AnnData var has no column '{var_names_column}' (columns: {preview(var.columns, 5) or 'none'}); fix var_names_column"
            raise InputError(msg)
        column = var[var_names_column]
        if column.isna().any():
            msg = f"var column '{var_names_column}' is empty for {int(column.isna().sum())} features; fill it or use var_names"
            raise InputError(msg)
        features = pd.Index(column.astype(str).to_numpy())
    samples = pd.Index(adata.obs_names.astype(str))
    _check_ids(samples, "sample", f"AnnData {source}")
    _check_ids(features, "feature", f"AnnData {source}")
    dense = _to_dense(matrix)
    if not np.issubdtype(dense.dtype, np.number):
        msg = f"AnnData {source} has non-numeric dtype {dense.dtype}; convert it to numbers"
        raise InputError(msg)
    logger.debug("AnnData %s: %d x %d, %.1f MB dense", source, *dense.shape, dense.nbytes / 1e6)
    return pd.DataFrame(dense, index=samples, columns=features, copy=False)


def _to_dense(matrix: Any) -> np.ndarray:
    if hasattr(matrix, "toarray"):  # scipy sparse matrices and arrays, anndata backed sparse datasets
        return np.asarray(matrix.toarray())
    if hasattr(matrix, "to_memory"):  # anndata backed sparse datasets in some versions
        return _to_dense(matrix.to_memory())
    if hasattr(matrix, "compute"):  # dask arrays
        return _to_dense(matrix.compute())
    return np.array(matrix)  # a copy, so the table never shares memory with the AnnData


def _read_h5(obj: Any, cls: type, read: Any, what: str, suffix: str) -> Any:
    if isinstance(obj, cls):
        return obj
    if not isinstance(obj, (str, Path)):
        msg = f"expected a {what} object or a path to a {suffix} file, got {type(obj).__name__}"
        raise InputError(msg)
    path = Path(obj)
    if not path.is_file():
        msg = f"{what} file {path} does not exist; check the path"
        raise InputError(msg)
    try:
        return read(path)
    except (OSError, KeyError, ValueError) as error:
        msg = f"{path} could not be read as {what} ({suffix}): {error}".splitlines()[0]
        raise InputError(msg) from error


def _read_mudata(path_or_mdata: str | Path | mudata.MuData) -> Any:
    md = _import("mudata")
    with _mudata_options(md):
        return _read_h5(path_or_mdata, md.MuData, md.read_h5mu, "MuData", ".h5mu")


def load_mudata(
    path_or_mdata: str | Path | mudata.MuData,
    *,
    layers: str | Mapping[str, str | None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Return every MuData modality as a canonical samples x features table.

    Parameters
    ----------
    path_or_mdata : str, Path or MuData
        An ``.h5mu`` file (read with :func:`mudata.read_h5mu`) or a MuData object.
    layers : str or mapping of modality -> layer name, optional
        Which matrix to read per modality: ``None`` reads each ``X``; a string reads that layer
        in every modality; a mapping names a layer per modality (``None`` or absent: ``X``).

    Returns
    -------
    dict of modality name -> DataFrame of shape (n_obs_m, n_vars_m)
        One table per ``mdata.mod``, in its order, indexed by that modality's ``obs_names``.
        Modalities may cover different samples; deepgami aligns them by id (see
        :class:`deepgami.data.MultiOmicsData`).

    Raises
    ------
    InputError
        For a missing file, a ``layers`` key that names no modality, or any error of
        :func:`load_anndata` (with the modality named).

    Notes
    -----
    Sparse matrices are densified (see :func:`load_anndata`).
    """
    mdata = _read_mudata(path_or_mdata)
    names = list(mdata.mod)
    if isinstance(layers, Mapping):
        unknown = [k for k in layers if k not in mdata.mod]
        if unknown:
            msg = f"layers names modalities the MuData lacks ({preview(unknown)}; modalities: {preview(names, 5)}); fix the keys"
            raise InputError(msg)
        chosen = {name: layers.get(name) for name in names}
    else:
        chosen = dict.fromkeys(names, layers)
    tables = {}
    for name in names:
        try:
            tables[name] = load_anndata(mdata.mod[name], layer=chosen[name])
        except InputError as error:
            msg = f"modality '{name}': {error}"
            raise InputError(msg) from error
    return tables


def load_mudata_labels(mdata: str | Path | mudata.MuData, column: str) -> pd.Series:
    """Return one sample annotation of a MuData as a labels Series.

    Parameters
    ----------
    mdata : str, Path or MuData
        An ``.h5mu`` file or a MuData object.
    column : str
        A column of the global ``mdata.obs``; or ``"mod:col"``, the name MuData gives column
        ``col`` of modality ``mod`` once pulled into the global ``obs`` (read from
        ``mdata.mod[mod].obs`` when it has not been pulled).

    Returns
    -------
    Series
        Labels indexed by sample id (str), named ``column``; categorical values are returned
        as plain values. Samples without a value are dropped with a warning.

    Raises
    ------
    InputError
        When the column is found neither in the global ``obs`` nor in the named modality, or
        holds no value at all.
    """
    mdata = _read_mudata(mdata)
    if column in mdata.obs.columns:
        labels = mdata.obs[column]
    else:
        mod, _, col = column.partition(":")
        if col and mod in mdata.mod and col in mdata.mod[mod].obs.columns:
            labels = mdata.mod[mod].obs[col]
        else:
            owners = [f"{name}:{column}" for name, a in mdata.mod.items() if column in a.obs.columns]
            columns = preview(mdata.obs.columns, 5) or "none"
            hint = f"; it is in a modality's obs: pass {owners[0]!r}" if owners else f" (global obs columns: {columns})"
            msg = f"the MuData has no obs column '{column}'{hint}"
            raise InputError(msg)
    labels = labels.copy()
    if isinstance(labels.dtype, pd.CategoricalDtype):
        labels = labels.astype(labels.cat.categories.dtype)
    labels.index = pd.Index(labels.index.astype(str), name=None)
    labels.name = column
    missing = labels.isna()
    if missing.all():
        msg = f"obs column '{column}' holds no value for any sample; choose another column"
        raise InputError(msg)
    if missing.any():
        msg = f"dropped {int(missing.sum())} samples with no value in '{column}' (e.g. {preview(labels.index[missing])})"
        warnings.warn(msg, stacklevel=2)
        labels = labels[~missing]
    return labels
