"""coursekit.lab, the student's side of the lab: figures saved reproducibly with their axes count,
and the written answers' PDF through otter export (LaTeX) or the plain matplotlib route."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from coursekit import lab  # noqa: E402


def _figure(n_axes: int):
    fig, axes = plt.subplots(1, n_axes, figsize=(4, 2))
    for i, ax in enumerate(list(axes) if n_axes > 1 else [axes]):
        ax.plot([0, 1], [0, i])
    return fig


def test_save_figure_records_the_axes_and_is_reproducible(tmp_path):
    fig = _figure(3)
    first = lab.save_figure(fig, "three", tmp_path / "a")
    second = lab.save_figure(fig, "three", tmp_path / "b")
    plt.close(fig)
    assert first == tmp_path / "a" / "three.png" and first.read_bytes() == second.read_bytes()
    assert lab.figure_axes(first) == 3
    with Image.open(first) as image:
        assert image.format == "PNG" and "Software" not in image.text


def test_a_png_without_the_axes_entry_is_refused(tmp_path):
    fig = _figure(1)
    fig.savefig(tmp_path / "plain.png")
    plt.close(fig)
    with pytest.raises(ValueError, match="save_figure"):
        lab.figure_axes(tmp_path / "plain.png")


@pytest.mark.parametrize("name", ["Bad Name", "../up", "", "x.png"])
def test_figure_names_are_plain(tmp_path, name):
    fig = _figure(1)
    with pytest.raises(ValueError, match="figure name"):
        lab.save_figure(fig, name, tmp_path)
    plt.close(fig)


def _png() -> str:
    fig = _figure(2)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _notebook(tmp_path, questions: int = 2):
    cells = [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "Not exported."}]
    for q in range(questions):
        cells += [
            {"cell_type": "markdown", "id": f"q{q}", "metadata": {},
             "source": f"<!-- BEGIN QUESTION -->\n\n**Question {q}.** Why is $\\gamma$ > 0? A long line " + "x " * 80},
            {"cell_type": "code", "id": f"c{q}", "metadata": {}, "execution_count": 1, "source": "plot()",
             "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": _png(), "text/plain": "<Figure>"}}]},
            {"cell_type": "markdown", "id": f"a{q}", "metadata": {}, "source": "Because the data are separable."},
            {"cell_type": "markdown", "id": f"e{q}", "metadata": {}, "source": "<!-- END QUESTION -->"},
        ]
    path = tmp_path / "lab.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def test_the_plain_route_writes_one_page_per_question_reproducibly(tmp_path):
    notebook = _notebook(tmp_path, questions=2)
    first = lab.export_written(notebook, tmp_path / "one.pdf", route="plain")
    second = lab.export_written(notebook, tmp_path / "two.pdf", route="plain")
    data = first.path.read_bytes()
    assert first.route == "plain" and data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert _pages(data) == 2 and data == second.path.read_bytes()
    assert b"CreationDate" not in data


def test_auto_falls_back_to_the_plain_route_without_latex(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "latex_available", lambda: False)
    done = lab.export_written(_notebook(tmp_path))
    assert done.route == "plain" and "not installed" in done.note
    assert done.path == tmp_path / "lab.pdf" and done.path.read_bytes().startswith(b"%PDF-")


def test_auto_falls_back_when_latex_fails(tmp_path, monkeypatch):
    import otter.export

    def broken(*args, **kwargs):
        raise RuntimeError("! LaTeX Error: File `tcolorbox.sty' not found.")

    monkeypatch.setattr(lab, "latex_available", lambda: True)
    monkeypatch.setattr(otter.export, "export_notebook", broken)
    done = lab.export_written(_notebook(tmp_path))
    assert done.route == "plain" and "LaTeX failed" in done.note and "tcolorbox" in done.note
    with pytest.raises(RuntimeError, match="tcolorbox"):
        lab.export_written(_notebook(tmp_path), route="latex")


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        lab.export_written(tmp_path / "missing.ipynb")
    with pytest.raises(ValueError, match="unknown route"):
        lab.export_written(_notebook(tmp_path), route="html")


@pytest.mark.slow
def test_the_command_line_writes_the_pdf(tmp_path):
    notebook = _notebook(tmp_path, questions=1)
    done = subprocess.run([sys.executable, "-m", "coursekit.lab", "pdf", str(notebook), "--route", "plain"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"wrote {tmp_path / 'lab.pdf'} with the plain route" in done.stdout
    assert _pages((tmp_path / "lab.pdf").read_bytes()) == 1


def test_the_plain_route_reflows_markdown_paragraphs():
    text = "A paragraph written\nover two lines.\n\n- a list item\n- another\n### A heading\nNext paragraph."
    assert lab._reflow(text) == ["A paragraph written over two lines.", "", "- a list item", "- another",
                                 "### A heading", "Next paragraph."]
