//! Durable bot state: two server instances (two `Bots` sharing one session store and one
//! record store, as two `hotline serve` processes would share Redis and PostgreSQL) serve one
//! call — the greeting webhook on the first, the media stream on the second — and the second
//! continues the first's conversation; every engine turn is a step of the call's record; a
//! flow hand-back result kept by one instance is taken by the other. Against the memory store
//! and against Redis (`HOTLINE_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`; the Redis
//! tests FAIL when it is unreachable: CI provides one).
#![allow(clippy::unwrap_used)]

use futures_util::StreamExt;
use hotline_bot::fake::ScriptedTurn;
use hotline_bot::{EngineConfig, FakeConfig, Intent, IntentState, Reply};
use hotline_server::bots::{BotConfig, Bots, FlowReturn, STEP_BOT_TURN};
use hotline_server::metrics::{Gauges, Metrics};
use hotline_store::session::memory::MemoryConfig;
use hotline_store::session::redis::RedisConfig;
use hotline_store::{RecordStore, SessionStore};
use hotline_twilio::signature::PublicBase;
use hotline_vad::VadConfig;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn turn(expect: &str, reply: Reply) -> ScriptedTurn {
    ScriptedTurn {
        expect: Some(expect.to_owned()),
        reply,
    }
}

fn bot() -> BotConfig {
    let mut greeting = Reply::say(["(greeting audio)"]);
    greeting.audio = Some(vec![0x10; 1600]);
    let mut answer = Reply::say(["(answer audio)"]);
    answer.audio = Some(vec![0x20; 1600]);
    answer.intent = Some(Intent {
        name: "CheckBalance".to_owned(),
        confidence: Some(0.87),
        state: IntentState::InProgress,
    });
    answer.slots.insert("Account".to_owned(), "42".to_owned());
    let engine = FakeConfig {
        // Scripted: a second instance that did not resume the conversation would expect
        // `<start>` and fail the digits turn.
        turns: vec![turn("<start>", greeting), turn("42", answer)],
        ..FakeConfig::default()
    };
    let mut b = BotConfig::new("desk", EngineConfig::Fake(engine));
    b.vad = VadConfig::Energy(Default::default());
    b.bidirectional = true;
    b
}

async fn instance(sessions: Arc<dyn SessionStore>, records: Arc<dyn RecordStore>) -> Arc<Bots> {
    instance_counted(sessions, records, Arc::default()).await
}

/// [`instance`], counting its calls in `metrics`.
async fn instance_counted(
    sessions: Arc<dyn SessionStore>,
    records: Arc<dyn RecordStore>,
    metrics: Arc<Metrics>,
) -> Arc<Bots> {
    let mut rest = hotline_twilio::rest::RestConfig::new("AC1", "token");
    rest.api_base = "http://127.0.0.1:9".to_owned();
    Arc::new(
        Bots::build_with_stores(
            &[bot()],
            None,
            Some(hotline_twilio::rest::RestClient::new(rest).unwrap()),
            4,
            PublicBase::parse("https://hotline.example.com").unwrap(),
            sessions,
            Some(records),
        )
        .await
        .unwrap()
        .with_metrics(metrics),
    )
}

/// `metrics`' lines for the calls of bot `desk` that `family` counts (`started`, `ended`) and
/// that are not 0, e.g. `hotline_calls_started_total{flow="bot:desk"} 1`.
fn desk_calls(metrics: &Metrics, family: &str) -> Vec<String> {
    let prefix = format!("hotline_calls_{family}_total{{flow=\"bot:desk\"");
    metrics
        .render(Gauges::default())
        .lines()
        .filter(|l| l.starts_with(&prefix) && !l.ends_with(" 0"))
        .map(str::to_owned)
        .collect()
}

async fn records(dir: &tempfile::TempDir) -> Arc<dyn RecordStore> {
    hotline_store::RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(
        dir.path().join("r.db"),
    ))
    .build()
    .await
    .unwrap()
}

async fn redis() -> Arc<dyn SessionStore> {
    let url =
        std::env::var("HOTLINE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut config = RedisConfig::new(url);
    config.prefix = format!("hotline-bot-test:{}:", std::process::id());
    match config.build().await {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("Redis is required for these tests (CI provides it): {e}"),
    }
}

fn sid(n: u8) -> String {
    format!("CA{}", n.to_string().repeat(32))
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> serde_json::Value {
    let text = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The greeting on instance A, the stream on instance B: B answers the caller's digits with
/// the script's second turn, and both turns are in the call's record.
async fn second_instance_continues_the_conversation(sessions: Arc<dyn SessionStore>, n: u8) {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(&dir).await;
    let a = instance(sessions.clone(), recs.clone()).await;
    let b = instance(sessions, recs.clone()).await;
    let call_sid = sid(n);

    let twiml = a.entry("desk", Some(&call_sid)).await;
    assert!(twiml.contains("<Connect><Stream"), "{twiml}");
    assert!(
        b.conversation(&call_sid).await.is_some(),
        "instance B sees the conversation A started"
    );

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
    let driver = tokio::spawn(hotline_server::voice::drive(
        b.clone(),
        b.get("desk").unwrap(),
        hotline_server::voice::Duplex {
            sink: Box::pin(tx),
            stream: rx,
        },
    ));
    let send = |s: String| in_tx.send(axum::extract::ws::Message::text(s)).unwrap();
    let ms = "MZ1";
    send(format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{ms}","start":{{"streamSid":"{ms}","callSid":"{call_sid}","tracks":["inbound"],"customParameters":{{"bot":"desk"}},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
    ));
    // A's greeting audio is played by B (the stored `on_start`), then its mark.
    let media = next(&mut out_rx).await;
    assert_eq!(media["event"], "media");
    let payload = hotline_twilio::stream::encode_payload(&[0x10; 160]);
    assert!(
        media["media"]["payload"]
            .as_str()
            .unwrap()
            .starts_with(&payload[..40]),
        "the greeting's audio"
    );
    let mark = next(&mut out_rx).await;
    send(format!(
        r#"{{"event":"mark","sequenceNumber":"2","streamSid":"{ms}","mark":{{"name":"{}"}}}}"#,
        mark["mark"]["name"].as_str().unwrap()
    ));
    for (i, d) in ["4", "2", "#"].iter().enumerate() {
        send(format!(
            r#"{{"event":"dtmf","sequenceNumber":"{}","streamSid":"{ms}","dtmf":{{"track":"inbound_track","digit":"{d}"}}}}"#,
            i + 3
        ));
    }
    // The script's second turn: its audio (an apology would be text, with no media).
    let media = next(&mut out_rx).await;
    assert_eq!(media["event"], "media");
    let answer = hotline_twilio::stream::encode_payload(&[0x20; 160]);
    assert!(
        media["media"]["payload"]
            .as_str()
            .unwrap()
            .starts_with(&answer[..40]),
        "the answer's audio, not an apology: {media}"
    );
    let _mark = next(&mut out_rx).await;
    // The conversation after the turn is in the store, for the next instance.
    let stored = a.conversation(&call_sid).await.unwrap();
    assert_eq!(stored.turns, 2);
    assert_eq!(stored.last_prompt, ["(answer audio)"]);

    send(format!(
        r#"{{"event":"stop","sequenceNumber":"9","streamSid":"{ms}","stop":{{"accountSid":"AC1","callSid":"{call_sid}"}}}}"#
    ));
    tokio::time::timeout(Duration::from_secs(5), driver)
        .await
        .unwrap()
        .unwrap();
    assert!(a.conversation(&call_sid).await.is_none(), "forgotten");

    // Both turns are steps of the call's record (written in the background).
    let mut steps = Vec::new();
    for _ in 0..100 {
        if let Some((call, s)) = recs.get_call(&call_sid).await.unwrap()
            && s.len() == 2
        {
            assert_eq!(call.flow_id, "bot:desk");
            steps = s;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!((steps[0].seq, steps[1].seq), (1, 2));
    assert!(
        steps
            .iter()
            .all(|s| s.kind == STEP_BOT_TURN && s.node == "desk")
    );
    let digits = &steps[1];
    assert_eq!(digits.digits.as_deref(), Some("42"));
    assert_eq!(digits.route.as_deref(), Some("CheckBalance"));
    assert_eq!(digits.confidence, Some(0.87));
    let detail: serde_json::Value =
        serde_json::from_str(digits.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["input"], "digits");
    assert_eq!(detail["slots"]["Account"], "42");
    assert_eq!(detail["reply"][0], "(answer audio)");
    assert_eq!(detail["action"], "continue");
    assert_eq!(detail["intent_state"], "InProgress");
}

/// A flow hand-off's result kept by instance A is taken by instance B, once; the hand-off's
/// deadline survives the trip through the store.
async fn hand_back_results_cross_instances(sessions: Arc<dyn SessionStore>, n: u8) {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(&dir).await;
    let a = instance(sessions.clone(), recs.clone()).await;
    let b = instance(sessions, recs).await;
    let call_sid = sid(n);
    let slots = BTreeMap::from([("Date".to_owned(), "tomorrow".to_owned())]);
    a.keep_result(&call_sid, Ok(slots.clone())).await;
    assert_eq!(b.take_result_shared(&call_sid).await, Some(Ok(slots)));
    assert_eq!(b.take_result_shared(&call_sid).await, None, "taken once");
    assert!(a.take_result(&call_sid).is_some(), "A's own copy");
    assert_eq!(a.take_result_shared(&call_sid).await, None);

    // A hand-off's conversation, read back by the other instance.
    let flow = FlowReturn {
        flow: "booking".to_owned(),
        seq: 3,
        deadline: Instant::now() + Duration::from_secs(60),
    };
    let twiml = a.entry_from_flow("desk", Some(&call_sid), Some(flow)).await;
    assert!(twiml.contains("<Connect>"), "{twiml}");
    let state = b.conversation(&call_sid).await.unwrap();
    let back = state.flow.unwrap();
    assert_eq!((back.flow.as_str(), back.seq), ("booking", 3));
    let left = back.deadline.saturating_duration_since(Instant::now());
    assert!(
        left > Duration::from_secs(55) && left <= Duration::from_secs(60),
        "{left:?}"
    );
    assert_eq!(state.session.bot, "desk");
    assert_ne!(state.session.engine_state, None, "the engine's position");
    b.forget(&call_sid).await;
    // A failure is kept as such.
    b.keep_result(&call_sid, Err("engine down".to_owned()))
        .await;
    assert_eq!(
        a.take_result_shared(&call_sid).await,
        Some(Err("engine down".to_owned()))
    );
}

/// The greeting on instance A starts the call's record; the media stream never reports its
/// stop; Twilio's status callback reaches instance B: the record ends `caller-hangup`, with the
/// webhook's numbers, and the conversation is forgotten. A second callback changes nothing.
async fn a_status_callback_ends_a_bot_call_its_stream_did_not(
    sessions: Arc<dyn SessionStore>,
    n: u8,
) {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(&dir).await;
    let (counted_a, counted_b) = (Arc::<Metrics>::default(), Arc::<Metrics>::default());
    let a = instance_counted(sessions.clone(), recs.clone(), counted_a.clone()).await;
    let b = instance_counted(sessions, recs.clone(), counted_b.clone()).await;
    let call_sid = sid(n);
    let caller = hotline_server::bots::Caller {
        from: "+33612345678".to_owned(),
        to: "+33970000000".to_owned(),
    };
    // Twilio retries the voice webhook: greeted twice, the call is counted once.
    for _ in 0..2 {
        let twiml = a
            .entry_for("desk", Some(&call_sid), caller.clone(), None)
            .await;
        assert!(twiml.contains("<Connect><Stream"), "{twiml}");
    }
    assert_eq!(
        desk_calls(&counted_a, "started"),
        ["hotline_calls_started_total{flow=\"bot:desk\"} 1"]
    );
    b.call_status(&call_sid, "in-progress").await;
    assert!(b.conversation(&call_sid).await.is_some());

    assert!(b.call_status(&call_sid, "completed").await, "a bot call");
    assert!(b.conversation(&call_sid).await.is_none());
    let deadline = Instant::now() + Duration::from_secs(10);
    let call = loop {
        if let Some((call, _)) = recs.get_call(&call_sid).await.unwrap()
            && call.outcome.is_some()
        {
            break call;
        }
        assert!(Instant::now() < deadline, "the call's record has no end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(call.flow_id, "bot:desk");
    assert_eq!(
        call.outcome.as_deref(),
        Some(hotline_store::OUTCOME_CALLER_HANGUP)
    );
    assert_eq!(
        (call.from.as_str(), call.to.as_str()),
        ("+33612345678", "+33970000000")
    );
    let ended = call.ended_at_ms;
    assert!(!b.call_status(&call_sid, "completed").await, "forgotten");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (again, _) = recs.get_call(&call_sid).await.unwrap().unwrap();
    assert_eq!(again.ended_at_ms, ended);
    // The instance that ended the call counted its end, once.
    assert_eq!(
        desk_calls(&counted_b, "ended"),
        ["hotline_calls_ended_total{flow=\"bot:desk\",outcome=\"caller-hangup\"} 1"]
    );
}

/// Instance A's stream stops, seeing the call open in the copy it read, while Twilio's status
/// callback reaches instance B, which ends the call first: the record keeps B's end, and the
/// two instances count the call's end once between them (A's write finds it ended).
async fn a_bot_call_ended_on_two_instances_is_counted_once(sessions: Arc<dyn SessionStore>, n: u8) {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(&dir).await;
    let (counted_a, counted_b) = (Arc::<Metrics>::default(), Arc::<Metrics>::default());
    let a = instance_counted(sessions.clone(), recs.clone(), counted_a.clone()).await;
    let b = instance_counted(sessions, recs.clone(), counted_b.clone()).await;
    let call_sid = sid(n);
    let twiml = a
        .entry_for("desk", Some(&call_sid), Default::default(), None)
        .await;
    assert!(twiml.contains("<Connect><Stream"), "{twiml}");
    let record = |want_end: bool| {
        let (recs, call_sid) = (recs.clone(), call_sid.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some((call, _)) = recs.get_call(&call_sid).await.unwrap()
                    && (call.outcome.is_some() || !want_end)
                {
                    break call;
                }
                assert!(Instant::now() < deadline, "no record (end: {want_end})");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    record(false).await;
    // The stream's copy, read before the call ended.
    let mut stale = a.conversation(&call_sid).await.unwrap();
    assert!(!stale.ended);

    assert!(b.call_status(&call_sid, "completed").await);
    let ended = record(true).await;
    assert_eq!(
        ended.outcome.as_deref(),
        Some(hotline_store::OUTCOME_CALLER_HANGUP)
    );
    a.record_end(&mut stale, &hotline_flow::runtime::Outcome::HungUp);
    // A's write runs in the background (and is refused): give it time to land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (again, _) = recs.get_call(&call_sid).await.unwrap().unwrap();
    assert_eq!(
        (again.outcome.as_deref(), again.ended_at_ms),
        (ended.outcome.as_deref(), ended.ended_at_ms),
        "the first end stays"
    );
    assert_eq!(
        desk_calls(&counted_b, "ended"),
        ["hotline_calls_ended_total{flow=\"bot:desk\",outcome=\"caller-hangup\"} 1"]
    );
    assert_eq!(desk_calls(&counted_a, "ended"), Vec::<String>::new());
}

mod memory {
    use super::*;

    fn store() -> Arc<dyn SessionStore> {
        Arc::new(MemoryConfig::default().build())
    }

    #[tokio::test]
    async fn a_second_instance_continues_the_conversation() {
        second_instance_continues_the_conversation(store(), 1).await;
    }

    #[tokio::test]
    async fn hand_back_results_cross_instances() {
        super::hand_back_results_cross_instances(store(), 2).await;
    }

    #[tokio::test]
    async fn a_status_callback_ends_a_bot_call_its_stream_did_not() {
        super::a_status_callback_ends_a_bot_call_its_stream_did_not(store(), 5).await;
    }

    #[tokio::test]
    async fn a_bot_call_ended_on_two_instances_is_counted_once() {
        super::a_bot_call_ended_on_two_instances_is_counted_once(store(), 7).await;
    }
}

mod redis {
    use super::*;

    #[tokio::test]
    async fn a_second_instance_continues_the_conversation() {
        second_instance_continues_the_conversation(redis().await, 3).await;
    }

    #[tokio::test]
    async fn hand_back_results_cross_instances() {
        super::hand_back_results_cross_instances(redis().await, 4).await;
    }

    #[tokio::test]
    async fn a_status_callback_ends_a_bot_call_its_stream_did_not() {
        super::a_status_callback_ends_a_bot_call_its_stream_did_not(redis().await, 6).await;
    }

    #[tokio::test]
    async fn a_bot_call_ended_on_two_instances_is_counted_once() {
        super::a_bot_call_ended_on_two_instances_is_counted_once(redis().await, 8).await;
    }
}
