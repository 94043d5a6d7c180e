"""deepgami: biologically guided multi-modal phenotype prediction on PyTorch Geometric."""

from __future__ import annotations

__version__ = "0.1.0"

from .data import MultiOmicsData, encode_labels
from .errors import InputError
from .estimator import DeepGAMIClassifier
from .graph import RegulatoryGraph

__all__ = [
    "DeepGAMIClassifier",
    "InputError",
    "MultiOmicsData",
    "RegulatoryGraph",
    "__version__",
    "encode_labels",
]
