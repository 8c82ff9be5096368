"""The worker's import guard for forbidden APIs (run in a fresh interpreter: it patches the import system)."""

from __future__ import annotations

import subprocess
import sys
from textwrap import dedent


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
