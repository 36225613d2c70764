"""Domain errors raised below the views; views turn them into form errors or flashes."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation; ``message`` is already translated."""

    status_code = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input broke a rule; ``errors`` lists precise messages (row/column for imports)."""

    def __init__(self, message: str, errors: list[str] | None = None,
                 fields: dict[str, str] | None = None):
        super().__init__(message, fields)
        self.errors = errors or []


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class InvalidTransition(Conflict):
    """A status change that the workflow does not allow."""


class PermissionDenied(DomainError):
    status_code = 403
