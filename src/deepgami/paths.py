r"""Which chains of a deep prior carry the prediction: SNP -> TF -> gene -> pathway -> parent.

Edge attributions (:meth:`deepgami.explain.Explainer.edges`) are split along paths as a flow:
an edge ending in a node that the classifier reads (a root of the top level)
passes on its ``abs_score``; a node hands what leaves it down to its incoming edges in
proportion to their own ``abs_score``. A path's score is therefore

.. math::
    s(e_1 \dots e_L) = |a_{e_L}| \prod_{i < L} \frac{|a_{e_i}|}{\sum_{e \to v_i} |a_e|}

with :math:`v_i` the node where :math:`e_i` ends, and the scores of all paths through a top edge
add up to its attribution. Written here because no graph library decomposes attributions along
paths; networkx enumerates paths but not a best-first search over their products.
"""

from __future__ import annotations

import heapq
from collections import defaultdict

import pandas as pd

from .graph import parse_relation_name

#: Partial paths kept per extension step of the best-first search.
BEAM = 2000
#: The ``layer`` of the per-level node rows of latents.csv (:func:`level_inflow`).
INFLOW_LAYER = "inflow"


def level_inflow(edges: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """Node attributions at every latent level of a deep prior: per class, each node's summed
    edge attributions over its incoming edges (``score`` signed, ``abs_score`` of their
    ``abs_score``), the attribution that reaches it from the levels below.

    Parameters
    ----------
    edges : DataFrame with columns edge_type, target, class, score, abs_score (edges.csv)
    levels : the latent node types to report (their order is kept)

    Returns
    -------
    DataFrame with the columns of latents.csv: layer (``"inflow"``), node, level, class, score,
    abs_score, rank (within class and level, 1 = largest abs_score).
    """
    target_type = edges["edge_type"].map(lambda name: parse_relation_name(name)[2])
    rows = edges[target_type.isin(levels)].assign(level=target_type)
    table = rows.groupby(["level", "target", "class"], sort=False)[["score", "abs_score"]].sum().reset_index()
    table = table.rename(columns={"target": "node"}).assign(layer=INFLOW_LAYER)
    table["level"] = pd.Categorical(table["level"], categories=levels, ordered=True)
    table["rank"] = table.groupby(["class", "level"], observed=True)["abs_score"].rank(ascending=False, method="first").astype(int)
    table = table.sort_values(["class", "level", "rank"], ignore_index=True)
    table["level"] = table["level"].astype(str)
    return table[["layer", "node", "level", "class", "score", "abs_score", "rank"]]


def top_paths(edges: pd.DataFrame, label: str, *, n: int = 50, beam: int = BEAM) -> pd.DataFrame:
    """The ``n`` highest-scoring paths of one class, from an input feature to a node the
    classifier reads.

    Parameters
    ----------
    edges : DataFrame with columns edge_type, source, target, class, abs_score (edges.csv)
    label : the class (``class`` value) to summarise
    n : int, number of paths returned
    beam : int, partial paths kept while extending downward (exact when no more exist)

    Returns
    -------
    DataFrame with columns class, rank, path (``"rs1 -> TF3 -> G5 -> PW1"``), node_types
    (``"snp -> tf -> gene -> pathway"``), score (see the module docstring), share (of the
    class's total flow from the top edges), n_edges.
    """
    rows = edges[edges["class"] == label]
    incoming: dict[tuple[str, str], list[tuple[tuple[str, str], float]]] = defaultdict(list)
    has_out: set[tuple[str, str]] = set()
    for edge_type, source, target, value in zip(rows["edge_type"], rows["source"], rows["target"], rows["abs_score"]):
        src_type, _, dst_type = parse_relation_name(edge_type)
        u, v = (src_type, str(source)), (dst_type, str(target))
        incoming[v].append((u, float(value)))
        has_out.add(u)
    inflow = {v: sum(value for _, value in parents) for v, parents in incoming.items()}
    # Partial paths (score, nodes bottom-up reversed: top first) start at the top edges.
    partial = [(value, [v, u]) for v, parents in incoming.items() if v not in has_out for u, value in parents]
    total = sum(score for score, _ in partial)
    finished = []
    while partial:
        partial = heapq.nlargest(beam, partial, key=lambda item: item[0])
        extended = []
        for score, nodes in partial:
            bottom = nodes[-1]
            if bottom not in incoming or inflow[bottom] <= 0:
                finished.append((score, nodes))
                continue
            extended += [(score * value / inflow[bottom], [*nodes, u]) for u, value in incoming[bottom]]
        partial = extended
    best = heapq.nlargest(n, finished, key=lambda item: item[0])
    return pd.DataFrame(
        {
            "class": label,
            "rank": range(1, len(best) + 1),
            "path": [" -> ".join(name for _, name in reversed(nodes)) for _, nodes in best],
            "node_types": [" -> ".join(t for t, _ in reversed(nodes)) for _, nodes in best],
            "score": [score for score, _ in best],
            "share": [score / total if total > 0 else 0.0 for score, _ in best],
            "n_edges": [len(nodes) - 1 for _, nodes in best],
        },
        columns=["class", "rank", "path", "node_types", "score", "share", "n_edges"],
    )
