//! The client, its workspace scoping, and the decoding helpers every resource uses.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;
use vendor_http::redact::redact_body;
use vendor_http::reqwest::header::{HeaderName, HeaderValue};
use vendor_http::{ClientBuilder, Error, HttpCore, RawResponse, Request, Result};

use crate::dns::Dns;
use crate::domains::Domains;
use crate::exports::Exports;
use crate::mailboxes::Mailboxes;
use crate::types::{Ack, Envelope, WorkspaceId, data_or_root};
use crate::workspaces::{Billing, Users, Wallet, Workspaces};
use crate::{VENDOR, WORKSPACE_HEADER, Zapmail};

/// A Zapmail API client. Cheap to clone (the HTTP core is shared); clones made with
/// [`Client::in_workspace`] share the same rate limiter, as Zapmail counts limits per key
/// across all workspaces (§5).
#[derive(Clone)]
pub struct Client {
    core: HttpCore,
    workspace: Option<WorkspaceId>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("zapmail::Client")
            .field("core", &self.core)
            .field("workspace", &self.workspace)
            .finish()
    }
}

impl From<HttpCore> for Client {
    fn from(core: HttpCore) -> Self {
        Client {
            core,
            workspace: None,
        }
    }
}

impl Client {
    /// A builder: `.api_key(..)` is required; `.base_url(..)` points it at a simulator or
    /// proxy (default [`DEFAULT_BASE_URL`](crate::DEFAULT_BASE_URL)).
    pub fn builder() -> ClientBuilder<Zapmail> {
        ClientBuilder::new()
    }

    /// A client whose every request carries `x-workspace-key: <workspace>`, so it runs in
    /// that workspace (the key owner must be its OWNER or ADMIN, else 403; unknown ids give
    /// 404) (§2). Shares this client's connection pool and rate limiter.
    pub fn in_workspace(&self, workspace: &WorkspaceId) -> Client {
        Client {
            core: self.core.clone(),
            workspace: Some(workspace.clone()),
        }
    }

    /// A client without a workspace header: calls run in the key owner's primary workspace.
    pub fn in_primary_workspace(&self) -> Client {
        Client {
            core: self.core.clone(),
            workspace: None,
        }
    }

    /// The workspace this client is scoped to, if any.
    pub fn workspace(&self) -> Option<&WorkspaceId> {
        self.workspace.as_ref()
    }

    /// The shared HTTP core (base URL, limiter, retry settings, raw requests).
    pub fn core(&self) -> &HttpCore {
        &self.core
    }

    /// Users: verify the key and read the account (`GET /v2/users`).
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }

    /// Wallet balance.
    pub fn wallet(&self) -> Wallet<'_> {
        Wallet::new(self)
    }

    /// Workspaces: list, find by name, create.
    pub fn workspaces(&self) -> Workspaces<'_> {
        Workspaces::new(self)
    }

    /// Billing details (a precondition for buying domains and creating mailboxes).
    pub fn billing(&self) -> Billing<'_> {
        Billing::new(self)
    }

    /// Domains: availability, purchase, lists, connection requests, DMARC.
    pub fn domains(&self) -> Domains<'_> {
        Domains::new(self)
    }

    /// Mailboxes: create, update, list, get, scheduled removal.
    pub fn mailboxes(&self) -> Mailboxes<'_> {
        Mailboxes::new(self)
    }

    /// Third-party (sequencer) accounts and mailbox exports.
    pub fn exports(&self) -> Exports<'_> {
        Exports::new(self)
    }

    /// DNS records of a domain.
    pub fn dns(&self) -> Dns<'_> {
        Dns::new(self)
    }
}

/// What every resource handle holds: the client and an optional per-call workspace.
#[derive(Debug, Clone)]
pub(crate) struct Scope<'a> {
    pub client: &'a Client,
    pub workspace: Option<WorkspaceId>,
}

impl<'a> Scope<'a> {
    pub fn new(client: &'a Client) -> Self {
        Scope {
            client,
            workspace: client.workspace.clone(),
        }
    }

    fn prepare(&self, req: Request) -> Result<Request> {
        match &self.workspace {
            None => Ok(req),
            Some(ws) => {
                let value = HeaderValue::from_str(ws.as_str()).map_err(|_| {
                    Error::invalid_input(
                        VENDOR,
                        format!("workspace id {:?} is not a valid header value", ws.as_str()),
                    )
                })?;
                Ok(req.header(HeaderName::from_static(WORKSPACE_HEADER), value))
            }
        }
    }

    /// Send and unwrap the `{status, message, data}` envelope.
    pub async fn data<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let req = self.prepare(req)?;
        self.client
            .core
            .send::<Envelope<T>>(req)
            .await
            .map(|e| e.data)
    }

    /// Send and decode `data` when the body is an envelope, else the body itself (for
    /// endpoints whose envelope is not confirmed).
    pub async fn data_or_root<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let req = self.prepare(req)?;
        self.client
            .core
            .send_with(req, |core, op, raw| {
                let body: Value = core.decode(op, raw)?;
                decode_value(op, raw, data_or_root(body))
            })
            .await
    }

    /// Send and decode a bare (non-envelope) body.
    pub async fn bare<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let req = self.prepare(req)?;
        self.client.core.send::<T>(req).await
    }

    /// Send a mutation whose `data` is undocumented.
    pub async fn ack(&self, req: Request) -> Result<Ack> {
        self.bare::<Ack>(req).await
    }
}

/// Decode `value` as `T` with the JSON path on failure.
pub(crate) fn decode_value<T: DeserializeOwned>(
    op: &str,
    raw: &RawResponse,
    value: Value,
) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
        vendor: VENDOR,
        operation: op.to_string(),
        status: raw.status.as_u16(),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
        body: redact_body(&raw.body),
    })
}

/// Defines a resource handle type around [`Scope`].
macro_rules! resource {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// Calls run in the client's workspace; [`in_workspace`](Self::in_workspace) overrides
        /// it for this handle only (a per-call `x-workspace-key`).
        #[derive(Debug, Clone)]
        pub struct $name<'a> {
            pub(crate) scope: $crate::client::Scope<'a>,
        }

        impl<'a> $name<'a> {
            pub(crate) fn new(client: &'a $crate::Client) -> Self {
                $name {
                    scope: $crate::client::Scope::new(client),
                }
            }

            /// Run this handle's calls in `workspace` (sends `x-workspace-key`).
            pub fn in_workspace(mut self, workspace: &$crate::WorkspaceId) -> Self {
                self.scope.workspace = Some(workspace.clone());
                self
            }

            /// Run this handle's calls in the key owner's primary workspace (no header).
            pub fn in_primary_workspace(mut self) -> Self {
                self.scope.workspace = None;
                self
            }
        }
    };
}

pub(crate) use resource;
