"""deepgami.adapters.matrices: CSV/TSV/Parquet matrices, AnnData and MuData to canonical tables."""

from __future__ import annotations

import gzip
import importlib.util

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sparse

from deepgami.adapters.matrices import load_anndata, load_matrix, load_mudata, load_mudata_labels
from deepgami.data import MultiOmicsData
from deepgami.errors import InputError

SAMPLES = ["001", "s2", "s3"]
FEATURES = ["TP53", "BRCA1", "ESR1", "MYC"]


@pytest.fixture
def table() -> pd.DataFrame:
    """A 3 samples x 4 features table with a leading-zero id and one missing value."""
    values = np.arange(12, dtype=float).reshape(3, 4) / 4
    values[1, 2] = np.nan
    return pd.DataFrame(values, index=pd.Index(SAMPLES, name="sample"), columns=FEATURES)


def _write(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "csv":
        frame.to_csv(path)
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t")
    elif fmt == "tsv.gz":
        with gzip.open(path, "wt") as handle:
            frame.to_csv(handle, sep="\t")


# --------------------------------------------------------------------------- load_matrix


@pytest.mark.parametrize("fmt", ["csv", "tsv", "tsv.gz", "parquet"])
@pytest.mark.parametrize("orientation", ["samples_by_features", "features_by_samples"])
def test_load_matrix_formats_and_orientations(tmp_path, table, fmt, orientation):
    on_disk = table if orientation == "samples_by_features" else table.T.rename_axis("gene")
    path = tmp_path / f"m.{fmt}"
    _write(on_disk, path, fmt)
    frame = load_matrix(path, orientation=orientation)
    assert list(frame.index) == SAMPLES  # "001" keeps its leading zero
    assert list(frame.columns) == FEATURES
    assert all(isinstance(i, str) for i in frame.index)
    assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns)
    np.testing.assert_allclose(frame.to_numpy(), table.to_numpy())


def test_load_matrix_parquet_with_plain_index_uses_first_column(tmp_path, table):
    path = tmp_path / "m.parquet"
    table.reset_index().to_parquet(path, index=False)
    frame = load_matrix(path, orientation="samples_by_features")
    assert list(frame.index) == SAMPLES and list(frame.columns) == FEATURES


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_load_matrix_id_column_by_name(tmp_path, table, fmt):
    on_disk = table.reset_index()[[*FEATURES[:2], "sample", *FEATURES[2:]]]
    path = tmp_path / f"m.{fmt}"
    if fmt == "parquet":
        on_disk.to_parquet(path, index=False)
    else:
        on_disk.to_csv(path, index=False)
    frame = load_matrix(path, orientation="samples_by_features", id_column="sample")
    assert list(frame.index) == SAMPLES and list(frame.columns) == FEATURES
    with pytest.raises(InputError, match="no column 'id'"):
        load_matrix(path, orientation="samples_by_features", id_column="id")


def test_load_matrix_explicit_separator(tmp_path, table):
    path = tmp_path / "m.dat"
    table.to_csv(path, sep=";")
    with pytest.raises(InputError, match="pass sep="):
        load_matrix(path, orientation="samples_by_features")
    frame = load_matrix(path, orientation="samples_by_features", sep=";")
    assert frame.shape == (3, 4)


@pytest.mark.parametrize("orientation", [None, "rows_are_samples", "auto"])
def test_load_matrix_orientation_is_required(tmp_path, table, orientation):
    path = tmp_path / "m.csv"
    table.to_csv(path)
    with pytest.raises(InputError, match="needs orientation='samples_by_features'") as info:
        load_matrix(path, orientation=orientation)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="needs orientation"):
        load_matrix(path)


@pytest.mark.parametrize("orientation", ["samples_by_features", "features_by_samples"])
def test_load_matrix_duplicate_row_ids(tmp_path, orientation):
    path = tmp_path / "m.csv"
    path.write_text("id,a,b\nx,1,2\ny,3,4\nx,5,6\n")
    axis = "sample" if orientation == "samples_by_features" else "feature"
    with pytest.raises(InputError, match=f"1 duplicate {axis} id\\(s\\) \\(x\\)") as info:
        load_matrix(path, orientation=orientation)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("orientation", ["samples_by_features", "features_by_samples"])
def test_load_matrix_duplicate_header_ids_are_not_renamed(tmp_path, orientation):
    # pandas would silently rename the second 'a' to 'a.1'
    path = tmp_path / "m.tsv"
    path.write_text("id\ta\tb\ta\nx\t1\t2\t3\n")
    axis = "feature" if orientation == "samples_by_features" else "sample"
    with pytest.raises(InputError, match=f"duplicate {axis} id\\(s\\) \\(a\\)"):
        load_matrix(path, orientation=orientation)


def test_load_matrix_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_matrix(tmp_path / "missing.csv", orientation="samples_by_features")
    path = tmp_path / "m.csv"
    path.write_text("id,a,b\nx,1,oops\ny,3,4\n")
    with pytest.raises(InputError, match="column 'b' holds non-numeric values \\(row x: 'oops'\\)"):
        load_matrix(path, orientation="samples_by_features")
    path.write_text("id,a\n,1\ny,3\n")
    with pytest.raises(InputError, match="1 sample id\\(s\\) are empty"):
        load_matrix(path, orientation="samples_by_features")
    path.write_text("id,a,b\n")
    with pytest.raises(InputError, match="header but no rows"):
        load_matrix(path, orientation="samples_by_features")
    path.write_text("id,a\nx,1\n")
    with pytest.raises(InputError, match="applies to Excel workbooks only"):
        load_matrix(path, orientation="samples_by_features", sheet="Sheet1")


@pytest.mark.skipif(importlib.util.find_spec("openpyxl") is not None, reason="openpyxl is installed")
def test_load_matrix_excel_needs_openpyxl(tmp_path):
    path = tmp_path / "m.xlsx"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="pip install openpyxl"):
        load_matrix(path, orientation="samples_by_features")


# --------------------------------------------------------------------------- AnnData


def _adata(obs_names, var_names, *, sparse_x=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.poisson(2.0, size=(len(obs_names), len(var_names))).astype(np.float32)
    adata = ad.AnnData(
        X=sparse.csr_matrix(x) if sparse_x else x,
        obs=pd.DataFrame({"group": [f"g{i % 2}" for i in range(len(obs_names))]}, index=pd.Index(obs_names)),
        var=pd.DataFrame({"symbol": [f"SYM{v}" for v in var_names]}, index=pd.Index(var_names)),
        layers={"log1p": np.log1p(x)},
    )
    return adata, x


@pytest.mark.parametrize("sparse_x", [False, True])
def test_load_anndata_dense_and_sparse(tmp_path, sparse_x):
    adata, x = _adata(["c1", "c2", "c3"], ["g1", "g2"], sparse_x=sparse_x)
    frame = load_anndata(adata)
    assert list(frame.index) == ["c1", "c2", "c3"] and list(frame.columns) == ["g1", "g2"]
    np.testing.assert_array_equal(frame.to_numpy(), x)
    assert frame.dtypes.iloc[0] == np.float32
    frame.iloc[0, 0] = -1.0  # the table owns its memory
    assert adata.X[0, 0] != -1.0
    path = tmp_path / "a.h5ad"
    adata.write_h5ad(path)
    np.testing.assert_array_equal(load_anndata(path).to_numpy(), x)


def test_load_anndata_layer_raw_and_var_names_column():
    adata, x = _adata(["c1", "c2"], ["g1", "g2", "g3"])
    adata.raw = adata
    np.testing.assert_allclose(load_anndata(adata, layer="log1p").to_numpy(), np.log1p(x))
    assert list(load_anndata(adata, var_names_column="symbol").columns) == ["SYMg1", "SYMg2", "SYMg3"]
    np.testing.assert_array_equal(load_anndata(adata, use_raw=True).to_numpy(), x)
    with pytest.raises(InputError, match="no layer 'counts' \\(layers: log1p\\)"):
        load_anndata(adata, layer="counts")
    with pytest.raises(InputError, match="either layer= or use_raw=True"):
        load_anndata(adata, layer="log1p", use_raw=True)
    with pytest.raises(InputError, match="no column 'gene'"):
        load_anndata(adata, var_names_column="gene")


def test_load_anndata_errors(tmp_path):
    adata, _ = _adata(["c1", "c2"], ["g1", "g2"])
    with pytest.raises(InputError, match="has no .raw"):
        load_anndata(adata, use_raw=True)
    adata.var["symbol"] = ["A", "A"]
    with pytest.raises(InputError, match="duplicate feature id\\(s\\) \\(A\\)"):
        load_anndata(adata, var_names_column="symbol")
    with pytest.raises(InputError, match="does not exist"):
        load_anndata(tmp_path / "none.h5ad")
    with pytest.raises(InputError, match="AnnData object or a path"):
        load_anndata(np.zeros((2, 2)))


# --------------------------------------------------------------------------- MuData


@pytest.fixture
def mdata():
    """Two modalities over different samples (s1-s3 and s2-s4), a global label and a mod label."""
    rna, _ = _adata(["s1", "s2", "s3"], ["g1", "g2"], seed=1)
    mir, _ = _adata(["s2", "s3", "s4"], ["m1", "m2", "m3"], sparse_x=True, seed=2)
    with md.set_options(pull_on_update=False):
        mdata = md.MuData({"rna": rna, "mir": mir})
    mdata.obs["label"] = pd.Series(["a", "b", "a", "b"], index=["s1", "s2", "s3", "s4"])
    return mdata


def test_load_mudata_modalities_keep_their_samples(tmp_path, mdata):
    tables = load_mudata(mdata)
    assert list(tables) == ["rna", "mir"]
    assert list(tables["rna"].index) == ["s1", "s2", "s3"] and list(tables["rna"].columns) == ["g1", "g2"]
    assert list(tables["mir"].index) == ["s2", "s3", "s4"] and list(tables["mir"].columns) == ["m1", "m2", "m3"]
    np.testing.assert_array_equal(tables["mir"].to_numpy(), mdata.mod["mir"].X.toarray())
    path = tmp_path / "m.h5mu"
    with md.set_options(pull_on_update=False):
        mdata.write(path)
    from_file = load_mudata(path)
    pd.testing.assert_frame_equal(from_file["rna"], tables["rna"])
    labels = load_mudata_labels(path, "label")
    data = MultiOmicsData(from_file, labels, join="outer")
    assert list(data.samples) == ["s1", "s2", "s3", "s4"]
    assert data.observed["mir"].tolist() == [False, True, True, True]


def test_load_mudata_layers(mdata):
    tables = load_mudata(mdata, layers="log1p")
    np.testing.assert_allclose(tables["rna"].to_numpy(), mdata.mod["rna"].layers["log1p"])
    tables = load_mudata(mdata, layers={"mir": "log1p"})
    np.testing.assert_array_equal(tables["rna"].to_numpy(), mdata.mod["rna"].X)
    np.testing.assert_allclose(tables["mir"].to_numpy(), mdata.mod["mir"].layers["log1p"])
    with pytest.raises(InputError, match="modality 'rna': .*no layer 'counts'"):
        load_mudata(mdata, layers="counts")
    with pytest.raises(InputError, match="lacks \\(atac"):
        load_mudata(mdata, layers={"atac": "counts"})


def test_load_mudata_labels_global_and_prefixed(mdata):
    labels = load_mudata_labels(mdata, "label")
    assert labels.to_dict() == {"s1": "a", "s2": "b", "s3": "a", "s4": "b"}
    assert labels.name == "label"
    # 'mod:col' read from the modality when not pulled into the global obs ...
    group = load_mudata_labels(mdata, "rna:group")
    assert group.to_dict() == {"s1": "g0", "s2": "g1", "s3": "g0"}
    # ... and from the global obs once pulled, where samples outside the modality have no value
    mdata.pull_obs(columns=["group"], mods=["rna"])
    with pytest.warns(UserWarning, match="dropped 1 samples with no value in 'rna:group' \\(e.g. s4\\)"):
        pulled = load_mudata_labels(mdata, "rna:group")
    assert pulled.to_dict() == group.to_dict()
    with pytest.raises(InputError, match="pass 'rna:group'"):
        load_mudata_labels(mdata, "group")
    with pytest.raises(InputError, match="no obs column 'stage'"):
        load_mudata_labels(mdata, "stage")
