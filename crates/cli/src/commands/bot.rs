//! `hotline bot …`: local bot files. `hotline bot chat BOT.yaml` is a text REPL over the local
//! engine (`hotline_localbot`), `hotline bot import` converts a Lex V2 export (see
//! `bot_import`); `hotline check` validates bot files through [`check_bot`].
//! Glue only: loading, classification and dialog live in `hotline-localbot`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use hotline_bot::{BotSession, CallAction, LocalConfig, Reply, TurnInput};
use hotline_flow::{Severity, Sources, render_diagnostics_with};
use hotline_localbot::{TurnTrace, build_local, load_bot};

/// `hotline bot` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum BotCommand {
    /// Chat with a local bot file in text: one line in, the bot's reply out (`--json`: one JSON
    /// object per line, for scripts).
    Chat(ChatArgs),
    /// Convert an Amazon Lex V2 bot export (the .zip or its folder) into a Hotline bot file;
    /// whatever cannot be carried over is listed, never dropped silently.
    Import(super::bot_import::BotImportArgs),
}

/// Arguments of `hotline bot chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// The bot file (YAML; see docs/bots.md "Local bots").
    #[arg(value_name = "BOT.yaml")]
    pub bot: PathBuf,
    /// Print one JSON object per input line: input, intent, confidence, slots, dialog_state,
    /// reply, action (the greeting first, with `"input": null`).
    #[arg(long)]
    pub json: bool,
    /// The locale to talk in (default: the bot's first).
    #[arg(long, value_name = "LOCALE")]
    pub locale: Option<String>,
    /// Classify with words only (no sentence-embedding model).
    #[arg(long)]
    pub no_embeddings: bool,
    /// The models folder (default: $HOTLINE_MODELS_DIR, else `models`).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Resolve dates against this day (YYYY-MM-DD) instead of today, for reproducible scripts.
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

/// Runs a `hotline bot` subcommand.
pub(crate) async fn run(command: BotCommand) -> anyhow::Result<ExitCode> {
    match command {
        BotCommand::Chat(args) => chat(args).await,
        BotCommand::Import(args) => super::bot_import::run(args),
    }
}

async fn chat(args: ChatArgs) -> anyhow::Result<ExitCode> {
    if let Err(diags) = load_bot(&args.bot) {
        let sources = Sources::read_for(&diags);
        eprint!(
            "{}",
            render_diagnostics_with(&diags, &sources, std::io::stderr().is_terminal())
        );
        return Ok(ExitCode::from(1));
    }
    let config = LocalConfig {
        bot: args.bot.clone(),
        models_dir: args.models_dir.clone(),
        asr: false,
        embeddings: !args.no_embeddings,
    };
    let mut engine = build_local(&config, None).with_context(|| {
        format!(
            "cannot start bot {} (use --no-embeddings to chat without the embedding model)",
            args.bot.display()
        )
    })?;
    if let Some(day) = &args.today {
        let date = hotline_localbot::slots::Date::parse_iso(day)
            .with_context(|| format!("--today {day}: expected YYYY-MM-DD"))?;
        engine = engine.with_today(date);
    }
    let locale = args.locale.clone().unwrap_or_else(|| {
        engine
            .bot()
            .locales
            .first()
            .map(|l| l.name.clone())
            .unwrap_or_default()
    });
    let bot_id = engine.bot().id().to_owned();
    let new_session =
        |n: u32| BotSession::new(format!("CAchat{n:04}"), bot_id.clone(), locale.clone());
    let mut calls = 1;
    let mut session = new_session(calls);
    let stdout = std::io::stdout();
    let interactive = std::io::stdin().is_terminal() && !args.json;
    let (reply, trace) = engine.turn_traced(&mut session, TurnInput::Start).await?;
    emit(&stdout, &args, None, &reply, &trace)?;
    if interactive {
        eprintln!(
            "(type what the caller says; `/digits 12` presses keys, `/restart` starts a new call, Ctrl-D quits)"
        );
    }
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading standard input")?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text == "/restart" {
            calls += 1;
            session = new_session(calls);
            let (reply, trace) = engine.turn_traced(&mut session, TurnInput::Start).await?;
            emit(&stdout, &args, None, &reply, &trace)?;
            continue;
        }
        let input = match text.strip_prefix("/digits") {
            Some(d) => TurnInput::Digits(d.trim().to_owned()),
            None => TurnInput::Text(text.to_owned()),
        };
        let (reply, trace) = match engine.turn_traced(&mut session, input).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("engine error: {e}");
                continue;
            }
        };
        emit(&stdout, &args, Some(text), &reply, &trace)?;
        if reply.action != CallAction::Continue {
            // The call is over (hang-up, transfer, back to the flow): the next line is a new call.
            calls += 1;
            session = new_session(calls);
            if !args.json {
                println!("--- new call ---");
                let (reply, trace) = engine.turn_traced(&mut session, TurnInput::Start).await?;
                emit(&stdout, &args, None, &reply, &trace)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn action_json(action: &CallAction) -> serde_json::Value {
    match action {
        CallAction::Continue => "listen".into(),
        CallAction::Hangup => "hangup".into(),
        CallAction::ReturnToFlow => "return".into(),
        CallAction::Transfer(to) => serde_json::json!({ "transfer": to }),
    }
}

fn emit(
    stdout: &std::io::Stdout,
    args: &ChatArgs,
    input: Option<&str>,
    reply: &Reply,
    trace: &TurnTrace,
) -> anyhow::Result<()> {
    let mut out = stdout.lock();
    if args.json {
        let object = serde_json::json!({
            "input": input,
            "intent": reply.intent.as_ref().map(|i| &i.name),
            "intent_state": reply.intent.as_ref().map(|i| i.state),
            "confidence": reply.intent.as_ref().and_then(|i| i.confidence),
            "slots": reply.slots,
            "dialog": reply.dialog,
            "dialog_state": trace.state,
            "ranked": trace.ranked.iter().take(3).collect::<Vec<_>>(),
            "reply": reply.messages.join(" "),
            "messages": reply.messages,
            "action": action_json(&reply.action),
        });
        writeln!(out, "{object}")?;
    } else {
        for m in &reply.messages {
            writeln!(out, "bot> {m}")?;
        }
        if let Some(intent) = &reply.intent {
            let slots: Vec<String> = reply
                .slots
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            writeln!(
                out,
                "     [{} {:?}{}{}]",
                intent.name,
                intent.state,
                intent
                    .confidence
                    .map_or(String::new(), |c| format!(" {c:.2}")),
                if slots.is_empty() {
                    String::new()
                } else {
                    format!("; {}", slots.join(", "))
                }
            )?;
        }
        if reply.action != CallAction::Continue {
            writeln!(out, "     [call: {}]", action_json(&reply.action))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Checks one bot file for `hotline check`: prints its diagnostics (and an `ok:` line when it
/// loads). Returns (valid, errors, warnings).
pub(crate) fn check_bot(file: &Path, color: bool) -> (bool, usize, usize) {
    match load_bot(file) {
        Ok(loaded) => {
            if !loaded.warnings.is_empty() {
                let sources = Sources::read_for(&loaded.warnings);
                eprint!(
                    "{}",
                    render_diagnostics_with(&loaded.warnings, &sources, color)
                );
            }
            let bot = &loaded.bot;
            let intents: usize = bot.locales.iter().map(|l| l.intents.len()).sum();
            eprintln!(
                "ok: {} — bot `{}`, {} locale{}, {} intents",
                file.display(),
                bot.id(),
                bot.locales.len(),
                if bot.locales.len() == 1 { "" } else { "s" },
                intents
            );
            (true, 0, loaded.warnings.len())
        }
        Err(diags) => {
            let sources = Sources::read_for(&diags);
            eprint!("{}", render_diagnostics_with(&diags, &sources, color));
            let errors = diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            (false, errors, diags.len() - errors)
        }
    }
}

/// Whether `file` is a bot file rather than a flow: a `.bot.yaml` name, or a top-level `bot:`,
/// `locales:` or `intents:` key.
pub(crate) fn is_bot_file(file: &Path) -> bool {
    if file.to_string_lossy().ends_with(".bot.yaml") {
        return true;
    }
    std::fs::read_to_string(file).is_ok_and(|src| hotline_localbot::looks_like_bot(&src))
}
