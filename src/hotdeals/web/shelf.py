"""What the shop's page shows of the database: the campaign's deals as cards (or the notice
shown in their place) and the signed-in shopper.

Reading only: which deals a shopper sees, and in what order, is the learning loop's choice
(:mod:`.storefront` asks it); the cards here are what the page knows about every deal.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from hotdeals.db.models import Project
from hotdeals.errors import ProjectNotFound, UserNotFound
from hotdeals.http.state import AppState
from hotdeals.services import projects, users
from hotdeals.vocabulary import ProjectStatus
from hotdeals.web.forms import parse_id
from hotdeals.web.rendering import fmt_price

TILES = 6  # pale backgrounds behind a deal's picture (site.css: .tile-0 ... .tile-5)


@dataclass(frozen=True, slots=True)
class Notice:
    """A message in place of the deals; ``tone`` picks its colour."""

    title: str
    text: str
    tone: str = "info"


NOT_FOUND = Notice(
    "We couldn't find those deals", "The link may be old. Our other aisles are open."
)
NO_DEALS = Notice("No hot deals right now", "Come back soon: new deals arrive every week.")
PAUSED = Notice("These deals are paused — come back soon", "Everything else in the shop is open.")
ENDED = Notice(
    "This week's hot deals have ended", "Thanks for shopping with us! New deals arrive soon."
)
BUSY = Notice(
    "Lots of browsing just now!", "Please wait a moment before reloading the deals.", "warning"
)
UNAVAILABLE = Notice("These deals aren't available right now", "Please come back in a moment.")
BASKET_FAILED = Notice(
    "We couldn't add that to your basket", "That offer has expired; please try again.", "warning"
)


@dataclass(frozen=True, slots=True)
class Shopper:
    """Who is signed in; deliberately without their stored name or email (the page greets with
    what the visitor typed at sign-in, :mod:`.cookies`)."""

    customer_id: int
    guest: bool


@dataclass(frozen=True, slots=True)
class DealCard:
    """One deal as the page shows it; ``click_token`` proves the impression to click on."""

    bandit_id: int
    name: str
    description: str
    price: str
    emoji: str | None
    image_url: str | None
    initials: str
    tile: int
    position: int = 0
    transaction_id: int = 0
    click_token: str = ""


@dataclass
class Shelf:
    """The campaign the page shows, or why it shows none."""

    project_id: int | None = None
    running: bool = False
    cards: dict[int, DealCard] = field(default_factory=dict)
    notice: Notice | None = None
    status_code: int = 200


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def card(
    bandit_id: int,
    name: str,
    description: str | None = None,
    *,
    price: Decimal | None = None,
    emoji: str | None = None,
    image_url: str | None = None,
) -> DealCard:
    return DealCard(
        bandit_id=bandit_id,
        name=name,
        description=description or "",
        price=fmt_price(price),
        emoji=emoji or None,
        # Only web addresses: a stored "javascript:" or "data:" URL never reaches a src.
        image_url=image_url if (image_url or "").startswith(("https://", "http://")) else None,
        initials=initials(name),
        tile=zlib.crc32(name.encode()) % TILES,  # stable: the same deal, the same tile
    )


def shelf_of(project: Project) -> Shelf:
    cards = {
        b.bandit_id: card(
            b.bandit_id,
            b.bandit_name,
            b.description,
            price=b.price,
            emoji=b.emoji,
            image_url=b.image_url,
        )
        for b in project.bandits
    }
    shelf = Shelf(project.project_id, project.status == ProjectStatus.RUNNING, cards)
    if project.status == ProjectStatus.PAUSED:
        shelf.notice = PAUSED
    elif project.status == ProjectStatus.ENDED:
        shelf.notice = ENDED
    elif not any(b.active for b in project.bandits):
        shelf.notice = NO_DEALS
    return shelf


def load_shelf(state: AppState, requested: str | None) -> Shelf:
    """``?project=ID``, else the configured storefront project, else the newest running one."""
    with state.sessions() as session:
        if requested is not None:
            project_id = parse_id(requested)
            if project_id is None:
                return Shelf(notice=NOT_FOUND, status_code=404)
            try:
                return shelf_of(projects.get_project(session, project_id))
            except ProjectNotFound:
                return Shelf(notice=NOT_FOUND, status_code=404)
        current = projects.current_project(session, state.settings.hotdeals_storefront_project)
        if current is None:
            return Shelf(notice=NO_DEALS)
        return shelf_of(projects.get_project(session, current.project_id))


def load_shopper(state: AppState, customer_id: int | None) -> Shopper | None:
    """The signed-in customer, or None (no cookie, or a customer that no longer exists)."""
    if customer_id is None:
        return None
    with state.sessions() as session:
        try:
            user = users.get_user(session, customer_id)
        except UserNotFound:
            return None
        return Shopper(user.customer_id, users.is_guest(user))


def load_visit(
    state: AppState, requested: str | None, customer_id: int | None
) -> tuple[Shelf, Shopper | None]:
    """Both reads of a page view in one trip to a worker thread."""
    return load_shelf(state, requested), load_shopper(state, customer_id)
