//! The deployment example (`examples/deploy/`) runs as written: the systemd unit's `ExecStart`,
//! with the environment file's variables, starts a server that answers a call Twilio signed for
//! the public URL, records it, and serves its metrics behind the scrape token. Only what cannot
//! exist on a test machine is changed: `/etc/hotline` and `/var/lib/hotline` become temporary
//! folders, and the ports become ones the system picks.
#![allow(clippy::unwrap_used)]

mod serve;

use serve::{Serve, exchange, root};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The `ExecStart=` command of a systemd unit, its `\` line continuations joined, split into
/// words (the example quotes nothing).
fn exec_start(unit: &str) -> Vec<String> {
    let joined = unit.replace("\\\n", " ");
    let line = joined
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart= line");
    line.split_whitespace().map(str::to_owned).collect()
}

/// The `KEY=VALUE` lines of an environment file (comments and blank lines skipped).
fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("KEY=VALUE");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// A value of the unit's own settings (`Key=value`).
fn setting<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn the_systemd_unit_and_its_environment_file_serve_a_signed_call() {
    let deploy = root().join("examples/deploy");
    let unit = std::fs::read_to_string(deploy.join("hotline.service")).unwrap();
    let env = env_file(&std::fs::read_to_string(deploy.join("hotline.env")).unwrap());
    assert_eq!(
        setting(&unit, "EnvironmentFile"),
        Some("/etc/hotline/hotline.env")
    );
    assert_eq!(setting(&unit, "StateDirectory"), Some("hotline"));

    // /etc/hotline holds the flows the unit's comments install; /var/lib/hotline is the state.
    let tmp = tempfile::tempdir().unwrap();
    let etc = tmp.path().join("etc/hotline");
    let state = tmp.path().join("var/lib/hotline");
    std::fs::create_dir_all(etc.join("flows")).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    // As the unit's comments copy them: the flow, and the prompt folder its `play`s name.
    assert!(
        unit.contains(
            "cp -r examples/flows/covid-triage-fr.yaml examples/flows/prompts /etc/hotline/flows/"
        ),
        "{unit}"
    );
    std::fs::copy(
        root().join("examples/flows/covid-triage-fr.yaml"),
        etc.join("flows/covid-triage-fr.yaml"),
    )
    .unwrap();
    std::fs::create_dir_all(etc.join("flows/prompts")).unwrap();
    for f in std::fs::read_dir(root().join("examples/flows/prompts")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), etc.join("flows/prompts").join(f.file_name())).unwrap();
    }
    let local = |word: &str| {
        word.replace("/etc/hotline", &etc.display().to_string())
            .replace("/var/lib/hotline", &state.display().to_string())
            .replace("127.0.0.1:8080", "127.0.0.1:0")
            .replace("127.0.0.1:9464", "127.0.0.1:0")
    };
    let argv = exec_start(&unit);
    assert_eq!(argv[0], "/usr/local/bin/hotline", "{argv:?}");
    assert_eq!(argv[1], "serve", "{argv:?}");

    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .current_dir(&state)
        .args(argv[1..].iter().map(|w| local(w)))
        .stdout(Stdio::null());
    for var in [
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "HOTLINE_PUBLIC_URL",
        "HOTLINE_METRICS_TOKEN",
        "HOTLINE_PROMPT_KEY",
        "HOTLINE_SESSIONS",
        "HOTLINE_RECORDS",
    ] {
        command.env_remove(var);
    }
    if let Some(vars) = setting(&unit, "Environment") {
        let (k, v) = vars.split_once('=').unwrap();
        command.env(k, local(v));
    }
    for (k, v) in &env {
        command.env(k, v);
    }
    let (server, webhooks) = Serve::start(command, Duration::from_secs(30), " (examples/deploy)");
    let var = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("hotline.env sets no {name}"))
    };

    // A call to the unit's number, signed as Twilio signs it for the public URL.
    let (number, flow) = argv
        .iter()
        .position(|w| w == "--number")
        .and_then(|i| argv.get(i + 1))
        .and_then(|n| n.split_once('='))
        .expect("a --number NUMBER=FLOW");
    let params: Vec<(String, String)> = [
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", "+33612345678"),
        ("To", number),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let public = var("HOTLINE_PUBLIC_URL");
    let signature = hotline_twilio::signature::compute(
        &var("TWILIO_AUTH_TOKEN"),
        &format!("{public}/voice"),
        &params,
    );
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let answer = exchange(
        webhooks,
        &format!(
            "POST /voice HTTP/1.1\r\nHost: hotline.example.com\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {signature}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("<Gather") && answer.contains(&format!("{public}/flows/{flow}/step")),
        "{answer}"
    );

    // The records are where the unit's state folder keeps them.
    let db = state.join("records.db");
    assert!(db.exists(), "no {}", db.display());
    let calls: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM calls WHERE flow_id = ?1",
            [flow],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(calls, 1);

    // The metrics, on their own listener, need the environment file's scrape token.
    let metrics = server.metrics_addr();
    let scrape = |auth: &str| {
        exchange(
            metrics,
            &format!("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n"),
        )
    };
    assert!(scrape("").starts_with("HTTP/1.1 401"));
    let text = scrape(&format!(
        "Authorization: Bearer {}\r\n",
        var("HOTLINE_METRICS_TOKEN")
    ));
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains(&format!("hotline_calls_started_total{{flow=\"{flow}\"}} 1")),
        "{text}"
    );
    server.stop();
}

/// The proxies' examples send Hotline's port what Hotline serves, and the media streams'
/// WebSocket upgrade with it.
#[test]
fn the_reverse_proxy_examples_reach_the_unit_s_port_and_upgrade_media_streams() {
    let deploy = root().join("examples/deploy");
    let unit = std::fs::read_to_string(deploy.join("hotline.service")).unwrap();
    let listen = {
        let argv = exec_start(&unit);
        let i = argv.iter().position(|w| w == "--listen").unwrap();
        argv[i + 1].clone()
    };
    let read = |name: &str| std::fs::read_to_string(Path::new(&deploy).join(name)).unwrap();
    let caddy = read("Caddyfile");
    assert!(
        caddy.contains(&format!("reverse_proxy {listen}")),
        "{caddy}"
    );
    let nginx = read("nginx.conf");
    assert!(nginx.contains(&format!("server {listen};")), "{nginx}");
    let streams = nginx
        .split("location /streams/ {")
        .nth(1)
        .expect("a location for the media streams");
    let streams = &streams[..streams.find('}').unwrap()];
    for line in [
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection \"upgrade\";",
    ] {
        assert!(streams.contains(line), "no `{line}` in:\n{streams}");
    }
    // The body limit is Hotline's own.
    assert!(
        nginx.contains(&format!(
            "client_max_body_size {}k;",
            hotline_server::app::MAX_BODY_BYTES / 1024
        )),
        "{nginx}"
    );
}
