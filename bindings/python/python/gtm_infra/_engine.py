"""The provisioning engine: sync :class:`Engine` and asyncio :class:`AsyncEngine`."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any, Awaitable, Callable, Union

from . import _native
from ._clients import (
    AsyncHeyReachClient,
    AsyncPlusVibeClient,
    AsyncZapmailClient,
    HeyReachClient,
    PlusVibeClient,
    ZapmailClient,
)
from ._config import EngineSettings, Vendors
from ._models import Dashboard, DomainCheck, EventOutcome, ProgressEvent, Quote, Snapshot, Tier
from .errors import ProgressCallbackError

ProgressCallback = Callable[[ProgressEvent], Union[None, Awaitable[None]]]
"""A sync or async callable receiving each :class:`ProgressEvent`."""

StopSignal = _native.StopSignal


def _spec(
    store: str,
    secret_key: str,
    vendors: Vendors,
    settings: EngineSettings | None,
    seed_default_tiers: bool,
) -> str:
    if not isinstance(secret_key, str):
        raise TypeError("secret_key must be a str (see gtm_infra.generate_secret_key())")
    return json.dumps(
        {
            "store": str(store),
            "secret_key": secret_key,
            "zapmail": vendors.zapmail._spec(),
            "plusvibe": vendors.plusvibe._spec(),
            "heyreach": vendors.heyreach._spec(),
            "settings": (settings or EngineSettings())._spec(),
            "seed_default_tiers": seed_default_tiers,
        }
    )


def _request(
    customer_name: str,
    customer_email: str,
    tier: str,
    domains: list[str],
    patterns: tuple[str, str] | list[str],
    customer_id: str | None,
    first_name: str | None,
    last_name: str | None,
) -> str:
    return json.dumps(
        {
            "customer_name": customer_name,
            "customer_email": customer_email,
            "tier": tier,
            "domains": list(domains),
            "patterns": list(patterns),
            "customer_id": customer_id,
            "first_name": first_name,
            "last_name": last_name,
        }
    )


def _payment(checkout_session_id: str | None, customer_id: str | None, subscription_id: str | None) -> str:
    return json.dumps(
        {
            "checkout_session_id": checkout_session_id,
            "customer_id": customer_id,
            "subscription_id": subscription_id,
        }
    )


def _checkout(session_id: str, customer_id: str | None, subscription_id: str | None) -> str:
    return json.dumps({"session_id": session_id, "customer_id": customer_id, "subscription_id": subscription_id})


def _invoice(invoice_id: str, subscription_id: str | None) -> str:
    return json.dumps({"invoice_id": invoice_id, "subscription_id": subscription_id})


def _tier_spec(**fields: Any) -> str:
    return json.dumps({k: v for k, v in fields.items() if v is not None})


def _failed(exc: BaseException) -> ProgressCallbackError:
    e = ProgressCallbackError(f"progress callback raised {type(exc).__name__}: {exc}")
    e.__cause__ = exc
    return e


def _sync_callback(on_progress: ProgressCallback) -> Callable[[str], None]:
    def deliver(text: str) -> None:
        try:
            result = on_progress(ProgressEvent._from_json(text))
            if inspect.isawaitable(result):
                asyncio.run(_awaited(result))
        except Exception as exc:
            raise _failed(exc) from exc

    return deliver


async def _awaited(a: Awaitable[None]) -> None:
    await a


async def _with_progress(work: Awaitable[Any], stream: Any, on_progress: ProgressCallback) -> Any:
    """Await ``work`` while handing ``stream``'s events to ``on_progress`` (sync or async)
    on this event loop. A callback exception cancels ``work`` and is raised as
    :class:`ProgressCallbackError`; cancelling the caller cancels ``work``."""

    async def deliver(text: str) -> None:
        try:
            result = on_progress(ProgressEvent._from_json(text))
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            raise _failed(exc) from exc

    task = asyncio.ensure_future(work)
    nxt: asyncio.Future[Any] | None = None
    try:
        while True:
            if nxt is None:
                nxt = asyncio.ensure_future(stream.next_async())
            done, _ = await asyncio.wait({task, nxt}, return_when=asyncio.FIRST_COMPLETED)
            if nxt in done:
                text = nxt.result()
                nxt = None
                if text is not None:
                    await deliver(text)
                continue
            # The work is done and every event it emitted is queued: wake the pending
            # read (it may hold one), then deliver the rest in order.
            stream.close()
            if nxt is not None:
                text = await nxt
                nxt = None
                if text is not None:
                    await deliver(text)
            while (text := stream.try_next()) is not None:
                await deliver(text)
            return task.result()
    finally:
        if nxt is not None:
            nxt.cancel()
        if not task.done():
            task.cancel()
        stream.close()


class _Common:
    _n: Any

    def __repr__(self) -> str:
        return repr(self._n)


class Engine(_Common):
    """The provisioning engine, sync API (each call releases the GIL while it waits and
    responds to Ctrl-C). Open it with :meth:`open`::

        engine = Engine.open(store="gtm.db", secret_key=key, vendors=vendors)

    ``store`` is a SQLite file path, ``sqlite://…``, ``sqlite::memory:`` or a
    ``postgres://…`` URL. ``secret_key`` (64 hex characters or base64 of 32 bytes, see
    :func:`generate_secret_key`) seals the stored PlusVibe password: keep it.
    """

    def __init__(self, native: Any) -> None:
        self._n = native

    @classmethod
    def open(
        cls,
        *,
        store: str,
        secret_key: str,
        vendors: Vendors,
        settings: EngineSettings | None = None,
        seed_default_tiers: bool = True,
    ) -> Engine:
        """Connect to the store (migrating it), build the vendor clients, and return the
        engine. The seed's tiers are inserted when the store has none."""
        return cls(_native.Engine.open(_spec(store, secret_key, vendors, settings, seed_default_tiers)))

    # ---------------------------------------------------------------- provisions

    def create_provision(
        self,
        *,
        customer_name: str,
        customer_email: str,
        tier: str,
        domains: list[str],
        patterns: tuple[str, str] | list[str],
        customer_id: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> str:
        """Validate and store a new provision (``pending_payment``); returns its id.
        Raises :class:`ValidationError` naming what to fix; nothing is stored then."""
        return str(
            self._n.create_provision(
                _request(customer_name, customer_email, tier, domains, patterns, customer_id, first_name, last_name)
            )
        )

    def mark_paid(
        self,
        provision_id: str,
        *,
        checkout_session_id: str | None = None,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> Snapshot:
        """Record the payment and queue the run (idempotent)."""
        return Snapshot._from_json(
            self._n.mark_paid(str(provision_id), _payment(checkout_session_id, customer_id, subscription_id))
        )

    def status(self, provision_id: str) -> Snapshot:
        """The provision as a UI shows it (:class:`NotFoundError` if unknown)."""
        return Snapshot._from_json(self._n.status(str(provision_id)))

    def run(self, provision_id: str, *, on_progress: ProgressCallback | None = None) -> Snapshot:
        """Drive the provision until its run ends; returns the final snapshot (``active``,
        or ``failed`` with the step and the vendor's words). ``on_progress`` is called on
        this thread for every event (an async callable is run to completion)."""
        cb = _sync_callback(on_progress) if on_progress is not None else None
        return Snapshot._from_json(self._n.run(str(provision_id), cb))

    def step(self, provision_id: str) -> str | None:
        """Drive until the run finishes or waits, without sleeping; returns when it is due
        again (RFC 3339), if it is. For hosts that schedule their own work."""
        return self._n.step(str(provision_id))  # type: ignore[no-any-return]

    def retry(self, provision_id: str) -> Snapshot:
        """Resume a failed provision from its failed step (then :meth:`run` it)."""
        return Snapshot._from_json(self._n.retry(str(provision_id)))

    def confirm_not_purchased(self, provision_id: str, domains: list[str]) -> list[str]:
        """The operator's answer to an unconfirmed purchase (refused if Zapmail lists them)."""
        return list(self._n.confirm_not_purchased(str(provision_id), list(domains)))

    def run_worker(self, *, stop: StopSignal | None = None, on_progress: ProgressCallback | None = None) -> None:
        """Run every due provision until ``stop`` is set (from another thread) or Ctrl-C."""
        cb = _sync_callback(on_progress) if on_progress is not None else None
        self._n.run_worker(stop if stop is not None else StopSignal(), cb)

    # ---------------------------------------------------------------- lifecycle

    def upgrade(self, provision_id: str, *, tier: str, new_domains: list[str]) -> Snapshot:
        """Queue an upgrade of an active provision to a bigger ``tier`` (slug), buying
        ``new_domains`` (exactly the extra domains the tier adds); then :meth:`run` it.
        A downgrade, an unknown tier or bad domains raise :class:`ValidationError`; an
        upgrade of a provision that is not active raises :class:`InvalidStateError`."""
        return Snapshot._from_json(self._n.upgrade(str(provision_id), tier, list(new_domains)))

    def cancel(self, provision_id: str) -> Snapshot:
        """Cancel: status ``cancelled`` and a teardown run (warmup stopped, mailboxes
        removed at the next renewal, domains kept); then :meth:`run` it. Already cancelled:
        returned as it is. :class:`InvalidStateError` while a run is in progress."""
        return Snapshot._from_json(self._n.cancel(str(provision_id)))

    def dashboard(self, provision_id: str) -> Dashboard:
        """Domains, mailboxes with their warmup health, the HeyReach list and the PlusVibe
        login email in one call. A vendor that fails leaves its part empty and named in
        :attr:`Dashboard.missing` (no exception)."""
        return Dashboard._from_json(self._n.dashboard(str(provision_id)))

    def checkout_completed(
        self,
        provision_id: str,
        *,
        session_id: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> EventOutcome:
        """Stripe's ``checkout.session.completed``: record the payment and queue the run
        (a repeated delivery changes nothing)."""
        return EventOutcome._from_json(
            self._n.checkout_completed(str(provision_id), _checkout(session_id, customer_id, subscription_id))
        )

    def subscription_updated(
        self,
        provision_id: str,
        *,
        tier: str,
        new_domains: list[str],
        subscription_id: str | None = None,
    ) -> EventOutcome:
        """Stripe's ``customer.subscription.updated``: :meth:`upgrade` to ``tier``; the
        same tier again changes nothing."""
        return EventOutcome._from_json(
            self._n.subscription_updated(str(provision_id), subscription_id, tier, list(new_domains))
        )

    def subscription_deleted(self, provision_id: str, *, subscription_id: str | None = None) -> EventOutcome:
        """Stripe's ``customer.subscription.deleted``: :meth:`cancel` (already cancelled:
        nothing changes)."""
        return EventOutcome._from_json(self._n.subscription_deleted(str(provision_id), subscription_id))

    def invoice_payment_failed(
        self, provision_id: str, *, invoice_id: str, subscription_id: str | None = None
    ) -> EventOutcome:
        """Stripe's ``invoice.payment_failed``: flag the provision
        (``invoice_payment_failed:<invoice>`` in :attr:`Snapshot.flags`); nothing stops."""
        return EventOutcome._from_json(
            self._n.invoice_payment_failed(str(provision_id), _invoice(invoice_id, subscription_id))
        )

    # ---------------------------------------------------------------- wizard and tiers

    def tiers(self, *, include_inactive: bool = False) -> list[Tier]:
        """The packages, in display order."""
        return [Tier._from_dict(t) for t in json.loads(self._n.tiers(include_inactive))]

    def create_tier(
        self,
        *,
        name: str,
        slug: str,
        domain_count: int,
        setup_fee_cents: int,
        monthly_fee_cents: int,
        mailboxes_per_domain: int = 2,
        is_active: bool = True,
        sort_order: int | None = None,
    ) -> Tier:
        """Add a package (validated; the slug must be unused)."""
        return Tier._from_dict(
            json.loads(
                self._n.create_tier(
                    _tier_spec(
                        name=name,
                        slug=slug,
                        domain_count=domain_count,
                        setup_fee_cents=setup_fee_cents,
                        monthly_fee_cents=monthly_fee_cents,
                        mailboxes_per_domain=mailboxes_per_domain,
                        is_active=is_active,
                        sort_order=sort_order,
                    )
                )
            )
        )

    def deactivate_tier(self, tier_id: str) -> Tier:
        """Stop offering a package to new customers."""
        return Tier._from_dict(json.loads(self._n.deactivate_tier(str(tier_id))))

    def check_availability(self, names: list[str]) -> list[DomainCheck]:
        """Availability and price of each name, in order: invalid names answered locally,
        answers cached, the rest checked in bulk within Zapmail's budget."""
        return [DomainCheck._from_dict(d) for d in json.loads(self._n.check_availability(list(names)))]

    def quote(self, tier: str, domains: list[str]) -> Quote:
        """The price of a package with the chosen domains (:class:`ValidationError` says
        which domain cannot be quoted and why)."""
        return Quote(**json.loads(self._n.quote(tier, list(domains))))

    # ---------------------------------------------------------------- vendors

    @property
    def zapmail(self) -> ZapmailClient:
        """The engine's Zapmail client."""
        return ZapmailClient(_native_client=self._n.zapmail())

    @property
    def plusvibe(self) -> PlusVibeClient:
        """The engine's PlusVibe client."""
        return PlusVibeClient(_native_client=self._n.plusvibe())

    @property
    def heyreach(self) -> HeyReachClient:
        """The engine's HeyReach client."""
        return HeyReachClient(_native_client=self._n.heyreach())


class AsyncEngine(_Common):
    """:class:`Engine` for asyncio: the same methods, as coroutines. Cancelling a task
    that awaits one stops the wait (a run is left resumable, as after a crash)."""

    def __init__(self, native: Any) -> None:
        self._n = native

    @classmethod
    async def open(
        cls,
        *,
        store: str,
        secret_key: str,
        vendors: Vendors,
        settings: EngineSettings | None = None,
        seed_default_tiers: bool = True,
    ) -> AsyncEngine:
        """See :meth:`Engine.open`."""
        return cls(await _native.Engine.open_async(_spec(store, secret_key, vendors, settings, seed_default_tiers)))

    async def create_provision(
        self,
        *,
        customer_name: str,
        customer_email: str,
        tier: str,
        domains: list[str],
        patterns: tuple[str, str] | list[str],
        customer_id: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> str:
        """See :meth:`Engine.create_provision`."""
        return str(
            await self._n.create_provision_async(
                _request(customer_name, customer_email, tier, domains, patterns, customer_id, first_name, last_name)
            )
        )

    async def mark_paid(
        self,
        provision_id: str,
        *,
        checkout_session_id: str | None = None,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> Snapshot:
        """See :meth:`Engine.mark_paid`."""
        return Snapshot._from_json(
            await self._n.mark_paid_async(
                str(provision_id), _payment(checkout_session_id, customer_id, subscription_id)
            )
        )

    async def status(self, provision_id: str) -> Snapshot:
        """See :meth:`Engine.status`."""
        return Snapshot._from_json(await self._n.status_async(str(provision_id)))

    async def run(self, provision_id: str, *, on_progress: ProgressCallback | None = None) -> Snapshot:
        """See :meth:`Engine.run`; ``on_progress`` runs on this event loop (sync or async)."""
        pid = str(provision_id)
        if on_progress is None:
            return Snapshot._from_json(await self._n.run_async(pid))
        stream = self._n.subscribe(pid)
        return Snapshot._from_json(await _with_progress(self._n.run_async(pid), stream, on_progress))

    async def step(self, provision_id: str) -> str | None:
        """See :meth:`Engine.step`."""
        return await self._n.step_async(str(provision_id))  # type: ignore[no-any-return]

    async def retry(self, provision_id: str) -> Snapshot:
        """See :meth:`Engine.retry`."""
        return Snapshot._from_json(await self._n.retry_async(str(provision_id)))

    async def confirm_not_purchased(self, provision_id: str, domains: list[str]) -> list[str]:
        """See :meth:`Engine.confirm_not_purchased`."""
        return list(await self._n.confirm_not_purchased_async(str(provision_id), list(domains)))

    async def run_worker(self, *, stop: StopSignal | None = None, on_progress: ProgressCallback | None = None) -> None:
        """Run every due provision until ``stop`` is set or the task is cancelled."""
        sig = stop if stop is not None else StopSignal()
        if on_progress is None:
            await self._n.run_worker_async(sig)
            return
        stream = self._n.subscribe(None)
        await _with_progress(self._n.run_worker_async(sig), stream, on_progress)

    async def upgrade(self, provision_id: str, *, tier: str, new_domains: list[str]) -> Snapshot:
        """See :meth:`Engine.upgrade`."""
        return Snapshot._from_json(await self._n.upgrade_async(str(provision_id), tier, list(new_domains)))

    async def cancel(self, provision_id: str) -> Snapshot:
        """See :meth:`Engine.cancel`."""
        return Snapshot._from_json(await self._n.cancel_async(str(provision_id)))

    async def dashboard(self, provision_id: str) -> Dashboard:
        """See :meth:`Engine.dashboard`."""
        return Dashboard._from_json(await self._n.dashboard_async(str(provision_id)))

    async def checkout_completed(
        self,
        provision_id: str,
        *,
        session_id: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> EventOutcome:
        """See :meth:`Engine.checkout_completed`."""
        return EventOutcome._from_json(
            await self._n.checkout_completed_async(
                str(provision_id), _checkout(session_id, customer_id, subscription_id)
            )
        )

    async def subscription_updated(
        self,
        provision_id: str,
        *,
        tier: str,
        new_domains: list[str],
        subscription_id: str | None = None,
    ) -> EventOutcome:
        """See :meth:`Engine.subscription_updated`."""
        return EventOutcome._from_json(
            await self._n.subscription_updated_async(str(provision_id), subscription_id, tier, list(new_domains))
        )

    async def subscription_deleted(self, provision_id: str, *, subscription_id: str | None = None) -> EventOutcome:
        """See :meth:`Engine.subscription_deleted`."""
        return EventOutcome._from_json(await self._n.subscription_deleted_async(str(provision_id), subscription_id))

    async def invoice_payment_failed(
        self, provision_id: str, *, invoice_id: str, subscription_id: str | None = None
    ) -> EventOutcome:
        """See :meth:`Engine.invoice_payment_failed`."""
        return EventOutcome._from_json(
            await self._n.invoice_payment_failed_async(str(provision_id), _invoice(invoice_id, subscription_id))
        )

    async def tiers(self, *, include_inactive: bool = False) -> list[Tier]:
        """See :meth:`Engine.tiers`."""
        return [Tier._from_dict(t) for t in json.loads(await self._n.tiers_async(include_inactive))]

    async def create_tier(
        self,
        *,
        name: str,
        slug: str,
        domain_count: int,
        setup_fee_cents: int,
        monthly_fee_cents: int,
        mailboxes_per_domain: int = 2,
        is_active: bool = True,
        sort_order: int | None = None,
    ) -> Tier:
        """See :meth:`Engine.create_tier`."""
        spec = _tier_spec(
            name=name,
            slug=slug,
            domain_count=domain_count,
            setup_fee_cents=setup_fee_cents,
            monthly_fee_cents=monthly_fee_cents,
            mailboxes_per_domain=mailboxes_per_domain,
            is_active=is_active,
            sort_order=sort_order,
        )
        return Tier._from_dict(json.loads(await self._n.create_tier_async(spec)))

    async def deactivate_tier(self, tier_id: str) -> Tier:
        """See :meth:`Engine.deactivate_tier`."""
        return Tier._from_dict(json.loads(await self._n.deactivate_tier_async(str(tier_id))))

    async def check_availability(self, names: list[str]) -> list[DomainCheck]:
        """See :meth:`Engine.check_availability`."""
        return [DomainCheck._from_dict(d) for d in json.loads(await self._n.check_availability_async(list(names)))]

    async def quote(self, tier: str, domains: list[str]) -> Quote:
        """See :meth:`Engine.quote`."""
        return Quote(**json.loads(await self._n.quote_async(tier, list(domains))))

    @property
    def zapmail(self) -> AsyncZapmailClient:
        """The engine's Zapmail client."""
        return AsyncZapmailClient(_native_client=self._n.zapmail())

    @property
    def plusvibe(self) -> AsyncPlusVibeClient:
        """The engine's PlusVibe client."""
        return AsyncPlusVibeClient(_native_client=self._n.plusvibe())

    @property
    def heyreach(self) -> AsyncHeyReachClient:
        """The engine's HeyReach client."""
        return AsyncHeyReachClient(_native_client=self._n.heyreach())
