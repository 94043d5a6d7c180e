"""Shared helpers for the edge-table adapters: reading delimited files and canonical edge tables.

Private to :mod:`deepgami.adapters`. Every adapter that returns an edge table goes through
:func:`finalize_edges`, so they all agree on the canonical form: a DataFrame with string columns
``source`` and ``target``, an optional float column ``weight``, no missing values and no duplicate
``(source, target)`` pairs.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, preview

log = logging.getLogger(__name__)

_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")
_SEP_BY_SUFFIX = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}
_SEP_NAMES = {",": "comma", "\t": "tab"}
# An Ensembl stable id (ENSG, ENST, ENSMUSG, ...: "ENS", an optional species code, a feature
# letter and 11 digits) followed by ".<version>"; anything after the version (GENCODE's
# "_PAR_Y") is kept.
_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*\d{11})\.\d+")


# --------------------------------------------------------------------------- reading
def check_file(path, *, what: str) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, raising :class:`InputError` when it is no file."""
    path = Path(path)
    if not path.exists():
        msg = f"{what} file not found: {path}; check the path"
        raise InputError(msg)
    if not path.is_file():
        msg = f"{what} path {path} is not a file; pass the path of the file itself"
        raise InputError(msg)
    return path


def plain_suffix(path: Path) -> str:
    """Lower-case file suffix ignoring a compression suffix (``a.tsv.gz`` -> ``.tsv``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def infer_sep(path: Path, *, default: str | None = None) -> str:
    """Column separator from the file suffix: ``.csv`` -> comma; ``.tsv``, ``.tab``, ``.txt`` -> tab.

    A compression suffix (``.gz``, ``.bz2``, ...) is looked through. Other suffixes give
    ``default``, or an :class:`InputError` asking for ``sep`` when ``default`` is None.
    """
    suffix = plain_suffix(path)
    if suffix in _SEP_BY_SUFFIX:
        return _SEP_BY_SUFFIX[suffix]
    if default is None:
        msg = (
            f"cannot infer the column separator of {path.name} from its suffix '{suffix}'; "
            "pass sep (e.g. sep=',' or sep='\\t') or name the file .csv/.tsv/.txt"
        )
        raise InputError(msg)
    return default


def read_table(
    path,
    *,
    what: str,
    sep: str | None = None,
    default_sep: str | None = None,
    header: int | None = 0,
    names: list[str] | None = None,
) -> pd.DataFrame:
    """Read a delimited (optionally compressed) text file, or a ``.parquet`` file, as strings.

    Every column is read as ``str`` (missing cells stay missing) so that ids are never turned
    into numbers; use :func:`numeric_column` for the numeric ones. Column names are stripped
    of surrounding whitespace.

    Parameters
    ----------
    path : str or path-like
    what : str
        What the file holds, for error messages (e.g. ``"GTEx eQTL"``).
    sep : str, optional
        Column separator; inferred from the suffix with :func:`infer_sep` when None.
    default_sep : str, optional
        Separator to use when the suffix says nothing; None makes an unknown suffix an error.
    header, names
        As in :func:`pandas.read_csv`.

    Returns
    -------
    DataFrame
    """
    path = check_file(path, what=what)
    if plain_suffix(path) == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except ImportError as exc:
            msg = f"reading {path.name} needs pyarrow; install it with pip install 'deepgami[adapters]'"
            raise InputError(msg) from exc
        except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file
            msg = f"cannot read {what} file {path.name} as parquet ({_one_line(exc)}); check the file"
            raise InputError(msg) from exc
        frame = frame.astype(object).where(frame.notna(), np.nan)
        frame = frame.apply(lambda col: col.map(lambda v: v if pd.isna(v) else str(v)))
    else:
        sep = sep if sep is not None else infer_sep(path, default=default_sep)
        try:
            frame = pd.read_csv(
                path, sep=sep, header=header, names=names, dtype=str, index_col=False, compression="infer"
            )
        except pd.errors.EmptyDataError as exc:
            msg = f"{what} file {path.name} is empty; check the file"
            raise InputError(msg) from exc
        except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
            sep_name = _SEP_NAMES.get(sep, repr(sep))
            msg = f"cannot read {what} file {path.name} as {sep_name}-separated text ({_one_line(exc)}); check the format"
            raise InputError(msg) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    log.debug("read %d rows x %d columns from %s", frame.shape[0], frame.shape[1], path)
    return frame


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, what: str, path, hint: str = "") -> None:
    """Raise :class:`InputError` naming the missing columns and the ones found."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hint = hint or "check the file format or the column arguments"
        msg = (
            f"{what} file {Path(path).name} lacks column(s) {', '.join(missing)} "
            f"(found: {preview(frame.columns, n=8)}); {hint}"
        )
        raise InputError(msg)


def numeric_column(frame: pd.DataFrame, column: str, *, what: str) -> pd.Series:
    """Column ``column`` as float; non-numeric entries raise :class:`InputError` (missing stay NaN)."""
    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    bad = frame[column][frame[column].notna() & values.isna()]
    if len(bad):
        msg = f"{what} column '{column}' has {len(bad)} non-numeric values ({preview(bad.unique())}); fix or remove them"
        raise InputError(msg)
    return values


def is_real(value) -> bool:
    """True for a finite real number (bools excluded)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


# --------------------------------------------------------------------------- edge tables
def finalize_edges(frame: pd.DataFrame, *, what: str, stacklevel: int = 3) -> pd.DataFrame:
    """Return the canonical edge table: ``source, target[, weight]``, cleaned and deduplicated.

    Ids are stripped of surrounding whitespace. Rows with a missing or empty id, or a missing /
    non-finite weight, are dropped with a warning that counts them. Duplicate ``(source, target)``
    pairs keep the row with the largest ``|weight|`` (the first in file order on ties, or simply
    the first without weights), with a warning that counts the dropped rows.

    Parameters
    ----------
    frame : DataFrame
        With columns ``source``, ``target`` and optionally ``weight`` (numeric).
    what : str
        Source name for warnings.
    stacklevel : int
        Passed to :func:`warnings.warn`; the default points at the caller of the public loader.

    Returns
    -------
    DataFrame
        Fresh index, ``source``/``target`` as str, ``weight`` as float64 when present.
    """
    columns = ["source", "target"] + (["weight"] if "weight" in frame.columns else [])
    out = frame[columns].copy()
    for col in ("source", "target"):
        ids = out[col]
        stripped = ids.where(ids.isna(), ids.astype(str).str.strip())
        out[col] = stripped.where(stripped != "", np.nan)
    bad = out["source"].isna() | out["target"].isna()
    if "weight" in out.columns:
        out["weight"] = pd.to_numeric(out["weight"]).astype(float)
        bad |= ~np.isfinite(out["weight"].to_numpy())
    if bad.any():
        msg = f"{what}: dropped {int(bad.sum())} of {len(out)} edges with a missing id or weight"
        warnings.warn(msg, stacklevel=stacklevel)
        out = out[~bad]
    out["source"] = out["source"].astype(str)
    out["target"] = out["target"].astype(str)
    out = dedupe_edges(out, what=what, stacklevel=stacklevel + 1)
    return out.reset_index(drop=True)


def dedupe_edges(frame: pd.DataFrame, *, what: str, stacklevel: int = 3) -> pd.DataFrame:
    """Drop duplicate ``(source, target)`` pairs, keeping the largest ``|weight|``; warn with the count.

    Ties (and tables without weights) keep the first row in table order. The kept rows stay in
    table order.
    """
    dup = frame.duplicated(["source", "target"])
    if not dup.any():
        return frame
    if "weight" in frame.columns:
        order = frame["weight"].abs().sort_values(ascending=False, kind="stable").index
        keep = ~frame.loc[order].duplicated(["source", "target"])
        kept = frame.loc[order[keep.to_numpy()]].sort_index()
        how = "kept the one with the largest |weight|"
    else:
        kept = frame[~dup]
        how = "kept the first"
    pairs = frame.loc[dup, ["source", "target"]].drop_duplicates()
    examples = [f"{s}->{t}" for s, t in zip(pairs["source"], pairs["target"])]
    msg = f"{what}: dropped {int(dup.sum())} duplicate (source, target) rows ({preview(examples)}); {how}"
    warnings.warn(msg, stacklevel=stacklevel)
    return kept


def check_edge_frame(edges: pd.DataFrame, *, what: str = "edge table") -> None:
    """Raise :class:`InputError` unless ``edges`` is a DataFrame with ``source`` and ``target``."""
    if not isinstance(edges, pd.DataFrame) or not {"source", "target"} <= set(edges.columns):
        found = ", ".join(map(str, edges.columns)) if isinstance(edges, pd.DataFrame) else type(edges).__name__
        msg = f"{what} must be a DataFrame with columns source,target[,weight] (got {found}); use a deepgami.adapters loader"
        raise InputError(msg)
    if "weight" in edges.columns and not pd.api.types.is_numeric_dtype(edges["weight"]):
        msg = f"{what} column 'weight' must be numeric (got {edges['weight'].dtype}); convert it with pd.to_numeric"
        raise InputError(msg)


# --------------------------------------------------------------------------- ids
def strip_ensembl_version(ids):
    """Drop Ensembl version suffixes: ``ENSG00000227232.5`` -> ``ENSG00000227232``.

    Only ids that look like Ensembl stable ids (``ENS``, an optional species code, a feature
    letter, 11 digits) are changed, so symbols with dots such as ``RP11-34P13.3`` are left
    alone. A GENCODE ``_PAR_Y`` tail is kept (``ENSG00000182378.14_PAR_Y`` ->
    ``ENSG00000182378_PAR_Y``) so the X and Y copies stay distinct.

    Parameters
    ----------
    ids : str, Series, Index or iterable of str

    Returns
    -------
    Same kind as ``ids`` (a list for other iterables); missing values pass through.
    """
    if isinstance(ids, str):
        return _ENSEMBL_VERSION.sub(r"\1", ids)
    if isinstance(ids, (pd.Series, pd.Index)):
        return ids.map(lambda v: v if not isinstance(v, str) else _ENSEMBL_VERSION.sub(r"\1", v))
    return [v if not isinstance(v, str) else _ENSEMBL_VERSION.sub(r"\1", v) for v in ids]


def mapping_pairs(mapping) -> pd.DataFrame:
    """Normalise an id mapping to a DataFrame with columns ``from`` and ``to`` (str, unique pairs).

    Accepts a DataFrame with exactly two columns (from, to), a Series (index -> value), or a
    mapping whose values are ids or lists/tuples/sets of ids (one-to-many).
    """
    if isinstance(mapping, pd.DataFrame):
        if mapping.shape[1] != 2:
            msg = (
                f"an id mapping DataFrame needs exactly two columns (from, to), got {mapping.shape[1]} "
                f"({preview(mapping.columns, n=5)}); select two, e.g. mapping[['ensembl_id', 'symbol']]"
            )
            raise InputError(msg)
        pairs = pd.DataFrame({"from": mapping.iloc[:, 0].to_numpy(), "to": mapping.iloc[:, 1].to_numpy()})
    elif isinstance(mapping, pd.Series):
        pairs = pd.DataFrame({"from": mapping.index.to_numpy(), "to": mapping.to_numpy()})
    elif isinstance(mapping, Mapping):
        rows = []
        for key, value in mapping.items():
            if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
                rows.extend((key, v) for v in value)
            else:
                rows.append((key, value))
        pairs = pd.DataFrame(rows, columns=["from", "to"], dtype=object)
    else:
        msg = f"an id mapping must be a two-column DataFrame, a Series or a dict (got {type(mapping).__name__})"
        raise InputError(msg)
    pairs = pairs.dropna()
    pairs = pairs.assign(**{c: pairs[c].astype(str).str.strip() for c in ("from", "to")})
    pairs = pairs[(pairs["from"] != "") & (pairs["to"] != "")].drop_duplicates()
    return pairs.reset_index(drop=True)


def map_edge_ids(
    edges: pd.DataFrame,
    mapping,
    *,
    column: str,
    keep_unmapped: bool = False,
    what: str = "edge table",
    stacklevel: int = 3,
) -> pd.DataFrame:
    """Rewrite the ids in ``edges[column]`` through ``mapping`` (see :func:`mapping_pairs`).

    Ids without an entry are dropped with a warning (or kept unchanged when ``keep_unmapped``);
    an id with several entries yields one edge per entry; an :class:`InputError` is raised when
    no id maps. Edges that become duplicates (two ids mapping to one) are deduplicated as in
    :func:`finalize_edges`.
    """
    check_edge_frame(edges, what=what)
    if column not in ("source", "target"):
        msg = f"column must be 'source' or 'target', got {column!r}"
        raise InputError(msg)
    pairs = mapping_pairs(mapping)
    edges = finalize_edges(edges, what=what, stacklevel=stacklevel + 1)
    ids = pd.Index(edges[column].unique())
    known = ids.isin(pairs["from"])
    if not known.any():
        hint = "check that both sides use the same id type"
        if pd.Index(strip_ensembl_version(ids)).isin(pairs["from"]).any():
            hint = "the ids carry Ensembl versions: apply strip_ensembl_version to them first"
        elif pd.Index(pairs["from"]).isin(strip_ensembl_version(ids)).any() or pd.Index(
            strip_ensembl_version(pairs["from"])
        ).isin(ids).any():
            hint = "the mapping carries Ensembl versions: apply strip_ensembl_version to it first"
        msg = (
            f"{what}: 0 of {len(ids)} {column} ids are in the id mapping "
            f"(edges: {preview(ids)}; mapping: {preview(pairs['from'].unique())}); {hint}"
        )
        raise InputError(msg)
    frame = edges.copy()
    frame[column] = frame[column].astype(str)
    frame["_row"] = np.arange(len(frame))
    merged = frame.merge(pairs.rename(columns={"from": column, "to": "_to"}), on=column, how="left", sort=False)
    merged = merged.sort_values("_row", kind="stable")
    unmapped = merged["_to"].isna()
    if unmapped.any():
        missing_ids = ids[~known]
        if keep_unmapped:
            merged["_to"] = merged["_to"].where(~unmapped, merged[column])
            log.info("%s: kept %d %s ids absent from the mapping unchanged", what, len(missing_ids), column)
        else:
            msg = (
                f"{what}: {len(missing_ids)} of {len(ids)} {column} ids are not in the id mapping "
                f"({preview(missing_ids)}); dropped {int(unmapped.sum())} edges (keep_unmapped=True keeps them)"
            )
            warnings.warn(msg, stacklevel=stacklevel)
            merged = merged[~unmapped]
    fan_out = pairs[pairs["from"].isin(ids)]["from"].duplicated().sum()
    if fan_out:
        log.info("%s: %d %s ids map to several ids; each got one edge per id", what, int(fan_out), column)
    merged[column] = merged["_to"]
    out = merged.drop(columns=["_to", "_row"])
    return finalize_edges(out, what=what, stacklevel=stacklevel + 1)
