"""deepgami.scverse: fit, predict and explain from MuData/AnnData, and results written back."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sparse

from deepgami import DeepGAMIClassifier, InputError, RegulatoryGraph
from deepgami.explain import Explainer
from deepgami.scverse import annotate, annotate_attributions, as_multiomics

SAMPLES = [f"s{i:02d}" for i in range(24)]
GENES = [f"g{i}" for i in range(6)]
PROTEINS = [f"p{i}" for i in range(4)]
SETTINGS = dict(n_members=2, null_members=0, max_epochs=3, latent_dim=4)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """Modality rna over all 24 samples, prot over the first 18; class 'b' shifts g0 and p0."""
    rng = np.random.default_rng(0)
    rna = pd.DataFrame(rng.normal(size=(24, 6)).astype(np.float32), index=SAMPLES, columns=GENES)
    prot = pd.DataFrame(rng.normal(size=(18, 4)).astype(np.float32), index=SAMPLES[:18], columns=PROTEINS)
    rna.iloc[1::2, 0] += 2
    prot.iloc[1::2, 0] += 2
    return {"rna": rna, "prot": prot}


@pytest.fixture(scope="module")
def labels() -> pd.Series:
    return pd.Series(["a", "b"] * 12, index=SAMPLES, name="subtype")


def _mudata(tables, labels):
    """The tables as a MuData (rna sparse), labels as a categorical global obs column."""
    rna = ad.AnnData(X=sparse.csr_matrix(tables["rna"].to_numpy()), obs=pd.DataFrame(index=tables["rna"].index), var=pd.DataFrame(index=GENES))
    prot = ad.AnnData(X=tables["prot"].to_numpy(), obs=pd.DataFrame(index=tables["prot"].index), var=pd.DataFrame(index=PROTEINS))
    with md.set_options(pull_on_update=False):
        mdata = md.MuData({"rna": rna, "prot": prot})
    mdata.obs["subtype"] = pd.Categorical(labels.reindex(mdata.obs_names))
    return mdata


@pytest.fixture
def mdata(tables, labels):
    return _mudata(tables, labels)


@pytest.fixture(scope="module")
def graph() -> RegulatoryGraph:
    """Every rna gene -> one of 3 gene nodes; prot is fully connected."""
    edges = pd.DataFrame({"source": GENES, "target": ["G0", "G0", "G1", "G1", "G2", "G2"]})
    return RegulatoryGraph.from_edge_tables([(edges, "rna", "gene", "eqtl")])


@pytest.fixture(scope="module")
def model(tables, labels, graph) -> DeepGAMIClassifier:
    return DeepGAMIClassifier(graph, **SETTINGS).fit(_mudata(tables, labels), "subtype")


def test_fit_on_a_mudata_with_an_obs_column_equals_fit_on_the_tables(model, tables, labels, graph, mdata):
    from_tables = DeepGAMIClassifier(graph, **SETTINGS).fit(tables, labels)
    assert model.modalities_ == ["rna", "prot"] and list(model.classes_) == ["a", "b"]
    expected = from_tables.predict_proba(tables)
    np.testing.assert_array_equal(model.predict_proba(tables), expected)
    # a MuData predicts like its tables: all 24 samples, the 6 without prot from rna alone
    np.testing.assert_array_equal(model.predict_proba(mdata), expected)
    assert list(model.predict_table(mdata)["sample"]) == SAMPLES
    # labels as a Series work with a MuData too
    np.testing.assert_array_equal(DeepGAMIClassifier(graph, **SETTINGS).fit(mdata, labels).predict_proba(tables), expected)
    # and score reads the same obs column
    assert model.score(mdata, "subtype") == model.score(tables, labels)


def test_predict_transform_and_explain_from_a_mudata_missing_a_modality_for_some_samples(model, tables, mdata):
    only_prot = model.predict_table(mdata, use_modalities=("prot",))
    assert list(only_prot["sample"]) == SAMPLES[:18]
    np.testing.assert_array_equal(only_prot.iloc[:, 2:].to_numpy(), model.predict_proba({"prot": tables["prot"]}, use_modalities=("prot",)))
    pd.testing.assert_frame_equal(model.transform(mdata), model.transform(tables))
    features = Explainer(model, mdata, n_steps=4).features().table
    assert set(features["modality"]) == {"rna", "prot"}
    # modalities the model does not read are skipped, not refused
    extra = ad.AnnData(X=np.ones((3, 2), dtype=np.float32), obs=pd.DataFrame(index=SAMPLES[:3]), var=pd.DataFrame(index=["c1", "c2"]))
    with md.set_options(pull_on_update=False):
        wider = md.MuData({**mdata.mod, "atac": extra})
    np.testing.assert_array_equal(model.predict_proba(wider), model.predict_proba(mdata))


def test_an_anndata_is_one_modality(model, tables, labels):
    adata = ad.AnnData(X=tables["rna"].to_numpy(), obs=pd.DataFrame({"subtype": labels.to_numpy()}, index=SAMPLES), var=pd.DataFrame(index=GENES))
    one = DeepGAMIClassifier(**SETTINGS).fit(adata, "subtype")
    assert one.modalities_ == ["X"]
    np.testing.assert_array_equal(one.predict_proba(adata), one.predict_proba({"X": tables["rna"]}))
    # predicting, an AnnData is the model's one modality, or the one named in use_modalities
    np.testing.assert_array_equal(model.predict_proba(adata, use_modalities=("rna",)), model.predict_proba(tables, use_modalities=("rna",)))
    with pytest.raises(InputError, match=r"an AnnData holds one modality but the model reads \['rna', 'prot'\]; name it with use_modalities"):
        model.predict(adata)
    data = as_multiomics(adata, "subtype", layers=None, modality="rna")
    assert data.modality_names == ["rna"] and data.labels.equals(labels.rename("subtype"))


def test_labels_missing_for_a_sample_are_left_out_with_a_warning(tables, labels, mdata):
    mdata.obs["subtype"] = mdata.obs["subtype"].astype(object)
    mdata.obs.loc["s05", "subtype"] = np.nan
    with pytest.warns(UserWarning, match=r"dropped 1: 1 without a label \(e.g. s05\)"):
        data = as_multiomics(mdata, "subtype")
    assert len(data) == 23 and "s05" not in data.samples


def test_a_bad_obs_column_or_modality_is_one_clear_error(tables, labels, mdata):
    with pytest.raises(InputError, match=r"^the MuData has no obs column 'stage' \(global obs columns: subtype\)$"):
        DeepGAMIClassifier(**SETTINGS).fit(mdata, "stage")
    adata = mdata.mod["rna"]
    with pytest.raises(InputError, match=r"^the AnnData has no obs column 'stage' \(obs columns: none\)$"):
        DeepGAMIClassifier(**SETTINGS).fit(adata, "stage")
    with pytest.raises(InputError, match="y='stage' names an obs column, which needs X to be a MuData or AnnData"):
        DeepGAMIClassifier(**SETTINGS).fit(tables, "stage")
    with pytest.raises(InputError, match=r"the MuData has no modality atac \(modalities: rna, prot\)"):
        as_multiomics(mdata, modalities=["atac"])
    with pytest.raises(InputError, match="pass layers as one layer name"):
        as_multiomics(adata, layers={"rna": "counts"})


def test_annotate_writes_every_documented_slot(model, mdata, tmp_path):
    assert annotate(mdata, model, key_added="dg", use_modalities=("prot",)) is None
    obs = mdata.obs
    assert isinstance(obs["dg_predicted"].dtype, pd.CategoricalDtype)
    assert list(obs["dg_predicted"].cat.categories) == ["a", "b"]
    table = model.predict_table(mdata, use_modalities=("prot",)).set_index("sample")
    predicted = obs.loc[SAMPLES[:18]]
    assert list(predicted["dg_predicted"].astype(str)) == list(table["predicted"])
    np.testing.assert_array_equal(predicted[["dg_p_a", "dg_p_b"]].to_numpy(), table[["p_a", "p_b"]].to_numpy())
    # samples without prot were not predicted from it
    assert obs.loc[SAMPLES[18:], ["dg_predicted", "dg_p_a", "dg_p_b"]].isna().all().all()
    latents = mdata.obsm["dg_latents"]
    assert latents.shape == (24, 2 * 3) and list(latents.index) == SAMPLES
    assert list(latents.columns) == [f"{m}:G{i}" for m in ("rna", "prot") for i in range(3)]
    pd.testing.assert_frame_equal(latents.loc[SAMPLES[:18]], model.transform(mdata, use_modalities=("prot",)))
    assert mdata.uns["dg"] == {"task": "classification", "outputs": ["a", "b"], "classes": ["a", "b"], "modalities": ["prot"]}

    explainer = Explainer(model, mdata, n_steps=4)
    features, edges = explainer.features().table, explainer.edges().table
    assert annotate_attributions(mdata, features, edges, key_added="dg") is None
    for m, names in (("rna", GENES), ("prot", PROTEINS)):
        varm = mdata.mod[m].varm["dg_attribution"]
        assert varm.shape == (len(names), 2) and list(varm.index) == names and list(varm.columns) == ["a", "b"]
        expected = features[(features["modality"] == m) & (features["class"] == "b")].set_index("feature")["abs_score"]
        np.testing.assert_array_equal(varm["b"].to_numpy(), expected.reindex(names).to_numpy())
    pd.testing.assert_frame_equal(mdata.uns["dg_edges"], edges)

    with md.set_options(pull_on_update=False):  # every slot can be written to .h5mu
        mdata.write(tmp_path / "annotated.h5mu")
        back = md.read_h5mu(tmp_path / "annotated.h5mu")
    np.testing.assert_array_equal(np.asarray(back.obsm["dg_latents"]), latents.to_numpy())
    np.testing.assert_array_equal(np.asarray(back.mod["rna"].varm["dg_attribution"]), mdata.mod["rna"].varm["dg_attribution"].to_numpy())


def test_annotate_an_anndata_and_features_it_lacks_are_nan(tables, labels):
    obs, var = pd.DataFrame({"subtype": labels.to_numpy()}, index=SAMPLES), pd.DataFrame(index=[*GENES, "g_extra"])
    adata = ad.AnnData(X=tables["rna"].assign(g_extra=1.0).to_numpy(), obs=obs, var=var)
    one = DeepGAMIClassifier(**SETTINGS).fit({"X": tables["rna"]}, labels)
    annotate(adata, one)
    pd.testing.assert_frame_equal(adata.obsm["deepgami_latents"], one.transform({"X": tables["rna"]}))
    annotate_attributions(adata, Explainer(one, adata, n_steps=4).features().table)
    varm = adata.varm["deepgami_attribution"]
    assert varm.shape == (7, 2) and varm.loc["g_extra"].isna().all() and varm.loc[GENES].notna().all().all()


def test_copy_leaves_the_input_untouched(model, mdata):
    before = (list(mdata.obs.columns), list(mdata.obsm.keys()), list(mdata.uns.keys()))
    annotated = annotate(mdata, model, copy=True)
    assert (list(mdata.obs.columns), list(mdata.obsm.keys()), list(mdata.uns.keys())) == before
    assert {"deepgami_predicted", "deepgami_p_a", "deepgami_p_b"} <= set(annotated.obs.columns)
    assert "deepgami_latents" in annotated.obsm and "deepgami" in annotated.uns
    features = Explainer(model, mdata, n_steps=4).features().table
    copied = annotate_attributions(mdata, features, copy=True)
    assert "deepgami_attribution" not in mdata.mod["rna"].varm and "deepgami_attribution" in copied.mod["rna"].varm
