"""Drivers: the generic ones plus exactly one week's, handed over explicitly; no name clashes."""

from __future__ import annotations

import pytest

from coursekit.config import load_week
from coursekit.paths import Repo
from coursekit.worker.server import load_drivers

REPO = Repo.here()


def test_generic_drivers_load_alone():
    registry, files = load_drivers(None)
    assert {"state_dict", "parameter_count", "call_with_warnings"} <= set(registry)
    assert all(callable(d) for d in registry.values())
    assert len(files) == 1


@pytest.mark.parametrize("week", [w for w in REPO.week_names() if REPO.drivers(w).is_file()])
def test_each_weeks_drivers_load_beside_the_generic_ones_and_no_other_weeks(week):
    generic, _ = load_drivers(None)
    registry, files = load_drivers(load_week(REPO, week).drivers_path)
    assert set(generic) < set(registry)
    assert str(REPO.drivers(week)) in files
    others = [w for w in REPO.week_names() if w != week and REPO.drivers(w).is_file()]
    for other in others:
        theirs, _ = load_drivers(REPO.drivers(other))
        assert not (set(theirs) - set(generic)) & set(registry), f"{other}'s drivers loaded with {week}'s"


def test_a_week_driver_may_not_replace_a_generic_one(tmp_path):
    path = tmp_path / "drivers.py"
    path.write_text("REGISTRY = {'state_dict': lambda server, m: None}\n")
    with pytest.raises(RuntimeError, match="state_dict"):
        load_drivers(path)
