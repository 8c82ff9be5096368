"""Week 4's part B: the held-out text, the configured training run, and the checks the language-model
tests share (shapes, causality, the stand-in models for ``sample``).

The scored text is *The Warden of the Ford*, scenes written for this course and published nowhere
(``data/warden_of_the_ford.txt`` beside these tests, CC0): no model can have memorized it. The end of
*Macbeth* (``data/macbeth_test.txt``, the corpus's test split) is public text, so it is never
scored; it is the input of the trained model's cut-and-replace causality check. Both are checked
against ``data/checksums.json`` before use, never ship to students, and reach the worker only as a
model's input.

The scored text is cut into segments of ``SEGMENT + 1`` characters and *streamed*: the j-th call
sends the first j + 1 characters of every segment and keeps only the logits at the last position,
which predict character j + 1, a character the student's process has not yet received, in any call.
So the perplexity cannot use the characters it predicts, however the model looks ahead or
remembers earlier calls. A causal model gives the same logits when the segments are fed whole,
which the grader checks afterwards. A model that learns from the scored text as it arrives (other
rows, earlier calls) is caught last: rebuilt from its weights in a fresh worker, which has received
none of the text and is given its weights from before the evaluation, it must give the same
logits on a few segments drawn at random each grading (sent as the evaluation sent them).
Seeds here never travel to the worker except where a test
passes them as an argument (``sample``'s seed, the training seed the handout states).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import numpy as np
import rnn_oracle as oracle
import torch

from coursekit import tolerances
from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true
from coursekit.data import encode, load_verified_text, load_vocab
from coursekit.grading.client import ObjectProxy, StudentError

DATA = Path(__file__).resolve().parent / "data"
#: The scored held-out text: original, unpublished scenes in the layout of the training text.
HELDOUT = DATA / "warden_of_the_ford.txt"
#: Public text the model was not trained on: the input of the trained model's causality check.
PUBLIC_END = DATA / "macbeth_test.txt"
#: The configured run of the handout: train_lm(build_lm(V), train_tokens, **TRAIN_RUN).
TRAIN_RUN = {"steps": 500, "seq_len": 64, "seed": 0}
#: The scored text's segments are this many input characters long (each with its next character as
#: the last target), read from a fresh start: the configured run's training windows.
SEGMENT = TRAIN_RUN["seq_len"]
#: The causality check's public text is fed in chunks of this many tokens.
CHUNK = 256
#: torch's global seed set in the worker before build_lm(), so initialization is reproducible.
MODEL_SEED = 0
#: The grader's own seeds for the causality checks (cut points, replacement tokens, row order).
CAUSAL_SEED_TRAINED, CAUSAL_SEED_UNTRAINED = 1001, 801
#: How many scored segments the trained model streams again, rebuilt from its weights in a fresh
#: worker (drawn at random each grading): a model that learns from the text as it is fed gives other
#: logits for them there, whichever they are; so a few suffice, and cost little.
REPLAY_SEGMENTS = 6
#: Stand-in tables for sample(): the smallest gap between the best and second-best logit along a
#: greedy path that the grader accepts for its own case (so that float32 rounding inside the
#: stand-in cannot change which token is best); a property of the grader's input, not a tolerance.
MIN_GREEDY_GAP = 0.05


def heldout_segments() -> np.ndarray:
    """(n, SEGMENT + 1) int64: consecutive segments of the scored text (the rest is left out). A
    segment's first SEGMENT tokens are inputs; tokens 1..SEGMENT are their targets."""
    tokens = encode(load_verified_text(HELDOUT), load_vocab())
    n = len(tokens) // (SEGMENT + 1)
    return tokens[:n * (SEGMENT + 1)].reshape(n, SEGMENT + 1)


def public_chunks() -> np.ndarray:
    """(n, CHUNK) int64: consecutive chunks of the public end of the play."""
    tokens = encode(load_verified_text(PUBLIC_END), load_vocab())
    n = len(tokens) // CHUNK
    return tokens[:n * CHUNK].reshape(n, CHUNK)


def streamed_logits(submission: Any, model: Any, segments: np.ndarray, vocab_size: int, what: str) -> np.ndarray:
    """(n, SEGMENT, V) float32: the logits at position j of every segment, each from a call whose
    input ends at position j (see the module docstring); the calls go in order of j, so no call
    holds a character that an earlier call's kept logits predict."""
    n, length = segments.shape
    out = np.empty((n, length - 1, vocab_size), dtype=np.float32)
    for j in range(length - 1):
        prefix = torch.from_numpy(np.ascontiguousarray(segments[:, :j + 1]))
        got = submission.driver("lm_last_logits", model, prefix, on="char_lm")
        arr = expect_array(got, f"{what} (the logits at the last position)", shape=(n, vocab_size), dtype_kind="f")
        expect_true(bool(np.all(np.isfinite(arr))), f"{what}: contain NaN or infinity")
        out[:, j] = arr
    return out


def expect_same_when_whole(submission: Any, model: Any, segments: np.ndarray, streamed: np.ndarray,
                           vocab_size: int, device: str, what: str) -> None:
    """The logits of the segments fed whole must equal the streamed ones, each computed before the
    tokens after it were sent (within float32's tolerance on ``device``, where the grader computes)."""
    whole = logits_of(submission, model, segments[:, :-1], vocab_size, f"{what} (fed whole)")
    try:
        expect_close(whole, streamed, "logits", tolerance=tolerances.for_dtype(np.float32, device))
    except GradeFailure as failure:
        raise GradeFailure(f"{what}: the logits at position t depend on later tokens: they changed when "
                           f"the tokens after t were added to the input ({failure.summary})") from None


def replay_choice(n: int) -> np.ndarray:
    """``REPLAY_SEGMENTS`` of the ``n`` scored segments, drawn from the operating system's
    randomness each grading (no seed the student's code could read or guess), in increasing order."""
    picks: set[int] = set()
    while len(picks) < min(REPLAY_SEGMENTS, n):
        picks.add(secrets.randbelow(n))
    return np.array(sorted(picks), dtype=np.int64)


def weights_of(submission: Any, model: Any, what: str) -> dict:
    """The model's ``state_dict()`` as named tensors (the ``state_dict`` driver: data, never a
    pickle), taken before it is sent any of the scored text. Raises :class:`GradeFailure` when it
    is anything else, since such a model cannot be rebuilt from its weights."""
    state = submission.driver("state_dict", model, on="char_lm")
    expect_true(isinstance(state, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                for k, v in state.items()),
                f"{what} could not be rebuilt from its weights: its state_dict() is not a dict of named tensors")
    return state


def expect_same_in_a_fresh_worker(submission: Any, weights: dict, vocab_size: int, segments: np.ndarray,
                                  streamed: np.ndarray, device: str, what: str) -> None:
    """The trained model, rebuilt from its weights in a fresh worker, must give the same streamed
    logits on a few segments (:func:`replay_choice`) as it gave in the evaluation.

    ``weights`` are the model's state before it was sent any scored text (:func:`weights_of`). In a
    new worker, which has received none of the scored text, ``build_lm(vocab_size)`` is built as
    before and the weights loaded strictly; its state must then be those weights. The chosen
    segments are streamed as in the evaluation. A model whose logits depend on text it was fed
    earlier (other rows, earlier calls) gives other logits there, whether or not it can tell this
    replay from the evaluation: it has not been sent that text here. Raises :class:`GradeFailure`
    saying which, with no text and no values; the fresh worker is stopped afterwards either way.
    """
    chosen = replay_choice(len(segments))
    fresh = submission.fresh()
    try:
        rebuilt = build(fresh, vocab_size)
        try:
            fresh.driver("load_state_dict", rebuilt, weights, on="char_lm")
            back = fresh.driver("state_dict", rebuilt, on="char_lm")
        except StudentError as e:
            raise GradeFailure(f"{what} could not be rebuilt from its weights: build_lm({vocab_size}) in a new "
                               f"process does not accept its state_dict (load_state_dict, strict, raised "
                               f"{e.type})") from None
        same = (isinstance(back, dict) and back.keys() == weights.keys()
                and all(isinstance(back[k], torch.Tensor) and back[k].shape == v.shape and back[k].dtype == v.dtype
                        and torch.equal(back[k], v) for k, v in weights.items()))
        expect_true(same, f"{what} could not be rebuilt from its weights: build_lm({vocab_size}) in a new process, "
                    "given its state_dict, does not hold the same state")
        again = streamed_logits(fresh, rebuilt, segments[chosen], vocab_size, f"{what}, rebuilt in a new process,")
        try:
            expect_close(again, streamed[chosen], "logits", tolerance=tolerances.for_dtype(np.float32, device))
        except GradeFailure:
            raise GradeFailure(f"{what}: its logits depend on text the model saw earlier: rebuilt from its "
                               "weights in a new process and given a few of the held-out segments in the same "
                               "way, it gave other logits for them") from None
    finally:
        fresh.stop()


def expect_module(submission: Any, got: Any, what: str) -> Any:
    """``got`` must be a torch module (it stays in the worker; the grader holds a handle)."""
    expect_true(isinstance(got, ObjectProxy) and submission.driver("is_torch_module", got, on="char_lm") is True,
                f"{what} must return a torch module (an nn.Module)")
    return got


def build(submission: Any, vocab_size: int) -> Any:
    """``build_lm(vocab_size)`` after seeding torch in the worker; must give a module."""
    submission.driver("set_seed", MODEL_SEED, on="char_lm")
    return expect_module(submission, submission.char_lm.build_lm(vocab_size), "build_lm")


def logits_of(submission: Any, model: Any, tokens: np.ndarray, vocab_size: int, what: str) -> np.ndarray:
    """The model's logits (N, T, V) for tokens (N, T), evaluation mode, no gradients; float, finite."""
    got = submission.driver("lm_logits", model, torch.from_numpy(np.ascontiguousarray(tokens)), on="char_lm")
    arr = expect_array(got, what, shape=tokens.shape + (vocab_size,), dtype_kind="f")
    expect_true(bool(np.all(np.isfinite(arr))), f"{what}: contain NaN or infinity")
    return np.asarray(arr, dtype=np.float32)


def expect_causal(submission: Any, model: Any, tokens: np.ndarray, logits: np.ndarray, vocab_size: int,
                  seed: int, what: str) -> None:
    """Logits at positions up to a cut must not change when every later token changes.

    Each row gets its own cut; the tokens after it are replaced by random ones, and the rows are
    sent in another order, so a model that looks ahead in its row, or at other rows, fails.
    """
    g = np.random.default_rng(seed)
    N, T = tokens.shape
    cuts = g.integers(0, T - 1, size=N)
    changed = tokens.copy()
    for r, cut in enumerate(cuts):
        changed[r, cut + 1:] = (tokens[r, cut + 1:] + g.integers(1, vocab_size, size=T - cut - 1)) % vocab_size
    order = g.permutation(N)
    again = logits_of(submission, model, changed[order], vocab_size, f"{what} (later tokens changed)")
    back = np.empty_like(again)
    back[order] = again
    keep = np.arange(T)[None, :] <= cuts[:, None]  # (N, T): positions up to each row's cut
    try:
        expect_close(back[keep], logits[keep], "logits before the changed tokens")
    except GradeFailure as failure:
        raise GradeFailure(f"{what}: the logits at position t depend on later tokens or on other rows of the "
                           f"batch: they changed when only those changed ({failure.summary})") from None


def random_tokens(seed: int, shape: tuple, vocab_size: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab_size, size=shape).astype(np.int64)


# --- stand-in models for sample() -------------------------------------------------------------


def context_tables(seed: int, V: int) -> dict:
    """Tables of a stand-in whose next-token logits depend on the last two tokens."""
    g = np.random.default_rng(seed)
    return {"A": (1.5 * g.standard_normal((V, V))).astype(np.float32),
            "B": (1.5 * g.standard_normal((V + 1, V))).astype(np.float32),
            "c": g.standard_normal(V).astype(np.float32)}


def unigram_tables(logits: list[float]) -> dict:
    """Tables of a stand-in that gives the same logits ``z`` at every position."""
    V = len(logits)
    return {"A": np.zeros((V, V), np.float32), "B": np.zeros((V + 1, V), np.float32),
            "c": np.asarray(logits, dtype=np.float32)}


def stand_in(submission: Any, tables: dict) -> Any:
    return submission.driver("stand_in_lm", torch.from_numpy(tables["A"]), torch.from_numpy(tables["B"]),
                             torch.from_numpy(tables["c"]), on="char_lm")


def expect_sample(got: Any, prefix: np.ndarray, n: int, V: int, what: str) -> np.ndarray:
    """``got`` is (P + n,) integer tokens in 0..V-1 that start with ``prefix``."""
    arr = expect_array(got, what, shape=(len(prefix) + n,), dtype_kind="iu")
    expect_true(bool(np.array_equal(arr[:len(prefix)], prefix)), f"{what}: does not start with the prefix")
    expect_true(bool(np.all((arr >= 0) & (arr < V))), f"{what}: holds token ids outside 0..V-1")
    return arr.astype(np.int64)


def greedy_case(seed: int, V: int, prefix_len: int, n: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """A context stand-in, a prefix, and its greedy continuation (computed here from the tables)."""
    tables = context_tables(seed, V)
    prefix = np.random.default_rng(seed + 1).integers(0, V, size=prefix_len).astype(np.int64)
    want, gap = oracle.greedy(tables, prefix, n)
    assert gap >= MIN_GREEDY_GAP, "grader self-check: the stand-in's greedy path has a near-tie"
    return tables, prefix, want
