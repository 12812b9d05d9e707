//! S3 prompts end to end, all on 127.0.0.1: `hotline serve` with a flow whose prompts live in
//! `s3://prompts-bucket/fr`, [`S3Prompts`] pointed at a local stand-in for an S3-compatible store
//! that checks every SigV4 presigned URL (signature recomputed, expiry enforced), Twilio's side
//! played by signed webhooks and by the emulator. Plus the start-up errors when the region or
//! the credentials are missing (run in a child process with a controlled environment).
#![allow(clippy::unwrap_used)]

use hotline_aws::s3::{CredentialsSource, S3Prompts, S3PromptsConfig};
use hotline_emulator::{CallSpec, Emulator, EmulatorConfig, Event};
use hotline_server::{Server, ServerConfig};
use hotline_store::RecordStoreConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "s3-e2e-auth-token";
const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "secret";

fn beep() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows/prompts/beep.wav"),
    )
    .unwrap()
}

/// A stand-in for an S3-compatible store (path style: `GET /{bucket}/{key}`) that serves an
/// object only for a valid, unexpired SigV4 presigned URL made with [`ACCESS_KEY`]/[`SECRET`].
mod fake_s3 {
    use axum::Router;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode, Uri, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::sync::Arc;

    type Objects = Arc<HashMap<(String, String), Vec<u8>>>;

    /// Serves `objects` (bucket, key → bytes) on 127.0.0.1; returns `http://127.0.0.1:PORT`.
    pub(crate) async fn start(objects: Vec<((&str, &str), Vec<u8>)>) -> String {
        let objects: Objects = Arc::new(
            objects
                .into_iter()
                .map(|((b, k), v)| ((b.to_owned(), k.to_owned()), v))
                .collect(),
        );
        let app = Router::new()
            .route("/{bucket}/{*key}", get(object))
            .with_state(objects);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    async fn object(
        State(objects): State<Objects>,
        Path((bucket, key)): Path<(String, String)>,
        uri: Uri,
        headers: HeaderMap,
    ) -> Response {
        if let Err(why) = verify(&uri, &headers) {
            return (StatusCode::FORBIDDEN, why).into_response();
        }
        match objects.get(&(bucket, key)) {
            Some(bytes) => ([(header::CONTENT_TYPE, "audio/wav")], bytes.clone()).into_response(),
            None => (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn hmac(key: &[u8], data: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Unix seconds of `YYYYMMDDTHHMMSSZ`.
    fn parse_amz_date(d: &str) -> Option<i64> {
        if d.len() != 16 || &d[8..9] != "T" || !d.ends_with('Z') {
            return None;
        }
        let n = |r: std::ops::Range<usize>| d.get(r)?.parse::<i64>().ok();
        let (y, m, day) = (n(0..4)?, n(4..6)?, n(6..8)?);
        let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
        // Days from civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
    }

    /// Checks a presigned GET the way S3 does (SigV4, query parameters, `UNSIGNED-PAYLOAD`).
    fn verify(uri: &Uri, headers: &HeaderMap) -> Result<(), String> {
        let query = uri.query().ok_or("no query: not a presigned URL")?;
        let pairs: Vec<(&str, &str)> = query
            .split('&')
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| *v)
                .ok_or(format!("missing {k}"))
        };
        if get("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
            return Err("unsupported algorithm".into());
        }
        let signature = get("X-Amz-Signature")?;
        let date = get("X-Amz-Date")?;
        let expires: i64 = get("X-Amz-Expires")?
            .parse()
            .map_err(|_| "bad X-Amz-Expires")?;
        let signed_at = parse_amz_date(date).ok_or("bad X-Amz-Date")?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        if now > signed_at + expires {
            return Err("AccessDenied: Request has expired".into());
        }
        if signed_at > now + 300 {
            return Err("AccessDenied: X-Amz-Date is in the future".into());
        }
        let credential = get("X-Amz-Credential")?.replace("%2F", "/");
        let (access_key, scope) = credential.split_once('/').ok_or("bad credential")?;
        if access_key != super::ACCESS_KEY {
            return Err("InvalidAccessKeyId".into());
        }
        let mut scope_parts = scope.split('/');
        let (day, region, service) = (
            scope_parts.next().ok_or("bad scope")?,
            scope_parts.next().ok_or("bad scope")?,
            scope_parts.next().ok_or("bad scope")?,
        );
        if !date.starts_with(day) || service != "s3" {
            return Err("bad scope".into());
        }
        let signed_headers = get("X-Amz-SignedHeaders")?.replace("%3B", ";");
        let mut canonical_headers = String::new();
        for h in signed_headers.split(';') {
            let v = headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .ok_or(format!("signed header {h} missing"))?;
            canonical_headers.push_str(&format!("{h}:{}\n", v.trim()));
        }
        let mut canonical_query: Vec<&(&str, &str)> = pairs
            .iter()
            .filter(|(k, _)| *k != "X-Amz-Signature")
            .collect();
        canonical_query.sort();
        let canonical_query = canonical_query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let canonical_request = format!(
            "GET\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD",
            uri.path()
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical_request.as_bytes()))
        );
        let key = hmac(format!("AWS4{}", super::SECRET).as_bytes(), day);
        let key = hmac(&key, region);
        let key = hmac(&key, service);
        let key = hmac(&key, "aws4_request");
        if hex(&hmac(&key, &string_to_sign)) != signature {
            return Err(format!(
                "SignatureDoesNotMatch\ncanonical request:\n{canonical_request}"
            ));
        }
        Ok(())
    }
}

fn static_config(endpoint: &str, ttl: Duration) -> S3PromptsConfig {
    S3PromptsConfig {
        region: Some("eu-west-3".to_owned()),
        endpoint_url: Some(endpoint.to_owned()),
        force_path_style: true,
        ttl,
        credentials: CredentialsSource::Static(hotline_aws::s3::Credentials::new(
            ACCESS_KEY, SECRET, None, None, "test",
        )),
    }
}

/// Two flows: one with a prefix (and a key that needs encoding), one at the bucket's root.
fn write_flows(dir: &Path) -> Vec<PathBuf> {
    let with_prefix = dir.join("s3-fr.yaml");
    std::fs::write(
        &with_prefix,
        r#"flow: s3-fr
language: fr-FR
prompts: s3://prompts-bucket/fr
nodes:
  welcome:
    play: "accueil/bonjour-à-tous.wav"
    hangup: true
"#,
    )
    .unwrap();
    let at_root = dir.join("s3-root.yaml");
    std::fs::write(
        &at_root,
        r#"flow: s3-root
language: en-US
prompts: s3://prompts-bucket
nodes:
  welcome:
    play: root.wav
    hangup: true
"#,
    )
    .unwrap();
    vec![with_prefix, at_root]
}

struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn serve(dir: &Path, s3: S3Prompts) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::new(write_flows(dir), format!("http://{addr}"));
    config.auth_token = Some(TOKEN.to_owned());
    config.records = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(
        dir.join("records.db"),
    ));
    config.reload_every = None;
    let server = Server::build_with_s3(&config, Some(Arc::new(s3)))
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    Running {
        base: format!("http://{addr}"),
        stop: Some(tx),
    }
}

/// The prompt URL in the TwiML the server answers to a signed voice webhook for `flow` (a new
/// call each time: a repeated `CallSid` would be answered from its session).
async fn prompt_url(base: &str, flow: &str) -> String {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let call_sid = format!("CA{n:032x}");
    let url = format!("{base}/flows/{flow}/voice");
    let params: Vec<(String, String)> = [
        ("CallSid", call_sid.as_str()),
        ("From", "+15550001111"),
        ("To", "+15550002222"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let sig = hotline_twilio::signature::compute(TOKEN, &url, &params);
    let xml = reqwest::Client::new()
        .post(&url)
        .header("X-Twilio-Signature", sig)
        .form(&params)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = xml.find("<Play>").expect(&xml) + "<Play>".len();
    let end = xml[start..].find("</Play>").unwrap() + start;
    xml[start..end].replace("&amp;", "&")
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn prompt_urls_redirect_to_presigned_s3_urls_that_fetch_the_object() {
    let audio = beep();
    let s3_base = fake_s3::start(vec![
        (
            ("prompts-bucket", "fr/accueil/bonjour-à-tous.wav"),
            audio.clone(),
        ),
        (("prompts-bucket", "root.wav"), audio.clone()),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Prompts::connect(&static_config(&s3_base, Duration::from_secs(600)))
        .await
        .unwrap();
    let server = serve(dir.path(), s3).await;

    for (flow, object_path) in [
        (
            "s3-fr",
            "/prompts-bucket/fr/accueil/bonjour-%C3%A0-tous.wav?",
        ),
        ("s3-root", "/prompts-bucket/root.wav?"),
    ] {
        // TwiML carries Hotline's own signed URL, never an S3 one.
        let url = prompt_url(&server.base, flow).await;
        assert!(
            url.starts_with(&format!("{}/prompts/{flow}/", server.base)),
            "{url}"
        );
        assert!(url.contains("sig=") && !url.contains("X-Amz"), "{url}");

        let r = no_redirects().get(&url).send().await.unwrap();
        assert_eq!(r.status(), 302, "{url}");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!("{s3_base}{object_path}")),
            "{location}"
        );
        assert!(location.contains("X-Amz-Expires=600"), "{location}");

        let r = reqwest::get(&location).await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        assert_eq!(r.headers()["content-type"], "audio/wav");
        assert_eq!(r.bytes().await.unwrap().to_vec(), audio);

        // The stand-in really checks signatures: a tampered URL is refused.
        let tampered = location.replace("X-Amz-Expires=600", "X-Amz-Expires=6000");
        let r = reqwest::get(&tampered).await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("SignatureDoesNotMatch"));
    }

    // Hotline's own signature still guards the route: no redirect for a forged prompt URL.
    let url = prompt_url(&server.base, "s3-root").await;
    let forged = url.replace("root.wav", "secret.wav");
    assert_eq!(
        no_redirects().get(&forged).send().await.unwrap().status(),
        403
    );
}

#[tokio::test]
async fn the_emulator_plays_s3_prompts_through_the_redirect() {
    let s3_base = fake_s3::start(vec![(
        ("prompts-bucket", "fr/accueil/bonjour-à-tous.wav"),
        beep(),
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Prompts::connect(&static_config(&s3_base, Duration::from_secs(600)))
        .await
        .unwrap();
    let server = serve(dir.path(), s3).await;
    let emu = Emulator::start(EmulatorConfig {
        auth_token: TOKEN.to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let spec = CallSpec::new(
        format!("{}/flows/s3-fr/voice", server.base)
            .parse()
            .unwrap(),
    );
    let t = tokio::time::timeout(Duration::from_secs(30), emu.call(spec))
        .await
        .unwrap()
        .transcript;
    let played: Vec<_> = t
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Play {
                content_type,
                duration_ms,
                ..
            } => Some((content_type.clone(), *duration_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(played.len(), 1, "{}", t.render_text());
    assert_eq!(
        played[0].0.as_deref(),
        Some("audio/wav"),
        "{}",
        t.render_text()
    );
    assert!(played[0].1 > 0, "{}", t.render_text());
    assert!(
        !t.entries
            .iter()
            .any(|e| matches!(e.event, Event::ApplicationError { .. })),
        "{}",
        t.render_text()
    );
}

#[tokio::test]
async fn presigned_urls_expire() {
    let s3_base = fake_s3::start(vec![(("prompts-bucket", "root.wav"), beep())]).await;
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Prompts::connect(&static_config(&s3_base, Duration::from_secs(1)))
        .await
        .unwrap();
    let server = serve(dir.path(), s3).await;
    let url = prompt_url(&server.base, "s3-root").await;
    let r = no_redirects().get(&url).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(reqwest::get(&location).await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = reqwest::get(&location).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("expired"));
    // Each request to Hotline's URL presigns afresh.
    let r = no_redirects().get(&url).send().await.unwrap();
    let fresh = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(reqwest::get(&fresh).await.unwrap().status(), 200);
}

/// Runs [`child_connect_from_env`] in a child process with exactly `env` (no network: the EC2
/// metadata lookup is disabled, no profile files exist) and returns what it printed.
fn connect_in_child(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("none");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "child_connect_from_env",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env("HOTLINE_AWS_TEST_CHILD", "1")
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = stdout.find("RESULT: ").expect(&stdout) + "RESULT: ".len();
    stdout[start..]
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Not a test on its own: the body [`connect_in_child`] runs in a child process.
#[tokio::test]
async fn child_connect_from_env() {
    if std::env::var_os("HOTLINE_AWS_TEST_CHILD").is_none() {
        return;
    }
    let result = match S3PromptsConfig::from_env() {
        Ok(config) => match S3Prompts::connect(&config).await {
            Ok(s3) => format!("ok region={}", s3.region()),
            Err(e) => format!("error: {e}"),
        },
        Err(e) => format!("error: {e}"),
    };
    println!("RESULT: {result}");
}

#[test]
fn missing_credentials_stop_start_up_with_the_variables_to_set() {
    let r = connect_in_child(&[("AWS_REGION", "eu-west-3")]);
    assert!(r.starts_with("error: no AWS credentials"), "{r}");
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"] {
        assert!(r.contains(var), "{r}");
    }
}

#[test]
fn a_missing_region_stops_start_up_with_the_variable_to_set() {
    let r = connect_in_child(&[
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ]);
    assert!(r.starts_with("error: no AWS region"), "{r}");
    assert!(r.contains("AWS_REGION"), "{r}");
}

#[test]
fn a_malformed_region_or_setting_stops_start_up() {
    let r = connect_in_child(&[
        ("AWS_REGION", "Europe/Paris"),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ]);
    assert!(
        r.starts_with("error: `Europe/Paris` is not an AWS region"),
        "{r}"
    );
    let r = connect_in_child(&[("HOTLINE_S3_PATH_STYLE", "perhaps")]);
    assert!(
        r.starts_with("error: HOTLINE_S3_PATH_STYLE=`perhaps`"),
        "{r}"
    );
}

#[test]
fn keys_and_region_from_the_environment_are_enough() {
    for region_var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        let r = connect_in_child(&[
            (region_var, "eu-west-3"),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("HOTLINE_S3_ENDPOINT", "http://127.0.0.1:9"),
            ("HOTLINE_S3_PATH_STYLE", "true"),
        ]);
        assert_eq!(r, "ok region=eu-west-3");
    }
}
