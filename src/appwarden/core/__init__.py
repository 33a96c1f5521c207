"""The pure core: inventory, catalog, policy, assessment, verdicts, decisions, audit events.

Nothing in this package performs I/O, reads a clock or draws random numbers; a test enforces it.
Time always comes in as an argument (`now`), data always comes in as values.
"""
