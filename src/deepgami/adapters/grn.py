"""Gene regulatory networks in their common file flavours -> TF -> gene edge tables.

Every loader returns the canonical edge table ``source`` (regulator), ``target`` (gene) and,
where the format has one, ``weight``, ready for
``RegulatoryGraph.from_edge_tables([(edges, "tf", "gene", "regulates")])``. Duplicate
``(source, target)`` pairs keep the row with the largest ``|weight|`` (the first on ties or
without weights), with a warning that counts them.

Formats
-------
- generic delimited edge lists with named columns: :func:`load_edge_list`;
- SCENIC / arboreto (GRNBoost2, GENIE3) adjacencies ``TF, target, importance``:
  :func:`load_scenic_adjacencies`;
- TRRUST raw files (no header) ``TF, target, mode, PMIDs``: :func:`load_trrust`;
- PsychENCODE-style GRNs ``TF, Target_gene[, Edge_weight]``: :func:`load_psychencode_grn`.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, preview
from ._tables import finalize_edges, is_real, numeric_column, read_table, require_columns

log = logging.getLogger(__name__)

__all__ = ["load_edge_list", "load_scenic_adjacencies", "load_trrust", "load_psychencode_grn", "TRRUST_MODE_WEIGHTS"]

#: Edge weight given to each TRRUST mode of regulation.
TRRUST_MODE_WEIGHTS = {"Activation": 1.0, "Repression": -1.0, "Unknown": 0.0}


def load_edge_list(
    path,
    *,
    source_column: str = "source",
    target_column: str = "target",
    weight_column: str | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """Load a delimited edge list with a header row.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` (comma) or ``.tsv``/``.tab``/``.txt`` (tab), optionally compressed (``.gz``,
        ``.bz2``, ...); other suffixes need ``sep``. ``.parquet`` is read with pyarrow.
    source_column, target_column : str
        Header names of the regulator and target columns.
    weight_column : str, optional
        Header name of a numeric weight column; None returns ``source, target`` only.
    sep : str, optional
        Column separator; inferred from the suffix when None.

    Returns
    -------
    DataFrame
        Columns ``source, target[, weight]``.
    """
    what = "edge list"
    frame = read_table(path, what=what, sep=sep)
    columns = [source_column, target_column] + ([weight_column] if weight_column is not None else [])
    require_columns(frame, columns, what=what, path=path, hint="pass source_column/target_column/weight_column")
    edges = pd.DataFrame({"source": frame[source_column], "target": frame[target_column]})
    if weight_column is not None:
        edges["weight"] = numeric_column(frame, weight_column, what=what)
    edges = finalize_edges(edges, what=what)
    _require_edges(edges, what=what, path=path)
    log.info("loaded %d edges from %s", len(edges), path)
    return edges


def load_scenic_adjacencies(path, *, top_k: int | None = None, min_importance: float | None = None) -> pd.DataFrame:
    """Load SCENIC / arboreto adjacencies (``TF, target, importance``) as weighted edges.

    Parameters
    ----------
    path : str or path-like
        The ``pyscenic grn`` output: tab-separated (``.tsv``; also the default for unknown
        suffixes) or ``.csv``, optionally compressed.
    top_k : int, optional
        Keep, per target gene, the ``top_k`` regulators with the highest importance (ties: the
        first in file order). Applied after ``min_importance``.
    min_importance : float, optional
        Keep edges with ``importance >= min_importance``.

    Returns
    -------
    DataFrame
        Columns ``source`` (TF), ``target``, ``weight`` (importance).
    """
    what = "SCENIC adjacencies"
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
        msg = f"top_k must be a positive integer, got {top_k!r}"
        raise InputError(msg)
    if min_importance is not None and not is_real(min_importance):
        msg = f"min_importance must be a number, got {min_importance!r}"
        raise InputError(msg)
    frame = read_table(path, what=what, default_sep="\t")
    require_columns(frame, ["TF", "target", "importance"], what=what, path=path, hint="expected pyscenic grn output")
    edges = pd.DataFrame(
        {"source": frame["TF"], "target": frame["target"], "weight": numeric_column(frame, "importance", what=what)}
    )
    edges = finalize_edges(edges, what=what)
    n_edges = len(edges)
    if min_importance is not None:
        edges = edges[edges["weight"] >= min_importance]
    if top_k is not None:
        order = edges.sort_values("weight", ascending=False, kind="stable")
        edges = order.groupby("target", sort=False).head(top_k).sort_index()
    edges = edges.reset_index(drop=True)
    filters = f"top_k={top_k}, min_importance={min_importance}" if n_edges else None
    _require_edges(edges, what=what, path=path, filters=filters)
    log.info("kept %d of %d SCENIC edges from %s", len(edges), n_edges, path)
    return edges


def load_trrust(path, *, modes=None) -> pd.DataFrame:
    """Load a TRRUST raw file (tab-separated, no header: ``TF, target, mode, PMIDs``).

    The weight comes from the mode of regulation: ``Activation`` +1, ``Repression`` -1,
    ``Unknown`` 0 (see ``TRRUST_MODE_WEIGHTS``). TRRUST lists a pair once per mode, so a pair can
    appear twice: with ``Unknown`` and a known mode the known mode wins; a pair listed as both
    ``Activation`` and ``Repression`` (after the ``modes`` filter) gets weight 0, with a
    warning that counts such pairs, since its sign is not known.

    Parameters
    ----------
    path : str or path-like
        E.g. ``trrust_rawdata.human.tsv`` (optionally compressed). A header row, if present,
        is skipped.
    modes : str or sequence of str, optional
        Keep only rows with these modes, e.g. ``("Activation",)``; case-insensitive.

    Returns
    -------
    DataFrame
        Columns ``source`` (TF), ``target``, ``weight``.
    """
    what = "TRRUST"
    wanted = _check_modes(modes)
    frame = read_table(path, what=what, default_sep="\t", header=None)
    if frame.shape[1] != 4:
        msg = (
            f"TRRUST file {_name(path)} has {frame.shape[1]} columns, expected 4 without a header "
            "(TF, target, mode, PMIDs); check the file is a TRRUST raw data file"
        )
        raise InputError(msg)
    frame.columns = ["TF", "target", "mode", "PMIDs"]
    if len(frame) and str(frame["mode"].iloc[0]).strip().lower() in {"mode", "regulation", "type"}:
        frame = frame.iloc[1:]
    canonical = {m.lower(): m for m in TRRUST_MODE_WEIGHTS}
    mode = frame["mode"].astype(str).str.strip().str.lower().map(canonical)
    unknown = frame["mode"][mode.isna() & frame["mode"].notna()]
    if len(unknown):
        msg = (
            f"TRRUST file {_name(path)} has {len(unknown)} rows with an unknown mode "
            f"({preview(unknown.unique())}); expected {', '.join(TRRUST_MODE_WEIGHTS)}"
        )
        raise InputError(msg)
    mode_all = mode
    if wanted is not None:
        keep = mode.isin(wanted)
        frame, mode = frame[keep], mode[keep]
    edges = pd.DataFrame({"source": frame["TF"], "target": frame["target"], "weight": mode.map(TRRUST_MODE_WEIGHTS)})
    edges = _resolve_conflicting_signs(edges, path=path)
    edges = finalize_edges(edges, what=what)
    _require_edges(edges, what=what, path=path, filters=f"modes={modes!r}" if wanted and len(mode_all) else None)
    log.info("loaded %d TRRUST edges from %s", len(edges), path)
    return edges


#: Column names accepted by :func:`load_psychencode_grn`, in order of preference (case-insensitive).
PSYCHENCODE_COLUMNS = {
    "source": ("TF",),
    "target": ("Target_gene", "target"),
    "weight": ("Edge_weight", "weight"),
}


def load_psychencode_grn(path) -> pd.DataFrame:
    """Load a PsychENCODE-style GRN (``TF, Target_gene[, Edge_weight]``).

    Column names are matched case-insensitively among the documented ones: the regulator
    ``TF``; the target ``Target_gene`` or ``target``; the optional weight ``Edge_weight`` or
    ``weight`` (first match wins). Other columns are ignored.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` (e.g. ``INT-11_ElasticNet_Filtered_Cutoff_0.1_GRN_1.csv``) or tab-separated
        (``.tsv``/``.txt``; the default for unknown suffixes), optionally compressed.

    Returns
    -------
    DataFrame
        Columns ``source, target[, weight]``.
    """
    what = "PsychENCODE GRN"
    frame = read_table(path, what=what, default_sep="\t")
    found = {}
    lower = {c.lower(): c for c in reversed(frame.columns)}
    for role, names in PSYCHENCODE_COLUMNS.items():
        found[role] = next((lower[n.lower()] for n in names if n.lower() in lower), None)
    if found["source"] is None or found["target"] is None:
        msg = (
            f"PsychENCODE GRN file {_name(path)} needs columns TF and Target_gene (or target), optionally "
            f"Edge_weight (or weight); found: {preview(frame.columns, n=8)}; rename the columns or use load_edge_list"
        )
        raise InputError(msg)
    edges = pd.DataFrame({"source": frame[found["source"]], "target": frame[found["target"]]})
    if found["weight"] is not None:
        edges["weight"] = numeric_column(frame, found["weight"], what=what)
    edges = finalize_edges(edges, what=what)
    _require_edges(edges, what=what, path=path)
    log.info("loaded %d PsychENCODE edges from %s", len(edges), path)
    return edges


# --------------------------------------------------------------------------- helpers
def _check_modes(modes) -> set[str] | None:
    if modes is None:
        return None
    if isinstance(modes, str):
        modes = (modes,)
    canonical = {m.lower(): m for m in TRRUST_MODE_WEIGHTS}
    wanted, bad = set(), []
    for m in modes:
        if isinstance(m, str) and m.strip().lower() in canonical:
            wanted.add(canonical[m.strip().lower()])
        else:
            bad.append(m)
    if bad or not wanted:
        msg = f"modes must name TRRUST modes ({', '.join(TRRUST_MODE_WEIGHTS)}), got {preview(bad or ['nothing'])}"
        raise InputError(msg)
    return wanted


def _resolve_conflicting_signs(edges: pd.DataFrame, *, path) -> pd.DataFrame:
    """Set the weight of pairs listed both as activating and repressing to 0 (warn with the count)."""
    signed = edges[edges["weight"] != 0]
    signs = signed.groupby(["source", "target"], sort=False)["weight"].agg(lambda w: w.nunique())
    both = signs[signs > 1]
    if both.empty:
        return edges
    pairs = pd.MultiIndex.from_frame(edges[["source", "target"]])
    conflict = pairs.isin(both.index)
    examples = [f"{s}->{t}" for s, t in both.index]
    msg = (
        f"TRRUST file {_name(path)}: {len(both)} pairs are listed as both Activation and Repression "
        f"({preview(examples)}); gave them weight 0 (Unknown)"
    )
    warnings.warn(msg, stacklevel=3)
    edges = edges.copy()
    edges.loc[conflict, "weight"] = 0.0
    return edges


def _require_edges(edges: pd.DataFrame, *, what: str, path, filters: str | None = None) -> None:
    if len(edges) == 0:
        if filters:
            msg = f"no {what} edge in {_name(path)} passes {filters}; loosen the filters or check the file"
        else:
            msg = f"{what} file {_name(path)} holds no edges; check the file"
        raise InputError(msg)


def _name(path) -> str:
    return Path(path).name
