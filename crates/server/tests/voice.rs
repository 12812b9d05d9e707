//! Voice bots end to end: the emulator plays Twilio (signed webhooks and stream upgrades,
//! caller audio from WAV fixtures, DTMF, REST live updates) against `hotline serve` with the
//! scripted fake engine and a fast VAD, on loopback.
#![allow(clippy::unwrap_used)]

use hotline_bot::fake::ScriptedTurn;
use hotline_bot::{CallAction, DialogAction, EngineConfig, FakeConfig, Intent, IntentState, Reply};
use hotline_emulator::{CallSpec, Emulator, EmulatorConfig, Event, Step, Transcript};
use hotline_server::bots::BotConfig;
use hotline_server::{Server, ServerConfig};
use hotline_vad::VadConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "voice-auth-token";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../voice/tests/fixtures")
        .join(name)
}

fn speech() -> Step {
    Step::Audio {
        path: fixture("account_8k_ulaw.wav"),
        text: None,
    }
}

fn short_speech() -> Step {
    Step::Audio {
        path: fixture("yes_8k_ulaw.wav"),
        text: None,
    }
}

fn listen() -> Step {
    Step::Listen(Duration::from_secs(20))
}

/// The caller's first step: silence while the greeting plays. (`listen` would wait for the
/// *next* thing said: the greeting's `<Say>` is heard before the script starts.)
fn during_greeting() -> Step {
    Step::Silence(Duration::from_secs(3))
}

struct Running {
    base: String,
    bots: Arc<hotline_server::bots::Bots>,
    /// The server's metrics text, now.
    metrics: Box<dyn Fn() -> String + Send + Sync>,
    /// Holds the call records (`r.db`) and any flow written by the test.
    dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The server with `bots` (and one flow, which it needs), and an emulator whose REST API it
/// updates calls through.
async fn serve(bots: Vec<BotConfig>) -> (Running, Emulator) {
    let flow = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows/sales-menu.yaml");
    serve_with(bots, vec![flow], tempfile::tempdir().unwrap()).await
}

/// [`serve`] with these flows, keeping the records in `dir`.
async fn serve_with(
    bots: Vec<BotConfig>,
    flows: Vec<PathBuf>,
    dir: tempfile::TempDir,
) -> (Running, Emulator) {
    serve_configured(bots, flows, dir, |_| {}).await
}

/// [`serve_with`], the server's configuration changed by `tweak` last.
async fn serve_configured(
    bots: Vec<BotConfig>,
    flows: Vec<PathBuf>,
    dir: tempfile::TempDir,
    tweak: impl FnOnce(&mut ServerConfig),
) -> (Running, Emulator) {
    let emu = Emulator::start(EmulatorConfig {
        auth_token: TOKEN.to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::new(flows, format!("http://{addr}"));
    config.auth_token = Some(TOKEN.to_owned());
    config.records = hotline_store::RecordStoreConfig::Sqlite(
        hotline_store::records::sqlite::SqliteConfig::new(dir.path().join("r.db")),
    );
    config.reload_every = None;
    config.bots = bots;
    config.account_sid = Some(emu.account_sid().to_owned());
    config.twilio_api_base = emu.api_base();
    tweak(&mut config);
    let server = Server::build(&config).await.unwrap();
    let bots = server.bots().clone();
    let metrics = Box::new(server.metrics_reader());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (
        Running {
            base: format!("http://{addr}"),
            bots,
            metrics,
            dir,
            stop: Some(tx),
        },
        emu,
    )
}

fn bot(name: &str, engine: FakeConfig) -> BotConfig {
    let mut b = BotConfig::new(name, EngineConfig::Fake(engine));
    b.vad = VadConfig::Energy(Default::default());
    b
}

fn turn(expect: &str, reply: Reply) -> ScriptedTurn {
    ScriptedTurn {
        expect: Some(expect.to_owned()),
        reply,
    }
}

fn goodbye() -> Reply {
    let mut r = Reply::say(["Goodbye!"]);
    r.intent = Some(Intent {
        name: "Goodbye".into(),
        confidence: Some(0.95),
        state: IntentState::Fulfilled,
    });
    r.dialog = DialogAction::Close;
    r
}

async fn call(emu: &Emulator, url: &str, script: Vec<Step>) -> Transcript {
    let mut spec = CallSpec::new(url.parse().unwrap());
    spec.script = script;
    tokio::time::timeout(Duration::from_secs(60), emu.call(spec))
        .await
        .unwrap()
        .transcript
}

fn says(t: &Transcript) -> Vec<String> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Say { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn updates(t: &Transcript) -> Vec<(u64, String)> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::RestUpdate { update } => Some((e.t_ms, update.clone())),
            _ => None,
        })
        .collect()
}

/// Where in `t` the application stopped the stream (`<Stop><Stream>`), if it did.
fn stream_stopped(t: &Transcript) -> Option<usize> {
    t.entries.iter().position(
        |e| matches!(&e.event, Event::StreamStopped { reason, .. } if reason.contains("<Stop>")),
    )
}

fn no_errors(t: &Transcript) {
    assert!(
        !t.entries.iter().any(|e| matches!(
            e.event,
            Event::ApplicationError { .. } | Event::Warning { .. }
        ) && !matches!(&e.event, Event::Warning { message, .. } if message.contains("ws://"))),
        "{}",
        t.render_text()
    );
}

/// Waits (up to 5 s) until every one of `lines` is a line of the server's metrics: a call update
/// is counted when Twilio's answer reaches the server, which can be after the call's end.
async fn metrics_reach(app: &Running, lines: &[&str]) {
    let mut text = String::new();
    for _ in 0..250 {
        text = (app.metrics)();
        if lines.iter().all(|line| text.lines().any(|l| l == *line)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not all of {lines:#?} in:\n{text}");
}

#[tokio::test]
async fn three_turn_conversation_over_a_start_stream_ends_with_goodbye() {
    let engine = FakeConfig {
        turns: vec![
            turn(
                "<start>",
                Reply::say(["Welcome. What would you like to book?"]),
            ),
            turn("<audio>", Reply::say(["Which day would you like?"])),
            turn("<audio>", Reply::say(["At what time?"])),
            turn("<audio>", goodbye()),
        ],
        ..FakeConfig::default()
    };
    let (app, emu) = serve(vec![bot("booking", engine)]).await;
    let (sid, t) = call_with_sid(
        &emu,
        &format!("{}/bots/booking/voice", app.base),
        vec![
            during_greeting(),
            speech(),
            listen(),
            short_speech(),
            listen(),
            speech(),
            listen(),
        ],
    )
    .await;
    no_errors(&t);
    assert!(
        t.entries.iter().any(|e| matches!(
            &e.event,
            Event::StreamStarted { bidirectional: false, parameters, .. }
                if parameters.contains(&("bot".to_owned(), "booking".to_owned()))
        )),
        "{}",
        t.render_text()
    );
    assert_eq!(
        says(&t),
        [
            "Welcome. What would you like to book?",
            "Which day would you like?",
            "At what time?",
            "Goodbye!"
        ],
        "{}",
        t.render_text()
    );
    let ups = updates(&t);
    assert_eq!(ups.len(), 3, "{}", t.render_text());
    assert!(ups[2].1.contains("<Hangup/>"), "{}", t.render_text());
    assert!(ups[0].1.contains("<Pause"), "{}", ups[0].1);
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
    // The greeting and three replies; three live updates (the barge-in's, two replies', the
    // goodbye's: the first reply rides on the barge-in's pause).
    metrics_reach(
        &app,
        &[
            "hotline_bot_turns_total{bot=\"booking\",result=\"replied\"} 4",
            "hotline_bot_turns_total{bot=\"booking\",result=\"timeout\"} 0",
            "hotline_bot_turn_duration_seconds_count{bot=\"booking\"} 4",
            "hotline_call_updates_total{result=\"updated\"} 3",
            "hotline_call_updates_total{result=\"failed\"} 0",
            // The call the bot answered itself counts with the flows', as in its record.
            "hotline_calls_started_total{flow=\"bot:booking\"} 1",
            "hotline_calls_ended_total{flow=\"bot:booking\",outcome=\"hung-up\"} 1",
            "hotline_calls_ended_total{flow=\"bot:booking\",outcome=\"caller-hangup\"} 0",
        ],
    )
    .await;
    // The conversation is forgotten once the stream stops.
    for _ in 0..100 {
        if app.bots.conversation(&sid).await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.bots.conversation(&sid).await.is_none());
    // The call's record: who called, and the bot's goodbye as its end.
    let record = ended_call(app.dir.path(), &sid).await;
    assert_eq!(record.flow_id, "bot:booking");
    assert_eq!(
        (record.from.as_str(), record.to.as_str()),
        ("+15005550006", "+15005550001")
    );
    assert_eq!(record.outcome.as_deref(), Some("hung-up"));
    assert!(
        record
            .ended_at_ms
            .is_some_and(|e| e >= record.started_at_ms)
    );
}

#[tokio::test]
async fn caller_barges_in_during_a_long_reply_on_a_start_stream() {
    let long = "Here are all the days we have this month, one by one. ".repeat(6);
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Hi."])),
            turn("<audio>", Reply::say([long.clone()])),
            turn("<audio>", Reply::say(["Which day would you like?"])),
        ],
        ..FakeConfig::default()
    };
    let (app, emu) = serve(vec![bot("barge", engine)]).await;
    let t = call(
        &emu,
        &format!("{}/bots/barge/voice", app.base),
        vec![
            during_greeting(),
            speech(),
            Step::Silence(Duration::from_secs(2)),
            speech(),
            // Not `listen`: the cut reply still counts as being heard until its natural end.
            Step::Silence(Duration::from_secs(3)),
            Step::Hangup,
        ],
    )
    .await;
    no_errors(&t);
    let ups = updates(&t);
    assert_eq!(ups.len(), 3, "{}", t.render_text());
    // The long reply (about 23 s) is cut soon after the caller starts speaking over it.
    let reply_ms = (long.chars().count() as u64) * 1000 / 14;
    assert!(ups[0].1.contains("this month"), "{}", ups[0].1);
    assert!(!ups[1].1.contains("<Say"), "{}", ups[1].1);
    assert!(ups[1].1.contains("<Pause"), "{}", ups[1].1);
    let cut_after = ups[1].0 - ups[0].0;
    assert!(
        cut_after < 2000 + 1500 && cut_after < reply_ms,
        "barge-in {cut_after} ms into the reply\n{}",
        t.render_text()
    );
    assert!(ups[2].1.contains("Which day would you like?"));
    assert_eq!(t.end().unwrap().0.as_str(), "caller-hangup");
}

#[tokio::test]
async fn silence_gets_the_last_prompt_again() {
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["How can I help you?"]))],
        ..FakeConfig::default()
    };
    let mut b = bot("quiet", engine);
    b.pipeline.endpoint.no_input_ms = 3000;
    let (app, emu) = serve(vec![b]).await;
    let t = call(
        &emu,
        &format!("{}/bots/quiet/voice", app.base),
        vec![Step::Silence(Duration::from_secs(6)), Step::Hangup],
    )
    .await;
    no_errors(&t);
    assert_eq!(
        says(&t),
        ["How can I help you?", "How can I help you?"],
        "{}",
        t.render_text()
    );
    assert_eq!(updates(&t).len(), 1);
    assert_eq!(t.end().unwrap().0.as_str(), "caller-hangup");
}

#[tokio::test]
async fn a_silent_caller_is_hung_up_on_after_the_reprompts() {
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["Hello?"]))],
        ..FakeConfig::default()
    };
    let mut b = bot("mute", engine);
    b.pipeline.endpoint.no_input_ms = 1000;
    b.max_reprompts = 2;
    let (app, emu) = serve(vec![b]).await;
    let (sid, t) = call_with_sid(
        &emu,
        &format!("{}/bots/mute/voice", app.base),
        vec![Step::Silence(Duration::from_secs(30))],
    )
    .await;
    no_errors(&t);
    assert_eq!(
        says(&t),
        ["Hello?", "Hello?", "Hello?"],
        "{}",
        t.render_text()
    );
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
    assert!(t.end().unwrap().1 < 15_000);
    // The bot hung up (no engine turn did): the record says so, not that the caller did.
    let record = ended_call(app.dir.path(), &sid).await;
    assert_eq!(record.outcome.as_deref(), Some("hung-up"));
}

#[tokio::test]
async fn configured_reprompt_is_used_on_no_input() {
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["Hello."]))],
        ..FakeConfig::default()
    };
    let mut b = bot("quiet2", engine);
    b.pipeline.endpoint.no_input_ms = 2000;
    b.reprompt = Some("Are you still there?".into());
    let (app, emu) = serve(vec![b]).await;
    let t = call(
        &emu,
        &format!("{}/bots/quiet2/voice", app.base),
        vec![Step::Silence(Duration::from_secs(4)), Step::Hangup],
    )
    .await;
    assert_eq!(says(&t), ["Hello.", "Are you still there?"]);
}

#[tokio::test]
async fn dtmf_on_a_bidirectional_stream_and_audio_replies_with_clear_on_barge_in() {
    let mut audio_reply = Reply::say(["(audio)"]);
    audio_reply.audio = Some(vec![0x10; 8000 * 6]); // 6 s of loud μ-law
    let engine = FakeConfig {
        turns: vec![
            turn(
                "<start>",
                Reply::say(["Enter your code, then press pound."]),
            ),
            turn("12", audio_reply),
            turn("<audio>", goodbye()),
        ],
        ..FakeConfig::default()
    };
    let mut b = bot("keys", engine);
    b.bidirectional = true;
    let (app, emu) = serve(vec![b]).await;
    let t = call(
        &emu,
        &format!("{}/bots/keys/voice", app.base),
        vec![
            Step::Press("12#".into()),
            Step::Silence(Duration::from_secs(2)),
            speech(),
            listen(),
        ],
    )
    .await;
    no_errors(&t);
    assert!(
        t.entries.iter().any(|e| matches!(
            &e.event,
            Event::StreamStarted {
                bidirectional: true,
                ..
            }
        )),
        "{}",
        t.render_text()
    );
    // The reply to the digits is played on the stream, and cut by the caller's speech.
    assert!(
        t.entries
            .iter()
            .any(|e| matches!(e.event, Event::StreamClear { discarded_ms } if discarded_ms > 500)),
        "{}",
        t.render_text()
    );
    let ups = updates(&t);
    assert_eq!(ups.len(), 1, "{}", t.render_text());
    assert!(ups[0].1.contains("<Hangup/>"));
    assert_eq!(says(&t), ["Enter your code, then press pound.", "Goodbye!"]);
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
}

#[tokio::test]
async fn bidirectional_goodbye_audio_plays_before_the_hangup() {
    let mut bye = goodbye();
    bye.audio = Some(vec![0x10; 8000]); // 1 s
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["Hi."])), turn("<audio>", bye)],
        ..FakeConfig::default()
    };
    let mut b = bot("byeaudio", engine);
    b.bidirectional = true;
    let (app, emu) = serve(vec![b]).await;
    let t = call(
        &emu,
        &format!("{}/bots/byeaudio/voice", app.base),
        vec![during_greeting(), speech(), listen()],
    )
    .await;
    no_errors(&t);
    let played = t
        .entries
        .iter()
        .position(|e| matches!(e.event, Event::StreamAudio { duration_ms } if duration_ms == 1000));
    let update = t
        .entries
        .iter()
        .position(|e| matches!(e.event, Event::RestUpdate { .. }));
    assert!(played.is_some() && played < update, "{}", t.render_text());
    assert_eq!(
        says(&t),
        ["Hi."],
        "the audio said goodbye: {}",
        t.render_text()
    );
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
}

#[tokio::test]
async fn bidirectional_text_replies_reconnect_the_stream() {
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Hi."])),
            turn("<audio>", Reply::say(["Which day?"])),
            turn("<audio>", goodbye()),
        ],
        ..FakeConfig::default()
    };
    let mut b = bot("bidi", engine);
    b.bidirectional = true;
    let (app, emu) = serve(vec![b]).await;
    let t = call(
        &emu,
        &format!("{}/bots/bidi/voice", app.base),
        vec![during_greeting(), speech(), listen(), speech(), listen()],
    )
    .await;
    no_errors(&t);
    assert_eq!(
        says(&t),
        ["Hi.", "Which day?", "Goodbye!"],
        "{}",
        t.render_text()
    );
    let streams = t
        .entries
        .iter()
        .filter(|e| matches!(e.event, Event::StreamStarted { .. }))
        .count();
    assert_eq!(streams, 2, "{}", t.render_text());
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
}

#[tokio::test]
async fn transfers_stop_the_stream_and_end_the_record() {
    let mut transfer = Reply::say(["Connecting you to an agent."]);
    transfer.action = CallAction::Transfer("+15550100".into());
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Hi."])),
            turn("<audio>", transfer),
        ],
        ..FakeConfig::default()
    };
    let (app, emu) = serve(vec![bot("agent", engine)]).await;
    let (sid, t) = call_with_sid(
        &emu,
        &format!("{}/bots/agent/voice", app.base),
        vec![during_greeting(), speech(), listen()],
    )
    .await;
    no_errors(&t);
    let dialed = t.entries.iter().position(|e| {
        matches!(
            &e.event,
            Event::Dial { targets, .. } if targets.iter().any(|n| n.contains("+15550100"))
        )
    });
    assert!(dialed.is_some(), "{}", t.render_text());
    // The caller's talk with the agent is not streamed to the bot.
    assert!(
        matches!((stream_stopped(&t), dialed), (Some(stop), Some(dial)) if stop < dial),
        "the bot's stream stops before the dial: {}",
        t.render_text()
    );
    assert_eq!(says(&t), ["Hi.", "Connecting you to an agent."]);
    let record = ended_call(app.dir.path(), &sid).await;
    assert_eq!(record.outcome.as_deref(), Some("dialed"));
}

#[tokio::test]
async fn caller_hanging_up_mid_utterance_ends_quietly() {
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["Hello."]))],
        ..FakeConfig::default()
    };
    let (app, emu) = serve(vec![bot("gone", engine)]).await;
    let (sid, t) = call_with_sid(
        &emu,
        &format!("{}/bots/gone/voice", app.base),
        vec![during_greeting(), speech(), Step::Hangup],
    )
    .await;
    no_errors(&t);
    assert!(updates(&t).is_empty(), "{}", t.render_text());
    assert_eq!(t.end().unwrap().0.as_str(), "caller-hangup");
    for _ in 0..100 {
        if app.bots.conversation(&sid).await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.bots.conversation(&sid).await.is_none());
    let record = ended_call(app.dir.path(), &sid).await;
    assert_eq!(record.outcome.as_deref(), Some("caller-hangup"));
    assert_eq!(record.flow_id, "bot:gone");
    metrics_reach(
        &app,
        &[
            "hotline_calls_started_total{flow=\"bot:gone\"} 1",
            "hotline_calls_ended_total{flow=\"bot:gone\",outcome=\"caller-hangup\"} 1",
        ],
    )
    .await;
}

#[tokio::test]
async fn engine_timeout_and_error_become_apologies_and_the_call_continues() {
    let engine: FakeConfig = serde_json::from_value(serde_json::json!({
        "greeting": ["Hello, how can I help?"],
        "audio_transcript": "simulate slow",
        "failures": [{"keyword": "simulate slow", "error": {"slow": 3000}}],
        "no_match": ["Sorry?"]
    }))
    .unwrap();
    let mut b = bot("slow", engine);
    b.turn_timeout = Duration::from_millis(300);
    let (app, emu) = serve(vec![b]).await;
    let t = call(
        &emu,
        &format!("{}/bots/slow/voice", app.base),
        vec![during_greeting(), speech(), listen(), Step::Hangup],
    )
    .await;
    no_errors(&t);
    let said = says(&t);
    assert_eq!(said.len(), 2, "{}", t.render_text());
    assert!(
        said[1].starts_with("Sorry, I couldn't process that"),
        "{said:?}"
    );
    assert_eq!(t.end().unwrap().0.as_str(), "caller-hangup");
    // The greeting, then the turn that timed out: the caller waited the turn timeout for it.
    metrics_reach(
        &app,
        &[
            "hotline_bot_turns_total{bot=\"slow\",result=\"replied\"} 1",
            "hotline_bot_turns_total{bot=\"slow\",result=\"timeout\"} 1",
            "hotline_bot_turn_duration_seconds_count{bot=\"slow\"} 2",
        ],
    )
    .await;
    let text = (app.metrics)();
    let within = |le: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "hotline_bot_turn_duration_seconds_bucket{{bot=\"slow\",le=\"{le}\"}} "
                ))
            })
            .and_then(|n| n.parse::<u64>().ok())
    };
    assert_eq!(within("0.25"), Some(1), "{text}");
    assert_eq!(within("0.5"), Some(2), "{text}");

    // An engine error (scripted input mismatch) is an apology too.
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Press a key."])),
            turn("1", Reply::say(["Thanks."])),
        ],
        ..FakeConfig::default()
    };
    let (app, emu) = serve(vec![bot("broken", engine)]).await;
    let t = call(
        &emu,
        &format!("{}/bots/broken/voice", app.base),
        vec![during_greeting(), speech(), listen(), Step::Hangup],
    )
    .await;
    let said = says(&t);
    assert_eq!(said.len(), 2, "{}", t.render_text());
    assert!(said[1].starts_with("Sorry"), "{said:?}");
    metrics_reach(
        &app,
        &[
            "hotline_bot_turns_total{bot=\"broken\",result=\"replied\"} 1",
            "hotline_bot_turns_total{bot=\"broken\",result=\"bad_response\"} 1",
        ],
    )
    .await;
}

#[tokio::test]
async fn stream_upgrades_need_a_valid_signature() {
    let engine = FakeConfig {
        greeting: vec!["Hi".into()],
        ..FakeConfig::default()
    };
    let (app, _emu) = serve(vec![bot("sig", engine)]).await;
    let client = reqwest::Client::new();
    let url = format!("{}/streams/sig", app.base);
    let upgrade = |r: reqwest::RequestBuilder| {
        r.header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    };
    let bad = upgrade(client.get(&url))
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
    let missing = upgrade(client.get(&url)).send().await.unwrap();
    assert_eq!(missing.status(), 403);
    // Signed over the ws:// URL Twilio requested: the upgrade goes through.
    let ws_url = url.replacen("http://", "ws://", 1);
    let sig = hotline_twilio::signature::compute(TOKEN, &ws_url, &[]);
    let ok = upgrade(client.get(&url))
        .header("X-Twilio-Signature", sig)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 101);
    // Unknown bots: the webhook apologises, it does not fail.
    let body: Vec<(String, String)> = vec![("CallSid".into(), format!("CA{}", "0".repeat(32)))];
    let voice_url = format!("{}/bots/nope/voice", app.base);
    let sig = hotline_twilio::signature::compute(TOKEN, &voice_url, &body);
    let r = client
        .post(&voice_url)
        .header("X-Twilio-Signature", sig)
        .form(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Hangup/>"));
}

#[tokio::test]
async fn silero_conversation_when_the_models_are_installed() {
    let models = std::env::var_os("HOTLINE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    let silero = VadConfig::Silero(hotline_vad::silero::SileroConfig::in_dir(models));
    if silero.build().is_err() {
        eprintln!("Silero models not installed (scripts/install-models.sh): skipped");
        return;
    }
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Welcome."])),
            turn("<audio>", goodbye()),
        ],
        ..FakeConfig::default()
    };
    let mut b = bot("silero", engine);
    b.vad = silero;
    let (app, emu) = serve(vec![b]).await;
    let t = call(
        &emu,
        &format!("{}/bots/silero/voice", app.base),
        vec![during_greeting(), speech(), listen()],
    )
    .await;
    assert_eq!(says(&t), ["Welcome.", "Goodbye!"], "{}", t.render_text());
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
}

/// The driver without sockets (ENGINEERING §7): channels stand in for the WebSocket.
#[tokio::test]
async fn the_driver_runs_over_channels() {
    use futures_util::StreamExt;
    use hotline_server::bots::Bots;
    use hotline_twilio::signature::PublicBase;

    let mut greeting = Reply::say(["(greeting audio)"]);
    greeting.audio = Some(vec![0x10; 3200]); // 400 ms
    let mut answer = Reply::say(["(answer audio)"]);
    answer.audio = Some(vec![0x20; 1600]);
    let engine = FakeConfig {
        turns: vec![turn("<start>", greeting), turn("42", answer)],
        ..FakeConfig::default()
    };
    let mut b = bot("chan", engine);
    b.bidirectional = true;
    let mut rest = hotline_twilio::rest::RestConfig::new("AC1", "token");
    rest.api_base = "http://127.0.0.1:9".to_owned();
    let public = PublicBase::parse("https://hotline.example.com").unwrap();
    let bots = Arc::new(
        Bots::build(
            &[b],
            None,
            Some(hotline_twilio::rest::RestClient::new(rest).unwrap()),
            4,
            public,
        )
        .await
        .unwrap(),
    );
    let call_sid = format!("CA{}", "1".repeat(32));
    let twiml = bots.entry("chan", Some(&call_sid)).await;
    assert!(
        twiml.contains(r#"<Connect><Stream url="wss://hotline.example.com/streams/chan" name="hotline-bot"><Parameter name="bot" value="chan"/></Stream></Connect>"#),
        "{twiml}"
    );
    assert!(!twiml.contains("<Say"), "the greeting is audio: {twiml}");

    let (in_tx, in_rx) = tokio::sync::mpsc::unbounded_channel::<axum::extract::ws::Message>();
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let rx = futures_util::stream::unfold(in_rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|m| (Ok::<_, std::convert::Infallible>(m), rx))
    })
    .boxed();
    let tx = futures_util::sink::unfold(out_tx, |tx, m: axum::extract::ws::Message| async move {
        if let axum::extract::ws::Message::Text(t) = m {
            tx.send(t.to_string()).map_err(|_| ())?;
        }
        Ok::<_, ()>(tx)
    });
    let bot = bots.get("chan").unwrap();
    let driver = tokio::spawn(hotline_server::voice::drive(
        bots.clone(),
        bot,
        hotline_server::voice::Duplex {
            sink: Box::pin(tx),
            stream: rx,
        },
    ));
    let send = |s: String| in_tx.send(axum::extract::ws::Message::text(s)).unwrap();
    let sid = "MZ1";
    send(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into());
    send(format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{sid}","start":{{"streamSid":"{sid}","callSid":"{call_sid}","tracks":["inbound"],"customParameters":{{"bot":"chan"}},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
    ));
    // The greeting's audio, then its mark.
    let media = next(&mut out_rx).await;
    assert_eq!(media["event"], "media");
    assert_eq!(media["streamSid"], sid);
    let mark = next(&mut out_rx).await;
    assert_eq!(mark["event"], "mark");
    send(format!(
        r#"{{"event":"mark","sequenceNumber":"2","streamSid":"{sid}","mark":{{"name":"{}"}}}}"#,
        mark["mark"]["name"].as_str().unwrap()
    ));
    // Garbage is counted, not fatal.
    send("not json".into());
    send(r#"{"event":"dance"}"#.into());
    for (i, d) in ["4", "2", "#"].iter().enumerate() {
        send(format!(
            r#"{{"event":"dtmf","sequenceNumber":"{}","streamSid":"{sid}","dtmf":{{"track":"inbound_track","digit":"{d}"}}}}"#,
            i + 3
        ));
    }
    // The engine's answer to "42" is played.
    let media = next(&mut out_rx).await;
    assert_eq!(media["event"], "media");
    let mark = next(&mut out_rx).await;
    assert_eq!(mark["event"], "mark");
    send(format!(
        r#"{{"event":"stop","sequenceNumber":"9","streamSid":"{sid}","stop":{{"accountSid":"AC1","callSid":"{call_sid}"}}}}"#
    ));
    tokio::time::timeout(Duration::from_secs(5), driver)
        .await
        .unwrap()
        .unwrap();
    assert!(
        bots.conversation(&call_sid).await.is_none(),
        "the conversation ends with the stream"
    );
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> serde_json::Value {
    let text = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Load: many simultaneous three-turn calls through one server (run with `--ignored`;
/// `HOTLINE_BOT_CALLS` sets the count, default 50).
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn many_simultaneous_bot_calls() {
    let calls: usize = std::env::var("HOTLINE_BOT_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Welcome."])),
            turn("<audio>", Reply::say(["Which day would you like?"])),
            turn("<audio>", Reply::say(["At what time?"])),
            turn("<audio>", goodbye()),
        ],
        ..FakeConfig::default()
    };
    let mut b = bot("load", engine);
    b.vad = VadConfig::Webrtc(Default::default());
    let (app, emu) = serve(vec![b]).await;
    let emu = Arc::new(emu);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..calls {
        let emu = emu.clone();
        let url = format!("{}/bots/load/voice", app.base);
        tasks.push(tokio::spawn(async move {
            call(
                &emu,
                &url,
                vec![
                    during_greeting(),
                    speech(),
                    listen(),
                    short_speech(),
                    listen(),
                    speech(),
                    listen(),
                ],
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut emulated_ms = 0;
    for t in tasks {
        let t = t.await.unwrap();
        if says(&t).len() == 4 && t.end().unwrap().0.as_str() == "hangup" {
            ok += 1;
        } else {
            eprintln!("{}", t.render_text());
        }
        emulated_ms += t.end().unwrap().1;
    }
    let wall = started.elapsed();
    eprintln!(
        "{ok}/{calls} three-turn calls completed in {wall:?} wall time ({:.1} s of calls emulated)",
        emulated_ms as f64 / 1000.0
    );
    assert_eq!(ok, calls);
}

/// A flow that asks nothing and hands the call to the `appointments` bot, then confirms.
const BOOKING_FLOW: &str = r#"
flow: booking-line
language: en-US
nodes:
  book:
    bot: { name: appointments, collect: [Date, Time] }
    next: booked
    fallback: sorry
  booked:
    say: "Booked for {{ Date }} at {{ Time }}"
    hangup: true
  sorry:
    say: Sorry, please call again later.
    hangup: true
"#;

fn booking_flow_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("booking-line.yaml");
    std::fs::write(&path, BOOKING_FLOW).unwrap();
    (dir, path)
}

fn booking_intent(state: IntentState) -> Option<Intent> {
    Some(Intent {
        name: "BookAppointment".into(),
        confidence: Some(0.9),
        state,
    })
}

async fn call_with_sid(emu: &Emulator, url: &str, script: Vec<Step>) -> (String, Transcript) {
    let mut spec = CallSpec::new(url.parse().unwrap());
    spec.script = script;
    let done = tokio::time::timeout(Duration::from_secs(60), emu.call(spec))
        .await
        .unwrap();
    (done.call_sid, done.transcript)
}

/// Whether the flow recorded the bot's hand-off as failed.
fn returned_failed(steps: &[hotline_store::StepRecord]) -> bool {
    steps
        .iter()
        .any(|s| s.kind == "bot-returned" && s.detail.as_deref() == Some("failed"))
}

/// The record of `call_sid` and its steps once `ready` holds for them, waited for up to 10 s (a
/// bot's turns and a call's end are recorded in the background, after the caller is answered).
async fn record_when(
    dir: &Path,
    call_sid: &str,
    ready: impl Fn(&hotline_store::CallRecord, &[hotline_store::StepRecord]) -> bool,
) -> (hotline_store::CallRecord, Vec<hotline_store::StepRecord>) {
    let store = hotline_store::RecordStoreConfig::Sqlite(
        hotline_store::records::sqlite::SqliteConfig::new(dir.join("r.db")),
    )
    .build()
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = store.get_call(call_sid).await.unwrap();
        if let Some((call, steps)) = &found
            && ready(call, steps)
        {
            return (call.clone(), steps.clone());
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the record of {call_sid} is not there yet: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The steps recorded for `call_sid`.
async fn steps_of(dir: &Path, call_sid: &str) -> Vec<hotline_store::StepRecord> {
    record_when(dir, call_sid, |_, _| true).await.1
}

/// The record of `call_sid`, once it has its end.
async fn ended_call(dir: &Path, call_sid: &str) -> hotline_store::CallRecord {
    record_when(dir, call_sid, |call, _| call.outcome.is_some())
        .await
        .0
}

#[tokio::test]
async fn a_flow_hands_the_call_to_a_bot_and_resumes_with_its_slots() {
    let mut day = Reply::say(["At what time?"]);
    day.intent = booking_intent(IntentState::InProgress);
    day.slots.insert("Date".into(), "tomorrow".into());
    // The last reply carries only the last slot: the server keeps the earlier ones.
    let mut done = Reply::say(["Thank you."]);
    done.intent = booking_intent(IntentState::Fulfilled);
    done.slots.insert("Time".into(), "10 am".into());
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Which day would you like?"])),
            turn("<audio>", day),
            turn("<audio>", done),
        ],
        ..FakeConfig::default()
    };
    let (dir, flow) = booking_flow_dir();
    let (app, emu) = serve_with(vec![bot("appointments", engine)], vec![flow], dir).await;
    let (sid, t) = call_with_sid(
        &emu,
        &format!("{}/flows/booking-line/voice", app.base),
        vec![
            during_greeting(),
            speech(),
            listen(),
            short_speech(),
            listen(),
            listen(),
        ],
    )
    .await;
    no_errors(&t);
    assert_eq!(
        says(&t),
        [
            "Which day would you like?",
            "At what time?",
            "Thank you.",
            "Booked for tomorrow at 10 am"
        ],
        "{}",
        t.render_text()
    );
    assert!(
        t.entries.iter().any(|e| matches!(
            &e.event,
            Event::Request { url, status: Some(200), .. }
                if url.contains("/flows/booking-line/step?seq=1&bot=done")
        )),
        "{}",
        t.render_text()
    );
    assert_eq!(t.end().unwrap().0.as_str(), "hangup", "{}", t.render_text());

    let steps = steps_of(app.dir.path(), &sid).await;
    let rows: Vec<(String, String)> = steps
        .iter()
        .map(|s| (s.node.clone(), s.kind.to_string()))
        .collect();
    let pos = |node: &str, kind: &str| {
        rows.iter()
            .position(|(n, k)| n == node && k == kind)
            .unwrap_or_else(|| panic!("no {node}/{kind} in {rows:?}"))
    };
    assert!(pos("book", "entered") < pos("book", "bot-started"));
    assert!(pos("book", "bot-started") < pos("book", "bot-returned"));
    assert!(pos("book", "bot-returned") < pos("booked", "entered"));
    assert!(pos("booked", "entered") < pos("booked", "ended"));
    let returned = &steps[pos("book", "bot-returned")];
    assert_eq!(returned.detail.as_deref(), Some("ok"));
    assert!(
        steps
            .iter()
            .any(|s| s.detail.as_deref() == Some("Date = tomorrow")),
        "{rows:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.detail.as_deref() == Some("Time = 10 am")),
        "{rows:?}"
    );
    assert!(app.bots.take_result(&sid).is_none(), "the result was used");
}

#[tokio::test]
async fn a_failing_bot_hands_the_call_back_to_the_flows_fallback() {
    // The script expects digits; the caller speaks: the engine fails.
    let engine = FakeConfig {
        turns: vec![
            turn("<start>", Reply::say(["Which day would you like?"])),
            turn("1", Reply::say(["Thanks."])),
        ],
        ..FakeConfig::default()
    };
    let (dir, flow) = booking_flow_dir();
    let (app, emu) = serve_with(vec![bot("appointments", engine)], vec![flow], dir).await;
    let (sid, t) = call_with_sid(
        &emu,
        &format!("{}/flows/booking-line/voice", app.base),
        vec![during_greeting(), speech(), listen()],
    )
    .await;
    no_errors(&t);
    assert_eq!(
        says(&t),
        [
            "Which day would you like?",
            "Sorry, please call again later."
        ],
        "{}",
        t.render_text()
    );
    assert_eq!(t.end().unwrap().0.as_str(), "hangup", "{}", t.render_text());
    let steps = steps_of(app.dir.path(), &sid).await;
    assert!(returned_failed(&steps), "{steps:?}");
    assert!(
        steps
            .iter()
            .any(|s| s.node == "sorry" && s.kind == "entered")
    );
    assert!(!steps.iter().any(|s| s.node == "booked"));
}

#[tokio::test]
async fn a_flow_without_the_bot_configured_apologises_and_takes_the_fallback() {
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["Hi."]))],
        ..FakeConfig::default()
    };
    let (dir, flow) = booking_flow_dir();
    let (app, emu) = serve_with(vec![bot("someone-else", engine)], vec![flow], dir).await;
    let t = call(
        &emu,
        &format!("{}/flows/booking-line/voice", app.base),
        vec![],
    )
    .await;
    assert_eq!(
        says(&t),
        [
            "The voice assistant is not available right now.",
            "Sorry, please call again later."
        ],
        "{}",
        t.render_text()
    );
}

/// Waits until `bots` has `n` media streams open; panics after 10 s.
async fn open_streams_reach(bots: &hotline_server::bots::Bots, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while bots.open_streams() != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} streams open, waiting for {n}",
            bots.open_streams()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn stream_started(t: &Transcript) -> bool {
    t.entries
        .iter()
        .any(|e| matches!(e.event, Event::StreamStarted { .. }))
}

/// At `max_streams` 1, a new call is turned away while another call's stream is open: it
/// hears that the service is unavailable and is hung up on, and no stream starts; a flow's
/// hand-off to the bot comes back to the flow as failed, which takes its fallback. The call that
/// holds the stream is not disturbed, and once its stream has ended the next call is taken again.
#[tokio::test]
async fn past_the_stream_limit_new_calls_are_turned_away_gracefully() {
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["Hi."]))],
        ..FakeConfig::default()
    };
    let (dir, flow) = booking_flow_dir();
    let (app, emu) = serve_configured(vec![bot("appointments", engine)], vec![flow], dir, |c| {
        c.max_streams = std::num::NonZeroUsize::new(1)
    })
    .await;
    let url = format!("{}/bots/appointments/voice", app.base);
    let emu = Arc::new(emu);
    // A minute of silence: three seconds at the emulator's pace, while the others call.
    let first = tokio::spawn({
        let (emu, url) = (Arc::clone(&emu), url.clone());
        async move {
            call(
                &emu,
                &url,
                vec![
                    during_greeting(),
                    Step::Silence(Duration::from_secs(60)),
                    Step::Hangup,
                ],
            )
            .await
        }
    });
    open_streams_reach(&app.bots, 1).await;

    let (turned_away_sid, turned_away) = call_with_sid(&emu, &url, vec![listen()]).await;
    assert_eq!(
        says(&turned_away),
        ["Sorry, this service is unavailable right now. Goodbye."],
        "{}",
        turned_away.render_text()
    );
    assert!(
        !stream_started(&turned_away),
        "{}",
        turned_away.render_text()
    );
    let steps = steps_of(app.dir.path(), &turned_away_sid).await;
    assert!(
        steps.iter().any(|s| s.kind == "bot-error"
            && s.detail
                .as_deref()
                .is_some_and(|d| d.contains("media stream limit"))),
        "{steps:?}"
    );

    let (sid, handed_back) = call_with_sid(
        &emu,
        &format!("{}/flows/booking-line/voice", app.base),
        vec![listen()],
    )
    .await;
    assert_eq!(
        says(&handed_back),
        ["Sorry, please call again later."],
        "{}",
        handed_back.render_text()
    );
    assert!(
        !stream_started(&handed_back),
        "{}",
        handed_back.render_text()
    );
    let steps = steps_of(app.dir.path(), &sid).await;
    assert!(returned_failed(&steps), "{steps:?}");
    assert_eq!(app.bots.open_streams(), 1, "the first call still talks");

    let first = first.await.unwrap();
    no_errors(&first);
    assert_eq!(
        says(&first).first().map(String::as_str),
        Some("Hi."),
        "{}",
        first.render_text()
    );
    assert!(stream_started(&first), "{}", first.render_text());

    open_streams_reach(&app.bots, 0).await;
    let taken = call(&emu, &url, vec![during_greeting(), Step::Hangup]).await;
    no_errors(&taken);
    assert_eq!(says(&taken), ["Hi."], "{}", taken.render_text());
    assert!(stream_started(&taken), "{}", taken.render_text());
}

/// A call the bot answered itself and handed to its `return-flow`: one record with the bot's
/// turns, then every step of the flow (numbered after the turns, none overwritten), ended as
/// the flow ended it.
#[tokio::test]
async fn a_call_returned_to_its_flow_keeps_every_step() {
    let mut back = Reply::say(["Back to the menu."]);
    back.action = CallAction::ReturnToFlow;
    let engine = FakeConfig {
        turns: vec![turn("<start>", Reply::say(["Hi."])), turn("<audio>", back)],
        ..FakeConfig::default()
    };
    let mut b = bot("menu", engine);
    b.return_flow = Some("sales-menu".into());
    let (app, emu) = serve(vec![b]).await;
    let (sid, t) = call_with_sid(
        &emu,
        &format!("{}/bots/menu/voice", app.base),
        vec![
            during_greeting(),
            speech(),
            listen(),
            // The bot's stream is stopped before the flow starts: the next step is the menu's.
            Step::Press("1".into()),
        ],
    )
    .await;
    assert!(
        t.entries.iter().any(|e| matches!(
            &e.event,
            Event::Dial { targets, .. } if targets.iter().any(|n| n.contains("+12025550123"))
        )),
        "{}",
        t.render_text()
    );
    let stopped = stream_stopped(&t);
    let redirected = t.entries.iter().position(|e| {
        matches!(
            &e.event,
            Event::Request { url, status: Some(200), .. }
                if url.ends_with("/flows/sales-menu/voice?rec=1000")
        )
    });
    assert!(
        matches!((stopped, redirected), (Some(stop), Some(redirect)) if stop < redirect),
        "the bot's stream stops before the flow: {}",
        t.render_text()
    );
    let (record, steps) = record_when(app.dir.path(), &sid, |c, _| {
        c.outcome.as_deref() == Some("dialed")
    })
    .await;
    metrics_reach(
        &app,
        &[
            "hotline_calls_ended_total{flow=\"bot:menu\",outcome=\"redirected\"} 1",
            "hotline_calls_started_total{flow=\"sales-menu\"} 1",
            "hotline_calls_ended_total{flow=\"sales-menu\",outcome=\"dialed\"} 1",
        ],
    )
    .await;
    assert_eq!(record.flow_id, "bot:menu");
    assert_eq!(record.last_node.as_deref(), Some("sales"));
    let kinds: Vec<(u32, &str, &str)> = steps
        .iter()
        .map(|s| (s.seq, s.node.as_str(), &*s.kind))
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| k.2 == "bot-turn").count(),
        2,
        "{kinds:?}"
    );
    let heard = steps
        .iter()
        .find(|s| s.kind == "heard")
        .expect("the menu's answer");
    assert_eq!(heard.digits.as_deref(), Some("1"));
    assert!(
        steps
            .iter()
            .filter(|s| s.kind != "bot-turn")
            .all(|s| s.seq >= hotline_server::bots::RETURN_FLOW_FIRST_SEQ),
        "{kinds:?}"
    );
}
