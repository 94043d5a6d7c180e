"""Whole graphs as GraphML files, and id harmonisation hooks for edge tables.

GraphML
-------
:func:`write_graphml` stores a :class:`deepgami.RegulatoryGraph` as GraphML and
:func:`load_graphml` reads one back (or a GraphML file made elsewhere, e.g. in Cytoscape or
networkx). GraphML node ids must be strings, so nodes are keyed ``"<node_type>:<name>"`` and carry
``node_type`` and ``name`` attributes; edges carry ``relation`` and, when known, ``weight``.
Files from other tools need a ``node_type`` attribute (name set by ``node_type_key``) on every
node; a node without a ``name`` attribute is named by its GraphML id.

Id harmonisation
----------------
:func:`strip_ensembl_version`, :func:`load_id_mapping` and :func:`harmonise_ids` bring the ids of
an edge table to the ids of the data, e.g. Ensembl gene ids in an eQTL table to the gene symbols
of an expression table::

    mapping = load_id_mapping("biomart.tsv", "Gene stable ID", "Gene name")
    eqtl = harmonise_ids(eqtl, mapping, column="target")
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from xml.etree.ElementTree import ParseError

import networkx as nx
import pandas as pd

from ..errors import InputError, preview
from ._tables import check_file, map_edge_ids, read_table, require_columns
from ._tables import strip_ensembl_version as strip_ensembl_version

log = logging.getLogger(__name__)

__all__ = ["load_graphml", "write_graphml", "strip_ensembl_version", "harmonise_ids", "load_id_mapping"]

_DEFAULT_RELATION = "regulates"


# --------------------------------------------------------------------------- GraphML
def load_graphml(path, *, node_type_key: str = "node_type"):
    """Read a GraphML file into a :class:`deepgami.RegulatoryGraph`.

    Parameters
    ----------
    path : str or path-like
        A directed GraphML file (``.graphml``, optionally ``.gz``/``.bz2``), e.g. one written by
        :func:`write_graphml`.
    node_type_key : str, default "node_type"
        Node attribute holding the node type (``"snp"``, ``"tf"``, ``"gene"``, ...). Every node
        needs one.

    Returns
    -------
    RegulatoryGraph
        Node names come from the ``name`` attribute (else the GraphML id), in file order; edge
        types from the endpoint types and the ``relation`` edge attribute (default
        ``"regulates"``); weights from the ``weight`` edge attribute.

    Raises
    ------
    InputError
        When the file cannot be parsed, is undirected, a node lacks ``node_type_key``, a
        relation has weights on some edges only or non-numeric weights, or parallel edges
        disagree on their relation.
    """
    from ..graph import RegulatoryGraph

    path = check_file(path, what="GraphML")
    try:
        graph = nx.read_graphml(path)
    except (ParseError, nx.NetworkXError, KeyError, ValueError, OSError, EOFError) as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        msg = f"cannot read GraphML file {path.name} ({detail}); check that it is valid GraphML"
        raise InputError(msg) from exc
    if not graph.is_directed():
        msg = f'GraphML file {path.name} is undirected; regulatory graphs need edgedefault="directed"'
        raise InputError(msg)
    _check_node_types(graph, node_type_key, path)
    if graph.is_multigraph():
        graph = _collapse_parallel_edges(graph, path)
    _check_edge_weights(graph, node_type_key, path)
    result = RegulatoryGraph.from_networkx(graph, node_type_key=node_type_key)
    log.info("loaded %r from %s", result, path)
    return result


def write_graphml(graph, path) -> Path:
    """Write a :class:`deepgami.RegulatoryGraph` as GraphML.

    Nodes are keyed ``"<node_type>:<name>"`` (GraphML ids are strings, and the same name may
    occur in two node types) with ``node_type`` and ``name`` attributes; edges carry
    ``relation`` and ``weight`` (when the relation has prior weights). :func:`load_graphml`
    reads the file back into an equal graph (weights as float32, as in the graph).

    Parameters
    ----------
    graph : RegulatoryGraph
    path : str or path-like
        Output file; a ``.gz`` or ``.bz2`` suffix compresses it. The folder must exist.

    Returns
    -------
    Path
        ``path``.
    """
    from ..graph import RegulatoryGraph

    if not isinstance(graph, RegulatoryGraph):
        msg = f"write_graphml needs a RegulatoryGraph, got {type(graph).__name__}; build one with RegulatoryGraph.from_edge_tables"
        raise InputError(msg)
    path = Path(path)
    if not path.parent.is_dir():
        msg = f"folder {path.parent} does not exist; create it before writing {path.name}"
        raise InputError(msg)
    nxg = graph.to_networkx()
    keys = {node: f"{node[0]}:{node[1]}" for node in nxg.nodes}
    if len(set(keys.values())) != len(keys):
        clashes = pd.Series(list(keys.values()))
        msg = (
            f"node keys clash when written as 'type:name' ({preview(clashes[clashes.duplicated()].unique())}); "
            "avoid ':' in node type names"
        )
        raise InputError(msg)
    nx.write_graphml(nx.relabel_nodes(nxg, keys, copy=True), path)
    log.info("wrote %r to %s", graph, path)
    return path


def _check_node_types(graph: nx.DiGraph, node_type_key: str, path: Path) -> None:
    lacking = [node for node, attrs in graph.nodes(data=True) if node_type_key not in attrs]
    if lacking:
        found = sorted({key for _, attrs in graph.nodes(data=True) for key in attrs})
        msg = (
            f"GraphML file {path.name}: {len(lacking)} of {graph.number_of_nodes()} nodes have no "
            f"'{node_type_key}' attribute ({preview(lacking)}; node attributes found: {preview(found, n=6) or 'none'}); "
            "add one to every node or pass node_type_key"
        )
        raise InputError(msg)


def _collapse_parallel_edges(graph: nx.MultiDiGraph, path: Path) -> nx.DiGraph:
    """Keep one edge per (u, v): the largest |weight|, first on ties; warn with the count."""
    out = nx.DiGraph()
    out.add_nodes_from(graph.nodes(data=True))
    n_dropped = 0
    for u, v, attrs in graph.edges(data=True):
        if not out.has_edge(u, v):
            out.add_edge(u, v, **attrs)
            continue
        n_dropped += 1
        kept = out.edges[u, v]
        if kept.get("relation", _DEFAULT_RELATION) != attrs.get("relation", _DEFAULT_RELATION):
            msg = (
                f"GraphML file {path.name} has parallel edges {u}->{v} with different relations; "
                "use distinct node keys per relation or split the file"
            )
            raise InputError(msg)
        if abs(_as_float(attrs.get("weight", 0.0))) > abs(_as_float(kept.get("weight", 0.0))):
            kept.clear()
            kept.update(attrs)
    msg = f"GraphML file {path.name}: dropped {n_dropped} parallel edges; kept the one with the largest |weight|"
    warnings.warn(msg, stacklevel=3)
    return out


def _check_edge_weights(graph: nx.DiGraph, node_type_key: str, path: Path) -> None:
    types = nx.get_node_attributes(graph, node_type_key)
    with_weight: dict[tuple, int] = {}
    total: dict[tuple, int] = {}
    for u, v, attrs in graph.edges(data=True):
        edge_type = (str(types[u]), str(attrs.get("relation", _DEFAULT_RELATION)), str(types[v]))
        total[edge_type] = total.get(edge_type, 0) + 1
        if "weight" in attrs:
            if not math.isfinite(_as_float(attrs["weight"])):
                msg = f"GraphML file {path.name}: edge {u}->{v} has weight {attrs['weight']!r}; weights must be finite numbers"
                raise InputError(msg)
            with_weight[edge_type] = with_weight.get(edge_type, 0) + 1
    for edge_type, n in with_weight.items():
        if n != total[edge_type]:
            msg = (
                f"GraphML file {path.name}: relation {'->'.join((edge_type[0], edge_type[2]))} ({edge_type[1]}) has "
                f"weights on {n} of {total[edge_type]} edges; give every edge of a relation a weight, or none"
            )
            raise InputError(msg)


def _as_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# --------------------------------------------------------------------------- ids
def harmonise_ids(edges: pd.DataFrame, mapping, *, column: str = "target", keep_unmapped: bool = False) -> pd.DataFrame:
    """Translate the ids in one column of an edge table through an id mapping.

    Parameters
    ----------
    edges : DataFrame
        Edge table ``source, target[, weight]``.
    mapping : DataFrame, Series or dict
        A DataFrame with exactly two columns, *from* then *to* (e.g. ``ensembl_id, symbol``, as
        returned by :func:`load_id_mapping`); a Series (index -> value); or a dict whose
        values are ids or lists of ids.
    column : {"target", "source"}, default "target"
        Which end of the edges to translate.
    keep_unmapped : bool, default False
        Keep ids absent from the mapping unchanged instead of dropping their edges.

    Returns
    -------
    DataFrame
        Canonical edge table with fresh index. An id that maps to several ids keeps an edge to
        each of them (one-to-many mappings are common between Ensembl ids and symbols; filter
        the mapping first if you want one). Edges that become duplicates because several ids map
        to one keep the largest ``|weight|``, with a warning. Ids absent from the mapping drop
        their edges with a warning that counts them, unless ``keep_unmapped``.

    Raises
    ------
    InputError
        When no id of ``column`` is in the mapping (the message suggests
        :func:`strip_ensembl_version` when versions are the reason), or the mapping is
        malformed.
    """
    return map_edge_ids(edges, mapping, column=column, keep_unmapped=keep_unmapped, what="harmonise_ids")


def load_id_mapping(path, from_column: str, to_column: str) -> pd.DataFrame:
    """Read an id mapping table (e.g. a BioMart export) for :func:`harmonise_ids`.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` or tab-separated (``.tsv``/``.txt``, the default for other suffixes),
        optionally compressed.
    from_column, to_column : str
        Header names of the ids to translate from and to.

    Returns
    -------
    DataFrame
        Two str columns ``from_column, to_column``; rows with a missing id and repeated rows
        are dropped (one-to-many rows are kept).
    """
    what = "id mapping"
    if from_column == to_column:
        msg = f"from_column and to_column are both {from_column!r}; name two different columns"
        raise InputError(msg)
    frame = read_table(path, what=what, default_sep="\t")
    require_columns(frame, [from_column, to_column], what=what, path=path, hint="pass from_column and to_column")
    table = frame[[from_column, to_column]].dropna()
    table = table.apply(lambda col: col.astype(str).str.strip())
    table = table[(table[from_column] != "") & (table[to_column] != "")].drop_duplicates().reset_index(drop=True)
    if table.empty:
        msg = f"id mapping file {Path(path).name} has no row with both {from_column} and {to_column}; check the columns"
        raise InputError(msg)
    log.info("loaded %d id pairs from %s", len(table), path)
    return table
