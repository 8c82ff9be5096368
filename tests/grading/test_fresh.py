"""``Submission.fresh``: the same student files on new workers that have seen nothing the first
workers were sent, not through module globals, and (without namespaces) not through the worker
user's files either; the first submission goes on working."""

from __future__ import annotations

from textwrap import dedent

import pytest

from coursekit.grading import isolation, users
from coursekit.grading.client import Connection, Submission
from coursekit.grading.sandbox import SandboxSettings, WorkerChannel
from coursekit.local import InProcessChannel

#: A module that remembers what it was sent, in its globals and in a file in /tmp.
SOURCE = dedent("""
    import os

    SEEN = []
    NOTE = "/tmp/coursekit-fresh-test-note"
    # Also in its own scratch folder (its working folder), where a later worker of the same user
    # could look it up: every sandbox's scratch folders lie side by side in the temporary folder.
    SCRATCH_NOTES = "/tmp/coursekit-sandbox-*/student-*/scratch-note"

    def remember(x):
        SEEN.append(x)
        try:
            with open("scratch-note", "a") as f:
                f.write(f"{x}\\n")
        except OSError:
            pass
        try:  # under namespaces /tmp is the worker's own and not writable: nothing is left there
            with open(NOTE, "a") as f:
                f.write(f"{x}\\n")
        except OSError:
            pass
        return len(SEEN)

    def recall():
        import glob
        noted = []
        for path in [NOTE, *sorted(glob.glob(SCRATCH_NOTES))]:
            if os.path.realpath(path) == os.path.realpath("scratch-note"):
                continue  # its own
            try:
                with open(path) as f:
                    noted += f.read().split()
            except OSError:
                pass
        return {"seen": list(SEEN), "noted": noted}
""")


def _check(submission: Submission) -> None:
    assert [submission.memory.remember(x) for x in (3, 4)] == [1, 2]
    other = submission.fresh()
    assert other.memory.recall() == {"seen": [], "noted": []}
    assert other.memory.remember(9) == 1
    other.stop()
    assert submission.memory.recall()["seen"] in ([3, 4], [])  # [] where it was restarted


def test_a_fresh_in_process_submission_imports_the_student_modules_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # in process, its scratch note goes to the working folder: not the checkout
    (tmp_path / "memory.py").write_text(SOURCE.replace("/tmp/coursekit-fresh-test-note", str(tmp_path / "note")))
    submission = Submission({"memory": Connection(InProcessChannel(tmp_path, ["memory"]), 10.0)})
    assert [submission.memory.remember(x) for x in (3, 4)] == [1, 2]
    other = submission.fresh()
    assert other.memory.recall()["seen"] == []  # its globals are new (the file is shared: in process)


@pytest.mark.slow
@pytest.mark.parametrize("namespaces", ["1", "0"], ids=["namespaces", "worker user"])
def test_a_fresh_worker_has_seen_nothing_the_first_one_was_sent(tmp_path, monkeypatch, namespaces):
    monkeypatch.setenv(isolation.ENV_SWITCH, namespaces)
    if not users.is_root():
        pytest.skip("needs root: without it the workers are the grader's own user")
    held = users.acquire()  # as the supervisor does: every worker of the run is this user
    channels: list = []
    channel = WorkerChannel(SandboxSettings(student_files={"memory.py": SOURCE.encode()}, worker_user=held.name))
    channels.append(channel)
    if namespaces == "1" and channel.isolation != isolation.NAMESPACES:
        pytest.skip("bubblewrap cannot make namespaces here")
    try:
        submission = Submission({"memory": Connection(channel, 30.0)}, channels)
        _check(submission)
        assert len(channels) == 2 and channels[1] is not channel
        assert submission.memory.remember(5) >= 1  # the first submission still answers
        assert not channel.failures  # stopping it for the fresh one is no failure
    finally:
        for c in channels:
            c.close()
        users.remove_files_of(held.uid)
        held.release()
