"""The week config loader: valid configs load, and each kind of mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursekit.config import ConfigError, load_all_weeks, load_week, load_week_config
from coursekit.paths import Repo

REPO = Repo.here()

MINIMAL = """\
name = "toy"
week = 9
title = "A toy week"
student_files = ["toy.py"]

[[tasks]]
number = 1
title = "Add"
file = "toy.py"
functions = ["add"]
points = 5
"""


def write_week(root: Path, name: str, text: str, with_solution: bool = True) -> Path:
    folder = root / "assignments" / name
    folder.mkdir(parents=True)
    (folder / "week.toml").write_text(text)
    (root / "autograder").mkdir(exist_ok=True)
    if with_solution:
        (root / "solutions" / name).mkdir(parents=True)
        (root / "solutions" / name / "toy.py").write_text("def add(a, b):\n    return a + b\n")
    return folder / "week.toml"


def test_every_week_in_the_repository_loads():
    configs = load_all_weeks(REPO)
    assert [c.name for c in configs] == REPO.week_names()  # both in course order
    assert [c.week for c in configs] == sorted(c.week for c in configs)
    for c in configs:
        assert c.total_points > 0
        assert [t.number for t in c.tasks] == list(range(1, len(c.tasks) + 1))


def test_minimal_config_loads_with_defaults(tmp_path):
    path = write_week(tmp_path, "toy", MINIMAL)
    config = load_week(Repo(tmp_path), "toy")
    assert config.tasks[0].label == "task 1 (add)"
    assert config.budget.grade_seconds == 60
    assert config.path == path


@pytest.mark.parametrize("mutation, key, problem", [
    (lambda t: 'colour = "blue"\n' + t, "colour", "unknown key"),
    (lambda t: t.replace("points = 5", 'points = "five"'), "tasks[0].points", "expected an integer or a number"),
    (lambda t: t.replace("week = 9", "week = 9.5"), "week", "expected an integer"),
    (lambda t: t.replace('student_files = ["toy.py"]', 'student_files = ["toy.py", "missing.py"]'),
     "student_files[1]", "does not exist"),
    (lambda t: t.replace('title = "A toy week"\n', ""), "title", "missing required key"),
    (lambda t: t.replace("number = 1", "number = 2"), "tasks", "must be 1, 2"),
    (lambda t: t + "[budget]\nseconds = 3\n", "budget.seconds", "unknown key"),
])
def test_bad_config_names_file_key_and_problem(tmp_path, mutation, key, problem):
    path = write_week(tmp_path, "toy", mutation(MINIMAL))
    with pytest.raises(ConfigError) as err:
        load_week(Repo(tmp_path), "toy")
    message = str(err.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert problem in message


def test_a_copied_week_whose_name_was_not_changed_is_named_as_a_copy(tmp_path):
    write_week(tmp_path, "toy", MINIMAL)
    copy = write_week(tmp_path, "toy2", MINIMAL.replace("week = 9", "week = 10"))
    with pytest.raises(ConfigError) as err:
        load_all_weeks(Repo(tmp_path))
    assert str(err.value).startswith(f"{copy}: name: 'toy' is already used by")


def test_duplicate_week_number_is_rejected_by_the_commands_about_all_weeks(tmp_path):
    write_week(tmp_path, "toy", MINIMAL)
    copy = write_week(tmp_path, "toy2", MINIMAL.replace('name = "toy"', 'name = "toy2"'))
    with pytest.raises(ConfigError, match="week: 9 is already used by"):
        load_all_weeks(Repo(tmp_path))
    assert load_week(Repo(tmp_path), "toy2").path == copy  # one week alone still loads


def test_a_half_written_week_breaks_only_commands_about_it(tmp_path):
    write_week(tmp_path, "toy", MINIMAL)
    broken = tmp_path / "assignments" / "draft" / "week.toml"
    broken.parent.mkdir(parents=True)
    broken.write_text('name = "draft"\nweek = 4\n')  # no title, no tasks yet
    assert load_week(Repo(tmp_path), "toy").name == "toy"
    with pytest.raises(ConfigError, match="title: missing required key"):
        load_week(Repo(tmp_path), "draft")
    with pytest.raises(ConfigError, match="draft"):
        load_all_weeks(Repo(tmp_path))


def test_weeks_are_listed_in_course_order(tmp_path):
    for name, number in (("zeta", 1), ("alpha", 3), ("mid", 2)):
        write_week(tmp_path, name, MINIMAL.replace('name = "toy"', f'name = "{name}"')
                   .replace("week = 9", f"week = {number}"))
    assert Repo(tmp_path).week_names() == ["zeta", "mid", "alpha"]


@pytest.mark.parametrize("reserved", ["drivers.py", "conftest.py", "test_toy.py"])
def test_a_student_file_may_not_take_a_reserved_name(tmp_path, reserved):
    path = write_week(tmp_path, "toy", MINIMAL.replace('"toy.py"', f'"{reserved}"'))
    with pytest.raises(ConfigError, match="reserved"):
        load_week_config(path)


def test_folder_name_must_be_the_short_name(tmp_path):
    path = write_week(tmp_path, "other", MINIMAL)
    with pytest.raises(ConfigError, match=r"name: 'toy' differs from the week's folder name 'other'"):
        load_all_weeks(Repo(tmp_path))
    assert path.exists()


def test_unknown_week_lists_the_known_ones(tmp_path):
    write_week(tmp_path, "toy", MINIMAL)
    with pytest.raises(ConfigError, match=r"unknown week 'cnn': the weeks are toy"):
        load_week(Repo(tmp_path), "cnn")


def test_invalid_toml_names_the_file(tmp_path):
    path = write_week(tmp_path, "toy", "name = \n")
    with pytest.raises(ConfigError, match=rf"^{path}: not valid TOML"):
        load_week_config(path)


def test_a_function_in_two_tasks_is_rejected(tmp_path):
    text = MINIMAL + '\n[[tasks]]\nnumber = 2\ntitle = "Again"\nfile = "toy.py"\nfunctions = ["add"]\npoints = 1\n'
    write_week(tmp_path, "toy", text)
    with pytest.raises(ConfigError, match=r"tasks\[1\]\.functions: 'add' already belongs to task 1"):
        load_week(Repo(tmp_path), "toy")
