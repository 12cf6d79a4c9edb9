"""What one running app holds: settings, the engine and the session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.config import Settings
from hotdeals.db.engine import make_engine, make_session_factory


@dataclass(frozen=True)
class AppState:
    """Shared by every request of one app; created once in :func:`create_app`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        engine = make_engine(settings.database_url, pool_size=settings.hotdeals_pool_size)
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine))
