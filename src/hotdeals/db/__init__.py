"""Storage: SQLAlchemy models of the founding spec, engine and sessions, and the counter SQL."""
