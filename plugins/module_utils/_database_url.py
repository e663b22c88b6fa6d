# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL connection URLs: built for the backend, read back by the backup job (no Ansible imports)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlsplit


def with_params(url: str, params) -> str:
    """url with the query parameters params (a 'k=v&k2=v2' string or a list of them) appended."""
    if isinstance(params, str):
        params = [params]
    extra = "&".join(p.strip() for p in params or [] if p and p.strip())
    if not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def database_url(user: str, password: str, host: str, database: str, *, port: int = 5432, params=()) -> str:
    """postgresql://user:password@host:port/database?params, user and password URL-encoded ('/' too)."""
    auth = f"{quote(str(user), safe='')}:{quote(str(password), safe='')}"
    return with_params(f"postgresql://{auth}@{host}:{int(port)}/{database}", params)


def parse_database_url(url: str) -> dict:
    """{'user', 'password', 'host', 'port', 'database', 'params'} of a postgres:// or postgresql:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("not a postgres:// or postgresql:// URL")
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not database or "/" in database:
        raise ValueError("a database URL needs a host and a database name")
    return {
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "host": parts.hostname,
        "port": parts.port or 5432,
        "database": database,
        "params": dict(parse_qsl(parts.query)),
    }
