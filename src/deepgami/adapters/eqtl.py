"""GTEx-style eQTL tables -> SNP -> gene edge tables.

Reads the per-tissue significant variant-gene pair files of GTEx (e.g.
``Whole_Blood.v8.signif_variant_gene_pairs.txt.gz``: tab-separated, columns ``variant_id,
gene_id, tss_distance, ..., pval_nominal, slope, slope_se``) or any table with those columns,
including the ``.parquet`` files of later releases. The result is the canonical edge table
``source`` (variant id), ``target`` (gene id), ``weight`` (the eQTL slope by default), ready for
``RegulatoryGraph.from_edge_tables([(edges, "snp", "gene", "eqtl")])``.

Examples
--------
>>> edges = load_gtex_eqtl("Whole_Blood.v8.signif_variant_gene_pairs.txt.gz",
...                        max_pval=1e-8, variant_ids="chr_pos_ref_alt")  # doctest: +SKIP
>>> edges = translate_variant_ids(edges, genotypes.columns)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..errors import InputError, preview
from ._tables import (
    check_edge_frame,
    finalize_edges,
    is_real,
    map_edge_ids,
    numeric_column,
    read_table,
    require_columns,
)
from ._tables import strip_ensembl_version as _strip_versions

log = logging.getLogger(__name__)

__all__ = ["load_gtex_eqtl", "translate_variant_ids", "gtex_to_chr_pos_ref_alt"]

CHR_POS_REF_ALT = "chr_pos_ref_alt"
# GTEx v8 variant ids: chr<chrom>_<pos>_<ref>_<alt>_b<build>, e.g. chr1_13550_G_A_b38.
_GTEX_VARIANT = re.compile(r"^(?:chr)?([^_]+)_(\d+)_([^_]+)_([^_]+?)(?:_b\d+)?$")
_WHAT = "GTEx eQTL"


def load_gtex_eqtl(
    path,
    *,
    max_pval: float | None = None,
    min_abs_slope: float | None = None,
    variant_ids: Mapping[str, str] | pd.Series | str | None = None,
    weight: str | None = "slope",
    strip_version: bool = True,
) -> pd.DataFrame:
    """Load a GTEx-style eQTL table as a variant -> gene edge table.

    Parameters
    ----------
    path : str or path-like
        Tab-separated table (``.txt``/``.tsv``, optionally ``.gz``) or ``.parquet`` with columns
        ``variant_id`` and ``gene_id``, plus ``pval_nominal`` when ``max_pval`` is given and
        ``slope`` when ``min_abs_slope`` is given or ``weight="slope"``.
    max_pval : float in (0, 1], optional
        Keep pairs with ``pval_nominal <= max_pval``.
    min_abs_slope : float >= 0, optional
        Keep pairs with ``|slope| >= min_abs_slope``.
    variant_ids : mapping, Series or ``"chr_pos_ref_alt"``, optional
        Translation of GTEx variant ids to the ids of your genotype table. A mapping (or Series)
        ``{gtex id -> genotype id}`` rewrites ids through it; variants absent from it are dropped
        with a warning, and an :class:`InputError` is raised when none is present. The literal
        ``"chr_pos_ref_alt"`` rewrites ``chr1_13550_G_A_b38`` to ``1_13550_G_A``: the ``chr``
        prefix and the ``_b38`` build suffix are dropped, nothing else changes (no liftover, no
        allele flipping; ``chrX`` becomes ``X``, ``chrM`` becomes ``M``). Ids that do not have
        that shape raise an :class:`InputError`. None keeps the GTEx ids.
    weight : str or None, default "slope"
        Numeric column to use as the edge weight; None returns ``source, target`` only.
    strip_version : bool, default True
        Drop Ensembl version suffixes from gene ids (``ENSG00000227232.5`` ->
        ``ENSG00000227232``), see :func:`deepgami.adapters.graphfiles.strip_ensembl_version`.

    Returns
    -------
    DataFrame
        Columns ``source`` (variant id), ``target`` (gene id) and, unless ``weight`` is None,
        ``weight``. Duplicate pairs (e.g. two GTEx variants translated to one id, or two gene
        versions stripped to one id) keep the largest ``|weight|``, with a warning.

    Raises
    ------
    InputError
        On a missing file or column, a bad filter value, non-numeric p-values or slopes, or
        when no pair passes the filters.
    """
    _check_filters(max_pval, min_abs_slope)
    if isinstance(variant_ids, str) and variant_ids != CHR_POS_REF_ALT:
        msg = f"variant_ids must be a mapping or '{CHR_POS_REF_ALT}', got {variant_ids!r}"
        raise InputError(msg)
    if weight is not None and not isinstance(weight, str):
        msg = f"weight must be a column name such as 'slope', or None, got {weight!r}"
        raise InputError(msg)
    frame = read_table(path, what=_WHAT, default_sep="\t")
    needed = ["variant_id", "gene_id"]
    if max_pval is not None:
        needed.append("pval_nominal")
    if min_abs_slope is not None:
        needed.append("slope")
    if weight is not None and weight not in needed:
        needed.append(weight)
    require_columns(
        frame, needed, what=_WHAT, path=path,
        hint="expected a GTEx signif_variant_gene_pairs table (variant_id, gene_id, ..., pval_nominal, slope)",
    )  # fmt: skip
    n_rows = len(frame)
    if n_rows == 0:
        msg = f"GTEx eQTL file {_name(path)} holds no variant-gene pairs; check the file"
        raise InputError(msg)
    keep = pd.Series(True, index=frame.index)
    if max_pval is not None:
        pval = numeric_column(frame, "pval_nominal", what=_WHAT)
        keep &= pval <= max_pval
    if min_abs_slope is not None:
        slope = numeric_column(frame, "slope", what=_WHAT)
        keep &= slope.abs() >= min_abs_slope
    if not keep.any():
        msg = (
            f"no eQTL pair in {n_rows} rows passes max_pval={max_pval}, min_abs_slope={min_abs_slope}; "
            "loosen the filters or check the file"
        )
        raise InputError(msg)
    frame = frame[keep]
    edges = pd.DataFrame({"source": frame["variant_id"], "target": frame["gene_id"]})
    if weight is not None:
        edges["weight"] = numeric_column(frame, weight, what=_WHAT)
    if strip_version:
        edges["target"] = _strip_versions(edges["target"])
    if isinstance(variant_ids, str):
        edges["source"] = gtex_to_chr_pos_ref_alt(edges["source"])
    elif variant_ids is not None:
        edges = map_edge_ids(edges, variant_ids, column="source", what=_WHAT)
    edges = finalize_edges(edges, what=_WHAT)
    if edges.empty:
        needs = "a variant id and a gene id" + (f" and a {weight}" if weight is not None else "")
        msg = f"GTEx eQTL file {_name(path)} has no pair with {needs}; check the file"
        raise InputError(msg)
    log.info("loaded %d eQTL edges (%d of %d rows passed the filters) from %s", len(edges), int(keep.sum()), n_rows, path)
    return edges


def gtex_to_chr_pos_ref_alt(ids):
    """Rewrite GTEx variant ids ``chr1_13550_G_A_b38`` to ``1_13550_G_A``.

    Drops the ``chr`` prefix and the ``_b<build>`` suffix; ids already without them are kept.

    Parameters
    ----------
    ids : Series or iterable of str

    Returns
    -------
    Series (for a Series input) or list of str.

    Raises
    ------
    InputError
        When some ids do not look like ``[chr]<chrom>_<pos>_<ref>_<alt>[_b<build>]``.
    """
    values = pd.Series(ids, dtype=object) if not isinstance(ids, pd.Series) else ids
    present = values.notna()
    text = values.where(~present, values.astype(str))
    extracted = text.str.extract(_GTEX_VARIANT)
    bad = present & extracted[0].isna()
    if bad.any():
        msg = (
            f"{int(bad.sum())} of {len(text)} variant ids do not look like GTEx chr<chrom>_<pos>_<ref>_<alt>_b38 "
            f"ids ({preview(text[bad].unique())}); pass a mapping as variant_ids instead of '{CHR_POS_REF_ALT}'"
        )
        raise InputError(msg)
    out = extracted[0] + "_" + extracted[1] + "_" + extracted[2] + "_" + extracted[3]
    return out if isinstance(ids, pd.Series) else out.tolist()


def translate_variant_ids(edges: pd.DataFrame, genotype_ids) -> pd.DataFrame:
    """Keep the eQTL edges whose variant (``source``) is a column of the genotype table.

    Parameters
    ----------
    edges : DataFrame
        Edge table ``source, target[, weight]`` as returned by :func:`load_gtex_eqtl`.
    genotype_ids : iterable of str or DataFrame
        The genotype table's variant ids; a DataFrame (samples x variants) stands for its
        columns.

    Returns
    -------
    DataFrame
        The edges whose source is among ``genotype_ids`` (fresh index). When only some variants
        match, a warning gives the counts.

    Raises
    ------
    InputError
        When no variant matches: the message gives ``0 of N`` and examples from both sides, and
        suggests ``variant_ids="chr_pos_ref_alt"`` when that rewrite would make ids match.
    """
    check_edge_frame(edges, what="eQTL edge table")
    if isinstance(genotype_ids, pd.DataFrame):
        genotype_ids = genotype_ids.columns
    if isinstance(genotype_ids, str) or not isinstance(genotype_ids, Iterable):
        msg = f"genotype_ids must be a list of variant ids or the genotype DataFrame, got {type(genotype_ids).__name__}"
        raise InputError(msg)
    genotype = pd.Index([str(g) for g in genotype_ids]).unique()
    variants = pd.Index(edges["source"].astype(str).unique())
    matched = variants.isin(genotype)
    n_matched = int(matched.sum())
    if n_matched == 0:
        msg = (
            f"0 of {len(variants)} eQTL variants are in the genotype table "
            f"(eQTL: {preview(variants)}; genotype: {preview(genotype)}); {_translation_hint(variants, genotype)}"
        )
        raise InputError(msg)
    keep = edges["source"].astype(str).isin(genotype)
    if n_matched < len(variants):
        msg = (
            f"{n_matched} of {len(variants)} eQTL variants are in the genotype table; dropped "
            f"{int((~keep).sum())} of {len(edges)} edges of the others ({preview(variants[~matched])})"
        )
        warnings.warn(msg, stacklevel=2)
    return edges[keep].reset_index(drop=True)


def _translation_hint(variants: pd.Index, genotype: pd.Index) -> str:
    rewritten = pd.Index(variants.astype(str).str.replace(_GTEX_VARIANT, r"\1_\2_\3_\4", regex=True))
    if rewritten.isin(genotype).any():
        return f"load the eQTL table with variant_ids='{CHR_POS_REF_ALT}'"
    return "translate the ids with load_gtex_eqtl(..., variant_ids={gtex id: genotype id})"


def _name(path) -> str:
    return Path(path).name


def _check_filters(max_pval, min_abs_slope) -> None:
    if max_pval is not None and not (is_real(max_pval) and 0 < max_pval <= 1):
        msg = f"max_pval must be a number in (0, 1], got {max_pval!r}"
        raise InputError(msg)
    if min_abs_slope is not None and not (is_real(min_abs_slope) and min_abs_slope >= 0):
        msg = f"min_abs_slope must be a number >= 0, got {min_abs_slope!r}"
        raise InputError(msg)
