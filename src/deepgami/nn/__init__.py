"""Neural network building blocks of deepgami."""

from .auxiliary import AUXILIARY_MAPS, MLPMap, PerNodeMap, ScalarMap, make_auxiliary_map
from .conv import BioDropConnect
from .encoder import DenseEncoder, GuidedEncoder
from .model import DeepGAMINet

__all__ = [
    "AUXILIARY_MAPS",
    "BioDropConnect",
    "DeepGAMINet",
    "DenseEncoder",
    "GuidedEncoder",
    "MLPMap",
    "PerNodeMap",
    "ScalarMap",
    "make_auxiliary_map",
]
