"""Week 5's hidden inputs and the judging steps the hidden tests share.

Seeds follow one scheme, so none is reused by accident: 1xx for task 1, 2xx for task 2, and so on.
Failure messages name the check and what differed, never an expected value or an input: the
checks in :mod:`coursekit.checks` keep values in their ``detail``, which hidden tests do not show,
and a driver's problem reaches the student only as the grader's own sentence for its code.

Where a task's module is built on an earlier task's code (multi-head attention on task 1's
attention, the block on task 2's causal mask, the trained model on everything), the tests replace
what they can by PyTorch's own layers (the drivers' stand-ins), and a failure caused by an earlier
task that is itself wrong says so (:func:`upstream_note`).
"""

from __future__ import annotations

from typing import Any

import torch
import transformer_oracle as oracle

from coursekit import tolerances
from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true
from coursekit.grading.client import ObjectProxy, StudentError, WorkerFailure

DTYPE = torch.float64

#: The grader's own words for each problem code of the week's drivers.
PROBLEMS = {
    "not_a_module": "is not a torch module (an nn.Module whose __init__ calls super().__init__())",
    "missing_submodule": "lacks a submodule the handout names",
    "parameter_names": "has parameters other than exactly the ones the handout names and shapes",
    "not_differentiable": "did not return a tensor of the input's shape that autograd can differentiate",
    "bad_request": "could not be run (a problem on the grader's side)",
}

# --- seeds and shapes -------------------------------------------------------------------------

#: Attention cases: (q shape, k shape, v shape, seed); the mask is made by each test.
ATTN_PLAIN = [((3, 5, 4), (3, 5, 4), (3, 5, 4), 101), ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), 102),
              ((2, 2, 1, 6), (2, 2, 7, 6), (2, 2, 7, 6), 103), ((1, 9, 16), (1, 9, 16), (1, 9, 3), 104)]
#: Multi-head attention cases: (N, T, d_model, n_heads, seed).
MHA_CASES = [(2, 5, 8, 2, 301), (3, 7, 12, 3, 302), (1, 4, 6, 1, 303), (2, 6, 8, 8, 304), (4, 1, 8, 4, 305)]
#: Positional-encoding sizes (T, d): even and odd d.
POS_EVEN = [(1, 4), (10, 16), (50, 64), (7, 2), (33, 10)]
POS_ODD = [(5, 3), (20, 7), (9, 1), (40, 33), (12, 5)]
#: Layer-norm input shapes (the last axis is normalized).
LN_SHAPES = [(4, 6), (2, 5, 8), (2, 3, 4, 7), (1, 16)]
#: Block cases: (N, T, d_model, n_heads, d_ff, seed).
BLOCK_CASES = [(2, 6, 8, 2, 32, 601), (3, 4, 12, 3, 20, 602), (1, 9, 8, 1, 16, 603), (2, 1, 8, 4, 32, 604)]
#: DecoderLM cases: (N, T, vocab, d_model, n_heads, n_layers, max_len, seed).
MODEL_CASES = [(2, 7, 11, 8, 2, 2, 9, 701), (3, 5, 6, 12, 3, 1, 5, 702), (1, 12, 20, 8, 4, 3, 16, 703)]
#: Generation: the stand-in language model (vocab, d); greedy cases (prefix length, seed), chosen so
#: that the greedy continuation uses at least 3 different tokens (checked by the test).
GEN_VOCAB, GEN_DIM = 9, 6
GEN_GREEDY = [(1, 800), (3, 810), (6, 850)]
#: Sampling: fixed next-token logits, temperatures, tokens drawn per temperature.
SAMPLING_LOGITS = torch.tensor([1.5, 0.0, -1.0, 0.7, 2.0], dtype=DTYPE)
SAMPLING_TEMPERATURES = [0.5, 2.0]
SAMPLING_DRAWS = 600
#: torch's global seed in the worker before a student module is built (reproducible initialization).
MODEL_SEED = 0
#: Training: the pool of training sequences handed to train_on_task (drawn by the task's training
#: sampler, which never returns a held-out question) and its seed.
TRAIN_POOL, TRAIN_POOL_SEED = 32768, 901
#: Held-out questions the grader asks, and its own seed for drawing them (this seed never reaches
#: the worker; only the questions do).
EVAL_QUESTIONS = 500
EVAL_SEED = 590_417


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(shape, seed: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(tuple(shape), generator=gen(seed), dtype=DTYPE)


# --- talking to the worker ---------------------------------------------------------------------

def reply(value: Any, what: str) -> Any:
    """A driver's answer, or a failure in the grader's words when it reports a problem."""
    if type(value) is dict and "problem" in value:
        text = PROBLEMS.get(value["problem"] if type(value["problem"]) is str else "", "could not be used")
        names = {k: value[k] for k in ("unknown", "unset", "mismatched") if k in value}
        raise GradeFailure(f"{what} {text}", f"{names}" if names else "")
    return value


def driver(submission, name: str, *args: Any, what: str, **kwargs: Any) -> Any:
    return reply(submission.driver(name, *args, **kwargs), what)


def build(submission, class_name: str, *args: Any) -> Any:
    """The student's ``class_name(*args)`` after seeding torch in the worker; must be an object."""
    submission.driver("set_seed", MODEL_SEED)
    obj = getattr(submission.transformer, class_name)(*args)
    expect_true(isinstance(obj, ObjectProxy), f"{class_name}(...) did not construct a module")
    return obj


def tensor(value: Any, what: str, shape=None, kind: str = "f") -> torch.Tensor:
    """``value`` as a tensor of ``shape`` and dtype kind (a driver's problem fails in its words)."""
    value = reply(value, what)
    arr = expect_array(value, what, shape=shape, dtype_kind=kind)
    return torch.as_tensor(arr)


def forward(submission, module: Any, *inputs: Any, what: str, shape=None, dtype: str | None = None):
    """``module(*inputs)`` in eval mode without gradients (optionally converted to ``dtype``)."""
    out = submission.driver("module_forward", module, *inputs, dtype=dtype)
    return tensor(out, what, shape=shape)


def expect_finite(value: torch.Tensor, what: str) -> None:
    """No NaN or infinity (an invariance between two NaN outputs proves nothing)."""
    expect_true(bool(torch.isfinite(value).all()), f"{what}: NaN or infinity where finite values were expected")


def set_parameters(submission, module: Any, state: dict, what: str) -> None:
    reply(submission.driver("set_parameters", module, {k: v.float() for k, v in state.items()}), what)


def expect_parameters(submission, module: Any, shapes: dict, what: str) -> None:
    """The module's parameters are exactly ``shapes`` (names and shapes)."""
    info = driver(submission, "parameter_info", module, what=what)
    got = {k: tuple(v) for k, v in info["parameters"].items()}
    want = {k: tuple(v) for k, v in shapes.items()}
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    wrong = sorted(k for k in set(want) & set(got) if got[k] != want[k])
    expect_true(not missing, f"{what} lacks {len(missing)} parameter(s) the handout names",
                f"missing: {missing}")
    expect_true(not extra, f"{what} has {len(extra)} parameter(s) the handout does not name",
                f"extra: {extra}")
    expect_true(not wrong, f"{what}: {len(wrong)} parameter(s) have the wrong shape",
                f"wrong shapes: {[(k, got[k], want[k]) for k in wrong]}")


# --- upstream tasks ------------------------------------------------------------------------------

def own_causal_mask(submission, T: int) -> torch.Tensor | None:
    """The student's ``causal_mask(T)`` when it is a bool (T, T) tensor that differs from the true
    mask (None otherwise): a block may be judged with it, so a wrong task 2 costs task 2 only."""
    try:
        got = submission.transformer.causal_mask(T)
    except (StudentError, WorkerFailure):
        return None
    if not (isinstance(got, torch.Tensor) and got.dtype == torch.bool and tuple(got.shape) == (T, T)):
        return None
    return None if torch.equal(got, oracle.causal(T)) else got


def own_positions(submission, T: int, d: int) -> torch.Tensor | None:
    """The student's ``sinusoidal_positions(T, d)`` when it is a finite float (T, d) tensor that
    differs from the closed form (None otherwise), for the same reason."""
    try:
        got = submission.transformer.sinusoidal_positions(T, d)
    except (StudentError, WorkerFailure):
        return None
    if not (isinstance(got, torch.Tensor) and got.is_floating_point() and tuple(got.shape) == (T, d)
            and bool(torch.isfinite(got).all())):
        return None
    tol = tolerances.for_dtype(torch.float32)
    close = torch.allclose(got.double(), oracle.positions(T, d), rtol=tol.rtol, atol=tol.atol)
    return None if close else got.double()


def expect_close_any(got: torch.Tensor, wants: list, what: str) -> None:
    """``got`` close to one of ``wants`` (the first is the true value; the others use the student's
    own upstream results); a failure reports the comparison with the first."""
    for want in wants[1:]:
        try:
            expect_close(got, want, what)
            return
        except GradeFailure:
            pass
    expect_close(got, wants[0], what)


def _passes(check) -> bool:
    try:
        check()
        return True
    except (GradeFailure, StudentError, WorkerFailure, TypeError, ValueError, RuntimeError, IndexError,
            KeyError, AttributeError):
        return False


def attention_ok(submission) -> bool:
    q, k, v = randn((2, 3, 4), 91), randn((2, 5, 4), 92), randn((2, 5, 3), 93)
    mask = randn((3, 5), 94) > -0.5
    mask[:, 0] = True
    want, _ = oracle.attention(q, k, v, mask)

    def check():
        got = submission.transformer.scaled_dot_product_attention(q, k, v, mask)
        expect_close(tensor(got[0], "out", shape=want.shape), want, "out")
    return _passes(check)


def causal_mask_ok(submission) -> bool:
    def check():
        got = tensor(submission.transformer.causal_mask(6), "mask", shape=(6, 6), kind="b")
        expect_true(bool(torch.equal(got, oracle.causal(6))), "mask")
    return _passes(check)


def positions_ok(submission) -> bool:
    def check():
        got = tensor(submission.transformer.sinusoidal_positions(9, 6), "PE", shape=(9, 6))
        expect_close(got, oracle.positions(9, 6).float(), "PE")
    return _passes(check)


def layer_norm_ok(submission) -> bool:
    x = randn((3, 6), 95)

    def check():
        module = build(submission, "LayerNorm", 6)
        got = forward(submission, module, x, what="LayerNorm", shape=x.shape, dtype="float64")
        expect_close(got, oracle.layer_norm(x, torch.ones(6, dtype=DTYPE), torch.zeros(6, dtype=DTYPE)), "LN")
    return _passes(check)


def mha_ok(submission) -> bool:
    x = randn((2, 4, 6), 96)
    state = oracle.random_state(oracle.mha_parameter_shapes(6), 97)

    def check():
        module = build(submission, "MultiHeadAttention", 6, 2)
        set_parameters(submission, module, state, "MultiHeadAttention")
        got = forward(submission, module, x, oracle.causal(4), what="MHA", shape=x.shape, dtype="float64")
        expect_close(got, oracle.multi_head_attention(x, state, 2, oracle.causal(4)), "MHA")
    return _passes(check)


def block_ok(submission) -> bool:
    x = randn((2, 5, 8), 98)
    state = oracle.random_state(oracle.block_parameter_shapes(8, 16), 99)

    def check():
        module = build(submission, "TransformerBlock", 8, 2, 16)
        set_parameters(submission, module, state, "TransformerBlock")
        got = forward(submission, module, x, what="block", shape=x.shape, dtype="float64")
        expect_close(got, oracle.block(x, state, 2), "block")
    return _passes(check)


UPSTREAM = {1: ("scaled_dot_product_attention", attention_ok), 2: ("causal_mask", causal_mask_ok),
            3: ("MultiHeadAttention", mha_ok), 4: ("sinusoidal_positions", positions_ok),
            5: ("LayerNorm", layer_norm_ok), 6: ("TransformerBlock", block_ok)}


def upstream_note(submission, tasks: list[int]) -> str:
    """A sentence naming the earlier tasks (of ``tasks``) whose code fails a quick check, or ''."""
    failing = [f"task {t} ({UPSTREAM[t][0]})" for t in tasks if not UPSTREAM[t][1](submission)]
    if not failing:
        return ""
    return f" (this uses {', '.join(failing)}, which is wrong too: fix {'it' if len(failing) == 1 else 'them'} first)"


def with_upstream(submission, tasks: list[int], check) -> None:
    """Run ``check()``; if it fails, add to its message the earlier tasks that are wrong too."""
    try:
        check()
    except GradeFailure as failure:
        note = upstream_note(submission, tasks)
        raise GradeFailure(failure.summary + note, failure.detail) from None
