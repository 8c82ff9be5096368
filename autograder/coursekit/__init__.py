"""coursekit: the course's tooling and its trusted grading engine.

Where things live (the trust boundary runs between ``grading`` and ``worker``):

- ``config``, ``paths``, ``stencil``, ``commands``: the TA's tooling (week config, stencil
  generation, verify, grade, bench, demo). Never imported by student code.
- ``plugin``, ``checks``, ``tolerances``: what test files see; public and hidden tests use the same
  fixtures and checks.
- ``grading``: the grader process (trusted): launches the sandboxed worker, talks to it over the
  data-only ``protocol``, scores tests and writes Gradescope's results.json.
- ``worker``: the only code that runs beside student code, in a separate, unprivileged process.
- ``data``: the course's data loaders and seeded generators.

Importing this package is cheap: heavy tools (torch, nbgrader) are imported only where used.
"""

__version__ = "0.1.0"
