"""The TA's commands, one module each, each with a keyword-only ``main()`` returning an exit code."""
