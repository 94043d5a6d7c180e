"""The estimators' parameters in one table: names, defaults, allowed values and config keys.

Everything else is derived from :data:`PARAMETERS`: the signatures of
:class:`~deepgami.DeepGAMIClassifier`, :class:`~deepgami.DeepGAMIRegressor` and
:class:`~deepgami.DeepGAMISurvival` (each takes the parameters of its task), the checks ``fit`` runs
(scikit-learn's ``_parameter_constraints``), the ``[model]`` and ``[training]`` keys of the
run configuration with their types, and the keys ``[search]`` may vary. A new parameter is
one row here plus its use.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

# The constraint classes behind scikit-learn's own parameter checks (a private module that
# third-party estimators use too): their messages name the parameter and the allowed range.
from sklearn.utils._param_validation import Interval, StrOptions

from .nn.auxiliary import AUXILIARY_MAPS
from .nn.conv import KERNELS
from .nn.stages import ACTIVATIONS
from .preprocessing import MISSING, SCALINGS

#: What an estimator predicts (``[data] task``): see :mod:`deepgami.tasks`.
TASK_KINDS = ("classification", "regression", "survival")
#: The estimators' tasks: those, and several targets at once (``[[data.targets]]``).
ESTIMATOR_KINDS = (*TASK_KINDS, "multi")


@dataclass(frozen=True)
class Parameter:
    """One estimator parameter.

    ``constraints`` are scikit-learn constraints (any one must hold); ``section`` is the
    config table that sets it (``"model"``, ``"training"``, or None when the config sets it
    elsewhere or not at all), under ``key`` (default: the name) with TOML type ``config_type``;
    ``searchable`` parameters may be listed in ``[search]``; ``tasks`` are the tasks whose
    estimators take the parameter.
    """

    name: str
    default: Any
    constraints: tuple
    section: str | None = None
    config_type: type | tuple[type, ...] | None = None
    key: str | None = None
    searchable: bool = False
    tasks: tuple[str, ...] = ESTIMATOR_KINDS

    @property
    def config_key(self) -> str:
        return self.key or self.name


def _at_least(kind: type, low: float) -> Interval:
    return Interval(kind, low, None, closed="left")


#: Every parameter of the estimators but ``graph``.
PARAMETERS: tuple[Parameter, ...] = (
    # [model]
    Parameter("n_members", 10, (_at_least(Integral, 1),), "model", int, searchable=True),
    Parameter("null_members", 5, (_at_least(Integral, 0),), "model", int, searchable=True),
    Parameter("latent_dim", 100, (_at_least(Integral, 1),), "model", int, searchable=True),
    Parameter("hidden_dims", (), ("array-like",), "model", list, searchable=True),
    Parameter("dropout", 0.5, (Interval(Real, 0, 1, closed="left"),), "model", float, searchable=True),
    Parameter("aux_map", "scalar", (StrOptions(set(AUXILIARY_MAPS)), callable), "model", str, searchable=True),
    Parameter("aux_weight", 1.0, (_at_least(Real, 0),), "model", float, searchable=True),
    Parameter("edge_l1", 1e-3, (_at_least(Real, 0),), "model", float, searchable=True),
    # Deep priors only (one-hop models have no level heads); chosen by bench/study_deep_defaults.md.
    Parameter("level_loss_weight", 1.0, (_at_least(Real, 0),), "model", float, searchable=True),
    Parameter("modality_dropout", 0.5, (Interval(Real, 0, 1, closed="left"),), "model", float, searchable=True),
    Parameter("latent_activation", "relu", (StrOptions(set(ACTIVATIONS)),), "model", str, searchable=True),
    Parameter("edge_init_scale", 0.1, (Interval(Real, 0, None, closed="neither"),), "model", float, searchable=True),
    Parameter("unconnected_features", "drop", (StrOptions({"drop", "dense", "error"}),), "model", str, searchable=True),
    Parameter("kernel", "auto", (StrOptions(set(KERNELS)),), "model", str, searchable=True),
    Parameter("loss", "squared_error", (StrOptions({"squared_error", "huber"}),), "model", str, searchable=True, tasks=("regression", "multi")),
    Parameter("huber_delta", 1.0, (Interval(Real, 0, None, closed="neither"),), "model", float, searchable=True, tasks=("regression", "multi")),
    # Several targets: name -> task kind, and their loss weights (default 1 each); [[data.targets]].
    Parameter("targets", None, (dict, None), tasks=("multi",)),
    Parameter("target_weights", None, (dict, None), tasks=("multi",)),
    # Per modality, set under [data.modalities.<name>].
    Parameter("scaling", "standard", (StrOptions(set(SCALINGS)), dict)),
    Parameter("missing", "error", (StrOptions(set(MISSING)), dict)),
    # [training]
    Parameter("lr", 1e-3, (Interval(Real, 0, None, closed="neither"),), "training", float, searchable=True),
    Parameter("weight_decay", 0.0, (_at_least(Real, 0),), "training", float, searchable=True),
    Parameter("batch_size", 32, (_at_least(Integral, 1),), "training", int, searchable=True),
    Parameter("max_epochs", 100, (_at_least(Integral, 0),), "training", int),  # 0: the initialised model
    Parameter("patience", 20, (_at_least(Integral, 1),), "training", int, searchable=True),
    Parameter("validation_fraction", 0.1, (Interval(Real, 0, 1, closed="left"),), "training", float),
    Parameter("cross_fit", True, ("boolean",), "training", bool),
    Parameter("class_weight", None, (None, StrOptions({"balanced"}), dict), "training", (str, dict), tasks=("classification",)),
    Parameter("device", "cpu", (str,), "training", str),
    Parameter("random_state", 0, (_at_least(Integral, 0),), "training", int, key="seed"),
    Parameter("verbose", False, ("boolean",)),
)

#: Parameter name -> default.
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}


def constraints(task: str) -> dict[str, list]:
    """Parameter name -> scikit-learn constraints of a task's estimator (its ``_parameter_constraints``)."""
    return {p.name: list(p.constraints) for p in PARAMETERS if task in p.tasks}


def config_keys(section: str, task: str | None = None) -> dict[str, type | tuple[type, ...]]:
    """Config key -> TOML type of the parameters set in ``[section]`` (of one task's estimator, if given)."""
    return {p.config_key: p.config_type for p in PARAMETERS if p.section == section and (task is None or task in p.tasks)}


def parameter_name(config_key: str) -> str:
    """The estimator parameter a ``[model]``/``[training]`` key sets (``seed`` -> ``random_state``)."""
    return next((p.name for p in PARAMETERS if p.section and p.config_key == config_key), config_key)


#: Config keys that ``[search]`` may list candidate values for.
SEARCH_KEYS: frozenset[str] = frozenset(p.config_key for p in PARAMETERS if p.searchable)
