#![allow(clippy::unwrap_used)]
//! Tests of live call updates: the pure core (form fields, path, classification, backoff) and
//! the `RestClient` driver against a local axum server on `127.0.0.1:0` that records every
//! request and answers from a script.
//!
//! These tests must not reach the internet, and must stay fast (short timeouts and delays).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hotline_twilio::rest::{
    CallUpdate, Classification, ErrorBody, RestClient, RestConfig, RestError, RetryPolicy,
    UpdateOutcome, call_update_path, classify, parse_retry_after,
};
use hotline_twilio::twiml::Method;
use tokio::net::TcpListener;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const CALL: &str = "CAfedcba9876543210fedcba9876543210";
const TOKEN: &str = "secret-token";

// ---------------------------------------------------------------------------------------------
// The pure core
// ---------------------------------------------------------------------------------------------

#[test]
fn form_fields_of_each_update() {
    assert_eq!(
        CallUpdate::Redirect {
            url: "https://example.com/next".to_owned(),
            method: Method::Get,
        }
        .form(),
        vec![
            ("Url", "https://example.com/next".to_owned()),
            ("Method", "GET".to_owned())
        ]
    );
    assert_eq!(
        CallUpdate::Twiml("<Response><Hangup/></Response>".to_owned()).form(),
        vec![("Twiml", "<Response><Hangup/></Response>".to_owned())]
    );
    assert_eq!(
        CallUpdate::Hangup.form(),
        vec![("Status", "completed".to_owned())]
    );
    assert_eq!(
        CallUpdate::Cancel.form(),
        vec![("Status", "canceled".to_owned())]
    );
}

#[test]
fn path_is_built_from_validated_sids() {
    assert_eq!(
        call_update_path(ACCOUNT, CALL).unwrap(),
        format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json")
    );
    for bad in [
        "",
        "../../Accounts/ACother",
        "CA1/Recordings",
        "CA1?x=1",
        "CA1%2F",
        "CA 1",
        "CAé",
    ] {
        let err = call_update_path(ACCOUNT, bad).unwrap_err();
        assert_eq!(err.what, "call SID", "{bad:?}");
        let err = call_update_path(bad, CALL).unwrap_err();
        assert_eq!(err.what, "account SID", "{bad:?}");
    }
    assert!(call_update_path(ACCOUNT, &"A".repeat(64)).is_ok());
    assert!(call_update_path(ACCOUNT, &"A".repeat(65)).is_err());
}

#[test]
fn classification_of_responses() {
    assert_eq!(classify(200, None, b"{}"), Classification::Success);
    assert_eq!(classify(204, None, b""), Classification::Success);
    let gone = br#"{"code":20404,"message":"The requested resource /2010-04-01/Accounts/AC1/Calls/CA1.json was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#;
    assert_eq!(classify(404, None, gone), Classification::CallGone);
    assert_eq!(classify(404, None, b"not json"), Classification::CallGone);
    assert_eq!(
        classify(429, Some("3"), b""),
        Classification::Retry {
            after: Some(Duration::from_secs(3))
        }
    );
    assert_eq!(
        classify(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), b""),
        Classification::Retry { after: None }
    );
    assert_eq!(
        classify(500, None, b"{}"),
        Classification::Retry { after: None }
    );
    assert_eq!(
        classify(
            401,
            None,
            br#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#
        ),
        Classification::Fail {
            status: 401,
            code: Some(20003),
            message: Some("Authenticate".to_owned())
        }
    );
    assert_eq!(
        classify(
            400,
            None,
            br#"{"code":21220,"message":"Call is not in-progress. Cannot redirect.","status":400}"#
        ),
        Classification::Fail {
            status: 400,
            code: Some(21220),
            message: Some("Call is not in-progress. Cannot redirect.".to_owned())
        }
    );
    assert_eq!(
        classify(400, None, b"<html>"),
        Classification::Fail {
            status: 400,
            code: None,
            message: None
        }
    );
    assert_eq!(
        classify(302, None, b""),
        Classification::Fail {
            status: 302,
            code: None,
            message: None
        }
    );
}

#[test]
fn error_body_tolerates_partial_and_extra_fields() {
    assert_eq!(
        ErrorBody::parse(br#"{"code":20404,"extra":[1]}"#),
        Some(ErrorBody {
            code: Some(20404),
            ..ErrorBody::default()
        })
    );
    assert_eq!(ErrorBody::parse(b"[]"), None);
    assert_eq!(ErrorBody::parse(br#"{"code":"x"}"#), None);
}

#[test]
fn retry_after_seconds_only() {
    assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
    assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(parse_retry_after("1.5"), None);
    assert_eq!(parse_retry_after(""), None);
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    assert_eq!(parse_retry_after("99999999999999999999999"), None);
}

#[test]
fn backoff_doubles_with_injected_jitter_and_caps() {
    let policy = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };
    // Jitter 1 gives the full exponential value, jitter 0 half of it.
    assert_eq!(policy.backoff(1, 1.0), Duration::from_millis(100));
    assert_eq!(policy.backoff(1, 0.0), Duration::from_millis(50));
    assert_eq!(policy.backoff(2, 1.0), Duration::from_millis(200));
    assert_eq!(policy.backoff(3, 0.5), Duration::from_millis(300));
    assert_eq!(policy.backoff(4, 1.0), Duration::from_millis(800));
    assert_eq!(policy.backoff(5, 1.0), Duration::from_secs(1));
    assert_eq!(policy.backoff(u32::MAX, 1.0), Duration::from_secs(1));
    assert_eq!(policy.backoff(0, 1.0), Duration::from_millis(100));
    // Out-of-range jitter is clamped, NaN counts as 0.
    assert_eq!(policy.backoff(1, 7.0), Duration::from_millis(100));
    assert_eq!(policy.backoff(1, -3.0), Duration::from_millis(50));
    assert_eq!(policy.backoff(1, f64::NAN), Duration::from_millis(50));
    assert_eq!(policy.backoff(1, f64::INFINITY), Duration::from_millis(100));
    // Huge base delays saturate instead of overflowing.
    let huge = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::MAX,
        max_delay: Duration::MAX,
    };
    assert_eq!(huge.backoff(40, 1.0), Duration::MAX);
}

#[test]
fn next_delay_stops_and_honours_retry_after() {
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
    };
    assert_eq!(
        policy.next_delay(1, None, 1.0),
        Some(Duration::from_millis(100))
    );
    assert_eq!(
        policy.next_delay(2, None, 1.0),
        Some(Duration::from_millis(200))
    );
    assert_eq!(policy.next_delay(3, None, 1.0), None);
    // Retry-After is a floor…
    assert_eq!(
        policy.next_delay(1, Some(Duration::from_secs(1)), 1.0),
        Some(Duration::from_secs(1))
    );
    assert_eq!(
        policy.next_delay(1, Some(Duration::ZERO), 1.0),
        Some(Duration::from_millis(100))
    );
    // …and one beyond max_delay ends the retries.
    assert_eq!(
        policy.next_delay(1, Some(Duration::from_secs(3)), 1.0),
        None
    );
    // Zero attempts allowed means one.
    let once = RetryPolicy {
        max_attempts: 0,
        ..policy
    };
    assert_eq!(once.next_delay(1, None, 0.0), None);
}

#[test]
fn config_defaults_and_debug_redaction() {
    let config = RestConfig::new(ACCOUNT, TOKEN);
    assert_eq!(config.api_base, "https://api.twilio.com");
    assert_eq!(config.timeout, Duration::from_secs(10));
    assert_eq!(config.retry, RetryPolicy::default());
    let text = format!("{config:?}");
    assert!(!text.contains(TOKEN), "{text}");
    let client = RestClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[test]
fn invalid_configuration_is_refused() {
    for base in ["ftp://example.com", "not a url", "https://example.com/?x=1"] {
        let mut config = RestConfig::new(ACCOUNT, TOKEN);
        config.api_base = base.to_owned();
        assert!(
            matches!(
                RestClient::new(config),
                Err(RestError::InvalidConfig { .. })
            ),
            "{base}"
        );
    }
    assert!(matches!(
        RestClient::new(RestConfig::new("AC/../x", TOKEN)),
        Err(RestError::InvalidSid(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// The driver, against a scripted local server
// ---------------------------------------------------------------------------------------------

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    form: Vec<(String, String)>,
}

/// A scripted answer: status, extra headers, body.
type Reply = (u16, &'static [(&'static str, &'static str)], &'static str);

#[derive(Clone)]
struct Script {
    replies: Arc<Vec<Reply>>,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

async fn scripted(
    State(script): State<Script>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let count = {
        let mut seen = script.seen.lock().unwrap();
        seen.push(Recorded {
            method: method.to_string(),
            path: uri.path().to_owned(),
            authorization: header("authorization"),
            content_type: header("content-type"),
            form: url::form_urlencoded::parse(&body).into_owned().collect(),
        });
        seen.len()
    };
    // Later requests get the last reply again.
    let (status, extra, body) = script.replies[(count - 1).min(script.replies.len() - 1)];
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in extra {
        response
            .headers_mut()
            .insert(*name, HeaderValue::from_static(value));
    }
    response
}

/// Starts a server answering with `replies` in order; returns its base URL and its record.
async fn serve(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(scripted).with_state(Script {
        replies: Arc::new(replies),
        seen: seen.clone(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

fn client(api_base: &str, timeout: Duration) -> RestClient {
    let mut config = RestConfig::new(ACCOUNT, TOKEN);
    config.api_base = api_base.to_owned();
    config.timeout = timeout;
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    RestClient::new(config).unwrap()
}

const OK: Reply = (
    200,
    &[("content-type", "application/json")],
    r#"{"sid":"CAfedcba9876543210fedcba9876543210","status":"in-progress"}"#,
);

#[tokio::test]
async fn sends_each_update_with_path_basic_auth_and_form() {
    let (base, seen) = serve(vec![OK]).await;
    let client = client(&base, Duration::from_secs(2));
    let twiml = r#"<Response><Say>Fish & chips = "£5"</Say><Dial>+15551234567</Dial></Response>"#;
    let updates = [
        (
            CallUpdate::Redirect {
                url: "https://hotline.example.com/flow/step?n=2&x=y".to_owned(),
                method: Method::Post,
            },
            vec![
                ("Url", "https://hotline.example.com/flow/step?n=2&x=y"),
                ("Method", "POST"),
            ],
        ),
        (CallUpdate::Twiml(twiml.to_owned()), vec![("Twiml", twiml)]),
        (CallUpdate::Hangup, vec![("Status", "completed")]),
        (CallUpdate::Cancel, vec![("Status", "canceled")]),
    ];
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    for (i, (update, expected)) in updates.iter().enumerate() {
        assert_eq!(
            client.update_call(CALL, update).await.unwrap(),
            UpdateOutcome::Updated
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), i + 1);
        let request = &seen[i];
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.path,
            format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json")
        );
        assert_eq!(request.authorization.as_deref(), Some(basic.as_str()));
        assert_eq!(
            request.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(request.form, expected, "{update:?}");
    }
}

#[tokio::test]
async fn api_base_with_trailing_slash() {
    let (base, seen) = serve(vec![OK]).await;
    let client = client(&format!("{base}/"), Duration::from_secs(2));
    client.update_call(CALL, &CallUpdate::Hangup).await.unwrap();
    assert_eq!(
        seen.lock().unwrap()[0].path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json")
    );
}

#[tokio::test]
async fn rate_limit_then_success_is_retried() {
    let (base, seen) = serve(vec![
        (
            429,
            &[("retry-after", "0")],
            r#"{"code":20429,"message":"Too Many Requests","status":429}"#,
        ),
        OK,
    ])
    .await;
    let outcome = client(&base, Duration::from_secs(2))
        .update_call(CALL, &CallUpdate::Hangup)
        .await
        .unwrap();
    assert_eq!(outcome, UpdateOutcome::Updated);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].form, seen[1].form);
}

#[tokio::test]
async fn server_errors_until_retries_are_exhausted() {
    let (base, seen) = serve(vec![(503, &[], "Service Unavailable")]).await;
    let err = client(&base, Duration::from_secs(2))
        .update_call(CALL, &CallUpdate::Hangup)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RestError::RetriesExhausted {
                attempts: 3,
                last_status: Some(503)
            }
        ),
        "{err:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_policy_gives_up_at_once() {
    let (base, seen) = serve(vec![(429, &[("retry-after", "60")], "")]).await;
    let started = Instant::now();
    let err = client(&base, Duration::from_secs(2))
        .update_call(CALL, &CallUpdate::Hangup)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RestError::RetriesExhausted {
                attempts: 1,
                last_status: Some(429)
            }
        ),
        "{err:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn ended_call_is_reported_gone_after_one_request() {
    let (base, seen) = serve(vec![(
        404,
        &[("content-type", "application/json")],
        r#"{"code":20404,"message":"The requested resource /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls/CAfedcba9876543210fedcba9876543210.json was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#,
    )])
    .await;
    let outcome = client(&base, Duration::from_secs(2))
        .update_call(
            CALL,
            &CallUpdate::Redirect {
                url: "https://example.com/x".to_owned(),
                method: Method::Post,
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome, UpdateOutcome::CallGone);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_credentials_are_not_retried() {
    let (base, seen) = serve(vec![(
        401,
        &[],
        r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#,
    )])
    .await;
    let err = client(&base, Duration::from_secs(2))
        .update_call(CALL, &CallUpdate::Hangup)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RestError::Unauthorized { code: Some(20003) }),
        "{err:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn rejected_update_carries_twilio_code_and_message() {
    let (base, seen) = serve(vec![(
        400,
        &[],
        r#"{"code":21220,"message":"Call is not in-progress. Cannot redirect.","status":400}"#,
    )])
    .await;
    let err = client(&base, Duration::from_secs(2))
        .update_call(CALL, &CallUpdate::Twiml("<Response/>".to_owned()))
        .await
        .unwrap_err();
    match &err {
        RestError::Rejected {
            status: 400,
            code: Some(21220),
            message: Some(message),
        } => assert_eq!(message, "Call is not in-progress. Cannot redirect."),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("21220"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn silent_server_times_out_without_retrying() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let held = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            held.lock().unwrap().push(socket);
        }
    });
    let started = Instant::now();
    let err = client(&format!("http://{addr}"), Duration::from_millis(200))
        .update_call(CALL, &CallUpdate::Hangup)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, RestError::Timeout { after } if after == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(
        accepted.lock().unwrap().len(),
        1,
        "no retry after a timeout"
    );
}

#[tokio::test]
async fn refused_connections_are_retried_then_exhausted() {
    // A port nobody listens on.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(&format!("http://{addr}"), Duration::from_secs(2))
        .update_call(CALL, &CallUpdate::Hangup)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RestError::RetriesExhausted {
                attempts: 3,
                last_status: None
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_call_sid_sends_nothing() {
    let (base, seen) = serve(vec![OK]).await;
    let err = client(&base, Duration::from_secs(2))
        .update_call("../../Accounts/ACevil/Calls/CA1", &CallUpdate::Hangup)
        .await
        .unwrap_err();
    assert!(matches!(err, RestError::InvalidSid(_)), "{err:?}");
    assert!(seen.lock().unwrap().is_empty());
}
