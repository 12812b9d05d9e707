//! The embedded SQLite record store (the default).
//!
//! - **One writer thread** owns the write connection. Callers send their write and a oneshot
//!   acknowledgement over a bounded channel (backpressure: a full queue makes callers wait,
//!   memory never grows without bound). The writer takes whatever is queued (up to
//!   `max_batch`), writes it in **one transaction**, commits, then acknowledges every caller:
//!   per-request durability with one commit (one WAL fsync under `synchronous=full`) per batch.
//! - Each batch is cheap: step rows keyed by a small integer call id (cached by the writer)
//!   and inserted with multi-row statements; see `writer.rs`.
//! - **Checkpoints** (copying the WAL back into the database file) run on a separate thread
//!   every 250 ms, never blocking the writer; the writer checkpoints by itself only if the WAL
//!   passes 16384 pages (a backstop: the WAL stays bounded).
//! - If a batch fails as a whole, each write in it is retried alone, so one bad write cannot
//!   fail its neighbours.
//! - **Reads** run on a small pool of separate read-only connections in `spawn_blocking`; in
//!   WAL mode they never block the writer.
//! - Dropping the store closes the queue; the writer commits what was queued and exits.

mod backend;
mod config;
mod writer;

pub use backend::SqliteRecordStore;
pub use config::{SqliteConfig, Synchronous};

use crate::records::Migrations;

pub(crate) const MIGRATIONS: Migrations = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_call_ids.sql")),
    (3, include_str!("../migrations/sqlite/0003_append.sql")),
];
