"""GTM Infrastructure SDK for Python.

Provision a customer's cold-email and LinkedIn outreach infrastructure across Zapmail,
PlusVibe and HeyReach as one durable, resumable pipeline (the Rust engine, embedded), with
the setup wizard's helpers, direct vendor clients and local vendor simulators.

Sync API: :class:`Engine`, :class:`ZapmailClient`, …; asyncio API: :class:`AsyncEngine`,
:class:`AsyncZapmailClient`, …; errors: :mod:`gtm_infra.errors`.
"""

from __future__ import annotations

from . import _native, errors
from ._clients import (
    AsyncHeyReachClient,
    AsyncPlusVibeClient,
    AsyncZapmailClient,
    HeyReachClient,
    PlusVibeClient,
    ZapmailClient,
)
from ._config import EngineSettings, RateLimits, VendorConfig, Vendors
from ._engine import AsyncEngine, Engine, ProgressCallback, StopSignal
from ._models import (
    Customer,
    Dashboard,
    Domain,
    DomainAvailability,
    DomainCard,
    DomainCheck,
    EmailAccount,
    EventOutcome,
    HeyReachList,
    JournalEntry,
    LeadList,
    LogStep,
    Mailbox,
    MailboxCard,
    MissingPart,
    PreviewRow,
    ProgressEvent,
    Purchase,
    Quote,
    SimulatorEndpoint,
    Snapshot,
    Tier,
    WarmupHealth,
    Workspace,
    ZapmailDomain,
    ZapmailMailbox,
)
from ._sims import Simulators
from .errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ForkError,
    GtmError,
    InsufficientFundsError,
    InvalidStateError,
    NotFoundError,
    ProgressCallbackError,
    RateLimitError,
    StorageError,
    TransportError,
    ValidationError,
)

__version__: str = _native.version()

STEP_NAMES: tuple[str, ...] = tuple(_native.step_names())
"""The ten steps of a provisioning run, in order (the seed's names)."""


def suggest_domains(brand: str) -> list[str]:
    """The seed's domain suggestions for ``brand``, filtered to the TLDs Zapmail sells."""
    return list(_native.suggest_domains(brand))


def validate_patterns(first: str, second: str) -> tuple[str, str]:
    """Check the two mailbox username patterns (:class:`ValidationError` names the rule)."""
    return _native.validate_patterns(first, second)


def preview(domains: list[str], patterns: list[str] | tuple[str, str]) -> list[PreviewRow]:
    """Every mailbox the provision will create: each domain × each pattern."""
    return [PreviewRow(d, u, e) for d, u, e in _native.preview(list(domains), list(patterns))]


def sender_names(customer_name: str) -> tuple[str, str]:
    """The sender's ``(first, last)`` name, as the engine derives it."""
    return _native.sender_names(customer_name)


def generate_secret_key() -> str:
    """A fresh key for stored secrets (64 hex characters). Keep it safe and stable."""
    return _native.generate_secret_key()


__all__ = [
    "ApiError",
    "AsyncEngine",
    "AsyncHeyReachClient",
    "AsyncPlusVibeClient",
    "AsyncZapmailClient",
    "AuthError",
    "ConfigurationError",
    "Customer",
    "Dashboard",
    "Domain",
    "DomainAvailability",
    "DomainCard",
    "DomainCheck",
    "EmailAccount",
    "Engine",
    "EngineSettings",
    "EventOutcome",
    "ForkError",
    "GtmError",
    "HeyReachClient",
    "HeyReachList",
    "InsufficientFundsError",
    "InvalidStateError",
    "JournalEntry",
    "LeadList",
    "LogStep",
    "Mailbox",
    "MailboxCard",
    "MissingPart",
    "NotFoundError",
    "PlusVibeClient",
    "PreviewRow",
    "ProgressCallback",
    "ProgressCallbackError",
    "ProgressEvent",
    "Purchase",
    "Quote",
    "RateLimitError",
    "RateLimits",
    "STEP_NAMES",
    "Simulators",
    "SimulatorEndpoint",
    "Snapshot",
    "StopSignal",
    "StorageError",
    "Tier",
    "TransportError",
    "ValidationError",
    "VendorConfig",
    "Vendors",
    "WarmupHealth",
    "Workspace",
    "ZapmailClient",
    "ZapmailDomain",
    "ZapmailMailbox",
    "errors",
    "generate_secret_key",
    "preview",
    "sender_names",
    "suggest_domains",
    "validate_patterns",
]
