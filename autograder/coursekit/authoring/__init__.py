"""TA-only tooling: the command line, stencil generation, known-bad submissions, leak scans, and
the builders of datasets, Gradescope zips and starter repositories.

Nothing under this folder ships to students, to Gradescope, or into the worker: the packaging code
excludes ``coursekit/authoring/`` as a whole, and a test proves no zip or starter holds any of it.
"""
