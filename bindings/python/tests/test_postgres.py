"""The engine on PostgreSQL: a provisioning end to end, with the clients' rate budgets kept
in the database (shared by every worker process on the same keys)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

import gtm_infra as gi
from conftest import request_for, unique

# Like the Rust tests: never skipped; a missing server is a failure naming the variable.
SERVER = os.environ.get("GTM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def psql(url: str, sql: str) -> str:
    done = subprocess.run(["psql", url, "-tAc", sql], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"psql via GTM_TEST_POSTGRES_URL failed: {done.stderr.strip()}"
    return done.stdout.strip()


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"gtm_py_test_{uuid.uuid4().hex[:12]}"
    psql(SERVER, f"CREATE DATABASE {name}")
    base, _, query = SERVER.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    try:
        yield url
    finally:
        psql(SERVER, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_provision_on_postgres_keeps_rate_budgets_in_the_database(
    sims: gi.Simulators, secret_key: str, pg_url: str
) -> None:
    engine = gi.Engine.open(
        store=pg_url, secret_key=secret_key, vendors=sims.vendors(), settings=sims.engine_settings()
    )
    pid = engine.create_provision(**request_for(unique("pgacme")))
    engine.mark_paid(pid, checkout_session_id="cs_pg_1")
    snap = engine.run(pid)

    assert snap.status == "active", snap.error
    # What the seed's frontend reads, straight from the table.
    assert psql(pg_url, f"SELECT status FROM infra_provisions WHERE id = '{pid}'") == "active"
    # One budget row per vendor key and bucket (Zapmail's availability bucket included).
    assert int(psql(pg_url, "SELECT COUNT(*) FROM gtm_rate_limits")) >= 4
