//! `hotline demo`: the main job on embedded defaults, in one process and on loopback only.
//!
//! It starts `hotline serve` with a local voice bot (examples/bots/appointments.yaml: Silero VAD,
//! Moonshine speech recognition, MiniLM intents, all local) and the emulator playing Twilio, then
//! places one call whose caller speaks recorded utterances over a signed Media Stream. The
//! transcript shows each step as Twilio would see it, and what the bot understood. Glue only.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use hotline_bot::{BotSession, Engine, EngineConfig, EngineError, LocalConfig, Reply, TurnInput};
use hotline_emulator::transcript::{Entry, describe};
use hotline_emulator::{CallSpec, Emulator, EmulatorConfig, Pace, Step};
use hotline_server::bots::{BotConfig, EngineBuilder, EngineFuture};
use hotline_server::{Server, ServerConfig};

use crate::cli::DemoArgs;
use crate::engines::Engines;

/// The caller's lines: the recording and the words in it.
const CALLER: [(&str, &str); 5] = [
    ("1-book.wav", "Hi. I'd like to book a cleaning, please."),
    ("2-date.wav", "Tomorrow."),
    ("3-time.wav", "At three p.m."),
    ("4-name.wav", "Sarah Johnson."),
    ("5-yes.wav", "Yes, please."),
];

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let root = repo_root();
    let bot_file = args
        .bot
        .clone()
        .unwrap_or_else(|| root.join("examples/bots/appointments.yaml"));
    let caller_dir = args
        .caller
        .clone()
        .unwrap_or_else(|| root.join("examples/demo/caller"));
    for (file, _) in CALLER {
        let path = caller_dir.join(file);
        anyhow::ensure!(
            path.is_file(),
            "the demo caller's recording {} is missing (give the folder with --caller)",
            path.display()
        );
    }
    let work =
        tempfile::tempdir().context("cannot make a temporary folder for the call records")?;
    let token = format!("demo-{:x}", std::process::id());

    let emulator = Emulator::start(EmulatorConfig {
        auth_token: token.clone(),
        ..EmulatorConfig::default()
    })
    .await
    .context("cannot start the emulator")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on loopback")?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");

    let mut bot = BotConfig::new(
        "appointments",
        EngineConfig::Local(LocalConfig::new(&bot_file)),
    );
    bot.vad = hotline_vad::VadConfig::default();
    let mut config = ServerConfig::new(Vec::new(), base.clone());
    config.auth_token = Some(token.clone());
    config.records = hotline_store::RecordStoreConfig::Sqlite(
        hotline_store::records::sqlite::SqliteConfig::new(work.path().join("records.db")),
    );
    config.reload_every = None;
    config.bots = vec![bot];
    config.account_sid = Some(emulator.account_sid().to_owned());
    config.twilio_api_base = emulator.api_base();

    println!(
        "hotline demo: loading the local voice bot {} (Silero VAD, Moonshine ASR, MiniLM intents)…",
        bot_file.display()
    );
    let loading = Instant::now();
    let engines = Narrating::default();
    let server = Server::build_with(&config, None, Some(&engines))
        .await
        .context(
            "cannot start the voice bot (models are installed by scripts/install-models.sh)",
        )?;
    println!(
        "hotline demo: ready in {:.1} s; serving {base}/bots/appointments/voice, signatures checked\n",
        loading.elapsed().as_secs_f64()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
    });

    let mut spec = CallSpec::new(format!("{base}/bots/appointments/voice").parse()?);
    spec.from = "+15555550100".to_owned();
    spec.to = "+15555550199".to_owned();
    // Real time: the caller waits for each answer as a person would (the emulator's virtual
    // clock would run past the recogniser's real latency).
    spec.pace = Pace::Realtime;
    // The greeting is heard before the script starts; then each line is said when the bot has
    // answered the previous one.
    let mut script = vec![Step::Silence(Duration::from_millis(500))];
    for (file, words) in CALLER {
        script.push(Step::Audio {
            path: caller_dir.join(file),
            text: Some(words.to_owned()),
        });
        script.push(Step::Listen(Duration::from_secs(20)));
    }
    spec.script = script;
    spec.max_duration = Duration::from_secs(180);
    let live: hotline_emulator::recorder::LiveSink = Arc::new(|entry: &Entry| {
        println!(
            "[{}] {}",
            hotline_emulator::duration::fmt_clock(entry.t_ms),
            describe(&entry.event)
        );
    });
    let report = emulator.call_with_live(spec, Some(live)).await;
    let _ = stop.send(());
    match serving.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("hotline demo: the server stopped with an error: {e}"),
        Err(e) => eprintln!("hotline demo: the server task failed: {e}"),
    }
    let ended = report.transcript.end();
    println!(
        "\nhotline demo: call {} ended ({}) after {:.1} s of call time",
        report.call_sid,
        ended.map_or("still running", |(reason, _)| reason.as_str()),
        ended.map_or(0.0, |(_, ms)| ms as f64 / 1000.0)
    );
    let booked = report.transcript.entries.iter().any(|e| {
        matches!(&e.event, hotline_emulator::Event::Say { text, .. } if text.contains("is booked"))
    });
    Ok(if booked {
        println!("hotline demo: the appointment was booked, as the caller asked.");
        ExitCode::SUCCESS
    } else {
        println!("hotline demo: the conversation did not end with a booking (see above).");
        ExitCode::from(1)
    })
}

/// The repository root when run from a checkout (`cargo run`, `target/*/hotline`), else the
/// working directory.
fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    if manifest.join("examples/bots").is_dir() {
        manifest
    } else {
        PathBuf::from(".")
    }
}

/// Builds engines as `serve` does, and narrates each turn: what was heard, the intent and slots.
#[derive(Default)]
struct Narrating {
    engines: Engines,
}

impl EngineBuilder for Narrating {
    fn build<'a>(&'a self, config: &'a EngineConfig) -> EngineFuture<'a> {
        Box::pin(async move {
            let inner = self.engines.build(config).await?;
            Ok(Arc::new(Narrated { inner }) as Arc<dyn Engine>)
        })
    }
}

/// An engine that prints what its inner engine understood.
struct Narrated {
    inner: Arc<dyn Engine>,
}

#[async_trait]
impl Engine for Narrated {
    async fn turn(&self, session: &mut BotSession, input: TurnInput) -> Result<Reply, EngineError> {
        let kind = match &input {
            TurnInput::Audio { pcm_8k } => {
                format!("{:.2} s of speech", pcm_8k.len() as f64 / 8000.0)
            }
            TurnInput::Text(_) => "text".to_owned(),
            TurnInput::Digits(d) => format!("digits {d}"),
            TurnInput::Start => "call start".to_owned(),
        };
        let started = Instant::now();
        let result = self.inner.turn(session, input).await;
        let ms = started.elapsed().as_millis();
        match &result {
            Ok(reply) => {
                let heard = reply
                    .transcript
                    .as_deref()
                    .map(|t| format!("heard \"{t}\" → "))
                    .unwrap_or_default();
                let intent = reply.intent.as_ref().map_or_else(
                    || "no intent".to_owned(),
                    |i| match i.confidence {
                        Some(c) => format!("{} ({c:.2})", i.name),
                        None => i.name.clone(),
                    },
                );
                let mut slots: Vec<String> = reply
                    .slots
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                slots.sort();
                let slots = if slots.is_empty() {
                    String::new()
                } else {
                    format!(", slots {}", slots.join(" "))
                };
                println!("           🤖 bot: {kind}: {heard}{intent}{slots} — {ms} ms");
            }
            Err(e) => println!("           🤖 bot: {kind}: error after {ms} ms: {e}"),
        }
        result
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
