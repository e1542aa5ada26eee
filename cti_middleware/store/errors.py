"""What a database that went away looks like, for callers that must survive it."""

from __future__ import annotations

from peewee import InterfaceError, OperationalError, PeeweeException

# peewee wraps driver errors in its own classes; a dropped socket may surface as OSError.
DB_ERRORS: tuple[type[BaseException], ...] = (PeeweeException, OSError)

# The database is away or busy: waiting and trying again will work.
UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError)
