//! Turning `--records` and `--sessions` strings into store configurations.

use anyhow::bail;
use hotline_store::records::postgres::PostgresConfig;
use hotline_store::records::sqlite::SqliteConfig;
use hotline_store::session::redis::RedisConfig;
use hotline_store::{RecordStoreConfig, SessionStoreConfig};

/// `sqlite:PATH`, `PATH.db`/`PATH.sqlite`, or `postgres://…`/`postgresql://…`.
pub(crate) fn records(spec: &str) -> anyhow::Result<RecordStoreConfig> {
    let config = if let Some(path) = spec.strip_prefix("sqlite:") {
        RecordStoreConfig::Sqlite(SqliteConfig::new(path))
    } else if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        RecordStoreConfig::Postgres(PostgresConfig::new(spec))
    } else if spec.ends_with(".db") || spec.ends_with(".sqlite") || spec.ends_with(".sqlite3") {
        RecordStoreConfig::Sqlite(SqliteConfig::new(spec))
    } else {
        bail!("--records `{spec}`: use sqlite:PATH, a .db file, or postgres://USER@HOST/DB");
    };
    config.validate()?;
    Ok(config)
}

/// `memory` or `redis://…`.
pub(crate) fn sessions(spec: &str) -> anyhow::Result<SessionStoreConfig> {
    let config = if spec == "memory" {
        SessionStoreConfig::default()
    } else if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        SessionStoreConfig::Redis(RedisConfig::new(spec))
    } else {
        bail!("--sessions `{spec}`: use memory or redis://HOST:PORT");
    };
    config.validate()?;
    Ok(config)
}
