"""Checks that graders and public tests call: each failure names what differed, safely.

Every check raises :class:`GradeFailure` with a ``summary`` (always shown to the student) and a
``detail`` (a short, bounded diff with values, shown only for public tests, whose inputs the
student already has). Hidden tests therefore never reveal an expected value, whatever they check.
Tolerances come from :mod:`coursekit.tolerances`, never from the call site's guesswork.

    expect_close(got, want, "predict on a 5x3 batch")
"""

from __future__ import annotations

from typing import Any

from . import tolerances

MAX_DETAIL_CHARS = 600


class GradeFailure(AssertionError):
    """A check failed: ``summary`` is safe for every student, ``detail`` only for public tests."""

    def __init__(self, summary: str, detail: str = ""):
        self.summary, self.detail = summary, detail[:MAX_DETAIL_CHARS]
        super().__init__(summary + (f"\n{self.detail}" if self.detail else ""))


def _np():
    import numpy as np
    return np


def _to_numpy(value: Any):
    """A plain ndarray view of an ndarray, tensor or number, or None if it is none of these."""
    np = _np()
    if type(value) is np.ndarray:
        return value
    if type(value) in (int, float, bool) or isinstance(value, np.generic):
        return np.asarray(value)
    import sys
    torch = sys.modules.get("torch")
    if torch is not None and type(value) is torch.Tensor:
        return value.detach().cpu().numpy()
    return None


def _describe(value: Any) -> str:
    arr = _to_numpy(value)
    if arr is None:
        return type(value).__name__
    return f"array of shape {tuple(arr.shape)} and dtype {arr.dtype}" if arr.ndim else f"{arr.dtype} scalar"


def expect_array(got: Any, what: str, shape: tuple | None = None, dtype_kind: str | None = None):
    """``got`` must be an ndarray/tensor (or scalar), optionally of ``shape`` and dtype kind ('f', 'i', 'b')."""
    arr = _to_numpy(got)
    if arr is None:
        raise GradeFailure(f"{what}: expected an array, got a {type(got).__name__}")
    if shape is not None and tuple(arr.shape) != tuple(shape):
        raise GradeFailure(f"{what}: wrong shape {tuple(arr.shape)}",
                           f"expected shape {tuple(shape)}")
    if dtype_kind is not None and arr.dtype.kind not in dtype_kind:
        names = {"f": "floating point", "i": "integer", "u": "unsigned integer", "b": "boolean"}
        want = " or ".join(names.get(k, k) for k in dtype_kind)
        raise GradeFailure(f"{what}: dtype {arr.dtype} is not {want}")
    return arr


def expect_close(got: Any, want: Any, what: str, rtol: float | None = None, atol: float | None = None) -> None:
    """``got`` equals ``want`` within the tolerance for ``want``'s dtype (see ``tolerances``)."""
    np = _np()
    want_arr = _to_numpy(want)
    if want_arr is None:
        raise TypeError(f"expect_close needs a numeric expected value, got {type(want).__name__}")
    got_arr = expect_array(got, what, shape=want_arr.shape)
    tol = tolerances.for_dtype(want_arr.dtype)
    rtol = tol.rtol if rtol is None else rtol
    atol = tol.atol if atol is None else atol
    g = got_arr.astype(np.float64) if got_arr.dtype.kind in "biuf" else got_arr
    w = want_arr.astype(np.float64)
    if not np.all(np.isfinite(g) | ~np.isfinite(w)) or not np.all(np.isfinite(g) == np.isfinite(w)):
        raise GradeFailure(f"{what}: contains NaN or infinity where finite values were expected"
                           if np.any(~np.isfinite(g) & np.isfinite(w)) else
                           f"{what}: finite where NaN or infinity was expected")
    close = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        bad = np.argwhere(~close)
        index = tuple(int(i) for i in bad[0]) if bad.size else ()
        err = np.abs(g - w)
        raise GradeFailure(
            f"{what}: {int((~close).sum())} of {close.size} values differ beyond tolerance "
            f"(rtol={rtol:g}, atol={atol:g})",
            f"first mismatch at index {index}: got {g[index]!r}, expected {w[index]!r}; "
            f"largest absolute error {float(np.nanmax(err)):.3g}")


def expect_equal(got: Any, want: Any, what: str) -> None:
    """Exact equality: arrays elementwise with equal shapes, other values with ``==`` on plain types."""
    np = _np()
    want_arr = _to_numpy(want)
    if want_arr is not None and want_arr.ndim:
        got_arr = expect_array(got, what, shape=want_arr.shape)
        if not np.array_equal(got_arr, want_arr):
            mismatch = np.argwhere(got_arr != want_arr)
            index = tuple(int(i) for i in mismatch[0]) if mismatch.size else ()
            raise GradeFailure(f"{what}: {int((got_arr != want_arr).sum())} of {want_arr.size} "
                               "entries differ",
                               f"first at index {index}: got {got_arr[index]!r}, expected {want_arr[index]!r}")
        return
    if type(got) in (list, tuple) and type(want) in (list, tuple):
        if len(got) != len(want):
            raise GradeFailure(f"{what}: length {len(got)} differs from the expected length",
                               f"expected length {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            expect_equal(g, w, f"{what}[{i}]")
        return
    got_plain = _to_numpy(got)
    if want_arr is not None and got_plain is not None:
        if got_plain.shape != () or not bool(got_plain == want_arr):
            raise GradeFailure(f"{what}: wrong value", f"got {got!r}, expected {want!r}")
        return
    if type(got) is not type(want) or got != want:
        raise GradeFailure(f"{what}: wrong value ({_describe(got)})", f"got {got!r}, expected {want!r}")


def expect_true(condition: bool, summary: str, detail: str = "") -> None:
    """A property that must hold; ``summary`` says what, ``detail`` (public tests only) the numbers."""
    if not (type(condition) is bool and condition) and not (hasattr(condition, "dtype") and bool(condition)):
        raise GradeFailure(summary, detail)


def expect_type(got: Any, kind: type | tuple, what: str) -> None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if type(got) not in kinds:
        names = " or ".join(k.__name__ for k in kinds)
        raise GradeFailure(f"{what}: expected {names}, got {type(got).__name__}")
