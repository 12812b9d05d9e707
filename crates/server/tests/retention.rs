//! `ServerConfig::retention`: a serving server purges the calls older than it at start-up (and
//! then every hour), and keeps the rest; a retention under a day is refused at build time.
#![allow(clippy::unwrap_used)]

mod support;

use hotline_server::{Server, ServerConfig, ServerError};
use hotline_store::records::sqlite::SqliteConfig;
use hotline_store::{CallRecord, RecordStoreConfig};
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

fn config(dir: &std::path::Path, retention: Duration) -> ServerConfig {
    let mut config = ServerConfig::new(
        vec!["../../examples/flows/sales-menu.yaml".into()],
        "http://unused",
    );
    config.auth_token = Some("retention-token".to_owned());
    config.records = RecordStoreConfig::Sqlite(SqliteConfig::new(dir.join("records.db")));
    config.reload_every = None;
    config.retention = Some(retention);
    config
}

#[tokio::test]
async fn calls_past_the_retention_are_purged_when_the_server_starts() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteConfig::new(dir.path().join("records.db"))
        .build()
        .await
        .unwrap();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let old = "CA00000000000000000000000000000040";
    let recent = "CA00000000000000000000000000000002";
    for (sid, days) in [(old, 40), (recent, 2)] {
        let call = CallRecord::started(
            sid,
            "sales-menu",
            "v1",
            "+1555",
            "+1666",
            now - days * DAY_MS,
        );
        hotline_store::RecordStore::call_started(&store, call)
            .await
            .unwrap();
    }
    store.close().await;

    let running = support::serve(config(dir.path(), Duration::from_secs(30 * 86_400))).await;
    let records = RecordStoreConfig::Sqlite(SqliteConfig::new(dir.path().join("records.db")))
        .build()
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while records.get_call(old).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the 40-day-old call is still there"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(records.get_call(recent).await.unwrap().is_some());
    running.stop().await;
}

#[tokio::test]
async fn a_retention_under_a_day_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let refused = Server::build(&config(dir.path(), Duration::from_secs(3600))).await;
    match refused {
        Err(ServerError::Config(e)) => assert!(e.contains("at least a day"), "{e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a one-hour retention was accepted"),
    }
}
