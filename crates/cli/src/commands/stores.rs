//! Turning `--records` and `--sessions` strings into store configurations.

use anyhow::bail;
use hotline_store::records::postgres::PostgresConfig;
use hotline_store::records::sqlite::{SqliteConfig, Synchronous};
use hotline_store::session::redis::RedisConfig;
use hotline_store::{RecordStoreConfig, SessionStoreConfig};

/// `sqlite:PATH[?synchronous=full|normal]`, `PATH.db`/`PATH.sqlite`, or
/// `postgres://…`/`postgresql://…`.
pub(crate) fn records(spec: &str) -> anyhow::Result<RecordStoreConfig> {
    let config = if let Some(rest) = spec.strip_prefix("sqlite:") {
        let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
        let mut config = SqliteConfig::new(path);
        for (k, v) in url::form_urlencoded::parse(options.as_bytes()) {
            match (k.as_ref(), v.as_ref()) {
                ("synchronous", "full") => config.synchronous = Synchronous::Full,
                ("synchronous", "normal") => config.synchronous = Synchronous::Normal,
                _ => bail!(
                    "--records `{spec}`: unknown option `{k}={v}` (use synchronous=full or synchronous=normal)"
                ),
            }
        }
        RecordStoreConfig::Sqlite(config)
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

/// [`records`] for the commands that read or clean existing records (`calls`, `report`,
/// `purge`): a SQLite file that does not exist is an error, not a new empty database (a typo in
/// the path would otherwise look like no calls at all).
pub(crate) fn existing_records(spec: &str) -> anyhow::Result<RecordStoreConfig> {
    let config = records(spec)?;
    if let RecordStoreConfig::Sqlite(c) = &config
        && !c.path.exists()
    {
        bail!(
            "no call records at {}: `hotline serve` creates them (give --records as the server \
             was given it, or set HOTLINE_RECORDS)",
            c.path.display()
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_specs() {
        let c = records("sqlite:/tmp/x.db?synchronous=normal").unwrap();
        assert!(matches!(c, RecordStoreConfig::Sqlite(s) if s.synchronous == Synchronous::Normal));
        assert!(
            matches!(records("calls.db").unwrap(), RecordStoreConfig::Sqlite(s) if s.synchronous == Synchronous::Full)
        );
        assert!(matches!(
            records("postgres://postgres@127.0.0.1/test").unwrap(),
            RecordStoreConfig::Postgres(_)
        ));
        assert!(records("sqlite:/tmp/x.db?fast=yes").is_err());
        assert!(records("mysql://x").is_err());
        assert!(sessions("memory").is_ok());
        assert!(sessions("redis://127.0.0.1:6379").is_ok());
        assert!(sessions("memcached").is_err());
    }
}
