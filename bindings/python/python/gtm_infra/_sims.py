"""The vendor simulators, from Python."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Literal

from . import _native
from ._config import EngineSettings, RateLimits, VendorConfig, Vendors
from ._models import JournalEntry, SimulatorEndpoint
from .errors import NotFoundError

Vendor = Literal["zapmail", "plusvibe", "heyreach"]


class Simulators:
    """The Zapmail, PlusVibe and HeyReach simulators on local ports, linked (Zapmail's
    export lands in PlusVibe), with realistic state, rate limits, fault injection and a
    request journal. No account, no key, no money.

    Use as a context manager, sync or async::

        with gtm_infra.Simulators() as sims: ...
        async with gtm_infra.Simulators() as sims: ...

    ``latency`` (seconds) is added to every answer; ``rate_limits`` is ``"default"`` (the
    vendors' documented limits), ``"unlimited"`` or a factor; ``wallet_balance`` is the
    Zapmail wallet in USD (default ``"500"``); ``taken_domains`` are registered elsewhere.
    """

    def __init__(
        self,
        *,
        latency: float | None = None,
        rate_limits: RateLimits = "default",
        wallet_balance: str | None = None,
        taken_domains: list[str] | None = None,
    ) -> None:
        self._rate_limits: RateLimits = rate_limits
        self._spec = json.dumps(
            {
                "latency": latency,
                "rate_limits": rate_limits,
                "wallet_balance": wallet_balance,
                "taken_domains": list(taken_domains or []),
            }
        )
        self._n: _native.Simulators | None = None
        self._info: dict[str, Any] = {}

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Simulators:
        """Start them (returns self)."""
        if self._n is None:
            self._n = _native.Simulators.start(self._spec)
            self._info = json.loads(self._n.info())
        return self

    async def start_async(self) -> Simulators:
        """Start them from asyncio (returns self)."""
        if self._n is None:
            self._n = await _native.Simulators.start_async(self._spec)
            self._info = json.loads(self._n.info())
        return self

    def stop(self) -> None:
        """Stop them (idempotent)."""
        if self._n is not None:
            self._n.stop()

    async def stop_async(self) -> None:
        """Stop them from asyncio (idempotent)."""
        if self._n is not None:
            await self._n.stop_async()

    def __enter__(self) -> Simulators:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Simulators:
        return await self.start_async()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_async()

    @property
    def running(self) -> bool:
        """Whether they are running."""
        return self._n is not None and self._n.running

    def _sim(self) -> _native.Simulators:
        if self._n is None:
            raise RuntimeError("the simulators are not started: use start() or a with block")
        return self._n

    # ---------------------------------------------------------------- endpoints

    def _endpoint(self, vendor: str) -> SimulatorEndpoint:
        self._sim()
        i = self._info[vendor]
        return SimulatorEndpoint(base_url=i["base_url"], api_key=i["api_key"])

    @property
    def zapmail(self) -> SimulatorEndpoint:
        """Zapmail's base URL and test key."""
        return self._endpoint("zapmail")

    @property
    def plusvibe(self) -> SimulatorEndpoint:
        """PlusVibe's base URL and test key."""
        return self._endpoint("plusvibe")

    @property
    def heyreach(self) -> SimulatorEndpoint:
        """HeyReach's base URL and test key."""
        return self._endpoint("heyreach")

    @property
    def plusvibe_agency_workspace_id(self) -> str:
        """The simulated agency's PlusVibe workspace."""
        self._sim()
        return str(self._info["plusvibe"]["agency_workspace_id"])

    def vendors(self, **overrides: Any) -> Vendors:
        """Vendor settings pointed at the simulators: their test keys, the rate limits
        they enforce, fast retries; ``overrides`` apply to all three (e.g.
        ``max_attempts=1``)."""

        def cfg(v: str) -> VendorConfig:
            e = self._endpoint(v)
            base: dict[str, Any] = {
                "api_key": e.api_key,
                "base_url": e.base_url,
                "fast_retries": True,
                "timeout": 5.0,
                "rate_limits": self._rate_limits,
            }
            return VendorConfig(**{**base, **overrides})

        return Vendors(zapmail=cfg("zapmail"), plusvibe=cfg("plusvibe"), heyreach=cfg("heyreach"))

    def engine_settings(self, **overrides: Any) -> EngineSettings:
        """Engine settings for the simulators: short schedules, sample billing details,
        the simulated PlusVibe partner provider."""
        self._sim()
        base: dict[str, Any] = {
            "fast": True,
            "zapmail_billing": json.loads(_native.sample_billing()),
            "partner_provider_id": self._info["plusvibe"]["provider_id"],
            "operator_email": "ops@agency.example",
        }
        base.update(overrides)
        return EngineSettings(**base)

    # ---------------------------------------------------------------- inspection

    def journal(self, vendor: Vendor) -> list[JournalEntry]:
        """Every request ``vendor``'s simulator received, in order."""
        return [JournalEntry._from_dict(e) for e in json.loads(self._sim().journal(vendor))]

    def inject_fault(self, vendor: Vendor, route: str, fault: str | dict[str, Any], times: int = 1) -> None:
        """Make the next ``times`` calls to ``route`` (e.g. ``"POST /v2/domains/buy"``, or
        ``"*"``) fail. ``fault``: ``{"status": 500}``, ``{"rate_limited": seconds}``,
        ``"timeout"``, ``"drop"``, ``"malformed"``, ``{"error_in_200": 400}`` or
        ``{"apply_then": "timeout" | "drop" | status}`` (applied, answer lost)."""
        self._sim().inject_fault(vendor, route, json.dumps(fault), times)

    def clear_faults(self, vendor: Vendor) -> None:
        """Remove ``vendor``'s scripted faults."""
        self._sim().clear_faults(vendor)

    def wallet_balance(self) -> str:
        """The Zapmail wallet balance (USD, exact text)."""
        return self._sim().wallet_balance()

    def set_wallet_balance(self, usd: str) -> None:
        """Set the Zapmail wallet balance (USD, e.g. ``"1.00"``)."""
        self._sim().set_wallet_balance(str(usd))

    def mark_taken(self, names: list[str]) -> None:
        """Mark domain names as registered elsewhere."""
        self._sim().mark_taken(list(names))

    def complete_transitions(self) -> None:
        """Finish every pending Zapmail transition (domains, mailboxes, exports) now."""
        self._sim().complete_transitions()

    def set_warmup_health(self, email: str, **figures: float | int | None) -> None:
        """Set PlusVibe's warmup figures of the account ``email`` (``overall_7d``,
        ``google_7d``, ``microsoft_7d``, ``other_7d``, ``reply_rate_7d``,
        ``email_sent_today``, ``warmup_email_sent_today``); a figure left out or ``None``
        is "no data". :class:`NotFoundError` if PlusVibe has no such account."""
        if not self._sim().set_warmup_health(email, json.dumps(figures)):
            raise NotFoundError(f"PlusVibe simulator has no account {email!r}")

    def domains_bought(self, domain: str) -> int:
        """Times ``domain`` was bought (paid and created)."""
        return self._sim().domains_bought(domain)

    def purchase_calls_for(self, domain: str) -> int:
        """Purchase calls that named ``domain``."""
        return self._sim().purchase_calls_for(domain)

    def mailboxes_created_for(self, domain: str) -> int:
        """Mailboxes created on ``domain``."""
        return self._sim().mailboxes_created_for(domain)

    def workspaces_created(self) -> int:
        """Zapmail workspaces created through the API."""
        return self._sim().workspaces_created()

    def __repr__(self) -> str:
        if self._n is None:
            return "Simulators(not started)"
        return repr(self._n)
