//! The one error type of the store crate, written for the operator who has to fix it: every
//! variant's message says what failed and, where there is one, the remedy.
//!
//! Messages never contain passwords (URLs are reduced to host, port and database) nor phone
//! numbers.

use std::error::Error as StdError;

/// A boxed underlying cause (driver error, IO error).
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// Everything a session or record store can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A configuration value is unusable. Remedy: the message names the field and the fix.
    #[error("invalid {field}: {problem} — {remedy}")]
    Config {
        /// Dotted config path, e.g. `records.pool_size`.
        field: &'static str,
        /// What is wrong.
        problem: String,
        /// What to do about it.
        remedy: String,
    },
    /// The SQLite database could not be opened, created or written at start-up. Remedy: point
    /// `records.path` at a writable file (the directory must exist and be writable too, for the
    /// WAL and shared-memory files).
    #[error("cannot open call records at {path}: {cause} — set records.path to a writable file")]
    Open {
        /// The configured path.
        path: String,
        /// The underlying error.
        #[source]
        cause: Cause,
    },
    /// A database or Redis server could not be reached or refused us. Remedy: in the message
    /// (start the server, fix the URL or credentials).
    #[error("cannot connect to {what} at {target}: {cause} — {remedy}")]
    Connect {
        /// `PostgreSQL` or `Redis`.
        what: &'static str,
        /// Host, port and database, never the password.
        target: String,
        /// The underlying error.
        #[source]
        cause: Cause,
        /// What to do about it.
        remedy: &'static str,
    },
    /// The database was migrated by a newer Hotline. Remedy: upgrade this binary, or point it
    /// at another database.
    #[error(
        "the call-record database has schema version {found}, newer than this build supports \
         ({supported}) — upgrade hotline or point records at another database"
    )]
    SchemaTooNew {
        /// Version found in `schema_version`.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A migration failed. Remedy: check database permissions (the user must be able to create
    /// tables) and the cause.
    #[error("cannot migrate call records to schema version {version}: {cause}")]
    Migrate {
        /// The migration that failed.
        version: i64,
        /// The underlying error.
        #[source]
        cause: Cause,
    },
    /// A backend operation failed at run time (disk full, connection lost, …). The write was
    /// NOT acknowledged; the caller should treat the step as not recorded. Remedy: see cause.
    #[error("{backend} {op} failed: {cause}")]
    Backend {
        /// `sqlite`, `postgres`, `redis`.
        backend: &'static str,
        /// What we were doing.
        op: &'static str,
        /// The underlying error.
        #[source]
        cause: Cause,
    },
    /// The store was shut down (or its writer died) and accepts no more writes. Remedy: restart
    /// the server; the log has the writer's last error.
    #[error("the {0} store is shut down")]
    Closed(&'static str),
    /// The in-memory session store holds its maximum number of live sessions. Remedy: raise
    /// `sessions.max_entries` or shorten the session TTL.
    #[error(
        "session store is full ({max} live sessions) — raise sessions.max_entries or shorten the session ttl"
    )]
    Full {
        /// The configured bound.
        max: usize,
    },
    /// `call_ended` named a call that `call_started` never recorded. Remedy: a bug in the
    /// caller; record the start first.
    #[error("no call record for call {0}; call_started must come first")]
    UnknownCall(String),
    /// Stored data could not be decoded (corrupt value, foreign key in the Redis prefix).
    /// Remedy: use a dedicated Redis prefix / database.
    #[error("stored data under {key} is not a Hotline {what}")]
    Corrupt {
        /// The key or call SID.
        key: String,
        /// What was expected.
        what: &'static str,
    },
}

impl StoreError {
    /// Shorthand for [`StoreError::Config`].
    pub fn config(
        field: &'static str,
        problem: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Self {
        Self::Config {
            field,
            problem: problem.into(),
            remedy: remedy.into(),
        }
    }

    pub(crate) fn backend(
        backend: &'static str,
        op: &'static str,
        cause: impl Into<Cause>,
    ) -> Self {
        Self::Backend {
            backend,
            op,
            cause: cause.into(),
        }
    }
}

/// `scheme://user:password@host:port/db?x` → `host:port/db`: what an operator needs to find the
/// server, without the secret.
pub(crate) fn redact_url(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['?', '#']).next().unwrap_or(rest).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("postgres://u:secret@db:5432/calls?sslmode=disable"),
            "db:5432/calls"
        );
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "127.0.0.1:6379");
        assert_eq!(redact_url("db"), "db");
    }

    #[test]
    fn messages_carry_a_remedy() {
        let e = StoreError::Open {
            path: "/x/y.db".into(),
            cause: "permission denied".into(),
        };
        assert_eq!(
            e.to_string(),
            "cannot open call records at /x/y.db: permission denied — set records.path to a writable file"
        );
    }
}
