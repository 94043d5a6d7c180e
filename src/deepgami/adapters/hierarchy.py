"""Pathway and ontology hierarchies as deepgami edge tables: genes -> terms -> parent terms.

Messages flow upward, as in P-NET: a gene sends to the terms it is annotated to (relation
``"member_of"``, gene -> term) and each term sends to its parent terms (relation ``"parent"``,
child term -> parent term, both of node type ``term_type``). Every loader returns the list of
``(DataFrame[source, target], source type, target type, relation)`` tuples that
:meth:`deepgami.RegulatoryGraph.from_edge_tables` accepts::

    tables = reactome_hierarchy_tables(genes=expression.columns, max_depth=4, leftover=True)
    graph = RegulatoryGraph.from_edge_tables([*tables, (eqtl, "snp", "gene", "eqtl")])

- :func:`hierarchy_tables`: the generic core over a membership table (gene, term) and a parents
  table (child, parent);
- :func:`reactome_hierarchy_tables`: Reactome from the tables shipped in ``binn``
  (:mod:`deepgami.adapters.reactome`);
- :func:`go_hierarchy_tables`: Gene Ontology style annotations and ``is_a``/``part_of`` links,
  as DataFrames or files.

Written to CSV, the tables are ``[[graph.edges]]`` of a config like any other (the hierarchy's
``source`` and ``target`` both the term type, e.g. ``relation = "parent"``).

A term's depth is its level below the roots: a term without parent is at depth 1, its children
at depth 2, and a term reachable along paths of several lengths takes the shortest.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import InputError, preview
from ._tables import read_table
from .reactome import load_reactome_gene_pathways, load_reactome_hierarchy

log = logging.getLogger(__name__)

__all__ = [
    "GO_RELATIONS",
    "LEFTOVER_TERM",
    "go_hierarchy_tables",
    "hierarchy_tables",
    "reactome_hierarchy_tables",
]

#: Name of the extra root term that collects the genes without any term (``leftover=True``).
LEFTOVER_TERM = "leftover_genes"
#: The GO relations kept by :func:`go_hierarchy_tables` when the parents table has a ``relation`` column.
GO_RELATIONS = ("is_a", "part_of")

_MEMBERSHIP_HINT = "pass the gene -> term table with columns source (gene), target (term)"
_PARENTS_HINT = (
    "pass the term links with columns child, parent (a parent -> child table such as load_reactome_hierarchy()'s: "
    ".rename(columns={'source': 'parent', 'target': 'child'}))"
)


# --------------------------------------------------------------------------- the generic core


def hierarchy_tables(
    membership: pd.DataFrame,
    parents: pd.DataFrame,
    *,
    source_type: str = "gene",
    term_type: str = "pathway",
    max_depth: int | None = None,
    leftover: bool = False,
    genes: Iterable[str] | None = None,
    membership_relation: str = "member_of",
    parent_relation: str = "parent",
) -> list[tuple[pd.DataFrame, str, str, str]]:
    """Return the edge tables of a gene -> term -> parent term hierarchy.

    Parameters
    ----------
    membership : DataFrame with columns ``source, target``
        Gene -> term annotations (other columns are ignored). Annotate genes to the most specific
        terms: the parent links carry them upward.
    parents : DataFrame with columns ``child, parent``
        One row per link from a term to one of its parents (other columns are ignored). A term
        may have several parents; terms without a parent are roots.
    source_type, term_type : str, default "gene" and "pathway"
        Node types of the genes and of the terms.
    max_depth : int, optional
        Keep the terms at most ``max_depth`` levels deep (roots are at depth 1; P-NET's depth
        cut). A gene annotated to a deeper term moves to all of that term's ancestors at depth
        ``max_depth``; a kept term loses its links to deeper parents.
    leftover : bool, default False
        Link the genes of ``genes`` that have no term to one extra root term,
        :data:`LEFTOVER_TERM` (P-NET's leftover node). Needs ``genes``.
    genes : iterable of str, optional
        The data's gene ids: annotations of other genes are left out.
    membership_relation, parent_relation : str, default "member_of" and "parent"
        Relation names of the two tables.

    Returns
    -------
    list of (DataFrame, str, str, str)
        ``(membership, source_type, term_type, membership_relation)`` with ``source`` the gene and
        ``target`` the term, then ``(links, term_type, term_type, parent_relation)`` with
        ``source`` the child and ``target`` the parent term; the second is left out when no link
        remains (``max_depth=1``). Terms that no gene reaches, directly or through their children,
        are dropped; each drop is counted in a log line.

    Raises
    ------
    InputError
        For missing columns, a term that is its own parent, a loop in the hierarchy, bad options,
        or ``genes`` sharing no id with ``membership``.

    Warns
    -----
    UserWarning
        For rows with a missing id (they are dropped).
    """
    for name, value in (
        ("source_type", source_type),
        ("term_type", term_type),
        ("membership_relation", membership_relation),
        ("parent_relation", parent_relation),
    ):
        if not isinstance(value, str) or not value:
            msg = f"{name} must be a non-empty string (got {value!r})"
            raise InputError(msg)
    if source_type == term_type:
        msg = f"source_type and term_type are both {source_type!r}; give the genes and the terms different node types"
        raise InputError(msg)
    if max_depth is not None and (not isinstance(max_depth, (int, np.integer)) or isinstance(max_depth, bool) or max_depth < 1):
        msg = f"max_depth must be a positive integer or None (got {max_depth!r})"
        raise InputError(msg)
    if leftover and genes is None:
        msg = "leftover=True needs genes, the data's gene ids, to find the genes without a term"
        raise InputError(msg)
    members = _pairs(membership, ("source", "target"), what="membership", hint=_MEMBERSHIP_HINT)
    if members.empty:
        msg = f"the membership table has no {source_type} -> {term_type} annotation; pass a table with at least one row"
        raise InputError(msg)
    links = _pairs(parents, ("child", "parent"), what="parents", hint=_PARENTS_HINT)
    _check_acyclic(links)
    depth = _depths(links, set(members["target"]))
    unannotated: list[str] = []
    if genes is not None:
        members, unannotated = _restrict(members, genes, source_type)
    if max_depth is not None:
        members, links = _cut(members, links, depth, max_depth)
    links = _prune(members, links, term_type)
    if leftover:
        members = _add_leftover(members, links, unannotated, source_type)
    elif unannotated:
        log.info(
            "%d of the given %ss have no %s and stay out of the hierarchy (leftover=True links them to %r)",
            len(unannotated), source_type, term_type, LEFTOVER_TERM,
        )  # fmt: skip
    members, links = _sorted(members), _sorted(links.rename(columns={"child": "source", "parent": "target"}))
    terms = set(members["target"]) | set(links["source"]) | set(links["target"])
    levels = max(depth.get(term, 1) for term in terms)
    log.info(
        "hierarchy: %d %s -> %s edges from %d %ss, %d %s -> parent links, %d %ss in %d levels",
        len(members), source_type, term_type, members["source"].nunique(), source_type, len(links), term_type, len(terms), term_type, levels,
    )  # fmt: skip
    tables = [(members, source_type, term_type, membership_relation)]
    if links.empty:
        log.info("hierarchy: no %s -> parent link remains; returning the membership table only", term_type)
    else:
        tables.append((links, term_type, term_type, parent_relation))
    return tables


def _pairs(frame, columns: tuple[str, str], *, what: str, hint: str) -> pd.DataFrame:
    """Two id columns of ``frame`` as stripped strings, without missing ids or duplicate rows."""
    if not isinstance(frame, pd.DataFrame):
        msg = f"{what} must be a DataFrame with columns {', '.join(columns)} (got {type(frame).__name__}); {hint}"
        raise InputError(msg)
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        msg = f"{what} lacks column(s) {', '.join(missing)} (found: {preview(frame.columns, n=8)}); {hint}"
        raise InputError(msg)
    pairs = frame[list(columns)].copy()
    for column in columns:
        ids = pairs[column]
        stripped = ids.where(ids.isna(), ids.astype(str).str.strip())
        pairs[column] = stripped.where(stripped != "", np.nan)
    bad = pairs.isna().any(axis=1)
    if bad.any():
        msg = f"{what}: dropped {int(bad.sum())} of {len(pairs)} rows with a missing id"
        warnings.warn(msg, stacklevel=3)
        pairs = pairs[~bad]
    pairs = pairs.astype(str)
    duplicated = pairs.duplicated()
    if duplicated.any():
        log.info("%s: dropped %d duplicate rows", what, int(duplicated.sum()))
        pairs = pairs[~duplicated]
    return pairs.reset_index(drop=True)


def _check_acyclic(links: pd.DataFrame) -> None:
    own = links.loc[links["child"] == links["parent"], "child"]
    if len(own):
        msg = f"{own.nunique()} terms are their own parent ({preview(own.unique())}); remove those rows from the parents table"
        raise InputError(msg)
    try:
        cycle = nx.find_cycle(nx.DiGraph(zip(links["child"], links["parent"])))
    except nx.NetworkXNoCycle:
        return
    terms = [child for child, _ in cycle]
    shown = " -> ".join(terms[:5]) + (" -> ..." if len(terms) > 5 else "")
    msg = f"the hierarchy has a loop of {len(terms)} terms ({shown} -> {terms[0]}, child -> parent); remove one of its parent links"
    raise InputError(msg)


def _depths(links: pd.DataFrame, annotated: set[str]) -> dict[str, int]:
    """Depth of every term: 1 for roots, else 1 + the shortest path from a root."""
    children: dict[str, list[str]] = {}
    for child, parent in zip(links["child"], links["parent"]):
        children.setdefault(parent, []).append(child)
    terms = annotated | set(links["child"]) | set(links["parent"])
    depth = {term: 1 for term in terms - set(links["child"])}
    queue = deque(depth)
    while queue:
        term = queue.popleft()
        for child in children.get(term, ()):
            if child not in depth:
                depth[child] = depth[term] + 1
                queue.append(child)
    return depth


def _restrict(members: pd.DataFrame, genes, source_type: str) -> tuple[pd.DataFrame, list[str]]:
    """Keep the annotations of ``genes``; also return the genes without any."""
    if isinstance(genes, (str, bytes)) or not isinstance(genes, Iterable):
        msg = f"genes must be a list of {source_type} ids (got {type(genes).__name__}); e.g. pass expression.columns"
        raise InputError(msg)
    wanted = pd.Index([str(gene) for gene in genes]).unique()
    known = members["source"].isin(wanted)
    if not known.any():
        msg = (
            f"none of the {len(wanted)} given {source_type}s is in the membership table "
            f"(given: {preview(wanted)}; table: {preview(members['source'].unique())}); check that both use the same id type"
        )
        raise InputError(msg)
    dropped = members.loc[~known, "source"]
    if len(dropped):
        log.info("hierarchy: left out %d annotations of %d %ss absent from the given ones", len(dropped), dropped.nunique(), source_type)
    kept = members[known]
    return kept, sorted(set(wanted) - set(kept["source"]))


def _cut(members: pd.DataFrame, links: pd.DataFrame, depth: dict[str, int], max_depth: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop the terms deeper than ``max_depth``; move their genes to their ancestors at ``max_depth``."""
    deep = {term for term, level in depth.items() if level > max_depth}
    if not deep:
        log.info("max_depth=%d: the hierarchy is %d levels deep; nothing to cut", max_depth, max(depth.values(), default=0))
        return members, links
    up = nx.DiGraph(zip(links["child"], links["parent"]))
    moving = members["target"].isin(deep)
    # a depth-d term has an ancestor at every depth < d (along its shortest path from a root)
    lift = {term: sorted(a for a in nx.descendants(up, term) if depth[a] == max_depth) for term in members.loc[moving, "target"].unique()}
    lifted = members[moving].assign(target=members.loc[moving, "target"].map(lift)).explode("target")
    moved = pd.concat([members[~moving], lifted], ignore_index=True)
    moved = moved[~moved.duplicated()].reset_index(drop=True)
    kept_links = links[~links["child"].isin(deep) & ~links["parent"].isin(deep)]
    log.info(
        "max_depth=%d: cut %d terms and %d parent links below level %d; moved %d annotations of %d deeper terms "
        "onto %d ancestors at level %d (%d after merging duplicates)",
        max_depth, len(deep), len(links) - len(kept_links), max_depth, int(moving.sum()), len(lift),
        len(set().union(*lift.values())), max_depth, len(moved) - int((~moving).sum()),
    )  # fmt: skip
    return moved, kept_links


def _prune(members: pd.DataFrame, links: pd.DataFrame, term_type: str) -> pd.DataFrame:
    """Drop the links of terms that no gene reaches."""
    parents: dict[str, list[str]] = {}
    for child, parent in zip(links["child"], links["parent"]):
        parents.setdefault(child, []).append(parent)
    reached = set(members["target"])
    queue = deque(reached)
    while queue:
        for parent in parents.get(queue.popleft(), ()):
            if parent not in reached:
                reached.add(parent)
                queue.append(parent)
    unreached = (set(links["child"]) | set(links["parent"])) - reached
    if unreached:
        log.info("hierarchy: dropped %d %ss that no gene reaches (e.g. %s)", len(unreached), term_type, preview(sorted(unreached)))
    return links[links["child"].isin(reached)]


def _add_leftover(members: pd.DataFrame, links: pd.DataFrame, unannotated: list[str], source_type: str) -> pd.DataFrame:
    if LEFTOVER_TERM in set(members["target"]) | set(links["child"]) | set(links["parent"]):
        msg = f"the hierarchy already has a term named {LEFTOVER_TERM!r}, the name of the leftover term; rename it or use leftover=False"
        raise InputError(msg)
    if not unannotated:
        log.info("hierarchy: every given %s has a term; no %r term added", source_type, LEFTOVER_TERM)
        return members
    log.info("hierarchy: linked %d %ss without a term to the root term %r", len(unannotated), source_type, LEFTOVER_TERM)
    extra = pd.DataFrame({"source": unannotated, "target": LEFTOVER_TERM})
    return pd.concat([members, extra], ignore_index=True)


def _sorted(edges: pd.DataFrame) -> pd.DataFrame:
    return edges[["source", "target"]].sort_values(["target", "source"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- sources


def reactome_hierarchy_tables(
    genes: Iterable[str] | None = None,
    *,
    species: str = "Homo sapiens",
    id_type: str = "symbol",
    symbol_map: Mapping[str, str] | pd.Series | None = None,
    max_depth: int | None = None,
    leftover: bool = False,
    source_type: str = "gene",
    term_type: str = "pathway",
    membership_relation: str = "member_of",
    parent_relation: str = "parent",
) -> list[tuple[pd.DataFrame, str, str, str]]:
    """Return the Reactome gene -> pathway -> parent pathway hierarchy as edge tables.

    Parameters
    ----------
    genes : iterable of str, optional
        The data's gene ids, as in :func:`hierarchy_tables`.
    species, id_type, symbol_map
        As in :func:`deepgami.adapters.reactome.load_reactome_gene_pathways`.
    max_depth, leftover, source_type, term_type, membership_relation, parent_relation
        As in :func:`hierarchy_tables`.

    Returns
    -------
    list of (DataFrame, str, str, str)
        As in :func:`hierarchy_tables`; terms are pathway ids such as ``R-HSA-162582``.

    Notes
    -----
    Genes are linked to the pathways Reactome annotates them to (the lowest level; for 305
    human pathways that also have sub-pathways), and the parent links carry them up. With binn
    0.1.1 and Homo sapiens that gives 45,183 gene -> pathway edges (11,285 genes) and 2,705
    pathways in 10 levels with 2,723 parent links (46 pathways without genes are dropped);
    ``max_depth=4`` leaves 38,846 gene -> pathway edges and 1,577 pathways with 1,560 links.
    """
    membership = load_reactome_gene_pathways(species=species, id_type=id_type, symbol_map=symbol_map)
    parents = load_reactome_hierarchy(species=species).rename(columns={"source": "parent", "target": "child"})
    return hierarchy_tables(
        membership, parents, source_type=source_type, term_type=term_type, max_depth=max_depth, leftover=leftover,
        genes=genes, membership_relation=membership_relation, parent_relation=parent_relation,
    )  # fmt: skip


def go_hierarchy_tables(
    annotations: pd.DataFrame | str | os.PathLike,
    parents: pd.DataFrame | str | os.PathLike,
    *,
    genes: Iterable[str] | None = None,
    relations: Sequence[str] = GO_RELATIONS,
    max_depth: int | None = None,
    leftover: bool = False,
    source_type: str = "gene",
    term_type: str = "pathway",
    membership_relation: str = "member_of",
    parent_relation: str = "parent",
) -> list[tuple[pd.DataFrame, str, str, str]]:
    """Return a Gene Ontology style gene -> term -> parent term hierarchy as edge tables.

    Parameters
    ----------
    annotations : DataFrame or path
        Gene -> term annotations with columns ``source`` (gene), ``target`` (term, e.g.
        ``GO:0006281``). A path names a delimited file with a header row: ``.csv`` (comma) or
        ``.tsv``/``.tab``/``.txt`` (tab), optionally compressed, or ``.parquet``.
    parents : DataFrame or path
        Term links with columns ``child, parent`` (e.g. GO ``is_a``/``part_of`` exports) and
        optionally ``relation``; a path as for ``annotations``.
    genes : iterable of str, optional
        The data's gene ids, as in :func:`hierarchy_tables`.
    relations : sequence of str, default :data:`GO_RELATIONS`
        When ``parents`` has a ``relation`` column, keep the links of these relations (the
        others, e.g. ``regulates``, are dropped with a log line).
    max_depth, leftover, source_type, term_type, membership_relation, parent_relation
        As in :func:`hierarchy_tables`.

    Returns
    -------
    list of (DataFrame, str, str, str)
        As in :func:`hierarchy_tables`.
    """
    membership = _read_frame(annotations, what="annotations")
    links = _read_frame(parents, what="parents")
    if "relation" in links.columns:
        if isinstance(relations, str) or not all(isinstance(r, str) for r in relations):
            msg = f"relations must be a list of relation names such as {list(GO_RELATIONS)} (got {relations!r})"
            raise InputError(msg)
        keep = links["relation"].isin(relations)
        if not keep.all():
            counts = links.loc[~keep, "relation"].value_counts(dropna=False)
            log.info("GO: dropped %d parent links of other relations (%s)", int((~keep).sum()), ", ".join(f"{r}: {n}" for r, n in counts.items()))
        links = links[keep]
    return hierarchy_tables(
        membership, links, source_type=source_type, term_type=term_type, max_depth=max_depth, leftover=leftover,
        genes=genes, membership_relation=membership_relation, parent_relation=parent_relation,
    )  # fmt: skip


def _read_frame(table, *, what: str) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (str, os.PathLike)):
        return read_table(table, what=what)
    msg = f"{what} must be a DataFrame or the path of a .csv/.tsv file (got {type(table).__name__})"
    raise InputError(msg)
