"""Attribution methods on the input embeddings: one module per method, one registry.

Every method maps a `Problem` (F over R output rows, their input embeddings and baselines) to
an (R, T) score matrix; positive = supports the row's target (signed methods).
"""

from whyword.attr.attnlrp import attnlrp_method
from whyword.attr.input_x_gradient import input_x_gradient
from whyword.attr.integrated_gradients import integrated_gradients
from whyword.attr.occlusion import occlusion
from whyword.attr.problem import Problem
from whyword.attr.registry import (
    METHODS,
    Completeness,
    Method,
    MethodOutput,
    get_method,
    register_method,
)
from whyword.attr.saliency import saliency
from whyword.attr.smoothgrad import smoothgrad
from whyword.params import IGParams, OcclusionParams, SmoothGradParams

register_method("saliency", saliency)
register_method("input_x_gradient", input_x_gradient)
register_method("integrated_gradients", integrated_gradients, params=IGParams.from_options)
register_method("smoothgrad", smoothgrad, params=SmoothGradParams.from_options)
register_method("occlusion", occlusion, params=OcclusionParams.from_options)
register_method("attnlrp", attnlrp_method)

__all__ = [
    "METHODS",
    "Completeness",
    "IGParams",
    "Method",
    "MethodOutput",
    "OcclusionParams",
    "Problem",
    "SmoothGradParams",
    "get_method",
    "register_method",
]
