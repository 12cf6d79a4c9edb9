"""The bandit package's exception family.

Every error here is a caller's mistake (a bad parameter, inconsistent counts, an unknown policy
name), never a bug in the maths, so the family derives from :class:`ValueError` and the service
layer can map the whole family to an HTTP 4xx in one place. The package stays free of the
service's own error module so that it can be used (simulations, notebooks) without the service.
Messages name the offending value so that they can be shown to the person who sent it.
"""

from __future__ import annotations

__all__ = [
    "BanditError",
    "InvalidArmsError",
    "InvalidParameterError",
    "NoReplayMatchError",
    "UnknownPolicyError",
]


class BanditError(ValueError):
    """Base of every error raised by ``hotdeals.bandit``; catch this one to catch them all."""


class InvalidArmsError(BanditError):
    """Arm arrays that cannot be a posterior: bad shapes, non-positive or impossible counts."""


class InvalidParameterError(BanditError):
    """A setting out of its domain (``k < 1``, epsilon outside [0, 1], a level outside (0, 1))."""


class UnknownPolicyError(BanditError):
    """A policy name that ``make_policy`` does not know; the message lists the valid names."""


class NoReplayMatchError(BanditError):
    """An offline replay kept no event, so it has no click-through rate to report."""
