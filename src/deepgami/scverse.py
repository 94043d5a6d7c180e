"""scverse in and out: AnnData and MuData as modality tables, and results written back into them.

In: :func:`load_anndata`, :func:`load_mudata` and :func:`load_mudata_labels` read one matrix,
every modality or one ``obs`` column as canonical tables (samples x features, string ids);
:func:`as_multiomics` gives a whole MuData or AnnData as a :class:`~deepgami.data.MultiOmicsData`.
:class:`~deepgami.DeepGAMIClassifier` (``fit``, ``predict``, ``transform``, ...) and
:class:`~deepgami.explain.Explainer` take a MuData or AnnData directly through them.

Out: :func:`annotate` writes predictions and latents, :func:`annotate_attributions` feature and
edge attributions, into named slots (``obs``, ``obsm``, ``varm``, ``uns``) as scanpy tools do.

AnnData and MuData are samples (``obs``) x features (``var``) by definition, so orientation is
never a question. ``anndata`` and ``mudata`` are imported only to read a file; an object is
recognised without importing them.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .data import MultiOmicsData
from .errors import InputError, preview

if TYPE_CHECKING:  # pragma: no cover - typing only
    import anndata
    import mudata

    from .estimator import DeepGAMIEstimator

__all__ = [
    "ANNDATA_MODALITY",
    "annotate",
    "annotate_attributions",
    "as_multiomics",
    "is_scverse",
    "load_anndata",
    "load_mudata",
    "load_mudata_labels",
    "prediction_input",
]

logger = logging.getLogger(__name__)

#: The modality name of an AnnData given to ``fit`` (its matrix, ``adata.X`` or a layer).
ANNDATA_MODALITY = "X"


# --------------------------------------------------------------------------- recognising objects


def _instance(obj: Any, package: str, cls: str) -> bool:
    """``isinstance(obj, package.cls)`` without importing ``package``: unimported, it made no object."""
    module = sys.modules.get(package)
    return module is not None and isinstance(obj, getattr(module, cls))


def _is_mudata(obj: Any) -> bool:
    return _instance(obj, "mudata", "MuData")


def is_scverse(obj: Any) -> bool:
    """Whether ``obj`` is an AnnData or a MuData (or a subclass); imports neither package."""
    return _is_mudata(obj) or _instance(obj, "anndata", "AnnData")


def _import(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as error:
        msg = f"this loader needs {module}; install it with: pip install {module}"
        raise InputError(msg) from error


@contextlib.contextmanager
def _mudata_options(md: Any):
    """Silence mudata 0.3's FutureWarning about pulling columns on update by adopting the new default."""
    try:
        context = md.set_options(pull_on_update=False)
    except (AttributeError, KeyError, ValueError, TypeError):  # older or newer mudata without the option
        context = contextlib.nullcontext()
    with context:
        yield


# --------------------------------------------------------------------------- tables


def _check_ids(ids: pd.Index, axis: str, source: Any) -> None:
    """InputError for an empty or a duplicate id on one axis of a table read from ``source``."""
    missing = int(pd.isna(ids).sum()) if len(ids) else 0
    if missing:
        msg = f"{source}: {missing} {axis} id(s) are empty; give every {axis} an id"
        raise InputError(msg)
    text = pd.Index(ids.astype(str))
    if text.has_duplicates:
        dups = text[text.duplicated()].unique()
        msg = f"{source}: {len(dups)} duplicate {axis} id(s) ({preview(dups)}); make them unique or aggregate them before loading"
        raise InputError(msg)


def load_anndata(
    path_or_adata: str | Path | anndata.AnnData,
    *,
    layer: str | None = None,
    use_raw: bool = False,
    var_names_column: str | None = None,
) -> pd.DataFrame:
    """Return one AnnData matrix as a canonical samples x features table.

    Parameters
    ----------
    path_or_adata : str, Path or AnnData
        An ``.h5ad`` file (read with :func:`anndata.read_h5ad`) or an AnnData object.
    layer : str, optional
        Read ``adata.layers[layer]`` instead of ``adata.X`` (e.g. ``"counts"``).
    use_raw : bool, default False
        Read ``adata.raw.X`` with ``adata.raw.var`` instead (exclusive with ``layer``).
    var_names_column : str, optional
        A column of ``var`` to use as feature names (e.g. ``"gene_symbols"``) instead of
        ``var_names``.

    Returns
    -------
    DataFrame of shape (n_obs, n_vars)
        ``obs_names`` as index, feature names as columns, the matrix's dtype.

    Raises
    ------
    InputError
        For a missing file, layer or column, ``layer`` together with ``use_raw``, no ``raw``,
        an empty ``X``, or duplicate sample or feature ids.

    Notes
    -----
    A sparse matrix is densified: the table takes ``n_obs * n_vars * itemsize`` bytes
    (e.g. 10,000 cells x 30,000 genes in float32 take 1.2 GB). Subset the AnnData first
    (``adata[:, genes]``) when that is too much.
    """
    ad = _import("anndata")
    adata = _read_h5(path_or_adata, ad.AnnData, ad.read_h5ad, "AnnData", ".h5ad")
    if layer is not None and use_raw:
        msg = "load_anndata takes either layer= or use_raw=True, not both; choose one"
        raise InputError(msg)
    if use_raw:
        if adata.raw is None:
            msg = "use_raw=True but the AnnData has no .raw; read .X (use_raw=False) or a layer"
            raise InputError(msg)
        matrix, var, source = adata.raw.X, adata.raw.var, "raw.X"
    elif layer is not None:
        if layer not in adata.layers:
            msg = f"the AnnData has no layer '{layer}' (layers: {preview(adata.layers.keys(), 5) or 'none'}); fix layer"
            raise InputError(msg)
        matrix, var, source = adata.layers[layer], adata.var, f"layers['{layer}']"
    else:
        matrix, var, source = adata.X, adata.var, "X"
    if matrix is None:
        msg = f"the AnnData has no {source} matrix; pass layer= to read one of its layers"
        raise InputError(msg)
    if var_names_column is None:
        features = pd.Index(var.index.astype(str))
    else:
        if var_names_column not in var.columns:
            msg = f"the AnnData var has no column '{var_names_column}' (columns: {preview(var.columns, 5) or 'none'}); fix var_names_column"
            raise InputError(msg)
        column = var[var_names_column]
        if column.isna().any():
            msg = f"var column '{var_names_column}' is empty for {int(column.isna().sum())} features; fill it or use var_names"
            raise InputError(msg)
        features = pd.Index(column.astype(str).to_numpy())
    samples = pd.Index(adata.obs_names.astype(str))
    _check_ids(samples, "sample", f"AnnData {source}")
    _check_ids(features, "feature", f"AnnData {source}")
    dense = _to_dense(matrix)
    if not np.issubdtype(dense.dtype, np.number):
        msg = f"AnnData {source} has non-numeric dtype {dense.dtype}; convert it to numbers"
        raise InputError(msg)
    logger.debug("AnnData %s: %d x %d, %.1f MB dense", source, *dense.shape, dense.nbytes / 1e6)
    return pd.DataFrame(dense, index=samples, columns=features, copy=False)


def _to_dense(matrix: Any) -> np.ndarray:
    if hasattr(matrix, "toarray"):  # scipy sparse matrices and arrays, anndata backed sparse datasets
        return np.asarray(matrix.toarray())
    if hasattr(matrix, "to_memory"):  # anndata backed sparse datasets in some versions
        return _to_dense(matrix.to_memory())
    if hasattr(matrix, "compute"):  # dask arrays
        return _to_dense(matrix.compute())
    return np.array(matrix)  # a copy, so the table never shares memory with the AnnData


def _read_h5(obj: Any, cls: type, read: Any, what: str, suffix: str) -> Any:
    if isinstance(obj, cls):
        return obj
    if not isinstance(obj, (str, Path)):
        msg = f"expected a {what} object or a path to a {suffix} file, got {type(obj).__name__}"
        raise InputError(msg)
    path = Path(obj)
    if not path.is_file():
        msg = f"{what} file {path} does not exist; check the path"
        raise InputError(msg)
    try:
        return read(path)
    except (OSError, KeyError, ValueError) as error:
        msg = f"{path} could not be read as {what} ({suffix}): {error}".splitlines()[0]
        raise InputError(msg) from error


def _read_mudata(path_or_mdata: str | Path | mudata.MuData) -> Any:
    md = _import("mudata")
    with _mudata_options(md):
        return _read_h5(path_or_mdata, md.MuData, md.read_h5mu, "MuData", ".h5mu")


def load_mudata(
    path_or_mdata: str | Path | mudata.MuData,
    *,
    layers: str | Mapping[str, str | None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Return every MuData modality as a canonical samples x features table.

    Parameters
    ----------
    path_or_mdata : str, Path or MuData
        An ``.h5mu`` file (read with :func:`mudata.read_h5mu`) or a MuData object.
    layers : str or mapping of modality -> layer name, optional
        Which matrix to read per modality: ``None`` reads each ``X``; a string reads that layer
        in every modality; a mapping names a layer per modality (``None`` or absent: ``X``).

    Returns
    -------
    dict of modality name -> DataFrame of shape (n_obs_m, n_vars_m)
        One table per ``mdata.mod``, in its order, indexed by that modality's ``obs_names``.
        Modalities may cover different samples; deepgami aligns them by id (see
        :class:`deepgami.data.MultiOmicsData`).

    Raises
    ------
    InputError
        For a missing file, a ``layers`` key that names no modality, or any error of
        :func:`load_anndata` (with the modality named).

    Notes
    -----
    Sparse matrices are densified (see :func:`load_anndata`).
    """
    mdata = _read_mudata(path_or_mdata)
    return _mudata_tables(mdata, list(mdata.mod), layers)


def _mudata_tables(mdata: Any, names: Sequence[str], layers: str | Mapping[str, str | None] | None) -> dict[str, pd.DataFrame]:
    """The modalities ``names`` of ``mdata`` as tables, each read from the matrix ``layers`` names."""
    if isinstance(layers, Mapping):
        unknown = [k for k in layers if k not in mdata.mod]
        if unknown:
            msg = f"layers names modalities the MuData lacks ({preview(unknown)}; modalities: {preview(mdata.mod, 5)}); fix the keys"
            raise InputError(msg)
        chosen = {name: layers.get(name) for name in names}
    else:
        chosen = dict.fromkeys(names, layers)
    tables = {}
    for name in names:
        try:
            tables[name] = load_anndata(mdata.mod[name], layer=chosen[name])
        except InputError as error:
            msg = f"modality '{name}': {error}"
            raise InputError(msg) from error
    return tables


def _obs_column(data: Any, column: str) -> pd.Series:
    """An ``obs`` column of a MuData (or ``"mod:col"``, see :func:`load_mudata_labels`) or an
    AnnData as plain values indexed by sample id (str), named ``column``; missing values kept."""
    mods = data.mod if _is_mudata(data) else {}
    if column in data.obs.columns:
        labels = data.obs[column]
    else:
        mod, _, col = column.partition(":")
        if col and mod in mods and col in mods[mod].obs.columns:
            labels = mods[mod].obs[col]
        else:
            owners = [f"{name}:{column}" for name, a in mods.items() if column in a.obs.columns]
            what, scope = ("MuData", "global obs") if _is_mudata(data) else ("AnnData", "obs")
            hint = f"; it is in a modality's obs: pass {owners[0]!r}" if owners else f" ({scope} columns: {preview(data.obs.columns, 5) or 'none'})"
            msg = f"the {what} has no obs column '{column}'{hint}"
            raise InputError(msg)
    labels = labels.copy()
    if isinstance(labels.dtype, pd.CategoricalDtype):
        labels = labels.astype(labels.cat.categories.dtype)
    labels.index = pd.Index(labels.index.astype(str), name=None)
    labels.name = column
    if labels.isna().all():
        msg = f"obs column '{column}' holds no value for any sample; choose another column"
        raise InputError(msg)
    return labels


def load_mudata_labels(mdata: str | Path | mudata.MuData, column: str) -> pd.Series:
    """Return one sample annotation of a MuData as a labels Series.

    Parameters
    ----------
    mdata : str, Path or MuData
        An ``.h5mu`` file or a MuData object.
    column : str
        A column of the global ``mdata.obs``; or ``"mod:col"``, the name MuData gives column
        ``col`` of modality ``mod`` once pulled into the global ``obs`` (read from
        ``mdata.mod[mod].obs`` when it has not been pulled).

    Returns
    -------
    Series
        Labels indexed by sample id (str), named ``column``; categorical values are returned
        as plain values. Samples without a value are dropped with a warning.

    Raises
    ------
    InputError
        When the column is found neither in the global ``obs`` nor in the named modality, or
        holds no value at all.
    """
    labels = _obs_column(_read_mudata(mdata), column)
    missing = labels.isna()
    if missing.any():
        msg = f"dropped {int(missing.sum())} samples with no value in '{column}' (e.g. {preview(labels.index[missing])})"
        warnings.warn(msg, stacklevel=2)
        labels = labels[~missing]
    return labels


def as_multiomics(
    X: mudata.MuData | anndata.AnnData,
    labels: str | None = None,
    *,
    layers: str | Mapping[str, str | None] | None = None,
    modalities: Sequence[str] | None = None,
    modality: str = ANNDATA_MODALITY,
) -> MultiOmicsData:
    """A MuData or an AnnData as aligned modality tables, labelled by an ``obs`` column if asked.

    Parameters
    ----------
    X : MuData or AnnData
        Samples (``obs``) x features (``var``). A MuData gives one modality per ``mdata.mod``;
        an AnnData gives one modality, named ``modality``.
    labels : str, optional
        The ``obs`` column holding the labels; for a MuData also ``"mod:col"`` (see
        :func:`load_mudata_labels`). Samples without a value are left out with a warning.
    layers : str or mapping of modality -> layer name, optional
        The matrix to read: ``None`` reads ``X``; a string names a layer (of every modality);
        for a MuData a mapping names a layer per modality, as in :func:`load_mudata`.
    modalities : sequence of str, optional
        MuData: read only these modalities, in this order (default: all of ``mdata.mod``).
    modality : str, default ``ANNDATA_MODALITY`` ("X")
        AnnData: the name of its modality, the name a model knows it by.

    Returns
    -------
    MultiOmicsData
        Samples: the union of the modalities' ``obs_names`` (outer join), restricted to those
        with a label when ``labels`` is given; a sample a modality lacks is unobserved there.

    Raises
    ------
    InputError
        For an ``obs`` column or a modality ``X`` lacks, a layers mapping given with an AnnData,
        or any error of :func:`load_anndata` / :func:`load_mudata`.
    """
    if _is_mudata(X):
        names = list(X.mod) if modalities is None else list(modalities)
        absent = [m for m in names if m not in X.mod]
        if absent:
            msg = f"the MuData has no modality {preview(absent)} (modalities: {preview(X.mod, 5)}); fix modalities"
            raise InputError(msg)
        tables = _mudata_tables(X, names, layers)
    else:
        if isinstance(layers, Mapping):
            msg = "an AnnData has one modality: pass layers as one layer name, not a mapping"
            raise InputError(msg)
        tables = {modality: load_anndata(X, layer=layers)}
    return MultiOmicsData(tables, None if labels is None else _obs_column(X, labels), join="outer")


def prediction_input(X: mudata.MuData | anndata.AnnData, modalities: Sequence[str]) -> MultiOmicsData:
    """``X`` as the input of a model that predicts from ``modalities`` (its trained ones, or
    ``use_modalities``): those of a MuData's modalities, in its order (the others are never
    read), or an AnnData as the one modality named there; see :func:`as_multiomics`."""
    if _is_mudata(X):
        present = [m for m in X.mod if m in modalities]
        if not present:
            msg = f"the MuData holds modalities {list(X.mod)}, none of the model's {list(modalities)}; rename them in mdata.mod"
            raise InputError(msg)
        return as_multiomics(X, modalities=present)
    if len(modalities) != 1:
        hint = f"name it with use_modalities=('{modalities[0]}',) or pass a MuData"
        msg = f"an AnnData holds one modality but the model reads {list(modalities)}; {hint}"
        raise InputError(msg)
    return as_multiomics(X, modality=modalities[0])


# --------------------------------------------------------------------------- writing back


def _target(data: Any, copy: bool) -> Any:
    if not is_scverse(data):
        msg = f"expected a MuData or an AnnData to annotate, got {type(data).__name__}"
        raise InputError(msg)
    if not copy:
        return data
    if _is_mudata(data):
        with _mudata_options(sys.modules["mudata"]):
            return data.copy()
    return data.copy()


def annotate(
    mdata: mudata.MuData | anndata.AnnData,
    model: DeepGAMIEstimator,
    *,
    key_added: str = "deepgami",
    use_modalities: Sequence[str] | None = None,
    copy: bool = False,
) -> mudata.MuData | anndata.AnnData | None:
    """Write a fitted model's predictions and completed latents into a MuData or an AnnData.

    Parameters
    ----------
    mdata : MuData or AnnData
        The samples to predict, read as :meth:`~deepgami.DeepGAMIClassifier.predict` reads them.
    model : fitted DeepGAMIClassifier, DeepGAMIRegressor, DeepGAMISurvival or DeepGAMIMultiTarget
    key_added : str, default "deepgami"
        Prefix of every slot written (``key`` below).
    use_modalities : sequence of str, optional
        Predict from these modalities only; the others are imputed.
    copy : bool, default False
        Annotate a copy and return it, leaving ``mdata`` untouched; else write in place.

    Returns
    -------
    MuData or AnnData or None
        The annotated copy when ``copy=True``, else None.

    Notes
    -----
    Slots written (n_obs: ``mdata.n_obs``; samples in none of the modalities predicted from
    get NaN):

    - ``obs[f"{key}_predicted"]``: categorical of shape (n_obs,), the predicted class, with
      ``model.classes_`` as categories (a regression: float, the predicted value).
    - ``obs[f"{key}_p_{class}"]``: float of shape (n_obs,), for each class of ``model.classes_``,
      its probability.
    - A survival model writes ``obs[f"{key}_risk"]`` (the log-risk) instead; a model of several
      targets one column per column of :meth:`~deepgami.DeepGAMIEstimator.predict_table`.
    - ``obsm[f"{key}_latents"]``: DataFrame of shape (n_obs, n_modalities * n_latent), the
      completed latents of :meth:`~deepgami.DeepGAMIClassifier.transform`, columns
      ``<modality>:<latent node>``.
    - ``uns[key]``: dict with ``task``, ``outputs`` (str), ``classes`` (str, classification) and
      ``modalities``, those predicted from.
    """
    target = _target(mdata, copy)
    data = model.prediction_data(target, use_modalities)
    table = model.predict_table(data).set_index("sample").reindex(target.obs_names)
    if model.task_.kind == "classification":
        target.obs[f"{key_added}_predicted"] = pd.Categorical(table.pop("predicted"), categories=model.classes_)
    for column in table.columns:
        target.obs[f"{key_added}_{column}"] = table[column].to_numpy()
    target.obsm[f"{key_added}_latents"] = model.transform(data).reindex(target.obs_names)
    target.uns[key_added] = {"task": model.task_.kind, "outputs": [str(c) for c in model.task_.output_names], "modalities": data.modality_names}
    if model.task_.kind == "classification":
        target.uns[key_added]["classes"] = [str(c) for c in model.classes_]
    return target if copy else None


def annotate_attributions(
    mdata: mudata.MuData | anndata.AnnData,
    features: pd.DataFrame,
    edges: pd.DataFrame | None = None,
    *,
    key_added: str = "deepgami",
    copy: bool = False,
) -> mudata.MuData | anndata.AnnData | None:
    """Write feature (and edge) attributions of :mod:`deepgami.explain` into a MuData or an AnnData.

    Parameters
    ----------
    mdata : MuData or AnnData
        The data the model read; an AnnData takes the attributions of one modality.
    features : DataFrame
        Feature attributions with columns modality, feature, class, abs_score:
        ``Explainer(model, mdata).features().table`` or ``explain_model(model, mdata).features``.
    edges : DataFrame, optional
        Edge attributions, ``Explainer(model, mdata).edges().table`` or
        ``explain_model(model, mdata).edges``, stored as they are.
    key_added : str, default "deepgami"
        Prefix of every slot written (``key`` below).
    copy : bool, default False
        Annotate a copy and return it, leaving ``mdata`` untouched; else write in place.

    Returns
    -------
    MuData or AnnData or None
        The annotated copy when ``copy=True``, else None.

    Notes
    -----
    Slots written:

    - ``mod[m].varm[f"{key}_attribution"]`` for each modality ``m`` of ``features`` (``varm``
      of an AnnData): DataFrame of shape (n_vars_m, n_classes), each feature's mean
      ``|attribution|`` (``abs_score``) per class, columns the classes (str); NaN for
      features the model does not read.
    - ``uns[f"{key}_edges"]``: DataFrame, the ``edges`` table, when given.
    """
    target = _target(mdata, copy)
    names = list(pd.unique(features["modality"]))
    if _is_mudata(target):
        owners = target.mod
    elif len(names) == 1:
        owners = {names[0]: target}
    else:
        msg = f"the attributions cover modalities {names}; an AnnData holds one: pass a MuData or one modality's rows"
        raise InputError(msg)
    absent = [m for m in names if m not in owners]
    if absent:
        msg = f"the attributions cover modalities the MuData lacks ({preview(absent)}; modalities: {preview(owners, 5)})"
        raise InputError(msg)
    for m, rows in features.groupby("modality", sort=False):
        scores = rows.pivot(index="feature", columns="class", values="abs_score").rename_axis(index=None, columns=None)
        owners[m].varm[f"{key_added}_attribution"] = scores.set_axis(scores.columns.astype(str), axis=1).reindex(owners[m].var_names)
    if edges is not None:
        target.uns[f"{key_added}_edges"] = edges.copy()
    return target if copy else None
