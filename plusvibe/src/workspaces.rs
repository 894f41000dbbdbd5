//! Workspaces: `GET /authenticate` (list) and `POST /workspaces/add/` (create), §2.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vendor_http::Request;
use vendor_http::reqwest::Method;

use crate::{Client, Result, WorkspaceId};

/// A workspace as `/authenticate` lists it (keys are `_id`, not `id`; §2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    /// The workspace id.
    #[serde(rename = "_id", alias = "id")]
    pub id: WorkspaceId,
    /// The workspace name.
    #[serde(default)]
    pub name: String,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `/authenticate` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceList {
    /// Usually `"success"`.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub status: Option<String>,
    /// Every workspace the key can reach.
    #[serde(default, deserialize_with = "crate::de::list")]
    pub workspaces: Vec<Workspace>,
    /// Every other field (RU-NOTES mentions a top-level `account`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /workspaces/add/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateWorkspace {
    /// The new workspace's name.
    pub workspace_name: String,
}

/// The create-workspace answer. Its shape is not confirmed (§2.2): the id may come as
/// `_id`, `id` or `workspace_id`, or not at all — then list with
/// [`Workspaces::find_by_name`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawCreated")]
pub struct CreatedWorkspace {
    /// Usually `"success"`.
    pub status: Option<String>,
    /// The new workspace's id, if the answer carried one.
    pub id: Option<WorkspaceId>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct RawCreated {
    #[serde(default, deserialize_with = "crate::de::text")]
    status: Option<String>,
    #[serde(default, rename = "_id", deserialize_with = "crate::de::text")]
    underscore_id: Option<String>,
    #[serde(default, deserialize_with = "crate::de::text")]
    id: Option<String>,
    #[serde(default, deserialize_with = "crate::de::text")]
    workspace_id: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<RawCreated> for CreatedWorkspace {
    fn from(r: RawCreated) -> Self {
        CreatedWorkspace {
            status: r.status,
            id: r
                .underscore_id
                .or(r.id)
                .or(r.workspace_id)
                .filter(|s| !s.is_empty())
                .map(WorkspaceId::from),
            extra: r.extra,
        }
    }
}

/// Workspace operations (`client.workspaces()`).
#[derive(Debug, Clone, Copy)]
pub struct Workspaces<'a> {
    pub(crate) client: &'a Client,
}

impl Workspaces<'_> {
    /// `GET /authenticate`: the full answer (workspaces plus anything else it carries).
    /// Doubles as the "is this key valid?" call.
    pub async fn authenticate(&self) -> Result<WorkspaceList> {
        self.client
            .core
            .send(Request::get("/authenticate").idempotent())
            .await
    }

    /// Every workspace the key can reach.
    pub async fn list(&self) -> Result<Vec<Workspace>> {
        Ok(self.authenticate().await?.workspaces)
    }

    /// The first workspace named exactly `name`, if any. PlusVibe does not document whether
    /// names are unique; with duplicates this returns the first one listed.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        Ok(self.list().await?.into_iter().find(|w| w.name == name))
    }

    /// `POST /workspaces/add/` (trailing slash as documented). `auth_workspace` is any
    /// workspace the key can reach: PlusVibe uses it only to authenticate, the new
    /// workspace is not nested under it (§2.2).
    ///
    /// Never retried once it may have reached the vendor: after a timeout, look for the
    /// name with [`find_by_name`](Self::find_by_name) before trying again.
    pub async fn create(
        &self,
        auth_workspace: &WorkspaceId,
        workspace_name: &str,
    ) -> Result<CreatedWorkspace> {
        if workspace_name.trim().is_empty() {
            return Err(crate::Error::invalid_input(
                "plusvibe",
                "workspace_name: must not be empty",
            ));
        }
        let body = CreateWorkspace {
            workspace_name: workspace_name.to_string(),
        };
        let req = Client::scoped(
            Method::POST,
            "/workspaces/add/",
            auth_workspace,
            Some(&body),
        )
        .non_idempotent();
        self.client.core.send(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_workspace_accepts_every_id_spelling() {
        for body in [
            r#"{"status":"success","_id":"65f3c92d3dbe5dbb35374a9a"}"#,
            r#"{"status":"success","id":"65f3c92d3dbe5dbb35374a9a"}"#,
            r#"{"workspace_id":"65f3c92d3dbe5dbb35374a9a","status":"success"}"#,
        ] {
            let c: CreatedWorkspace = serde_json::from_str(body).unwrap();
            assert_eq!(c.id.unwrap(), "65f3c92d3dbe5dbb35374a9a");
        }
        let none: CreatedWorkspace = serde_json::from_str(r#"{"status":"success"}"#).unwrap();
        assert_eq!(none.id, None);
    }
}
