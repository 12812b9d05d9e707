//! The metrics count what the server answered: a call from its first webhook to its status
//! callback, a lost callback, a bad signature, an unknown flow, a failed records store. Driven
//! through the router with `oneshot`, signatures checked; the text read as a scraper reads it.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_server::{Server, ServerConfig};
use hotline_store::RecordStoreConfig;
use std::path::Path;
use tower::ServiceExt;

const TOKEN: &str = "metrics-token";
const PUBLIC: &str = "http://hotline.test";
const SID: &str = "CA00000000000000000000000000000001";
const LOST: &str = "CA00000000000000000000000000000002";
const HUNG_UP: &str = "CA00000000000000000000000000000003";

async fn server(dir: &Path, records: RecordStoreConfig) -> Server {
    let path = dir.join("menu.yaml");
    std::fs::write(
        &path,
        "flow: menu\nlanguage: en-US\nnodes:\n  menu:\n    ask: { input: speech }\n    say: Say yes.\n    routes:\n      - { keywords: [yes], goto: bye }\n    retry: { exhausted: bye }\n  bye: { say: Goodbye., hangup: true }\n",
    )
    .unwrap();
    let mut config = ServerConfig::new(vec![path], PUBLIC);
    config.auth_token = Some(TOKEN.to_owned());
    config.records = records;
    config.reload_every = None;
    Server::build(&config).await.unwrap()
}

/// POSTs `params` to `path`, signed (or with a wrong signature); gives the status.
async fn post(server: &Server, path: &str, params: &[(&str, &str)], signed: bool) -> StatusCode {
    support::post_form(server, (PUBLIC, TOKEN), path, params, signed)
        .await
        .0
}

fn has(text: &str, line: &str) {
    assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
}

#[tokio::test]
async fn a_call_its_callbacks_and_the_refusals_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(
        dir.path(),
        RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(
            dir.path().join("records.db"),
        )),
    )
    .await;
    let call = [("CallSid", SID), ("From", "+15550001"), ("To", "+15550002")];
    assert_eq!(
        post(&server, "/flows/menu/voice", &call, true).await,
        StatusCode::OK
    );
    let said = [
        ("CallSid", SID),
        ("SpeechResult", "yes"),
        ("Confidence", "0.9"),
    ];
    assert_eq!(
        post(&server, "/flows/menu/step?seq=1", &said, true).await,
        StatusCode::OK
    );
    let ended = [("CallSid", SID), ("CallStatus", "completed")];
    assert_eq!(
        post(&server, "/status", &ended, true).await,
        StatusCode::NO_CONTENT
    );
    // The flow ended this call (hung-up): its status callback, and a duplicate of it, do not
    // count its end again.
    assert_eq!(
        post(&server, "/status", &ended, true).await,
        StatusCode::NO_CONTENT
    );
    // A caller who hangs up at the question.
    let second = [
        ("CallSid", HUNG_UP),
        ("From", "+15550003"),
        ("To", "+15550002"),
    ];
    assert_eq!(
        post(&server, "/flows/menu/voice", &second, true).await,
        StatusCode::OK
    );
    let gone = [("CallSid", HUNG_UP), ("CallStatus", "completed")];
    assert_eq!(
        post(&server, "/status", &gone, true).await,
        StatusCode::NO_CONTENT
    );
    let lost = [("CallSid", LOST), ("SpeechResult", "yes")];
    assert_eq!(
        post(&server, "/flows/menu/step?seq=4", &lost, true).await,
        StatusCode::OK
    );
    assert_eq!(
        post(&server, "/flows/menu/step?seq=4", &lost, false).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&server, "/flows/nope/voice", &call, true).await,
        StatusCode::OK
    );
    let health = server
        .app()
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    let text = server.metrics_text();
    has(
        &text,
        "hotline_http_responses_total{route=\"voice\",code=\"200\"} 3",
    );
    has(
        &text,
        "hotline_http_responses_total{route=\"step\",code=\"200\"} 2",
    );
    has(
        &text,
        "hotline_http_responses_total{route=\"step\",code=\"403\"} 1",
    );
    has(
        &text,
        "hotline_http_responses_total{route=\"status\",code=\"204\"} 3",
    );
    has(
        &text,
        "hotline_http_responses_total{route=\"health\",code=\"200\"} 1",
    );
    has(
        &text,
        "hotline_webhook_duration_seconds_count{route=\"step\"} 3",
    );
    has(
        &text,
        "hotline_webhook_duration_seconds_bucket{route=\"step\",le=\"+Inf\"} 3",
    );
    has(&text, "hotline_calls_started_total{flow=\"menu\"} 2");
    has(
        &text,
        "hotline_calls_ended_total{flow=\"menu\",outcome=\"hung-up\"} 1",
    );
    has(
        &text,
        "hotline_calls_ended_total{flow=\"menu\",outcome=\"caller-hangup\"} 1",
    );
    has(
        &text,
        "hotline_calls_ended_total{flow=\"menu\",outcome=\"error\"} 0",
    );
    has(&text, "hotline_lost_calls_total 1");
    has(
        &text,
        "hotline_call_failures_total{cause=\"unknown_flow\"} 1",
    );
    has(&text, "hotline_call_failures_total{cause=\"records\"} 0");
    has(&text, "hotline_flows 1");
    has(&text, "hotline_media_streams_open 0");
}

#[tokio::test]
async fn a_records_store_that_fails_is_counted_and_the_caller_hears_an_apology() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let server = server(
        dir.path(),
        RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db)),
    )
    .await;
    // The steps table dropped under the running server: every turn's write fails.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TABLE steps")
        .unwrap();
    let call = [("CallSid", SID), ("From", "+15550001"), ("To", "+15550002")];
    let (status, xml) =
        support::post_form(&server, (PUBLIC, TOKEN), "/flows/menu/voice", &call, true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        xml.contains("We are sorry, a technical problem occurred."),
        "{xml}"
    );
    let text = server.metrics_text();
    has(&text, "hotline_call_failures_total{cause=\"records\"} 1");
    has(&text, "hotline_calls_started_total{flow=\"menu\"} 1");
    // Its end was never stored: not counted.
    has(
        &text,
        "hotline_calls_ended_total{flow=\"menu\",outcome=\"hung-up\"} 0",
    );
}
