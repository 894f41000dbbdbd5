"""Direct access to the three vendor clients for their common operations.

``ZapmailClient``/``PlusVibeClient``/``HeyReachClient`` are sync (the GIL is released
while waiting; Ctrl-C interrupts); the ``Async…`` classes have the same methods as
coroutines. Both kinds share the client's rate limiter and retry policy.
"""

from __future__ import annotations

import json
from typing import Any

from . import _native
from ._config import VendorConfig
from ._models import (
    DomainAvailability,
    EmailAccount,
    LeadList,
    Purchase,
    Workspace,
    ZapmailDomain,
    ZapmailMailbox,
)


def _list(cls: Any, text: str) -> list[Any]:
    return [cls(**d) for d in json.loads(text)]


class _Base:
    _native_cls: Any

    def __init__(self, config: VendorConfig | None = None, *, _native_client: Any = None) -> None:
        if _native_client is not None:
            self._n = _native_client
        elif config is not None:
            self._n = self._native_cls(config._json())
        else:
            raise TypeError("a VendorConfig is required")

    @property
    def base_url(self) -> str:
        """The base URL in use."""
        return str(self._n.base_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class ZapmailClient(_Base):
    """Zapmail: wallet, workspaces, availability, purchases, domains, mailboxes."""

    _native_cls = _native.ZapmailClient

    def wallet_balance(self) -> str | None:
        """The wallet balance in USD (exact text)."""
        return json.loads(self._n.wallet_balance())["balance"]  # type: ignore[no-any-return]

    def list_workspaces(self) -> list[Workspace]:
        """Every workspace of the account."""
        return _list(Workspace, self._n.list_workspaces())

    def create_workspace(self, name: str) -> Workspace:
        """Create a workspace (never retried blindly: look it up after a lost answer)."""
        return Workspace(**json.loads(self._n.create_workspace(name)))

    def check_availability(self, names: list[str]) -> list[DomainAvailability]:
        """Zapmail's raw availability rows (one request; at most 20 names)."""
        return _list(DomainAvailability, self._n.check_availability(list(names)))

    def buy_domains(self, names: list[str], *, workspace_id: str | None = None) -> Purchase:
        """Buy ``names`` for one year from the wallet. Raises ``InsufficientFundsError``
        (with ``invoice_link``) when the wallet is short: nothing is bought then."""
        return Purchase(**json.loads(self._n.buy_domains(list(names), workspace_id)))

    def list_domains(self, *, workspace_id: str | None = None, contains: str | None = None) -> list[ZapmailDomain]:
        """Domains of a workspace (default: the primary one)."""
        return _list(ZapmailDomain, self._n.list_domains(workspace_id, contains))

    def create_mailboxes(
        self,
        domain_id: str,
        domain_name: str,
        mailboxes: list[tuple[str, str, str]],
        *,
        workspace_id: str | None = None,
    ) -> None:
        """Create mailboxes ``(username, first_name, last_name)`` on a domain."""
        self._n.create_mailboxes(domain_id, domain_name, list(mailboxes), workspace_id)

    def list_mailboxes(self, *, workspace_id: str | None = None, contains: str | None = None) -> list[ZapmailMailbox]:
        """Mailboxes of a workspace (without their credentials)."""
        return _list(ZapmailMailbox, self._n.list_mailboxes(workspace_id, contains))


class AsyncZapmailClient(_Base):
    """:class:`ZapmailClient` for asyncio."""

    _native_cls = _native.ZapmailClient

    async def wallet_balance(self) -> str | None:
        """The wallet balance in USD (exact text)."""
        return json.loads(await self._n.wallet_balance_async())["balance"]  # type: ignore[no-any-return]

    async def list_workspaces(self) -> list[Workspace]:
        """Every workspace of the account."""
        return _list(Workspace, await self._n.list_workspaces_async())

    async def create_workspace(self, name: str) -> Workspace:
        """Create a workspace."""
        return Workspace(**json.loads(await self._n.create_workspace_async(name)))

    async def check_availability(self, names: list[str]) -> list[DomainAvailability]:
        """Zapmail's raw availability rows."""
        return _list(DomainAvailability, await self._n.check_availability_async(list(names)))

    async def buy_domains(self, names: list[str], *, workspace_id: str | None = None) -> Purchase:
        """Buy ``names`` from the wallet (``InsufficientFundsError`` when it is short)."""
        return Purchase(**json.loads(await self._n.buy_domains_async(list(names), workspace_id)))

    async def list_domains(
        self, *, workspace_id: str | None = None, contains: str | None = None
    ) -> list[ZapmailDomain]:
        """Domains of a workspace."""
        return _list(ZapmailDomain, await self._n.list_domains_async(workspace_id, contains))

    async def create_mailboxes(
        self,
        domain_id: str,
        domain_name: str,
        mailboxes: list[tuple[str, str, str]],
        *,
        workspace_id: str | None = None,
    ) -> None:
        """Create mailboxes ``(username, first_name, last_name)`` on a domain."""
        await self._n.create_mailboxes_async(domain_id, domain_name, list(mailboxes), workspace_id)

    async def list_mailboxes(
        self, *, workspace_id: str | None = None, contains: str | None = None
    ) -> list[ZapmailMailbox]:
        """Mailboxes of a workspace (without their credentials)."""
        return _list(ZapmailMailbox, await self._n.list_mailboxes_async(workspace_id, contains))


class PlusVibeClient(_Base):
    """PlusVibe: workspaces and email accounts."""

    _native_cls = _native.PlusVibeClient

    def list_workspaces(self) -> list[Workspace]:
        """Every workspace the key reaches."""
        return _list(Workspace, self._n.list_workspaces())

    def create_workspace(self, auth_workspace_id: str, name: str) -> Workspace:
        """Create a workspace (``auth_workspace_id``: any workspace the key reaches)."""
        return Workspace(**json.loads(self._n.create_workspace(auth_workspace_id, name)))

    def list_accounts(self, workspace_id: str) -> list[EmailAccount]:
        """Email accounts of a workspace."""
        return _list(EmailAccount, self._n.list_accounts(workspace_id))


class AsyncPlusVibeClient(_Base):
    """:class:`PlusVibeClient` for asyncio."""

    _native_cls = _native.PlusVibeClient

    async def list_workspaces(self) -> list[Workspace]:
        """Every workspace the key reaches."""
        return _list(Workspace, await self._n.list_workspaces_async())

    async def create_workspace(self, auth_workspace_id: str, name: str) -> Workspace:
        """Create a workspace."""
        return Workspace(**json.loads(await self._n.create_workspace_async(auth_workspace_id, name)))

    async def list_accounts(self, workspace_id: str) -> list[EmailAccount]:
        """Email accounts of a workspace."""
        return _list(EmailAccount, await self._n.list_accounts_async(workspace_id))


class HeyReachClient(_Base):
    """HeyReach: key check and lead lists."""

    _native_cls = _native.HeyReachClient

    def check_api_key(self) -> bool:
        """Whether the key is valid."""
        return bool(self._n.check_api_key())

    def list_lists(self) -> list[LeadList]:
        """Every lead list."""
        return _list(LeadList, self._n.list_lists())

    def create_list(self, name: str) -> LeadList:
        """Create a (people) lead list."""
        return LeadList(**json.loads(self._n.create_list(name)))

    def lead_count(self, list_id: int) -> int:
        """Leads in a list."""
        return int(self._n.lead_count(list_id))


class AsyncHeyReachClient(_Base):
    """:class:`HeyReachClient` for asyncio."""

    _native_cls = _native.HeyReachClient

    async def check_api_key(self) -> bool:
        """Whether the key is valid."""
        return bool(await self._n.check_api_key_async())

    async def list_lists(self) -> list[LeadList]:
        """Every lead list."""
        return _list(LeadList, await self._n.list_lists_async())

    async def create_list(self, name: str) -> LeadList:
        """Create a (people) lead list."""
        return LeadList(**json.loads(await self._n.create_list_async(name)))

    async def lead_count(self, list_id: int) -> int:
        """Leads in a list."""
        return int(await self._n.lead_count_async(list_id))
