"""No repr or str shows a secret: API keys, the secret key, passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

import gtm_infra as gi

from conftest import request_for

KEY = "sk-live-VERY-SECRET-1234567890"


def no_secret(obj: object, *secrets: str) -> None:
    for text in (repr(obj), str(obj)):
        for s in secrets:
            assert s not in text, f"{s!r} leaked in {text!r}"


def test_config_objects() -> None:
    cfg = gi.VendorConfig(api_key=KEY, base_url="http://127.0.0.1:1")
    no_secret(cfg, KEY)
    vendors = gi.Vendors(zapmail=cfg, plusvibe=cfg, heyreach=cfg)
    no_secret(vendors, KEY)
    no_secret(gi.EngineSettings(fast=True), KEY)
    for c in (gi.ZapmailClient(cfg), gi.PlusVibeClient(cfg), gi.HeyReachClient(cfg),
              gi.AsyncZapmailClient(cfg), gi.AsyncPlusVibeClient(cfg), gi.AsyncHeyReachClient(cfg)):
        no_secret(c, KEY)
        assert "127.0.0.1:1" in repr(c)


def test_engine_snapshot_events_and_errors(sims: gi.Simulators, tmp_path: Path) -> None:
    secret_key = gi.generate_secret_key()
    keys = [sims.zapmail.api_key, sims.plusvibe.api_key, sims.heyreach.api_key, secret_key]
    no_secret(sims, *keys)
    no_secret(sims.zapmail, *keys)
    no_secret(sims.vendors(), *keys)
    engine = gi.Engine.open(
        store=str(tmp_path / "r.db"), secret_key=secret_key,
        vendors=sims.vendors(), settings=sims.engine_settings(),
    )
    no_secret(engine, *keys)
    for c in (engine.zapmail, engine.plusvibe, engine.heyreach):
        no_secret(c, *keys)
    pid = engine.create_provision(**request_for("repr"))
    engine.mark_paid(pid)
    events: list[gi.ProgressEvent] = []
    snap = engine.run(pid, on_progress=events.append)
    assert snap.status == "active"
    no_secret(snap, *keys)
    for e in events:
        no_secret(e, *keys)
    for t in engine.tiers():
        no_secret(t, *keys)
    dashboard = engine.dashboard(pid)
    no_secret(dashboard, *keys)
    for m in dashboard.mailboxes:
        no_secret(m, *keys)
    no_secret(engine.invoice_payment_failed(pid, invoice_id="in_repr"), *keys)
    sims.inject_fault("plusvibe", "GET /account/list", {"status": 503}, times=1000)
    partial = engine.dashboard(pid)
    sims.clear_faults("plusvibe")
    assert partial.missing
    no_secret(partial, *keys)

    # The PlusVibe login was registered in Zapmail with its password: the journal redacts it.
    zm = sims.journal("zapmail")
    registered = [e for e in zm if e.route == "POST /v2/exports/accounts/third-party"]
    assert registered, sorted({e.route for e in zm})
    assert "[REDACTED]" in repr(registered[0].body)
    pv = sims.journal("plusvibe")
    for e in sims.journal("zapmail") + pv + sims.journal("heyreach"):
        no_secret(e, *keys)

    bad = gi.VendorConfig(api_key=KEY, base_url=sims.zapmail.base_url)
    with pytest.raises(gi.AuthError) as info:
        gi.ZapmailClient(bad).list_workspaces()
    no_secret(info.value, KEY, *keys)
    with pytest.raises(gi.ConfigurationError) as cfg_err:
        gi.Engine.open(store=str(tmp_path / "x.db"), secret_key=KEY, vendors=sims.vendors())
    no_secret(cfg_err.value, KEY)


def test_postgres_url_password_not_shown(sims: gi.Simulators) -> None:
    # Connection fails (no such server on port 1) without echoing the password.
    with pytest.raises(gi.StorageError) as info:
        gi.Engine.open(
            store="postgres://user:pg-SECRET-pw@127.0.0.1:1/db",
            secret_key=gi.generate_secret_key(), vendors=sims.vendors(),
        )
    no_secret(info.value, "pg-SECRET-pw")
