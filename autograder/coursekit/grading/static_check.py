"""Static check of a student's source for the week's forbidden APIs (the grader's half of the rule).

The source is parsed, never run. Import aliases are resolved (``import torch as T``, ``from
torch.nn import functional as F``), and each use of a forbidden dotted name is attributed to the
innermost top-level function or class it appears in, so a violation fails only the tasks that own
that code. A module-level import that no function uses is reported as a warning only. String
literals naming a forbidden module (``__import__("torch")``, ``importlib.import_module``) count too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..config import Forbidden


@dataclass(frozen=True)
class Violation:
    api: str
    file: str
    line: int
    owner: str | None  # top-level function or class name; None at module level
    reason: str
    import_only: bool = False  # a bare module-level import, never used

    def message(self) -> str:
        where = f"{self.file} line {self.line}" + (f" (in {self.owner})" if self.owner else "")
        text = f"uses {self.api}, which this week forbids, at {where}"
        return f"{text}: {self.reason}" if self.reason else text


class Unreadable(ValueError):
    """The source cannot be parsed, so the static check could not read it."""


def api_kind(api: str) -> str:
    """``"module"`` when ``api`` names a module (installed or not), ``"attribute"`` when it names
    something inside one (``torch.nn.functional.conv2d``, ``torch.nn.LSTM``).

    Found as the import system finds a module, without running any package's code: the top-level
    package's spec, then each submodule among its package's folders (``PathFinder``, the finder of
    every module installed as files). So deciding costs no import (torch's takes a second or more,
    which the grader then spends while the workers start; see ``grading.connect``). A name inside a
    plain module (not a package) is a module only when that module registered it as one when it
    ran (``os.path``): it is then in ``sys.modules``."""
    import importlib.machinery
    import importlib.util
    import sys

    if "." not in api:
        return "module"
    parts = api.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name is located, not imported
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return "module"  # a package that is not installed: a module path nobody here can check
    for depth in range(1, len(parts)):
        name = ".".join(parts[:depth + 1])
        if spec.submodule_search_locations is None:  # inside a plain module
            return "module" if name == api and name in sys.modules else "attribute"
        spec = importlib.machinery.PathFinder.find_spec(name, list(spec.submodule_search_locations))
        if spec is None:
            # Not a file of the package: the last name is something inside it; a missing name with
            # more after it is a module path that does not exist here.
            return "attribute" if depth == len(parts) - 1 else "module"
    return "module"


def check_source(source: bytes | str, file: str, rules: tuple[Forbidden, ...]) -> list[Violation]:
    """Violations of ``rules`` in ``source``. Bytes are read exactly as Python reads a source file
    (a UTF-8 byte-order mark, a ``# -*- coding: …`` declaration). Raises :class:`Unreadable` when
    the source does not parse (Python will not run it either)."""
    if not rules:
        return []
    try:
        tree = ast.parse(source, file)
    except (SyntaxError, ValueError) as e:
        raise Unreadable(f"{file} could not be parsed ({type(e).__name__}), so it was not checked "
                         "for forbidden APIs") from None
    aliases: dict[str, str] = {}
    found: list[Violation] = []
    module_imports: list[tuple[str, int, str]] = []  # (dotted, line, local name)

    def rule_for(dotted: str) -> Forbidden | None:
        for rule in rules:
            if dotted == rule.api or dotted.startswith(rule.api + "."):
                return rule
        return None

    def dotted_name(node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in aliases:
            return ".".join([aliases[node.id], *reversed(parts)])
        return None

    # Pass 1: aliases from every import anywhere (a function-level import binds locally, but a
    # conservative file-wide view is what a policy check wants).
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:  # import torch.nn as nn  ->  nn means torch.nn
                    aliases[a.asname] = a.name
                else:  # import torch.nn  ->  the name bound is torch
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    def visit(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            child_owner = owner
            if owner is None and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                child_owner = child.name
            if isinstance(child, ast.Import):
                for a in child.names:
                    rule = rule_for(a.name)
                    if rule:
                        if child_owner is None:
                            module_imports.append((a.name, child.lineno, a.asname or a.name.split(".")[0]))
                        else:
                            found.append(Violation(rule.api, file, child.lineno, child_owner, rule.reason))
            elif isinstance(child, ast.ImportFrom) and child.module:
                for a in child.names:
                    dotted = f"{child.module}.{a.name}"
                    rule = rule_for(dotted) or rule_for(child.module)
                    if rule:
                        if child_owner is None:
                            module_imports.append((dotted, child.lineno, a.asname or a.name))
                        else:
                            found.append(Violation(rule.api, file, child.lineno, child_owner, rule.reason))
            elif isinstance(child, (ast.Attribute, ast.Name)):
                dotted = dotted_name(child)
                rule = rule_for(dotted) if dotted else None
                if rule:
                    found.append(Violation(rule.api, file, child.lineno, child_owner, rule.reason))
                    continue  # the outermost match is enough
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                rule = rule_for(child.value)
                if rule:
                    found.append(Violation(rule.api, file, child.lineno, child_owner, rule.reason))
            visit(child, child_owner)

    visit(tree, None)
    for dotted, line, _ in module_imports:
        rule = rule_for(dotted)
        found.append(Violation(rule.api, file, line, None, rule.reason, import_only=True))
    # One report per (api, owner, line).
    unique = {(v.api, v.owner, v.line, v.import_only): v for v in found}
    return sorted(unique.values(), key=lambda v: (v.line, v.api))


def violations_for_task(violations: list[Violation], file: str, functions: tuple[str, ...]) -> list[Violation]:
    """The violations that fail a task: uses inside its functions, or non-import uses at module level."""
    return [v for v in violations if v.file == file and not v.import_only
            and (v.owner in functions or v.owner is None)]
