"""Forbidden APIs made unusable in the worker, installed before any student code loads.

- A forbidden *package* for every student file of a worker (``torch`` for a numpy-only file, which
  the grader runs in a worker of its own) cannot be loaded at all, however it is spelled: an audit
  hook (``sys.addaudithook``, which nothing can remove) refuses every import of the module or its
  submodules by name (computed names and ``importlib`` included) and every opening or ``dlopen`` of
  a file inside its package folder (a symlinked or copied package included). Under the namespaces
  of ``grading.isolation`` the package folder is also hidden from the worker altogether.
- A forbidden module for only some files of a process (the in-process mode students debug in), or
  a forbidden submodule of a package the worker's libraries use themselves (``torch.distributions``)
  is bound, in the files that forbid it, to a stand-in whose use raises :class:`ForbiddenAPIError`.
- A forbidden *attribute* (``torch.nn.functional.conv2d``, ``torch.nn.LSTM``) is wrapped so that a
  call made by student code raises when the calling file forbids it or a file that forbids it is
  further up the stack (a helper in an allowed file, a re-export through another student module);
  a library's own internal use (a grader-supplied layer running inside the student's code) is not
  the student's.

An unused ``import torch`` at the top of a file that never runs it costs nothing in the in-process
mode; in a worker where torch is blocked, the import itself fails and the file's tasks say why.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.machinery
import os
import sys
import types
from pathlib import Path
from typing import Any


class ForbiddenAPIError(ImportError):
    """A student file used an API this week forbids (an ImportError, so that code which tries an
    optional import and falls back keeps working)."""


class Rule:
    """One forbidden API; ``kind`` is ``"module"`` or ``"attribute"`` (decided by the grader)."""

    def __init__(self, api: str, files: list[str], reason: str, kind: str | None = None, everywhere: bool = False):
        self.api, self.files, self.reason, self.everywhere = api, set(files), reason, everywhere
        self.kind = kind or ("module" if "." not in api or _is_module(api) else "attribute")

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


def is_student_file(filename: str, student_dir: str) -> bool:
    """Whether ``filename`` is one of the student's files: directly in ``student_dir``. Student files
    sit at the top of their folder; in a starter the same folder also holds the engine
    (``coursekit/``, whose wrappers below are on the stack of every guarded call) and the tests,
    which are not the student's, nor is a sibling folder whose name merely starts the same."""
    return os.path.dirname(filename) == student_dir


def _files_on_stack(student_dir: str) -> set[str]:
    """Names of the student files with a frame anywhere on the current stack."""
    found, frame = set(), sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if is_student_file(filename, student_dir):
            found.add(Path(filename).name)
        frame = frame.f_back
    return found


class _StandIns:
    """A meta path finder that answers every import of a blocked module with a stand-in module
    whose use raises; the real package is never loaded (and the audit hook refuses its files even
    if this finder is removed from ``sys.meta_path``)."""

    def __init__(self, rules: dict[str, Rule], exempt: set[str] = frozenset()):
        self.rules, self.exempt = rules, exempt

    def _rule(self, name: str) -> Rule | None:
        if name in self.exempt:
            return None
        for api, rule in self.rules.items():
            if name == api or name.startswith(api + "."):
                return rule
        return None

    def find_spec(self, name, path=None, target=None):
        rule = self._rule(name)
        if rule is None:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        return _StandInModule(spec.name, self._rule(spec.name).message(", ".join(sorted(self._rule(spec.name).files))))

    def exec_module(self, module) -> None:
        pass


class _StandInModule(types.ModuleType):
    """A blocked module: importing it works, using anything in it raises ForbiddenAPIError."""

    def __init__(self, name: str, message: str):
        super().__init__(name)
        self.__path__ = []
        object.__setattr__(self, "_message", message)

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return ForbiddenModule(f"{self.__name__}.{attr}", self._message)


def block_modules(rules: list[Rule]) -> None:
    """Make the modules of ``rules`` unusable in this process, irrevocably (see the module doc)."""
    import importlib.util
    import os

    # The worker's own modules (its runtime copy of coursekit) stay: a rule naming them can only
    # mean the parts of the course package a worker does not have anyway.
    runtime = {name for name, module in sys.modules.items() if name == "coursekit" or name.startswith("coursekit.")}
    rules = [r for r in rules if r.api not in runtime]
    by_name = {r.api: r for r in rules}
    folders: list[tuple[str, str]] = []  # (package folder or file, module name)
    for name in by_name:
        try:
            spec = importlib.util.find_spec(name)  # imports parent packages, never ``name`` itself
        except (ImportError, ValueError):
            spec = None  # not installed: nothing to load, the stand-in answers
        if name.split(".")[0] in {r.split(".")[0] for r in runtime}:
            continue  # the course package: its files are the worker's own
        if spec is not None and spec.submodule_search_locations:
            folders += [(os.path.realpath(p) + os.sep, name) for p in spec.submodule_search_locations]
        elif spec is not None and spec.origin:
            folders.append((os.path.realpath(spec.origin), name))
    for loaded in list(sys.modules):
        if loaded not in runtime and any(loaded == n or loaded.startswith(n + ".") for n in by_name):
            del sys.modules[loaded]
    sys.meta_path.insert(0, _StandIns(by_name, runtime))

    def hook(event: str, args: tuple) -> None:
        if event in ("open", "ctypes.dlopen", "os.listdir", "os.scandir") and folders and args:
            path = args[0]
            if isinstance(path, bytes):
                path = os.fsdecode(path)
            if isinstance(path, str):
                real = os.path.realpath(path)
                for folder, name in folders:
                    if real.startswith(folder) or real + os.sep == folder or real == folder:
                        rule = by_name[name]
                        raise ForbiddenAPIError(rule.message(", ".join(sorted(rule.files))))

    sys.addaudithook(hook)


def _caller_file(depth: int, student_dir: str, reach: int = 3) -> str | None:
    """File name of the nearest calling frame that lies in the student folder, within ``reach``
    frames."""
    frame = sys._getframe(depth)
    for _ in range(reach):
        if frame is None:
            return None
        filename = frame.f_code.co_filename
        if is_student_file(filename, student_dir):
            return Path(filename).name
        frame = frame.f_back
    return None


def install(rules: list[Rule], student_dir: Path, files: list[str] | None = None,
            worker: dict | None = None) -> None:
    """Install ``rules`` for the student ``files`` in ``student_dir`` (all files by default): module
    rules that cover every file are blocked outright, the rest are guarded per file.

    In a worker (``worker``: ``{"anchor": the frame of the worker's request loop, "library_files":
    [the drivers]}``), whose ``files`` all forbid the same APIs, only their rules count, and they
    bind every student file loaded there: forbidden attributes and ``everywhere`` modules are
    refused whoever reaches them (:mod:`coursekit.worker.strict`), forbidden modules whichever
    student file imports them."""
    if not rules:
        return
    if worker is not None:
        # Only the rules of this worker's files: char_lm.py's worker may use what rnn.py's refuses.
        if files is not None:
            rules = [r for r in rules if r.files & set(files)]
        strict_rules = [r for r in rules if r.kind == "attribute" or r.everywhere]
        rules = [r for r in rules if r.kind == "module"]  # attributes are the strict guard's alone
        if strict_rules:
            _install_strict(strict_rules, str(student_dir), worker)
    student = str(student_dir)
    present = set(files) if files is not None else None
    module_rules: list[Rule] = []
    blocked: list[Rule] = []
    for rule in rules:
        if rule.kind == "module":
            # A whole package no file of this worker may use is blocked outright, and in a worker so
            # is a submodule its own package does not load (scipy.signal, which
            # getattr(scipy, "sig" + "nal") would otherwise import); a submodule the package loads
            # itself (torch.nn.modules.rnn) only for the files that may not use it, by name.
            if present is not None and present <= rule.files and (
                    "." not in rule.api or (worker is not None and _unused_by_its_package(rule.api))):
                blocked.append(rule)
            else:
                module_rules.append(rule)
        elif rule.kind == "attribute":
            _wrap_attribute(rule, student)
    if blocked:
        block_modules(blocked)
    if not module_rules:
        return

    real_import = builtins.__import__
    real_import_module = importlib.import_module

    def match(name: str, file: str | None) -> Rule | None:
        if file is None:
            return None
        for rule in module_rules:
            # In a worker every student file runs under the worker's rules (another group's file
            # imported here included); in process, each file under its own.
            if (worker is not None or file in rule.files) and (name == rule.api or name.startswith(rule.api + ".")):
                return rule
        return None

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        file = None
        if globals and level == 0:
            origin = globals.get("__file__") or ""
            if isinstance(origin, str) and is_student_file(origin, student):
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
        # The direct caller only: a library's lazy import (scipy's __getattr__ importing
        # scipy.signal for the student's "from scipy import signal") is the library's.
        caller = _caller_file(2, student, reach=1)
        rule = match(name, caller)
        if rule is not None:
            return ForbiddenModule(name, rule.message(caller or "?"))
        return real_import_module(name, package)

    builtins.__import__ = guarded_import
    importlib.import_module = guarded_import_module


def _install_strict(rules: list[Rule], student: str, worker: dict) -> None:
    from . import strict

    messages = {r.api: r.message(", ".join(sorted(r.files))) for r in rules}
    register = strict.install(student, list(worker.get("library_files") or []), worker["anchor"], messages)
    for rule in rules:
        if rule.kind == "module":
            strict.guard_module(rule.api, rule.api, register)
            continue
        parent_name, _, attr = rule.api.rpartition(".")
        try:
            parent = importlib.import_module(parent_name)
            original = getattr(parent, attr)
        except (ImportError, AttributeError):
            continue  # an API this installation does not have cannot be called either
        if isinstance(original, type):
            strict.guard_class(original, rule.api, register)
        elif callable(original):
            strict.guard_function(parent, attr, rule.api, register)


def _unused_by_its_package(api: str) -> bool:
    """Whether submodule ``api`` is not loaded once its top-level package is (importing the package
    if need be): then blocking it cannot break the package itself."""
    try:
        importlib.import_module(api.split(".")[0])
    except ImportError:
        return True
    return api not in sys.modules


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
        # Student code calling it (directly: a library's own internals, such as a grader-supplied
        # nn.LayerNorm running F.layer_norm inside the student's block, are not the student's use),
        # from a file that forbids it or on behalf of one (a helper in another student file).
        direct = _caller_file(2, student)
        if direct is not None:
            involved = ({direct} | _files_on_stack(student)) & rule.files
            if involved:
                raise ForbiddenAPIError(rule.message(sorted(involved)[0]))
        return original(*args, **kwargs)

    guarded.__name__ = getattr(original, "__name__", attr)
    guarded.__doc__ = getattr(original, "__doc__", None)
    setattr(parent, attr, guarded)
