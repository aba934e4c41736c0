"""The test database as a `manage.py` subprocess of a test reaches it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.db import connection


@dataclass(frozen=True)
class SubprocessDatabase:
    """Where a test's subprocesses work: the Postgres test database itself (the test needs
    `transaction=True` so they see its rows), or a SQLite file of the test's own that they
    migrate first (pytest's SQLite test database lives in memory, out of their reach)."""

    url: str
    sqlite_path: Path | None = None


def subprocess_database_in(folder: Path) -> SubprocessDatabase:
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        path = folder / "subprocess.sqlite3"
        return SubprocessDatabase(f"sqlite:///{path}", sqlite_path=path)
    user = quote(settings.get("USER") or "")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return SubprocessDatabase(f"postgres://{user}{password}@{host}{port}/{settings['NAME']}")
