"""What in a student's source only serves to evade the rules, flagged for staff, never scored.

The grader reads each declared file (parsed, never run) and notes constructs an honest solution of a
deep-learning assignment has no use for, but a submission that hides a forbidden computation or a
result computed elsewhere needs:

- *run-time code*: source compiled or executed at run time (``exec``, ``eval``, ``compile``,
  ``types.FunctionType``/``CodeType``, ``marshal``), which can give frames a name that is no
  student file;
- *introspection*: frames and closures (``sys._getframe``, ``inspect.stack``/``currentframe``,
  ``f_back``, ``f_globals``, ``__closure__``, ``cell_contents``, ``__code__``, ``__globals__``),
  the garbage collector's object lists, walks of ``__subclasses__()`` or ``sys.modules``;
- *computed names*: ``getattr``/``vars``/``__dict__`` on torch or numpy with a name that is not a
  plain string;
- *internals*: ``torch.ops``, ``torch._C``, ``torch._VF``, ``torch._refs``, ``torch._decomp``,
  ``torch._prims``, ``ctypes``, ``cffi``;
- *embedded data*: a string or bytes literal of more than :data:`LARGE_LITERAL` characters, or of
  more than :data:`BLOB_LITERAL` that looks like base64 or hex, and decoding calls
  (``base64.*decode``, ``zlib``/``lzma``/``bz2``/``gzip`` decompression, ``pickle``/``marshal``
  loads): weights trained elsewhere, shipped in the file.

A flag names the file, the line and what was found, in the grader's words. Flags go to the results'
``extra_data.integrity`` and the grading run's log, which only staff see, and to batch grading's
``flagged.csv``; they never change a score (a TA decides).
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass

RUN_TIME_CODE = "run-time code"
INTROSPECTION = "introspection"
COMPUTED_NAME = "computed name"
INTERNALS = "internals"
EMBEDDED_DATA = "embedded data"

#: Characters of a literal above which it is flagged whatever it holds.
LARGE_LITERAL = 20_000
#: Characters of a base64- or hex-looking literal above which it is flagged.
BLOB_LITERAL = 2_000
_BLOB = re.compile(r"[A-Za-z0-9+/=_\-\s]+|[0-9a-fA-F\s]+")

_CALLS = {
    "exec": RUN_TIME_CODE, "eval": RUN_TIME_CODE, "compile": RUN_TIME_CODE,
    "types.FunctionType": RUN_TIME_CODE, "types.CodeType": RUN_TIME_CODE, "marshal.loads": RUN_TIME_CODE,
    "sys._getframe": INTROSPECTION, "inspect.stack": INTROSPECTION, "inspect.currentframe": INTROSPECTION,
    "inspect.getouterframes": INTROSPECTION, "inspect.getclosurevars": INTROSPECTION,
    "gc.get_objects": INTROSPECTION, "gc.get_referents": INTROSPECTION, "gc.get_referrers": INTROSPECTION,
    # A callable run later by the interpreter or a library, with none of the student's frames on the
    # stack: what the worker's guard cannot tell from a library's own call.
    "weakref.finalize": INTROSPECTION, "atexit.register": INTROSPECTION, "gc.callbacks.append": INTROSPECTION,
    "base64.b64decode": EMBEDDED_DATA, "base64.b85decode": EMBEDDED_DATA, "base64.a85decode": EMBEDDED_DATA,
    "base64.b32decode": EMBEDDED_DATA, "base64.decodebytes": EMBEDDED_DATA, "base64.urlsafe_b64decode": EMBEDDED_DATA,
    "binascii.a2b_base64": EMBEDDED_DATA, "bytes.fromhex": EMBEDDED_DATA,
    "zlib.decompress": EMBEDDED_DATA, "lzma.decompress": EMBEDDED_DATA, "bz2.decompress": EMBEDDED_DATA,
    "gzip.decompress": EMBEDDED_DATA, "pickle.loads": EMBEDDED_DATA,
}
_ATTRIBUTES = {"f_back": INTROSPECTION, "f_globals": INTROSPECTION, "f_locals": INTROSPECTION,
               "f_builtins": INTROSPECTION, "__closure__": INTROSPECTION, "cell_contents": INTROSPECTION,
               "__code__": INTROSPECTION, "__globals__": INTROSPECTION, "__subclasses__": INTROSPECTION,
               "gi_frame": INTROSPECTION, "tb_frame": INTROSPECTION}
_MODULES = {"ctypes": INTERNALS, "cffi": INTERNALS, "marshal": RUN_TIME_CODE}
_TORCH_INTERNALS = ("torch.ops", "torch._C", "torch._VF", "torch._refs", "torch._decomp", "torch._prims",
                    "torch._ops", "torch.library")
_WATCHED = ("torch", "numpy")


@dataclass(frozen=True)
class Flag:
    """One construct found: ``kind`` (one of the constants above), where, and what."""

    kind: str
    file: str
    line: int
    detail: str

    def text(self) -> str:
        return f"{self.kind}: {self.file} line {self.line}: {self.detail}"

    def as_dict(self) -> dict:
        return asdict(self)


def scan(source: bytes | str, file: str) -> list[Flag]:
    """The flags of ``source`` (a declared student file called ``file``), in line order; none for a
    file that does not parse (the static check says so already)."""
    try:
        tree = ast.parse(source, file)
    except (SyntaxError, ValueError):
        return []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    docstrings = _docstrings(tree)
    found: list[Flag] = []

    def dotted(node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            return ".".join([aliases.get(node.id, node.id), *reversed(parts)])
        return None

    def add(kind: str, node: ast.AST, detail: str) -> None:
        found.append(Flag(kind, file, getattr(node, "lineno", 0), detail[:160]))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in _MODULES:
                    add(_MODULES[top], node, f"imports {name}")
                if any(name == p or name.startswith(p + ".") for p in _TORCH_INTERNALS):
                    add(INTERNALS, node, f"imports {name}")
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in _CALLS:
                add(_CALLS[name], node, f"calls {name}")
            elif name in ("getattr", "setattr", "delattr", "vars") and node.args:
                target = dotted(node.args[0]) or ""
                watched = any(target == w or target.startswith(w + ".") for w in _WATCHED)
                computed = name == "vars" or len(node.args) < 2 or not (
                    isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))
                if watched and computed:
                    add(COMPUTED_NAME, node, f"{name} on {target} with a computed name")
        elif isinstance(node, ast.Attribute):
            name = dotted(node)
            if name is not None and any(name == p or name.startswith(p + ".") for p in _TORCH_INTERNALS):
                add(INTERNALS, node, f"uses {name}")
            elif node.attr in _ATTRIBUTES:
                add(_ATTRIBUTES[node.attr], node, f"reads .{node.attr}")
            elif node.attr == "modules" and name == "sys.modules":
                add(INTROSPECTION, node, "reads sys.modules")
            elif node.attr == "__dict__" and any((name or "").startswith(w) for w in _WATCHED):
                add(COMPUTED_NAME, node, f"reads {name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and id(node) not in docstrings:
            size = len(node.value)
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            if size > LARGE_LITERAL:
                add(EMBEDDED_DATA, node, f"a {type(node.value).__name__} literal of {size:,} characters")
            elif size > BLOB_LITERAL and _BLOB.fullmatch(text):
                add(EMBEDDED_DATA, node, f"a base64- or hex-like literal of {size:,} characters")
    unique = {(f.kind, f.line, f.detail): f for f in found}
    flags = sorted(unique.values(), key=lambda f: (f.line, f.kind, f.detail))
    return _outermost(flags)


def _outermost(flags: list[Flag]) -> list[Flag]:
    """Drop ``uses torch._C._nn`` where ``uses torch._C`` is on the same line."""
    kept = []
    for f in flags:
        shorter = [g for g in flags if g is not f and g.line == f.line and g.kind == f.kind
                   and f.detail.startswith(g.detail + ".")]
        if not shorter:
            kept.append(f)
    return kept


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of the module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found
