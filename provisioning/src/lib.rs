//! The provisioning engine: sets up a customer's cold-email and LinkedIn outreach
//! infrastructure across Zapmail, PlusVibe and HeyReach as one durable, resumable,
//! observable pipeline.
//!
//! - [`model`]: the seed's data model plus the engine's ledger and runs;
//! - [`store`]: storage behind one trait (in-memory, SQLite), with a contract-test suite;
//! - [`progress`]: progress events and sinks;
//! - [`secret`]: encryption at rest for stored credentials.

pub mod model;
pub mod progress;
pub mod secret;
pub mod store;

pub use model::*;
pub use progress::{BroadcastSink, FnSink, ProgressEvent, ProgressSink, Sinks, TracingSink};
pub use secret::{Sealed, SecretKey};
pub use store::{MemoryStore, Store, StoreError, StoreResult};
