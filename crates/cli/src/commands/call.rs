//! `hotline call`: builds a call from flags or a scenario, runs it in the emulator, prints the
//! transcript and checks the scenario's expectations.

use super::duration_flag;
use crate::cli::CallArgs;
use anyhow::{Context, bail};
use clap::ArgMatches;
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
    // Keep the bin server alive for the whole call.
    let mut _bin_server = None;
    let bin = args.bin.clone().or_else(|| {
        if args.url.is_some() {
            None
        } else {
            scenario.as_ref().and_then(|s| s.bin.clone())
        }
    });
    let url_text = match &bin {
        Some(file) => {
            let (dir, name) = split_bin_path(file)?;
            let server = hotline_emulator::bins::BinServer::start(&dir, &args.auth_token)
                .await
                .context("cannot serve the TwiML bin")?;
            let url = server.url_of(&name);
            _bin_server = Some(server);
            url
        }
        None => args
            .url
            .clone()
            .or_else(|| scenario.as_ref().and_then(|s| s.url.clone()))
            .context("no URL to call: give one as an argument, as `url` in the scenario, or use --bin FILE")?,
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
    spec.dial_outcome = DialOutcome::parse(&args.dial_outcome)
        .with_context(|| format!("unknown --dial-outcome `{}`", args.dial_outcome))?;
    spec.status_callback = args
        .status_callback
        .as_deref()
        .map(|u| parse_http_url(u, "--status-callback"))
        .transpose()?;
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
