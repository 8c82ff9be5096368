"""Helpers for the starter tests: the code examples of a starter's README (the handout), and running
Python in a built starter as a student would (its own ``coursekit`` first, no course settings)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
INLINE_DATA_CALL = re.compile(r"`(coursekit\.data\.[A-Za-z_]\w*\([^`]*\))`")
#: Prepended to every snippet: the starter's own engine must be the one that runs.
OWN_ENGINE = ("import pathlib, coursekit\n"
              "assert pathlib.Path(coursekit.__file__).resolve().is_relative_to(pathlib.Path.cwd().resolve()), "
              "coursekit.__file__\n")


def python_blocks(markdown: str) -> list[str]:
    """Fenced blocks whose info string starts with ``python``, except those marked ``no-run``."""
    blocks = []
    for info, body in FENCE.findall(markdown):
        words = info.split()
        if words and words[0] == "python" and "no-run" not in words[1:]:
            blocks.append(body)
    return blocks


def inline_data_calls(markdown: str) -> list[str]:
    """Inline code outside fenced blocks that calls a ``coursekit.data`` function with literal
    arguments only (``coursekit.data.load_digits("train")``): each is a complete example."""
    prose = FENCE.sub("", markdown)
    calls = []
    for text in INLINE_DATA_CALL.findall(" ".join(prose.split())):
        call = ast.parse(text, mode="eval").body
        literal = True
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            try:
                ast.literal_eval(arg)
            except ValueError:
                literal = False
        if literal:
            calls.append(text)
    return calls


def student_env(**extra: str) -> dict[str, str]:
    """The environment without the course repository's settings (a student's shell)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COURSEKIT_", "PYTEST_", "VIRTUAL_ENV")) and k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run_python(starter: Path, code: str, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` with this Python in ``starter`` (after checking the starter's engine is used)."""
    return subprocess.run([sys.executable, "-c", OWN_ENGINE + code], cwd=starter, capture_output=True,
                          text=True, timeout=timeout, env=student_env(**env))


def without(package: str, folder: Path) -> str:
    """A ``PYTHONPATH`` on which ``import package`` fails as it does where it is not installed."""
    (folder / package).mkdir(parents=True, exist_ok=True)
    (folder / package / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{package}'\", name={package!r})\n")
    return str(folder)
