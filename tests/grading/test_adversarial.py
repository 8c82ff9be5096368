"""The adversarial suite: published attacks on Python autograders, each graded through the real entry
point. Every attack must leave a valid results.json, the honest score, and no secret (hidden test
source, hidden inputs, expected values) in any field a student can see.

Attacks that need the privilege drop (reading grader files, touching results) are checked as root,
which is how CI and Gradescope run. As root, every test runs in both isolation modes (the
``isolation_mode`` fixture): under bubblewrap's namespaces, and as the worker user alone, as
Gradescope's containers grade.
"""

from __future__ import annotations

import os
import time
from textwrap import dedent

import pytest

from coursekit.grading import results as results_mod
from coursekit.grading.isolation import NAMESPACES, WORKER_USER
from toyweek import (FULL_MARKS, GOOD, HIDDEN_INPUTS, SECRET_EXPECTED, SECRET_SOURCE_TOKEN, grade,
                     grade_checkout, make_root, private_copy, scores, student_visible_text)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("isolation_mode")]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the privilege drop is exercised only as root")

GOOD_VECTOR = "\ndef vector():\n    import numpy as np\n    return np.array([1.0, 2.0, 3.0])\n"


def check(results: dict, expected_total: float) -> None:
    results_mod.validate(results)
    assert results["score"] == pytest.approx(expected_total), scores(results)
    visible = student_visible_text(results)
    assert SECRET_SOURCE_TOKEN not in visible
    assert str(SECRET_EXPECTED) not in visible
    for value in HIDDEN_INPUTS:
        assert str(value) not in visible


def run(tmp_path, source: str, expected_total: float, extra: dict | None = None) -> dict:
    results, log = grade(make_root(tmp_path, source, extra))
    check(results, expected_total)
    return results


def test_honest_submission_gets_full_marks(tmp_path):
    run(tmp_path, GOOD, FULL_MARKS)


# --- lying about values ------------------------------------------------------------------------

def test_always_equal_object_scores_nothing_for_it(tmp_path):
    source = dedent("""
    class Yes:
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __bool__(self): return True
    def add(a, b):
        return Yes()
    """) + GOOD_VECTOR
    results = run(tmp_path, source, 1.0)
    assert any("expected" in t["output"] or "wrong value" in t["output"] for t in results["tests"])


def test_ndarray_subclass_that_claims_closeness_is_compared_as_plain_data(tmp_path):
    source = dedent("""
    import numpy as np
    class Liar(np.ndarray):
        def __array_ufunc__(self, *a, **k): return np.True_
        def __eq__(self, other): return np.True_
    def add(a, b):
        return a + b
    def vector():
        return np.zeros(3).view(Liar)
    """)
    run(tmp_path, source, 3.0)


def test_float_subclass_is_not_a_float(tmp_path):
    source = dedent("""
    class F(float):
        def __eq__(self, o): return True
    def add(a, b):
        return F(0)
    """) + GOOD_VECTOR
    run(tmp_path, source, 1.0)


def test_monkeypatching_numpy_and_pytest_in_the_worker_changes_nothing(tmp_path):
    source = dedent("""
    import numpy as np
    np.allclose = lambda *a, **k: True
    np.isclose = lambda *a, **k: np.True_
    np.array_equal = lambda *a, **k: True
    try:
        import pytest, _pytest.outcomes
        pytest.fail = lambda *a, **k: None
    except Exception:
        pass
    import builtins
    builtins.isinstance = lambda *a: True
    def add(a, b):
        return 0
    def vector():
        return np.zeros(3)
    """)
    run(tmp_path, source, 0.0)


# --- ending the worker -------------------------------------------------------------------------

@pytest.mark.parametrize("how", [
    "sys.exit(0)", "raise SystemExit(0)", "os._exit(0)", "os.kill(os.getpid(), signal.SIGKILL)",
    "ctypes.string_at(0)",
])
def test_ending_the_process_inside_a_call_fails_only_that_call(tmp_path, how):
    source = dedent(f"""
    import os, sys, signal, ctypes
    import numpy as np
    def add(a, b):
        if a == {HIDDEN_INPUTS[0]}:
            {how}
        return a + b
    """) + GOOD_VECTOR
    results = run(tmp_path, source, FULL_MARKS - 1)
    hidden = [t for t in results["tests"] if "hidden inputs" in t["name"]][0]
    assert hidden["score"] == 0 and hidden["output"]


@pytest.mark.parametrize("how", ["sys.exit(0)", "os._exit(0)", "ctypes.string_at(0)"])
def test_ending_the_process_at_import_scores_zero_with_a_message(tmp_path, how):
    source = dedent(f"""
    import os, sys, ctypes
    {how}
    def add(a, b):
        return a + b
    """) + GOOD_VECTOR
    results = run(tmp_path, source, 0.0)
    assert all(t["output"] for t in results["tests"])


def test_infinite_loop_and_sleep_time_out_and_the_rest_goes_on(tmp_path):
    source = dedent(f"""
    import time
    def add(a, b):
        if a == {HIDDEN_INPUTS[0]}:
            while True:
                pass
        if a == 40:
            time.sleep(1000)
        return a + b
    """) + GOOD_VECTOR
    start = time.monotonic()
    results = run(tmp_path, source, 2.0)
    assert time.monotonic() - start < 40
    assert sum("did not finish within" in t["output"] for t in results["tests"]) == 2


def test_memory_bomb_fails_its_call_only(tmp_path):
    source = dedent(f"""
    def add(a, b):
        if a == {HIDDEN_INPUTS[0]}:
            x = bytearray(20 * 1024 ** 3)
        return a + b
    """) + GOOD_VECTOR
    run(tmp_path, source, FULL_MARKS - 1)


@as_root
def test_fork_bomb_is_contained(tmp_path):
    source = dedent(f"""
    import os
    def add(a, b):
        if a == {HIDDEN_INPUTS[0]}:
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        return a + b
    """) + GOOD_VECTOR
    run(tmp_path, source, FULL_MARKS - 1)


def test_huge_output_is_not_shown_and_does_not_break_grading(tmp_path):
    source = dedent("""
    import sys
    def add(a, b):
        for _ in range(2000):
            sys.stdout.write("x" * 50_000)
            sys.stderr.write("y" * 50_000)
        return a + b
    """) + GOOD_VECTOR
    results = run(tmp_path, source, FULL_MARKS)
    assert "xxxxxxxxxx" not in student_visible_text(results)


def test_closing_the_channel_descriptors_fails_that_call(tmp_path):
    source = dedent(f"""
    import os
    def add(a, b):
        if a == {HIDDEN_INPUTS[0]}:
            os.closerange(3, 1024)
            return a + b
        return a + b
    """) + GOOD_VECTOR
    run(tmp_path, source, FULL_MARKS - 1)


# --- forging the channel -----------------------------------------------------------------------

def _out_fd_snippet(payload: str) -> str:
    return dedent(f"""
    import json, os, struct, sys
    def _out_fd():
        with open("/proc/self/cmdline", "rb") as f:
            args = f.read().split(b"\\0")
        return json.loads(args[-2])["out_fd"]
    def add(a, b):
        if a == {HIDDEN_INPUTS[0]}:
            fd = _out_fd()
            {payload}
            os._exit(0)
        return a + b
    """) + GOOD_VECTOR


@pytest.mark.parametrize("payload", [
    'os.write(fd, b"\\xff" * 64)',                                          # garbage
    'os.write(fd, struct.pack("<I", 100) + b"{\\"id\\"")',                  # truncated
    'os.write(fd, struct.pack("<I", 2**31) + b"x" * 1000)',                 # oversized header
    'os.write(fd, struct.pack("<I", 24) + b"{\\"nbuf\\": 1, \\"id\\": 3}" + struct.pack("<Q", 2**40))',
])
def test_garbage_truncated_and_oversized_frames_fail_that_call(tmp_path, payload):
    run(tmp_path, _out_fd_snippet(payload), FULL_MARKS - 1)


_FORGE = """
import json, os, struct, sys, types
def _out_fd():
    with open("/proc/self/cmdline", "rb") as f:
        args = f.read().split(b"\\0")
    return json.loads(args[-2])["out_fd"]
def _forge(reply):
    # a well-formed reply frame with the id of the request being served, written by student code
    f = sys._getframe()
    while f.f_code.co_name != "handle_frame":
        f = f.f_back
    header = json.dumps(dict(reply, id=f.f_locals["rid"], nbuf=0)).encode()
    os.write(_out_fd(), struct.pack("<I", len(header)) + header)
"""


@pytest.mark.parametrize("error", [
    {"type": "ValueError", "message": "m", "frames": 5},
    {"type": ["ValueError"], "message": {"t": 1}, "frames": [[1, 2, 3, 4, 5]], "in_driver": True,
     "driver": ["week", "x", 1], "attribute": 3},
])
def test_a_forged_error_reply_is_the_students_not_a_grader_error(tmp_path, error):
    """An error reply in shapes the worker never sends: the call failed in the student's code, as far
    as anyone can tell, and never in the grader."""
    source = _FORGE + dedent(f"""
    def add(a, b):
        if a == {HIDDEN_INPUTS[0]}:
            _forge({{"ok": False, "error": {error!r}}})
            os._exit(0)
        return a + b
    """) + GOOD_VECTOR
    results = run(tmp_path, source, FULL_MARKS - 1)
    assert not any(t["extra_data"].get("grader_error") for t in results["tests"]), results["tests"]


def test_a_forged_attribute_reply_is_the_students_not_a_grader_error(tmp_path):
    """The module's ``add`` is a property (the module's class replaced), whose getter answers the
    grader's attribute request itself, with a reply of the wrong shape."""
    source = _FORGE + dedent("""
    def _add(a, b):
        return a + b
    class _Module(types.ModuleType):
        @property
        def add(self):
            _forge({"ok": True, "value": {"t": "list", "v": [1, 2]}})
            return _add
    sys.modules[__name__].__class__ = _Module
    """) + GOOD_VECTOR
    results = run(tmp_path, source, 1.0)  # every answer about add is forged: only vector passes
    assert not any(t["extra_data"].get("grader_error") for t in results["tests"]), results["tests"]
    add = [t for t in results["tests"] if "add(2, 3)" in t["name"]][0]
    assert "protocol" in add["output"]


def test_a_pickle_payload_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    payload = (
        "import pickle\n"
        "            class P:\n"
        f"                def __reduce__(self): return (open, ({str(marker)!r}, 'w'))\n"
        "            blob = pickle.dumps(P())\n"
        "            header = json.dumps({'id': 2, 'ok': True, 'nbuf': 1, 'value': "
        "{'t': 'pickle', 'buf': 0}}).encode()\n"
        "            os.write(fd, struct.pack('<I', len(header)) + header + struct.pack('<Q', len(blob)) + blob)")
    run(tmp_path, _out_fd_snippet(payload), FULL_MARKS - 1)
    assert not marker.exists()


def test_printing_pass_lines_forges_nothing(tmp_path):
    source = dedent("""
    print('{"score": 100, "tests": []}')
    print("PASSED test_hidden_add")
    def add(a, b):
        return 0
    """) + GOOD_VECTOR
    run(tmp_path, source, 1.0)


# --- reaching the grader's files ----------------------------------------------------------------

_FIND_ROOT = """
    import json, os
    def _grader_root():
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    args = f.read().split(b"\\0")
            except OSError:
                continue
            if b"--root" in args:
                return args[args.index(b"--root") + 1].decode()
        return KNOWN_ROOT  # a sandbox hides the grader's processes; the root is no secret anyway
"""


def _find_root(tmp_path) -> str:
    """The attack's helper that finds the grading root (as on Gradescope, where it is always
    /autograder, the student may know it)."""
    return dedent(_FIND_ROOT).replace("KNOWN_ROOT", repr(str(tmp_path / "autograder")))


@as_root
def test_reading_hidden_tests_and_echoing_them_leaks_nothing(tmp_path):
    source = _find_root(tmp_path) + dedent("""
    def add(a, b):
        root = _grader_root()
        found = []
        for folder, _, files in os.walk(root):
            for name in files:
                try:
                    found.append(open(os.path.join(folder, name)).read())
                except OSError as e:
                    found.append(repr(e))
        raise ValueError("LEAK " + " ".join(found))
    """) + GOOD_VECTOR
    results = run(tmp_path, source, 1.0)
    public = [t for t in results["tests"] if "add(2, 3)" in t["name"]][0]
    assert "ValueError" in public["output"]  # the student's own message is shown for a public test


@as_root
def test_writing_or_deleting_results_is_refused(tmp_path):
    source = _find_root(tmp_path) + dedent("""
    def add(a, b):
        root = _grader_root()
        path = os.path.join(root, "results", "results.json")
        for attempt in (lambda: open(path, "w").write('{"score": 1000, "tests": []}'),
                        lambda: os.remove(path), lambda: os.chmod(path, 0o777)):
            try:
                attempt()
            except OSError:
                pass
        return 0
    """) + GOOD_VECTOR
    run(tmp_path, source, 1.0)


def test_a_detached_child_cannot_rewrite_results_later(tmp_path):
    source = _find_root(tmp_path) + dedent("""
    import subprocess, sys, time
    def add(a, b):
        root = _grader_root()
        path = os.path.join(root, "results", "results.json")
        code = f"import time, os\\ntime.sleep(3)\\nopen({path!r}, 'w').write('{{\\"score\\": 1000, \\"tests\\": []}}')\\n"
        subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.fork() == 0:
            os.setsid()
            time.sleep(3)
            try:
                open(path, "w").write('{"score": 1000, "tests": []}')
            finally:
                os._exit(0)
        return a + b
    """) + GOOD_VECTOR
    root = make_root(tmp_path, source)
    results, _ = grade(root)
    check(results, FULL_MARKS)
    time.sleep(4)  # give any survivor the time it asked for
    after = results_mod.json.loads((root / "results" / "results.json").read_text())
    check(after, FULL_MARKS)


@pytest.mark.parametrize("planted", ["conftest.py", "pytest.py", "sitecustomize.py", "usercustomize.py",
                                     "evil.pth", "numpy.py", "nested/conftest.py"])
def test_planted_files_never_reach_the_grader(tmp_path, planted):
    payload = ("import os\nopen(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'RAN'), 'w')\n"
               "def pytest_collection_modifyitems(items):\n    items.clear()\n")
    if planted.endswith(".pth"):
        payload = "import os; open('/tmp/coursekit-pth-ran', 'w')\n"
    source = "def add(a, b):\n    return 0\n" + GOOD_VECTOR
    root = make_root(tmp_path, source, {planted: payload})
    results, _ = grade(root)
    check(results, 1.0)
    assert len(results["tests"]) == 4
    assert not (root / "submission" / planted).with_name("RAN").exists()


def test_forbidden_api_fails_only_the_task_that_uses_it(tmp_path):
    source = dedent("""
    import numpy as np
    import torch
    def add(a, b):
        return a + b
    def vector():
        return torch.tensor([1.0, 2.0, 3.0]).numpy()
    """)
    results = run(tmp_path, source, 3.0)
    vector = [t for t in results["tests"] if "vector" in t["name"]][0]
    assert "torch" in vector["output"] and "forbid" in vector["output"]


# --- student-controlled text in hidden feedback ------------------------------------------------

def test_names_built_from_hidden_inputs_never_reach_hidden_feedback(tmp_path):
    """The exception's type name, its message, the function's code name and the file name the
    code claims are all built from the hidden inputs; a hidden test shows none of them."""
    source = dedent("""
    import os
    def add(a, b):
        if a == 2 and b == 3:
            return 5
        here = os.path.dirname(os.path.abspath(__file__))
        Leak = type(f"Leak_{a}_{b}", (Exception,), {})
        scope = {"Leak": Leak}
        code = f"def inputs_{a}_{b}():\\n    raise Leak('a={a} b={b}')\\n"
        exec(compile(code, os.path.join(here, f"x{a}_{b}.py"), "exec"), scope)
        scope[f"inputs_{a}_{b}"]()
    """) + GOOD_VECTOR
    results = run(tmp_path, source, 2.0)
    hidden = [t for t in results["tests"] if not t["extra_data"]["public"] and t["score"] == 0]
    assert hidden and all("raised an exception" in t["output"] for t in hidden)


def test_control_characters_in_a_visible_message_are_removed(tmp_path):
    source = dedent("""
    def add(a, b):
        raise ValueError("\\x1b[2J\\rall tests passed\\x07")
    """) + GOOD_VECTOR
    results = run(tmp_path, source, 1.0)
    public = [t for t in results["tests"] if t["extra_data"]["public"] and "add" in t["name"]][0]
    assert "all tests passed" in public["output"]
    assert not any(c in public["output"] for c in "\x1b\r\x07")


# --- nothing survives a run ---------------------------------------------------------------------

@as_root
def test_files_ipc_and_setuid_helpers_do_not_outlive_the_run(tmp_path):
    """A run's worker leaves files in every shared folder, a System V shared-memory segment and a
    setuid helper blocked on a pipe it holds; after the run none of them is left for the next."""
    import pwd
    import subprocess as sp

    from coursekit.grading import users

    source = dedent("""
    import ctypes, os, shutil, subprocess
    def add(a, b):
        me = os.path.abspath(__file__)
        for folder in ("/tmp", "/var/tmp", "/dev/shm"):
            try:
                shutil.copy(me, os.path.join(folder, f"left-by-a-run-{os.getpid()}.py"))
                os.makedirs(os.path.join(folder, f"left-dir-{os.getpid()}", "deep"), exist_ok=True)
            except OSError:
                pass
        try:
            libc = ctypes.CDLL(None)
            libc.shmget(0x5eed + os.getpid(), 4096, 0o1666)  # IPC_CREAT | 0666
        except OSError:
            pass
        r, w = os.pipe()
        for cmd in (["su", "root", "-c", "sleep 600"], ["passwd"]):
            try:
                subprocess.Popen(cmd, stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            except OSError:
                pass
        return a + b
    """) + GOOD_VECTOR
    results = run(tmp_path, source, FULL_MARKS)
    user = results["extra_data"]["grading_run"]["worker_user"]
    uid = pwd.getpwnam(user).pw_uid
    assert users.processes_of(uid) == []
    left = [os.path.join(r, n) for r in users.SHARED_FOLDERS if os.path.isdir(r) for n in os.listdir(r)
            if os.lstat(os.path.join(r, n)).st_uid == uid]
    assert left == []
    ipcs = sp.run(["ipcs", "-m", "-c"], capture_output=True, text=True).stdout
    assert user not in ipcs


#: A worker that keeps what it was sent in a kernel key open to everyone (before: it outlived the
#: run, and the next run's worker, another user, read it from /proc/keys).
STORE_IN_A_KEY = dedent("""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    SYS_ADD_KEY, SYS_KEYCTL, KEY_SPEC_USER_KEYRING, KEYCTL_SETPERM = 248, 250, -4, 5
    def add(a, b):
        data = str(a).encode()
        key = libc.syscall(SYS_ADD_KEY, b"user", b"coursekit-left-behind", data, len(data),
                           KEY_SPEC_USER_KEYRING)
        if key > 0:
            libc.syscall(SYS_KEYCTL, KEYCTL_SETPERM, key, 0x3f3f3f3f)
        return a + b
""") + GOOD_VECTOR

#: The next run's worker: it shows, in a visible test's feedback, every key it can find.
READ_THE_KEYS = dedent("""
    def add(a, b):
        try:
            with open("/proc/keys") as f:
                keys = f.read()
        except OSError as e:
            keys = type(e).__name__
        raise ValueError("keys: " + keys)
""") + GOOD_VECTOR


@as_root
def test_a_kernel_key_made_in_one_run_is_never_read_in_the_next(tmp_path):
    first = run(tmp_path / "first", STORE_IN_A_KEY, FULL_MARKS)
    assert first["extra_data"]["syscall_filter"].startswith("seccomp")
    with open("/proc/keys") as f:  # root sees a key opened to everyone: none is left
        assert "coursekit-left-behind" not in f.read()
    second, _ = grade(make_root(tmp_path / "second", READ_THE_KEYS))
    text = student_visible_text(second)
    assert "keys: " in text and "coursekit-left-behind" not in text
    assert str(HIDDEN_INPUTS[0]) not in text


@pytest.mark.parametrize("call", [
    "os.unshare(os.CLONE_NEWUSER)" if hasattr(os, "unshare") else "ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0 or 1/0",
    "socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
    "ctypes.CDLL(None, use_errno=True).ptrace(16, os.getppid(), 0, 0) == 0 or 1/0",
    "os.setpriority(os.PRIO_PROCESS, 0, 19)",
    "ctypes.CDLL(None, use_errno=True).syscall(425, 8, 0) < 0 and 1/0",  # io_uring_setup
], ids=["unshare", "socket", "ptrace", "nice", "io_uring"])
def test_the_syscall_filter_refuses_what_could_outlive_or_reach_past_the_run(tmp_path, call):
    """Each call fails inside the worker (a visible test says so); add() is honest otherwise."""
    source = dedent(f"""
    import ctypes, os, socket
    def add(a, b):
        try:
            {call}
        except (OSError, ZeroDivisionError):
            return a + b
        return -1  # the call went through
    """) + GOOD_VECTOR
    run(tmp_path, source, FULL_MARKS)


@as_root
def test_a_low_priority_loop_with_spinning_helpers_is_the_students_timeout(tmp_path):
    """A call that lowers its priority (where it still can), starts helpers that spin, and loops:
    the time its own processes took is its own, so the call times out (the student's fault), where
    before it was called a busy machine (a grader error, "staff will regrade")."""
    source = dedent("""
    import os, subprocess, sys
    def add(a, b):
        if a != 2:
            return a + b
        try:
            os.nice(19)
        except OSError:
            pass
        for _ in range(2 * (os.cpu_count() or 1)):
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
        while True:
            pass
    """) + GOOD_VECTOR
    results = run(tmp_path, source, FULL_MARKS - 1)
    public = [t for t in results["tests"] if t["extra_data"]["public"] and "add" in t["name"]][0]
    assert public["score"] == 0 and not public["extra_data"]["grader_error"], public
    assert "did not finish" in public["output"]


# --- local grading never exposes the checkout --------------------------------------------------

READ_THE_CHECKOUT = """
import os
import numpy as np
def predict(w, b, X):
    found = []
    for path in {paths!r}:
        try:
            with open(path, "rb") as f:
                found.append(f.read(4000).decode("utf-8", "replace"))
        except OSError as e:
            found.append(type(e).__name__)
    raise ValueError(" || ".join(found))
"""


@as_root
def test_local_grading_hides_the_checkout_from_student_code(tmp_path, isolation_mode, checkout_copy):
    """Under `make grade`, student code looks for the reference, the hidden graders, a built zip
    and earlier results in the checkout, and prints what it found in a visible test's output.
    With namespaces the checkout is hidden; as the worker user it must be private, and is, in a
    copy made as a TA would (``chmod 700`` on its secret folders)."""
    from coursekit.paths import Repo

    repo = Repo.here() if isolation_mode == "namespaces" else private_copy(checkout_copy)
    (repo.dist / "results").mkdir(parents=True, exist_ok=True)
    planted = repo.dist / "results" / "earlier-run.json"
    planted.write_text('{"secret": "EARLIER-RESULTS-TOKEN"}')
    paths = [str(repo.solution("perceptron") / "perceptron.py"),
             str(repo.hidden_tests("perceptron") / "test_hidden_perceptron_xor.py"), str(planted),
             str(repo.root / ".git" / "HEAD")]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "perceptron.py").write_text(READ_THE_CHECKOUT.format(paths=paths))
    try:
        results, _ = grade_checkout(repo, "perceptron", tmp_path / "sub", tmp_path / "r.json")
    finally:
        planted.unlink()
    text = student_visible_text(results)
    assert "FileNotFoundError" in text or "PermissionError" in text  # the code ran, and found nothing
    for secret in ("BEGIN SOLUTION", "def test_", "EARLIER-RESULTS-TOKEN", "ref: refs/heads"):
        assert secret not in text
    assert results["extra_data"]["isolation"] == {"namespaces": NAMESPACES, "worker user": WORKER_USER}[isolation_mode]


@as_root
def test_local_grading_as_root_refuses_when_the_checkout_cannot_be_hidden(tmp_path, isolation_mode, checkout_copy, capsys):
    from coursekit.authoring.commands.grade import GradingRefused, grade
    from coursekit.config import load_week

    if isolation_mode != "worker user":
        pytest.skip("with namespaces the checkout is hidden (the test above)")
    repo = private_copy(checkout_copy)
    (repo.root / "solutions").chmod(0o755)  # a TA forgot one folder
    with pytest.raises(GradingRefused, match="apt-get install bubblewrap") as refused:
        grade(repo, load_week(repo, "perceptron"), repo.solution("perceptron"), tmp_path / "r.json")
    assert str(repo.root / "solutions") in str(refused.value)
    assert str(repo.root / "autograder") not in str(refused.value)  # private, so not named
    # make verify refuses the same way: one line saying what to do, exit 2, no traceback
    from coursekit.authoring.commands import verify
    assert verify.main(week="perceptron", repo=repo) == 2
    said = capsys.readouterr().out
    assert "error: refusing to grade as root" in said and "Traceback" not in said


@as_root
def test_a_checkout_kept_private_as_the_refusal_says_grades_the_reference_in_full(isolation_mode, checkout_copy):
    """Gradescope's mode run locally: as root without bubblewrap, after `chmod 700` on exactly the
    folders the refusal names, `make grade` grades the reference in full (before: 0, every test a
    grader error, because every file of the checkout was taken for a grader file)."""
    from coursekit.config import load_week

    if isolation_mode != "worker user":
        pytest.skip("the mode without namespaces")
    repo = private_copy(checkout_copy)
    results, done = grade_checkout(repo, "perceptron", repo.solution("perceptron"), checkout_copy / "r.json")
    assert done.returncode == 0, done.stdout
    assert results["score"] == load_week(repo, "perceptron").total_points, results.get("output")
    assert results["extra_data"]["isolation"] == WORKER_USER
    assert results["extra_data"]["syscall_filter"].startswith("seccomp")


@as_root
def test_a_grading_that_cannot_start_says_why_once_at_the_top_and_the_command_fails(isolation_mode, checkout_copy):
    """A secret folder left searchable (`chmod 711`: not listable, but its files open by name) passes
    the command's check and fails the worker's preflight: the reason is the results' first line and
    said once, every test is a grader error at 0, and `make grade` exits non-zero saying why."""
    if isolation_mode != "worker user":
        pytest.skip("the mode without namespaces")
    repo = private_copy(checkout_copy)
    (repo.root / "solutions").chmod(0o711)
    results, done = grade_checkout(repo, "perceptron", repo.solution("perceptron"), checkout_copy / "r.json")
    first = results["output"].splitlines()[0]
    assert first.startswith("The autograder could not start") and "solutions" in first
    assert results["output"].count("could not start") == 1
    assert results["score"] == 0 and all(t["extra_data"].get("grader_error") for t in results["tests"])
    assert done.returncode == 1 and "grading could not start" in done.stdout


def test_a_lone_surrogate_in_a_message_still_gives_a_valid_results_file(tmp_path):
    source = dedent("""
    def add(a, b):
        raise ValueError(b"caf\\xe9".decode("utf-8", "surrogateescape"))
    """) + GOOD_VECTOR
    results = run(tmp_path, source, 1.0)
    public = [t for t in results["tests"] if t["extra_data"]["public"] and "add" in t["name"]][0]
    assert "ValueError: caf" in public["output"]
