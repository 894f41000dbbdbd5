"""Settings objects: vendor clients and the engine."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Union

RateLimits = Union[Literal["default", "unlimited"], float]
"""The vendor's documented limits, none, or the documented counts times a factor."""


@dataclass(frozen=True)
class VendorConfig:
    """How to reach one vendor.

    ``api_key`` is never shown by ``repr``. ``base_url`` defaults to the vendor's
    production URL; point it at a simulator (``Simulators.vendors()``) to try things.
    ``timeout`` and ``max_retry_after`` are seconds; ``max_attempts`` counts the first
    try (1 disables retries); ``rate_limits`` is ``"default"`` (the vendor's documented
    limits, enforced before each request), ``"unlimited"`` or a factor applied to the
    documented counts (a plan with higher limits). ``fast_retries`` shortens retry delays
    (simulators, tests).
    """

    api_key: str = field(repr=False)
    base_url: str | None = None
    timeout: float | None = None
    max_attempts: int | None = None
    max_retry_after: float | None = None
    rate_limits: RateLimits = "default"
    fast_retries: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.api_key, str):
            raise TypeError("api_key must be a str")

    def __repr__(self) -> str:
        return (
            f"VendorConfig(api_key='***', base_url={self.base_url!r}, timeout={self.timeout!r}, "
            f"max_attempts={self.max_attempts!r}, rate_limits={self.rate_limits!r})"
        )

    def _spec(self) -> dict[str, Any]:
        return asdict(self)

    def _json(self) -> str:
        return json.dumps(self._spec())


@dataclass(frozen=True)
class Vendors:
    """The three vendors' settings."""

    zapmail: VendorConfig
    plusvibe: VendorConfig
    heyreach: VendorConfig


@dataclass(frozen=True)
class EngineSettings:
    """Engine settings; every field is optional (durations in seconds).

    - ``fast``: short retry and poll schedules (simulators, tests, demos);
    - ``worker_id``, ``concurrency``, ``lease``, ``idle_poll``: the worker loop;
    - ``plusvibe_agency_workspace_id``, ``operator_email``, ``partner_provider_id``,
      ``partner_upload_fallback``: PlusVibe;
    - ``zapmail_billing``: billing details added to each customer's Zapmail workspace
      (Zapmail's camelCase keys, e.g. ``firstName``, ``addressLineOne``, ``city``,
      ``country``);
    - ``domain_years``, ``lost_answer_grace``, ``availability_cache_ttl``.
    """

    fast: bool = False
    worker_id: str | None = None
    concurrency: int | None = None
    lease: float | None = None
    idle_poll: float | None = None
    plusvibe_agency_workspace_id: str | None = None
    operator_email: str | None = None
    partner_provider_id: str | None = None
    partner_upload_fallback: bool | None = None
    domain_years: int | None = None
    lost_answer_grace: float | None = None
    zapmail_billing: dict[str, Any] | None = None
    availability_cache_ttl: float | None = None

    def _spec(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}
