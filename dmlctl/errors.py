"""Errors that the CLI turns into one clear line and an exit code (never a traceback)."""


class DmlctlError(Exception):
    """An expected failure: message says what is wrong, hint says what to run next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(DmlctlError):
    """Bad usage or bad input (exit 2); nothing was changed."""

    exit_code = 2


class OperationError(DmlctlError):
    """An operation was attempted and failed (exit 1)."""

    exit_code = 1
