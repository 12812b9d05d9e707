//! `hotline serve`: builds the server from flags and runs it until Ctrl-C or SIGTERM.

use super::stores;
use crate::cli::ServeArgs;
use anyhow::{Context, bail};
use hotline_server::engine::LostCallPolicy;
use hotline_server::registry::LoadReport;
use hotline_server::{Server, ServerConfig};
use std::process::ExitCode;

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let mut config = ServerConfig::new(args.flows.clone(), public_url.clone());
    config.auth_token = args.auth_token.clone();
    config.verify_signatures = !args.insecure_skip_signature;
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
        other => match other.strip_prefix("transfer:") {
            Some(target) if !target.is_empty() => LostCallPolicy::Transfer(target.to_owned()),
            _ => bail!("--lost-call `{other}`: use restart or transfer:NUMBER"),
        },
    };
    config.error_transfer = args.error_transfer.clone();
    config.prompt_key = args.prompt_key.as_ref().map(|k| k.as_bytes().to_vec());

    let server = match Server::build(&config).await {
        Ok(s) => s,
        Err(hotline_server::ServerError::Flows(diagnostics)) => {
            eprint!("{diagnostics}");
            eprintln!("error: the flows above are invalid; nothing was started");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    if !server.verifies_signatures() {
        eprintln!(
            "WARNING: X-Twilio-Signature checks are OFF (--insecure-skip-signature). Anyone who can \
             reach {public_url} can drive calls and write call records. Never run a real number like this."
        );
    }
    for r in server.load_reports() {
        if let LoadReport::Loaded {
            id,
            version,
            path,
            warnings,
        } = r
        {
            eprintln!("flow {id} (version {version}) from {}", path.display());
            if !warnings.is_empty() {
                eprint!("{warnings}");
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "hotline serve: listening on {} — voice webhook {public_url}/voice, status callback {public_url}/status",
        args.listen
    );
    server
        .serve(listener, hotline_server::shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    eprintln!("hotline serve: stopped");
    Ok(ExitCode::SUCCESS)
}
