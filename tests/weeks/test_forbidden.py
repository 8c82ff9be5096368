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
