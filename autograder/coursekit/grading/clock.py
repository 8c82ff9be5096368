"""Time charged to student code: what a call's limit is measured in.

A grading machine may be busy (a class graded in parallel, other jobs): then the worker waits for a
CPU, and a wall-clock limit would charge the student for the wait and change scores with the load.
So a limit is on wall time minus the time the worker spent runnable but not running, which the
kernel reports per process (``/proc/<pid>/schedstat``: time on a CPU, time waiting on a run queue,
in nanoseconds; see the kernel's ``Documentation/scheduler/sched-stats.rst``). A process that sleeps
or blocks is charged in full, so ``time.sleep(1000)`` still times out, and work handed to another
thread or process is charged as the main thread's wait for it. The same charged time is what a
grader compares with an operation it times itself (``Submission.timed``): the kernel's count,
never the student's process's word.
"""

from __future__ import annotations

import time


class Overloaded(Exception):
    """The machine was so busy that a call could not get its share of a CPU in time."""


class ChargedClock:
    """Seconds a call may be charged to the student since it started: wall time minus the worker's
    run-queue wait. Where ``schedstat`` is unreadable it is plain wall time."""

    def __init__(self, pid: int):
        self.path = f"/proc/{pid}/schedstat"
        self.start = time.monotonic()
        self.waited0 = self._waited()

    def _waited(self) -> float | None:
        try:
            with open(self.path, "rb") as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return None
    def charged(self) -> float:
        wall = time.monotonic() - self.start
        now = self._waited()
        if now is None or self.waited0 is None:
            return wall
        return max(wall - (now - self.waited0), 0.0)
