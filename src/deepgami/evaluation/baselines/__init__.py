"""Baseline methods compared with DeepGAMI, one per module, registered in :data:`~deepgami.evaluation.methods.REGISTRY` at import.

Every method follows the interface of :mod:`deepgami.evaluation.methods`: built by
``factory(*, graph, random_state, **params)`` (``graph`` is the prior; only Varmole uses it),
``fit(train)`` learns only from the rows of ``train``, ``predict_proba(data)`` returns one row
per sample of ``data`` in ``data.samples`` order and one column per class in ``classes_`` order.

- :mod:`.concatenated`: ``logistic_l2``, ``logistic_lasso``, ``random_forest``, ``svm``, ``mlp``,
  one scikit-learn estimator on the concatenated features of all modalities;
- :mod:`.late_fusion`: ``late_fusion``, one logistic regression per modality, probabilities averaged;
- :mod:`.mofa`: ``mofa_lr``, MOFA+ factors, then a logistic regression;
- :mod:`.snf`: ``snf_label_propagation``, Similarity Network Fusion (:mod:`.snf_fusion`), then
  label propagation;
- :mod:`.varmole`: ``varmole``, a biologically masked feed-forward network (PyTorch / PyG);
- :mod:`.mogonet`: ``mogonet``, per-modality GCNs on patient-similarity graphs fused by a VCDN.

Shared plumbing: :mod:`._common` (scikit-learn side), :mod:`._torch` (PyTorch side).
"""

from ._common import logistic_regression
from .concatenated import (
    ConcatenatedBaseline,
    LogisticL2,
    LogisticLasso,
    MultilayerPerceptron,
    RandomForest,
    SupportVectorMachine,
)
from .late_fusion import LateFusion
from .mofa import MofaLogistic
from .snf import SNFLabelPropagation
from .varmole import VarmoleMethod, VarmoleNet, varmole_edge_index

# Last, out of alphabetical order: importing a module registers its methods, and the registry
# order (varmole, then mogonet) is the default method order of `deepgami cv`.
from .mogonet import (  # isort: skip
    VCDN,
    GCNEncoder,
    MOGONETMethod,
    MOGONETNet,
    bipartite_similarity_graph,
    cosine_similarity,
    similarity_graph,
    similarity_threshold,
    vcdn_features,
)

__all__ = [
    "VCDN",
    "ConcatenatedBaseline",
    "GCNEncoder",
    "LateFusion",
    "LogisticL2",
    "LogisticLasso",
    "MOGONETMethod",
    "MOGONETNet",
    "MofaLogistic",
    "MultilayerPerceptron",
    "RandomForest",
    "SNFLabelPropagation",
    "SupportVectorMachine",
    "VarmoleMethod",
    "VarmoleNet",
    "bipartite_similarity_graph",
    "cosine_similarity",
    "logistic_regression",
    "similarity_graph",
    "similarity_threshold",
    "varmole_edge_index",
    "vcdn_features",
]
