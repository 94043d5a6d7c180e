"""Prioritised regulatory networks from edge attributions: selection, summaries, enrichment, export."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import networkx as nx
import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, hypergeom

from .errors import InputError
from .graph import parse_relation_name


def top_edges(
    edges: pd.DataFrame, label, *, top_fraction: float | None = 0.1, top_k: int | None = None, max_q_value: float | None = None
) -> pd.DataFrame:
    """The highest-ranked edges of one class: those with ``q_value <= max_q_value`` when it is
    given, else the top ``top_k``, or the top ``top_fraction``.

    ``edges`` is the table from :meth:`deepgami.explain.Explainer.edges` (ranked by abs_score).
    """
    rows = edges[edges["class"].astype(str) == str(label)]
    if rows.empty:
        msg = f"no edge attributions for class {label!r} (classes: {', '.join(map(str, edges['class'].unique()))})"
        raise InputError(msg)
    if max_q_value is not None:
        if not 0 < max_q_value <= 1:
            msg = f"max_q_value must lie in (0, 1] (got {max_q_value})"
            raise InputError(msg)
        if "q_value" not in rows or rows["q_value"].isna().all():
            msg = "these edge attributions have no q-values (the model has no null members); refit with null_members > 0 or cut by top fraction"
            raise InputError(msg)
        return rows[rows["q_value"] <= max_q_value].sort_values("rank")
    if top_k is None:
        if top_fraction is None or not 0 < top_fraction <= 1:
            msg = f"top_fraction must lie in (0, 1] (got {top_fraction})"
            raise InputError(msg)
        top_k = max(1, int(round(top_fraction * len(rows))))
    return rows.nsmallest(top_k, "rank")


def prioritized_network(
    edges: pd.DataFrame, label, *, top_fraction: float | None = 0.1, top_k: int | None = None, max_q_value: float | None = None
) -> nx.DiGraph:
    """A DiGraph of one class's top edges (selected as in :func:`top_edges`).

    Nodes are keyed ``"<node type>:<name>"`` with attributes ``node_type``, ``name`` and
    ``score`` (sum of ``|attribution|`` of the node's selected edges); edges carry ``relation``,
    ``score``, ``abs_score``, ``rank``, ``weight`` (learned) and, when the table has them,
    ``stability`` and ``q_value``.
    """
    selected = top_edges(edges, label, top_fraction=top_fraction, top_k=top_k, max_q_value=max_q_value)
    graph = nx.DiGraph(label=str(label))
    for row in selected.itertuples(index=False):
        source_type, relation, target_type = parse_relation_name(row.edge_type)
        u, v = f"{source_type}:{row.source}", f"{target_type}:{row.target}"
        for key, node_type, name in ((u, source_type, row.source), (v, target_type, row.target)):
            if key not in graph:
                graph.add_node(key, node_type=node_type, name=str(name), score=0.0)
            graph.nodes[key]["score"] += float(row.abs_score)
        graph.add_edge(
            u, v, relation=relation, score=float(row.score), abs_score=float(row.abs_score), rank=int(row.rank),
            weight=float(getattr(row, "weight", np.nan)),
            **{key: float(getattr(row, key)) for key in ("stability", "q_value") if hasattr(row, key)},
        )
    return graph


def hubs(graph: nx.DiGraph, *, n: int = 20) -> pd.DataFrame:
    """Targets with the most prioritised incoming links, and regulators with the most targets.

    Returns a DataFrame with columns role ("target hub" or "regulator"), node_type, name,
    degree, score (summed ``|attribution|`` of those links), sorted by degree then score.
    """
    rows = []
    for role, degree in (("target hub", graph.in_degree), ("regulator", graph.out_degree)):
        for node, d in degree():
            if d:
                weight = graph.in_edges(node, data="abs_score") if role == "target hub" else graph.out_edges(node, data="abs_score")
                rows.append({"role": role, "node_type": graph.nodes[node]["node_type"], "name": graph.nodes[node]["name"],
                             "degree": d, "score": sum(s for *_, s in weight)})
    table = pd.DataFrame(rows, columns=["role", "node_type", "name", "degree", "score"])
    return (
        table.sort_values(["role", "degree", "score"], ascending=[True, False, False])
        .groupby("role", sort=False)
        .head(n)
        .reset_index(drop=True)
    )


def modules(graph: nx.DiGraph, *, min_size: int = 3) -> pd.DataFrame:
    """Connected modules (weakly connected components) of at least ``min_size`` nodes.

    Returns a DataFrame with columns module, n_nodes, n_edges, score (summed ``|attribution|``),
    nodes (comma-separated names, highest score first), largest first.
    """
    rows = []
    for component in nx.weakly_connected_components(graph):
        if len(component) < min_size:
            continue
        sub = graph.subgraph(component)
        ordered = sorted(component, key=lambda n: -graph.nodes[n]["score"])
        rows.append({"n_nodes": len(component), "n_edges": sub.number_of_edges(),
                     "score": sum(s for *_, s in sub.edges(data="abs_score")), "nodes": ",".join(ordered)})
    table = pd.DataFrame(rows, columns=["n_nodes", "n_edges", "score", "nodes"])
    table = table.sort_values(["n_nodes", "score"], ascending=False, ignore_index=True)
    table.insert(0, "module", np.arange(1, len(table) + 1))
    return table


def class_overlap(networks: dict) -> pd.DataFrame:
    """Pairwise overlap of the prioritised edge sets of several classes (counts and Jaccard)."""
    labels = list(networks)
    rows = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            ea, eb = set(networks[a].edges), set(networks[b].edges)
            union = len(ea | eb)
            rows.append({"class_a": a, "class_b": b, "n_a": len(ea), "n_b": len(eb), "shared": len(ea & eb),
                         "jaccard": len(ea & eb) / union if union else 0.0})
    return pd.DataFrame(rows, columns=["class_a", "class_b", "n_a", "n_b", "shared", "jaccard"])


def read_gmt(path: str | Path) -> dict[str, tuple[str, list[str]]]:
    """Gene sets from a GMT file: ``{set name: (description, genes)}``."""
    path = Path(path)
    if not path.is_file():
        msg = f"gene-set file {path} does not exist"
        raise InputError(msg)
    sets = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 3:
            msg = f"{path.name} line {number} is not GMT (name<TAB>description<TAB>gene ...)"
            raise InputError(msg)
        sets[fields[0]] = (fields[1], [g for g in fields[2:] if g])
    if not sets:
        msg = f"gene-set file {path} holds no gene set"
        raise InputError(msg)
    return sets


def enrichment(
    genes: Iterable[str], gene_sets: dict[str, tuple[str, list[str]]], background: Iterable[str], *, min_size: int = 3
) -> pd.DataFrame:
    """Hypergeometric over-representation of ``genes`` in each gene set, within ``background``.

    Sets are restricted to the background; sets with fewer than ``min_size`` background genes
    are skipped. Returns a DataFrame with columns gene_set, description, set_size, overlap,
    expected, fold, p_value, fdr (Benjamini-Hochberg), genes (the overlapping ones), by p-value.
    """
    background = set(map(str, background))
    selected = set(map(str, genes)) & background
    if not selected:
        msg = "none of the selected genes is in the background; check the gene ids against the gene-set file"
        raise InputError(msg)
    rows = []
    n_background, n_selected = len(background), len(selected)
    for name, (description, members) in gene_sets.items():
        members = set(members) & background
        if len(members) < min_size:
            continue
        hits = selected & members
        expected = n_selected * len(members) / n_background
        rows.append({
            "gene_set": name, "description": description, "set_size": len(members), "overlap": len(hits),
            "expected": expected, "fold": len(hits) / expected if expected else np.nan,
            # P(X >= hits) for X ~ Hypergeom(background, set size, selected)
            "p_value": float(hypergeom.sf(len(hits) - 1, n_background, len(members), n_selected)),
            "genes": ",".join(sorted(hits)),
        })
    columns = ["gene_set", "description", "set_size", "overlap", "expected", "fold", "p_value", "fdr", "genes"]
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(rows)
    table["fdr"] = false_discovery_control(table["p_value"].to_numpy(), method="bh")
    return table.sort_values("p_value", ignore_index=True)[columns]


def write_cytoscape(graph: nx.DiGraph, folder: str | Path, prefix: str) -> tuple[Path, Path, Path]:
    """Write ``<prefix>.graphml`` and Cytoscape tables ``<prefix>_nodes.csv`` / ``<prefix>_edges.csv``.

    The node table has ``id, node_type, name, score``; the edge table ``source, target,
    interaction, score, abs_score, rank, weight`` (Cytoscape's "source"/"target"/"interaction").
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    graphml = folder / f"{prefix}.graphml"
    nx.write_graphml(graph, graphml)
    nodes = pd.DataFrame([{"id": n, **attrs} for n, attrs in graph.nodes(data=True)], columns=["id", "node_type", "name", "score"])
    edges = pd.DataFrame(
        [{"source": u, "target": v, "interaction": a["relation"], **{k: a[k] for k in ("score", "abs_score", "rank", "weight")}}
         for u, v, a in graph.edges(data=True)],
        columns=["source", "target", "interaction", "score", "abs_score", "rank", "weight"],
    )
    node_path, edge_path = folder / f"{prefix}_nodes.csv", folder / f"{prefix}_edges.csv"
    nodes.to_csv(node_path, index=False)
    edges.to_csv(edge_path, index=False)
    return graphml, node_path, edge_path
