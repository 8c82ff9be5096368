"""Drivers: every week's drivers load together without a name clash, and return data only."""

from __future__ import annotations

from coursekit.worker.server import _default_drivers


def test_all_drivers_load_without_clashes():
    registry = _default_drivers()
    assert {"state_dict", "parameter_count", "call_with_warnings"} <= set(registry)
    assert all(callable(d) for d in registry.values())
