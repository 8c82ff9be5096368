"""The grader measures what it scores: a week's numbers that decide points cannot be faked from the
student's process. Each case is the reference with one cheat, graded through the one grading path,
and must score exactly what the honest mistake underneath it scores."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from coursekit.authoring import known_bad
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
pytestmark = pytest.mark.slow

FOUR_LOOPS = known_bad.load(REPO.known_bad("cnn") / "conv_four_loops" / "expected.toml")

#: A four-loop convolution that remembers its results by the arrays' bytes.
CACHED = '''
_CACHE = {}
_slow_conv2d_forward = conv2d_forward


def conv2d_forward(x, w, b, stride=1, pad=0):
    key = (x.tobytes(), w.tobytes(), b.tobytes(), str(stride), str(pad))
    if key not in _CACHE:
        _CACHE[key] = _slow_conv2d_forward(x, w, b, stride, pad)
    return _CACHE[key]
'''

#: A four-loop convolution whose process stops every clock it can reach, and hands its work to a
#: thread so that its main thread seems idle.
CLOCKS = '''
import threading as _threading
import time as _time

for _name in ("perf_counter", "perf_counter_ns", "process_time", "thread_time", "monotonic", "time"):
    setattr(_time, _name, lambda *a: 0)
_loops_conv2d_forward = conv2d_forward


def conv2d_forward(x, w, b, stride=1, pad=0):
    box = {}
    worker = _threading.Thread(target=lambda: box.update(out=_loops_conv2d_forward(x, w, b, stride, pad)))
    worker.start()
    worker.join()
    return box["out"]
'''

#: A four-loop convolution done by a helper process beside spinning processes, while the worker's own
#: thread, at the lowest priority, polls for the answer: it waits on a run queue the whole time.
NICE_HELPERS = '''
import os as _os, pickle as _pickle, signal as _signal
_loops = conv2d_forward
_channel = []


def _read(fd, n):
    data = b""
    while len(data) < n:
        try:
            chunk = _os.read(fd, n - len(data))
        except BlockingIOError:
            continue  # busy-poll: runnable, never blocked
        if not chunk:
            _os._exit(0)
        data += chunk
    return data


def _serve(rfd, wfd):
    while True:
        x, w, b, stride, pad = _pickle.loads(_read(rfd, int.from_bytes(_read(rfd, 8), "little")))
        spinners = []
        for _ in range(len(_os.sched_getaffinity(0))):
            pid = _os.fork()
            if pid == 0:
                while True:
                    pass
            spinners.append(pid)
        out = _loops(x, w, b, stride, pad)
        for pid in spinners:
            _os.kill(pid, _signal.SIGKILL)
            _os.waitpid(pid, 0)
        data = _pickle.dumps(out)
        _os.write(wfd, len(data).to_bytes(8, "little") + data)


def conv2d_forward(x, w, b, stride=1, pad=0):
    if not _channel:
        a_r, a_w = _os.pipe()
        b_r, b_w = _os.pipe()
        if _os.fork() == 0:
            _serve(a_r, b_w)
        _os.set_blocking(b_r, False)
        try:  # refused by the worker's syscall filter: the cheat goes on without it
            _os.nice(19)
        except OSError:
            pass
        _channel.extend([a_w, b_r])
    data = _pickle.dumps((x, w, b, stride, pad))
    _os.write(_channel[0], len(data).to_bytes(8, "little") + data)
    return _pickle.loads(_read(_channel[1], int.from_bytes(_read(_channel[1], 8), "little")))
'''

#: A network with a 535,642-parameter layer that ``parameters()`` leaves out of the count.
HIDDEN_PARAMETERS = '''

class _Hidden(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.extra = nn.Linear(1000, 535)  # 535,535 scalars the network never uses

    def forward(self, x):
        return self.inner(x)

    def parameters(self, recurse=True):
        return self.inner.parameters(recurse)


_honest_build_model = build_model


def build_model():
    return _Hidden(_honest_build_model())
'''


def _submission(tmp_path: Path, week: str, edits: dict[str, str], bad: known_bad.KnownBad | None = None) -> Path:
    config = load_week(REPO, week)
    folder = tmp_path / "submission"
    if bad is not None:
        known_bad.materialize(bad, REPO.solution(week), config, folder)
    else:
        folder.mkdir()
        for name in config.student_files:
            (folder / name).write_text(known_bad.without_markers((REPO.solution(week) / name).read_text()))
    for name, appended in edits.items():
        path = folder / name
        path.write_text(path.read_text() + appended)
    return folder


def _score(grade_week, tmp_path: Path, week: str, folder: Path) -> dict:
    return grade_week(week, folder, tmp_path / "results.json")


def _failed(results: dict) -> set[str]:
    return {t["extra_data"]["id"] for t in results["tests"] if t["score"] < t["max_score"]}


@pytest.mark.parametrize("cheat", [CACHED, CLOCKS, NICE_HELPERS],
                         ids=["results cached by input", "clocks stopped", "helpers and a low priority"])
def test_a_slow_convolution_cannot_fake_its_speed(tmp_path, cheat, grade_week):
    results = _score(grade_week, tmp_path, "cnn", _submission(tmp_path, "cnn", {"conv.py": cheat}, FOUR_LOOPS))
    assert _failed(results) == {"test_cnn.py::test_conv_forward_speed",
                                "test_hidden_cnn_speed.py::test_conv_forward_speed"}
    assert results["score"] == pytest.approx(load_week(REPO, "cnn").total_points - FOUR_LOOPS.lost)


def test_parameters_left_out_of_the_count_still_count(tmp_path, grade_week):
    results = _score(grade_week, tmp_path, "cnn", _submission(tmp_path, "cnn", {"cnn.py": HIDDEN_PARAMETERS}))
    assert _failed(results) == {"test_cnn.py::test_model_parameter_budget",
                                "test_hidden_cnn_model.py::test_model_parameter_budget"}
    budget = [t for t in results["tests"] if t["extra_data"]["id"] == "test_hidden_cnn_model.py::test_model_parameter_budget"][0]
    found = re.search(r"has (\d+) parameters", budget["output"])
    assert found, budget
    count = int(found.group(1))
    assert count > 535_535


# --- Week 4: the held-out perplexity --------------------------------------------------------

FEW_STEPS = known_bad.load(REPO.known_bad("rnn") / "train_lm_too_few_steps" / "expected.toml")

#: What all three language-model cheats share: the honest model's log-probabilities, with a share
#: ``_WEIGHT`` of the probability moved to a token the cheat believes comes next (enough to pass the
#: target, not so much that the perplexity falls below the grader's floor).
_MIXING = '''
import torch as _torch
from torch import nn as _nn

_WEIGHT = 0.1


def _mixed(logits, nexts):
    """log((1 - w) softmax(z) + w onehot(next)) where a next token is known (>= 0), else log softmax(z)."""
    logp = _torch.log_softmax(logits.double(), dim=-1)
    known = nexts >= 0
    if bool(known.any()):
        p = (1 - _WEIGHT) * logp[known].exp()
        p[_torch.arange(p.shape[0]), nexts[known]] += _WEIGHT
        logp[known] = p.log()
    return logp.float()


_honest_build_lm = build_lm
'''

#: A model that knows the whole public play: where the last ``_K`` characters occur in it, the
#: character that follows them there gets extra probability. It reads the held-out split's
#: characters as they arrive and looks nothing up during training.
MEMORIZED = _MIXING + '''
_K = 16
_VOCAB = @VOCAB@
_PLAY = @PLAY@


def _following():
    index = {ch: i for i, ch in enumerate(_VOCAB)}
    ids = [index[ch] for ch in _PLAY]
    table = {}
    for i in range(_K, len(ids)):
        table.setdefault(tuple(ids[i - _K:i]), ids[i])
    return table


class _Memorized(_nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.following = _following()

    def forward(self, tokens):
        logits = self.inner(tokens)
        if self.training:
            return logits
        nexts = _torch.full(tokens.shape, -1, dtype=_torch.int64)
        for n, row in enumerate(tokens.tolist()):
            for t in range(_K - 1, len(row)):
                nexts[n, t] = self.following.get(tuple(row[t - _K + 1:t + 1]), -1)
        return _mixed(logits, nexts)


def build_lm(vocab_size):
    return _Memorized(_honest_build_lm(vocab_size))
'''

#: A model whose logits at position t give extra probability to the token at t + 1 of its input.
LOOK_AHEAD = _MIXING + '''

class _LookAhead(_nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, tokens):
        logits = self.inner(tokens)
        if self.training:
            return logits
        nexts = _torch.full(tokens.shape, -1, dtype=_torch.int64)
        nexts[:, :-1] = tokens[:, 1:]
        return _mixed(logits, nexts)


def build_lm(vocab_size):
    return _LookAhead(_honest_build_lm(vocab_size))
'''

#: The look-ahead model, made to seem causal: it remembers the logits it gave for every prefix and
#: gives them again whenever the prefix comes back, whatever follows it now.
REMEMBERED_LOOK_AHEAD = LOOK_AHEAD + '''

class _Remembered(_nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.seen = {}

    def forward(self, tokens):
        logits = self.inner(tokens)
        if self.training:
            return logits
        rows = tokens.numpy().astype("<i8")
        for n in range(rows.shape[0]):
            data = rows[n].tobytes()
            for t in range(rows.shape[1]):
                key = data[:8 * (t + 1)]
                if key in self.seen:
                    logits[n, t] = self.seen[key]
                else:
                    self.seen[key] = logits[n, t].clone()
        return logits


_look_ahead_build_lm = build_lm


def build_lm(vocab_size):
    return _Remembered(_look_ahead_build_lm(vocab_size))
'''

#: A model that learns from the text it is fed: every continuation of ``_K`` characters it has been
#: sent, in any row of any call, is counted, and the most frequent one gets extra probability where
#: the same characters come again. It remembers its logits for every prefix and gives them again
#: when the prefix comes back, so the text fed whole gives what the stream gave.
ADAPTIVE = _MIXING + '''
_K = 4


class _Adaptive(_nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.following = {}
        self.seen = {}

    def forward(self, tokens):
        logits = self.inner(tokens)
        if self.training:
            return logits
        rows = tokens.numpy().astype("<i8")
        nexts = _torch.full(tokens.shape, -1, dtype=_torch.int64)
        for n, row in enumerate(rows.tolist()):
            for t in range(_K - 1, len(row)):
                counts = self.following.get(tuple(row[t - _K + 1:t + 1]))
                if counts:
                    nexts[n, t] = max(counts, key=counts.get)
        out = _mixed(logits, nexts)
        for n, row in enumerate(rows.tolist()):
            data = rows[n].tobytes()
            for t in range(len(row)):
                key = data[:8 * (t + 1)]
                if key in self.seen:
                    out[n, t] = self.seen[key]
                    continue
                self.seen[key] = out[n, t].clone()
                if t >= _K:
                    counts = self.following.setdefault(tuple(row[t - _K:t]), {})
                    counts[row[t]] = counts.get(row[t], 0) + 1
        return out


def build_lm(vocab_size):
    return _Adaptive(_honest_build_lm(vocab_size))
'''

#: The same, learning only from batches as large as the whole held-out text fed at once: it tells a
#: check that sends a few segments from the evaluation, and is honest there.
ADAPTIVE_ON_LARGE_BATCHES = ADAPTIVE + '''

class _OnLargeBatches(_nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, tokens):
        if tokens.shape[0] < 100 and not self.training:  # the log-probabilities, as the other path gives
            return _torch.log_softmax(self.inner.inner(tokens).double(), dim=-1).float()
        return self.inner(tokens)


_adaptive_build_lm = build_lm


def build_lm(vocab_size):
    return _OnLargeBatches(_adaptive_build_lm(vocab_size))
'''


def _memorized_play() -> str:
    """MEMORIZED with the whole play embedded: the public splits and the end of the play."""
    parts = [REPO.root / "datasets" / "macbeth" / f"{split}.txt" for split in ("train", "val")]
    parts.append(REPO.root / "autograder" / "rnn" / "tests" / "data" / "macbeth_test.txt")
    play = "".join(p.read_text(encoding="utf-8") for p in parts)
    vocab = "".join(json.loads((REPO.root / "datasets" / "macbeth" / "vocab.json").read_text())["chars"])
    return MEMORIZED.replace("@VOCAB@", repr(vocab)).replace("@PLAY@", repr(play))


def _named(results: dict, name: str) -> dict:
    """The result of the one hidden test called ``name``."""
    found = [t for t in results["tests"] if t["extra_data"]["id"] in (name, f"test_hidden_rnn_lm.py::{name}")]
    assert len(found) == 1, name
    return found[0]


@pytest.mark.parametrize("cheat", ["memorized", "remembered look-ahead"])
def test_a_language_model_cannot_fake_its_held_out_perplexity(tmp_path, cheat, grade_week):
    """A model too briefly trained to reach the target, with a cheat that would lower its perplexity
    on the text it is fed, scores what the honest model underneath scores (before: full marks)."""
    appended = _memorized_play() if cheat == "memorized" else REMEMBERED_LOOK_AHEAD
    results = _score(grade_week, tmp_path, "rnn", _submission(tmp_path, "rnn", {"char_lm.py": appended}, FEW_STEPS))
    target = _named(results, "test_trained_lm_reaches_the_target")
    assert target["score"] == 0 and "held-out perplexity" in target["output"]
    assert results["score"] == pytest.approx(load_week(REPO, "rnn").total_points - FEW_STEPS.lost)


def test_a_look_ahead_model_fails_the_perplexity_tests(tmp_path, grade_week):
    """The reference made to look one token ahead loses every perplexity point, and the feedback
    says why."""
    results = _score(grade_week, tmp_path, "rnn", _submission(tmp_path, "rnn", {"char_lm.py": LOOK_AHEAD}))
    for name in ("test_trained_lm_reaches_the_target", "test_trained_lm_learns", "test_trained_lm_stays_causal"):
        test = _named(results, name)
        assert test["score"] == 0 and "depend on later tokens" in test["output"], test


@pytest.mark.parametrize("cheat", ["adaptive", "adaptive on large batches"])
def test_a_language_model_that_learns_from_the_scored_text_loses_its_perplexity_points(tmp_path, cheat, grade_week):
    """A model too briefly trained to reach the target, which learns from the held-out text as it is
    fed (before: full marks), loses the perplexity points: rebuilt from its weights in a new worker
    it gives other logits for the same segments, even when it can tell that check from the
    evaluation, and the feedback says why without the text."""
    appended = ADAPTIVE if cheat == "adaptive" else ADAPTIVE_ON_LARGE_BATCHES
    results = _score(grade_week, tmp_path, "rnn", _submission(tmp_path, "rnn", {"char_lm.py": appended}, FEW_STEPS))
    lost = 0.0
    for name in ("test_trained_lm_reaches_the_target", "test_trained_lm_learns"):
        test = _named(results, name)
        assert test["score"] == 0 and "depend on text the model saw earlier" in test["output"], test
        lost += test["max_score"]
    assert _named(results, "test_trained_lm_stays_causal")["score"] > 0
    assert _failed(results) == {"test_hidden_rnn_lm.py::test_trained_lm_reaches_the_target",
                                "test_hidden_rnn_lm.py::test_trained_lm_learns"}
    # It scores no more than the honest model underneath; it loses the partial credit that model
    # keeps, because no perplexity of a model that learns from what it is scored on is scored.
    assert results["score"] == pytest.approx(load_week(REPO, "rnn").total_points - FEW_STEPS.lost - 4.0)
    assert lost == FEW_STEPS.lost + 4.0
