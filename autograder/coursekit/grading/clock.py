"""Time charged to student code: what a call's limit is measured in, and what a timed call costs.

A grading machine may be busy (a class graded in parallel, other jobs): then the worker waits for a
CPU, and a wall-clock limit would charge the student for the wait and change scores with the load.
So a limit is on wall time minus the time the worker spent runnable but not running, which the
kernel reports per thread (``/proc/<pid>/schedstat``: time on a CPU, time waiting on a run queue,
in nanoseconds; see the kernel's ``Documentation/scheduler/sched-stats.rst``). A process that sleeps
or blocks is charged in full, so ``time.sleep(1000)`` still times out, and work handed to another
thread or process is charged as the main thread's wait for it.

A timed call (``Submission.timed``), which a grader compares with an operation it times itself, is
charged the CPU time every process of the worker user used during the call, to the nanosecond (the
kernel's per-process CPU clock, exited threads included), or, when that is more, the wall time
neither the worker nor the grader spent waiting for a CPU. Both come from the kernel, never from
the student's process, and neither grows with the machine's load: the first because waiting uses
no CPU, the second because both waits are taken out (the grader's own wait to be woken when the
reply is ready would otherwise be charged to the student on a busy machine).
"""

from __future__ import annotations

import os
import threading
import time

#: ``CPUCLOCK_SCHED``: the clock of a process's scheduler run time (``include/linux/posix-timers.h``).
_CPUCLOCK_SCHED = 2


class Overloaded(Exception):
    """The machine was so busy that a call could not get its share of a CPU in time."""


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds every thread of process ``pid`` has used, exited threads included, in
    nanosecond steps: ``clock_gettime`` on the process's CPU clock (``clock_getcpuclockid(3)``;
    the clock id is ``MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)`` = ``(~pid << 3) | 2``). Any
    process's clock can be read, without privileges. None if the process is gone."""
    try:
        return time.clock_gettime(((~pid) << 3) | _CPUCLOCK_SCHED)
    except OSError:
        return None


def user_cpu_usage(uid: int) -> dict[int, tuple[float, float]]:
    """For every process of ``uid``: ``(its own CPU seconds, CPU seconds of the children it
    reaped)``. The first is the precise clock (``process_cpu_seconds``), or for a zombie the
    ``/proc/<pid>/stat`` utime + stime; the second is cutime + cstime (clock ticks, ``proc(5)``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    usage = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        except (OSError, IndexError, ValueError):
            continue
        own = process_cpu_seconds(pid)
        usage[pid] = (own if own is not None else (utime + stime) / ticks, (cutime + cstime) / ticks)
    return usage


def cpu_used_between(before: dict[int, tuple[float, float]], after: dict[int, tuple[float, float]]) -> float:
    """CPU seconds the processes of ``after`` used since ``before``: for a process in both, what
    its clock and its reaped children's clocks advanced; for a new process, all of it (it started
    in between). A process that ended in between left its CPU with the process that reaped it."""
    total = 0.0
    for pid, (own, reaped) in after.items():
        own0, reaped0 = before.get(pid, (0.0, 0.0))
        total += max(own - own0, 0.0) + max(reaped - reaped0, 0.0)
    return total


def _thread_waited(path: str) -> float | None:
    """Seconds the thread whose ``schedstat`` is ``path`` has spent runnable on a run queue."""
    try:
        with open(path, "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


#: Wall seconds into a call after which the CPU of the worker user's processes is watched too.
WATCH_AFTER = 0.5


class ChargedClock:
    """Seconds a call may be charged to the student since it started: wall time minus the worker's
    run-queue wait (plain wall time where ``schedstat`` is unreadable).

    With ``uid`` (the worker user), time the user's own processes caused is the student's too: a
    call that lasts past :data:`WATCH_AFTER` is also charged, from then on, the CPU every process of
    the user used, so a worker that lowers its priority and keeps the CPUs busy with helpers (its
    run-queue wait then grows with its own load) times out instead of passing for a busy machine.
    With ``measure`` (a timed call) that CPU is counted from the start, and ``spent`` reports it."""

    def __init__(self, pid: int, uid: int | None = None, measure: bool = False):
        self.path = f"/proc/{pid}/schedstat"
        self.own_path = f"/proc/{os.getpid()}/task/{threading.get_native_id()}/schedstat"
        self.uid = uid
        self.measure = measure and uid is not None
        self.usage0 = user_cpu_usage(uid) if self.measure else None
        self.charged0 = 0.0  # what was charged when usage0 was taken
        self.start = time.monotonic()
        self.waited0 = _thread_waited(self.path)
        self.own_waited0 = _thread_waited(self.own_path)

    def _unwaited(self) -> float:
        wall = time.monotonic() - self.start
        now = _thread_waited(self.path)
        if now is None or self.waited0 is None:
            return wall
        return max(wall - (now - self.waited0), 0.0)

    def charged(self) -> float:
        """Wall seconds since the start minus the worker's run-queue wait, or, when more, what the
        worker user's processes used (see the class): what a limit counts."""
        charged = self._unwaited()
        if self.uid is None:
            return charged
        if self.usage0 is None:
            if time.monotonic() - self.start >= WATCH_AFTER:
                self.usage0, self.charged0 = user_cpu_usage(self.uid), charged
            return charged
        return max(charged, self.charged0 + cpu_used_between(self.usage0, user_cpu_usage(self.uid)))

    def spent(self) -> float:
        """What a timed call costs, read once the reply has begun: the CPU all the worker user's
        processes used meanwhile, or the charged time less the grader's own run-queue wait when
        that is more (the worker's main thread blocked on work that left no CPU behind)."""
        if not self.measure:
            return self._unwaited()
        charged = self._unwaited()
        own_now = _thread_waited(self.own_path)
        if own_now is not None and self.own_waited0 is not None:
            charged = max(charged - (own_now - self.own_waited0), 0.0)
        return max(charged, cpu_used_between(self.usage0, user_cpu_usage(self.uid)))
