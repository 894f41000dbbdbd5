"""Plain, immutable data objects returned by the API (built from the native JSON)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_FRACTION = re.compile(r"\.(\d{6})\d+")


def _dt(value: str | None) -> datetime | None:
    """RFC 3339 from Rust (nanoseconds, ``Z``) to an aware datetime."""
    if value is None:
        return None
    text = _FRACTION.sub(r".\1", value).replace("Z", "+00:00")
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Customer:
    """The customer of a provision."""

    id: str
    name: str
    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class Mailbox:
    """A mailbox the provision creates (no credentials: they never leave the vendor)."""

    username: str
    email: str
    zapmail_mailbox_id: str | None
    plusvibe_account_id: str | None


@dataclass(frozen=True)
class Domain:
    """A domain of a provision with its mailboxes."""

    id: str
    name: str
    status: str
    zapmail_domain_id: str | None
    purchase: str
    mailboxes: tuple[Mailbox, ...]


@dataclass(frozen=True)
class LogStep:
    """One entry of the seed's ``provisioning_log``."""

    step: int
    name: str
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None
    details: Any


@dataclass(frozen=True)
class Snapshot:
    """A provision as a UI shows it.

    ``status`` is ``pending_payment``, ``provisioning``, ``active``, ``failed``,
    ``cancelled`` or ``upgrading``. A failed provision is not an exception: ``error`` says
    which step failed and the vendor's words; ``retry()`` resumes it.
    """

    id: str
    status: str
    customer: Customer
    tier: str
    provisioning_log: tuple[LogStep, ...]
    domains: tuple[Domain, ...]
    zapmail_workspace_id: str | None
    plusvibe_workspace_id: str | None
    plusvibe_login_email: str | None
    heyreach_list_id: int | None
    run_kind: str | None
    run_status: str | None
    error: str | None
    flags: tuple[str, ...]

    @property
    def mailboxes(self) -> tuple[Mailbox, ...]:
        """Every mailbox of every domain."""
        return tuple(m for d in self.domains for m in d.mailboxes)

    @classmethod
    def _from_json(cls, text: str) -> Snapshot:
        d = json.loads(text)
        run = d.get("run")
        return cls(
            id=d["id"],
            status=d["status"],
            customer=Customer(**d["customer"]),
            tier=d["tier"],
            provisioning_log=tuple(
                LogStep(
                    step=e["step"],
                    name=e["name"],
                    status=e["status"],
                    started_at=_dt(e.get("startedAt")),
                    completed_at=_dt(e.get("completedAt")),
                    error=e.get("error"),
                    details=e.get("details"),
                )
                for e in d["provisioning_log"]
            ),
            domains=tuple(
                Domain(
                    id=x["id"],
                    name=x["name"],
                    status=x["status"],
                    zapmail_domain_id=x.get("zapmail_domain_id"),
                    purchase=x.get("purchase", "not_sent"),
                    mailboxes=tuple(Mailbox(**m) for m in x["mailboxes"]),
                )
                for x in d["domains"]
            ),
            zapmail_workspace_id=d.get("zapmail_workspace_id"),
            plusvibe_workspace_id=d.get("plusvibe_workspace_id"),
            plusvibe_login_email=d.get("plusvibe_login_email"),
            heyreach_list_id=d.get("heyreach_list_id"),
            run_kind=run[0] if run else None,
            run_status=run[1] if run else None,
            error=d.get("error"),
            flags=tuple(d.get("flags", ())),
        )


@dataclass(frozen=True)
class ProgressEvent:
    """One progress event of a run (never carries a secret)."""

    provision_id: str
    run_id: str | None
    at: datetime
    step: int
    name: str
    status: str
    provision_status: str
    message: str | None
    error: str | None
    details: Any

    @classmethod
    def _from_json(cls, text: str) -> ProgressEvent:
        d = json.loads(text)
        at = _dt(d["at"])
        assert at is not None
        return cls(
            provision_id=d["provision_id"],
            run_id=d.get("run_id"),
            at=at,
            step=d["step"],
            name=d["name"],
            status=d["status"],
            provision_status=d["provision_status"],
            message=d.get("message"),
            error=d.get("error"),
            details=d.get("details"),
        )


@dataclass(frozen=True)
class Tier:
    """A package customers can buy (money in integer cents)."""

    id: str
    name: str
    slug: str
    domain_count: int
    mailboxes_per_domain: int
    setup_fee_cents: int
    monthly_fee_cents: int
    stripe_setup_price_id: str | None
    stripe_monthly_price_id: str | None
    is_active: bool
    sort_order: int

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> Tier:
        return cls(**d)


@dataclass(frozen=True)
class DomainCheck:
    """Availability and price of one name.

    ``availability`` is ``available``, ``unavailable``, ``invalid`` (refused locally,
    ``reason`` says why) or ``unknown`` (Zapmail's answer did not settle it).
    """

    name: str
    availability: str
    reason: str | None
    price_cents: int | None
    renew_price_cents: int | None
    premium: bool

    @property
    def is_available(self) -> bool:
        """Whether it can be bought (available with a known price)."""
        return self.availability == "available" and self.price_cents is not None

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> DomainCheck:
        a = d["availability"]
        return cls(
            name=d["name"],
            availability=a["kind"],
            reason=a.get("reason"),
            price_cents=d.get("price_cents"),
            renew_price_cents=d.get("renew_price_cents"),
            premium=d.get("premium", False),
        )


@dataclass(frozen=True)
class Quote:
    """What the customer pays, in integer cents."""

    setup_fee_cents: int
    domain_registration_cents: int
    first_month_cents: int
    monthly_cents: int
    total_due_now_cents: int


@dataclass(frozen=True)
class PreviewRow:
    """One mailbox of the preview grid."""

    domain: str
    username: str
    email: str


@dataclass(frozen=True)
class JournalEntry:
    """One request a simulator received (secrets in bodies redacted)."""

    seq: int
    method: str
    path: str
    route: str
    query: tuple[tuple[str, str], ...]
    body: Any
    status: int
    applied: bool
    rate_limited: bool
    fault: str | None

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> JournalEntry:
        return cls(**{**d, "query": tuple(tuple(q) for q in d["query"])})


# ------------------------------------------------------------------ vendor objects


@dataclass(frozen=True)
class Workspace:
    """A vendor workspace."""

    id: str | None
    name: str


@dataclass(frozen=True)
class DomainAvailability:
    """Zapmail's raw availability row (prices in USD as text, exact)."""

    name: str
    status: str | None
    price: str | None
    renew_price: str | None
    premium: bool
    available: bool


@dataclass(frozen=True)
class Purchase:
    """A Zapmail purchase paid from the wallet (registration started)."""

    message: str
    invoice_link: str | None


@dataclass(frozen=True)
class ZapmailDomain:
    """A domain in a Zapmail workspace."""

    id: str
    name: str
    status: str | None
    workspace_id: str | None


@dataclass(frozen=True)
class ZapmailMailbox:
    """A Zapmail mailbox (its credentials are never copied out)."""

    id: str
    email: str
    username: str
    domain: str | None
    status: str | None


@dataclass(frozen=True)
class EmailAccount:
    """A PlusVibe email account."""

    id: str
    email: str
    status: str | None
    warmup_status: str | None


@dataclass(frozen=True)
class LeadList:
    """A HeyReach lead list."""

    id: int
    name: str
    size: int


@dataclass(frozen=True)
class SimulatorEndpoint:
    """Where one simulator listens and the test key it accepts (not a real secret, but
    kept out of ``repr`` all the same)."""

    base_url: str
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class WarmupHealth:
    """A mailbox's PlusVibe warmup figures. ``None`` is "no data yet" (e.g. a new
    account), which is not the same as a measured ``0``."""

    overall_7d: float | None
    google_7d: float | None
    microsoft_7d: float | None
    other_7d: float | None
    reply_rate_7d: float | None
    email_sent_today: int | None
    warmup_email_sent_today: int | None

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> WarmupHealth:
        return cls(
            overall_7d=d.get("overall_7d"),
            google_7d=d.get("google_7d"),
            microsoft_7d=d.get("microsoft_7d"),
            other_7d=d.get("other_7d"),
            reply_rate_7d=d.get("reply_rate_7d"),
            email_sent_today=d.get("email_sent_today"),
            warmup_email_sent_today=d.get("warmup_email_sent_today"),
        )


@dataclass(frozen=True)
class MailboxCard:
    """A mailbox on the dashboard. ``in_plusvibe`` is ``None`` when PlusVibe could not be
    asked; ``warmup_status`` and ``health`` are ``None`` unless PlusVibe lists it."""

    email: str
    in_plusvibe: bool | None
    warmup_status: str | None
    health: WarmupHealth | None


@dataclass(frozen=True)
class DomainCard:
    """A domain on the dashboard, with its mailboxes."""

    name: str
    status: str
    mailboxes: tuple[MailboxCard, ...]


@dataclass(frozen=True)
class HeyReachList:
    """The provision's HeyReach lead list."""

    id: int
    name: str
    lead_count: int


@dataclass(frozen=True)
class MissingPart:
    """A dashboard part that could not be loaded: ``part`` is ``plusvibe_warmup`` or
    ``heyreach_list``; ``reason`` is the vendor's words (never a secret)."""

    part: str
    reason: str


@dataclass(frozen=True)
class Dashboard:
    """A provision's infrastructure dashboard. When a vendor fails, the rest is still
    there and ``missing`` names the part that is not (``is_complete`` is then false)."""

    provision_id: str
    status: str
    tier: str
    domains: tuple[DomainCard, ...]
    plusvibe_login_email: str | None
    heyreach_list: HeyReachList | None
    missing: tuple[MissingPart, ...]

    @property
    def is_complete(self) -> bool:
        """Whether every part was loaded."""
        return not self.missing

    @property
    def mailboxes(self) -> tuple[MailboxCard, ...]:
        """Every mailbox of every domain."""
        return tuple(m for d in self.domains for m in d.mailboxes)

    @classmethod
    def _from_json(cls, text: str) -> Dashboard:
        d = json.loads(text)
        hl = d.get("heyreach_list")
        return cls(
            provision_id=d["provision_id"],
            status=d["status"],
            tier=d["tier"],
            domains=tuple(
                DomainCard(
                    name=x["name"],
                    status=x["status"],
                    mailboxes=tuple(
                        MailboxCard(
                            email=m["email"],
                            in_plusvibe=m.get("in_plusvibe"),
                            warmup_status=m.get("warmup_status"),
                            health=WarmupHealth._from_dict(m["health"]) if m.get("health") is not None else None,
                        )
                        for m in x["mailboxes"]
                    ),
                )
                for x in d["domains"]
            ),
            plusvibe_login_email=d.get("plusvibe_login_email"),
            heyreach_list=HeyReachList(id=hl["id"], name=hl["name"], lead_count=hl["lead_count"]) if hl else None,
            missing=tuple(MissingPart(part=m["part"], reason=m["reason"]) for m in d.get("missing", ())),
        )


@dataclass(frozen=True)
class EventOutcome:
    """What a billing lifecycle hook did: ``applied`` is false when the event had been
    applied already (a repeated delivery) or asked for what already holds."""

    applied: bool
    snapshot: Snapshot

    @classmethod
    def _from_json(cls, text: str) -> EventOutcome:
        d = json.loads(text)
        return cls(applied=bool(d["applied"]), snapshot=Snapshot._from_json(json.dumps(d["snapshot"])))
