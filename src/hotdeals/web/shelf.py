"""What the shop's page knows before it draws: the campaign whose deals the strip shows (or the
notice shown in their place), and the signed-in shopper with the visitor id the strip ranks for.

Reading only, but for the visitor id a customer gets once: which deals a shopper sees, and in what
order, is the learning loop's choice, asked by the page's ``<hot-deals>`` strip through the open
API, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotdeals.db.models import Project
from hotdeals.errors import ProjectNotFound, UserNotFound
from hotdeals.http.state import AppState
from hotdeals.services import projects, users, visitors
from hotdeals.services.schedules import in_window, project_status
from hotdeals.vocabulary import EffectiveStatus
from hotdeals.web.forms import parse_id


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
SCHEDULED = Notice("New hot deals are on their way", "They start soon: come back then.")
# When the strip itself draws nothing (paused since the page was served, a rate limit, we are
# slow): shown by the stylesheet under a failed strip (``hot-deals[data-state="failed"]``).
UNAVAILABLE = Notice("These deals aren't available right now", "Please come back in a moment.")


@dataclass(frozen=True, slots=True)
class Shopper:
    """Who is signed in; deliberately without their stored name or email (the page greets with
    what the visitor typed at sign-in, :mod:`.cookies`). ``visitor_id`` is theirs for the strip,
    read (or set, once) only when the page shows it."""

    customer_id: int
    guest: bool
    visitor_id: str | None = None


@dataclass
class Shelf:
    """The campaign the page shows, or why it shows none."""

    project_id: int | None = None
    slots: int = 0
    notice: Notice | None = None
    status_code: int = 200

    @property
    def open(self) -> bool:
        """A running campaign with active deals: the page puts the strip here."""
        return self.project_id is not None and self.notice is None


def shelf_of(project: Project, now: datetime) -> Shelf:
    """The strip while rank answers (running, or rolling out a winner), else the notice of what
    the campaign is doing at ``now``."""
    shelf = Shelf(project.project_id, project.slots)
    status = project_status(project, now)
    if status in _NOTICES:
        shelf.notice = _NOTICES[status]
    elif not any(b.active and in_window(b.starts_at, b.ends_at, now) for b in project.bandits):
        shelf.notice = NO_DEALS
    return shelf


_NOTICES = {
    EffectiveStatus.PAUSED: PAUSED,
    EffectiveStatus.ENDED: ENDED,
    EffectiveStatus.SCHEDULED: SCHEDULED,
}


def load_shelf(state: AppState, requested: str | None) -> Shelf:
    """``?project=ID``, else the configured storefront project, else the newest running one."""
    with state.sessions() as session:
        if requested is not None:
            project_id = parse_id(requested)
            if project_id is None:
                return Shelf(notice=NOT_FOUND, status_code=404)
            try:
                return shelf_of(projects.get_project(session, project_id), state.clock())
            except ProjectNotFound:
                return Shelf(notice=NOT_FOUND, status_code=404)
        current = projects.current_project(session, state.settings.hotdeals_storefront_project)
        if current is None:
            return Shelf(notice=NO_DEALS)
        return shelf_of(projects.get_project(session, current.project_id), state.clock())


def load_shopper(state: AppState, customer_id: int | None, *, strip: bool) -> Shopper | None:
    """The signed-in customer, or None (no cookie, or a customer that no longer exists); with
    ``strip``, their visitor id too (:func:`visitors.visitor_id_for`: set on first use)."""
    if customer_id is None:
        return None
    with state.sessions.begin() as session:
        try:
            user = users.get_user(session, customer_id)
        except UserNotFound:
            return None
        visitor_id = None
        if strip:
            visitor_id = user.visitor_id or visitors.visitor_id_for(session, customer_id)
        return Shopper(user.customer_id, users.is_guest(user), visitor_id)


def load_visit(
    state: AppState, requested: str | None, customer_id: int | None
) -> tuple[Shelf, Shopper | None]:
    """Both reads of a page view in one trip to a worker thread."""
    shelf = load_shelf(state, requested)
    return shelf, load_shopper(state, customer_id, strip=shelf.open)
