"""Attribution methods on the input embeddings: one module per method, one registry.

Every method maps a `Problem` (F over R output rows, their input embeddings and baselines) to
an (R, T) score matrix; positive = supports the row's target (signed methods).
"""

from whyword.attr.attnlrp import ATTNLRP
from whyword.attr.input_x_gradient import INPUT_X_GRADIENT
from whyword.attr.integrated_gradients import INTEGRATED_GRADIENTS
from whyword.attr.occlusion import OCCLUSION
from whyword.attr.problem import Problem
from whyword.attr.registry import (
    METHODS,
    Completeness,
    Method,
    MethodOutput,
    add_method,
    get_method,
    register_method,
)
from whyword.attr.saliency import SALIENCY
from whyword.attr.smoothgrad import SMOOTHGRAD
from whyword.results.params import IGParams, OcclusionParams, SmoothGradParams

# The built-ins, in the order the page and the command line list them.
for _method in (SALIENCY, INPUT_X_GRADIENT, INTEGRATED_GRADIENTS, SMOOTHGRAD, OCCLUSION, ATTNLRP):
    add_method(_method)

__all__ = [
    "METHODS",
    "Completeness",
    "IGParams",
    "Method",
    "MethodOutput",
    "OcclusionParams",
    "Problem",
    "SmoothGradParams",
    "add_method",
    "get_method",
    "register_method",
]
