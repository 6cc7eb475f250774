"""Errors of the domain that callers answer for: each says what went wrong in Chinese for staff, with a
stable English `code` and the HTTP status an API answers it with (the domain itself knows no HTTP;
the status is a hint the JSON routes read)."""
from __future__ import annotations


class DomainError(ValueError):
    status = 400
    code = "invalid"


class ConflictError(DomainError):
    """The action does not fit the current state of the thing (e.g. a request already done)."""

    status = 409
    code = "conflict"
