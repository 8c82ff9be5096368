"""Call limits are charged in the worker's own time: a busy machine does not fail a student's call,
while a call that sleeps or loops still times out."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from coursekit.grading.client import Connection, Submission, WorkerFailure
from coursekit.grading.clock import ChargedClock, process_cpu_seconds
from coursekit.grading.sandbox import SandboxSettings, WorkerChannel

pytestmark = pytest.mark.slow

# The toy burns by its thread's CPU clock, not the process's: the worker runs under RLIMIT_CPU, and a
# process with a CPU limit reads its process clock from the kernel's tick-updated group timer
# (``kernel/time/posix-cpu-timers.c``), so a 3 ms loop on it ran for 4-7 ms and the test blamed the
# grader for the toy's own overshoot.
SOURCE = """
import time

def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
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


def test_a_process_clock_counts_the_cpu_of_threads_that_have_ended():
    code = ("import threading, time\n"
            "def burn():\n    end = time.thread_time() + 0.3\n    while time.thread_time() < end: pass\n"
            "t = threading.Thread(target=burn); t.start(); t.join()\nprint('done', flush=True)\ntime.sleep(30)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "done"
        used = process_cpu_seconds(child.pid)
        main_thread = int(open(f"/proc/{child.pid}/schedstat").read().split()[0]) / 1e9
    finally:
        child.kill()
        child.wait()
    assert used is not None and used >= 0.3 > main_thread
    assert process_cpu_seconds(child.pid) is None  # gone


@pytest.mark.skipif(os.geteuid() != 0, reason="a timed call counts a dedicated worker user's CPU (root)")
def test_a_timed_call_costs_the_same_on_a_loaded_machine():
    """A few milliseconds of work is charged a few milliseconds while the worker and the grader
    share one CPU with three busy processes: neither the grader's wait to be woken for the reply
    nor the clock-tick steps of ``/proc/<pid>/stat`` (10 ms) are charged to the student."""
    cpu = min(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})  # grader and worker on the burners' CPU
    channel = WorkerChannel(SandboxSettings(student_files={"toy.py": SOURCE.encode()}))
    burners = _burners(3, cpu)
    try:
        channel.start()
        submission = Submission({"toy": Connection(channel, call_timeout=30)})
        costs = sorted(submission.timed(submission.toy.burn, 0.003)[1] for _ in range(15))
    finally:
        for b in burners:
            b.kill()
            b.wait()
        channel.close()
        os.sched_setaffinity(0, before)
    assert costs[0] >= 0.0029, costs  # all of the work is charged
    assert costs[len(costs) // 2] < 0.006, costs  # and little else
