//! How one simulator hands mailboxes to another: Zapmail's "export to sequencer" makes the
//! accounts appear in the PlusVibe simulator, as the real export does.

use std::time::Duration;

/// A mailbox as an exporter hands it over (simulated credentials only).
#[derive(Clone, PartialEq, Eq)]
pub struct ExportedMailbox {
    /// Full address, e.g. `john@acme.com`.
    pub email: String,
    /// Sender first name.
    pub first_name: String,
    /// Sender last name.
    pub last_name: String,
    /// Mailbox provider, e.g. `"GOOGLE"` or `"MICROSOFT"`.
    pub provider: String,
    /// SMTP/IMAP password (simulated).
    pub password: String,
}

impl std::fmt::Debug for ExportedMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportedMailbox")
            .field("email", &self.email)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// A simulator that can receive exported mailboxes (implemented by the PlusVibe simulator).
pub trait MailboxImporter: Send + Sync + 'static {
    /// Whether `email`/`password` is a login of this vendor (a client login or an account
    /// owner), as the exporter checks when the login is registered.
    fn verify_login(&self, email: &str, password: &str) -> bool;

    /// Import `mailboxes` into the workspace that the login belongs to; they become visible
    /// after `delay`. Returns how many were accepted, or the reason the import failed.
    fn import_mailboxes(
        &self,
        login_email: &str,
        login_password: &str,
        mailboxes: Vec<ExportedMailbox>,
        delay: Duration,
    ) -> Result<usize, String>;
}
