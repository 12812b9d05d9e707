//! Configuration of the SQLite record store (`type: sqlite`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SqliteRecordStore;
use crate::StoreError;

/// How hard SQLite works to keep a commit (`PRAGMA synchronous`, in WAL mode).
///
/// | | process crash (kill -9, panic, OOM) | OS crash or power loss |
/// |---|---|---|
/// | `full` | nothing acknowledged is lost | nothing acknowledged is lost |
/// | `normal` | nothing acknowledged is lost | the last commits (up to the last checkpoint) may be lost; the file stays consistent |
///
/// Either way a commit is atomic: a webhook's steps are all there or none are. Group commit
/// makes `full` cost one WAL `fsync` per batch, not per write; under load batches grow and the
/// `fsync` is shared by every webhook waiting, but an idle or lightly loaded server pays one
/// `fsync` per webhook (0.3–4 ms on typical cloud disks). Measured with
/// `cargo bench -p hotline-store --bench records` on a shared 2-core VM, 64 concurrent
/// webhooks of 5 steps: `full` ≈ 10–19k webhooks/s (p99 12–25 ms, set by the disk's `fsync`
/// latency), `normal` ≈ 22–40k/s (p99 2–15 ms, set by CPU contention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// Sync the WAL (`fdatasync`) on every commit, before any write of the batch is
    /// acknowledged: an acknowledged step survives a crash of the process, the OS, or the
    /// power. The default: on an emergency line, what Twilio was told must be on disk.
    #[default]
    Full,
    /// No fsync at commit (only at checkpoints, every 250 ms): a commit is in the OS page
    /// cache when acknowledged, so it survives a crash of the process, but the last commits
    /// can be lost if the machine loses power or the kernel crashes.
    Normal,
}

impl Synchronous {
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// `records: { type: sqlite, path: /var/lib/hotline/calls.db, synchronous: full }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file; created (with its `-wal` and `-shm` companions) if missing. Its
    /// directory must exist and be writable.
    pub path: PathBuf,
    /// Commit durability (default `full`).
    #[serde(default)]
    pub synchronous: Synchronous,
    /// Most writes waiting for the writer; beyond it callers wait (backpressure).
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Most writes committed in one transaction.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// Read-only connections for queries.
    #[serde(default = "default_readers")]
    pub readers: usize,
}

fn default_queue() -> usize {
    8192
}
fn default_max_batch() -> usize {
    1024
}
fn default_readers() -> usize {
    2
}

impl SqliteConfig {
    /// A config for `path` with the defaults (`synchronous: full`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::default(),
            queue: default_queue(),
            max_batch: default_max_batch(),
            readers: default_readers(),
        }
    }

    /// Checks the values without any IO.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.path.as_os_str().is_empty() {
            return Err(StoreError::config(
                "records.path",
                "is empty",
                "set it to a writable file, e.g. /var/lib/hotline/calls.db",
            ));
        }
        if self.path.to_str() == Some(":memory:") {
            return Err(StoreError::config(
                "records.path",
                "is :memory:, which is not durable and not shared between connections",
                "set it to a file",
            ));
        }
        crate::records::writer::check_queue(self.queue, self.max_batch, 1024)?;
        if !(1..=64).contains(&self.readers) {
            return Err(StoreError::config(
                "records.readers",
                format!("is {}", self.readers),
                "use 1..=64 (default 2)",
            ));
        }
        Ok(())
    }

    /// Opens (creating if needed), checks it is writable, migrates, starts the writer thread.
    pub async fn build(&self) -> Result<SqliteRecordStore, StoreError> {
        self.validate()?;
        SqliteRecordStore::open(self.clone()).await
    }
}
