"""Call limits are charged in the worker's own time: a busy machine does not fail a student's call,
while a call that sleeps or loops still times out."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from coursekit.grading.client import Connection, Submission, WorkerFailure
from coursekit.grading.clock import ChargedClock
from coursekit.grading.sandbox import SandboxSettings, WorkerChannel

pytestmark = pytest.mark.slow

SOURCE = """
import time

def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return seconds

def nap(seconds):
    time.sleep(seconds)
    return seconds
"""


def _burners(n: int, cpu: int) -> list[subprocess.Popen]:
    code = f"import os; os.sched_setaffinity(0, {{{cpu}}})\nwhile True: pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def test_the_clock_does_not_charge_waiting_for_a_cpu():
    cpu = min(os.sched_getaffinity(0))
    burners = _burners(3, cpu)
    child = subprocess.Popen([sys.executable, "-c", f"import os, time\nos.sched_setaffinity(0, {{{cpu}}})\n"
                              "end = time.process_time() + 1.0\nwhile time.process_time() < end: pass\n"])
    try:
        clock = ChargedClock(child.pid)
        charged = 0.0
        while child.poll() is None:  # read while the process exists (its /proc entry goes with it)
            charged, wall = clock.charged(), time.monotonic() - clock.start
            time.sleep(0.05)
    finally:
        for b in burners:
            b.kill()
            b.wait()
    assert wall > 2.0, "the burners did not load the CPU"
    assert charged < 0.6 * wall


def test_a_loaded_machine_does_not_time_out_a_call_that_fits_its_limit():
    cpu = min(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})  # the worker inherits it, and shares the CPU with the burners
    try:
        channel = WorkerChannel(SandboxSettings(student_files={"toy.py": SOURCE.encode()}))
        channel.start()
    finally:
        os.sched_setaffinity(0, before)
    burners = _burners(3, cpu)
    try:
        toy = Submission({"toy": Connection(channel, call_timeout=2.5)}).toy
        started = time.monotonic()
        assert toy.burn(1.6) == 1.6
        assert time.monotonic() - started > 2.5, "the call was not slowed by the load"
        with pytest.raises(WorkerFailure) as failure:
            toy.nap(5.0)  # sleeping is charged in full
        assert failure.value.kind == "timeout"
    finally:
        for b in burners:
            b.kill()
            b.wait()
        channel.close()
