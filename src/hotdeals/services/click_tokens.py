"""Click tokens: proof that a click answers an impression this service really handed out.

Rank returns one token per shown deal; the open click endpoint takes only tokens, so a script
can neither click impressions it never received nor walk the sequential transaction ids. A
token is the impression's transaction id, its customer's id (so that clicks are rate-limited per
customer without a database read) and its issue time, signed with the deployment's
``HOTDEALS_SECRET_KEY`` (``itsdangerous.TimestampSigner``, HMAC-SHA256, a salt of its own so
that no other signature of ours is a token). Signing costs a few microseconds and no storage:
nothing to look up before the click's own write. The id is readable in the token (it is in the
rank answer anyway); editing any character is refused (see :func:`_canonical`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes

from hotdeals.errors import ClickTokenExpired, ClickTokenInvalid

_SALT = "hotdeals.click-token"


@dataclass(frozen=True, slots=True)
class ClickClaim:
    """What a genuine token says: this customer was shown this impression."""

    transaction_id: int
    customer_id: int


class _Signer(TimestampSigner):
    """itsdangerous's signer on an injected clock (tests age tokens without waiting), with its
    derived key computed once: the library derives it again on every call, a third of the
    cost of a signature on the hot path."""

    def __init__(self, secret_key: bytes, clock: Callable[[], float]) -> None:
        super().__init__(secret_key, salt=_SALT, digest_method=hashlib.sha256)
        self.clock = clock
        self._derived = {key: TimestampSigner.derive_key(self, key) for key in self.secret_keys}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived.get(key)
        return derived if derived is not None else super().derive_key(key)

    def get_timestamp(self) -> int:
        return int(self.clock())


class ClickTokens:
    """Issue and redeem the click tokens of one deployment."""

    def __init__(
        self,
        secret_key: bytes,
        *,
        ttl_s: int,
        purchase_ttl_s: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl_s = ttl_s
        self.purchase_ttl_s = ttl_s if purchase_ttl_s is None else purchase_ttl_s
        self._signer = _Signer(secret_key, clock)

    def issue(self, transaction_id: int, customer_id: int) -> str:
        """A token for this impression, valid for :attr:`ttl_s` seconds from now."""
        return self._signer.sign(f"{transaction_id}-{customer_id}").decode()

    def redeem(self, token: str, *, purchase: bool = False) -> ClickClaim:
        """What the token says, or :class:`ClickTokenInvalid` / :class:`ClickTokenExpired`
        saying what is wrong with it. A purchase may come later than a click (a checkout), so
        it redeems the same token for :attr:`purchase_ttl_s`."""
        max_age = self.purchase_ttl_s if purchase else self.ttl_s
        try:
            raw = self._signer.unsign(token, max_age=max_age)
        except SignatureExpired:
            what = "a purchase" if purchase else "a click"
            raise ClickTokenExpired(
                f"token: this click token expired for {what} (tokens are valid {max_age} s after"
                " the rank that issued them); nothing was counted"
            ) from None
        except BadSignature:
            raise ClickTokenInvalid(
                "token: not a click token of this service (edited, truncated or signed by"
                " another deployment); nothing was counted"
            ) from None
        if not _canonical(token):
            raise ClickTokenInvalid(
                "token: not a click token of this service (edited); nothing was counted"
            )
        transaction_id, _, customer_id = raw.decode().partition("-")
        if not (transaction_id.isdigit() and customer_id.isdigit()):
            # Signed with our key and salt, so only a key shared with other signers gets here.
            raise ClickTokenInvalid("token: not a click token of this service")
        return ClickClaim(int(transaction_id), int(customer_id))


def _canonical(token: str) -> bool:
    """Whether the token's time and signature are spelt as we spell them.

    Unpadded base64 leaves spare low bits in a part's last character (2 of them in a 32-byte
    signature), so up to four spellings decode to the same bytes and the signature holds for
    all of them. A token is only accepted in the one spelling we issued: editing any character
    is refused, as the API promises.
    """
    parts = token.rsplit(".", 2)
    return len(parts) == 3 and all(base64_encode(base64_decode(p)).decode() == p for p in parts[1:])
