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


def user_cpu_seconds(uid: int | None) -> float:
    """CPU seconds used so far by every process of ``uid``, exited children they reaped included
    (``/proc/<pid>/stat``: utime, stime, cutime, cstime, in clock ticks)."""
    import os

    if uid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


class ChargedClock:
    """Seconds a call may be charged to the student since it started: wall time minus the worker's
    run-queue wait. Where ``schedstat`` is unreadable it is plain wall time."""

    def __init__(self, pid: int, uid: int | None = None):
        self.path = f"/proc/{pid}/schedstat"
        self.uid = uid
        self.start = time.monotonic()
        self.waited0 = self._waited()
        self.cpu0 = user_cpu_seconds(uid) if uid is not None else 0.0

    def spent(self) -> float:
        """What a timed call costs: the charged time, or the CPU time all the worker user's
        processes used meanwhile when that is more (work handed to other processes, or a main
        thread kept off the CPU by its own helpers, is not free)."""
        if self.uid is None:
            return self.charged()
        return max(self.charged(), user_cpu_seconds(self.uid) - self.cpu0)

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
