"""The one place where the bandit maths' errors become the service's: BanditError -> InvalidRequest.

The bandit package stays free of the service's error family (it is used by simulations and
notebooks without it), so its :class:`~hotdeals.bandit.BanditError` is translated here, and only
here, into :class:`~hotdeals.errors.InvalidRequest`, which every interface already reports to
the person who sent the value (HTTP 400, a page's message, the CLI's one line and exit code 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hotdeals.bandit import BanditError, Policy, make_policy
from hotdeals.errors import InvalidRequest

__all__ = ["bandit_errors_as_invalid_request", "checked_policy"]


@contextmanager
def bandit_errors_as_invalid_request(context: str = "") -> Iterator[None]:
    """Re-raise a :class:`BanditError` of the block as :class:`InvalidRequest`.

    The message is the bandit package's own, after ``context: `` when a context is given (the
    option or the source the value came from, e.g. ``--epsilon`` or a log's path).
    """
    try:
        yield
    except BanditError as exc:
        raise InvalidRequest(f"{context}: {exc}" if context else str(exc)) from None


def checked_policy(name: str, epsilon: float, *, context: str = "") -> Policy:
    """The policy called ``name``, or :class:`InvalidRequest` for an unknown name or bad epsilon."""
    with bandit_errors_as_invalid_request(context):
        return make_policy(name, epsilon=epsilon)
