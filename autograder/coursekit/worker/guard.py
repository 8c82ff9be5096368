"""Runtime guard for a week's forbidden APIs, installed in the worker before student code loads.

This is a policy check, not a security boundary (the grader's static check is the other half): it
makes a forbidden API fail loudly *where it is used*, so an unused ``import torch`` at the top of a
numpy-only file costs nothing, while a function that calls ``torch.tensor`` fails its own task with
a message naming the API.

- A forbidden *module* (``torch``) imported by a guarded student file is bound to a stand-in whose
  use (calling anything reached through it) raises :class:`ForbiddenAPIError`.
- A forbidden *attribute* (``torch.nn.functional.conv2d``) is wrapped so that a call whose caller
  is a guarded student file raises; other callers (the engine, allowed files) are unaffected.
"""

from __future__ import annotations

import builtins
import importlib
import sys
from pathlib import Path
from typing import Any


class ForbiddenAPIError(RuntimeError):
    """A student file used an API this week forbids."""


class Rule:
    def __init__(self, api: str, files: list[str], reason: str):
        self.api, self.files, self.reason = api, set(files), reason

    def message(self, file: str) -> str:
        text = f"{file} uses {self.api}, which is forbidden in this file"
        return f"{text}: {self.reason}" if self.reason else text


class PartlyForbidden:
    """A real module seen through ``from pkg import name``, with some names forbidden."""

    def __init__(self, module: Any, forbidden: dict[str, "ForbiddenModule"]):
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_forbidden", forbidden)

    def __getattr__(self, name: str) -> Any:
        if name in self._forbidden:
            return self._forbidden[name]
        return getattr(self._module, name)


class ForbiddenModule:
    """Stands in for a forbidden module inside a student file: any use raises."""

    def __init__(self, path: str, message: str):
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_message", message)

    def __getattr__(self, name: str) -> "ForbiddenModule":
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return ForbiddenModule(f"{self._path}.{name}", self._message)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ForbiddenAPIError(f"{self._message} (called {self._path})")

    def __repr__(self) -> str:
        return f"<forbidden {self._path}>"


def _caller_file(depth: int, student_dir: str) -> str | None:
    """File name of the nearest calling frame that lies in the student folder, within a few frames."""
    frame = sys._getframe(depth)
    for _ in range(3):
        if frame is None:
            return None
        filename = frame.f_code.co_filename
        if filename.startswith(student_dir):
            return Path(filename).name
        frame = frame.f_back
    return None


def install(rules: list[Rule], student_dir: Path) -> None:
    if not rules:
        return
    student = str(student_dir)
    module_rules: list[Rule] = []
    for rule in rules:
        if "." not in rule.api or _is_module(rule.api):  # a top-level name is a module, installed or not
            module_rules.append(rule)
        else:
            _wrap_attribute(rule, student)

    real_import = builtins.__import__
    real_import_module = importlib.import_module

    def match(name: str, file: str | None) -> Rule | None:
        if file is None:
            return None
        for rule in module_rules:
            if file in rule.files and (name == rule.api or name.startswith(rule.api + ".")):
                return rule
        return None

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        file = None
        if globals and level == 0:
            origin = globals.get("__file__") or ""
            if isinstance(origin, str) and origin.startswith(student):
                file = Path(origin).name
        rule = match(name, file)
        if rule is not None:
            top = name if fromlist else name.split(".")[0]
            return ForbiddenModule(top, rule.message(file))
        if file is not None and fromlist:  # from scipy import signal: the submodule is the rule
            blocked = {}
            for item in fromlist:
                sub = match(f"{name}.{item}", file)
                if sub is not None:
                    blocked[item] = ForbiddenModule(f"{name}.{item}", sub.message(file))
            if blocked:
                return PartlyForbidden(real_import(name, globals, locals, fromlist, level), blocked)
        return real_import(name, globals, locals, fromlist, level)

    def guarded_import_module(name, package=None):
        rule = match(name, _caller_file(2, student))
        if rule is not None:
            return ForbiddenModule(name, rule.message(_caller_file(2, student) or "?"))
        return real_import_module(name, package)

    builtins.__import__ = guarded_import
    importlib.import_module = guarded_import_module


def _is_module(api: str) -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec(api) is not None
    except (ImportError, ValueError):
        return False


def _wrap_attribute(rule: Rule, student: str) -> None:
    parent_name, _, attr = rule.api.rpartition(".")
    try:
        parent = importlib.import_module(parent_name)
        original = getattr(parent, attr)
    except (ImportError, AttributeError):
        return  # an API this installation does not have cannot be called either

    def guarded(*args: Any, **kwargs: Any) -> Any:
        file = _caller_file(2, student)
        if file is not None and file in rule.files:
            raise ForbiddenAPIError(rule.message(file))
        return original(*args, **kwargs)

    guarded.__name__ = getattr(original, "__name__", attr)
    guarded.__doc__ = getattr(original, "__doc__", None)
    setattr(parent, attr, guarded)
