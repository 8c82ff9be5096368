"""The weekly lab notebook's helpers, on the student's side: figures saved as files, and the PDF of
the written answers for Gradescope.

    from coursekit.lab import save_figure
    save_figure(fig, "boundaries")          # figures/boundaries.png

    python -m coursekit.lab pdf lab.ipynb   # lab.pdf, the written answers (the starter's `make pdf`)

The PDF holds the cells between ``<!-- BEGIN QUESTION -->`` and ``<!-- END QUESTION -->`` (otter's
filtering), each question starting a page. It is built by ``otter export`` through LaTeX, which needs
``xelatex`` and ``pandoc``; where they are missing, or LaTeX fails on an answer, a plainer PDF of the
same cells (their text and figures, drawn by matplotlib) is written instead, so an answer is never
lost to a TeX installation.

matplotlib, nbformat and otter are imported only by the functions that need them.
"""

from __future__ import annotations

import argparse
import base64
import io
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

#: Where :func:`save_figure` writes, relative to the notebook's folder.
FIGURES_DIR = "figures"
#: The PNG text key holding the number of axes a saved figure has.
AXES_KEY = "Axes"
FIGURE_DPI = 100
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
ROUTES = ("auto", "latex", "plain")


def save_figure(fig, name: str, folder: str | Path = FIGURES_DIR) -> Path:
    """Save ``fig`` as ``folder/name.png`` and return the path.

    The file is reproducible (no software version or date in it, a fixed resolution) and records
    ``len(fig.axes)`` under the PNG text key ``Axes``. ``name`` is lowercase letters, digits and ``_``;
    anything else raises ValueError.
    """
    if not _NAME.match(name):
        raise ValueError(f"figure name {name!r}: use lowercase letters, digits and _")
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=FIGURE_DPI, metadata={"Software": None, AXES_KEY: str(len(fig.axes))})
    return path


def figure_axes(path: str | Path) -> int:
    """The number of axes :func:`save_figure` recorded in a PNG; ValueError when it recorded none."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as image:
        value = getattr(image, "text", {}).get(AXES_KEY)
    if value is None or not value.isdigit():
        raise ValueError(f"{path}: no '{AXES_KEY}' entry; save figures with coursekit.lab.save_figure")
    return int(value)


@dataclass(frozen=True)
class Export:
    """What :func:`export_written` wrote: the PDF, the route that built it, and why it fell back."""

    path: Path
    route: str  # "latex" (otter export) or "plain" (matplotlib)
    note: str = ""


def latex_available() -> bool:
    """Whether otter's LaTeX route can run here (``xelatex`` and ``pandoc`` on the PATH)."""
    return bool(shutil.which("xelatex") and shutil.which("pandoc"))


def export_written(notebook: str | Path, dest: str | Path | None = None, route: str = "auto") -> Export:
    """Write the PDF of a notebook's written answers (its question regions) for Gradescope.

    ``route`` is ``"latex"`` (otter export only; its errors propagate), ``"plain"`` (matplotlib only)
    or ``"auto"``: LaTeX when available, else, or when LaTeX fails, plain. ``dest`` defaults to the
    notebook's path with ``.pdf``. Raises FileNotFoundError when the notebook does not exist and
    ValueError for an unknown route.
    """
    notebook = Path(notebook)
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; choose one of {', '.join(ROUTES)}")
    if not notebook.is_file():
        raise FileNotFoundError(f"{notebook}: no such notebook")
    dest = Path(dest) if dest is not None else notebook.with_suffix(".pdf")
    note = ""
    if route == "latex" or (route == "auto" and latex_available()):
        try:
            from otter.export import export_notebook

            export_notebook(str(notebook), dest=str(dest), exporter_type="latex", filtering=True,
                            pagebreaks=True)
            return Export(dest, "latex")
        except Exception as e:  # LaTeX errors come in several kinds; all fall back the same way
            if route == "latex":
                raise
            note = f"LaTeX failed ({type(e).__name__}: {str(e).strip().splitlines()[0][:200] if str(e).strip() else ''})"
    elif route == "auto":
        note = "xelatex or pandoc is not installed"
    _plain_pdf(notebook, dest)
    return Export(dest, "plain", note)


# --- the plain route ------------------------------------------------------------------------------

_PAGE = (8.27, 11.69)  # A4, inches
_MARGIN = 0.07  # of the page, each side
_LINE = 0.0155  # of the page height, one line of 9-point text
_WRAP = 92  # characters per line


def _question_cells(notebook: Path) -> list:
    """The cells otter's filtering keeps, page breaks marked as otter marks them."""
    import nbformat
    from otter.export.exporters.base_exporter import BaseExporter

    with open(notebook, encoding="utf-8") as f:
        nb = nbformat.read(f, as_version=4)
    return BaseExporter.filter_cells(nb, pagebreaks=True).cells


def _blocks(cell) -> list[tuple[str, object]]:
    """A cell as ("text"|"code"|"image"|"page", content) blocks, in reading order."""
    from otter.export.exporters.utils import NEW_PAGE_MARKER

    source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    blocks: list[tuple[str, object]] = []
    if cell.cell_type == "markdown":
        text = re.sub(r"<!--.*?-->", "", source, flags=re.S).strip()
        if text:
            blocks.append(("text", text))
    elif cell.cell_type == "code" and source.strip():
        blocks.append(("code", source))
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            blocks.append(("image", base64.b64decode(data["image/png"])))
        elif "text/plain" in data:
            blocks.append(("code", data["text/plain"]))
        elif output.get("output_type") == "stream":
            blocks.append(("code", output.get("text", "")))
    if NEW_PAGE_MARKER in source:
        blocks.append(("page", None))
    return blocks


def _reflow(markdown: str) -> list[str]:
    """Markdown's soft-wrapped lines joined into paragraphs; headings, list items and blank lines
    keep their own lines."""
    out: list[str] = []
    for line in markdown.splitlines():
        starts_block = not line.strip() or re.match(r"^\s*(#|[-*+] |\d+[.)] |\|)", line)
        if out and out[-1] and not starts_block and not re.match(r"^\s*(#|\|)", out[-1]):
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line.rstrip())
    return out


def _plain_pdf(notebook: Path, dest: Path) -> None:
    """The question cells drawn page by page with matplotlib: text wrapped, code in a fixed-width
    font, figures scaled to the page width. Deterministic (no dates in the file)."""
    import matplotlib.image as mpimg
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure  # not pyplot: a notebook's backend and figures stay as they are

    blocks = [b for cell in _question_cells(notebook) for b in _blocks(cell)]
    if not blocks:
        blocks = [("text", "This notebook has no written questions (no <!-- BEGIN QUESTION --> cells).")]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with PdfPages(dest, metadata={"Creator": None, "Producer": None, "CreationDate": None}) as pdf:
        fig, y = None, 0.0

        def new_page():
            nonlocal fig, y
            if fig is not None:
                pdf.savefig(fig)
            fig, y = Figure(figsize=_PAGE), 1.0 - _MARGIN

        new_page()
        for kind, content in blocks:
            if kind == "page":
                if y < 1.0 - _MARGIN:
                    new_page()
                continue
            if kind == "image":
                image = mpimg.imread(io.BytesIO(content), format="png")
                width = 1.0 - 2 * _MARGIN
                height = width * image.shape[0] / image.shape[1] * _PAGE[0] / _PAGE[1]
                height = min(height, 1.0 - 2 * _MARGIN)
                if y - height < _MARGIN:
                    new_page()
                ax = fig.add_axes((_MARGIN, y - height, width, height))
                ax.imshow(image)
                ax.set_axis_off()
                y -= height + _LINE
                continue
            family = "monospace" if kind == "code" else "sans-serif"
            lines = str(content).splitlines() if kind == "code" else _reflow(str(content))
            for paragraph in lines or [""]:
                for line in textwrap.wrap(paragraph, _WRAP, replace_whitespace=False) or [""]:
                    if y - _LINE < _MARGIN:
                        new_page()
                    fig.text(_MARGIN, y, line, family=family, fontsize=9, va="top", parse_math=False)
                    y -= _LINE
            y -= _LINE / 2
        if y < 1.0 - _MARGIN or pdf.get_pagecount() == 0:  # no empty last page
            pdf.savefig(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.lab",
                                     description="the lab notebook's PDF of written answers")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pdf", help="write the PDF of the written answers (save the notebook first)")
    p.add_argument("notebook", nargs="?", default="lab.ipynb")
    p.add_argument("--dest", default=None, help="where to write it (default: the notebook's name .pdf)")
    p.add_argument("--route", default="auto", choices=ROUTES,
                   help="latex (otter export), plain (matplotlib) or auto (latex, else plain)")
    args = parser.parse_args(argv)
    try:
        done = export_written(args.notebook, args.dest, args.route)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}")
        return 1
    how = "otter export (LaTeX)" if done.route == "latex" else "the plain route (matplotlib)"
    print(f"wrote {done.path} with {how}" + (f": {done.note}" if done.note else ""))
    print("upload it to the course's written assignment on Gradescope, and mark each question's pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
