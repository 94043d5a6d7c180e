"""Baseline methods compared with DeepGAMI, one per module, registered in :data:`~deepgami.evaluation.methods.REGISTRY` at import.

Every method follows the interface of :mod:`deepgami.evaluation.methods`: built by
``factory(*, graph, random_state, **params)`` (``graph`` is the prior; only Varmole uses it),
``fit(train)`` learns only from the rows of ``train``; a classifier's ``predict_proba(data)``
returns one row per sample of ``data`` in ``data.samples`` order and one column per class in
``classes_`` order, a regression or survival method's ``predict_scores(data)`` one column (the
predicted value; a risk score, higher meaning an earlier event).

Classification:

- :mod:`.concatenated`: ``logistic_l2``, ``logistic_lasso``, ``random_forest``, ``svm``, ``mlp``,
  one scikit-learn estimator on the concatenated features of all modalities;
- :mod:`.late_fusion`: ``late_fusion``, one logistic regression per modality, probabilities averaged;
- :mod:`.mofa`: ``mofa_lr``, MOFA+ factors, then a logistic regression;
- :mod:`.snf`: ``snf_label_propagation``, Similarity Network Fusion (:mod:`.snf_fusion`), then
  label propagation;
- :mod:`.varmole`: ``varmole``, a biologically masked feed-forward network (PyTorch / PyG);
- :mod:`.mogonet`: ``mogonet``, per-modality GCNs on patient-similarity graphs fused by a VCDN.

Regression (``[data] task = "regression"``):

- :mod:`.regression`: ``ridge``, ``lasso``, ``elastic_net``, ``random_forest``, ``mlp``, one
  scikit-learn regressor on the concatenated features;
- :mod:`.late_fusion_tasks`: ``late_fusion``, one ridge regression per modality, predictions averaged.

Survival (``[data] task = "survival"``):

- :mod:`.survival`: ``coxnet`` (elastic-net Cox), ``random_survival_forest`` (scikit-survival),
  ``cox_ph`` (lifelines, on principal components), on the concatenated features;
- :mod:`.late_fusion_tasks`: ``late_fusion``, one elastic-net Cox model per modality, log-risks averaged.

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

# After the classifiers: the shared names (random_forest, mlp, late_fusion) keep their
# classification spec in REGISTRY; each task's own list is TASK_METHODS[task].
from .regression import (  # isort: skip
    ConcatenatedRegressor,
    ElasticNetRegression,
    LassoRegression,
    MLPRegression,
    RandomForestRegression,
    RidgeRegression,
)
from .survival import ConcatenatedSurvival, CoxNet, CoxPH, RandomSurvivalForest  # isort: skip
from .late_fusion_tasks import LateFusionRegression, LateFusionSurvival  # isort: skip

__all__ = [
    "VCDN",
    "ConcatenatedBaseline",
    "ConcatenatedRegressor",
    "ConcatenatedSurvival",
    "CoxNet",
    "CoxPH",
    "ElasticNetRegression",
    "GCNEncoder",
    "LassoRegression",
    "LateFusion",
    "LateFusionRegression",
    "LateFusionSurvival",
    "LogisticL2",
    "LogisticLasso",
    "MLPRegression",
    "MOGONETMethod",
    "MOGONETNet",
    "MofaLogistic",
    "MultilayerPerceptron",
    "RandomForest",
    "RandomForestRegression",
    "RandomSurvivalForest",
    "RidgeRegression",
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
