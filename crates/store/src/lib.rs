//! Where Hotline keeps per-call state and durable call records.
//!
//! Two concerns, each a trait with backends declared like plugins (ENGINEERING §4: one folder per
//! backend with `config.rs` and `backend.rs`, a `type` tag in config, a pure `validate()` and a
//! `build()` that does the IO, and one shared conformance suite every backend passes):
//!
//! - [`SessionStore`]: the flow runtime's per-call session, opaque bytes with a TTL and a version
//!   counter for optimistic concurrency. Backends: [`session::memory`] (default, sharded, in
//!   process) and [`session::redis`] (shared between several server instances).
//! - [`RecordStore`]: durable call records — one [`CallRecord`] per call, its [`StepRecord`]s in
//!   order, the final outcome — and the queries behind `hotline calls` and `hotline report`
//!   ([`Funnel`]). Every write returns only once it is committed. Backends:
//!   [`records::sqlite`] (default, embedded, group commit on a writer thread) and
//!   [`records::postgres`] (group commit on one connection, pooled reads).
//!
//! This crate knows nothing about flows, TwiML or Twilio; the server maps flow events onto
//! [`StepRecord`]s. It never logs phone numbers or transcripts above `debug`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hotline_store::StoreError> {
//! use hotline_store::{RecordStoreConfig, SessionStoreConfig};
//!
//! let records: RecordStoreConfig = serde_json::from_str(
//!     r#"{ "type": "sqlite", "path": "/var/lib/hotline/calls.db" }"#,
//! ).map_err(|e| hotline_store::StoreError::config("records", e.to_string(), "fix the records section"))?;
//! records.validate()?;
//! let records = records.build().await?; // Arc<dyn RecordStore>
//! let sessions = SessionStoreConfig::default().build().await?; // memory
//! # let _ = (records, sessions); Ok(()) }
//! ```

pub mod error;
pub mod records;
pub mod session;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::StoreError;
pub use records::{
    CallEnd, CallFilter, CallRecord, Funnel, NodeFunnel, OUTCOME_CALLER_HANGUP, OUTCOME_LOST,
    OutcomeCount, RecordStore, RecordStoreConfig, RouteCount, StepRecord, TurnRecord,
};
pub use session::{CasOutcome, Session, SessionStore, SessionStoreConfig};
