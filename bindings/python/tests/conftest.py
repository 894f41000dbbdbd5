"""Shared fixtures: simulators and engines on temporary SQLite files."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import gtm_infra as gi

_counter = itertools.count()

# The vendors' documented limits, 20 times faster (same shape): quick tests that still
# go through every limiter and the simulators' enforcement.
FAST = 20.0

TLDS = ("com", "net", "org")


def domains_for(prefix: str, n: int = 3) -> list[str]:
    """``n`` distinct, valid domain names."""
    return [f"{prefix}{i}.{TLDS[i % len(TLDS)]}" for i in range(n)]


def request_for(prefix: str, tier: str = "starter", n: int = 3) -> dict[str, Any]:
    """A provision request for a fresh customer."""
    return {
        "customer_name": "Tim Keen",
        "customer_email": f"tim.{prefix}@acme.example",
        "tier": tier,
        "domains": domains_for(prefix, n),
        "patterns": ["tim", "tim.keen"],
    }


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}x{uuid.uuid4().hex[:6]}"


@pytest.fixture
def sims() -> Iterator[gi.Simulators]:
    with gi.Simulators(rate_limits=FAST) as s:
        yield s


@pytest.fixture
def secret_key() -> str:
    return gi.generate_secret_key()


@pytest.fixture
def engine(sims: gi.Simulators, tmp_path: Path, secret_key: str) -> gi.Engine:
    return gi.Engine.open(
        store=str(tmp_path / "gtm.db"),
        secret_key=secret_key,
        vendors=sims.vendors(),
        settings=sims.engine_settings(),
    )


@pytest_asyncio.fixture
async def async_sims() -> Any:
    async with gi.Simulators(rate_limits=FAST) as s:
        yield s


@pytest_asyncio.fixture
async def async_engine(async_sims: gi.Simulators, tmp_path: Path, secret_key: str) -> gi.AsyncEngine:
    return await gi.AsyncEngine.open(
        store=str(tmp_path / "gtm.db"),
        secret_key=secret_key,
        vendors=async_sims.vendors(),
        settings=async_sims.engine_settings(),
    )
