"""The week config: one ``assignments/<week>/week.toml`` per week, loaded and validated.

A week's config is the single source of every number a student or a TA sees: task titles and
points (the handout's table is checked against it), thresholds the graders use, forbidden APIs, and
the time and memory budget. Every validation error names the file, the key and the problem::

    assignments/cnn/week.toml: tasks[2].points: expected a number, got 'ten'

Example::

    name = "perceptron"
    week = 1
    title = "Perceptrons and linear classifiers"
    student_files = ["perceptron.py"]

    [budget]
    grade_seconds = 60

    [[tasks]]
    number = 1
    title = "Predict with a linear classifier"
    file = "perceptron.py"
    functions = ["predict"]
    points = 4
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import Repo

#: The week's drivers file, beside week.toml (see ``coursekit.worker.drivers``).
DRIVERS_NAME = "drivers.py"
#: Names a student file may not take: they are the engine's or the week's own files.
RESERVED_FILES = {DRIVERS_NAME, "conftest.py", "coursekit.py", "pytest.py", "sitecustomize.py",
                  "usercustomize.py", "week_drivers.py"}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
FILE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")


class ConfigError(ValueError):
    """A week config that cannot be used; the message names the file, the key and the problem."""


@dataclass(frozen=True)
class Task:
    number: int
    title: str
    file: str
    functions: tuple[str, ...]
    points: float

    @property
    def label(self) -> str:
        """How feedback and stubs name the task: ``task 3 (train_perceptron)``."""
        return f"task {self.number} ({', '.join(self.functions)})"


#: An operator of PyTorch's dispatcher, as ``week.toml`` names it: ``aten::layer_norm``.
OPERATOR_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*::[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Forbidden:
    """One forbidden API: its dotted name, the student files it is forbidden in, the reason the
    student is shown, and the dispatcher operators it computes with (``aten::native_layer_norm``):
    the worker refuses those operators whatever name reaches them (``coursekit.worker.operators``)."""

    api: str
    files: tuple[str, ...]
    reason: str
    operators: tuple[str, ...] = ()
    everywhere: bool = False  # a module: in the worker, all its functions and classes refuse


@dataclass(frozen=True)
class Budget:
    grade_seconds: float = 60.0
    memory_mb: int = 1500
    call_timeout_seconds: float = 20.0
    test_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class WeekConfig:
    name: str
    week: int
    title: str
    student_files: tuple[str, ...]
    tasks: tuple[Task, ...]
    forbidden: tuple[Forbidden, ...] = ()
    budget: Budget = field(default_factory=Budget)
    thresholds: dict[str, float] = field(default_factory=dict)
    allow_cuda: bool = False
    path: Path | None = None

    @property
    def total_points(self) -> float:
        return sum(t.points for t in self.tasks)

    def task(self, number: int) -> Task:
        for t in self.tasks:
            if t.number == number:
                return t
        raise KeyError(f"{self.name} has no task {number}")

    def task_for(self, file: str, qualname: str) -> Task | None:
        """The task whose ``functions`` cover ``qualname`` (``Class.method`` is covered by ``Class``)."""
        top = qualname.split(".")[0]
        for t in self.tasks:
            if t.file == file and (qualname in t.functions or top in t.functions):
                return t
        return None

    def forbidden_for(self, file: str) -> tuple[Forbidden, ...]:
        return tuple(f for f in self.forbidden if file in f.files)

    @property
    def drivers_path(self) -> Path | None:
        """The week's public drivers, ``drivers.py`` beside ``week.toml``, if the week has any."""
        if self.path is None:
            return None
        path = Path(self.path).parent / DRIVERS_NAME
        return path if path.is_file() else None


# --- validation -------------------------------------------------------------------------------

_TOP_KEYS = {"name", "week", "title", "student_files", "tasks", "forbidden", "budget",
             "thresholds", "allow_cuda"}
_TASK_KEYS = {"number", "title", "file", "functions", "points"}
_FORBIDDEN_KEYS = {"api", "files", "reason", "operators", "everywhere"}
_BUDGET_KEYS = set(Budget.__dataclass_fields__)


class _Reader:
    """Typed access to a parsed TOML table that reports problems as ``file: key: problem``."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}")

    def check_keys(self, table: dict, allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                where = f"{prefix}.{key}" if prefix else key
                raise self.fail(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def get(self, table: dict, key: str, kind: type | tuple, where: str, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(where, "missing required key")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a config that says `points = true` is a mistake.
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(where, f"expected {_kind_name(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise self.fail(where, f"expected {_kind_name(kinds)}, got {value!r}")
        return value

    def strings(self, table: dict, key: str, where: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(table, key, list, where, default)
        if value is default and default is not ...:
            return tuple(default)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{where}[{i}]", f"expected a string, got {item!r}")
        return tuple(value)


def _kind_name(kinds: tuple) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a table", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def parse_week_config(path: Path, data: dict, solution_dir: Path | None = None) -> WeekConfig:
    """Validate the parsed TOML ``data`` of ``path``; see the module docstring for the schema.

    When ``solution_dir`` is given, every student file must exist there.
    """
    r = _Reader(path)
    r.check_keys(data, _TOP_KEYS, "")
    name = r.get(data, "name", str, "name")
    if not NAME_PATTERN.match(name):
        raise r.fail("name", f"{name!r} is not a short name (lowercase letters, digits, _)")
    week = r.get(data, "week", int, "week")
    if week < 1:
        raise r.fail("week", f"expected a positive week number, got {week}")
    title = r.get(data, "title", str, "title")
    student_files = r.strings(data, "student_files", "student_files")
    if not student_files:
        raise r.fail("student_files", "lists no file")
    for i, f in enumerate(student_files):
        if not FILE_PATTERN.match(f):
            raise r.fail(f"student_files[{i}]", f"{f!r} is not a Python module file name")
        if f in RESERVED_FILES or f.startswith("test_"):
            raise r.fail(f"student_files[{i}]", f"{f!r} is reserved for the course's own files "
                                                "(drivers, tests, plugins); choose another name")
        if solution_dir is not None and not (solution_dir / f).is_file():
            raise r.fail(f"student_files[{i}]",
                         f"{f!r} does not exist in {solution_dir}; add the reference file or fix the name")
    if len(set(student_files)) != len(student_files):
        raise r.fail("student_files", "lists a file twice")

    raw_tasks = r.get(data, "tasks", list, "tasks")
    if not raw_tasks:
        raise r.fail("tasks", "lists no task")
    tasks = []
    for i, t in enumerate(raw_tasks):
        where = f"tasks[{i}]"
        if not isinstance(t, dict):
            raise r.fail(where, "expected a table ([[tasks]])")
        r.check_keys(t, _TASK_KEYS, where)
        number = r.get(t, "number", int, f"{where}.number")
        points = r.get(t, "points", (int, float), f"{where}.points")
        if points <= 0:
            raise r.fail(f"{where}.points", f"expected a positive number, got {points}")
        file = r.get(t, "file", str, f"{where}.file", student_files[0] if len(student_files) == 1 else ...)
        if file not in student_files:
            raise r.fail(f"{where}.file", f"{file!r} is not one of student_files {list(student_files)}")
        functions = r.strings(t, "functions", f"{where}.functions")
        if not functions:
            raise r.fail(f"{where}.functions", "lists no function or class")
        tasks.append(Task(number, r.get(t, "title", str, f"{where}.title"), file, functions,
                          float(points)))
    numbers = [t.number for t in tasks]
    if numbers != list(range(1, len(tasks) + 1)):
        raise r.fail("tasks", f"task numbers must be 1, 2, … in order, got {numbers}")
    seen: dict[tuple[str, str], int] = {}
    for t in tasks:
        for fn in t.functions:
            if (t.file, fn) in seen:
                raise r.fail(f"tasks[{t.number - 1}].functions",
                             f"{fn!r} already belongs to task {seen[(t.file, fn)]}")
            seen[(t.file, fn)] = t.number

    forbidden = []
    for i, f in enumerate(r.get(data, "forbidden", list, "forbidden", [])):
        where = f"forbidden[{i}]"
        if not isinstance(f, dict):
            raise r.fail(where, "expected a table ([[forbidden]])")
        r.check_keys(f, _FORBIDDEN_KEYS, where)
        files = r.strings(f, "files", f"{where}.files", student_files)
        for j, file in enumerate(files):
            if file not in student_files:
                raise r.fail(f"{where}.files[{j}]", f"{file!r} is not one of student_files")
        operators = r.strings(f, "operators", f"{where}.operators", ())
        for j, op in enumerate(operators):
            if not OPERATOR_PATTERN.match(op):
                raise r.fail(f"{where}.operators[{j}]", f"{op!r} is not a dispatcher operator's name "
                                                        "(namespace::name, such as aten::layer_norm)")
        forbidden.append(Forbidden(r.get(f, "api", str, f"{where}.api"), files,
                                   r.get(f, "reason", str, f"{where}.reason", ""), operators,
                                   r.get(f, "everywhere", bool, f"{where}.everywhere", False)))

    raw_budget = r.get(data, "budget", dict, "budget", {})
    r.check_keys(raw_budget, _BUDGET_KEYS, "budget")
    budget_values = {}
    for key, fld in Budget.__dataclass_fields__.items():
        value = r.get(raw_budget, key, (int, float), f"budget.{key}", fld.default)
        if value <= 0:
            raise r.fail(f"budget.{key}", f"expected a positive number, got {value}")
        budget_values[key] = int(value) if key == "memory_mb" else float(value)

    thresholds = r.get(data, "thresholds", dict, "thresholds", {})
    for key, value in thresholds.items():
        r.get(thresholds, key, (int, float), f"thresholds.{key}")

    return WeekConfig(
        name=name, week=week, title=title, student_files=student_files, tasks=tuple(tasks),
        forbidden=tuple(forbidden), budget=Budget(**budget_values),
        thresholds={k: float(v) for k, v in thresholds.items()},
        allow_cuda=r.get(data, "allow_cuda", bool, "allow_cuda", False), path=path,
    )


def load_week_config(path: Path, solution_dir: Path | None = None) -> WeekConfig:
    """Read and validate one ``week.toml``."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; every week needs assignments/<week>/week.toml") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return parse_week_config(path, data, solution_dir)


def load_all_weeks(repo: Repo) -> list[WeekConfig]:
    """Every week's config, in course order, rejecting two configs that claim the same week number.

    For the commands that list or check all weeks; a command about one week uses :func:`load_week`,
    so a half-written other week cannot stop it.
    """
    configs = []
    by_number: dict[int, Path] = {}
    for folder in repo.week_names():
        c = load_week(repo, folder)
        if c.week in by_number:
            raise ConfigError(f"{c.path}: week: {c.week} is already used by {by_number[c.week]}")
        by_number[c.week] = c.path
        configs.append(c)
    return sorted(configs, key=lambda c: c.week)


def load_week(repo: Repo, week: str) -> WeekConfig:
    """The validated config of ``week`` (its short name, as in ``HW=week``); reads no other week."""
    path = repo.config_path(week)
    if not NAME_PATTERN.match(week) or not path.is_file():
        known = ", ".join(repo.week_names()) or "none"
        raise ConfigError(f"unknown week {week!r}: the weeks are {known} (use HW=<one of them>)")
    solution = repo.solution(week)
    c = load_week_config(path, solution if solution.is_dir() else None)
    if c.name != week:
        if repo.config_path(c.name).is_file():
            raise ConfigError(f"{c.path}: name: {c.name!r} is already used by {repo.config_path(c.name)} "
                              "(a copied week? its name must be its folder's name)")
        raise ConfigError(f"{c.path}: name: {c.name!r} differs from the week's folder name "
                          f"{week!r}; the short name is the folder name")
    return c
