//! `hotline call`: builds a call from flags or a scenario, runs it in the emulator, prints the
//! transcript and checks the scenario's expectations.

use super::duration_flag;
use crate::cli::CallArgs;
use anyhow::{Context, bail};
use clap::ArgMatches;
use clap::parser::ValueSource;
use hotline_emulator::duration::parse_duration;
use hotline_emulator::script::{Expectation, validate_digits};
use hotline_emulator::transcript::describe;
use hotline_emulator::{CallSpec, DialOutcome, Emulator, EmulatorConfig, Pace, Scenario, Step};
use hotline_twilio::twiml::Method;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use url::Url;

pub(crate) async fn run(args: CallArgs, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    let scenario = match &args.scenario {
        Some(path) => Some(Scenario::load(path)?),
        None => None,
    };
    // Keep the bin or flow server alive for the whole call.
    let mut _bin_server = None;
    let mut flow_server = None;
    let from_scenario = args.url.is_none() && args.bin.is_none() && args.flow.is_none();
    let bin = args
        .bin
        .clone()
        .or_else(|| from_scenario.then(|| scenario.as_ref()?.bin.clone())?);
    let flow = args
        .flow
        .clone()
        .or_else(|| from_scenario.then(|| scenario.as_ref()?.flow.clone())?);
    if bin.is_some() && flow.is_some() {
        bail!("the scenario gives both `bin` and `flow`: call one or the other");
    }
    if flow.is_none() && !args.intents.is_empty() {
        bail!("--intents is for a flow served here: give --flow FILE (or a scenario's `flow`)");
    }
    let url_text = match (&bin, &flow) {
        (None, Some(file)) => {
            let intents = if args.intents.is_empty() {
                scenario.as_ref().map_or(&[][..], |s| &s.intents[..])
            } else {
                &args.intents[..]
            };
            let server = FlowServer::start(file, &args.auth_token, intents).await?;
            let url = server.voice_url.clone();
            flow_server = Some(server);
            url
        }
        (Some(file), _) => {
            let (dir, name) = split_bin_path(file)?;
            let server = hotline_emulator::bins::BinServer::start(&dir, &args.auth_token)
                .await
                .context("cannot serve the TwiML bin")?;
            let url = server.url_of(&name);
            _bin_server = Some(server);
            url
        }
        (None, None) => args
            .url
            .clone()
            .or_else(|| scenario.as_ref().and_then(|s| s.url.clone()))
            .context("no URL to call: give one as an argument, as `url` in the scenario, or use --bin FILE or --flow FILE")?,
    };
    let url = parse_http_url(&url_text, "the voice URL")?;

    let mut spec = CallSpec::new(url);
    let method = args
        .method
        .clone()
        .or_else(|| scenario.as_ref().and_then(|s| s.method.clone()));
    if let Some(m) = method {
        spec.method = Method::parse(&m).with_context(|| format!("unknown method `{m}`"))?;
    }
    let mut expectations: Vec<Expectation> = Vec::new();
    if let Some(s) = &scenario {
        spec.script = s.script().map_err(|e| anyhow::anyhow!("scenario: {e}"))?;
        if let Some(f) = &s.from {
            spec.from = f.clone();
        }
        if let Some(t) = &s.to {
            spec.to = t.clone();
        }
        if let Some(c) = s.confidence {
            spec.confidence = c;
        }
        if let Some(h) = &s.hangup_after {
            spec.hangup_after = Some(parse_duration(h).map_err(anyhow::Error::msg)?);
        }
        expectations = s.expect.clone();
    }
    spec.script.extend(steps_from_flags(&args, matches)?);
    if let Some(f) = &args.from {
        spec.from = f.clone();
    }
    if let Some(t) = &args.to {
        spec.to = t.clone();
    }
    if !(0.0..=1.0).contains(&args.confidence) {
        bail!("--confidence must be between 0 and 1");
    }
    if matches.value_source("confidence") == Some(clap::parser::ValueSource::CommandLine)
        || scenario.as_ref().is_none_or(|s| s.confidence.is_none())
    {
        spec.confidence = args.confidence;
    }
    spec.language = args.language.clone();
    if let Some(h) = &args.hangup_after {
        spec.hangup_after = Some(duration_flag(h, "hangup-after")?);
    }
    spec.max_duration = duration_flag(&args.max_duration, "max-duration")?;
    let dial_outcome = match scenario.as_ref().and_then(|s| s.dial_outcome.as_deref()) {
        Some(o) if matches.value_source("dial_outcome") != Some(ValueSource::CommandLine) => o,
        _ => args.dial_outcome.as_str(),
    };
    spec.dial_outcome = DialOutcome::parse(dial_outcome).with_context(|| {
        format!("unknown dial outcome `{dial_outcome}` (completed, busy, no-answer or failed)")
    })?;
    spec.status_callback = args
        .status_callback
        .as_deref()
        .map(|u| parse_http_url(u, "--status-callback"))
        .transpose()?;
    // A flow served here hears how its call ended, as behind Twilio.
    if let Some(server) = &flow_server
        && spec.status_callback.is_none()
    {
        spec.status_callback = Some(parse_http_url(&server.status_url, "the status callback")?);
    }
    spec.fallback_url = args
        .fallback_url
        .as_deref()
        .map(|u| parse_http_url(u, "--fallback-url"))
        .transpose()?;
    spec.pace = if args.realtime {
        Pace::Realtime
    } else {
        match args.speed.as_deref() {
            None => Pace::FAST,
            Some("max") => Pace::Fast {
                speed: f64::INFINITY,
            },
            Some(s) => {
                let speed: f64 = s
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite() && *v >= 1.0)
                    .with_context(|| format!("--speed must be a number ≥ 1 or `max`, got `{s}`"))?;
                Pace::Fast { speed }
            }
        }
    };

    let config = EmulatorConfig {
        account_sid: args.account_sid.clone(),
        auth_token: args.auth_token.clone(),
        webhook_timeout: parse_duration(&args.timeout)
            .map_err(|e| anyhow::anyhow!("--timeout: {e}"))?,
        api_addr: SocketAddr::from(([127, 0, 0, 1], args.api_port)),
    };
    let emulator = Emulator::start(config).await?;
    let live: Option<hotline_emulator::recorder::LiveSink> = if args.json {
        None
    } else {
        Some(Arc::new(|entry: &hotline_emulator::transcript::Entry| {
            println!(
                "[{}] {}",
                hotline_emulator::duration::fmt_clock(entry.t_ms),
                describe(&entry.event)
            );
        }))
    };
    let report = emulator.call_with_live(spec, live).await;
    if let Some(server) = flow_server {
        server.stop().await;
    }
    let checks = report.transcript.check(&expectations);
    let passed = checks.iter().all(|c| c.passed);

    if args.json {
        let out = serde_json::json!({
            "call_sid": report.call_sid,
            "scenario": scenario.as_ref().and_then(|s| s.name.clone()),
            "ended_by": report.transcript.end().map(|(r, _)| r.as_str()),
            "duration_ms": report.transcript.end().map(|(_, ms)| ms),
            "events": report.transcript.entries,
            "checks": checks,
            "passed": passed,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if !checks.is_empty() {
        println!();
        for c in &checks {
            match &c.detail {
                None => println!("✔ {}", c.expectation),
                Some(d) => println!("✘ {} — {d}", c.expectation),
            }
        }
        let failed = checks.iter().filter(|c| !c.passed).count();
        println!("{} passed, {failed} failed", checks.len() - failed);
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A flow file served in this process for one call (`--flow FILE`, a scenario's `flow`): the
/// server `hotline serve` runs, on a loopback port, with signatures checked and its call
/// records in a temporary SQLite file that goes with it.
struct FlowServer {
    voice_url: String,
    status_url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _records: tempfile::TempDir,
}

impl FlowServer {
    async fn start(
        file: &std::path::Path,
        auth_token: &str,
        intents: &[String],
    ) -> anyhow::Result<FlowServer> {
        // Checked as `hotline check` does, so that a broken flow shows its diagnostics.
        let id = match hotline_flow::load_flow(file) {
            Ok(loaded) => loaded.flow.id,
            Err(diags) => {
                let sources = hotline_flow::Sources::read_for(&diags);
                eprint!("{}", hotline_flow::render_diagnostics(&diags, &sources));
                bail!("--flow: {} is not a valid flow", file.display());
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on loopback for the flow")?;
        let base = format!("http://{}", listener.local_addr()?);
        let records = tempfile::tempdir().context("cannot make a folder for the call records")?;
        let mut config = hotline_server::ServerConfig::new(vec![file.to_owned()], base.clone());
        config.auth_token = Some(auth_token.to_owned());
        config.records = hotline_store::RecordStoreConfig::Sqlite(
            hotline_store::records::sqlite::SqliteConfig::new(records.path().join("records.db")),
        );
        for spec in intents {
            config.intents.push(
                hotline_server::intents::parse_intents_spec(spec).map_err(anyhow::Error::msg)?,
            );
        }
        let s3 = super::serve::s3_prompts(&config.flows).await?;
        let engines = crate::engines::Engines::default();
        let server = hotline_server::Server::build_with(&config, s3, Some(&engines))
            .await
            .with_context(|| format!("cannot serve {}", file.display()))?;
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(listener, async {
            let _ = rx.await;
        }));
        Ok(FlowServer {
            voice_url: format!("{base}{}", hotline_server::links::flow_voice_path(&id)),
            status_url: format!("{base}/status"),
            stop,
            task,
            _records: records,
        })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the flow's server stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "the flow's server did not stop cleanly"),
        }
    }
}

/// The folder to serve and the entry file's name, for `--bin FILE`.
fn split_bin_path(file: &std::path::Path) -> anyhow::Result<(PathBuf, String)> {
    if !file.is_file() {
        bail!("--bin: no such file {}", file.display());
    }
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("--bin: {} has no usable file name", file.display()))?
        .to_owned();
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((dir, name))
}

fn parse_http_url(text: &str, what: &str) -> anyhow::Result<Url> {
    let url = Url::parse(text).with_context(|| format!("{what} `{text}` is not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{what} must be http:// or https://, got `{text}`");
    }
    Ok(url)
}

/// Caller steps from the flags, in the order they were given on the command line.
fn steps_from_flags(args: &CallArgs, m: &ArgMatches) -> anyhow::Result<Vec<Step>> {
    let mut indexed: Vec<(usize, Step)> = Vec::new();
    let idx =
        |name: &str| -> Vec<usize> { m.indices_of(name).map(|i| i.collect()).unwrap_or_default() };
    for (i, text) in idx("say").into_iter().zip(&args.say) {
        indexed.push((
            i,
            Step::Say {
                text: text.clone(),
                confidence: None,
            },
        ));
    }
    for (i, keys) in idx("press").into_iter().zip(&args.press) {
        indexed.push((
            i,
            Step::Press(validate_digits(keys).map_err(|e| anyhow::anyhow!("--press: {e}"))?),
        ));
    }
    for (i, d) in idx("silence").into_iter().zip(&args.silence) {
        indexed.push((
            i,
            Step::Silence(parse_duration(d).map_err(|e| anyhow::anyhow!("--silence: {e}"))?),
        ));
    }
    for (i, d) in idx("listen").into_iter().zip(&args.listen) {
        indexed.push((
            i,
            Step::Listen(parse_duration(d).map_err(|e| anyhow::anyhow!("--listen: {e}"))?),
        ));
    }
    for (i, a) in idx("audio").into_iter().zip(&args.audio) {
        let (file, text) = match a.split_once('=') {
            Some((f, t)) => (f, Some(t.to_owned())),
            None => (a.as_str(), None),
        };
        let path = PathBuf::from(file);
        if !path.is_file() {
            bail!("--audio: no such file {}", path.display());
        }
        indexed.push((i, Step::Audio { path, text }));
    }
    if args.hangup {
        let i = idx("hangup").first().copied().unwrap_or(usize::MAX);
        indexed.push((i, Step::Hangup));
    }
    indexed.sort_by_key(|(i, _)| *i);
    Ok(indexed.into_iter().map(|(_, s)| s).collect())
}
