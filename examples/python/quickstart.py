"""Provision a customer's Starter setup against the vendor simulators from Python, into a
local SQLite file, with live progress.

    pip install target/python/wheels/gtm_infra-*.whl    # built by bindings/python/test.sh
    python examples/python/quickstart.py [gtm-python.db] [--async]

Against the real vendors, replace ``sims.vendors()`` with your keys::

    gi.Vendors(
        zapmail=gi.VendorConfig(api_key=os.environ["ZAPMAIL_API_KEY"]),
        plusvibe=gi.VendorConfig(api_key=os.environ["PLUSVIBE_API_KEY"]),
        heyreach=gi.VendorConfig(api_key=os.environ["HEYREACH_API_KEY"]),
    )
"""

from __future__ import annotations

import asyncio
import sys
import uuid

import gtm_infra as gi

TIER = "starter"
DOMAINS = ["acmeoutreach.com", "getacmeoutreach.net", "tryacmeoutreach.org"]


def create(engine: gi.Engine) -> str:
    return engine.create_provision(
        customer_name="Tim Keen",
        customer_email="tim@acmeoutreach.example",
        customer_id=str(uuid.uuid4()),
        tier=TIER,
        domains=DOMAINS,
        patterns=("tim", "tim.keen"),
    )


def show(event: gi.ProgressEvent) -> None:
    """The progress callback: one line per event."""
    mark = {"in_progress": "…", "completed": "✓", "failed": "✗"}.get(event.status, " ")
    note = event.message or event.error or ""
    print(f"  {mark} [{event.step:>2}/10] {event.name}  {note}".rstrip())


def summary(snap: gi.Snapshot) -> None:
    print(f"\nstatus: {snap.status}")
    if snap.error:
        print(f"error: {snap.error}")
    for d in snap.domains:
        print(f"  {d.name} ({d.status})")
        for m in d.mailboxes:
            print(f"      {m.email} → PlusVibe account {m.plusvibe_account_id or '-'}")
    print(f"PlusVibe login: {snap.plusvibe_login_email} (password sealed in the store)")
    print(f"HeyReach list: {snap.heyreach_list_id}")


def main_sync(path: str) -> None:
    with gi.Simulators(latency=0.02) as sims:
        print(f"simulators: {sims}")
        engine = gi.Engine.open(
            store=path,
            secret_key=gi.generate_secret_key(),  # an operator keeps theirs
            vendors=sims.vendors(),
            settings=sims.engine_settings(),
        )
        print(f"engine: {engine}")
        quote = engine.quote(TIER, DOMAINS)
        print(f"quote: ${quote.total_due_now_cents / 100:.2f} due now, ${quote.monthly_cents / 100:.2f}/month")
        pid = create(engine)
        engine.mark_paid(pid, checkout_session_id="cs_demo")
        print(f"provision {pid}: paid, provisioning")
        summary(engine.run(pid, on_progress=show))


async def main_async(path: str) -> None:
    async with gi.Simulators(latency=0.02) as sims:
        engine = await gi.AsyncEngine.open(
            store=path,
            secret_key=gi.generate_secret_key(),
            vendors=sims.vendors(),
            settings=sims.engine_settings(),
        )

        async def show_async(event: gi.ProgressEvent) -> None:
            show(event)

        pid = await engine.create_provision(
            customer_name="Tim Keen",
            customer_email="tim@acmeoutreach.example",
            tier=TIER,
            domains=DOMAINS,
            patterns=("tim", "tim.keen"),
        )
        await engine.mark_paid(pid)
        summary(await engine.run(pid, on_progress=show_async))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    db = args[0] if args else "gtm-python.db"
    try:
        if "--async" in sys.argv:
            asyncio.run(main_async(db))
        else:
            main_sync(db)
    except gi.GtmError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
