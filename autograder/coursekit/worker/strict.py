"""Forbidden Python-level APIs in a worker: refused whoever calls them, and no original handed out.

A worker holds only student files that forbid the same APIs (``grading.connect.worker_groups``), so
there every use of a forbidden function or class made while student code runs is the student's.
Operators are refused at the dispatcher (:mod:`coursekit.worker.operators`); what is not an
operator (``torch.nn.utils.clip_grad_norm_``, ``torch.autograd.grad``, the classes of
``torch.distributions``, ``nn.MultiheadAttention``'s Python path) is refused here:

- **every binding.** A forbidden function is replaced in every loaded module that binds it (the
  defining submodule's own name, ``torch.nn.utils.clip_grad.clip_grad_norm_``, as well as the
  public one); a forbidden class is changed in place (its methods and properties refuse), so a
  subclass, or the class found through ``__subclasses__()`` or ``sys.modules``, refuses too; a
  module marked ``everywhere`` in ``week.toml`` has all its functions and classes treated so, however
  the module is reached (``getattr(torch, "distri" + "butions")``).
- **whoever calls.** A call is allowed only when every frame on the stack, down to the worker's
  own request loop (that very frame, recorded when the guard was installed), runs a library's code
  (the standard library, site-packages, the course's runtime and the week's drivers), by file name;
  student files, code compiled at run time under any made-up name (``"<library>"``) or a module
  written to ``/tmp`` make it the student's. A stack that does not reach the loop's frame is the
  student's too (the server's own dispatch function called by student code with a made-up request).
  A call from any thread but the worker's main thread is refused (only student code starts threads
  in a worker).
- **no original handed out.** A wrapper holds a number, not the original: it asks an audit hook for
  the original, and the hook, which nothing can reach or remove, checks the caller itself (the
  request must come from the wrapper's own code, called as above) before lending it for the call.
  The hook's checks use only values captured when it was made, so changing a module's globals
  (``os.path``, ``threading``, this module's) changes nothing.

What remains possible is in the README's threat table: objects reached through the garbage
collector (``gc.get_objects()``), and code compiled at run time under a library's own file name
(the integrity scan flags both ``compile``/``exec`` and ``gc`` for a TA).
"""

from __future__ import annotations

import sys
import types
from typing import Any, Callable

#: The audit event a wrapper raises to borrow its original.
_EVENT = "coursekit.worker.original"


def install(student_dir: str, library_files: list[str], anchor: types.FrameType,
            messages: dict[str, str]) -> Callable[[Any, str], Callable]:
    """Set up the checks and the vault; return ``register(original, key)``, which gives the
    refusing wrapper of ``original``. ``messages`` maps a rule's key (its API name) to the message
    a refused call raises; ``library_files`` are extra trusted files (the drivers); ``anchor`` is
    the frame of the worker's request loop, below which every request's stack lies."""
    import _thread
    import os
    import sysconfig

    from .guard import ForbiddenAPIError

    roots: set[str] = set()
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(name)
        if path:
            roots |= {path.rstrip(os.sep) + os.sep, os.path.realpath(path) + os.sep}
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the runtime's coursekit/
    roots |= {package + os.sep, os.path.realpath(package) + os.sep}
    trusted_roots = tuple(sorted(roots))
    trusted_files = frozenset(library_files) | frozenset(os.path.realpath(f) for f in library_files)
    student_prefix = os.path.realpath(student_dir) + os.sep
    main_ident = _thread.get_ident()
    get_ident = _thread.get_ident
    get_frame = sys._getframe
    known: dict[str, bool] = {}
    originals: dict[int, Any] = {}
    wrapper_codes: set[types.CodeType] = set()
    texts = dict(messages)

    def is_library(filename: str) -> bool:
        verdict = known.get(filename)
        if verdict is None:
            verdict = (not filename.startswith(student_prefix)
                       and (filename in trusted_files or filename.startswith(trusted_roots)
                            or filename.startswith("<frozen ")))  # the interpreter's own modules
            known[filename] = verdict
        return verdict

    def students_call(frame: Any) -> bool:
        if get_ident() != main_ident:
            return True
        while frame is not None:
            if frame is anchor:
                return False  # the worker's own loop: only libraries ran between it and the call
            if not is_library(frame.f_code.co_filename):
                return True
            frame = frame.f_back
        return True  # not inside a request of the worker's loop

    def hook(event: str, args: tuple) -> None:
        if event != _EVENT:
            return
        key, box = args
        wrapper = get_frame(1)  # the frame that called sys.audit
        if wrapper.f_code not in wrapper_codes or key not in originals:
            raise ForbiddenAPIError("this is not how a forbidden API is reached")
        if students_call(wrapper.f_back):
            raise ForbiddenAPIError(texts.get(key_names.get(key, ""), "a forbidden API"))
        box.append(originals[key])

    key_names: dict[int, str] = {}

    def register(original: Any, rule: str) -> Callable:
        """A wrapper for ``original`` under ``rule`` (a key of ``messages``): the only reference to
        ``original`` is kept by the hook."""
        key = len(originals) + 1
        originals[key] = original
        key_names[key] = rule
        wrapper = _make_wrapper(key, getattr(original, "__name__", "forbidden"))
        wrapper_codes.add(wrapper.__code__)
        wrapper.__doc__ = getattr(original, "__doc__", None)
        wrapper.__qualname__ = getattr(original, "__qualname__", wrapper.__name__)
        wrapper.__module__ = getattr(original, "__module__", None)
        return wrapper

    sys.addaudithook(hook)
    return register


def _make_wrapper(key: int, name: str) -> Callable:
    audit = sys.audit

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        box: list = []
        audit(_EVENT, key, box)  # the hook checks the caller and lends the original
        return box[0](*args, **kwargs)

    forbidden.__name__ = name
    return forbidden


def guard_function(owner: Any, attr: str, rule: str, register: Callable) -> None:
    """Replace ``owner.attr`` (a function) by a refusing wrapper in every loaded module that binds the
    same object."""
    original = getattr(owner, attr)
    wrapper = register(original, rule)
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            if value is original:
                namespace[name] = wrapper
    setattr(owner, attr, wrapper)


def guard_class(cls: type, rule: str, register: Callable) -> None:
    """Make ``cls`` refuse in place: each function, static or class method and property defined in
    its own ``__dict__`` (``__init__`` and ``forward`` included) is wrapped, so every name of the
    class, and every subclass, refuses."""
    for name, value in list(vars(cls).items()):
        if name in ("__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__dir__", "__repr__",
                    "__class_getitem__", "__init_subclass__", "__subclasshook__", "__new__"):
            continue  # what Python and pickling need to look at the class, not to compute with it
        if isinstance(value, types.FunctionType):
            setattr(cls, name, register(value, rule))
        elif isinstance(value, staticmethod) and isinstance(value.__func__, types.FunctionType):
            setattr(cls, name, staticmethod(register(value.__func__, rule)))
        elif isinstance(value, classmethod) and isinstance(value.__func__, types.FunctionType):
            setattr(cls, name, classmethod(register(value.__func__, rule)))
        elif isinstance(value, property):
            setattr(cls, name, property(*(register(f, rule) if f is not None else None
                                          for f in (value.fget, value.fset, value.fdel)), value.__doc__))


def guard_module(name: str, rule: str, register: Callable) -> None:
    """Every function and class defined in module ``name`` or its loaded submodules refuses."""
    import importlib

    try:
        importlib.import_module(name)
    except ImportError:
        return
    prefix = name + "."
    seen: set[int] = set()
    for module_name, module in list(sys.modules.items()):
        if not (module_name == name or module_name.startswith(prefix)) or module is None:
            continue
        for attr, value in list(vars(module).items()):
            defined_here = str(getattr(value, "__module__", "") or "")
            if not (defined_here == name or defined_here.startswith(prefix)):
                continue
            if isinstance(value, type):
                if id(value) not in seen:
                    seen.add(id(value))
                    guard_class(value, rule, register)
            elif isinstance(value, types.FunctionType) and getattr(module, attr, None) is value:
                guard_function(module, attr, rule, register)
