"""Forbidden means unusable, however it is spelled: each spelling of a forbidden API scores exactly
what the plain ``import`` of it scores (the tasks that use it fail), never full marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursekit.authoring import known_bad
from coursekit.authoring.commands.grade import grade
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
pytestmark = pytest.mark.slow

TORCH_SIGMOID = '''

def sigmoid(z):
    return _T.sigmoid(_T.as_tensor(np.asarray(z, dtype=np.float64))).numpy()
'''
PERCEPTRON_SPELLINGS = {
    "plain import": ("import torch as _T\n", ""),
    "computed name": ('_T = __import__("".join(map(chr, (116, 111, 114, 99, 104))))\n', ""),
    "importlib": ("import importlib as _il\n_T = _il.import_module('tor' + 'ch')\n", ""),
    "byte-order mark": ("import torch as _T\n", "\ufeff"),
    "encoding declaration": ("import torch as _T\n", "# -*- coding: latin-1 -*-\n"),
}

TORCH_CONV = '''

def conv2d_forward(x, w, b, stride=1, pad=0):
    F = _T.nn.functional
    out = F.conv2d(_T.as_tensor(x), _T.as_tensor(w), _T.as_tensor(b), stride, pad).numpy()
    return out, (x, w, b, stride, pad)
'''
CNN_SPELLINGS = {
    "plain import": "import torch as _T\n",
    "re-exported by cnn.py": "from cnn import torch as _T\n",
    "computed name through importlib": "import importlib\n_T = importlib.import_module(''.join(['to', 'rch']))\n",
}


def _write(folder: Path, week: str, file: str, prefix: str, head: str, body: str) -> Path:
    config = load_week(REPO, week)
    folder.mkdir(parents=True)
    for name in config.student_files:
        text = known_bad.without_markers((REPO.solution(week) / name).read_text())
        if name == file:  # the import after the module's own (its __future__ import stays first)
            text = head + text + "\n" + prefix + body
        encoding = "latin-1" if "latin-1" in head else "utf-8"
        (folder / name).write_bytes(text.encode(encoding, "replace"))  # a docstring's ŷ becomes ?
    return folder


def _score(tmp_path: Path, week: str, folder: Path) -> dict:
    return grade(REPO, load_week(REPO, week), folder, tmp_path / f"{folder.name}.json", quiet=True)


def test_every_spelling_of_torch_in_week_1_scores_what_a_plain_import_scores(tmp_path):
    scores = {}
    for label, (prefix, head) in PERCEPTRON_SPELLINGS.items():
        folder = _write(tmp_path / label.replace(" ", "-"), "perceptron", "perceptron.py", prefix, head,
                        TORCH_SIGMOID)
        scores[label] = _score(tmp_path, "perceptron", folder)["score"]
    total = load_week(REPO, "perceptron").total_points
    assert 0.5 * total < scores["plain import"] < total, scores  # only the tasks that use it fail
    assert len(set(scores.values())) == 1, scores


def test_every_spelling_of_torch_in_a_numpy_file_of_week_3_scores_what_a_plain_import_scores(tmp_path):
    scores = {}
    for label, prefix in CNN_SPELLINGS.items():
        folder = _write(tmp_path / label.replace(" ", "-"), "cnn", "conv.py", prefix, "", TORCH_CONV)
        scores[label] = _score(tmp_path, "cnn", folder)["score"]
    total = load_week(REPO, "cnn").total_points
    assert 0.3 * total < scores["plain import"] < total, scores  # only the tasks that use it fail
    assert len(set(scores.values())) == 1, scores


#: Week -> (file, the reference's body of one task's function, the same computed by a forbidden API).
FORBIDDEN_BODIES = {
    "transformer": ("transformer.py", """
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased: divide by d
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
""", """
        return torch.native_layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)[0]
""", "\n        raise NotImplementedError\n"),
    "vae": ("vae.py", """
    return torch.sum(x * logits - F.softplus(logits), dim=1)
""", """
    return -getattr(F, "binary_cross_entropy_with_" + "logits")(logits, x, reduction="none").sum(dim=1)
""", "\n    raise NotImplementedError\n"),
}


@pytest.mark.parametrize("week_name", sorted(FORBIDDEN_BODIES))
def test_a_forbidden_api_costs_exactly_what_unwritten_code_costs(tmp_path, week_name):
    """The rule the handouts and the README state: a function that computes with a forbidden API,
    under any name, is graded as if it raised NotImplementedError, in its own task and in every later
    test that runs it; no more (a grader error, a lost worker) and no less."""
    file, body, forbidden, unwritten = FORBIDDEN_BODIES[week_name]
    scores = {}
    for label, replacement in (("forbidden", forbidden), ("unwritten", unwritten)):
        folder = tmp_path / label
        folder.mkdir()
        for name in load_week(REPO, week_name).student_files:
            text = known_bad.without_markers((REPO.solution(week_name) / name).read_text())
            if name == file:
                assert text.count(body) == 1, f"{week_name}: the reference's body moved"
                text = text.replace(body, replacement)
            (folder / name).write_text(text)
        results = _score(tmp_path, week_name, folder)
        assert not any(t["extra_data"].get("grader_error") for t in results["tests"]), label
        scores[label] = {t["extra_data"]["id"]: t["score"] for t in results["tests"]}
    assert scores["forbidden"] == scores["unwritten"]
    assert sum(scores["forbidden"].values()) < load_week(REPO, week_name).total_points
