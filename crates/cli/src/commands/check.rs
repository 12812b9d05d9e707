//! `hotline check` and `hotline graph`: flow files (and bot files) validated — with `--intents`,
//! flows' intent routes against the bots that will serve them — and flows drawn.

use super::count;
use crate::cli::{CheckArgs, GraphArgs};
use anyhow::{Context, bail};
use hotline_flow::{Severity, Sources, load_flow, render_diagnostics_with};
use hotline_localbot::eval::is_heldout_file;
use hotline_server::intents::{IntentEngines, check_flow, parse_intents_spec};
use std::io::IsTerminal;
use std::process::ExitCode;

pub(crate) fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let files = hotline_server::registry::expand_paths(&args.flows).map_err(anyhow::Error::msg)?;
    let color = args
        .color
        .unwrap_or_else(|| std::io::stderr().is_terminal());
    let (mut errors, mut warnings, mut ok) = (0usize, 0usize, 0usize);
    // The intent engines named on the command line: their bots' intents, no model needed.
    let mut engines = IntentEngines::new();
    for spec in &args.intents {
        let config = parse_intents_spec(spec).map_err(anyhow::Error::msg)?;
        let model = hotline_localbot::IntentModel::load(&config.bot, None)
            .map_err(|e| anyhow::anyhow!("--intents {}: {e}", config.name))?;
        engines.insert(
            config.name,
            std::sync::Arc::new(crate::engines::LocalIntents(model)),
        );
    }
    for file in &files {
        // Held-out evaluation sets (`*.heldout.yaml`, `*.heldout2.yaml`…) sit beside the bots.
        if is_heldout_file(file) {
            continue;
        }
        if super::bot::is_bot_file(file) {
            let (valid, e, w) = super::bot::check_bot(file, color);
            ok += usize::from(valid);
            errors += e;
            warnings += w;
            continue;
        }
        match load_flow(file) {
            Ok(loaded) => {
                let diags = if engines.is_empty() {
                    Vec::new()
                } else {
                    check_flow(&loaded.flow, &file.display().to_string(), &engines)
                };
                if !diags.is_empty() {
                    let sources = Sources::read_for(&diags);
                    eprint!("{}", render_diagnostics_with(&diags, &sources, color));
                    errors += diags.len();
                    continue;
                }
                ok += 1;
                warnings += loaded.warnings.len();
                if !loaded.warnings.is_empty() {
                    let sources = Sources::read_for(&loaded.warnings);
                    eprint!(
                        "{}",
                        render_diagnostics_with(&loaded.warnings, &sources, color)
                    );
                }
                eprintln!(
                    "ok: {} — flow `{}` version {}, {} nodes",
                    file.display(),
                    loaded.flow.id,
                    loaded.flow.version_hash,
                    loaded.flow.nodes.len()
                );
            }
            Err(diags) => {
                let sources = Sources::read_for(&diags);
                eprint!("{}", render_diagnostics_with(&diags, &sources, color));
                errors += diags
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                warnings += diags
                    .iter()
                    .filter(|d| d.severity != Severity::Error)
                    .count();
            }
        }
    }
    eprintln!(
        "{} of {} valid; {}, {}",
        ok,
        count(
            files.iter().filter(|f| !is_heldout_file(f)).count() as u64,
            "file"
        ),
        count(errors as u64, "error"),
        count(warnings as u64, "warning")
    );
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) fn graph(args: GraphArgs) -> anyhow::Result<ExitCode> {
    let loaded = match load_flow(&args.flow) {
        Ok(l) => l,
        Err(diags) => {
            let sources = Sources::read_for(&diags);
            eprint!(
                "{}",
                render_diagnostics_with(&diags, &sources, std::io::stderr().is_terminal())
            );
            return Ok(ExitCode::from(1));
        }
    };
    let bytes: Vec<u8> = match args.format.as_str() {
        "mermaid" => hotline_flow::graph::to_mermaid(&loaded.flow).into_bytes(),
        "dot" => hotline_flow::graph::to_dot(&loaded.flow).into_bytes(),
        _ => {
            let dot = hotline_flow::graph::to_dot(&loaded.flow);
            let mut child = std::process::Command::new("dot")
                .arg("-Tsvg")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .context(
                    "SVG needs Graphviz's `dot` (apt-get install graphviz), or use --format dot",
                )?;
            if let Some(mut stdin) = child.stdin.take() {
                use std::io::Write as _;
                stdin.write_all(dot.as_bytes())?;
            }
            let out = child.wait_with_output()?;
            if !out.status.success() {
                bail!("dot failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            out.stdout
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
