"""The exceptions of :mod:`gtm_infra`, mapped from the Rust SDK's error kinds.

Every exception derives from :class:`GtmError`. Vendor failures carry the vendor's HTTP
status and message; local checks raise the same classes with ``status=None``::

    GtmError
    ├── ApiError                    a vendor answered with an error (status, vendor_message)
    │   ├── AuthError               bad or missing API key (401/403)
    │   ├── NotFoundError           unknown id at the vendor (404), or unknown provision/tier
    │   ├── ValidationError         input refused (by the vendor: 400/409/422; or locally)
    │   ├── InsufficientFundsError  the Zapmail wallet does not cover the purchase
    │   └── RateLimitError          429 beyond the retry budget or the Retry-After cap
    ├── TransportError              no answer (connection refused, timeout, dropped)
    ├── StorageError                the database failed
    ├── ConfigurationError          invalid settings (base URL, secret key, ...)
    ├── InvalidStateError           the action does not apply to the provision's status
    ├── ProgressCallbackError       a progress callback raised (the cause is chained)
    └── ForkError                   used in a process forked after the runtime started

This module does not import the native extension.
"""

from __future__ import annotations

__all__ = [
    "GtmError",
    "ApiError",
    "AuthError",
    "NotFoundError",
    "ValidationError",
    "InsufficientFundsError",
    "RateLimitError",
    "TransportError",
    "StorageError",
    "ConfigurationError",
    "InvalidStateError",
    "ProgressCallbackError",
    "ForkError",
]


class GtmError(Exception):
    """Base class of every error raised by :mod:`gtm_infra`.

    Attributes (``None``/``False`` when they do not apply):

    - ``vendor``: ``"zapmail"``, ``"plusvibe"`` or ``"heyreach"``;
    - ``status``: the vendor's HTTP status (or the status inside a 200 envelope);
    - ``code``: the vendor's error code, if it sent one;
    - ``vendor_message``: the vendor's own words;
    - ``request_id``: the vendor's request id, for support tickets;
    - ``operation``: e.g. ``"POST /v2/domains/buy"``;
    - ``retry_after``: seconds the vendor asked to wait;
    - ``retryable``: whether trying again later may succeed;
    - ``may_have_taken_effect``: whether the vendor may have applied the request although
      it failed (look before re-sending anything that spends money).

    ``str(error)`` is one line; it never contains an API key or a password.
    """

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        status: int | None = None,
        code: str | None = None,
        vendor_message: str | None = None,
        request_id: str | None = None,
        operation: str | None = None,
        retry_after: float | None = None,
        retryable: bool = False,
        may_have_taken_effect: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vendor = vendor
        self.status = status
        self.code = code
        self.vendor_message = vendor_message
        self.request_id = request_id
        self.operation = operation
        self.retry_after = retry_after
        self.retryable = retryable
        self.may_have_taken_effect = may_have_taken_effect

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}"
            for k, v in (("vendor", self.vendor), ("status", self.status))
            if v is not None
        )
        return f"{type(self).__name__}({self.message!r}{extra})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[GtmError], message: str, state: dict[str, object]) -> GtmError:
    e = cls.__new__(cls)
    Exception.__init__(e, message)
    e.__dict__.update(state)
    return e


class ApiError(GtmError):
    """A vendor answered with an error: see ``status`` and ``vendor_message``."""


class AuthError(ApiError):
    """The vendor refused the API key (401/403)."""


class NotFoundError(ApiError):
    """No such thing: a vendor 404, or an unknown provision or tier (``status`` is None)."""


class ValidationError(ApiError):
    """Input refused, by the vendor (400/409/422) or locally before any request."""


class InsufficientFundsError(ApiError):
    """The Zapmail wallet does not cover the purchase; nothing was bought.

    ``invoice_link`` is the invoice Zapmail issued for the shortfall, when it sent one.
    """

    def __init__(self, message: str, *, invoice_link: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.invoice_link = invoice_link


class RateLimitError(ApiError):
    """Rate limited beyond the retry budget, or asked to wait longer than the cap."""


class TransportError(GtmError):
    """The request got no answer (connection refused, timeout, connection dropped)."""


class StorageError(GtmError):
    """The database (SQLite or PostgreSQL) failed."""


class ConfigurationError(GtmError):
    """Invalid settings: a base URL, a timeout, the secret key, the engine's parts."""


class InvalidStateError(GtmError):
    """The action does not apply to the provision in its current status; nothing changed."""


class ProgressCallbackError(GtmError):
    """A progress callback raised. The original exception is ``__cause__``.

    The wait stopped at once; the provision's stored state is consistent (the engine
    treats the interruption like a crash), and ``run()`` resumes it.
    """


class ForkError(GtmError, RuntimeError):
    """gtm_infra was used in a process forked after its runtime started.

    Its worker threads do not survive ``fork``: create gtm_infra objects in the child, or
    use multiprocessing's ``spawn`` or ``forkserver`` start method.
    """
