"""Database URLs (plugins/module_utils/_database_url.py): what the backend gets is what the backup job reads."""

from __future__ import annotations

import pytest
from ansible_collections.mvp_platform.infra.plugins.module_utils._database_url import (
    database_url,
    parse_database_url,
    with_params,
)
from hypothesis import given
from hypothesis import strategies as st


def test_build():
    assert database_url("mvp", "p/w@:?#", "postgres", "mvp") == "postgresql://mvp:p%2Fw%40%3A%3F%23@postgres:5432/mvp"
    assert (
        database_url("mvp", "x", "10.0.0.5", "mvp", params=["sslmode=verify-full&sslrootcert=/run/ca.crt", ""])
        == "postgresql://mvp:x@10.0.0.5:5432/mvp?sslmode=verify-full&sslrootcert=/run/ca.crt"
    )


def test_with_params():
    assert with_params("postgresql://a:b@h/db", "") == "postgresql://a:b@h/db"
    assert (
        with_params("postgresql://a:b@h/db?x=1", ["sslmode=verify-full"])
        == "postgresql://a:b@h/db?x=1&sslmode=verify-full"
    )


@pytest.mark.parametrize(
    "url", ["mysql://a:b@h/db", "postgresql://a:b@/db", "postgresql://a:b@h/", "postgresql://h/a/b"]
)
def test_parse_refuses(url):
    with pytest.raises(ValueError):
        parse_database_url(url)


@given(
    st.text(min_size=1, max_size=20),
    st.text(min_size=1, max_size=40),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
    st.integers(min_value=1, max_value=65535),
)
def test_parse_reads_back_what_build_wrote(user, password, host, database, port):
    parsed = parse_database_url(database_url(user, password, host, database, port=port, params=["sslmode=require"]))
    assert parsed == {
        "user": user,
        "password": password,
        "host": host,
        "port": port,
        "database": database,
        "params": {"sslmode": "require"},
    }
