//! The session conformance suite against every backend: `memory` and `redis`.
//!
//! Redis tests need a server at `HOTLINE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`);
//! they FAIL, never skip, when it is unreachable: CI provides one.

use std::sync::Arc;

use hotline_store::SessionStore;

mod memory {
    use super::*;
    use hotline_store::session::memory::MemoryConfig;

    hotline_store::session_suite!(async {
        Arc::new(MemoryConfig::default().build()) as Arc<dyn SessionStore>
    });
}

mod redis {
    use super::*;
    use hotline_store::session::redis::RedisConfig;

    async fn store() -> Arc<dyn SessionStore> {
        let url = std::env::var("HOTLINE_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let mut config = RedisConfig::new(url);
        config.prefix = format!("hotline-test:{}:", std::process::id());
        match config.build().await {
            Ok(s) => Arc::new(s),
            Err(e) => panic!("Redis is required for these tests (CI provides it): {e}"),
        }
    }

    hotline_store::session_suite!(store());

    #[tokio::test]
    async fn unreachable_redis_fails_at_start_up_with_a_clear_message() {
        let mut config = RedisConfig::new("redis://127.0.0.1:1/0");
        config.timeout_secs = 1;
        let err = config
            .build()
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("cannot connect to Redis at 127.0.0.1:1/0:"),
            "{err}"
        );
        assert!(err.ends_with("start Redis or fix sessions.url"), "{err}");
    }
}

#[test]
fn configs_validate_without_io_and_explain_the_fix() {
    use hotline_store::SessionStoreConfig;
    let parse = |s: &str| serde_json::from_str::<SessionStoreConfig>(s);
    assert_eq!(
        parse(r#"{"type":"memory"}"#).ok(),
        Some(SessionStoreConfig::default())
    );
    let bad = parse(r#"{"type":"memory","max_entries":0}"#)
        .ok()
        .and_then(|c| c.validate().err());
    assert!(bad.is_some_and(|e| e.to_string().starts_with("invalid sessions.max_entries")));
    let bad = parse(r#"{"type":"redis","url":"rediss://h"}"#)
        .ok()
        .and_then(|c| c.validate().err());
    assert!(bad.is_some_and(|e| e.to_string().contains("TLS")));
    let bad = parse(r#"{"type":"redis","url":"redis://h","prefix":""}"#)
        .ok()
        .and_then(|c| c.validate().err());
    assert!(bad.is_some_and(|e| e.to_string().contains("sessions.prefix")));
    assert!(
        parse(r#"{"type":"redis","url":"redis://h","bogus":1}"#).is_err(),
        "unknown fields are refused"
    );
    assert!(parse(r#"{"type":"memcached"}"#).is_err());
}
