"""Every exception class, raised by a real failure (simulators, stores, settings)."""

from __future__ import annotations

import pickle
import socket
import uuid
from pathlib import Path

import pytest

import gtm_infra as gi
from gtm_infra import errors

from conftest import request_for


def client(sims: gi.Simulators, **kw: object) -> gi.ZapmailClient:
    cfg = {"api_key": sims.zapmail.api_key, "base_url": sims.zapmail.base_url, "fast_retries": True, **kw}
    return gi.ZapmailClient(gi.VendorConfig(**cfg))  # type: ignore[arg-type]


def test_hierarchy() -> None:
    for cls in (gi.AuthError, gi.NotFoundError, gi.ValidationError, gi.InsufficientFundsError, gi.RateLimitError):
        assert issubclass(cls, gi.ApiError)
    for cls in (gi.ApiError, gi.TransportError, gi.StorageError, gi.ConfigurationError,
                gi.InvalidStateError, gi.ProgressCallbackError, gi.ForkError):
        assert issubclass(cls, gi.GtmError)
    assert issubclass(gi.ForkError, RuntimeError)
    assert gi.errors is errors


def test_bad_key_is_auth_error(sims: gi.Simulators) -> None:
    with pytest.raises(gi.AuthError) as info:
        client(sims, api_key="not-the-key").list_workspaces()
    e = info.value
    assert e.status == 401 and e.vendor == "zapmail"
    assert e.vendor_message and e.operation == "GET /v2/workspaces"
    assert not e.retryable
    assert "not-the-key" not in str(e) and "not-the-key" not in repr(e)
    assert "\n" not in str(e)
    # Exceptions survive pickling (multiprocessing, Celery).
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is gi.AuthError and back.status == 401 and str(back) == str(e)


@pytest.mark.asyncio
async def test_bad_key_async(async_sims: gi.Simulators) -> None:
    c = gi.AsyncHeyReachClient(gi.VendorConfig(api_key="wrong", base_url=async_sims.heyreach.base_url))
    assert await c.check_api_key() is False
    pv = gi.AsyncPlusVibeClient(gi.VendorConfig(api_key="wrong", base_url=async_sims.plusvibe.base_url))
    with pytest.raises(gi.AuthError) as info:
        await pv.list_workspaces()
    assert info.value.vendor == "plusvibe"


def test_429_storm_beyond_the_retry_budget(sims: gi.Simulators) -> None:
    sims.inject_fault("zapmail", "GET /v2/workspaces", {"rate_limited": 0}, times=10)
    with pytest.raises(gi.RateLimitError) as info:
        client(sims, max_attempts=3).list_workspaces()
    assert info.value.status == 429 and info.value.retryable
    limited = [e for e in sims.journal("zapmail") if e.route == "GET /v2/workspaces"]
    assert len(limited) == 3 and all(e.status == 429 for e in limited)


def test_retry_after_beyond_the_cap(sims: gi.Simulators) -> None:
    sims.inject_fault("zapmail", "GET /v2/workspaces", {"rate_limited": 3600}, times=1)
    with pytest.raises(gi.RateLimitError) as info:
        client(sims, max_retry_after=1.0).list_workspaces()
    assert info.value.retry_after == pytest.approx(3600)


def test_invalid_username(sims: gi.Simulators, engine: gi.Engine) -> None:
    with pytest.raises(gi.ValidationError) as info:
        engine.create_provision(**{**request_for("badname"), "patterns": ["tim", "tim keen!"]})
    assert "tim keen!" in str(info.value) and info.value.status is None
    with pytest.raises(gi.ValidationError):
        gi.validate_patterns("ok", "not ok")
    zm = client(sims)
    sims.inject_fault("zapmail", "POST /v2/mailboxes", {"status": 422}, times=1)
    with pytest.raises(gi.ValidationError) as vendor_side:
        zm.create_mailboxes("dom-1", "acme.com", [("tim", "Tim", "Keen")])
    assert vendor_side.value.status == 422 and vendor_side.value.vendor == "zapmail"


def test_insufficient_balance(sims: gi.Simulators) -> None:
    sims.set_wallet_balance("1.00")
    with pytest.raises(gi.InsufficientFundsError) as info:
        client(sims).buy_domains(["pricey-acme.com"])
    assert info.value.invoice_link
    assert "insufficient" in (info.value.vendor_message or "").lower()
    assert sims.domains_bought("pricey-acme.com") == 0
    sims.set_wallet_balance("500")
    bought = client(sims).buy_domains(["pricey-acme.com"])
    assert "purchased" in bought.message.lower()
    assert sims.domains_bought("pricey-acme.com") == 1


def test_unknown_provision(engine: gi.Engine) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(gi.NotFoundError) as info:
        engine.status(missing)
    assert missing in str(info.value) and info.value.status is None
    with pytest.raises(gi.NotFoundError):
        engine.retry(missing)
    with pytest.raises(gi.ValidationError):
        engine.status("not-a-uuid")
    with pytest.raises(gi.NotFoundError):
        engine.quote("platinum", ["a.com"])


@pytest.mark.asyncio
async def test_unknown_provision_async(async_engine: gi.AsyncEngine) -> None:
    with pytest.raises(gi.NotFoundError):
        await async_engine.run(str(uuid.uuid4()))


def test_wrong_state(engine: gi.Engine) -> None:
    pid = engine.create_provision(**request_for("state"))
    with pytest.raises(gi.InvalidStateError) as info:
        engine.retry(pid)
    assert "pending_payment" in str(info.value)


def test_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = gi.HeyReachClient(gi.VendorConfig(api_key="k", base_url=f"http://127.0.0.1:{port}", max_attempts=1))
    with pytest.raises(gi.TransportError) as info:
        c.list_lists()
    assert info.value.vendor == "heyreach"


def test_storage_error(sims: gi.Simulators, tmp_path: Path, secret_key: str) -> None:
    with pytest.raises(gi.StorageError):
        gi.Engine.open(
            store=str(tmp_path / "no" / "such" / "dir" / "gtm.db"),
            secret_key=secret_key,
            vendors=sims.vendors(),
        )


def test_configuration_errors(sims: gi.Simulators, tmp_path: Path) -> None:
    with pytest.raises(gi.ConfigurationError):
        gi.ZapmailClient(gi.VendorConfig(api_key="k", base_url="not a url"))
    with pytest.raises(gi.ConfigurationError):
        gi.ZapmailClient(gi.VendorConfig(api_key="k", timeout=-1))
    with pytest.raises(gi.ConfigurationError) as bad_key:
        gi.Engine.open(store=str(tmp_path / "k.db"), secret_key="short-secret", vendors=sims.vendors())
    assert "short-secret" not in str(bad_key.value)
