"""The trusted side of the trust boundary: the grader process.

It owns the hidden tests, goldens, tolerances and scoring; it never imports student code and never
unpickles anything the worker sends. ``sandbox`` starts and ends the worker, ``client`` turns
Python calls into protocol requests, ``results`` builds and validates Gradescope's results.json,
``locate`` finds the student's files in a submission, ``static_check`` enforces forbidden APIs, and
``entry`` is what ``run_autograder`` and ``make grade`` run.
"""
