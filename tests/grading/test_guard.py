"""The worker's import guard for forbidden APIs (run in a fresh interpreter: it patches the import system)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import coursekit


def test_a_forbidden_package_that_is_not_installed_is_still_refused_by_name(tmp_path):
    """A week may forbid a package the grading machine lacks (week 7 forbids ``diffusers``): the guard
    installs without error, and the student's import gets the week's reason, not a bare ImportError."""
    (tmp_path / "student.py").write_text("import no_such_package_anywhere\n")
    code = dedent(f"""
        import sys
        from pathlib import Path
        from coursekit.worker import guard
        guard.install([guard.Rule("no_such_package_anywhere", ["student.py"], "write it yourself")],
                      Path({str(tmp_path)!r}))
        sys.path.insert(0, {str(tmp_path)!r})
        import student
        try:
            student.no_such_package_anywhere.anything()
        except guard.ForbiddenAPIError as e:
            print("refused:", e)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "write it yourself" in done.stdout


def test_engine_files_beside_the_student_files_are_not_the_students(tmp_path):
    """In a starter the student's folder also holds the engine (``coursekit/``) and the tests: a
    library call that passes through the guard's own wrappers there (PyTorch's LayerNorm reaching
    ``F.layer_norm`` and then ``torch.layer_norm``, both forbidden to the student) is the library's,
    not the student's; the student's own call is still refused, and only the student's frames show."""
    import shutil

    starter, library = tmp_path / "starter", tmp_path / "library"  # the library outside the starter
    shutil.copytree(Path(coursekit.__file__).parent, starter / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    library.mkdir()
    (library / "fakelib.py").write_text(dedent("""
        def inner(x):
            return x + 1

        def outer(x):
            return inner(x) * 2

        class Layer:  # several frames deep, as torch's modules are
            def __call__(self, x):
                return self._call(x)

            def _call(self, x):
                return self.forward(x)

            def forward(self, x):
                return outer(x)
    """))
    (starter / "student.py").write_text(dedent("""
        import fakelib

        def block(layer, x):
            return layer(x)

        def cheat(x):
            return fakelib.outer(x)
    """))
    code = dedent(f"""
        import sys
        from pathlib import Path
        sys.path[:0] = [{str(starter)!r}, {str(library)!r}]
        import coursekit
        assert Path(coursekit.__file__).parent.parent == Path({str(starter)!r}), coursekit.__file__
        from coursekit.worker import guard
        from coursekit.worker.server import describe_error
        rules = [guard.Rule(api, ["student.py"], "write it yourself", "attribute")
                 for api in ("fakelib.outer", "fakelib.inner")]
        guard.install(rules, Path({str(starter)!r}))
        import fakelib, student
        print("library:", student.block(fakelib.Layer(), 1))
        try:
            student.cheat(1)
        except guard.ForbiddenAPIError as e:
            print("refused:", e)
            print("frames:", sorted({{f[0] for f in describe_error(e, Path({str(starter)!r}))["frames"]}}))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=starter)
    assert done.returncode == 0, done.stderr
    assert "library: 4" in done.stdout
    assert "refused: student.py uses fakelib.outer" in done.stdout
    assert "frames: ['student.py']" in done.stdout
