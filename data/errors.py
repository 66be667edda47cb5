"""Errors with Dutch, human messages that say what is wrong and where."""

from __future__ import annotations


class DataValidationError(ValueError):
    """Input that cannot be used; the message says what, where and what to do (in Dutch).

    Parameters
    ----------
    message : str
        Dutch explanation for the user.
    file, row, column : optional
        Where the problem is, when known. ``row`` is 1-based as the user sees it
        in a spreadsheet (header = row 1).
    problems : list of dict, optional
        Row-level report for imports: one dict per problem with the keys
        ``file``, ``row``, ``column`` and ``message``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        problems: list[dict] | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.problems = list(problems or [])
        where = []
        if file:
            where.append(f"bestand {file}")
        if row is not None:
            where.append(f"rij {row}")
        if column:
            where.append(f"kolom '{column}'")
        full = f"{message} ({', '.join(where)})" if where else message
        super().__init__(full)


class StoreError(DataValidationError):
    """The store file cannot be opened or written (wrong file, newer schema, locked, ...)."""


class ConflictError(StoreError):
    """Someone else changed the record since it was read (optimistic locking)."""
