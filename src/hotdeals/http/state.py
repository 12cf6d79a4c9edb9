"""What one running app holds: settings, engine, sessions, random source, signing key and the
services built on them (learning loop, click tokens, visitors)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.config import Settings
from hotdeals.db.engine import Timeouts, make_engine, make_session_factory
from hotdeals.db.types import utcnow
from hotdeals.services.click_tokens import ClickTokens
from hotdeals.services.learning import LearningLoop
from hotdeals.services.stats_caches import StatsCaches
from hotdeals.services.visitors import Visitors


@dataclass(frozen=True)
class AppState:
    """Shared by every request of one app; created once in :func:`create_app`.

    One NumPy generator per process: its methods take an internal lock, so the request threads
    can share it.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    rng: np.random.Generator
    learning: LearningLoop
    secret_key: bytes
    click_tokens: ClickTokens
    visitors: Visitors

    @property
    def admin_token(self) -> str | None:
        token = self.settings.hotdeals_admin_token
        return token.get_secret_value() if token is not None else None

    stats_caches: StatsCaches = field(default_factory=StatsCaches)
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], datetime] = utcnow) -> AppState:
        """``clock`` is the wall clock the schedules and the winner rule's minimum duration are
        read against; tests inject one so that nothing waits for a window's edge."""
        engine = make_engine(
            settings.database_url,
            pool_size=settings.hotdeals_pool_size,
            timeouts=Timeouts.of(settings),
        )
        sessions = make_session_factory(engine)
        rng = np.random.default_rng(settings.hotdeals_seed)
        configured = settings.hotdeals_secret_key
        # Without a configured key, signatures hold in this process only (and die with it).
        secret_key = (
            configured.get_secret_value().encode()
            if configured is not None
            else secrets.token_bytes(32)
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            rng=rng,
            learning=LearningLoop(
                sessions,
                rng,
                snapshot_ttl=settings.hotdeals_snapshot_ttl_ms / 1000,
                deadline=settings.hotdeals_request_deadline_ms / 1000,
                clock=clock,
            ),
            secret_key=secret_key,
            click_tokens=ClickTokens(
                secret_key,
                ttl_s=settings.hotdeals_click_token_ttl_s,
                purchase_ttl_s=settings.hotdeals_purchase_token_ttl_s,
            ),
            visitors=Visitors(sessions),
            clock=clock,
        )
