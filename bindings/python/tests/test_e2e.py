"""End-to-end provisioning from Python, sync and async, against the simulators; the
result equals what the Rust API alone gives for the same input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import gtm_infra as gi
from gtm_infra import _native

from conftest import FAST, request_for


def normalized(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without what differs between two runs (ids, times, the customer id)."""
    return {
        "status": snap["status"],
        "tier": snap["tier"],
        "customer": {k: v for k, v in snap["customer"].items() if k != "id"},
        "log": [(e["step"], e["name"], e["status"], e.get("error")) for e in snap["provisioning_log"]],
        "domains": [
            (
                d["name"],
                d["status"],
                d["purchase"],
                d["zapmail_domain_id"] is not None,
                [(m["username"], m["email"], m["zapmail_mailbox_id"] is not None, m["plusvibe_account_id"] is not None) for m in d["mailboxes"]],
            )
            for d in snap["domains"]
        ],
        "ids": [snap[k] is not None for k in ("zapmail_workspace_id", "plusvibe_workspace_id", "heyreach_list_id")],
        "login": snap["plusvibe_login_email"],
        "run": snap["run"],
        "error": snap["error"],
        "flags": snap["flags"],
    }


def as_dict(s: gi.Snapshot) -> dict[str, Any]:
    """The Python snapshot in the Rust JSON shape (for comparison)."""
    return {
        "status": s.status,
        "tier": s.tier,
        "customer": {"id": s.customer.id, "name": s.customer.name, "email": s.customer.email,
                     "first_name": s.customer.first_name, "last_name": s.customer.last_name},
        "provisioning_log": [{"step": e.step, "name": e.name, "status": e.status, "error": e.error} for e in s.provisioning_log],
        "domains": [
            {"name": d.name, "status": d.status, "purchase": d.purchase, "zapmail_domain_id": d.zapmail_domain_id,
             "mailboxes": [vars(m) for m in d.mailboxes]}
            for d in s.domains
        ],
        "zapmail_workspace_id": s.zapmail_workspace_id,
        "plusvibe_workspace_id": s.plusvibe_workspace_id,
        "heyreach_list_id": s.heyreach_list_id,
        "plusvibe_login_email": s.plusvibe_login_email,
        "run": [s.run_kind, s.run_status] if s.run_kind else None,
        "error": s.error,
        "flags": list(s.flags),
    }


def rust_reference(tmp_path: Path, request: dict[str, Any]) -> dict[str, Any]:
    """The same request provisioned by the Rust API alone, on its own simulators."""
    with gi.Simulators(rate_limits=FAST) as other:
        text = _native._reference_provision(other._sim(), str(tmp_path / "rust.db"), json.dumps(request))
        counts = vendor_effects(other, request["domains"])
    snap = json.loads(text)
    snap["_effects"] = counts
    return snap


def vendor_effects(sims: gi.Simulators, domains: list[str]) -> dict[str, Any]:
    return {
        "bought": [sims.domains_bought(d) for d in domains],
        "mailboxes": [sims.mailboxes_created_for(d) for d in domains],
        "workspaces": sims.workspaces_created(),
    }


def check_events(events: list[gi.ProgressEvent], provision_id: str) -> None:
    assert events, "the callback saw no event"
    assert all(e.provision_id == provision_id for e in events)
    completed = {e.step for e in events if e.status == "completed" and e.step > 0}
    assert completed == set(range(1, 11)), f"steps completed: {sorted(completed)}"
    started = {e.step for e in events if e.status == "in_progress" and e.step > 0}
    assert started == set(range(1, 11))
    names = {e.step: e.name for e in events if e.step}
    assert [names[i] for i in range(1, 11)] == list(gi.STEP_NAMES)
    assert events[-1].provision_status == "active"
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_sync_provision_records_every_step_and_matches_rust(
    sims: gi.Simulators, engine: gi.Engine, tmp_path: Path
) -> None:
    request = request_for("syncacme")
    events: list[gi.ProgressEvent] = []
    pid = engine.create_provision(**request)
    assert engine.status(pid).status == "pending_payment"
    paid = engine.mark_paid(pid, checkout_session_id="cs_test_1")
    assert paid.status == "provisioning"
    snap = engine.run(pid, on_progress=events.append)

    assert snap.status == "active", snap.error
    assert len(snap.mailboxes) == 6
    check_events(events, pid)
    assert engine.status(pid) == snap

    reference = rust_reference(tmp_path, request)
    assert normalized(as_dict(snap)) == normalized(reference)
    assert vendor_effects(sims, request["domains"]) == reference["_effects"] == {
        "bought": [1, 1, 1], "mailboxes": [2, 2, 2], "workspaces": 1,
    }


@pytest.mark.asyncio
async def test_async_provision_records_every_step_and_matches_rust(
    async_sims: gi.Simulators, async_engine: gi.AsyncEngine, tmp_path: Path
) -> None:
    request = request_for("asyncacme")
    events: list[gi.ProgressEvent] = []

    async def record(e: gi.ProgressEvent) -> None:  # an async callback
        events.append(e)

    pid = await async_engine.create_provision(**request)
    await async_engine.mark_paid(pid)
    snap = await async_engine.run(pid, on_progress=record)

    assert snap.status == "active", snap.error
    check_events(events, pid)
    assert await async_engine.status(pid) == snap

    reference = rust_reference(tmp_path, request)
    assert normalized(as_dict(snap)) == normalized(reference)
    assert vendor_effects(async_sims, request["domains"]) == reference["_effects"]


@pytest.mark.asyncio
async def test_async_sync_callback_on_the_loop(async_engine: gi.AsyncEngine) -> None:
    request = request_for("synccb")
    seen: list[str] = []
    pid = await async_engine.create_provision(**request)
    await async_engine.mark_paid(pid)
    snap = await async_engine.run(pid, on_progress=lambda e: seen.append(e.name))
    assert snap.status == "active"
    assert set(seen) >= set(gi.STEP_NAMES)


@pytest.mark.asyncio
async def test_many_concurrent_provisions_in_one_loop(async_sims: gi.Simulators, tmp_path: Path, secret_key: str) -> None:
    engine = await gi.AsyncEngine.open(
        store=str(tmp_path / "many.db"),
        secret_key=secret_key,
        vendors=async_sims.vendors(),
        settings=async_sims.engine_settings(),
    )
    import asyncio

    async def one(i: int) -> gi.Snapshot:
        pid = await engine.create_provision(**request_for(f"many{i}x"))
        await engine.mark_paid(pid)
        counted: list[int] = []
        snap = await engine.run(pid, on_progress=lambda e: counted.append(e.step))
        assert set(counted) >= set(range(1, 11))
        return snap

    snaps = await asyncio.gather(*(one(i) for i in range(8)))
    assert [s.status for s in snaps] == ["active"] * 8, [s.error for s in snaps]
    assert len({s.id for s in snaps}) == 8
    assert async_sims.workspaces_created() == 8


def test_worker_loop_runs_paid_provisions(sims: gi.Simulators, engine: gi.Engine) -> None:
    ids = []
    for i in range(2):
        pid = engine.create_provision(**request_for(f"worker{i}x"))
        engine.mark_paid(pid)
        ids.append(pid)
    unpaid = engine.create_provision(**request_for("unpaidx"))
    stop = gi.StopSignal()
    finished: set[str] = set()

    def on_progress(e: gi.ProgressEvent) -> None:
        if e.step == 10 and e.status == "completed":
            finished.add(e.provision_id)
        if finished == set(ids):
            stop.set()

    engine.run_worker(stop=stop, on_progress=on_progress)
    assert stop.is_set()
    assert [engine.status(i).status for i in ids] == ["active", "active"]
    assert engine.status(unpaid).status == "pending_payment"


def test_step_and_retry_after_a_failure(sims: gi.Simulators, engine: gi.Engine) -> None:
    sims.set_wallet_balance("1.00")
    request = request_for("poorx")
    pid = engine.create_provision(**request)
    engine.mark_paid(pid)
    failed = engine.run(pid)
    assert failed.status == "failed"
    assert failed.error is not None and "wallet" in failed.error
    sims.set_wallet_balance("500")
    again = engine.retry(pid)
    assert again.status == "provisioning"
    done = engine.run(pid)
    assert done.status == "active", done.error
    assert [sims.domains_bought(d) for d in request["domains"]] == [1, 1, 1]
