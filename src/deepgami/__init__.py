"""deepgami: biologically guided multi-modal phenotype prediction on PyTorch Geometric.

Layers, lowest first; a module imports only from its own layer or below:

1. core: every module directly under ``deepgami`` (data, graph, nn, training, estimator,
   explain, network, plotting, readers, persistence, preprocessing, simulate, ...) except the
   app's;
2. evaluation: ``deepgami.evaluation``;
3. app: ``deepgami.cli``, ``deepgami.workflow``, ``deepgami.config`` (and ``__main__``).

``deepgami.adapters`` sits beside the app: it imports the core only, and no other layer imports
it. ``tests/test_layering.py`` enforces this.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .data import MultiOmicsData, encode_labels
from .errors import InputError
from .estimator import DeepGAMIClassifier, DeepGAMIEstimator, DeepGAMIMultiTarget, DeepGAMIRegressor, DeepGAMISurvival
from .graph import RegulatoryGraph

__all__ = [
    "DeepGAMIClassifier",
    "DeepGAMIEstimator",
    "DeepGAMIMultiTarget",
    "DeepGAMIRegressor",
    "DeepGAMISurvival",
    "InputError",
    "MultiOmicsData",
    "RegulatoryGraph",
    "__version__",
    "encode_labels",
]
