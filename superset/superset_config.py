"""Superset's settings for `make superset` (SUPERSET_CONFIG_PATH points here).

A local, single-user Superset over the read-only serving copy: its metadata database (sqlite) and
secret key live in SUPERSET_HOME (superset/.home/ by default, not committed), the server listens
on 127.0.0.1 only (superset/setup_superset.py starts it).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from superset.config import TALISMAN_CONFIG as _DEFAULT_TALISMAN_CONFIG

_HOME = Path(os.environ.get("SUPERSET_HOME") or Path(__file__).parent / ".home").resolve()
_HOME.mkdir(parents=True, exist_ok=True)

# The metadata database: users, the registered database, datasets, charts, saved queries.
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"


def _secret_key() -> str:
    """SUPERSET_SECRET_KEY, or a random key made once and kept in SUPERSET_HOME (Superset refuses
    to start with its default key; the key encrypts what it stores of database connections)."""
    if key := os.environ.get("SUPERSET_SECRET_KEY"):
        return key
    path = _HOME / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(42))
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# Results and chart data are never cached (Superset's default, stated here because it matters):
# after a republish of the serving copy the next query or chart refresh reads the new file.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# SQL Lab answers whole: the seed analysis' queries return at most a few thousand rows.
DEFAULT_SQLLAB_LIMIT = 10000
SQL_MAX_ROW = 100000
DISPLAY_MAX_ROW = 100000
SQLLAB_TIMEOUT = 120
SUPERSET_WEBSERVER_TIMEOUT = 120

# The UI shows a tracking pixel of a third-party host in its menu; leave that host (and the other
# third-party image hosts: map tiles, documentation images) out of the content security policy so
# the browser never loads it.
TALISMAN_CONFIG = {
    **_DEFAULT_TALISMAN_CONFIG,
    "content_security_policy": {
        **_DEFAULT_TALISMAN_CONFIG["content_security_policy"],
        "img-src": ["'self'", "blob:", "data:"],
    },
}

