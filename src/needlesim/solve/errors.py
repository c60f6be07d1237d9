"""The error a solve raises when it cannot finish: one sentence for the user."""

from __future__ import annotations


class SolveError(RuntimeError):
    """A course could not be integrated even with the fallback method.

    ``str(error)`` is one sentence: what failed, for which patient (index in the
    batch) or parameter point, and what to try. ``patients`` holds the indices.
    """

    def __init__(self, message: str, patients: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.patients = patients
