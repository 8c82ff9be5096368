"""The command line. Each subcommand is a keyword-only ``main()`` in ``coursekit.authoring.commands``, so the
command line and the Python API are the same functions; heavy imports happen inside them.

    coursekit stencils [--check]
    coursekit demo
    coursekit grade HW SUBMISSION [--results FILE]
    coursekit grade-all HW SUBMISSIONS [--jobs N] [--out DIR] [--shard I/N] [--archive ZIP]
    coursekit gradebook HW SUBMISSIONS [--results DIR ...] [--out DIR] [--archive ZIP]
    coursekit verify [HW]
    coursekit autograder HW
    coursekit student HW
    coursekit release HW
    coursekit bench [HW] [--batch N] [--repeats N]
    coursekit lab HW [--stencil]
    coursekit figures
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("stencils", help="regenerate stencils/ from solutions/")
    p.add_argument("weeks", nargs="*", help="weeks to regenerate (default: all)")
    p.add_argument("--check", action="store_true", help="change nothing; fail if stencils/ is stale")

    sub.add_parser("demo", help="the main job on built-in defaults, offline")

    p = sub.add_parser("grade", help="grade one submission exactly as Gradescope would")
    p.add_argument("week")
    p.add_argument("submission")
    p.add_argument("--results", default=None, help="where to write results.json")

    p = sub.add_parser("grade-all", help="grade a whole class in parallel, resumably, then its gradebook")
    p.add_argument("week")
    p.add_argument("submissions", help="a Gradescope export (zip or folder), or a folder of submissions")
    p.add_argument("--jobs", type=int, default=None, help="gradings at once (default: the cores available)")
    p.add_argument("--out", default=None, help="output folder (default dist/grade-all/<week>)")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="grade only the i-th of n slices (default: from a Slurm job array, if any)")
    p.add_argument("--archive", default=None, help="grade with this autograder zip instead of building one")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("gradebook", help="the gradebook, pass rates, flags and charts of grade-all's results")
    p.add_argument("week")
    p.add_argument("submissions", help="the export grade-all graded")
    p.add_argument("--results", nargs="+", default=None, metavar="DIR",
                   help="results folders to merge (default: <out>/results)")
    p.add_argument("--out", default=None, help="output folder (default dist/grade-all/<week>)")
    p.add_argument("--archive", default=None, help="the autograder zip the results were graded with")

    p = sub.add_parser("verify", help="prove a week's graders on the reference, stencil and known-bad")
    p.add_argument("week", nargs="?", default=None)

    p = sub.add_parser("autograder", help="build dist/gradescope/<week>.zip for Gradescope")
    p.add_argument("week")

    p = sub.add_parser("student", help="build dist/student/<week>/, the starter repository")
    p.add_argument("week")

    p = sub.add_parser("release", help="verify, then the Gradescope zip and the starter repository")
    p.add_argument("week")

    p = sub.add_parser("image", help="build the CUDA-enabled grading image with Docker")
    p.add_argument("week")
    p.add_argument("--torch", default="cuda", choices=["cuda", "cpu"], help="torch build in the image")

    p = sub.add_parser("lab", help="run a week's lab notebook headless into dist/lab/<week>/")
    p.add_argument("week")
    p.add_argument("--stencil", action="store_true", help="run the student's notebook (default: the reference)")

    sub.add_parser("figures", help="regenerate the README's figures (docs/figures/) from the labs")

    p = sub.add_parser("bench", help="measure grading time, memory and overhead, and batch grading")
    p.add_argument("week", nargs="?", default=None)
    p.add_argument("--batch", type=int, default=200, metavar="N",
                   help="submissions in the batch-grading benchmark (0: skip it; only without a week)")
    p.add_argument("--repeats", type=int, default=5, metavar="N",
                   help="paired runs (graded, in process) per week; times are their medians")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ..config import ConfigError
    from ..paths import LayoutError
    from .stencil import MarkerError

    try:
        if args.command == "stencils":
            from .commands.stencils import main as run
            return run(weeks=args.weeks or None, check=args.check)
        if args.command == "demo":
            from .commands.demo import main as run
            return run()
        if args.command == "grade":
            from .commands.grade import main as run
            return run(week=args.week, submission=args.submission, results=args.results)
        if args.command == "grade-all":
            from .commands.grade_all import main as run
            return run(week=args.week, submissions=args.submissions, jobs=args.jobs, out=args.out,
                       shard_spec=args.shard, archive=args.archive, progress=not args.no_progress)
        if args.command == "gradebook":
            from .commands.gradebook import main as run
            return run(week=args.week, submissions=args.submissions, results=args.results, out=args.out,
                       archive=args.archive)
        if args.command == "verify":
            from .commands.verify import main as run
            return run(week=args.week)
        if args.command == "autograder":
            from .commands.autograder import main as run
            return run(week=args.week)
        if args.command == "student":
            from .commands.student import main as run
            return run(week=args.week)
        if args.command == "release":
            from .commands.release import main as run
            return run(week=args.week)
        if args.command == "image":
            from .commands.image import main as run
            return run(week=args.week, torch_build=args.torch)
        if args.command == "lab":
            from .commands.lab import main as run
            return run(week=args.week, stencil=args.stencil)
        if args.command == "figures":
            from .commands.lab import figures as run
            return run()
        if args.command == "bench":
            from .commands.bench import main as run
            return run(week=args.week, batch=args.batch, repeats=args.repeats)
    except (ConfigError, LayoutError, MarkerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
