"""Edge-table adapters: GTEx eQTL tables, GRN flavours, GraphML and id harmonisation.

Each format gets a small fixture written into ``tmp_path`` in its real layout (GTEx rows with
versioned gene ids and ``_b38`` variant ids, SCENIC adjacencies, a header-less TRRUST file,
PsychENCODE GRNs, GraphML) and is checked for content, filters, duplicate handling and errors.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from deepgami import InputError, RegulatoryGraph
from deepgami.adapters.eqtl import gtex_to_chr_pos_ref_alt, load_gtex_eqtl, translate_variant_ids
from deepgami.adapters.graphfiles import (
    harmonise_ids,
    load_graphml,
    load_id_mapping,
    strip_ensembl_version,
    write_graphml,
)
from deepgami.adapters.grn import load_edge_list, load_psychencode_grn, load_scenic_adjacencies, load_trrust


# ----------------------------------------------------------------------------- helpers
def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (gzip-compressed when the name ends in .gz)."""
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def one_line_error(excinfo) -> str:
    """The InputError message, checked to be a single non-empty line."""
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def pairs(edges: pd.DataFrame) -> list[tuple]:
    return list(edges.itertuples(index=False, name=None))


GTEX_HEADER = "variant_id\tgene_id\ttss_distance\tma_samples\tma_count\tmaf\tpval_nominal\tslope\tslope_se\n"
GTEX_ROWS = [
    ("chr1_13550_G_A_b38", "ENSG00000227232.5", -16003, 12, 12, 0.0179, 3.7e-06, 0.62, 0.13),
    ("chr1_14677_G_A_b38", "ENSG00000227232.5", -14876, 50, 51, 0.0762, 1.1e-09, -0.41, 0.06),
    ("chr1_16841_G_T_b38", "ENSG00000278267.1", -12712, 30, 31, 0.0460, 2.0e-04, 0.18, 0.05),
    ("chr1_17005_A_G_b38", "ENSG00000278267.1", -12548, 80, 85, 0.1270, 5.0e-12, -0.95, 0.09),
    ("chrX_2781866_C_T_b38", "ENSG00000182378.14", 1200, 20, 20, 0.0300, 8.0e-08, 0.33, 0.06),
]


def write_gtex(path: Path, rows=GTEX_ROWS) -> Path:
    body = "".join("\t".join(map(str, row)) + "\n" for row in rows)
    return write_text(path, GTEX_HEADER + body)


@pytest.fixture
def gtex_file(tmp_path):
    return write_gtex(tmp_path / "Whole_Blood.v8.signif_variant_gene_pairs.txt.gz")


# ----------------------------------------------------------------------------- GTEx eQTL
def test_gtex_loads_gz_strips_versions_and_uses_slope(gtex_file):
    edges = load_gtex_eqtl(gtex_file)
    assert list(edges.columns) == ["source", "target", "weight"]
    assert edges["source"].tolist() == [row[0] for row in GTEX_ROWS]
    assert edges["target"].tolist() == [
        "ENSG00000227232",
        "ENSG00000227232",
        "ENSG00000278267",
        "ENSG00000278267",
        "ENSG00000182378",
    ]
    assert edges["weight"].tolist() == [0.62, -0.41, 0.18, -0.95, 0.33]
    assert edges["weight"].dtype == float
    kept = load_gtex_eqtl(gtex_file, strip_version=False, weight=None)
    assert list(kept.columns) == ["source", "target"]
    assert kept["target"].iloc[0] == "ENSG00000227232.5"


def test_gtex_filters_by_pvalue_and_abs_slope(gtex_file):
    assert load_gtex_eqtl(gtex_file, max_pval=1e-7)["source"].tolist() == [
        "chr1_14677_G_A_b38",
        "chr1_17005_A_G_b38",
        "chrX_2781866_C_T_b38",
    ]
    assert load_gtex_eqtl(gtex_file, min_abs_slope=0.5)["weight"].tolist() == [0.62, -0.95]
    both = load_gtex_eqtl(gtex_file, max_pval=1e-7, min_abs_slope=0.4)
    assert both["source"].tolist() == ["chr1_14677_G_A_b38", "chr1_17005_A_G_b38"]


def test_gtex_chr_pos_ref_alt_rewrites_ids(gtex_file):
    edges = load_gtex_eqtl(gtex_file, variant_ids="chr_pos_ref_alt")
    assert edges["source"].tolist() == ["1_13550_G_A", "1_14677_G_A", "1_16841_G_T", "1_17005_A_G", "X_2781866_C_T"]
    assert gtex_to_chr_pos_ref_alt(["chr22_5_AT_A_b37", "3_7_C_G"]) == ["22_5_AT_A", "3_7_C_G"]


def test_gtex_variant_mapping_translates_and_drops_unmapped(gtex_file):
    mapping = {"chr1_13550_G_A_b38": "rs1", "chr1_14677_G_A_b38": "rs2", "chr1_16841_G_T_b38": "rs3"}
    with pytest.warns(UserWarning, match=r"2 of 5 source ids are not in the id mapping.*dropped 2 edges"):
        edges = load_gtex_eqtl(gtex_file, variant_ids=mapping)
    assert edges["source"].tolist() == ["rs1", "rs2", "rs3"]
    full = {row[0]: f"rs{i}" for i, row in enumerate(GTEX_ROWS)}
    assert load_gtex_eqtl(gtex_file, variant_ids=pd.Series(full))["source"].tolist() == list(full.values())
    with pytest.raises(InputError, match="0 of 5 source ids") as excinfo:
        load_gtex_eqtl(gtex_file, variant_ids={"rs9": "rs9"})
    one_line_error(excinfo)


def test_gtex_duplicates_after_version_stripping_keep_largest_abs_slope(tmp_path):
    rows = [
        ("chr1_13550_G_A_b38", "ENSG00000227232.5", 0, 1, 1, 0.1, 1e-6, 0.2, 0.1),
        ("chr1_13550_G_A_b38", "ENSG00000227232.6", 0, 1, 1, 0.1, 1e-6, -0.7, 0.1),
        ("chr1_13550_G_A_b38", "ENSG00000278267.1", 0, 1, 1, 0.1, 1e-6, 0.1, 0.1),
    ]
    path = write_gtex(tmp_path / "pairs.txt", rows)
    with pytest.warns(UserWarning, match=r"dropped 1 duplicate \(source, target\) rows.*largest \|weight\|"):
        edges = load_gtex_eqtl(path)
    assert pairs(edges) == [
        ("chr1_13550_G_A_b38", "ENSG00000227232", -0.7),
        ("chr1_13550_G_A_b38", "ENSG00000278267", 0.1),
    ]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"max_pval": 0}, r"max_pval must be a number in \(0, 1\]"),
        ({"max_pval": "0.05"}, "max_pval must be a number"),
        ({"min_abs_slope": -1}, "min_abs_slope must be a number >= 0"),
        ({"variant_ids": "rsid"}, "variant_ids must be a mapping or 'chr_pos_ref_alt'"),
        ({"weight": "beta"}, r"lacks column\(s\) beta"),
        ({"weight": 3}, "weight must be a column name"),
        ({"max_pval": 1e-30}, "no eQTL pair in 5 rows passes max_pval=1e-30"),
        ({"variant_ids": {"a": ["b"]}, "weight": None, "max_pval": 1.0}, "0 of 5 source ids"),
    ],
)
def test_gtex_argument_errors(gtex_file, kwargs, pattern):
    with pytest.raises(InputError, match=pattern) as excinfo:
        load_gtex_eqtl(gtex_file, **kwargs)
    one_line_error(excinfo)


def test_gtex_file_errors(tmp_path):
    with pytest.raises(InputError, match="GTEx eQTL file not found") as excinfo:
        load_gtex_eqtl(tmp_path / "missing.txt.gz")
    one_line_error(excinfo)
    no_pval = write_text(tmp_path / "no_pval.txt", "variant_id\tgene_id\tslope\nchr1_1_A_G_b38\tENSG00000000001.1\t0.5\n")
    with pytest.raises(InputError, match=r"lacks column\(s\) pval_nominal \(found: variant_id, gene_id, slope\)") as excinfo:
        load_gtex_eqtl(no_pval, max_pval=0.05)
    one_line_error(excinfo)
    bad = write_gtex(tmp_path / "bad.txt", [("chr1_1_A_G_b38", "ENSG00000000001.1", 0, 1, 1, 0.1, "NA?", 0.5, 0.1)])
    with pytest.raises(InputError, match="'pval_nominal' has 1 non-numeric values \\(NA\\?\\)") as excinfo:
        load_gtex_eqtl(bad, max_pval=0.05)
    one_line_error(excinfo)
    odd = write_gtex(tmp_path / "odd.txt", [("rs123", "ENSG00000000001.1", 0, 1, 1, 0.1, 1e-5, 0.5, 0.1)])
    with pytest.raises(InputError, match=r"1 of 1 variant ids do not look like GTEx.*\(rs123\)") as excinfo:
        load_gtex_eqtl(odd, variant_ids="chr_pos_ref_alt")
    one_line_error(excinfo)
    empty = write_text(tmp_path / "empty.txt", "")
    with pytest.raises(InputError, match="is empty") as excinfo:
        load_gtex_eqtl(empty)
    one_line_error(excinfo)


def test_gtex_parquet_and_header_only(tmp_path):
    columns = GTEX_HEADER.strip().split("\t")
    path = tmp_path / "Whole_Blood.v10.eQTLs.signif_pairs.parquet"
    pd.DataFrame(GTEX_ROWS, columns=columns).to_parquet(path)
    assert load_gtex_eqtl(path, max_pval=1e-7)["weight"].tolist() == [-0.41, -0.95, 0.33]
    header_only = write_text(tmp_path / "header.txt", GTEX_HEADER)
    with pytest.raises(InputError, match="holds no variant-gene pairs") as excinfo:
        load_gtex_eqtl(header_only, max_pval=0.05)
    one_line_error(excinfo)


def test_translate_variant_ids_all_some_none(gtex_file):
    edges = load_gtex_eqtl(gtex_file, variant_ids="chr_pos_ref_alt")
    genotype = pd.DataFrame(0, index=["s1", "s2"], columns=edges["source"].tolist() + ["22_1_A_C"])
    assert translate_variant_ids(edges, genotype).equals(edges)

    some = ["1_13550_G_A", "1_17005_A_G", "7_7_G_C"]
    with pytest.warns(UserWarning, match=r"2 of 5 eQTL variants are in the genotype table; dropped 3 of 5 edges"):
        kept = translate_variant_ids(edges, some)
    assert kept["source"].tolist() == ["1_13550_G_A", "1_17005_A_G"]
    assert kept.index.tolist() == [0, 1]

    gtex_ids = load_gtex_eqtl(gtex_file)
    with pytest.raises(InputError, match=r"0 of 5 eQTL variants") as excinfo:
        translate_variant_ids(gtex_ids, some)
    message = one_line_error(excinfo)
    assert "chr1_13550_G_A_b38" in message and "1_13550_G_A" in message
    assert "variant_ids='chr_pos_ref_alt'" in message
    with pytest.raises(InputError, match="0 of 5 eQTL variants.*variant_ids=\\{gtex id: genotype id\\}") as excinfo:
        translate_variant_ids(gtex_ids, ["rs1", "rs2"])
    one_line_error(excinfo)
    with pytest.raises(InputError, match="must be a DataFrame with columns source,target") as excinfo:
        translate_variant_ids(pd.DataFrame({"variant": ["a"]}), ["a"])
    one_line_error(excinfo)
    with pytest.raises(InputError, match="genotype_ids must be a list") as excinfo:
        translate_variant_ids(edges, "1_13550_G_A")
    one_line_error(excinfo)


def test_gtex_edges_build_a_graph(gtex_file):
    edges = load_gtex_eqtl(gtex_file, variant_ids="chr_pos_ref_alt")
    graph = RegulatoryGraph.from_edge_tables([(edges, "snp", "gene", "eqtl")])
    assert graph.edge_index(("snp", "eqtl", "gene")).shape == (2, 5)
    assert graph.num_nodes("gene") == 3


# ----------------------------------------------------------------------------- generic edge lists
def test_edge_list_csv_and_tsv_gz(tmp_path):
    csv = write_text(tmp_path / "grn.csv", "source,target,score\nTP53,MDM2,0.5\nMYC,CDK4,-1.5\n")
    assert pairs(load_edge_list(csv)) == [("TP53", "MDM2"), ("MYC", "CDK4")]
    assert pairs(load_edge_list(csv, weight_column="score")) == [("TP53", "MDM2", 0.5), ("MYC", "CDK4", -1.5)]
    tsv = write_text(tmp_path / "grn.tsv.gz", "regulator\tgene\tw\nTP53\tMDM2\t2\n")
    edges = load_edge_list(tsv, source_column="regulator", target_column="gene", weight_column="w")
    assert pairs(edges) == [("TP53", "MDM2", 2.0)]
    odd = write_text(tmp_path / "grn.edges", "source;target\nA;B\n")
    assert pairs(load_edge_list(odd, sep=";")) == [("A", "B")]


def test_edge_list_ids_stay_strings_and_blank_rows_are_dropped(tmp_path):
    path = write_text(tmp_path / "grn.csv", "source,target,weight\n0001,7157, 1.0\n TP53 ,,2.0\nMYC,CDK4,\n")
    with pytest.warns(UserWarning, match="dropped 2 of 3 edges with a missing id or weight"):
        edges = load_edge_list(path, weight_column="weight")
    assert pairs(edges) == [("0001", "7157", 1.0)]


def test_edge_list_duplicates_without_weight_keep_first(tmp_path):
    path = write_text(tmp_path / "grn.csv", "source,target\nA,B\nA,C\nA,B\nA,B\n")
    with pytest.warns(UserWarning, match=r"dropped 2 duplicate \(source, target\) rows \(A->B\); kept the first"):
        edges = load_edge_list(path)
    assert pairs(edges) == [("A", "B"), ("A", "C")]


def test_edge_list_errors(tmp_path):
    odd = write_text(tmp_path / "grn.edges", "source;target\nA;B\n")
    with pytest.raises(InputError, match=r"cannot infer the column separator of grn.edges.*pass sep") as excinfo:
        load_edge_list(odd)
    one_line_error(excinfo)
    csv = write_text(tmp_path / "grn.csv", "from,to,w\nA,B,x\n")
    with pytest.raises(InputError, match=r"lacks column\(s\) source, target \(found: from, to, w\)") as excinfo:
        load_edge_list(csv)
    one_line_error(excinfo)
    with pytest.raises(InputError, match="'w' has 1 non-numeric values") as excinfo:
        load_edge_list(csv, source_column="from", target_column="to", weight_column="w")
    one_line_error(excinfo)
    header_only = write_text(tmp_path / "header.csv", "source,target\n")
    with pytest.raises(InputError, match="holds no edges") as excinfo:
        load_edge_list(header_only)
    one_line_error(excinfo)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(InputError, match="is not a file") as excinfo:
        load_edge_list(folder)
    one_line_error(excinfo)
    broken = tmp_path / "broken.tsv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot read edge list file broken.tsv.gz as tab-separated") as excinfo:
        load_edge_list(broken)
    one_line_error(excinfo)


# ----------------------------------------------------------------------------- SCENIC
SCENIC = """TF\ttarget\timportance
SOX2\tGENE1\t12.5
PAX6\tGENE1\t30.1
OLIG2\tGENE1\t4.2
SOX2\tGENE2\t2.0
PAX6\tGENE2\t9.9
SOX2\tGENE3\t0.4
"""


@pytest.fixture
def scenic_file(tmp_path):
    return write_text(tmp_path / "adj.tsv", SCENIC)


def test_scenic_importance_is_the_weight(scenic_file):
    edges = load_scenic_adjacencies(scenic_file)
    assert list(edges.columns) == ["source", "target", "weight"]
    assert len(edges) == 6 and edges["weight"].iloc[1] == pytest.approx(30.1)


def test_scenic_top_k_and_min_importance(scenic_file):
    top1 = load_scenic_adjacencies(scenic_file, top_k=1)
    assert pairs(top1)[0:2] == [("PAX6", "GENE1", 30.1), ("PAX6", "GENE2", 9.9)]
    assert top1["target"].tolist() == ["GENE1", "GENE2", "GENE3"]
    top2 = load_scenic_adjacencies(scenic_file, top_k=2)
    assert top2.groupby("target").size().to_dict() == {"GENE1": 2, "GENE2": 2, "GENE3": 1}
    assert set(top2.loc[top2["target"] == "GENE1", "source"]) == {"SOX2", "PAX6"}
    strong = load_scenic_adjacencies(scenic_file, min_importance=5.0)
    assert strong["weight"].min() >= 5.0 and len(strong) == 3
    both = load_scenic_adjacencies(scenic_file, min_importance=5.0, top_k=1)
    assert pairs(both) == [("PAX6", "GENE1", 30.1), ("PAX6", "GENE2", 9.9)]


def test_scenic_csv_and_duplicates(tmp_path):
    path = write_text(tmp_path / "adjacencies.csv", "TF,target,importance\nSOX2,G1,1.0\nSOX2,G1,3.0\n")
    with pytest.warns(UserWarning, match=r"dropped 1 duplicate.*largest \|weight\|"):
        edges = load_scenic_adjacencies(path)
    assert pairs(edges) == [("SOX2", "G1", 3.0)]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"top_k": 0}, "top_k must be a positive integer"),
        ({"top_k": 1.5}, "top_k must be a positive integer"),
        ({"min_importance": "high"}, "min_importance must be a number"),
        ({"min_importance": 100.0}, "no SCENIC adjacencies edge in adj.tsv passes top_k=None, min_importance=100.0"),
    ],
)
def test_scenic_argument_errors(scenic_file, kwargs, pattern):
    with pytest.raises(InputError, match=pattern) as excinfo:
        load_scenic_adjacencies(scenic_file, **kwargs)
    one_line_error(excinfo)


def test_scenic_header_only_file(tmp_path):
    path = write_text(tmp_path / "adj.tsv", "TF\ttarget\timportance\n")
    with pytest.raises(InputError, match="SCENIC adjacencies file adj.tsv holds no edges") as excinfo:
        load_scenic_adjacencies(path, top_k=3)
    one_line_error(excinfo)


def test_scenic_missing_columns(tmp_path):
    path = write_text(tmp_path / "adj.tsv", "tf\ttarget\tweight\nA\tB\t1\n")
    with pytest.raises(InputError, match=r"lacks column\(s\) TF, importance \(found: tf, target, weight\)") as excinfo:
        load_scenic_adjacencies(path)
    one_line_error(excinfo)


# ----------------------------------------------------------------------------- TRRUST
TRRUST = """AATF\tBAX\tRepression\t22909821
AATF\tCDKN1A\tUnknown\t17157788
AATF\tKLK3\tUnknown\t23146908
ABL1\tBAX\tActivation\t11753601
ABL1\tBCL2\tRepression\t11753601;12345
ABL1\tCCND2\tActivation\t9093720;19109780
"""


@pytest.fixture
def trrust_file(tmp_path):
    return write_text(tmp_path / "trrust_rawdata.human.tsv", TRRUST)


def test_trrust_weights_from_modes(trrust_file):
    edges = load_trrust(trrust_file)
    assert pairs(edges) == [
        ("AATF", "BAX", -1.0),
        ("AATF", "CDKN1A", 0.0),
        ("AATF", "KLK3", 0.0),
        ("ABL1", "BAX", 1.0),
        ("ABL1", "BCL2", -1.0),
        ("ABL1", "CCND2", 1.0),
    ]


def test_trrust_modes_filter(trrust_file):
    assert load_trrust(trrust_file, modes=("Activation",))["target"].tolist() == ["BAX", "CCND2"]
    assert load_trrust(trrust_file, modes="repression")["source"].tolist() == ["AATF", "ABL1"]
    assert len(load_trrust(trrust_file, modes=["Activation", "Repression"])) == 4


def test_trrust_repeated_pairs(tmp_path):
    text = "STAT3\tMYC\tUnknown\t1\nSTAT3\tMYC\tActivation\t2\nTP53\tMDM2\tActivation\t3\nTP53\tMDM2\tRepression\t4\n"
    path = write_text(tmp_path / "trrust.tsv", text)
    with pytest.warns(UserWarning) as record:
        edges = load_trrust(path)
    messages = [str(w.message) for w in record]
    assert any("1 pairs are listed as both Activation and Repression (TP53->MDM2); gave them weight 0" in m for m in messages)
    assert any("dropped 2 duplicate (source, target) rows" in m for m in messages)
    assert pairs(edges) == [("STAT3", "MYC", 1.0), ("TP53", "MDM2", 0.0)]
    assert pairs(load_trrust(path, modes=("Activation",))) == [("STAT3", "MYC", 1.0), ("TP53", "MDM2", 1.0)]


def test_trrust_header_row_is_tolerated(tmp_path):
    path = write_text(tmp_path / "trrust.tsv", "TF\ttarget\tmode\tPMID\n" + TRRUST)
    assert len(load_trrust(path)) == 6


def test_trrust_errors(tmp_path, trrust_file):
    with pytest.raises(InputError, match=r"modes must name TRRUST modes.*got Up") as excinfo:
        load_trrust(trrust_file, modes=("Up",))
    one_line_error(excinfo)
    with pytest.raises(InputError, match=r"modes must name TRRUST modes") as excinfo:
        load_trrust(trrust_file, modes=())
    one_line_error(excinfo)
    bad_mode = write_text(tmp_path / "bad.tsv", "A\tB\tActivates\t1\n")
    with pytest.raises(InputError, match=r"1 rows with an unknown mode \(Activates\); expected Activation") as excinfo:
        load_trrust(bad_mode)
    one_line_error(excinfo)
    three = write_text(tmp_path / "three.tsv", "A\tB\tActivation\n")
    with pytest.raises(InputError, match="has 3 columns, expected 4 without a header") as excinfo:
        load_trrust(three)
    one_line_error(excinfo)
    empty = write_text(tmp_path / "empty.tsv", "")
    with pytest.raises(InputError, match="TRRUST file empty.tsv is empty") as excinfo:
        load_trrust(empty, modes=("Activation",))
    one_line_error(excinfo)
    only_unknown = write_text(tmp_path / "unknown.tsv", "A\tB\tUnknown\t1\n")
    with pytest.raises(InputError, match=r"no TRRUST edge in unknown.tsv passes modes=\('Activation',\)") as excinfo:
        load_trrust(only_unknown, modes=("Activation",))
    one_line_error(excinfo)


# ----------------------------------------------------------------------------- PsychENCODE
def test_psychencode_documented_column_names(tmp_path):
    csv = write_text(tmp_path / "INT-11_GRN.csv", "TF,Target_gene,Edge_weight\nTCF4,NRXN1,0.31\nMEF2C,GRIN2A,-0.12\n")
    assert pairs(load_psychencode_grn(csv)) == [("TCF4", "NRXN1", 0.31), ("MEF2C", "GRIN2A", -0.12)]
    tsv = write_text(tmp_path / "grn.txt", "tf\ttarget\tweight\tenhancer\nTCF4\tNRXN1\t1.5\tchr1:1-10\n")
    assert pairs(load_psychencode_grn(tsv)) == [("TCF4", "NRXN1", 1.5)]
    unweighted = write_text(tmp_path / "grn.tsv", "TF\tTarget_gene\nTCF4\tNRXN1\n")
    assert pairs(load_psychencode_grn(unweighted)) == [("TCF4", "NRXN1")]


def test_psychencode_unknown_columns(tmp_path):
    path = write_text(tmp_path / "grn.csv", "regulator,gene,score\nA,B,1\n")
    with pytest.raises(InputError, match=r"needs columns TF and Target_gene.*found: regulator, gene, score") as excinfo:
        load_psychencode_grn(path)
    one_line_error(excinfo)


# ----------------------------------------------------------------------------- GraphML
def regulatory_graph() -> RegulatoryGraph:
    eqtl = pd.DataFrame({"source": ["rs1", "rs2", "rs2"], "target": ["MYC", "MYC", "BAX"], "weight": [0.5, -1.25, 0.1]})
    grn = pd.DataFrame({"source": ["MYC", "TP53"], "target": ["BAX", "MYC"]})
    return RegulatoryGraph.from_edge_tables(
        [(eqtl, "snp", "gene", "eqtl"), (grn, "tf", "gene", "regulates")],
        node_names={"gene": ["BAX", "MYC", "LONELY"]},
    )


@pytest.mark.parametrize("name", ["graph.graphml", "graph.graphml.gz"])
def test_graphml_round_trip(tmp_path, name):
    graph = regulatory_graph()
    path = write_graphml(graph, tmp_path / name)
    assert path == tmp_path / name
    back = load_graphml(path)
    assert isinstance(back, RegulatoryGraph)
    assert back.node_names == graph.node_names  # "MYC" is both a tf and a gene node
    assert back.edge_types == graph.edge_types
    for edge_type in graph.edge_types:
        pd.testing.assert_frame_equal(back.edge_frame(edge_type), graph.edge_frame(edge_type))
    assert back.edge_weight(("tf", "regulates", "gene")) is None


def test_graphml_keys_are_type_name_strings(tmp_path):
    path = write_graphml(regulatory_graph(), tmp_path / "graph.graphml")
    text = path.read_text()
    assert 'node id="tf:MYC"' in text and 'node id="gene:MYC"' in text


GRAPHML = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="t" for="node" attr.name="{type_key}" attr.type="string"/>
  <key id="w" for="edge" attr.name="weight" attr.type="double"/>
  <graph edgedefault="{direction}">
    <node id="SOX2"><data key="t">tf</data></node>
    <node id="PAX6"><data key="t">tf</data></node>
    <node id="NES">{nes_type}</node>
    <edge source="SOX2" target="NES"><data key="w">0.8</data></edge>
    <edge source="PAX6" target="NES">{pax6_weight}</edge>
  </graph>
</graphml>
"""


def graphml_text(type_key="node_type", direction="directed", nes_type='<data key="t">gene</data>', pax6_weight='<data key="w">-0.3</data>'):
    return GRAPHML.format(type_key=type_key, direction=direction, nes_type=nes_type, pax6_weight=pax6_weight)


def test_graphml_from_another_tool(tmp_path):
    path = write_text(tmp_path / "cytoscape.graphml", graphml_text())
    graph = load_graphml(path)
    assert graph.node_names == {"tf": ["SOX2", "PAX6"], "gene": ["NES"]}
    assert pairs(graph.edge_frame(("tf", "regulates", "gene"))) == [("SOX2", "NES", pytest.approx(0.8)), ("PAX6", "NES", pytest.approx(-0.3))]
    other_key = write_text(tmp_path / "kind.graphml", graphml_text(type_key="kind"))
    assert load_graphml(other_key, node_type_key="kind").node_types == ["tf", "gene"]


def test_graphml_parallel_edges_keep_largest_weight(tmp_path):
    text = graphml_text().replace(
        "</graph>", '<edge source="SOX2" target="NES"><data key="w">-2.0</data></edge></graph>'
    )
    path = write_text(tmp_path / "multi.graphml", text)
    with pytest.warns(UserWarning, match="dropped 1 parallel edges"):
        graph = load_graphml(path)
    assert graph.edge_frame(("tf", "regulates", "gene"))["weight"].tolist() == pytest.approx([-2.0, -0.3])


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (graphml_text(nes_type=""), r"1 of 3 nodes have no 'node_type' attribute \(NES; node attributes found: node_type\)"),
        (graphml_text(type_key="kind"), r"3 of 3 nodes have no 'node_type' attribute.*found: kind\).*pass node_type_key"),
        (graphml_text(direction="undirected"), 'is undirected; regulatory graphs need edgedefault="directed"'),
        (graphml_text(pax6_weight=""), r"relation tf->gene \(regulates\) has weights on 1 of 2 edges"),
        ("<graphml><graph", "cannot read GraphML file g.graphml"),
    ],
)
def test_graphml_errors(tmp_path, text, pattern):
    path = write_text(tmp_path / "g.graphml", text)
    with pytest.raises(InputError, match=pattern) as excinfo:
        load_graphml(path)
    one_line_error(excinfo)


def test_graphml_io_errors(tmp_path):
    with pytest.raises(InputError, match="GraphML file not found") as excinfo:
        load_graphml(tmp_path / "none.graphml")
    one_line_error(excinfo)
    with pytest.raises(InputError, match="needs a RegulatoryGraph, got DiGraph") as excinfo:
        write_graphml(regulatory_graph().to_networkx(), tmp_path / "g.graphml")
    one_line_error(excinfo)
    with pytest.raises(InputError, match="does not exist; create it") as excinfo:
        write_graphml(regulatory_graph(), tmp_path / "no" / "g.graphml")
    one_line_error(excinfo)


# ----------------------------------------------------------------------------- id harmonisation
def test_strip_ensembl_version_keeps_container_kind():
    assert strip_ensembl_version("ENSG00000227232.5") == "ENSG00000227232"
    assert strip_ensembl_version(["ENST00000456328.2", "RP11-34P13.3", "TP53"]) == ["ENST00000456328", "RP11-34P13.3", "TP53"]
    series = strip_ensembl_version(pd.Series(["ENSMUSG00000051951.6", None]))
    assert series.iloc[0] == "ENSMUSG00000051951" and pd.isna(series.iloc[1])
    index = strip_ensembl_version(pd.Index(["ENSG00000182378.14_PAR_Y"]))
    assert isinstance(index, pd.Index) and index[0] == "ENSG00000182378_PAR_Y"


EDGES = pd.DataFrame(
    {"source": ["rs1", "rs2", "rs3", "rs4"], "target": ["ENSG01", "ENSG02", "ENSG03", "ENSG04"], "weight": [0.1, -0.9, 0.4, 0.2]}
)


def test_harmonise_ids_with_a_table(tmp_path):
    path = write_text(tmp_path / "biomart.txt", "Gene stable ID\tGene name\tOther\nENSG01\tTP53\tx\nENSG02\tMYC\ty\nENSG03\t\tz\nENSG01\tTP53\tx\n")
    mapping = load_id_mapping(path, "Gene stable ID", "Gene name")
    assert list(mapping.columns) == ["Gene stable ID", "Gene name"]
    assert pairs(mapping) == [("ENSG01", "TP53"), ("ENSG02", "MYC")]
    with pytest.warns(UserWarning, match=r"2 of 4 target ids are not in the id mapping \(ENSG03, ENSG04\); dropped 2 edges"):
        edges = harmonise_ids(EDGES, mapping)
    assert pairs(edges) == [("rs1", "TP53", 0.1), ("rs2", "MYC", -0.9)]
    kept = harmonise_ids(EDGES, mapping, keep_unmapped=True)
    assert kept["target"].tolist() == ["TP53", "MYC", "ENSG03", "ENSG04"]


def test_harmonise_ids_one_to_many_and_many_to_one():
    mapping = {"ENSG01": ["TP53", "P53"], "ENSG02": "MYC", "ENSG03": "MYC", "ENSG04": "BAX"}
    with pytest.warns(UserWarning, match=r"dropped 1 duplicate \(source, target\) rows"):
        edges = harmonise_ids(EDGES.assign(source="rsX"), mapping)
    assert pairs(edges) == [("rsX", "TP53", 0.1), ("rsX", "P53", 0.1), ("rsX", "MYC", -0.9), ("rsX", "BAX", 0.2)]
    by_source = harmonise_ids(EDGES, pd.Series({"rs1": "1_100_A_G", "rs2": "1_200_C_T", "rs3": "x", "rs4": "y"}), column="source")
    assert by_source["source"].tolist() == ["1_100_A_G", "1_200_C_T", "x", "y"]


def test_harmonise_ids_errors(tmp_path):
    versioned = EDGES.assign(target=["ENSG00000000001.3", "ENSG00000000002.1", "ENSG00000000003.9", "ENSG00000000004.2"])
    mapping = pd.DataFrame({"ensembl_id": ["ENSG00000000001", "ENSG00000000002"], "symbol": ["A", "B"]})
    with pytest.raises(InputError, match=r"0 of 4 target ids are in the id mapping.*apply strip_ensembl_version") as excinfo:
        harmonise_ids(versioned, mapping)
    one_line_error(excinfo)
    with pytest.raises(InputError, match="0 of 4 target ids.*same id type") as excinfo:
        harmonise_ids(EDGES, {"TP53": "x"}, keep_unmapped=True)
    one_line_error(excinfo)
    with pytest.raises(InputError, match="needs exactly two columns") as excinfo:
        harmonise_ids(EDGES, mapping.assign(extra=1))
    one_line_error(excinfo)
    with pytest.raises(InputError, match="must be a two-column DataFrame, a Series or a dict") as excinfo:
        harmonise_ids(EDGES, [("ENSG01", "A")])
    one_line_error(excinfo)
    with pytest.raises(InputError, match="column 'weight' must be numeric") as excinfo:
        harmonise_ids(EDGES.assign(weight="high"), {"ENSG01": "A"})
    one_line_error(excinfo)
    with pytest.raises(InputError, match="column must be 'source' or 'target'") as excinfo:
        harmonise_ids(EDGES, {"ENSG01": "A"}, column="weight")
    one_line_error(excinfo)
    path = write_text(tmp_path / "map.csv", "ensembl,symbol\nENSG01,\n")
    with pytest.raises(InputError, match=r"lacks column\(s\) hgnc \(found: ensembl, symbol\)") as excinfo:
        load_id_mapping(path, "ensembl", "hgnc")
    one_line_error(excinfo)
    with pytest.raises(InputError, match="no row with both ensembl and symbol") as excinfo:
        load_id_mapping(path, "ensembl", "symbol")
    one_line_error(excinfo)
    with pytest.raises(InputError, match="name two different columns") as excinfo:
        load_id_mapping(path, "ensembl", "ensembl")
    one_line_error(excinfo)
