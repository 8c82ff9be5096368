"""Integrity flags: what in a student's file only serves to evade the rules is flagged for staff
(results' ``extra_data.integrity``, the run's log, batch grading's ``flagged.csv``), with file and
line, and never changes a score; no honest reference or stencil is flagged."""

from __future__ import annotations

import base64
import csv
import json
import os
from textwrap import dedent

import pytest

from coursekit.authoring.class_export import Planted, place, write_metadata
from coursekit.authoring.known_bad import without_markers
from coursekit.config import load_all_weeks, load_week
from coursekit.grading import integrity
from coursekit.paths import Repo

REPO = Repo.here()


@pytest.mark.parametrize("line, kind", [
    ('exec(compile(src, "<library>", "exec"))', integrity.RUN_TIME_CODE),
    ("f = eval('lambda x: x')", integrity.RUN_TIME_CODE),
    ("frame = sys._getframe(1).f_back", integrity.INTROSPECTION),
    ("cells = guarded.__closure__[0].cell_contents", integrity.INTROSPECTION),
    ("real = [c for c in nn.Module.__subclasses__() if c.__name__ == 'LayerNorm']", integrity.INTROSPECTION),
    ("m = sys.modules['torch.nn.modules.normalization']", integrity.INTROSPECTION),
    ("objs = gc.get_objects()", integrity.INTROSPECTION),
    ("weakref.finalize(box, torch.nn.utils.clip_grad_norm_, params, 1.0)", integrity.INTROSPECTION),
    ('d = getattr(torch, "distri" + "butions")', integrity.COMPUTED_NAME),
    ("y = torch.native_layer_norm(x, s, w, b, 1e-5) if False else torch._VF.lstm_cell", integrity.INTERNALS),
    ("y = torch.ops.aten.layer_norm.default", integrity.INTERNALS),
    ("import ctypes", integrity.INTERNALS),
    ("w = zlib.decompress(base64.b64decode(BLOB))", integrity.EMBEDDED_DATA),
    ('BLOB = "' + "QUJD" * 1000 + '"', integrity.EMBEDDED_DATA),
    ('NOTES = "' + "word " * 5000 + '"', integrity.EMBEDDED_DATA),
], ids=["exec-compile", "eval", "frames", "closure", "subclasses", "sys.modules", "gc", "finalizer", "computed getattr",
        "_VF", "torch.ops", "ctypes", "decode", "base64 literal", "large literal"])
def test_each_kind_is_flagged_with_file_and_line(line, kind):
    source = "import sys, gc, zlib, base64, weakref\nimport torch\nimport torch.nn as nn\n\n\ndef f(x, src):\n    " + line + "\n"
    found = integrity.scan(source, "student.py")
    assert any(f.kind == kind and f.file == "student.py" and f.line in (1, 7) for f in found), found


def test_honest_code_is_not_flagged():
    source = dedent('''
        """A module docstring that is long: ''' + "x" * 30000 + '''"""
        import re
        import numpy as np
        import torch
        PATTERN = re.compile(r"\\w+")
        def f(model, x):
            model.eval()
            name = "weight"
            return getattr(model, name), getattr(np, "float64"), torch.compile
    ''')
    assert integrity.scan(source, "student.py") == []


def test_no_reference_or_stencil_of_any_week_is_flagged():
    for week in load_all_weeks(REPO):
        for name in week.student_files:
            for folder in (REPO.solution(week.name), REPO.stencils / week.name):
                assert integrity.scan((folder / name).read_bytes(), name) == [], (week.name, folder)


@pytest.mark.slow
def test_flags_reach_flagged_csv_and_change_no_score(tmp_path):
    """A batch of week 1: the reference with `exec(compile(...))`, the reference with a 300 kB base64
    literal, and the plain reference; all three score full marks, and flagged.csv names the first
    two's constructs with file and line (and nothing for the third)."""
    from coursekit.authoring.commands import grade_all as grade_all_mod

    week = load_week(REPO, "perceptron")
    reference = without_markers((REPO.solution("perceptron") / "perceptron.py").read_text())
    compiled = reference + dedent('''
        _SOURCE = "def _double(x):\\n    return 2 * x\\n"
        exec(compile(_SOURCE, "<library>", "exec"))
    ''')
    blob = base64.b64encode(os.urandom(225_000)).decode()
    embedded = reference + f'\n_WEIGHTS = "{blob}"\n'
    export = tmp_path / "export"
    submissions = {"submission_000001": compiled, "submission_000002": embedded, "submission_000003": reference}
    for sid, source in submissions.items():
        place({"perceptron.py": source.encode()}, export / sid, as_zip=False)
    write_metadata(export, [Planted(sid, "case", lambda r: [], ()) for sid in submissions])
    out = tmp_path / "out"
    code = grade_all_mod.main(week="perceptron", submissions=str(export), out=str(out), jobs=2,
                              progress=False, repo=REPO)
    assert code == 0
    for sid in submissions:
        results = json.loads((out / "results" / f"{sid}.json").read_text())
        assert results["score"] == week.total_points, sid
        assert "integrity" not in json.dumps(results["tests"]) and "integrity" not in results.get("output", "")
    with open(out / "flagged.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    text = json.dumps(rows)
    assert "submission_000001" in text and "run-time code: perceptron.py line" in text and "calls exec" in text
    assert "submission_000002" in text and "embedded data: perceptron.py line" in text and "300,000" in text
    assert "submission_000003" not in text
