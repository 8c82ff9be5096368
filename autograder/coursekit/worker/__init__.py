"""The untrusted side of the trust boundary: code that runs in the same process as student code.

Nothing in this package may hold a secret (hidden inputs, expected values, tolerances): whatever it
knows, the student's code can read. It is copied, alone, into the sandbox's runtime folder.
"""
