//! Fuzz target: the whole webhook server, answered without a socket. Every request Twilio (or
//! anyone who finds the URL) can send goes through `App`: routing, query strings, forms, the
//! flows' runtime, sessions, records, prompt URLs and ranges. One server (three example flows,
//! memory sessions, SQLite records in `/dev/shm`) lives for the whole run, so calls build up
//! across inputs, as they do on a line.
//!
//! The input is a script of requests separated by `%%%` lines; each is `METHOD TARGET`, then
//! `Name: value` header lines, a blank line and the body. Signatures are not checked, so that
//! the inputs reach past the door (the signature checks have their own target).
//!
//! What must hold: no answer is a 5xx (the caller hears graceful TwiML, never an error), and
//! every TwiML answer parses as TwiML.
#![no_main]

use bytes::Bytes;
use hotline_server::{Server, ServerConfig};
use hotline_store::records::RecordStoreConfig;
use hotline_store::records::sqlite::{SqliteConfig, Synchronous};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;

const PUBLIC: &str = "https://ivr.fuzz";

struct Harness {
    runtime: tokio::runtime::Runtime,
    server: Server,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        // The example flows that need no intent engine.
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flows");
        let flows = [
            "covid-triage-fr.yaml",
            "covid-triage-en.yaml",
            "sales-menu.yaml",
        ]
        .iter()
        .map(|f| examples.join(f))
        .collect();
        let db = format!("/dev/shm/hotline-fuzz-{}.db", std::process::id());
        let mut records = SqliteConfig::new(&db);
        records.synchronous = Synchronous::Normal;
        let mut config = ServerConfig::new(flows, PUBLIC);
        config.verify_signatures = false;
        config.records = RecordStoreConfig::Sqlite(records);
        config.numbers = vec![("+33970000000".to_owned(), "covid-triage-fr".to_owned())];
        config.prompt_key = Some(b"fuzz-prompt-key-0123456789abcdef".to_vec());
        let server = runtime
            .block_on(Server::build(&config))
            .expect("the example flows build a server");
        Harness { runtime, server }
    })
}

/// One request of the script: `None` when it is not an HTTP request at all.
fn request(block: &str) -> Option<http::Request<Full<Bytes>>> {
    let (head, body) = block.split_once("\n\n").unwrap_or((block, ""));
    let mut lines = head.lines();
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut builder = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).ok()?)
        .uri(http::Uri::try_from(target).ok()?);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(
            http::HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            http::HeaderValue::from_str(value.trim()).ok()?,
        );
    }
    builder
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let h = harness();
    for block in text.split("\n%%%\n").take(16) {
        let Some(req) = request(block) else {
            continue;
        };
        let head = req.method() == http::Method::HEAD;
        let app = h.server.app();
        let (status, content_type, body) = h.runtime.block_on(async move {
            let resp = match app.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            let status = resp.status();
            let content_type = resp
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            (status, content_type, body)
        });
        assert!(
            !status.is_server_error(),
            "{status} for {block:?}: {}",
            String::from_utf8_lossy(&body)
        );
        // A HEAD answer has a GET answer's headers and no body (RFC 9110 §9.3.2).
        if head {
            assert!(body.is_empty(), "a body for HEAD: {block:?}");
            continue;
        }
        if content_type.starts_with("text/xml") || content_type.starts_with("application/xml") {
            let xml = std::str::from_utf8(&body).expect("TwiML is UTF-8");
            if let Err(e) = hotline_twilio::twiml::parse(xml) {
                panic!(
                    "the server answered TwiML that does not parse: {e}\nrequest: {block:?}\nanswer: {xml}"
                );
            }
        }
    }
});
