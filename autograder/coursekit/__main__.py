"""``python -m coursekit``: the course tooling's command line."""

from .cli import main

raise SystemExit(main())
