"""Expected failures, each with the exit status the CLI reports.

Exit statuses: 0 passed, 3 finished without passing, 2 bad usage or input, 1 any other failure.
"""

from __future__ import annotations

from pydantic import ValidationError

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_PASSED = 3


class JfmError(Exception):
    """An expected failure: the CLI prints its message on one line and exits with `exit_code`."""

    exit_code = EXIT_FAILED


class BadInput(JfmError):
    """A file, folder or flag the user gave cannot be used."""

    exit_code = EXIT_BAD_INPUT


class RoleError(BadInput):
    """A role name refused, or no such role: named as the command took it (`--role X` by
    default; `given_as("ROLE")` for a command that takes the role as its argument)."""

    def __init__(self, shown: str, problem: str, given: str = "--role") -> None:
        super().__init__(f"{given} {shown}: {problem}")
        self.shown, self.problem = shown, problem

    def given_as(self, given: str) -> RoleError:
        return RoleError(self.shown, self.problem, given)


class EndpointError(JfmError):
    """The model endpoint failed in a way retries did not cure."""

    exit_code = EXIT_FAILED


class EmbeddedServerError(JfmError):
    """The embedded model server could not be found, started or reached."""

    exit_code = EXIT_FAILED


def first_error(exc: ValidationError) -> str:
    """The first validation error as 'field.path: message' on one line."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"
