"""Errors a user can cause, reported by the CLI as one line without a traceback."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a file, an id, a value or a setting that cannot be used.

    The message names the problem and what to do about it, in one line.
    """


def preview(items, n: int = 3) -> str:
    """Return the first ``n`` items as a short comma-separated string, e.g. ``'a, b, c, ...'``."""
    items = list(items)
    head = ", ".join(str(i) for i in items[:n])
    return head + (", ..." if len(items) > n else "")
