"""The in-process channel: students debugging the public tests locally, with no isolation at all.

The worker's own request handler runs in the student's pytest process, behind the same encoder
and decoder as the sandboxed worker, so what comes back (plain arrays, tensors, proxies for
objects) is identical in both modes. It is never used for grading: the grader entry passes
``--grading-mode worker``, and the plugin refuses this channel whenever ``COURSEKIT_GRADING`` is
set (the entry sets it).
"""

from __future__ import annotations

from pathlib import Path

from . import protocol


class InProcessChannel:
    """Runs the worker's server in this process: for local debugging only, no isolation."""

    def __init__(self, student_dir: Path, modules: list[str], forbidden: list | None = None,
                 drivers_file: Path | None = None):
        from .worker import guard
        from .worker.server import Server

        self.server = Server(Path(student_dir).resolve(), modules, drivers_file)
        self.student_dir, self.modules, self.drivers_file = Path(student_dir).resolve(), list(modules), drivers_file
        self.generation = 1
        if forbidden:
            guard.install([guard.Rule(*rule) for rule in forbidden], Path(student_dir).resolve())

    def request(self, message: dict, buffers: list[bytes], timeout: float | None) -> tuple[dict, list[bytes]]:
        import time

        frame = protocol.pack_frame(message, buffers)
        header, bufs = _split(frame)
        started = time.thread_time()  # the student's code runs in this very thread
        reply = self.server.handle_frame(header, bufs)
        self.last_charged = time.thread_time() - started
        return _split(reply)

    def fresh(self) -> InProcessChannel:
        """A new channel on the same files whose student modules are imported again (fresh module
        globals), for ``Submission.fresh``. It is the same process: objects the student's code
        keeps elsewhere (another module, ``sys``) are still there, so this is for debugging only."""
        import sys

        for name in self.modules:
            cached = sys.modules.get(name)
            if cached is not None and str(getattr(cached, "__file__", "")).startswith(str(self.student_dir)):
                del sys.modules[name]
        return InProcessChannel(self.student_dir, self.modules, None, self.drivers_file)  # the guard stays installed

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


def _split(frame: bytes) -> tuple[dict, list[bytes]]:
    """Parse one packed frame from bytes, exactly as the pipe reader would."""
    return _MemoryReader(frame).read()


class _MemoryReader(protocol.FrameReader):
    def __init__(self, data: bytes):
        super().__init__(-1)
        self._pending = bytearray(data)

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        if len(self._pending) < n:
            raise protocol.ProtocolError("truncated frame")
        out = bytes(self._pending[:n])
        del self._pending[:n]
        return out
