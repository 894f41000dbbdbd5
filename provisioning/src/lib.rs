//! The provisioning engine: sets up a customer's cold-email and LinkedIn outreach
//! infrastructure across Zapmail, PlusVibe and HeyReach as one durable, resumable,
//! observable pipeline.
//!
//! - [`engine`]: the pipeline and its public API;
//! - [`model`]: the seed's data model plus the engine's ledger and runs;
//! - [`store`]: storage behind one trait (in-memory, SQLite), with a contract-test suite;
//! - [`progress`]: progress events and sinks (webhooks included);
//! - [`dashboard`]: the customer's dashboard in one call;
//! - [`summary`]: the "your infrastructure is ready" message as data;
//! - [`secret`]: encryption at rest for stored credentials.

pub mod dashboard;
pub mod engine;
pub mod model;
pub mod progress;
pub mod secret;
#[cfg(feature = "mock")]
pub mod sim;
pub mod store;
pub mod summary;
pub mod wizard;

pub use dashboard::Dashboard;
pub use engine::{
    CheckoutCompleted, Clients, Engine, EngineBuilder, EngineConfig, EngineError, EventOutcome,
    InvoicePaymentFailed, NewProvision, STEP_NAMES, Snapshot, Teardown,
};
pub use model::*;
pub use progress::{
    BroadcastSink, FnSink, ProgressEvent, ProgressSink, Sinks, TracingSink, WebhookConfig,
    WebhookSink,
};
pub use secret::{Sealed, SecretKey};
pub use store::{MemoryStore, Store, StoreError, StoreResult};
pub use summary::Summary;
