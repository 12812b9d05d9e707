//! The fake engine: the conformance suite, YAML scripts, scripted turns, latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_bot::{
    BotSession, CallAction, DialogAction, Engine, EngineConfig, EngineError, FakeConfig,
    FakeEngine, Reply, ReplyPolicy, TurnInput,
};

hotline_bot::engine_suite!(async { Arc::new(FakeEngine::appointment()) as Arc<dyn Engine> });

#[tokio::test]
async fn yaml_engine_config_builds_a_three_turn_bot() {
    let yaml = r#"
type: fake
greeting: ["Hi! Pizza or pasta?"]
intents:
  - name: OrderPizza
    keywords: [pizza]
    slots:
      - { name: Size, prompt: "Which size?" }
    fulfilled: ["One {Size} pizza coming."]
  - name: Goodbye
    keywords: [bye]
    fulfilled: ["Bye!"]
no_match: ["Pardon?"]
"#;
    let config: EngineConfig = serde_saphyr::from_str(yaml).unwrap();
    config.validate().unwrap();
    let engine = config.build().await.unwrap();
    assert_eq!(engine.name(), "fake");
    let policy = ReplyPolicy::default();
    let mut s = BotSession::new("CA1", "pizza", "en_US");
    let r = engine.turn(&mut s, TurnInput::Start).await.unwrap();
    assert_eq!(r.messages, ["Hi! Pizza or pasta?"]);
    let r = engine
        .turn(&mut s, TurnInput::Text("a pizza please".into()))
        .await
        .unwrap();
    assert_eq!(
        r.dialog,
        DialogAction::ElicitSlot {
            slot: "Size".into()
        }
    );
    let r = engine
        .turn(&mut s, TurnInput::Text("large".into()))
        .await
        .unwrap();
    assert_eq!(r.messages, ["One large pizza coming."]);
    let r = engine
        .turn(&mut s, TurnInput::Text("what".into()))
        .await
        .unwrap();
    assert_eq!(r.messages, ["Pardon?"]);
    assert_eq!(r.intent, None);
    let r = policy.apply(
        engine
            .turn(&mut s, TurnInput::Text("bye".into()))
            .await
            .unwrap(),
    );
    assert_eq!(r.action, CallAction::Hangup);
}

#[tokio::test]
async fn bad_fake_configs_are_rejected() {
    let dup: EngineConfig = serde_saphyr::from_str(
        "type: fake\nintents: [{name: A, keywords: [a]}, {name: A, keywords: [b]}]\n",
    )
    .unwrap();
    assert!(matches!(dup.validate(), Err(EngineError::Configuration(_))));
    assert!(serde_saphyr::from_str::<EngineConfig>("type: fake\nintnets: []\n").is_err());
    let lex: EngineConfig =
        serde_saphyr::from_str("type: lex\nbot_id: ABCDE12345\nbot_alias_id: TSTALIASID\n")
            .unwrap();
    lex.validate().unwrap();
    assert!(matches!(
        lex.build().await,
        Err(EngineError::Configuration(_))
    ));
}

#[tokio::test]
async fn scripted_turns_play_in_order_and_check_the_input() {
    let mut bye = Reply::say(["Bye"]);
    bye.action = CallAction::Hangup;
    let config: FakeConfig = serde_json::from_value(serde_json::json!({
        "turns": [
            {"expect": "<start>", "reply": Reply::say(["Hello"])},
            {"expect": "42", "reply": Reply::say(["Got it"])},
            {"reply": bye},
        ]
    }))
    .unwrap();
    let engine = FakeEngine::new(config).unwrap();
    let mut s = BotSession::new("CA2", "b", "en_US");
    assert_eq!(
        engine
            .turn(&mut s, TurnInput::Start)
            .await
            .unwrap()
            .messages,
        ["Hello"]
    );
    assert_eq!(
        engine
            .turn(&mut s, TurnInput::Digits("42".into()))
            .await
            .unwrap()
            .messages,
        ["Got it"]
    );
    let r = engine
        .turn(
            &mut s,
            TurnInput::Audio {
                pcm_8k: vec![0; 80],
            },
        )
        .await
        .unwrap();
    assert_eq!(ReplyPolicy::default().action(&r), CallAction::Hangup);
    assert!(matches!(
        engine.turn(&mut s, TurnInput::Start).await,
        Err(EngineError::BadResponse(_))
    ));
    let mut s = BotSession::new("CA3", "b", "en_US");
    let e = engine
        .turn(&mut s, TurnInput::Text("hi".into()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("expected `<start>`"), "{e}");
}

#[tokio::test]
async fn latency_is_simulated() {
    let mut config = FakeConfig::appointment();
    config.latency_ms = 120;
    let engine = FakeEngine::new(config).unwrap();
    let mut s = BotSession::new("CA4", "b", "en_US");
    let t = Instant::now();
    engine.turn(&mut s, TurnInput::Start).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(120));
    let slow = hotline_bot::with_timeout(Arc::new(engine), Duration::from_millis(50));
    let before = s.clone();
    assert!(matches!(
        slow.turn(&mut s, TurnInput::Text("book".into())).await,
        Err(EngineError::Timeout { .. })
    ));
    assert_eq!(s, before, "a timed-out turn leaves the session unchanged");
}
