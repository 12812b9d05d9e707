//! `hotline serve`: builds the server from flags and runs it until Ctrl-C or SIGTERM.
//!
//! When a flow keeps its prompts in S3 (`prompts: s3://…`), the S3 presigner is built from the
//! environment (`AWS_REGION`, the AWS credential chain, `HOTLINE_S3_*`) before the server, so a
//! missing region or missing credentials stop the start-up instead of failing the first call.
//! Voice bots (`--bot`) are parsed by `hotline_server::bots::parse_bot_spec`; their engines,
//! Lex included, are built by `hotline_aws::lex::build`.

use super::{duration_flag, stores};
use crate::cli::ServeArgs;
use crate::console;
use anyhow::{Context, bail};
use hotline_aws::s3::{S3Prompts, S3PromptsConfig};
use hotline_flow::PromptBase;
use hotline_server::app::S3Presigner;
use hotline_server::engine::LostCallPolicy;
use hotline_server::registry::{self, FlowRegistry, LoadReport};
use hotline_server::{LimitError, Server, ServerConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    open_files(
        args.max_connections,
        args.max_streams.map_or(0, |n| n.get()),
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    // The bound address: the port the system chose, for `--listen …:0`, which is also what the
    // default public URL must name for signatures to match.
    let bound = listener.local_addr().unwrap_or(args.listen);
    let metrics = match args.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("--metrics-listen: cannot listen on {addr}"))?,
        ),
        None => None,
    };
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"));
    let mut config = ServerConfig::new(args.flows.clone(), public_url.clone());
    config.auth_token = args.auth_token.clone();
    config.verify_signatures = !args.insecure_skip_signature;
    config.metrics_token = args.metrics_token.clone();
    config.records = stores::records(&args.records.records)?;
    config.sessions = stores::sessions(&args.sessions)?;
    for n in &args.numbers {
        let (number, flow) = n.split_once('=').with_context(|| {
            format!("--number `{n}`: use NUMBER=FLOW, e.g. +33970000000=covid-triage-fr")
        })?;
        config
            .numbers
            .push((number.trim().to_owned(), flow.trim().to_owned()));
    }
    config.default_flow = args.default_flow.clone();
    config.lost_call = match args.lost_call.as_str() {
        "restart" => LostCallPolicy::Restart,
        "hangup" => LostCallPolicy::Hangup,
        other => match other.strip_prefix("transfer:") {
            Some(target) if !target.is_empty() => LostCallPolicy::Transfer(target.to_owned()),
            _ => bail!("--lost-call `{other}`: use restart, hangup or transfer:NUMBER"),
        },
    };
    config.error_transfer = args.error_transfer.clone();
    config.prompt_key = args.prompt_key.as_ref().map(|k| k.as_bytes().to_vec());
    for spec in &args.bots {
        config
            .bots
            .push(hotline_server::bots::parse_bot_spec(spec).map_err(anyhow::Error::msg)?);
    }
    for spec in &args.intents {
        config
            .intents
            .push(hotline_server::intents::parse_intents_spec(spec).map_err(anyhow::Error::msg)?);
    }
    config.account_sid = args.account_sid.clone();
    config.twilio_api_base = args.twilio_api_base.clone();
    config.connections = hotline_server::ConnectionLimits {
        idle: duration_flag(&args.idle_timeout, "idle-timeout")?,
        header: duration_flag(&args.header_timeout, "header-timeout")?,
        request: duration_flag(&args.request_timeout, "request-timeout")?,
        max_connections: args.max_connections,
    };
    config.connections.validate().map_err(|e| match e {
        LimitError::TooShort { field, value } => anyhow::anyhow!(
            "--{field}-timeout must be at least 10ms (it is {} ms)",
            value.as_millis()
        ),
        LimitError::NoConnections => anyhow::anyhow!("--max-connections must be at least 1"),
    })?;
    config.max_streams = args.max_streams;
    config.retention = args
        .retention
        .as_deref()
        .map(|r| super::retention_flag(r, "retention"))
        .transpose()?;

    let s3 = s3_prompts(&config.flows).await?;
    let engines = crate::engines::Engines::default();
    let server = match Server::build_with(&config, s3, Some(&engines)).await {
        Ok(s) => s,
        Err(hotline_server::ServerError::Flows(diagnostics)) => {
            console::block(&diagnostics.to_string(), true);
            console::error(format_args!(
                "error: the flows above are invalid; nothing was started"
            ));
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    if !server.verifies_signatures() {
        console::warn(format_args!(
            "WARNING: X-Twilio-Signature checks are OFF (--insecure-skip-signature). Anyone who can \
             reach {public_url} can drive calls and write call records. Never run a real number like this."
        ));
    }
    for r in server.load_reports() {
        if let LoadReport::Loaded {
            id,
            version,
            path,
            warnings,
        } = r
        {
            console::info(format_args!(
                "flow {id} (version {version}) from {}",
                path.display()
            ));
            if !warnings.is_empty() {
                console::block(&warnings.to_string(), false);
            }
        }
    }
    if let Some(m) = &metrics {
        let at = m
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        console::info(format_args!("metrics: http://{at}/metrics"));
        if args.metrics_token.is_none() && m.local_addr().is_ok_and(|a| !a.ip().is_loopback()) {
            console::warn(format_args!(
                "WARNING: the metrics on {at} are open to anyone who reaches that address (no \
                 --metrics-token): they tell how many calls the line takes and what fails. Set \
                 HOTLINE_METRICS_TOKEN, or listen on 127.0.0.1."
            ));
        }
    }
    console::info(format_args!(
        "hotline serve: listening on {bound} — voice webhook {public_url}/voice, status callback {public_url}/status"
    ));
    for i in &config.intents {
        console::info(format_args!(
            "intent engine {}: the intents of {}",
            i.name,
            i.bot.display()
        ));
    }
    for bot in &config.bots {
        console::info(format_args!(
            "voice bot {}: webhook {public_url}/bots/{}/voice ({} stream, {} VAD)",
            bot.name,
            bot.name,
            if bot.bidirectional {
                "<Connect>"
            } else {
                "<Start>"
            },
            bot.vad_name()
        ));
    }
    server
        .serve_with_metrics(listener, metrics, hotline_server::shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    console::info(format_args!("hotline serve: stopped"));
    Ok(ExitCode::SUCCESS)
}

/// The S3 presigner, when a flow keeps its prompts in S3; `None` otherwise (invalid flows are
/// reported by [`Server::build`]).
pub(super) async fn s3_prompts(flows: &[PathBuf]) -> anyhow::Result<Option<Arc<dyn S3Presigner>>> {
    let s3_flows = flows_with_s3_prompts(flows);
    if s3_flows.is_empty() {
        return Ok(None);
    }
    let needed_by = match s3_flows.as_slice() {
        [one] => format!("flow `{one}` plays its prompts from S3"),
        many => format!("flows `{}` play their prompts from S3", many.join("`, `")),
    };
    let config = S3PromptsConfig::from_env().with_context(|| needed_by.clone())?;
    let prompts = S3Prompts::connect(&config)
        .await
        .with_context(|| needed_by.clone())?;
    console::info(format_args!(
        "S3 prompts: region {}, presigned URLs valid {} s",
        prompts.region(),
        prompts.ttl().as_secs()
    ));
    Ok(Some(Arc::new(prompts)))
}

/// The ids of the flows whose prompt base is `s3://…` (the flows are loaded once more by the
/// server; loading is cheap and has no side effects).
fn flows_with_s3_prompts(flows: &[PathBuf]) -> Vec<String> {
    let Ok(files) = registry::expand_paths(flows) else {
        return Vec::new();
    };
    let Ok((registry, _)) = FlowRegistry::load(&files) else {
        return Vec::new();
    };
    registry
        .ids()
        .into_iter()
        .filter(|id| {
            registry
                .current(id)
                .is_some_and(|f| matches!(f.prompt_base, PromptBase::S3 { .. }))
        })
        .collect()
}

/// Descriptors kept for what is not a client connection: the records and their WAL, outbound
/// webhooks and engine connections, prompt files, the listener.
const OTHER_FILES: u64 = 256;

/// Raises the soft limit on open files to the hard one, as Go's runtime does for its servers:
/// every connection and media stream is a descriptor, and a shell's or a service manager's
/// default soft limit (often 1,024) is far below what one server holds. Says so, and warns when
/// `--max-connections` plus `--max-streams` (media streams leave the connection count once
/// upgraded) is still beyond reach: then the server closes idle connections when it runs out of
/// descriptors, rather than failing.
fn open_files(max_connections: usize, max_streams: usize) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let Some(soft) = limit.current else {
        return; // unlimited
    };
    // An unlimited hard limit cannot be the soft one for files; Linux's default ceiling is 2^20.
    let hard = limit.maximum.unwrap_or(1 << 20);
    let mut now = soft;
    if hard > soft {
        match setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: limit.maximum,
            },
        ) {
            Ok(()) => {
                console::info(format_args!(
                    "hotline serve: open-file limit raised from {soft} to {hard}"
                ));
                now = hard;
            }
            Err(e) => console::warn(format_args!(
                "hotline serve: cannot raise the open-file limit from {soft}: {e}"
            )),
        }
    }
    let wanted = u64::try_from(max_connections.saturating_add(max_streams))
        .unwrap_or(u64::MAX)
        .saturating_add(OTHER_FILES);
    if now < wanted {
        let what = if max_streams > 0 {
            format!("--max-connections {max_connections} and --max-streams {max_streams} need")
        } else {
            format!("--max-connections {max_connections} needs")
        };
        console::warn(format_args!(
            "WARNING: {what} about {wanted} open files, but this process may open {now}: past \
             that, idle connections are closed to make room. Raise the hard limit (ulimit -Hn, \
             systemd's LimitNOFILE=) or lower the limits."
        ));
    }
}
