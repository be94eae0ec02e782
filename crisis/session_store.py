"""Log-ins are Django's database sessions (the `django_session` table, any node reads it),
read with one plain statement.

Every signed-in request reads its session first. Django's own store builds that lookup with
the ORM each time, which costs about as much processor time again as PostgreSQL takes to
answer it; the statement here is the same lookup (the key, not yet expired) written once.
Everything else (creating, saving, deleting, clearing expired sessions) is Django's, and so
is the table: switching between this store and Django's keeps everyone signed in (but for
sessions from before the app had its own sign-in backend, which only this store reads).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

# Sign-ins from before the app had a sign-in backend of its own name Django's, which it extends:
# read as the app's, they stay signed in (AUTHENTICATION_BACKENDS lists only the app's).
_RENAMED_BACKENDS = {"django.contrib.auth.backends.ModelBackend": "classroom.signin.ModelBackend"}


class SessionStore(db.SessionStore):
    def load(self) -> dict[str, Any]:
        data = super().load()
        backend = data.get(BACKEND_SESSION_KEY)
        if backend in _RENAMED_BACKENDS:
            data[BACKEND_SESSION_KEY] = _RENAMED_BACKENDS[backend]
        return data

    def _get_session_from_db(self) -> Any:
        """The session's row if its key is known and it has not expired, as Django's store
        gives it (with only the data read); otherwise None, and the key is dropped."""
        if self.session_key is None:  # no cookie, or one not shaped like a key
            return None
        model = self.model
        connection = connections[router.db_for_read(model)]
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {quote('session_data')} FROM {quote(model._meta.db_table)} "  # noqa: S608 - names, not values
            f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
