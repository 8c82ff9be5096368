"""``make submit`` in a student's starter repository: check the files, then build the upload zip.

Run as ``python -m coursekit.submit`` from the repository root. It reads ``week.toml`` for the
files Gradescope expects, checks that each exists and compiles exactly as the grader reads it (a
UTF-8 byte-order mark or an encoding declaration is fine), warns about APIs the week forbids and
about imports of the student's own modules (only the week's files are submitted, so those imports
fail when graded), and writes ``submission.zip`` holding exactly those files (fixed timestamps),
printing where it is and what is in it. When it refuses, it removes a ``submission.zip`` left by an
earlier run, so that an old zip cannot be uploaded by mistake. Nothing is uploaded: drag the zip
onto Gradescope's dialog.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import zipfile
from pathlib import Path

from .config import load_week_config
from .grading.imports import missing_imports
from .grading.locate import count_stubs
from .grading.static_check import check_source


def check(root: Path) -> tuple[list[str], list[str], list[str]]:
    """``(files, errors, warnings)`` for the starter repository at ``root``."""
    week = load_week_config(root / "week.toml")
    errors, warnings = [], []
    for name in week.student_files:
        path = root / name
        if not path.is_file():
            errors.append(f"{name} is missing: it must be at the top of the repository")
            continue
        source = path.read_bytes()
        try:
            # Decoded as Python (and so the grader) reads a source file: a byte-order mark or an
            # encoding declaration is honoured.
            importlib.util.decode_source(source)
        except (UnicodeDecodeError, SyntaxError, LookupError):
            errors.append(f"{name} is not UTF-8 text (or its encoding declaration is wrong); save it as UTF-8")
            continue
        try:
            compile(source, name, "exec", dont_inherit=True)
        except SyntaxError as e:
            errors.append(f"{name} line {e.lineno}: {e.msg} (fix it: a file that does not compile scores 0)")
            continue
        for v in check_source(source, name, week.forbidden_for(name)):
            warnings.append(v.message() if not v.import_only else
                            f"{name} line {v.line} imports {v.api}, which this week forbids; remove it")
        for m in missing_imports(source, name, week.student_files):
            beside = next((p.name for p in (root / f"{m.module}.py", root / m.module) if p.exists()), None)
            text = m.message()
            if beside:
                text += f" ({beside} is in your repository, but it is not submitted.)"
            warnings.append(text)
        if count_stubs(source):
            warnings.append(f"{name} still raises NotImplementedError somewhere: some task is unfinished")
    return list(week.student_files), errors, warnings


def build_zip(root: Path, files: list[str], out: Path) -> Path:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            z.writestr(info, (root / name).read_bytes())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make submit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=".", help="the starter repository (default: here)")
    parser.add_argument("--output", default="submission.zip")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if not (root / "week.toml").is_file():
        print(f"error: no week.toml in {root}; run `make submit` at the top of your starter repository")
        return 2
    files, errors, warnings = check(root)
    for w in warnings:
        print(f"warning: {w}")
    if errors:
        for e in errors:
            print(f"error: {e}")
        print("no zip was built; fix the errors above and run `make submit` again")
        stale = root / args.output
        if stale.is_file() or stale.is_symlink():
            stale.unlink()  # an earlier run's zip would be uploaded by mistake
            print(f"removed the earlier {stale.name}, so that an old zip cannot be uploaded by mistake")
        return 1
    out = build_zip(root, files, root / args.output)
    print(f"built {out}")
    for name in files:
        print(f"  {name}  ({(root / name).stat().st_size} bytes)")
    print("upload this zip on Gradescope (or submit this repository from GitHub there)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
