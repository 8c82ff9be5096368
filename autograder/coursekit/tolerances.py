"""Every numeric tolerance the graders use, in one place, per dtype and device.

A check compares with ``rtol`` and ``atol`` chosen by the *expected* value's dtype: float64 checks
demand agreement to round-off of a careful implementation, float32 to what single precision allows
after a few hundred operations. CUDA kernels (TF32 matmuls, other reduction orders) get looser ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


#: (dtype kind and size, device) -> tolerance
_TABLE = {
    ("float64", "cpu"): Tolerance(rtol=1e-7, atol=1e-9),
    ("float32", "cpu"): Tolerance(rtol=1e-4, atol=1e-5),
    ("float16", "cpu"): Tolerance(rtol=1e-2, atol=1e-3),
    ("float64", "cuda"): Tolerance(rtol=1e-6, atol=1e-8),
    ("float32", "cuda"): Tolerance(rtol=2e-3, atol=1e-4),
    ("float16", "cuda"): Tolerance(rtol=1e-2, atol=1e-3),
}
EXACT = Tolerance(rtol=0.0, atol=0.0)

#: Relative error a float64 central-difference gradient check must reach (CS231n's rule of thumb).
GRADCHECK_RELATIVE_ERROR = 1e-6

#: Significance level of the goodness-of-fit tests that judge sampled tokens (week 5's generate): a
#: correct sampler fails one with this probability, so a false failure is negligible while a wrong
#: temperature or distribution (p-values far below 1e-20 on the graded draws) always fails.
SAMPLING_SIGNIFICANCE = 1e-6


def for_dtype(dtype, device: str = "cpu") -> Tolerance:
    """The tolerance for comparing values of ``dtype`` (numpy or torch) computed on ``device``."""
    try:  # numpy dtype objects, scalar types (np.float64) and strings alike
        import numpy as np
        name = np.dtype(dtype).name
    except TypeError:  # a torch dtype
        name = str(dtype).replace("torch.", "")
    if name in ("float64", "float32", "float16"):
        return _TABLE[(name, "cuda" if device.startswith("cuda") else "cpu")]
    if name == "bfloat16":
        return Tolerance(rtol=2e-2, atol=1e-2)
    return EXACT
