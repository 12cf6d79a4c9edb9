"""Storage: SQLAlchemy models of the founding spec, engine and sessions, and the counter SQL."""

# The tables beside the spec's register with the same metadata whichever module is imported first.
from hotdeals.db import service_tables as service_tables
