"""The schema's version: migrating to head (``hotdeals init-db``) and checking it is there.

``init-db``, ``demo`` and the tests create the schema through :func:`upgrade_to_head`, never
``create_all``. Every other command, and the readiness probe, first calls
:func:`require_schema_at_head`, which answers :class:`~hotdeals.errors.SchemaMissing` naming the
database and the missing revision instead of letting a query fail on a missing table; for a
SQLite file that does not exist it says so without connecting, so the check never creates one.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from hotdeals.db.engine import unreachable
from hotdeals.errors import SchemaMissing

__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "current_revision",
    "head_revision",
    "missing_sqlite_file",
    "require_schema_at_head",
    "upgrade_to_head",
]

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
_READ_VERSION = text("SELECT version_num FROM alembic_version")
INIT_DB = "run `hotdeals init-db`"


def alembic_config(url: str) -> Config:
    """An Alembic configuration bound to ``url``, without any ini file on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database to the newest revision; a no-op when it is already there."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def _scripts() -> ScriptDirectory:
    """The revisions shipped with this code: read once per process, they cannot change."""
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str | None:
    """The newest revision shipped with this version of the code."""
    return _scripts().get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def missing_sqlite_file(engine: Engine) -> Path | None:
    """The path of a SQLite file URL whose file does not exist, else None.

    Connecting would create the file, so callers that must not create a database ask this
    first. In-memory databases and ``file:`` URIs are not files this check can see: None.
    """
    url = engine.url
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:") or "uri" in url.query:
        return None
    path = Path(name)
    return None if path.exists() else path


def require_schema_at_head(engine: Engine) -> None:
    """Raise :class:`SchemaMissing` unless the database's schema is at :func:`head_revision`.

    One query of the version table when the schema is there; nothing is cached, so the answer
    is as of now (readiness relies on it). A missing SQLite file is reported without
    connecting; an unreachable database is :class:`~hotdeals.errors.DatabaseUnavailable`.
    """
    where = engine.url.render_as_string(hide_password=True)
    path = missing_sqlite_file(engine)
    if path is not None:
        raise SchemaMissing(
            f"no database exists at {path.resolve()} (DATABASE_URL {where}): {INIT_DB} to create it"
        )
    applied = _applied_revisions(engine)
    head = head_revision()
    if applied == {head}:
        return
    if not applied:
        raise SchemaMissing(
            f"the database {where} has no schema (migrations up to {head} are missing): {INIT_DB}"
        )
    current = ", ".join(sorted(applied))
    missing = _missing_revisions(applied)
    if missing is None:
        raise SchemaMissing(
            f"the database {where} is at schema revision {current}, which this version of "
            f"hotdeals does not know (its newest is {head}): run a newer hotdeals"
        )
    raise SchemaMissing(
        f"the database {where} is at schema revision {current}, this version needs {head} "
        f"(missing migration {', '.join(missing)}): {INIT_DB}"
    )


def _applied_revisions(engine: Engine) -> set[str]:
    """The revisions recorded in the version table; empty when the table does not exist."""
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise unreachable(engine, exc) from None
    with connection:
        try:
            return set(connection.scalars(_READ_VERSION))
        except DBAPIError:
            # Only now pay for a second query: was it the table that is missing?
            connection.rollback()
            if inspect(connection).has_table(VERSION_TABLE):
                raise
            return set()


def _missing_revisions(applied: set[str]) -> list[str] | None:
    """The revisions from the applied ones up to head, oldest first; None if one is unknown."""
    missing: dict[str, None] = {}
    try:
        for revision in sorted(applied):
            for script in reversed(list(_scripts().iterate_revisions("heads", revision))):
                missing[script.revision] = None
    except (CommandError, RevisionError):
        return None
    return list(missing)
