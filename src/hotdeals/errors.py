"""The one exception family of Supermarket Hot Deals, each class with its HTTP status.

The domain and the services raise these; the HTTP floor (``hotdeals.http.errors``) answers each
with ``status_code`` of its class, the pages show the message with the same status, and the CLI
prints the message with exit code 2, so that no caller ever parses a database driver's error
text. The status is a class attribute, so the table of statuses is this module and nothing else.
Every message is meant for the person who sent the request, not a stack trace.
"""

from __future__ import annotations

from typing import ClassVar


class HotDealsError(Exception):
    """Base of every error the service reports to its callers.

    ``retry_after`` (seconds), when set, becomes the answer's ``Retry-After`` header: the error
    is temporary and the same request may be sent again after that long.
    """

    status_code: ClassVar[int] = 500
    retry_after: int | None = None


class ConfigurationError(HotDealsError):
    """A setting is missing or malformed; the message names the variable."""


class DatabaseUnavailable(HotDealsError):
    """The configured database cannot be reached; raised instead of a driver traceback."""

    status_code = 503
    retry_after = 5


class SchemaMissing(HotDealsError):
    """The database has no schema, or an older one: ``hotdeals init-db`` has not been run."""

    status_code = 503


class NotFound(HotDealsError):
    """A referenced row does not exist."""

    status_code = 404


class UserNotFound(NotFound):
    """No customer has this ``customer_id``."""


class ProjectNotFound(NotFound):
    """No campaign has this ``project_id``."""


class BanditNotFound(NotFound):
    """No deal has this ``bandit_id`` (or it belongs to another project)."""


class TransactionNotFound(NotFound):
    """No impression has this ``transaction_id``."""


class Conflict(HotDealsError):
    """The request is well formed but clashes with the current state."""

    status_code = 409


class DuplicateEmail(Conflict):
    """A customer with this email already exists; emails are unique per the founding spec."""


class ProjectNotRunning(Conflict):
    """Ranking was asked of a campaign that is paused or ended."""


class DuplicateBanditName(Conflict):
    """Two deals of one campaign may not share a name: analysts tell them apart by it."""


class NoActiveDeals(Conflict):
    """Ranking was asked of a campaign whose deals are all deactivated."""


class IdempotencyKeyReused(Conflict):
    """An ``Idempotency-Key`` was sent again with a different project or customer."""


class InvalidStateChange(Conflict):
    """A status change the campaign's life cycle forbids (e.g. resuming an ended one)."""


class InvalidRequest(HotDealsError):
    """A value is out of range or inconsistent in a way the schema cannot tell."""

    status_code = 400


class ClickTokenInvalid(InvalidRequest):
    """A click token whose signature does not hold: edited, truncated, or signed by another
    deployment's key. Nothing is counted."""


class ClickTokenExpired(HotDealsError):
    """A genuine click token past its lifetime (``HOTDEALS_CLICK_TOKEN_TTL_S``); nothing is
    counted. 410: the impression existed, the right to click it has gone."""

    status_code = 410


class RateLimited(HotDealsError):
    """Too many requests of one kind from one client address or customer; retry later.

    ``retry_after`` is the number of seconds until the window frees (the ``Retry-After`` header).
    """

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceBusy(HotDealsError):
    """A request could not finish within its deadline (``HOTDEALS_REQUEST_DEADLINE_MS``).

    The message says whether its write may still complete and how a retry stays exact: the same
    Idempotency-Key (rank) or the same click returns the committed result without counting twice.
    """

    status_code = 503

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WriterStopped(ServiceBusy):
    """The group-commit writer stopped while it held this request's write; the next request
    starts a new writer. A retry with the same Idempotency-Key or the same click stays exact."""
