//! `hotline serve` end to end: the emulator plays Twilio against the server on loopback, with
//! signatures checked and every step recorded in SQLite (or PostgreSQL/Redis where stated).
#![allow(clippy::unwrap_used)]

use hotline_emulator::{CallSpec, DialOutcome, Emulator, EmulatorConfig, Step, Transcript};
use hotline_server::ServerConfig;
use hotline_store::{RecordStoreConfig, SessionStoreConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod support;

use support::serve;

const TOKEN: &str = "e2e-auth-token";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(flows: &[&str], records: &Path) -> ServerConfig {
    let mut c = ServerConfig::new(
        flows.iter().map(|f| repo().join(f)).collect(),
        "http://placeholder",
    );
    c.auth_token = Some(TOKEN.to_owned());
    c.records =
        RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(records));
    c.reload_every = Some(Duration::from_millis(100));
    c
}

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        auth_token: TOKEN.to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn say(t: &str) -> Step {
    Step::Say {
        text: t.to_owned(),
        confidence: None,
    }
}

async fn call(emu: &Emulator, url: &str, script: Vec<Step>) -> Transcript {
    let mut spec = CallSpec::new(url.parse().unwrap());
    spec.script = script;
    tokio::time::timeout(Duration::from_secs(30), emu.call(spec))
        .await
        .unwrap()
        .transcript
}

fn dialled(t: &Transcript) -> Vec<String> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            hotline_emulator::Event::Dial { targets, .. } => Some(targets.join(",")),
            _ => None,
        })
        .collect()
}

fn enqueued(t: &Transcript) -> Vec<String> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            hotline_emulator::Event::Enqueue { queue } => Some(queue.clone()),
            _ => None,
        })
        .collect()
}

fn no_app_errors(t: &Transcript) {
    assert!(
        !t.entries
            .iter()
            .any(|e| matches!(e.event, hotline_emulator::Event::ApplicationError { .. })),
        "{}",
        t.render_text()
    );
}

#[tokio::test]
async fn french_triage_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let server = serve(config(&["examples/flows/covid-triage-fr.yaml"], &db)).await;
    let emu = emulator().await;
    let url = format!("{}/flows/covid-triage-fr/voice", server.base);
    let yes_no = |answers: &[&str]| {
        let mut s = vec![say("oui"), say("j'ai des symptômes")];
        s.extend(answers.iter().map(|a| say(a)));
        s
    };

    // Not about the coronavirus: queued for the emergency service.
    let t = call(&emu, &url, vec![say("non, c'est pour un accident")]).await;
    no_app_errors(&t);
    assert_eq!(enqueued(&t), ["samu"], "{}", t.render_text());

    // A simple question: the government's green number.
    let t = call(&emu, &url, vec![say("oui"), say("j'ai une question")]).await;
    assert!(dialled(&t)[0].contains("800"), "{}", t.render_text());

    // A red flag (breathlessness) stops the questions early: SAMU 15.
    let t = call(
        &emu,
        &url,
        yes_no(&["oui", "oui", "oui, j'ai du mal à respirer"]),
    )
    .await;
    assert_eq!(dialled(&t), ["number 15"], "{}", t.render_text());
    let asked: usize = t.heard().filter(|h| h.contains("question")).count();
    assert!(asked <= 4, "stopped after the third symptom question");

    // A high score (fever, cough, chronic illness, taste): SAMU.
    let t = call(
        &emu,
        &url,
        yes_no(&["oui", "oui", "non", "non", "oui", "oui"]),
    )
    .await;
    assert_eq!(dialled(&t), ["number 15"], "{}", t.render_text());

    // A low score: the medical students' line.
    let t = call(
        &emu,
        &url,
        yes_no(&["non", "non", "non", "non", "non", "non"]),
    )
    .await;
    let d = dialled(&t);
    assert_eq!(d.len(), 1, "{}", t.render_text());
    assert!(!d[0].contains("number 15"), "{d:?}");

    // Silence: the seed's error-01, error-02, goodbye.
    let t = call(&emu, &url, vec![Step::Silence(Duration::from_secs(60))]).await;
    let heard: Vec<&str> = t.heard().collect();
    assert!(heard.iter().any(|h| h.contains("error-01")), "{heard:?}");
    assert!(heard.iter().any(|h| h.contains("error-02")), "{heard:?}");
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
    assert!(dialled(&t).is_empty());

    // Garbage speech is a no-match: reprompted, then the caller answers.
    let t = call(&emu, &url, vec![say("banane flambée"), say("non")]).await;
    assert_eq!(enqueued(&t), ["samu"], "{}", t.render_text());

    // A caller who hangs up at the second question: Twilio's status callback records it there.
    let mut spec = CallSpec::new(url.parse().unwrap());
    spec.script = vec![
        say("oui"),
        Step::Silence(Duration::from_secs(1)),
        Step::Hangup,
    ];
    spec.status_callback = Some(format!("{}/status", server.base).parse().unwrap());
    let t = emu.call(spec).await.transcript;
    assert_eq!(t.end().unwrap().0.as_str(), "caller-hangup");

    // Every call is recorded, with its outcome.
    let store = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db))
        .build()
        .await
        .unwrap();
    let funnel = store.funnel("covid-triage-fr", None, None).await.unwrap();
    assert_eq!(funnel.calls, 8);
    assert_eq!(funnel.node("accueil").unwrap().reached, 8);
    assert_eq!(funnel.node("classification").unwrap().hung_up, 1);
    assert_eq!(funnel.outcome("caller-hangup"), 1);
    assert!(funnel.node("accueil").unwrap().no_matches >= 1);
    assert_eq!(funnel.outcome("enqueued"), 2);
    assert_eq!(funnel.outcome("dialed"), 4);
    assert_eq!(funnel.outcome("hung-up"), 1);
    server.stop().await;
}

/// The bilingual triage: the language menu by key, by speech and by silence, then the whole
/// call in the chosen language.
#[tokio::test]
async fn bilingual_triage_runs_in_the_chosen_language() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let server = serve(config(&["examples/flows/covid-triage-bilingue.yaml"], &db)).await;
    let emu = emulator().await;
    let url = format!("{}/flows/covid-triage-bilingue/voice", server.base);
    // Everything heard after the menu's own prompts.
    let after_menu = |t: &Transcript| -> Vec<String> {
        t.heard()
            .skip_while(|h| !h.contains("coronavirus"))
            .map(str::to_owned)
            .collect()
    };

    // Key 2: English from then on; a low score goes to the medical students' line.
    let mut script = vec![
        Step::Press("2".into()),
        say("yes"),
        say("I'm worried about symptoms"),
    ];
    script.extend(["no", "yes I cough", "no", "no", "no", "no"].map(say));
    let t = call(&emu, &url, script).await;
    no_app_errors(&t);
    assert_eq!(dialled(&t), ["number +33199001234"], "{}", t.render_text());
    let heard = after_menu(&t);
    assert!(
        heard.iter().any(|h| h.contains("Your total score is 1.")),
        "{heard:?}"
    );
    assert!(
        !heard
            .iter()
            .any(|h| h.contains("question.") && h.contains("Avez-vous"))
    );
    assert!(!heard.iter().any(|h| h.contains("Merci")), "{heard:?}");

    // "Français", said: French; not about the coronavirus, so queued for the SAMU.
    let t = call(
        &emu,
        &url,
        vec![say("français"), say("non c'est un accident")],
    )
    .await;
    assert_eq!(enqueued(&t), ["samu"], "{}", t.render_text());
    assert!(after_menu(&t).iter().any(|h| h.contains("Restez en ligne")));

    // English, said, and a red flag in English: the SAMU's physician at once.
    let t = call(
        &emu,
        &url,
        vec![
            say("English please"),
            say("yes"),
            say("symptoms"),
            say("no"),
            say("no"),
            say("yes I'm short of breath"),
        ],
    )
    .await;
    assert_eq!(dialled(&t), ["number 15"], "{}", t.render_text());
    assert!(
        after_menu(&t)
            .iter()
            .any(|h| h.contains("emergency physician"))
    );

    // No choice at all: the menu is asked twice, then the call goes on in French.
    let t = call(
        &emu,
        &url,
        vec![
            Step::Silence(Duration::from_secs(6)),
            Step::Silence(Duration::from_secs(6)),
            say("oui"),
            say("juste une question"),
        ],
    )
    .await;
    assert!(dialled(&t)[0].contains("800"), "{}", t.render_text());
    let heard: Vec<&str> = t.heard().collect();
    assert!(
        heard
            .iter()
            .any(|h| h.contains("Tapez 1 pour le français.")),
        "{heard:?}"
    );
    assert!(heard.iter().any(|h| h.contains("numéro vert")), "{heard:?}");

    // The records hold the four calls and where the menu sent them.
    let store = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db))
        .build()
        .await
        .unwrap();
    let funnel = store
        .funnel("covid-triage-bilingue", None, None)
        .await
        .unwrap();
    assert_eq!(funnel.calls, 4);
    assert_eq!(funnel.node("langue").unwrap().reached, 4);
    let langue = funnel.node("langue").unwrap();
    assert_eq!(langue.no_inputs, 2);
    // Who chose which language: the menu's routes, by their labels.
    assert_eq!(
        langue
            .routes
            .iter()
            .map(|r| (r.route.as_str(), r.taken))
            .collect::<Vec<_>>(),
        [
            ("english / anglais / anglaise / 2 / language en-US", 2),
            ("français / francais / french / 1 / language fr-FR", 1)
        ],
        "{funnel:#?}"
    );
    assert_eq!(funnel.node("accueil").unwrap().reached, 4);
    assert_eq!(funnel.outcome("dialed"), 3);
    assert_eq!(funnel.outcome("enqueued"), 1);
    server.stop().await;
}

#[tokio::test]
async fn english_triage_and_sales_menu() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let server = serve(config(
        &[
            "examples/flows/covid-triage-en.yaml",
            "examples/flows/sales-menu.yaml",
        ],
        &db,
    ))
    .await;
    let emu = emulator().await;
    let triage = format!("{}/flows/covid-triage-en/voice", server.base);
    let t = call(&emu, &triage, vec![say("no it's a car accident")]).await;
    no_app_errors(&t);
    assert_eq!(enqueued(&t).len(), 1, "{}", t.render_text());
    let t = call(
        &emu,
        &triage,
        vec![
            say("yes"),
            say("I have symptoms"),
            say("yes"),
            say("yes"),
            say("yes I can't breathe"),
        ],
    )
    .await;
    assert_eq!(dialled(&t).len(), 1, "{}", t.render_text());

    // DTMF instead of speech.
    let sales = format!("{}/flows/sales-menu/voice", server.base);
    let t = call(&emu, &sales, vec![Step::Press("1".into())]).await;
    assert!(dialled(&t)[0].contains("202"), "{}", t.render_text());
    // Speech, then support busy: voicemail.
    let mut spec = CallSpec::new(sales.parse().unwrap());
    spec.script = vec![
        say("support please"),
        say("my printer is broken"),
        Step::Press("#".into()),
    ];
    spec.dial_outcome = DialOutcome::Busy;
    let t = emu.call(spec).await.transcript;
    assert!(
        t.entries
            .iter()
            .any(|e| matches!(e.event, hotline_emulator::Event::Recording { .. })),
        "{}",
        t.render_text()
    );
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
    // Support busy and nothing said at the beep: Twilio posts no empty recording and goes on
    // with the next verb; the flow still thanks the caller and hangs up.
    let mut spec = CallSpec::new(sales.parse().unwrap());
    spec.script = vec![
        Step::Press("2".into()),
        Step::Silence(Duration::from_secs(30)),
    ];
    spec.dial_outcome = DialOutcome::Busy;
    let t = emu.call(spec).await.transcript;
    no_app_errors(&t);
    assert!(
        t.heard().any(|h| h.contains("we will call you back")),
        "{}",
        t.render_text()
    );
    assert_eq!(t.end().unwrap().0.as_str(), "hangup");
    server.stop().await;
}

/// Signs a form POST as Twilio would.
fn signed_post(url: &str, params: &[(&str, &str)], token: &str) -> reqwest::RequestBuilder {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let sig = hotline_twilio::signature::compute(token, url, &owned);
    reqwest::Client::new()
        .post(url)
        .header("X-Twilio-Signature", sig)
        .form(&owned)
}

const CALL: &str = "CA0123456789abcdef0123456789abcdef";

/// A call's first webhook's parameters.
const FIRST_WEBHOOK: [(&str, &str); 3] = [
    ("CallSid", CALL),
    ("From", "+15550001111"),
    ("To", "+15550002222"),
];

/// The sales menu served, recording into a fresh database: the folder that holds it, its path.
async fn sales_menu() -> (support::Running, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let server = serve(config(&["examples/flows/sales-menu.yaml"], &db)).await;
    (server, dir, db)
}

#[tokio::test]
async fn bad_input_gets_clear_answers_and_records_nothing() {
    let (server, _dir, db) = sales_menu().await;
    let voice = format!("{}/flows/sales-menu/voice", server.base);
    let params = FIRST_WEBHOOK;

    // Wrong signature: 403, nothing recorded.
    let r = signed_post(&voice, &params, "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = reqwest::Client::new()
        .post(&voice)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let store = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db))
        .build()
        .await
        .unwrap();
    assert!(store.get_call(CALL).await.unwrap().is_none());

    // Oversized body: 413.
    let big = "x".repeat(100_000);
    let r = signed_post(&voice, &[("CallSid", CALL), ("Junk", &big)], TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // A callback for a call the server never saw: graceful TwiML (apology, restart), not a 500.
    let step = format!("{}/flows/sales-menu/step?seq=3", server.base);
    let r = signed_post(&step, &params, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("<Say"), "{body}");
    assert!(
        body.contains("/flows/sales-menu/voice?rec=0</Redirect>"),
        "{body}"
    );

    // An unknown flow: graceful TwiML too.
    let other = format!("{}/flows/nope/voice", server.base);
    let r = signed_post(&other, &params, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Hangup/>"));

    // A retried voice webhook gets the same answer, and a retried step is not stepped twice.
    let first = signed_post(&voice, &params, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let again = signed_post(&voice, &params, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(first, again);
    let step1 = format!("{}/flows/sales-menu/step?seq=1", server.base);
    let answer = [
        ("CallSid", CALL),
        ("From", "+15550001111"),
        ("To", "+15550002222"),
        ("Digits", "1"),
    ];
    let a = signed_post(&step1, &answer, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let b = signed_post(&step1, &answer, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(a, b, "a retried callback replays the answer");
    let (_, steps) = store.get_call(CALL).await.unwrap().unwrap();
    assert_eq!(steps.iter().filter(|s| s.kind == "heard").count(), 1);
    server.stop().await;
}

/// A webhook path the server's front door leaves to the router (an escaped flow id) is
/// answered as the router reads it: for the flow the id decodes to, signature checked.
#[tokio::test]
async fn an_escaped_flow_id_is_answered_for_its_flow() {
    let (server, _dir, _) = sales_menu().await;
    let voice = format!("{}/flows/sales%2Dmenu/voice", server.base);
    let params = FIRST_WEBHOOK;
    let r = signed_post(&voice, &params, "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = signed_post(&voice, &params, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("<Gather"), "{body}");
    assert!(body.contains("/flows/sales-menu/step?seq=1"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn prompts_are_signed_typed_and_ranged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let server = serve(config(&["examples/flows/sales-menu.yaml"], &db)).await;
    // Find a prompt URL through a real call: the operator node plays the beep.
    let voice = format!("{}/flows/sales-menu/voice", server.base);
    let params = [
        ("CallSid", CALL),
        ("From", "+15550001111"),
        ("To", "+15550002222"),
    ];
    let _ = signed_post(&voice, &params, TOKEN).send().await.unwrap();
    let mut xml = String::new();
    for seq in 1..=3 {
        let step = format!("{}/flows/sales-menu/step?seq={seq}", server.base);
        xml = signed_post(&step, &params, TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    let start = xml.find("/prompts/").expect(&xml);
    let end = xml[start..].find('<').unwrap() + start;
    let url = format!("{}{}", server.base, xml[start..end].replace("&amp;", "&"));
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let len = r.bytes().await.unwrap().len();
    let r = reqwest::Client::new()
        .get(&url)
        .header("Range", "bytes=0-43")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-43/{len}").as_str()
    );
    let tampered = url.replace("beep", "error-01");
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn hot_reload_keeps_calls_on_their_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let flow = dir.path().join("menu.yaml");
    let v1 = std::fs::read_to_string(repo().join("examples/flows/sales-menu.yaml"))
        .unwrap()
        .replace(
            "prompts: ./prompts",
            &format!(
                "prompts: {}",
                repo().join("examples/flows/prompts").display()
            ),
        );
    std::fs::write(&flow, &v1).unwrap();
    let mut c = config(&[], &db);
    c.flows = vec![flow.clone()];
    let server = serve(c).await;
    let voice = format!("{}/flows/sales-menu/voice", server.base);
    let old_call = [
        ("CallSid", CALL),
        ("From", "+15550001111"),
        ("To", "+15550002222"),
    ];
    let first = signed_post(&voice, &old_call, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(first.contains("Example Corp"));

    // An invalid edit is rejected: the old version keeps serving.
    std::fs::write(&flow, v1.replace("goto: sales", "goto: salez")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let other = "CAffffffffffffffffffffffffffffffff";
    let r = signed_post(
        &voice,
        &[("CallSid", other), ("From", "+1"), ("To", "+2")],
        TOKEN,
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(r.contains("Example Corp"), "{r}");

    // A valid edit serves new calls; the call in progress finishes on its version.
    std::fs::write(
        &flow,
        v1.replace("Thanks for calling Example Corp", "Welcome to New Corp"),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let fresh = "CAeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    let r = signed_post(
        &voice,
        &[("CallSid", fresh), ("From", "+1"), ("To", "+2")],
        TOKEN,
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(r.contains("New Corp"), "{r}");
    let step = format!("{}/flows/sales-menu/step?seq=1", server.base);
    let r = signed_post(&step, &old_call, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        r.contains("Example Corp"),
        "the old call is reprompted with its own version: {r}"
    );
    server.stop().await;
}

#[tokio::test]
async fn restart_between_gathers_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let voice_path = "/flows/covid-triage-fr/voice";
    let params = [
        ("CallSid", CALL),
        ("From", "+33612345678"),
        ("To", "+33970000000"),
    ];

    // With Redis sessions, a restarted server continues the call where it was.
    let redis_prefix = format!("hotline-e2e-{}:", std::process::id());
    let sessions = SessionStoreConfig::Redis({
        let mut r = hotline_store::session::redis::RedisConfig::new("redis://127.0.0.1:6379");
        r.prefix = redis_prefix;
        r
    });
    let mut c = config(&["examples/flows/covid-triage-fr.yaml"], &db);
    c.sessions = sessions.clone();
    let a = serve(c.clone()).await;
    let _ = signed_post(&format!("{}{voice_path}", a.base), &params, TOKEN)
        .send()
        .await
        .unwrap();
    a.stop().await;
    let b = serve(c).await;
    let step = format!("{}/flows/covid-triage-fr/step?seq=1", b.base);
    let mut answer = params.to_vec();
    answer.push(("SpeechResult", "oui"));
    answer.push(("Confidence", "0.91"));
    let xml = signed_post(&step, &answer, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains("question"),
        "continued at the classification question: {xml}"
    );
    b.stop().await;
    let store = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db))
        .build()
        .await
        .unwrap();
    let (_, steps) = store.get_call(CALL).await.unwrap().unwrap();
    let heard: Vec<_> = steps.iter().filter(|s| s.kind == "heard").collect();
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0].speech.as_deref(), Some("oui"));
    assert_eq!(heard[0].confidence, Some(0.91));

    // With memory sessions, the restarted server apologises and restarts the flow.
    let other = [
        ("CallSid", "CA1111111111111111111111111111111a"),
        ("From", "+1"),
        ("To", "+2"),
    ];
    let c = config(&["examples/flows/covid-triage-fr.yaml"], &db);
    let a = serve(c.clone()).await;
    let _ = signed_post(&format!("{}{voice_path}", a.base), &other, TOKEN)
        .send()
        .await
        .unwrap();
    a.stop().await;
    let b = serve(c).await;
    let step = format!("{}/flows/covid-triage-fr/step?seq=1", b.base);
    let xml = signed_post(&step, &other, TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains("désolés") && xml.contains("<Redirect"),
        "{xml}"
    );
    b.stop().await;
}

/// Two instances share one call through Redis. Each keeps the sessions it stored decoded, but
/// only while the store still holds them: the instance that answered first must step the call
/// from the other's newer session, not from its own.
#[tokio::test]
async fn instances_sharing_a_call_step_from_the_stores_session() {
    let dir = tempfile::tempdir().unwrap();
    let sid = "CA2222222222222222222222222222222b";
    let params = [
        ("CallSid", sid),
        ("From", "+33612345678"),
        ("To", "+33970000000"),
    ];
    let sessions = SessionStoreConfig::Redis({
        let mut r = hotline_store::session::redis::RedisConfig::new("redis://127.0.0.1:6379");
        r.prefix = format!("hotline-e2e-shared-{}:", std::process::id());
        r
    });
    let instance = |db: &str| {
        let mut c = config(
            &["examples/flows/covid-triage-fr.yaml"],
            &dir.path().join(db),
        );
        c.sessions = sessions.clone();
        c
    };
    let a = serve(instance("a.db")).await;
    let b = serve(instance("b.db")).await;
    let answer = |base: &str, seq: u32, said: &'static str| {
        let url = format!("{base}/flows/covid-triage-fr/step?seq={seq}");
        let mut form = params.to_vec();
        form.push(("SpeechResult", said));
        form.push(("Confidence", "0.9"));
        async move {
            signed_post(&url, &form, TOKEN)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let _ = signed_post(
        &format!("{}/flows/covid-triage-fr/voice", a.base),
        &params,
        TOKEN,
    )
    .send()
    .await
    .unwrap();
    let xml = answer(&a.base, 1, "oui").await;
    assert!(xml.contains("symptômes"), "A: classification: {xml}");
    let xml = answer(&b.base, 2, "des symptômes").await;
    assert!(xml.contains("Première question"), "B: symptom 1: {xml}");
    // A last stored the call at the classification question; the store has moved on.
    let xml = answer(&a.base, 3, "non").await;
    assert!(xml.contains("Deuxième question"), "A: symptom 2: {xml}");
    let xml = answer(&b.base, 4, "non").await;
    assert!(xml.contains("Troisième question"), "B: symptom 3: {xml}");
    // A's own session, stepped twice by A in a row, still reads right.
    let xml = answer(&a.base, 5, "non").await;
    assert!(xml.contains("Quatrième question"), "A: symptom 4: {xml}");
    let xml = answer(&a.base, 6, "non").await;
    assert!(xml.contains("Cinquième question"), "A: symptom 5: {xml}");
    // The caller hangs up; B gets the status callback: the shared session is gone, and A's next
    // webhook for the call is a lost call, whatever A kept decoded.
    let mut status = params.to_vec();
    status.push(("CallStatus", "completed"));
    let ended = signed_post(&format!("{}/status", b.base), &status, TOKEN)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    let store = sessions.build().await.unwrap();
    assert!(store.get(sid).await.unwrap().is_none(), "session deleted");
    let xml = answer(&a.base, 7, "non").await;
    assert!(xml.contains("désolés"), "A: a lost call: {xml}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn webhook_timeout_takes_the_fallback() {
    use axum::routing::post;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    // A slow and a fast scoring service.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let svc = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::Json(serde_json::json!({"set": {"risk": "high"}}))
            }),
        )
        .route(
            "/fast",
            post(
                |axum::Json(body): axum::Json<serde_json::Value>| async move {
                    let risk = if body["variables"]["answer"] == "bad" {
                        "high"
                    } else {
                        "low"
                    };
                    axum::Json(serde_json::json!({"set": {"risk": risk}}))
                },
            ),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let flow = dir.path().join("hook.yaml");
    let write = |path: &str| {
        std::fs::write(
            &flow,
            format!(
                r#"flow: hook
language: en-US
nodes:
  start:
    say: How are you?
    ask: speech
    retry: {{ attempts: 1, exhausted: bye }}
    routes:
      - regex: ".*"
        set: {{ answer: "{{{{ speech }}}}" }}
        goto: score
  score:
    webhook:
      url: http://{svc}{path}
      timeout: 1
      returns: [risk]
    routes:
      - if: risk == high
        goto: urgent
    next: calm
    fallback: sorry
  urgent: {{ say: Urgent., hangup: true }}
  calm: {{ say: Calm., hangup: true }}
  sorry: {{ say: Our scoring service is unavailable., hangup: true }}
  bye: {{ say: Bye., hangup: true }}
"#
            ),
        )
        .unwrap();
    };
    write("/slow");
    if let Err(diags) = hotline_flow::load_flow(&flow) {
        panic!(
            "{}",
            hotline_flow::render_diagnostics(&diags, &hotline_flow::Sources::read_for(&diags))
        );
    }
    let mut c = config(&[], &db);
    c.flows = vec![flow.clone()];
    let server = serve(c).await;
    let emu = emulator().await;
    let url = format!("{}/flows/hook/voice", server.base);
    let t = call(&emu, &url, vec![say("fine")]).await;
    assert!(
        t.heard().any(|h| h.contains("unavailable")),
        "{}",
        t.render_text()
    );
    write("/fast");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let t = call(&emu, &url, vec![say("fine")]).await;
    assert!(t.heard().any(|h| h == "Calm."), "{}", t.render_text());
    server.stop().await;
}

/// A `redirect` to another flow, or to the same flow, goes on in the same call (it had looped
/// for ever on its own redirect): the call's record keeps every step of both flows in order,
/// under the flow that answered, and ends with the second flow's outcome.
#[tokio::test]
async fn a_redirect_to_another_flow_keeps_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let first = dir.path().join("lobby.yaml");
    std::fs::write(
        &first,
        r#"flow: lobby
language: en-US
nodes:
  welcome:
    say: Welcome.
    ask: dtmf
    retry: { attempts: 1, exhausted: bye }
    routes:
      - digits: "1"
        goto: onward
      - digits: "9"
        goto: again
  onward:
    redirect: desk
  again:
    redirect: lobby
  bye: { say: Bye., hangup: true }
"#,
    )
    .unwrap();
    let second = dir.path().join("desk.yaml");
    std::fs::write(
        &second,
        r#"flow: desk
language: en-US
nodes:
  greet:
    say: The desk.
    ask: dtmf
    retry: { attempts: 1, exhausted: bye }
    routes:
      - digits: "2"
        goto: done
  done: { say: Done., hangup: true }
  bye: { say: Bye., hangup: true }
"#,
    )
    .unwrap();
    let mut c = config(&[], &db);
    c.flows = vec![first, second];
    let server = serve(c).await;
    let emu = emulator().await;
    let mut spec = CallSpec::new(
        format!("{}/flows/lobby/voice", server.base)
            .parse()
            .unwrap(),
    );
    spec.script = vec![
        Step::Press("9".into()),
        Step::Press("1".into()),
        Step::Press("2".into()),
    ];
    let outcome = emu.call(spec).await;
    let t = outcome.transcript;
    no_app_errors(&t);
    assert!(t.heard().any(|h| h == "Done."), "{}", t.render_text());

    let store = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db))
        .build()
        .await
        .unwrap();
    let (call, steps) = store.get_call(&outcome.call_sid).await.unwrap().unwrap();
    // The record is the call's: under the flow that answered it, ended as the second flow
    // ended it, with each flow's answer and route.
    assert_eq!(call.flow_id, "lobby");
    assert_eq!(call.outcome.as_deref(), Some("hung-up"));
    assert_eq!(call.last_node.as_deref(), Some("done"));
    let answered: Vec<(&str, Option<&str>)> = steps
        .iter()
        .filter(|s| s.kind == "heard")
        .map(|s| (s.node.as_str(), s.digits.as_deref()))
        .collect();
    assert_eq!(
        answered,
        [
            ("welcome", Some("9")),
            ("welcome", Some("1")),
            ("greet", Some("2"))
        ],
        "{steps:#?}"
    );
    let entered: Vec<&str> = steps
        .iter()
        .filter(|s| s.kind == "entered")
        .map(|s| s.node.as_str())
        .collect();
    assert_eq!(
        entered,
        ["welcome", "again", "welcome", "onward", "greet", "done"],
        "{steps:#?}"
    );
    assert!(steps.windows(2).all(|w| w[0].seq < w[1].seq));
    server.stop().await;
}

/// A `record` node with `transcribe: true` asks Twilio for the transcription at a signed URL of
/// its own; the transcription lands in the call's record at that node. A transcription that is
/// not signed is refused, one for a node the call never reached is ignored, and one that comes
/// after an edit renamed the node is kept.
#[tokio::test]
async fn a_voicemail_transcription_is_kept_in_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let flow = dir.path().join("notes.yaml");
    // The voicemail flow, its record node and its beep's name given.
    let notes = |node: &str, beep: &str| {
        format!(
            "flow: notes\nlanguage: en-US\nnodes:\n  {node}:\n    say: Leave a message after the {beep}.\n    \
             record: {{ max-length: 30, transcribe: true }}\n    next: thanks\n  \
             thanks: {{ say: Thanks., hangup: true }}\n"
        )
    };
    // What the record holds of the call's transcriptions: (node, text).
    let transcribed = |steps: &[hotline_store::StepRecord]| -> Vec<(String, Option<String>)> {
        steps
            .iter()
            .filter(|s| s.kind == "transcribed")
            .map(|s| (s.node.clone(), s.speech.clone()))
            .collect()
    };
    std::fs::write(&flow, notes("message", "beep")).unwrap();
    let mut c = config(&[], &db);
    c.flows = vec![flow.clone()];
    let server = serve(c).await;
    let emu = emulator().await;
    let mut spec = CallSpec::new(
        format!("{}/flows/notes/voice", server.base)
            .parse()
            .unwrap(),
    );
    spec.script = vec![say("please call me back tomorrow")];
    let outcome = emu.call(spec).await;
    let t = outcome.transcript;
    no_app_errors(&t);
    assert!(
        t.entries.iter().any(|e| matches!(
            &e.event,
            hotline_emulator::Event::Request { url, status: Some(204), .. }
                if url.ends_with("/flows/notes/transcription?seq=1&node=message")
        )),
        "{}",
        t.render_text()
    );

    let store = RecordStoreConfig::Sqlite(hotline_store::records::sqlite::SqliteConfig::new(&db))
        .build()
        .await
        .unwrap();
    let (call, steps) = store.get_call(&outcome.call_sid).await.unwrap().unwrap();
    // The transcription came before the call's end (Twilio's may come before or after): the
    // call's last node is still where the call ended.
    assert_eq!(call.last_node.as_deref(), Some("thanks"));
    let said = |node: &str, text: &str| (node.to_owned(), Some(text.to_owned()));
    assert_eq!(
        transcribed(&steps),
        [said("message", "please call me back tomorrow")],
        "{steps:#?}"
    );

    // Unsigned: refused. A node the flow does not have: nothing recorded.
    let params = [
        ("CallSid", CALL),
        ("TranscriptionStatus", "completed"),
        ("TranscriptionText", "forged"),
    ];
    let url = format!(
        "{}/flows/notes/transcription?seq=1&node=message",
        server.base
    );
    let r = reqwest::Client::new()
        .post(&url)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let url = format!(
        "{}/flows/notes/transcription?seq=1&node=nowhere",
        server.base
    );
    let r = signed_post(&url, &params, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(store.get_call(CALL).await.unwrap().is_none());

    // A transcription comes minutes after its call, maybe after an edit renamed the node: it
    // is kept at the node the call was at. A node the call never reached is still ignored.
    std::fs::write(&flow, notes("voicemail", "tone")).unwrap();
    let voice = format!("{}/flows/notes/voice", server.base);
    let mut reloaded = false;
    for i in 0..100u32 {
        // A new call each time: a call's repeated webhook is answered as it was the first time.
        let sid = format!("CA{i:032x}");
        let r = signed_post(&voice, &[("CallSid", sid.as_str())], TOKEN)
            .send()
            .await
            .unwrap();
        if r.text().await.unwrap().contains("tone") {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reloaded, "the edit was not loaded");
    let late = [
        ("CallSid", outcome.call_sid.as_str()),
        ("TranscriptionStatus", "completed"),
        ("TranscriptionText", "and my number is 555 0100"),
    ];
    for node in ["message", "thanks-not"] {
        let url = format!(
            "{}/flows/notes/transcription?seq=2&node={node}",
            server.base
        );
        let r = signed_post(&url, &late, TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 204);
    }
    let (_, steps) = store.get_call(&outcome.call_sid).await.unwrap().unwrap();
    assert_eq!(
        transcribed(&steps),
        [
            said("message", "please call me back tomorrow"),
            said("message", "and my number is 555 0100")
        ],
        "{steps:#?}"
    );
    server.stop().await;
}
