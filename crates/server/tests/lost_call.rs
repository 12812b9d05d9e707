//! A callback for a call the server has no session for (a restart with the memory store, an
//! expired session) gets the flow's `on-lost-call` answer — apologise and restart, transfer or
//! hang up — or the server's `--lost-call` default when the flow sets none; never a 500.
//! Driven through the router with `oneshot`, signatures checked.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_server::engine::LostCallPolicy;
use hotline_server::{Server, ServerConfig};
use hotline_store::{RecordStore, RecordStoreConfig};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

const TOKEN: &str = "lost-call-token";
const PUBLIC: &str = "http://hotline.test";
const SID: &str = "CA0123456789abcdef0123456789abcdef";

/// Writes `flow: ID` with `setting` (a line of YAML, or nothing) into `dir`.
fn flow_file(dir: &Path, id: &str, setting: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{id}.yaml"));
    let yaml = format!(
        "flow: {id}\nlanguage: en-US\n{setting}\nnodes:\n  menu:\n    ask: {{ input: speech }}\n    say: Say yes.\n    routes:\n      - {{ keywords: [yes], goto: bye }}\n    retry: {{ exhausted: bye }}\n  bye: {{ say: Goodbye., hangup: true }}\n"
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

async fn server(dir: &Path, default: LostCallPolicy) -> Server {
    let flows = vec![
        flow_file(dir, "restarts", "on-lost-call: restart"),
        flow_file(dir, "hangs-up", "on-lost-call: hangup"),
        flow_file(
            dir,
            "transfers",
            "on-lost-call: { transfer: \"+1 555 123 4567\" }",
        ),
        flow_file(
            dir,
            "to-sip",
            "on-lost-call:\n  transfer: sip:desk@pbx.example.com",
        ),
        flow_file(dir, "unset", ""),
    ];
    let mut config = ServerConfig::new(flows, PUBLIC);
    config.auth_token = Some(TOKEN.to_owned());
    config.records = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(
        dir.join("records.db"),
    ));
    config.reload_every = None;
    config.lost_call = default;
    Server::build(&config).await.unwrap()
}

/// The records file the servers of `dir` write, opened as `hotline calls` opens it.
async fn records(dir: &Path) -> Arc<dyn RecordStore> {
    RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(
        dir.join("records.db"),
    ))
    .build()
    .await
    .unwrap()
}

/// The voice webhook's parameters of a call `sid`.
fn voice(sid: &str) -> [(&str, &str); 3] {
    [("CallSid", sid), ("From", "+15550001"), ("To", "+15550002")]
}

/// Call `SID` answered by `flow` on a server, then that server gone: the server returned is
/// the one that replaced it (the same records, a new memory session store, so no session for
/// the call).
async fn restarted_after_a_call(dir: &Path, flow: &str) -> Server {
    let before = server(dir, LostCallPolicy::Hangup).await;
    let path = format!("/flows/{flow}/voice");
    let (status, xml) =
        support::post_form(&before, (PUBLIC, TOKEN), &path, &voice(SID), true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("Say yes."), "{xml}");
    drop(before);
    server(dir, LostCallPolicy::Hangup).await
}

/// A signed gather callback for a call the server never saw.
async fn lost_callback(server: &Server, flow: &str) -> (StatusCode, String) {
    let params = [
        ("CallSid", SID),
        ("SpeechResult", "yes"),
        ("Confidence", "0.9"),
    ];
    let path = format!("/flows/{flow}/step?seq=3");
    support::post_form(server, (PUBLIC, TOKEN), &path, &params, true).await
}

const APOLOGY: &str = "We are sorry, a technical problem occurred.";

#[tokio::test]
async fn each_flow_answers_a_lost_call_its_own_way() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), LostCallPolicy::Hangup).await;

    let (status, xml) = lost_callback(&server, "restarts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains(APOLOGY), "{xml}");
    assert!(
        xml.contains(&format!(
            "<Redirect>{PUBLIC}/flows/restarts/voice</Redirect>"
        )) || xml.contains(&format!("{PUBLIC}/flows/restarts/voice")),
        "{xml}"
    );
    assert!(!xml.contains("<Hangup"), "{xml}");

    let (status, xml) = lost_callback(&server, "transfers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains(APOLOGY), "{xml}");
    assert!(xml.contains("<Dial>+15551234567</Dial>"), "{xml}");
    assert!(!xml.contains("<Redirect"), "{xml}");

    let (status, xml) = lost_callback(&server, "to-sip").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("<Sip>sip:desk@pbx.example.com</Sip>"), "{xml}");

    let (status, xml) = lost_callback(&server, "hangs-up").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains(APOLOGY), "{xml}");
    assert!(xml.contains("<Hangup/>"), "{xml}");
    assert!(
        !xml.contains("<Redirect") && !xml.contains("<Dial"),
        "{xml}"
    );
}

#[tokio::test]
async fn a_flow_without_the_setting_follows_the_server_default() {
    for (default, expect) in [
        (LostCallPolicy::Restart, "/flows/unset/voice"),
        (LostCallPolicy::Hangup, "<Hangup/>"),
        (
            LostCallPolicy::Transfer("+33612345678".to_owned()),
            "<Dial>+33612345678</Dial>",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let server = server(dir.path(), default.clone()).await;
        let (status, xml) = lost_callback(&server, "unset").await;
        assert_eq!(status, StatusCode::OK, "{default:?}");
        assert!(xml.contains(APOLOGY), "{default:?}: {xml}");
        assert!(xml.contains(expect), "{default:?}: {xml}");
        // The flow's own setting still wins over the default.
        let (_, xml) = lost_callback(&server, "hangs-up").await;
        assert!(xml.contains("<Hangup/>"), "{default:?}: {xml}");
    }
}

#[tokio::test]
async fn a_lost_call_records_nothing_and_a_bad_signature_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), LostCallPolicy::Restart).await;
    let (status, _) = lost_callback(&server, "transfers").await;
    assert_eq!(status, StatusCode::OK);
    let records = records(dir.path()).await;
    assert_eq!(records.get_call(SID).await.unwrap(), None);

    let req = Request::post("/flows/transfers/step?seq=3")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==")
        .body(Body::from(format!("CallSid={SID}")))
        .unwrap();
    let resp = server.app().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

/// A call restarted after its session was lost (here, a restart of a server with the memory
/// session store) goes on in its record: the restarted flow's steps are numbered after the
/// steps recorded before, none overwritten, and the restart is not mistaken for a retry.
#[tokio::test]
async fn a_restarted_lost_call_goes_on_in_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let after = restarted_after_a_call(dir.path(), "restarts").await;
    let records = records(dir.path()).await;
    let (_, steps) = records.get_call(SID).await.unwrap().unwrap();
    let next = steps.iter().map(|s| s.seq).max().unwrap() + 1;
    let (_, xml) = lost_callback(&after, "restarts").await;
    let restart = format!("/flows/restarts/voice?rec={next}");
    assert!(xml.contains(&format!("{PUBLIC}{restart}")), "{xml}");
    let (status, xml) =
        support::post_form(&after, (PUBLIC, TOKEN), &restart, &voice(SID), true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("Say yes."), "{xml}");

    let (call, steps) = records.get_call(SID).await.unwrap().unwrap();
    assert_eq!(call.flow_id, "restarts");
    let entered: Vec<u32> = steps
        .iter()
        .filter(|s| s.kind == "entered" && s.node == "menu")
        .map(|s| s.seq)
        .collect();
    assert_eq!(entered, [0, next], "{steps:#?}");
}

/// A call in progress when the server lost its session (a restart with the memory session
/// store) would stay "in progress" in the records for ever: Twilio's status callback now ends it
/// `lost`, at the node it was last seen at. A call ended already keeps its outcome.
#[tokio::test]
async fn a_lost_call_ends_lost_at_the_status_callback() {
    let dir = tempfile::tempdir().unwrap();
    let after = restarted_after_a_call(dir.path(), "hangs-up").await;
    let completed = [("CallSid", SID), ("CallStatus", "completed")];
    for _ in 0..2 {
        let (status, _) =
            support::post_form(&after, (PUBLIC, TOKEN), "/status", &completed, true).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let records = records(dir.path()).await;
    let (call, _) = records.get_call(SID).await.unwrap().unwrap();
    assert_eq!(
        (call.outcome.as_deref(), call.last_node.as_deref()),
        (Some(hotline_store::OUTCOME_LOST), Some("menu"))
    );
    // Counted once, under the flow its record names, for the two callbacks.
    let metrics = after.metrics_text();
    assert!(
        metrics
            .lines()
            .any(|l| l == "hotline_calls_ended_total{flow=\"hangs-up\",outcome=\"lost\"} 1"),
        "{metrics}"
    );

    // A call that ended normally: a late or repeated status callback leaves its outcome.
    let other = "CA0123456789abcdef0123456789abcdee";
    let path = "/flows/hangs-up/voice";
    support::post_form(&after, (PUBLIC, TOKEN), path, &voice(other), true).await;
    let answer = [
        ("CallSid", other),
        ("SpeechResult", "yes"),
        ("Confidence", "0.9"),
    ];
    let (_, xml) = support::post_form(
        &after,
        (PUBLIC, TOKEN),
        "/flows/hangs-up/step?seq=1",
        &answer,
        true,
    )
    .await;
    assert!(xml.contains("Goodbye."), "{xml}");
    let completed = [("CallSid", other), ("CallStatus", "completed")];
    for _ in 0..2 {
        support::post_form(&after, (PUBLIC, TOKEN), "/status", &completed, true).await;
    }
    let (call, _) = records.get_call(other).await.unwrap().unwrap();
    assert_eq!(call.outcome.as_deref(), Some("hung-up"));
}
