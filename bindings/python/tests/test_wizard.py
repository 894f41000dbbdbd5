"""Wizard helpers and tiers, sync and async giving the same answers."""

from __future__ import annotations

import pytest

import gtm_infra as gi


def test_pure_helpers() -> None:
    s = gi.suggest_domains("Acme Outreach")
    assert s and all("." in d for d in s) and not any(d.endswith(".io") for d in s)
    assert gi.validate_patterns("tim", "tim.keen") == ("tim", "tim.keen")
    rows = gi.preview(["a.com", "b.net"], ["tim", "tim.keen"])
    assert [r.email for r in rows] == ["tim@a.com", "tim.keen@a.com", "tim@b.net", "tim.keen@b.net"]
    assert gi.sender_names("Ada Lovelace") == ("Ada", "Lovelace")
    with pytest.raises(gi.ValidationError):
        gi.suggest_domains("   ")
    assert len(gi.STEP_NAMES) == 10
    assert gi.__version__


def test_tiers_availability_and_quote(sims: gi.Simulators, engine: gi.Engine) -> None:
    tiers = engine.tiers()
    assert [t.slug for t in tiers] == ["starter", "growth", "scale"]
    assert [t.domain_count for t in tiers] == [3, 5, 10]
    sims.mark_taken(["taken-acme.com"])
    checks = engine.check_availability(["quote-acme.com", "taken-acme.com", "bad_name.com", "x.io"])
    assert [c.availability for c in checks] == ["available", "unavailable", "invalid", "invalid"]
    assert checks[0].price_cents and checks[0].is_available
    assert checks[2].reason
    q = engine.quote("starter", ["quote-acme.com", "quote-acme.net", "quote-acme.org"])
    assert q.total_due_now_cents == q.setup_fee_cents + q.domain_registration_cents + q.first_month_cents
    with pytest.raises(gi.ValidationError) as info:
        engine.quote("starter", ["quote-acme.com", "taken-acme.com", "quote-acme.org"])
    assert "taken-acme.com" in str(info.value)
    t = engine.create_tier(name="Agency", slug="agency", domain_count=20, setup_fee_cents=50000, monthly_fee_cents=20000)
    assert t.slug == "agency" and [x.slug for x in engine.tiers()][-1] == "agency"
    with pytest.raises(gi.ValidationError):
        engine.create_tier(name="Dup", slug="agency", domain_count=1, setup_fee_cents=0, monthly_fee_cents=0)
    engine.deactivate_tier(t.id)
    assert "agency" not in [x.slug for x in engine.tiers()]
    assert "agency" in [x.slug for x in engine.tiers(include_inactive=True)]


@pytest.mark.asyncio
async def test_async_matches_sync(async_sims: gi.Simulators, async_engine: gi.AsyncEngine) -> None:
    names = ["same-acme.com", "same-acme.net"]
    a = await async_engine.check_availability(names)
    b = gi.Engine(async_engine._n).check_availability(names)
    assert a == b
    assert await async_engine.tiers() == gi.Engine(async_engine._n).tiers()


def test_vendor_clients(sims: gi.Simulators, engine: gi.Engine) -> None:
    zm = engine.zapmail
    assert zm.wallet_balance() == "500"
    assert [w.name for w in zm.list_workspaces()]
    rows = zm.check_availability(["direct-acme.com"])
    assert rows[0].available and rows[0].price
    zm.buy_domains(["direct-acme.com"])
    sims.complete_transitions()
    doms = zm.list_domains(contains="direct-acme")
    assert [d.name for d in doms] == ["direct-acme.com"]
    zm.create_mailboxes(doms[0].id, "direct-acme.com", [("ada", "Ada", "Lovelace")])
    boxes = zm.list_mailboxes(contains="direct-acme")
    assert [b.email for b in boxes] == ["ada@direct-acme.com"]
    pv = engine.plusvibe
    ws = pv.list_workspaces()
    assert ws and pv.list_accounts(ws[0].id or "") == []
    hr = engine.heyreach
    assert hr.check_api_key()
    created = hr.create_list("Python prospects")
    assert created.name == "Python prospects"
    assert created.id in [lst.id for lst in hr.list_lists()]
    assert hr.lead_count(created.id) == 0
