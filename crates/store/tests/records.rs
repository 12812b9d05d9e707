//! The record conformance suite against every backend (SQLite in a temp file, PostgreSQL in a
//! fresh schema per test), plus what only SQLite can show: durability across a process crash.
//!
//! PostgreSQL tests need `HOTLINE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); they FAIL, never skip, when it is unreachable.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hotline_store::records::sqlite::{SqliteConfig, Synchronous};
use hotline_store::{RecordStore, RecordStoreConfig, StepRecord};

mod sqlite {
    use super::*;

    async fn fixture() -> (Arc<dyn RecordStore>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let config = RecordStoreConfig::Sqlite(SqliteConfig::new(dir.path().join("calls.db")));
        (config.build().await.unwrap(), dir)
    }

    hotline_store::record_suite!(fixture());

    mod normal {
        use super::*;

        async fn fixture() -> (Arc<dyn RecordStore>, tempfile::TempDir) {
            let dir = tempfile::tempdir().unwrap();
            let mut config = SqliteConfig::new(dir.path().join("calls.db"));
            config.synchronous = Synchronous::Normal;
            config.max_batch = 3; // many small batches
            (Arc::new(config.build().await.unwrap()), dir)
        }

        hotline_store::record_suite!(fixture());
    }
}

mod postgres {
    use super::*;
    use hotline_store::records::postgres::PostgresConfig;

    fn url() -> String {
        std::env::var("HOTLINE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// Drops the test's schema when the test ends, even when it fails.
    pub(super) struct Schema(String);

    impl Drop for Schema {
        fn drop(&mut self) {
            let schema = self.0.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let (client, conn) = tokio_postgres_connect(&url()).await;
                    let task = tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                    drop(client);
                    let _ = task.await;
                });
            })
            .join();
        }
    }

    async fn tokio_postgres_connect(
        url: &str,
    ) -> (
        tokio_postgres::Client,
        tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
    ) {
        tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap()
    }

    pub(super) async fn fixture() -> (Arc<dyn RecordStore>, Schema) {
        let schema = format!(
            "hotline_test_{}",
            hotline_store::conformance::unique_sid("").to_lowercase()
        );
        let mut config = PostgresConfig::new(url());
        config.schema = Some(schema.clone());
        config.pool_size = 2;
        let guard = Schema(schema);
        match RecordStoreConfig::Postgres(config).build().await {
            Ok(store) => (store, guard),
            Err(e) => panic!("PostgreSQL is required for these tests (CI provides it): {e}"),
        }
    }

    hotline_store::record_suite!(fixture());

    #[tokio::test]
    async fn uses_its_own_schema_and_migrates_once() {
        let schema = format!(
            "hotline_test_{}",
            hotline_store::conformance::unique_sid("m").to_lowercase()
        );
        let mut config = PostgresConfig::new(url());
        config.schema = Some(schema.clone());
        let _guard = Schema(schema.clone());
        let (a, b) = tokio::join!(config.build(), config.build());
        let (a, _b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.current_schema().await.unwrap(), schema);
        let again = config.build().await.unwrap();
        assert_eq!(again.current_schema().await.unwrap(), schema);
    }

    #[tokio::test]
    async fn unreachable_postgres_fails_at_start_up_with_a_clear_message() {
        let mut config = PostgresConfig::new("postgres://hotline:s3cret@127.0.0.1:1/calls");
        config.connect_timeout_secs = 1;
        let err = config
            .build()
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1/calls:"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }
}

mod sqlite_only {
    use super::*;
    use hotline_store::CallRecord;

    const CHILD_ENV: &str = "HOTLINE_STORE_CRASH_CHILD";
    const SYNC_ENV: &str = "HOTLINE_STORE_CRASH_SYNC";

    /// Not a test on its own: the child half of `acknowledged_writes_survive_a_process_crash`.
    /// Appends steps, prints each acknowledged seq, then aborts without any shutdown.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crash_child() {
        let Ok(path) = std::env::var(CHILD_ENV) else {
            return;
        };
        let mut config = SqliteConfig::new(path);
        // A process crash: NORMAL must be enough; FULL (an fsync per commit) too.
        config.synchronous = match std::env::var(SYNC_ENV).as_deref() {
            Ok("full") => Synchronous::Full,
            _ => Synchronous::Normal,
        };
        let store = Arc::new(config.build().await.unwrap());
        store
            .call_started(CallRecord::started("CAcrash", "f", "v", "+1", "+2", 0))
            .await
            .unwrap();
        println!("ACK 0");
        let mut tasks = Vec::new();
        for t in 0..8u32 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                for i in 0..200u32 {
                    let seq = 1 + t * 200 + i;
                    store
                        .append(StepRecord::new("CAcrash", seq, 0, "menu", "heard"))
                        .await
                        .unwrap();
                    println!("ACK {seq}");
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        std::process::abort();
    }

    #[test]
    fn acknowledged_writes_survive_a_process_crash() {
        for synchronous in ["normal", "full"] {
            crash_and_count(synchronous);
        }
    }

    fn crash_and_count(synchronous: &str) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.db");
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sqlite_only::crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .env(SYNC_ENV, synchronous)
            .output()
            .unwrap();
        assert!(!out.status.success(), "the child must have aborted");
        let acked: Vec<u32> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("ACK ")?.trim().parse().ok())
            .collect();
        assert!(
            acked.len() > 10,
            "synchronous={synchronous}: the child acknowledged too little: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = SqliteConfig::new(&path).build().await.unwrap();
            let (_, steps) = store.get_call("CAcrash").await.unwrap().unwrap();
            let stored: std::collections::HashSet<u32> = steps.iter().map(|s| s.seq).collect();
            let missing: Vec<&u32> = acked
                .iter()
                .filter(|s| **s != 0 && !stored.contains(s))
                .collect();
            assert!(
                missing.is_empty(),
                "synchronous={synchronous}: acknowledged but lost: {missing:?}"
            );
            eprintln!(
                "synchronous={synchronous}: {} acknowledged before the crash, {} stored",
                acked.len(),
                stored.len()
            );
        });
    }

    #[tokio::test]
    async fn dropping_the_store_without_shutdown_loses_nothing_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.db");
        let store = SqliteConfig::new(&path).build().await.unwrap();
        store
            .call_started(CallRecord::started("CAdrop", "f", "v", "+1", "+2", 0))
            .await
            .unwrap();
        for seq in 1..=50 {
            store
                .append(StepRecord::new("CAdrop", seq, 0, "menu", "heard"))
                .await
                .unwrap();
        }
        std::mem::forget(store); // no close, no Drop: the writer thread and connection linger
        let reopened = SqliteConfig::new(&path).build().await.unwrap();
        let (_, steps) = reopened.get_call("CAdrop").await.unwrap().unwrap();
        assert_eq!(steps.len(), 50);
        reopened.close().await;
    }

    #[tokio::test]
    async fn unwritable_path_fails_at_start_up_with_the_remedy() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let path = file.join("calls.db");
        let err = SqliteConfig::new(&path)
            .build()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("cannot open call records at {}:", path.display())),
            "{err}"
        );
        assert!(
            err.ends_with("set records.path to a writable file"),
            "{err}"
        );
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
        let err = SqliteConfig::new(&garbage)
            .build()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("set records.path to a writable file"), "{err}");
    }

    /// A database written by schema version 1 (steps keyed by SID) upgrades in place through
    /// version 2 (integer call ids) to version 3 (steps appended in commit order): every call
    /// and step reads back the same, steps appended before their call started stay hidden until
    /// it starts, and new writes keep working (replays still ignored).
    #[tokio::test]
    async fn a_version_1_database_migrates_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA journal_mode=WAL").unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL);
                 INSERT INTO schema_version VALUES (1, 0);",
            )
            .unwrap();
            conn.execute_batch(include_str!(
                "../src/records/migrations/sqlite/0001_init.sql"
            ))
            .unwrap();
            conn.execute_batch(
                "INSERT INTO calls VALUES ('CAdone', 'triage', 'v1', '+33612345678', '+15005550006', 1000, 61000, 'caller-hangup', 'menu');
                 INSERT INTO calls VALUES ('CAlive', 'triage', 'v1', '+33612345679', '+15005550006', 2000, NULL, NULL, NULL);
                 INSERT INTO steps VALUES ('CAdone', 1, 1001, 'menu', 'entered', NULL, NULL, NULL, NULL, 'said \"hi\"');
                 INSERT INTO steps VALUES ('CAdone', 2, 1002, 'menu', 'heard', NULL, 'sales', 0.5, '1#', NULL);
                 INSERT INTO steps VALUES ('CAdone', 3, 1003, 'menu', 'retry', NULL, NULL, NULL, NULL, 'attempt 2');
                 INSERT INTO steps VALUES ('CAlive', 2, 2002, 'sales', 'entered', NULL, NULL, NULL, NULL, NULL);
                 INSERT INTO steps VALUES ('CAlive', 1, 2001, 'menu', 'matched', 'sales', NULL, NULL, NULL, '→ sales');
                 INSERT INTO steps VALUES ('CAearly', 1, 3001, 'menu', 'entered', NULL, NULL, NULL, NULL, NULL);",
            )
            .unwrap();
        }
        let store = SqliteConfig::new(&path).build().await.unwrap();
        let (done, steps) = store.get_call("CAdone").await.unwrap().unwrap();
        let mut expected = CallRecord::started(
            "CAdone",
            "triage",
            "v1",
            "+33612345678",
            "+15005550006",
            1000,
        );
        expected.ended_at_ms = Some(61_000);
        expected.outcome = Some("caller-hangup".into());
        expected.last_node = Some("menu".into());
        assert_eq!(done, expected);
        let mut heard = StepRecord::new("CAdone", 2, 1002, "menu", "heard");
        heard.speech = Some("sales".into());
        heard.confidence = Some(0.5);
        heard.digits = Some("1#".into());
        let mut entered = StepRecord::new("CAdone", 1, 1001, "menu", "entered");
        entered.detail = Some("said \"hi\"".into());
        let mut retry = StepRecord::new("CAdone", 3, 1003, "menu", "retry");
        retry.detail = Some("attempt 2".into());
        assert_eq!(steps, vec![entered, heard, retry]);
        let (live, steps) = store.get_call("CAlive").await.unwrap().unwrap();
        assert_eq!(live.last_node.as_deref(), Some("sales"));
        assert_eq!(steps.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(store.get_call("CAearly").await.unwrap(), None);
        let listed: Vec<String> = store
            .list_calls(&hotline_store::CallFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.call_sid)
            .collect();
        assert_eq!(listed, ["CAlive", "CAdone"]);
        let funnel = store.funnel("triage", None, None).await.unwrap();
        assert_eq!((funnel.calls, funnel.in_progress), (2, 1));
        let menu = funnel.node("menu").unwrap();
        assert_eq!((menu.reached, menu.retries, menu.hung_up), (2, 1, 1));

        // New writes on migrated calls: replays ignored, new steps kept, early steps surface.
        store
            .append_all(vec![
                StepRecord::new("CAlive", 1, 0, "replayed", "entered"),
                StepRecord::new("CAlive", 3, 2003, "sales", "heard"),
            ])
            .await
            .unwrap();
        store
            .call_started(CallRecord::started(
                "CAearly", "triage", "v2", "+1", "+2", 3000,
            ))
            .await
            .unwrap();
        store.call_ended("CAlive", "completed", 9000).await.unwrap();
        store.close().await;

        let store = SqliteConfig::new(&path).build().await.unwrap(); // migrates once
        let (live, steps) = store.get_call("CAlive").await.unwrap().unwrap();
        assert_eq!(live.last_node.as_deref(), Some("sales"));
        assert_eq!(live.outcome.as_deref(), Some("completed"));
        assert_eq!(
            steps.iter().map(|s| s.node.as_str()).collect::<Vec<_>>(),
            ["menu", "sales", "sales"]
        );
        let (early, steps) = store.get_call("CAearly").await.unwrap().unwrap();
        assert_eq!((early.flow_version.as_str(), steps.len()), ("v2", 1));
        store.close().await;
        let conn = rusqlite::Connection::open(&path).unwrap();
        let versions: Vec<i64> = conn
            .prepare("SELECT version FROM schema_version ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(versions, [1, 2, 3]);
    }

    /// Steps appended before `call_started` are kept, hidden until the call starts; a call
    /// that never started cannot be ended.
    #[tokio::test]
    async fn steps_before_the_call_started_appear_once_it_starts() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteConfig::new(dir.path().join("calls.db"))
            .build()
            .await
            .unwrap();
        store
            .append(StepRecord::new("CAearly", 1, 0, "menu", "entered"))
            .await
            .unwrap();
        assert_eq!(store.get_call("CAearly").await.unwrap(), None);
        assert!(store.call_ended("CAearly", "completed", 1).await.is_err());
        assert!(
            store
                .list_calls(&hotline_store::CallFilter::default())
                .await
                .unwrap()
                .is_empty()
        );
        store
            .call_started(CallRecord::started("CAearly", "f", "v", "+1", "+2", 5))
            .await
            .unwrap();
        store
            .call_started(CallRecord::started("CAearly", "g", "w", "+1", "+2", 6))
            .await
            .unwrap();
        let (c, steps) = store.get_call("CAearly").await.unwrap().unwrap();
        assert_eq!(
            (c.flow_id.as_str(), c.started_at_ms, steps.len()),
            ("f", 5, 1)
        );
        store.close().await;
    }

    #[tokio::test]
    async fn a_database_from_a_newer_hotline_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.db");
        SqliteConfig::new(&path)
            .build()
            .await
            .unwrap()
            .close()
            .await;
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("INSERT INTO schema_version VALUES (99, 0)", [])
            .unwrap();
        drop(conn);
        let err = SqliteConfig::new(&path)
            .build()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("schema version 99"), "{err}");
    }

    #[test]
    fn configs_validate_without_io_and_explain_the_fix() {
        let parse = |s: &str| serde_json::from_str::<RecordStoreConfig>(s);
        let c = parse(r#"{"type":"sqlite","path":"calls.db"}"#).unwrap();
        assert_eq!(c, RecordStoreConfig::Sqlite(SqliteConfig::new("calls.db")));
        let err = |s: &str| parse(s).unwrap().validate().unwrap_err().to_string();
        assert!(
            err(r#"{"type":"sqlite","path":""}"#).starts_with("invalid records.path: is empty")
        );
        assert!(err(r#"{"type":"sqlite","path":":memory:"}"#).contains("not durable"));
        assert!(
            err(r#"{"type":"postgres","url":"postgres://h/db","pool_size":0}"#)
                .starts_with("invalid records.pool_size")
        );
        assert!(
            err(r#"{"type":"postgres","url":"postgres://h/db","schema":"Robert'); DROP"}"#)
                .contains("records.schema")
        );
        assert!(
            err(r#"{"type":"postgres","url":"postgres://u:pw@h:99999999/db"}"#)
                .starts_with("invalid records.url")
        );
        assert!(
            parse(r#"{"type":"sqlite","path":"x","synchronous":"off"}"#).is_err(),
            "only full or normal"
        );
        assert!(parse(r#"{"type":"mysql"}"#).is_err());
    }
}
