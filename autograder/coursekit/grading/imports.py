"""Imports of a student file that will fail when graded: the student's own helper modules.

Only the week's declared files reach the grader (``make submit`` zips only them; the grader reads
only them), so ``from my_utils import f`` works on the student's machine, where ``my_utils.py`` sits
beside the file, and fails when graded with ``ModuleNotFoundError``. ``make submit`` warns, and the
grader says in the results, by name, about every top-level module a student file imports that is
neither one of the week's files, the standard library, nor an installed package. The source is
parsed, never run.
"""

from __future__ import annotations

import ast
import importlib.machinery
import sys
import sysconfig
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The course's own package is always importable (it ships with the grader and the starter).
ENGINE_PACKAGE = __name__.split(".")[0]


@dataclass(frozen=True)
class MissingImport:
    file: str      # the student file that imports it
    line: int
    module: str    # the top-level module name, e.g. ``my_utils`` for ``from my_utils.x import y``
    graded: tuple[str, ...]  # the week's files: all that is graded

    def message(self) -> str:
        graded = self.graded
        files = ", ".join(graded)
        return (f"{self.file} line {self.line} imports {self.module}, which is not one of this week's "
                f"files ({files}), the standard library or an installed package: only {files} "
                f"{'is' if len(graded) == 1 else 'are'} graded, so the import fails when graded "
                f"(ModuleNotFoundError). Put the code you need from {self.module} into {graded[0] if len(graded) == 1 else 'your files'}.")


def _site_folders() -> list[str]:
    """Where installed packages live for this interpreter (never the student's own folder)."""
    paths = sysconfig.get_paths()
    found = [paths[k] for k in ("purelib", "platlib") if k in paths]
    try:
        import site
        found += site.getsitepackages()
    except (AttributeError, ImportError):  # a virtual environment's site without the function
        pass
    return [p for p in dict.fromkeys(found) if Path(p).is_dir()]


@cache
def is_available(module: str) -> bool:
    """Whether a top-level module would import in the grader's environment without the student's
    folder: the standard library, a built-in module, an installed package, or the course's engine."""
    if module in sys.stdlib_module_names or module in sys.builtin_module_names or module == ENGINE_PACKAGE:
        return True
    try:
        return importlib.machinery.PathFinder.find_spec(module, _site_folders()) is not None
    except (ImportError, ValueError):
        return False


def top_level_imports(source: bytes | str, file: str) -> dict[str, int]:
    """The top-level modules ``source`` imports (any depth: module level, functions, ``try``
    blocks), each with the line of its first import. Relative imports are left out (there is no
    package around a student file); a source that does not parse has none."""
    try:
        tree = ast.parse(source, file)
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            found[top] = min(found.get(top, node.lineno), node.lineno)
    return found


def missing_imports(source: bytes | str, file: str, student_files: tuple[str, ...] | list[str]) -> list[MissingImport]:
    """The imports in ``source`` (``top_level_imports``) of top-level modules that are neither
    ``student_files`` (by stem), the standard library, nor installed. A source that does not parse
    has none (Python reports the syntax error itself)."""
    own = {Path(f).stem for f in student_files}
    return sorted((MissingImport(file, line, top, tuple(student_files))
                   for top, line in top_level_imports(source, file).items()
                   if top not in own and not is_available(top)), key=lambda m: m.line)
