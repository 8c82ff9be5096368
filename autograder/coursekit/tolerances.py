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

#: Sinusoidal time features (week 7) in float32 against their float64 closed form. The phase t·ω of
#: a timestep t < 1000 is off by up to 6e-5 in float32, however ω is computed (an exponential, a
#: power, a quotient), so the comparison is absolute, on values in [-1, 1]; a wrong frequency or
#: sines and cosines in the wrong order are off by far more.
TIME_EMBEDDING_FLOAT32 = Tolerance(rtol=0.0, atol=3e-4)


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
