//! The partner API ("For Email Infra Provider Partner", §6): authenticated with a PlusVibe
//! login (`pipl_username` / `pipl_password`) in the JSON body (POST) or the query (GET)
//! instead of the API key.
//!
//! **Path prefix.** The docs give only relative paths (`/webhook/partner-list-workspace`,
//! `/partner-upload-regular-accounts`, ...). They sit in the same Apidog project as the
//! standard API, so the most likely base is the standard one, `https://api.plusvibe.ai/api/v1`
//! (§1.1, inferred). A [`PartnerClient`] therefore sends to `<client base URL><prefix><path>` with
//! [`DEFAULT_PARTNER_PREFIX`] = `""`. To try another layout, change the prefix
//! ([`PartnerClient::with_path_prefix`]) or give the [`Client`] another base URL; e.g. the
//! original design's `https://api.plusvibe.ai/v1/partner-upload-regular-accounts` is base
//! `https://api.plusvibe.ai` with prefix `/v1` (share the limiter with
//! `ClientBuilder::rate_limiter`).
//!
//! The partner client rides on a standard [`Client`], so it shares the account's rate
//! budget (§1.4); the `x-api-key` header is sent too (harmless for the partner endpoints, and
//! the shared HTTP core always sends it).
//!
//! The credentials are the PlusVibe login's email and password. Whether a white-label
//! *client* login works here is unverified (§7 item 13).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vendor_http::Request;

use crate::accounts::{
    AccountListBody, EmailAccount, ListAccounts, RegularAccount, RegularAccountWire,
};
use crate::workspaces::Workspace;
use crate::{Client, Error, Result, WorkspaceId, YesNo};

/// The partner path prefix relative to the client's base URL (see the module docs).
pub const DEFAULT_PARTNER_PREFIX: &str = "";

/// The only `flow` the partner endpoints support (§2.4).
pub const FLOW_APP_USER: &str = "app_user";

/// A PlusVibe login used by the partner API. `Debug` redacts the password.
#[derive(Clone)]
pub struct PartnerCredentials {
    /// The login email (`pipl_username`).
    pub username: String,
    /// The login password (`pipl_password`).
    pub password: SecretString,
}

impl PartnerCredentials {
    /// Credentials from a login email and password.
    pub fn new(username: impl Into<String>, password: impl Into<SecretString>) -> Self {
        PartnerCredentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for PartnerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerCredentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// The partner envelope `{code, message, ...}` (`code` 1 = success; §1.6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartnerResponse {
    /// `1` on success.
    #[serde(default, deserialize_with = "crate::de::int")]
    pub code: Option<i64>,
    /// The vendor's message.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub message: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The partner list-workspaces answer. Where the list sits is not documented (§2.4): it is
/// read from `data` or `workspaces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawPartnerWorkspaces")]
pub struct PartnerWorkspaces {
    /// `1` on success.
    pub code: Option<i64>,
    /// The vendor's message.
    pub message: Option<String>,
    /// The login's workspaces.
    pub workspaces: Vec<Workspace>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct RawPartnerWorkspaces {
    #[serde(default, deserialize_with = "crate::de::int")]
    code: Option<i64>,
    #[serde(default, deserialize_with = "crate::de::text")]
    message: Option<String>,
    #[serde(default, deserialize_with = "crate::de::list")]
    data: Vec<Workspace>,
    #[serde(default, deserialize_with = "crate::de::list")]
    workspaces: Vec<Workspace>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<RawPartnerWorkspaces> for PartnerWorkspaces {
    fn from(mut r: RawPartnerWorkspaces) -> Self {
        r.data.append(&mut r.workspaces);
        PartnerWorkspaces {
            code: r.code,
            message: r.message,
            workspaces: r.data,
            extra: r.extra,
        }
    }
}

/// A partner upload of SMTP/IMAP accounts with inline warmup settings (§6.3).
#[derive(Debug, Clone)]
pub struct PartnerUpload {
    /// The workspace to add to.
    pub workspace_id: WorkspaceId,
    /// The accounts (their [`InlineWarmup`](crate::accounts::InlineWarmup) starts warmup in
    /// the same call).
    pub accounts: Vec<RegularAccount>,
    /// Where PlusVibe emails the results (field name per the original design; unconfirmed).
    pub notification_email: Option<String>,
    /// A partner provider id issued by PlusVibe. An integrator reports the upload is
    /// rejected without one (§6.3).
    pub provider_id: Option<String>,
}

#[derive(Serialize)]
struct UploadBody<'a> {
    workspace_id: &'a WorkspaceId,
    accounts: Vec<RegularAccountWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_id: Option<&'a str>,
}

/// `POST …/webhook/partner-google-oauth-url` body (§6.4; fields beyond these are not
/// documented — put them in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoogleOauthRequest {
    /// The workspace the Google account will join.
    pub workspace_id: WorkspaceId,
    /// The flow; only `app_user` is known.
    pub flow: String,
    /// Minimum minutes between sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_interval: Option<u32>,
    /// Campaign sends per day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_limit: Option<u32>,
    /// Campaign ramp-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_camp_rampup: Option<YesNo>,
    /// Other settings, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GoogleOauthRequest {
    /// A request for `workspace_id` with the `app_user` flow and no settings.
    pub fn new(workspace_id: impl Into<WorkspaceId>) -> Self {
        GoogleOauthRequest {
            workspace_id: workspace_id.into(),
            flow: FLOW_APP_USER.to_string(),
            min_interval: None,
            daily_limit: None,
            enable_camp_rampup: None,
            extra: Map::new(),
        }
    }
}

/// The Google OAuth answer. Its shape is not documented (§6.4): the URL is read from `url`,
/// `auth_url`, `oauth_url`, `redirect_url`, or `data` (a string or an object with `url`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "PartnerResponse")]
pub struct GoogleOauthUrl {
    /// `1` on success.
    pub code: Option<i64>,
    /// The vendor's message.
    pub message: Option<String>,
    /// The consent URL for the partner's browser automation.
    pub url: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl From<PartnerResponse> for GoogleOauthUrl {
    fn from(r: PartnerResponse) -> Self {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let url = ["url", "auth_url", "oauth_url", "redirect_url"]
            .iter()
            .find_map(|k| s(r.extra.get(*k)))
            .or_else(|| match r.extra.get("data") {
                Some(Value::String(u)) => Some(u.clone()),
                Some(Value::Object(o)) => ["url", "auth_url", "oauth_url"]
                    .iter()
                    .find_map(|k| s(o.get(*k))),
                _ => None,
            });
        GoogleOauthUrl {
            code: r.code,
            message: r.message,
            url,
            extra: r.extra,
        }
    }
}

#[derive(Serialize)]
struct WithCredentials<'a, T: Serialize> {
    pipl_username: &'a str,
    pipl_password: &'a str,
    #[serde(flatten)]
    inner: &'a T,
}

#[derive(Serialize)]
struct ListWorkspacesBody<'a> {
    flow: &'a str,
}

/// The partner API for one PlusVibe login (`client.partner(credentials)`).
///
/// `Debug` shows the username and prefix, never the password. Passwords sent in a GET query
/// never reach errors or logs: the shared core strips URLs from errors and traces only
/// paths.
#[derive(Clone)]
pub struct PartnerClient {
    client: Client,
    credentials: PartnerCredentials,
    prefix: String,
}

impl fmt::Debug for PartnerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerClient")
            .field("base_url", &self.client.base_url())
            .field("prefix", &self.prefix)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl PartnerClient {
    pub(crate) fn new(client: Client, credentials: PartnerCredentials) -> Self {
        PartnerClient {
            client,
            credentials,
            prefix: DEFAULT_PARTNER_PREFIX.to_string(),
        }
    }

    /// Put the partner paths under `prefix`, relative to the client's base URL (`""` by
    /// default; e.g. `"/partner"` → `<base>/partner/webhook/partner-list-workspace`).
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> Self {
        let p = prefix.into();
        let p = p.trim().trim_end_matches('/');
        self.prefix = if p.is_empty() || p.starts_with('/') {
            p.to_string()
        } else {
            format!("/{p}")
        };
        self
    }

    /// The path prefix in use.
    pub fn path_prefix(&self) -> &str {
        &self.prefix
    }

    /// The login in use.
    pub fn credentials(&self) -> &PartnerCredentials {
        &self.credentials
    }

    /// The standard client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn path(&self, p: &str) -> String {
        format!("{}{p}", self.prefix)
    }

    fn body<'a, T: Serialize>(&'a self, inner: &'a T) -> WithCredentials<'a, T> {
        WithCredentials {
            pipl_username: &self.credentials.username,
            pipl_password: self.credentials.password.expose_secret(),
            inner,
        }
    }

    /// `POST …/webhook/partner-list-workspace` with `flow: "app_user"`.
    pub async fn list_workspaces(&self) -> Result<PartnerWorkspaces> {
        let inner = ListWorkspacesBody {
            flow: FLOW_APP_USER,
        };
        let req = Request::post(self.path("/webhook/partner-list-workspace"))
            .json(&self.body(&inner))
            .idempotent();
        self.client.core.send(req).await
    }

    /// `GET …/webhook/partner-list-email-accounts` (credentials in the query). The answer's
    /// shape is not documented (§6.2); it is read like `/account/list` (`accounts`, or
    /// `data`).
    pub async fn list_email_accounts(
        &self,
        workspace: &WorkspaceId,
        params: &ListAccounts,
    ) -> Result<Vec<EmailAccount>> {
        let req = Request::get(self.path("/webhook/partner-list-email-accounts"))
            .query("pipl_username", &self.credentials.username)
            .query("pipl_password", self.credentials.password.expose_secret())
            .query("workspace_id", workspace)
            .idempotent();
        let req = params.apply(req);
        Ok(self
            .client
            .core
            .send::<AccountListBody>(req)
            .await?
            .into_accounts())
    }

    /// `POST …/partner-upload-regular-accounts` (no `/webhook`): add SMTP/IMAP accounts with
    /// inline warmup settings. Asynchronous like the standard bulk add (acceptance only);
    /// never retried once it may have reached the vendor.
    pub async fn upload_regular_accounts(&self, upload: &PartnerUpload) -> Result<PartnerResponse> {
        if upload.accounts.is_empty() {
            return Err(Error::invalid_input(
                "plusvibe",
                "accounts: at least one account is required",
            ));
        }
        for (i, a) in upload.accounts.iter().enumerate() {
            a.validate(i)?;
        }
        let inner = UploadBody {
            workspace_id: &upload.workspace_id,
            accounts: upload.accounts.iter().map(RegularAccount::wire).collect(),
            notification_email: upload.notification_email.as_deref(),
            provider_id: upload.provider_id.as_deref(),
        };
        let req = Request::post(self.path("/partner-upload-regular-accounts"))
            .json(&self.body(&inner))
            .non_idempotent();
        self.client.core.send(req).await
    }

    /// `POST …/webhook/partner-google-oauth-url`: start a Google OAuth login for a workspace
    /// (the partner drives the consent page with its own browser automation). Retrying only
    /// produces another URL, so it is treated as idempotent.
    pub async fn google_oauth_url(&self, req: &GoogleOauthRequest) -> Result<GoogleOauthUrl> {
        let r = Request::post(self.path("/webhook/partner-google-oauth-url"))
            .json(&self.body(req))
            .idempotent();
        self.client.core.send(r).await
    }
}
