"""The worker's syscall filter: what it may never ask the kernel for, in every isolation mode.

Installed by the worker on itself before any student code is imported (``worker.main``), with
libseccomp (its official Python binding where installed, else ``pyseccomp``, a ctypes binding with
the same API), so it holds whether or not bubblewrap made namespaces: under Gradescope's "worker
user" mode the filter is the only thing between a student and kernel objects that outlive the run
or reach another user. A filter cannot be removed or loosened by the process it is on, is kept
across ``fork`` and ``exec``, and covers every thread (``CTL_TSYNC``); libseccomp sets
no-new-privileges first, which an unprivileged process needs to install one.

Denied calls fail with ``EPERM`` (``ENOSYS`` for ``clone3``, whose flags a filter cannot read, so
glibc falls back to ``clone``, which is filtered by its flags), so the student's code sees an
ordinary ``PermissionError``. The list starts from what Docker's default profile denies
(``profiles/seccomp/default.json`` in moby) and adds what lets one grading reach another on a shared
kernel, grouped by reason in :data:`DENIED`.
"""

from __future__ import annotations

import errno

#: Syscalls the worker is refused, by why.
DENIED: dict[str, tuple[str, ...]] = {
    # Kernel keyrings outlive the process and can be opened to other users (/proc/keys).
    "keyrings": ("add_key", "keyctl", "request_key"),
    # Reading or steering another process, or the kernel's view of one.
    "tracing": ("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
                "perf_event_open", "bpf", "userfaultfd", "lookup_dcookie", "fanotify_init"),
    # New namespaces or mounts: a view of the machine the run's clean-up cannot see.
    "namespaces and mounts": ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
                              "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
                              "mount_setattr", "open_by_handle_at", "name_to_handle_at", "quotactl",
                              "swapon", "swapoff"),
    # The machine itself.
    "the machine": ("reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module",
                    "delete_module", "acct", "settimeofday", "clock_settime", "clock_adjtime",
                    "adjtimex", "iopl", "ioperm", "sysfs", "uselib", "ustat", "vhangup",
                    "syslog", "nfsservctl", "personality"),
    # IPC objects that live in the kernel, not in a file the clean-up can remove: System V queues,
    # semaphores and segments, and POSIX message queues (which need not be mounted to exist).
    "kernel IPC": ("msgget", "semget", "shmget", "mq_open"),
    # io_uring runs file and network operations the filter would not see.
    "io_uring": ("io_uring_setup", "io_uring_enter", "io_uring_register"),
    # Lowering its own priority would pass its own slowness off as a busy machine.
    "priority": ("setpriority", "sched_setscheduler", "sched_setparam", "sched_setattr"),
    # Servers and connections: no network, and no named or abstract socket another run could
    # reach (socketpair, which makes an unnamed connected pair, stays allowed).
    "sockets": ("bind", "listen", "accept", "accept4", "connect"),
    # Memory policy across NUMA nodes (Docker denies it without CAP_SYS_NICE).
    "memory policy": ("mbind", "set_mempolicy", "migrate_pages", "move_pages"),
}

#: ``clone`` flags that make namespaces (``include/uapi/linux/sched.h``).
CLONE_NEW = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
#: The one socket family left: netlink, which glibc's ``getifaddrs`` uses to list interfaces.
AF_NETLINK = 16


def _binding():
    try:
        import seccomp  # libseccomp's own binding (Debian's python3-seccomp)
    except ImportError:
        import pyseccomp as seccomp
    return seccomp


def install() -> str:
    """Install the filter on this process and all its threads; return a one-line description for
    the results (what binding, how many calls denied). Raises ``OSError`` or ``ImportError`` when
    libseccomp or its binding is missing, or the kernel refuses the filter."""
    seccomp = _binding()
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    denied = 0
    for names in DENIED.values():
        for name in names:
            try:
                rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
            except (OSError, ValueError, RuntimeError):
                continue  # a call this architecture or this libseccomp does not know
            denied += 1
    # clone with any namespace flag: one rule per flag (libseccomp compares masked values exactly).
    for bit in range(32):
        flag = 1 << bit
        if CLONE_NEW & flag:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    try:
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    except (OSError, ValueError, RuntimeError):
        pass
    rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.NE, AF_NETLINK))
    rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)
    rules.load()
    return f"seccomp ({seccomp.__name__}): {denied} calls denied, clone without namespaces, no sockets"
