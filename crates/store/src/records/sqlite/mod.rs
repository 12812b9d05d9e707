//! The embedded SQLite record store (the default).
//!
//! - **One writer thread** owns the write connection. Callers send their write and a oneshot
//!   acknowledgement over a bounded channel (backpressure: a full queue makes callers wait,
//!   memory never grows without bound). The writer takes whatever is queued (up to
//!   `max_batch`), writes it in **one transaction**, commits, then acknowledges every caller:
//!   per-request durability with one commit (one WAL fsync under `synchronous=full`) per batch.
//!   The bundled SQLite is built with `HAVE_FDATASYNC` (`.cargo/config.toml`), so that sync is
//!   an `fdatasync`, as in Linux distributions' builds of SQLite.
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

#[cfg(test)]
mod tests {
    /// The bundled SQLite syncs with `fdatasync`, not `fsync`, only if it was compiled with
    /// `HAVE_FDATASYNC`; `.cargo/config.toml` sets that for every build in this repository,
    /// and cargo passes the same variable to this crate's compilation.
    #[test]
    fn the_bundled_sqlite_is_built_with_fdatasync() {
        let flags = option_env!("LIBSQLITE3_FLAGS").unwrap_or_default();
        assert!(
            flags.split_whitespace().any(|f| f == "-DHAVE_FDATASYNC=1"),
            "LIBSQLITE3_FLAGS is {flags:?}: see .cargo/config.toml"
        );
    }
}
