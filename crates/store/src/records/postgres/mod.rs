//! The PostgreSQL record store, for larger deployments (several server instances, one database).
//!
//! Same schema version as SQLite (`migrations/postgres`; steps still keyed by the call SID,
//! with the bytewise `"C"` collation), same group commit: one writer task holds one
//! connection, drains the queue, and sends the whole batch **pipelined** inside one
//! transaction (`BEGIN`, every statement without waiting for the previous one, `COMMIT`), then
//! acknowledges every caller. The step rows of consecutive `append_all`s travel as one
//! `INSERT … SELECT FROM unnest(column arrays)` rather than one statement per row. Queries use a deadpool of `pool_size` connections.
//! With `schema` set, every connection runs with `search_path` = that schema (created if
//! missing), so one database can hold several deployments, or test runs.

mod backend;
mod config;

pub use backend::PostgresRecordStore;
pub use config::PostgresConfig;

use crate::records::Migrations;

pub(crate) const MIGRATIONS: Migrations = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../migrations/postgres/0002_c_collation.sql"),
    ),
];
