"""``python -m coursekit``: the course tooling's command line (TA-only, in ``coursekit.authoring``).

Students' and Gradescope's copies of the package leave ``authoring/`` out, so there this says so
instead of failing with an import error.
"""

import sys

try:
    from .authoring.cli import main
except ModuleNotFoundError as e:
    if e.name != "coursekit.authoring":
        raise
    print("coursekit: the course commands are TA tooling and are not part of this copy of the "
          "package; in a starter repository use `make test` and `make submit`.", file=sys.stderr)
    sys.exit(2)

sys.exit(main())
