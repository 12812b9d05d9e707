//! `hotline serve --metrics-listen`: Prometheus metrics on a listener of their own, over real
//! sockets, counting what the webhook port answered; the webhook port does not serve them.
#![allow(clippy::unwrap_used)]

mod serve;

use serve::{Serve, exchange, root};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

fn get(addr: SocketAddr, path: &str) -> String {
    exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
}

/// `hotline serve` of the French triage flow with metrics on a port of their own, records in
/// `dir`, `extra` arguments and the scrape token `token` (in the environment, as the docs
/// advise); gives the server, its webhook address and its metrics address.
fn serve_triage(
    dir: &std::path::Path,
    extra: &[&str],
    token: Option<&str>,
) -> (Serve, SocketAddr, SocketAddr) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .current_dir(root())
        .args(["serve", "examples/flows/covid-triage-fr.yaml"])
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .args(["--auth-token", "metrics-token"])
        .args(extra)
        .arg("--records")
        .arg(format!("sqlite:{}", dir.join("records.db").display()))
        .env_remove("HOTLINE_METRICS_TOKEN")
        .stdout(Stdio::null());
    if let Some(token) = token {
        command.env("HOTLINE_METRICS_TOKEN", token);
    }
    let (server, webhooks) = Serve::start(command, Duration::from_secs(30), "");
    let metrics = server.metrics_addr();
    (server, webhooks, metrics)
}

#[test]
fn metrics_are_served_on_their_own_listener_and_count_the_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let (server, webhooks, metrics) = serve_triage(
        dir.path(),
        &["--max-connections", "50", "--max-streams", "10"],
        None,
    );
    assert_ne!(metrics, webhooks);

    // An unsigned gather callback (refused) and a health check on the webhook port.
    let body = "CallSid=CA00000000000000000000000000000001&SpeechResult=oui";
    let refused = exchange(
        webhooks,
        &format!(
            "POST /flows/covid-triage-fr/step?seq=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert!(get(webhooks, "/healthz").starts_with("HTTP/1.1 200"));
    // Not on the webhook port.
    assert!(get(webhooks, "/metrics").starts_with("HTTP/1.1 404"));

    let scraped = get(metrics, "/metrics");
    let (head, text) = scraped.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{scraped}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    for line in [
        "hotline_http_responses_total{route=\"step\",code=\"403\"} 1",
        "hotline_http_responses_total{route=\"health\",code=\"200\"} 1",
        "hotline_http_responses_total{route=\"other\",code=\"404\"} 1",
        "hotline_webhook_duration_seconds_count{route=\"step\"} 1",
        "hotline_connections_limit 50",
        "hotline_flows 1",
        "hotline_calls_started_total{flow=\"covid-triage-fr\"} 0",
        "hotline_calls_ended_total{flow=\"covid-triage-fr\",outcome=\"dialed\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    // The webhook port's connections held now (the test's have closed, or are closing).
    assert!(
        text.lines()
            .any(|l| l.starts_with("hotline_connections_open ")),
        "{text}"
    );
    assert!(get(metrics, "/other").starts_with("HTTP/1.1 404"));
    server.stop();
    every_alert_reads_a_metric_the_server_exports(text);
}

/// `GET /metrics` with `Authorization` set to `authorization` (none if empty).
fn scrape(addr: SocketAddr, authorization: &str) -> String {
    let header = if authorization.is_empty() {
        String::new()
    } else {
        format!("Authorization: {authorization}\r\n")
    };
    exchange(
        addr,
        &format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{header}Connection: close\r\n\r\n"),
    )
}

#[test]
fn with_a_scrape_token_the_metrics_are_read_only_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let token = "5f0c2a9e8b7d4c3a1f6e0d9c8b7a6f5e";
    let (server, _, metrics) = serve_triage(dir.path(), &[], Some(token));
    let printed = server.printed();
    assert!(
        !printed.contains(token),
        "the token was printed:\n{printed}"
    );
    assert!(!printed.contains("WARNING"), "{printed}");

    let wrong = format!("Bearer {}", token.replace('5', "6"));
    for refused in ["", "Bearer", &wrong, &format!("Basic {token}")] {
        let answer = scrape(metrics, refused);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 401"), "{refused:?}: {answer}");
        assert!(
            head.to_ascii_lowercase()
                .contains("www-authenticate: bearer realm=\"hotline metrics\""),
            "{head}"
        );
        assert!(!body.contains("hotline_"), "{body}");
        assert!(!answer.contains(token), "{answer}");
    }
    // Other paths too: nothing is told without the token.
    assert!(get(metrics, "/other").starts_with("HTTP/1.1 401"));

    let scraped = scrape(metrics, &format!("Bearer {token}"));
    let (head, text) = scraped.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{scraped}");
    assert!(text.lines().any(|l| l == "hotline_flows 1"), "{text}");
    server.stop();
}

#[test]
fn a_bad_scrape_token_or_one_without_a_metrics_listener_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let records = format!("sqlite:{}", dir.path().join("records.db").display());
    let serve = |metrics: &[&str], token: &str| {
        Command::new(env!("CARGO_BIN_EXE_hotline"))
            .current_dir(root())
            .args(["serve", "examples/flows/covid-triage-fr.yaml"])
            .args(["--listen", "127.0.0.1:0", "--auth-token", "metrics-token"])
            .args(metrics)
            .args(["--records", &records, "--metrics-token", token])
            .output()
            .unwrap()
    };
    let short = serve(&["--metrics-listen", "127.0.0.1:0"], "guessable");
    let err = String::from_utf8_lossy(&short.stderr);
    assert!(!short.status.success());
    assert!(
        err.contains("9 characters") && err.contains("at least 16"),
        "{err}"
    );
    assert!(!err.contains("guessable"), "the token was printed: {err}");

    let without_listener = serve(&[], "5f0c2a9e8b7d4c3a1f6e0d9c8b7a6f5e");
    let err = String::from_utf8_lossy(&without_listener.stderr);
    assert!(!without_listener.status.success());
    assert!(err.contains("--metrics-listen"), "{err}");
}

/// Every `hotline_…` metric in the example alerting rules is one the server exports, and each
/// exact label matcher (`name{label="value"}`) selects a series it exported here.
fn every_alert_reads_a_metric_the_server_exports(text: &str) {
    let rules = std::fs::read_to_string(root().join("examples/monitoring/alerts.yaml")).unwrap();
    let exported = |name: &str| {
        text.lines()
            .any(|l| l.starts_with(&format!("# TYPE {name} ")))
    };
    let mut checked = 0;
    let mut rest = rules.as_str();
    while let Some(at) = rest.find("hotline_") {
        rest = &rest[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        rest = &rest[end..];
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| exported(f)))
            .unwrap_or(name);
        assert!(
            exported(family),
            "alerts.yaml reads `{name}`, which is not exported:\n{text}"
        );
        if let Some(selector) = rest.strip_prefix('{') {
            let selector = &selector[..selector.find('}').unwrap()];
            for matcher in selector.split(',').filter(|m| !m.contains("=~")) {
                assert!(
                    text.lines()
                        .any(|l| l.starts_with(&format!("{name}{{")) && l.contains(matcher.trim())),
                    "alerts.yaml selects `{name}{{{matcher}}}`, which no series matches:\n{text}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "{checked} metrics read by alerts.yaml");
}
