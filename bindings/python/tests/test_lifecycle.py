"""Upgrade, cancel, the dashboard and the billing lifecycle hooks from Python, sync and
async, against the simulators (vendor effects checked in the simulators' books)."""

from __future__ import annotations

import pytest

import gtm_infra as gi

from conftest import request_for


def active(engine: gi.Engine, prefix: str) -> tuple[str, list[str]]:
    request = request_for(prefix)
    pid = engine.create_provision(**request)
    engine.mark_paid(pid, checkout_session_id=f"cs_{prefix}")
    snap = engine.run(pid)
    assert snap.status == "active", snap.error
    return pid, request["domains"]


def purchases_naming(sims: gi.Simulators, domain: str) -> int:
    """Successful purchase requests in Zapmail's journal that name ``domain``."""
    return sum(
        1
        for e in sims.journal("zapmail")
        if e.route == "POST /v2/domains/buy" and e.status < 300 and domain in str(e.body)
    )


def test_upgrade_starter_to_growth_buys_each_new_domain_once(sims: gi.Simulators, engine: gi.Engine) -> None:
    pid, old = active(engine, "upsync")
    new = ["upsyncnew0.com", "upsyncnew1.net"]
    events: list[gi.ProgressEvent] = []

    queued = engine.upgrade(pid, tier="growth", new_domains=new)
    assert queued.status == "upgrading"
    assert queued.run_kind == "upgrade"
    snap = engine.run(pid, on_progress=events.append)

    assert snap.status == "active", snap.error
    assert snap.tier == "growth"
    assert [d.name for d in snap.domains] == old + new
    assert len(snap.mailboxes) == 10
    assert events and all(e.provision_id == pid for e in events)
    for d in old + new:
        assert sims.domains_bought(d) == 1, d
        assert sims.purchase_calls_for(d) == 1, d
        assert sims.mailboxes_created_for(d) == 2, d
    for d in new:
        assert purchases_naming(sims, d) == 1, d
    assert sims.workspaces_created() == 1

    # A downgrade is refused as invalid input; nothing changes.
    with pytest.raises(gi.ValidationError, match="downgrade"):
        engine.upgrade(pid, tier="starter", new_domains=[])
    assert engine.status(pid) == snap
    # The same tier again, and an unknown tier: invalid input too.
    with pytest.raises(gi.ValidationError, match="already on tier"):
        engine.upgrade(pid, tier="growth", new_domains=["other0.com"])
    with pytest.raises(gi.ValidationError, match="unknown tier"):
        engine.upgrade(pid, tier="platinum", new_domains=["other0.com"])


def test_upgrade_refused_when_not_active(engine: gi.Engine) -> None:
    pid = engine.create_provision(**request_for("upunpaid"))
    with pytest.raises(gi.InvalidStateError, match="only an active provision"):
        engine.upgrade(pid, tier="growth", new_domains=["upunpaidn0.com", "upunpaidn1.net"])
    pid2, _ = active(engine, "upcount")
    with pytest.raises(gi.ValidationError, match="adds 2"):
        engine.upgrade(pid2, tier="growth", new_domains=["upcountn0.com"])
    with pytest.raises(gi.NotFoundError):
        engine.upgrade("00000000-0000-4000-8000-000000000000", tier="growth", new_domains=["a.com", "b.com"])


@pytest.mark.asyncio
async def test_async_upgrade_starter_to_growth(async_sims: gi.Simulators, async_engine: gi.AsyncEngine) -> None:
    request = request_for("upasync")
    pid = await async_engine.create_provision(**request)
    await async_engine.mark_paid(pid)
    assert (await async_engine.run(pid)).status == "active"
    new = ["upasyncnew0.com", "upasyncnew1.org"]
    seen: list[int] = []

    queued = await async_engine.upgrade(pid, tier="growth", new_domains=new)
    assert queued.status == "upgrading"
    snap = await async_engine.run(pid, on_progress=lambda e: seen.append(e.step))

    assert snap.status == "active", snap.error
    assert snap.tier == "growth"
    assert len(snap.domains) == 5 and len(snap.mailboxes) == 10
    assert seen
    for d in request["domains"] + new:
        assert async_sims.domains_bought(d) == 1, d
    for d in new:
        assert purchases_naming(async_sims, d) == 1, d
    with pytest.raises(gi.ValidationError, match="downgrade"):
        await async_engine.upgrade(pid, tier="starter", new_domains=[])


def test_cancel_tears_down(sims: gi.Simulators, engine: gi.Engine) -> None:
    pid, domains = active(engine, "cancelx")
    cancelled = engine.cancel(pid)
    assert cancelled.status == "cancelled"
    assert cancelled.run_kind == "cancel"
    done = engine.run(pid)
    assert done.status == "cancelled", done.error
    assert done.run_status == "succeeded"
    assert engine.status(pid).status == "cancelled"
    # Domains are kept (paid for the year), never bought again.
    assert [sims.domains_bought(d) for d in domains] == [1, 1, 1]
    # Cancelling again changes nothing.
    assert engine.cancel(pid) == done
    # An upgrade of a cancelled provision is refused.
    with pytest.raises(gi.InvalidStateError):
        engine.upgrade(pid, tier="growth", new_domains=["cancelxn0.com", "cancelxn1.net"])


def test_cancel_refused_during_a_run(engine: gi.Engine) -> None:
    pid = engine.create_provision(**request_for("cancellive"))
    engine.mark_paid(pid)
    before = engine.status(pid)
    with pytest.raises(gi.InvalidStateError, match="in progress"):
        engine.cancel(pid)
    assert engine.status(pid) == before
    # Before payment there is nothing to tear down.
    unpaid = engine.create_provision(**request_for("cancelunpaid"))
    assert engine.cancel(unpaid).status == "cancelled"


@pytest.mark.asyncio
async def test_async_cancel(async_engine: gi.AsyncEngine) -> None:
    pid = await async_engine.create_provision(**request_for("cancelasync"))
    await async_engine.mark_paid(pid)
    assert (await async_engine.run(pid)).status == "active"
    assert (await async_engine.cancel(pid)).status == "cancelled"
    done = await async_engine.run(pid)
    assert done.status == "cancelled" and done.run_status == "succeeded", done.error


def test_dashboard_no_data_is_none_not_zero(sims: gi.Simulators, engine: gi.Engine) -> None:
    pid, domains = active(engine, "dash")
    sims.set_warmup_health(
        "tim@dash0.com",
        overall_7d=97.5,
        google_7d=99.0,
        microsoft_7d=0.0,
        reply_rate_7d=12.0,
        email_sent_today=0,
        warmup_email_sent_today=14,
    )
    d = engine.dashboard(pid)
    assert d.is_complete, d.missing
    assert d.missing == ()
    assert d.provision_id == pid and d.status == "active" and d.tier == "starter"
    assert [c.name for c in d.domains] == domains
    assert len(d.mailboxes) == 6
    assert d.plusvibe_login_email == engine.status(pid).plusvibe_login_email is not None
    assert d.heyreach_list is not None
    assert d.heyreach_list.id == engine.status(pid).heyreach_list_id
    assert d.heyreach_list.lead_count == 0

    tim = next(m for m in d.mailboxes if m.email == "tim@dash0.com")
    assert tim.in_plusvibe is True
    assert tim.warmup_status == "ACTIVE"
    assert tim.health is not None
    assert tim.health.overall_7d == 97.5
    assert tim.health.microsoft_7d == 0.0 and tim.health.microsoft_7d is not None  # measured zero
    assert tim.health.other_7d is None  # no data, not zero
    assert tim.health.email_sent_today == 0 and tim.health.email_sent_today is not None
    assert tim.health.warmup_email_sent_today == 14
    fresh = next(m for m in d.mailboxes if m.email == "tim.keen@dash2.org")
    assert fresh.health is not None and fresh.health.overall_7d is None, "a new account has no data"

    # Frozen plain data, no secret in the repr.
    with pytest.raises(AttributeError):
        d.tier = "x"  # type: ignore[misc]
    text = repr(d)
    assert "password" not in text.lower()
    assert engine.dashboard(pid) == d

    with pytest.raises(gi.NotFoundError):
        engine.dashboard("00000000-0000-4000-8000-000000000000")


def test_dashboard_is_partial_when_a_vendor_is_down(sims: gi.Simulators, engine: gi.Engine) -> None:
    pid, _ = active(engine, "dashdown")

    sims.inject_fault("heyreach", "*", {"status": 503}, times=1000)
    d = engine.dashboard(pid)
    sims.clear_faults("heyreach")
    assert not d.is_complete
    assert [m.part for m in d.missing] == ["heyreach_list"]
    assert "503" in d.missing[0].reason or "heyreach" in d.missing[0].reason.lower()
    assert d.heyreach_list is None
    assert len(d.mailboxes) == 6 and all(m.health is not None for m in d.mailboxes)

    sims.inject_fault("plusvibe", "GET /account/list", {"status": 503}, times=1000)
    d = engine.dashboard(pid)
    sims.clear_faults("plusvibe")
    assert [m.part for m in d.missing] == ["plusvibe_warmup"]
    assert len(d.mailboxes) == 6
    assert all(m.in_plusvibe is None and m.health is None for m in d.mailboxes)
    assert d.heyreach_list is not None

    assert engine.dashboard(pid).is_complete


@pytest.mark.asyncio
async def test_async_dashboard(async_engine: gi.AsyncEngine) -> None:
    pid = await async_engine.create_provision(**request_for("dashasync"))
    await async_engine.mark_paid(pid)
    await async_engine.run(pid)
    d = await async_engine.dashboard(pid)
    assert d.is_complete and len(d.mailboxes) == 6
    assert all(m.in_plusvibe for m in d.mailboxes)


def test_billing_hooks(sims: gi.Simulators, engine: gi.Engine) -> None:
    request = request_for("hooks")
    pid = engine.create_provision(**request)

    paid = engine.checkout_completed(pid, session_id="cs_hooks", customer_id="cus_1", subscription_id="sub_1")
    assert paid.applied and paid.snapshot.status == "provisioning"
    again = engine.checkout_completed(pid, session_id="cs_hooks", customer_id="cus_1", subscription_id="sub_1")
    assert not again.applied
    assert engine.run(pid).status == "active"

    flagged = engine.invoice_payment_failed(pid, invoice_id="in_1", subscription_id="sub_1")
    assert flagged.applied and "invoice_payment_failed:in_1" in flagged.snapshot.flags
    assert not engine.invoice_payment_failed(pid, invoice_id="in_1").applied

    same = engine.subscription_updated(pid, tier="starter", new_domains=[], subscription_id="sub_1")
    assert not same.applied
    up = engine.subscription_updated(pid, tier="growth", new_domains=["hooksn0.com", "hooksn1.net"], subscription_id="sub_1")
    assert up.applied and up.snapshot.status == "upgrading"
    assert engine.run(pid).status == "active"

    with pytest.raises(gi.ValidationError, match="does not belong"):
        engine.subscription_deleted(pid, subscription_id="sub_other")
    gone = engine.subscription_deleted(pid, subscription_id="sub_1")
    assert gone.applied and gone.snapshot.status == "cancelled"
    assert not engine.subscription_deleted(pid, subscription_id="sub_1").applied
    assert repr(gone).startswith("EventOutcome(applied=True")


@pytest.mark.asyncio
async def test_async_billing_hooks(async_engine: gi.AsyncEngine) -> None:
    pid = await async_engine.create_provision(**request_for("ahooks"))
    out = await async_engine.checkout_completed(pid, session_id="cs_ahooks")
    assert out.applied
    assert (await async_engine.run(pid)).status == "active"
    assert (await async_engine.invoice_payment_failed(pid, invoice_id="in_9")).applied
    up = await async_engine.subscription_updated(pid, tier="growth", new_domains=["ahooksn0.com", "ahooksn1.org"])
    assert up.applied
    assert (await async_engine.run(pid)).status == "active"
    assert (await async_engine.subscription_deleted(pid)).snapshot.status == "cancelled"
