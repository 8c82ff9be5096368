"""Checks that graders and public tests call: each failure names what differed, safely.

Every check raises :class:`GradeFailure` with a ``summary`` (always shown to the student) and a
``detail`` (a short, bounded diff with values, shown only for public tests, whose inputs the
student already has). Hidden tests therefore never reveal an expected value, whatever they check.
Tolerances come from :mod:`coursekit.tolerances`, never from the call site's guesswork.

    expect_close(got, want, "predict on a 5x3 batch")
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

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


def expect_close(got: Any, want: Any, what: str, *, tolerance: tolerances.Tolerance | None = None,
                 device: str | None = None) -> None:
    """``got`` equals ``want`` within ``tolerance``: by default the one for ``want``'s dtype on the
    device the values were computed on (``device``, else the tensors' own, else the CPU); a grader
    that needs another names it from :mod:`coursekit.tolerances`."""
    np = _np()
    want_arr = _to_numpy(want)
    if want_arr is None:
        raise TypeError(f"expect_close needs a numeric expected value, got {type(want).__name__}")
    device = device or tolerances.device_of(got) or tolerances.device_of(want) or "cpu"
    got_arr = expect_array(got, what, shape=want_arr.shape)
    tol = tolerance or tolerances.for_dtype(want_arr.dtype, device)
    rtol, atol = tol.rtol, tol.atol
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


def expect_object(got: Any, what: str) -> Any:
    """``got`` must be one of the student's objects (a model, a layer), which stays in the student's
    process and comes back as a proxy; returns it."""
    from .grading.client import ObjectProxy

    expect_true(isinstance(got, ObjectProxy), f"{what} must be an object (such as a model), got {_describe(got)}")
    return got


def expect_type(got: Any, kind: type | tuple, what: str) -> None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if type(got) not in kinds:
        names = " or ".join(k.__name__ for k in kinds)
        raise GradeFailure(f"{what}: expected {names}, got {type(got).__name__}")


# --- helpers for graders that check many cases or read drivers' reports ----------------------

def run_cases(credit: Any, cases: Any, check: Any) -> None:
    """Run ``check(k, case)`` for every case (k from 1); partial credit by the share that pass.

    Only a check's :class:`GradeFailure` counts as a failed case; anything else (the student's code
    raising, the worker failing) ends the test as it would without this helper. The feedback names
    how many cases failed and the first failure's summary.
    """
    failures: list[GradeFailure] = []
    for k, case in enumerate(cases, start=1):
        try:
            check(k, case)
        except GradeFailure as failure:
            failures.append(failure)
    credit.set((len(cases) - len(failures)) / len(cases))
    if failures:
        first = failures[0]
        raise GradeFailure(f"{len(failures)} of {len(cases)} cases failed; the first: {first.summary}",
                           first.detail)


def unpack(got: Any, count: int, what: str) -> tuple:
    """``got`` must be a tuple (or list) of ``count`` values, the results of ``what``."""
    expect_true(type(got) in (tuple, list) and len(got) == count,
                f"{what} must return a tuple of {count} values")
    return tuple(got)


def as_scalar(value: Any, what: str) -> float:
    """A float from a Python or numpy scalar, a 0-d or a one-element array; fails on anything else."""
    arr = expect_array(value, what, dtype_kind="fiu")
    expect_true(arr.size == 1 and arr.ndim <= 1,
                f"{what}: expected a single number, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def _returned_something(report: Any, what: str, shapes: dict[str, type]) -> None:
    """A driver's report has the fields ``shapes`` names, of those types (it comes from the
    student's process, so a malformed one fails the check as the student's); and a property of a
    call (arguments kept, no warnings) earns nothing for a call that computed nothing: the call
    must have returned a value."""
    expect_true(type(report) is dict and all(type(report.get(k)) is t for k, t in shapes.items()),
                f"{what}: the report from your code's process is malformed")
    expect_true(report.get("value") is not None, f"{what} returned None, so there is nothing to check yet")


def expect_unchanged(report: dict, what: str) -> None:
    """``report`` is the ``call_checking_arguments`` driver's answer: the call returned a value and
    changed no argument in place."""
    _returned_something(report, what, {"args_changed": list, "kwargs_changed": dict})
    changed = any(report["args_changed"]) or any(report["kwargs_changed"].values())
    expect_true(not changed, f"{what} changed one of its arguments in place")


def expect_no_warnings(report: dict, what: str) -> None:
    """``report`` is the ``call_with_warnings`` driver's answer: the call returned a value and raised
    no RuntimeWarning (overflow, division by zero, invalid value)."""
    _returned_something(report, what, {"warnings": list})
    expect_true(all(type(w) in (list, tuple) and len(w) == 2 for w in report["warnings"]),
                f"{what}: the report from your code's process is malformed")
    runtime = [str(message) for category, message in report["warnings"] if category == "RuntimeWarning"]
    if not runtime:
        return
    text = runtime[0].lower()
    kind = ("an overflow" if "overflow" in text else "a division-by-zero" if "divide" in text
            else "an invalid-value (NaN)" if "invalid" in text else "a RuntimeWarning")
    raise GradeFailure(f"{what} raised {kind} warning ({len(runtime)} warning(s) in all)")


# --- tests that run other tasks' code ----------------------------------------------------------

#: Charged seconds the upstream checks of a failed test may use, whatever the test had left.
UPSTREAM_SECONDS = 15.0


def failing(checks: Iterable[tuple[str, Callable[[], Any]]]) -> list[str]:
    """Run each ``(label, check)`` and return the labels of those that fail: a check's
    :class:`GradeFailure`, the student's code raising, or the student's process failing (a crash,
    a timeout). A check the grader itself could not run (the sandbox would not start, the machine
    was overloaded, a grader bug) blames nobody."""
    from .grading.client import StudentError, WorkerFailure

    labels = []
    for label, check in checks:
        try:
            check()
        except (GradeFailure, StudentError):
            labels.append(label)
        except WorkerFailure as e:
            if e.kind not in ("startup", "overload"):
                labels.append(label)
        except Exception:  # noqa: BLE001 - the grader's own fault names no task
            pass
    return labels


@contextmanager
def upstream(diagnose: Callable[[], list[str]]) -> Iterator[None]:
    """For a test whose check runs the student's code of other tasks (a training run uses the
    layers, the loss and the optimizer): when the body fails, ``diagnose()`` runs quick checks of
    those tasks (usually with :func:`failing`) and returns a line for each that fails, such as
    ``"Task 2 (Linear layer): backward"``; the test's feedback then names them. The score is what
    the body earned: this only says where the fault probably lies. The checks get
    :data:`UPSTREAM_SECONDS` of the student's time of their own."""
    try:
        yield
    except Exception as failure:
        from .grading.client import Deadline
        from .grading.feedback import UPSTREAM_ATTRIBUTE

        saved = Deadline.test_remaining
        if saved is not None:
            Deadline.test_remaining = max(saved, UPSTREAM_SECONDS)
        try:
            causes = [str(c) for c in diagnose() or []]
        except Exception:  # noqa: BLE001 - a diagnosis that breaks names nothing
            causes = []
        finally:
            Deadline.test_remaining = saved
        if causes:
            setattr(failure, UPSTREAM_ATTRIBUTE, causes)
        raise
