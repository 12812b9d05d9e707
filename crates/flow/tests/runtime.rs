//! End-to-end simulation of calls through the shipped example flows with the sans-IO runtime:
//! scripted answers (speech, silence, garbage, digits), asserting the path taken, the final
//! outcome and, for a few golden cases, the exact TwiML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hotline_flow::runtime::{
    self, Awaiting, CallFacts, Effect, Input, Links, Outcome, SeqCheck, Session, StepEvent, Turn,
};
use hotline_flow::{Audio, Flow, Literal, load_flow, load_flow_str};

struct TestLinks;

impl Links for TestLinks {
    fn action(&self, s: &Session) -> String {
        format!("https://ivr.test/calls/{}/step?seq={}", s.call_sid, s.seq)
    }
    fn prompt(&self, _flow: &Flow, audio: &Audio, _language: &str) -> Option<String> {
        Some(match audio {
            Audio::Url(u) => u.clone(),
            Audio::File { resolved, .. } => format!("https://ivr.test/prompts/{resolved}"),
        })
    }
    fn flow_entry(&self, flow_id: &str) -> String {
        format!("https://ivr.test/flows/{flow_id}/start")
    }
}

fn example(name: &str) -> Flow {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/flows")
        .join(name);
    load_flow(&path).expect("example flow loads").flow
}

fn inline(source: &str) -> Flow {
    match load_flow_str(source, "inline.yaml", Path::new(".")) {
        Ok(l) => l.flow,
        Err(d) => panic!("{d:#?}"),
    }
}

fn facts() -> CallFacts {
    CallFacts {
        call_sid: "CA42".into(),
        from: "+33612345678".into(),
        to: "+33199000000".into(),
        now_unix_ms: 1_700_000_000_000,
    }
}

/// A simulated call: every turn is checked for the basic invariants.
struct Call {
    flow: Flow,
    session: Session,
    last: Turn,
    events: Vec<StepEvent>,
}

impl Call {
    fn new(flow: Flow) -> Call {
        let (session, turn) = runtime::start(&flow, facts(), &TestLinks);
        let mut call = Call {
            flow,
            session,
            last: turn.clone(),
            events: Vec::new(),
        };
        call.check(turn);
        call
    }

    fn check(&mut self, turn: Turn) {
        assert!(
            !turn.response.verbs.is_empty() || turn.effect.is_some(),
            "empty turn at {}",
            self.session.node
        );
        // The session always survives a JSON round trip.
        let json = serde_json::to_string(&self.session).unwrap();
        let back: Session = serde_json::from_str(&json).unwrap();
        assert_eq!(back, self.session);
        self.events.extend(turn.events.iter().cloned());
        self.last = turn;
    }

    fn input(&mut self, input: Input) -> String {
        let seq = self.session.seq;
        assert!(runtime::is_current(&self.session, seq));
        let turn = runtime::step(&self.flow, &mut self.session, input, &TestLinks);
        assert_eq!(self.session.seq, seq + 1);
        self.check(turn);
        self.xml()
    }

    fn xml(&self) -> String {
        self.last.response.to_xml()
    }

    fn say(&mut self, text: &str) -> String {
        self.input(Input::Gathered {
            speech: Some((text.into(), 0.9)),
            digits: None,
            intent: None,
        })
    }

    fn press(&mut self, digits: &str) -> String {
        self.input(Input::Gathered {
            speech: None,
            digits: Some(digits.into()),
            intent: None,
        })
    }

    fn silence(&mut self) -> String {
        self.input(Input::NoInput)
    }

    fn dial_ended(&mut self, status: &str) -> String {
        self.input(Input::DialEnded {
            status: status.into(),
        })
    }

    fn at(&self) -> &str {
        &self.session.node
    }

    fn path(&self) -> Vec<&str> {
        self.session.path.iter().collect()
    }

    fn var(&self, name: &str) -> Option<&Literal> {
        self.session.vars.get(name)
    }

    fn outcome(&self) -> Option<&Outcome> {
        self.session.ended.as_ref()
    }
}

/// The words a caller uses, per language.
struct Lang {
    file: &'static str,
    yes: &'static str,
    no: &'static str,
    about_covid: &'static str,
    not_covid: &'static str,
    question: &'static str,
    symptoms: &'static str,
    garbage: &'static str,
    negated_fever: &'static str,
    // node ids
    welcome: &'static str,
    queue_node: &'static str,
    classify: &'static str,
    info: &'static str,
    info_busy: &'static str,
    q: [&'static str; 6],
    assess: &'static str,
    emergency: &'static str,
    students: &'static str,
    goodbye: &'static str,
    dispatcher: &'static str,
    // numbers
    info_number: &'static str,
    emergency_number: &'static str,
    students_number: &'static str,
    // texts
    total_text: &'static str,
    no_match_text: &'static str,
    language: &'static str,
    error_01: &'static str,
    error_02: &'static str,
}

const FR: Lang = Lang {
    file: "covid-triage-fr.yaml",
    yes: "oui",
    no: "non",
    about_covid: "Oui, c'est pour le Covid-19",
    not_covid: "non, ce n'est pas le covid, c'est un accident",
    question: "j'ai juste une question",
    symptoms: "je suis inquiet pour des symptômes",
    garbage: "la météo est belle aujourd'hui",
    negated_fever: "je n'ai pas de fièvre",
    welcome: "accueil",
    queue_node: "file-samu",
    classify: "classification",
    info: "numero-vert",
    info_busy: "numero-vert-occupe",
    q: [
        "symptome-1",
        "symptome-2",
        "symptome-3",
        "symptome-4",
        "symptome-5",
        "symptome-6",
    ],
    assess: "orientation",
    emergency: "samu-urgence",
    students: "etudiants-medecine",
    goodbye: "au-revoir",
    dispatcher: "attente-regulation",
    info_number: "+33800130000",
    emergency_number: "15",
    students_number: "+33199001234",
    total_text: "Votre score total est de",
    no_match_text: "Je n&apos;ai pas compris votre réponse.",
    language: "fr-FR",
    error_01: "https://ivr.test/prompts/error-01.wav",
    error_02: "https://ivr.test/prompts/error-02.wav",
};

const EN: Lang = Lang {
    file: "covid-triage-en.yaml",
    yes: "yes",
    no: "no",
    about_covid: "yes it's about covid",
    not_covid: "no, it's something else, an accident",
    question: "I just have a question",
    symptoms: "I'm worried about symptoms",
    garbage: "the weather is lovely today",
    negated_fever: "I don't have a fever",
    welcome: "welcome",
    queue_node: "samu-queue",
    classify: "classify",
    info: "info-line",
    info_busy: "info-line-busy",
    q: [
        "symptom-1",
        "symptom-2",
        "symptom-3",
        "symptom-4",
        "symptom-5",
        "symptom-6",
    ],
    assess: "assess",
    emergency: "emergency",
    students: "medical-students",
    goodbye: "goodbye",
    dispatcher: "dispatcher-queue",
    info_number: "+12025550142",
    emergency_number: "+12025550100",
    students_number: "+12025550177",
    total_text: "Your total score is",
    no_match_text: "Sorry, I did not understand.",
    language: "en-US",
    error_01: "https://ivr.test/prompts/error-01-en.wav",
    error_02: "https://ivr.test/prompts/error-02-en.wav",
};

fn triage(l: &Lang) -> Call {
    let call = Call::new(example(l.file));
    assert_eq!(call.at(), l.welcome);
    assert_eq!(
        call.session.awaiting,
        Awaiting::Gather {
            node: l.welcome.into()
        }
    );
    call
}

fn to_symptoms(l: &Lang) -> Call {
    let mut call = triage(l);
    call.say(l.about_covid);
    assert_eq!(call.at(), l.classify);
    call.say(l.symptoms);
    assert_eq!(call.at(), l.q[0]);
    call
}

fn dialed(target: &str) -> Outcome {
    Outcome::Dialed {
        target: target.into(),
    }
}

// ----- the triage flows, every route, both languages -------------------------------------

#[test]
fn triage_not_about_the_coronavirus_stays_in_the_samu_queue() {
    for l in [&FR, &EN] {
        let mut call = triage(l);
        let xml = call.say(l.not_covid);
        assert_eq!(call.path(), [l.welcome, l.queue_node]);
        assert!(xml.contains(">samu</Enqueue>"), "{xml}");
        assert!(
            xml.contains("<Enqueue action=\"https://ivr.test/calls/CA42/step?seq=2\""),
            "{xml}"
        );
        assert_eq!(
            call.outcome(),
            Some(&Outcome::Enqueued {
                queue: "samu".into()
            })
        );
        // The caller is bridged to a dispatcher later: Twilio's callback gets a hangup.
        let xml = call.input(Input::QueueLeft {
            result: "bridged".into(),
        });
        assert!(xml.ends_with("<Response><Hangup/></Response>"), "{xml}");
    }
}

#[test]
fn triage_simple_question_goes_to_the_green_number() {
    for l in [&FR, &EN] {
        let mut call = triage(l);
        call.say(l.about_covid);
        let xml = call.say(l.question);
        assert_eq!(call.path(), [l.welcome, l.classify, l.info]);
        assert!(
            xml.contains(&format!("<Number>{}</Number>", l.info_number)),
            "{xml}"
        );
        assert!(xml.contains("timeout=\"30\""), "{xml}");
        assert_eq!(
            call.outcome(),
            None,
            "the dial has a fallback: not over yet"
        );
        let xml = call.dial_ended("completed");
        assert!(xml.contains("<Hangup/>"));
        assert_eq!(call.outcome(), Some(&dialed(l.info_number)));
    }
}

#[test]
fn triage_a_question_about_symptoms_takes_the_symptom_check() {
    let cases: [(&Lang, &str, &str); 2] = [
        (
            &FR,
            "j'ai une question sur mes symptômes",
            "pas de symptômes, juste une question",
        ),
        (
            &EN,
            "I have a question about my symptoms",
            "no symptoms, I just have a question",
        ),
    ];
    for (l, about_symptoms, no_symptoms) in cases {
        let mut call = triage(l);
        call.say(l.about_covid);
        call.say(about_symptoms);
        assert_eq!(call.at(), l.q[0], "{about_symptoms}");
        let mut call = triage(l);
        call.say(l.about_covid);
        call.say(no_symptoms);
        assert_eq!(
            call.path(),
            [l.welcome, l.classify, l.info],
            "{no_symptoms}"
        );
    }
}

/// What an answer at one of the triage questions should do.
#[derive(Debug, Clone, Copy)]
enum Goes {
    /// To this node (by its role, see `Goes::node`).
    To(&'static str),
    /// On to the next question, with this many points.
    Points(f64),
    /// Asked again.
    Again,
}

/// Where the triage flows take the ways real callers answer, rather than the words of the
/// prompt: each of these was asked again, scored the other way, or sent elsewhere before.
/// `(question, answer, where it goes)`; question 0 is the welcome, 7 the classification.
const EN_PHRASINGS: &[(usize, &str, Goes)] = &[
    (0, "I fell and broke my arm", Goes::To("dispatcher")),
    (0, "he passed out", Goes::To("dispatcher")),
    (0, "there's a lot of blood", Goes::To("dispatcher")),
    (0, "I have chest pain", Goes::To("dispatcher")),
    (0, "my baby is choking", Goes::To("dispatcher")),
    (0, "I took too many pills", Goes::To("dispatcher")),
    (0, "I want to kill myself", Goes::To("dispatcher")),
    (0, "my wife is in labor", Goes::To("dispatcher")),
    (0, "he is not responding", Goes::To("dispatcher")),
    (
        0,
        "it's about my mother, she can't breathe",
        Goes::To("dispatcher"),
    ),
    (
        0,
        "my husband has a high fever and a cough",
        Goes::To("classify"),
    ),
    (0, "I was in a car accident", Goes::To("queue")),
    (0, "it's not about covid", Goes::To("queue")),
    (0, "my son had a little accident", Goes::To("queue")),
    (0, "nothing to do with covid", Goes::To("queue")),
    (
        0,
        "it's not about me, it's about my son who has covid",
        Goes::To("classify"),
    ),
    (7, "I want to get a test", Goes::To("info")),
    (7, "where can I get vaccinated", Goes::To("info")),
    (7, "how long should I isolate", Goes::To("info")),
    (7, "I'm not sick, I want information", Goes::To("info")),
    (7, "I think I have covid", Goes::To("symptoms")),
    (7, "I tested positive", Goes::To("symptoms")),
    (7, "I don't feel well", Goes::To("symptoms")),
    (7, "both", Goes::To("symptoms")),
    (1, "I have a temperature", Goes::Points(1.0)),
    (1, "I'm burning up", Goes::Points(1.0)),
    (1, "a little bit", Goes::Points(1.0)),
    (2, "a bit", Goes::Points(1.0)),
    (1, "no, my temperature is normal", Goes::Points(0.0)),
    (1, "not really", Goes::Points(0.0)),
    (1, "that's right", Goes::Points(1.0)),
    (1, "right now, no", Goes::Points(0.0)),
    (1, "I've been sweating at night", Goes::Points(1.0)),
    (1, "not that I know of", Goes::Points(0.0)),
    (2, "not that I've noticed", Goes::Points(0.0)),
    (3, "I have trouble breathing", Goes::To("emergency")),
    (3, "it's hard to breathe", Goes::To("emergency")),
    (3, "I can't catch my breath", Goes::To("emergency")),
    (3, "no trouble breathing", Goes::Points(0.0)),
    (3, "I can barely breathe", Goes::To("emergency")),
    (3, "I'm wheezing", Goes::To("emergency")),
    (3, "it's difficult to breathe", Goes::To("emergency")),
    (3, "I'm gasping for air", Goes::To("emergency")),
    (3, "I feel like I'm suffocating", Goes::To("emergency")),
    (3, "I can't get enough air", Goes::To("emergency")),
    (3, "I can breathe fine", Goes::Points(0.0)),
    (3, "my breathing is not fine", Goes::Again),
    (4, "my chest hurts", Goes::To("emergency")),
    (4, "there's a pressure on my chest", Goes::To("emergency")),
    (4, "nothing hurts", Goes::Points(0.0)),
    (4, "no, my blood pressure is fine", Goes::Points(0.0)),
    (4, "my chest feels heavy", Goes::To("emergency")),
    (4, "a crushing feeling", Goes::To("emergency")),
    (4, "it's squeezing", Goes::To("emergency")),
    (4, "burning in my chest", Goes::To("emergency")),
    (4, "some discomfort", Goes::To("emergency")),
    (4, "my chest is fine", Goes::Points(0.0)),
    (4, "no, just a sore throat", Goes::Points(0.0)),
    (5, "I'm 72", Goes::Points(2.0)),
    (5, "I'm 65", Goes::Points(2.0)),
    (5, "no, but I'm 70", Goes::Points(2.0)),
    (5, "no, I'm under 65", Goes::Points(0.0)),
    (5, "I have lung disease", Goes::Points(2.0)),
    (5, "I have high blood pressure", Goes::Points(2.0)),
    (5, "I'm 40 and healthy", Goes::Points(0.0)),
    (5, "I'm 40", Goes::Again),
    (5, "I'm pregnant", Goes::Points(2.0)),
    (5, "I'm on chemotherapy", Goes::Points(2.0)),
    (5, "I had a transplant", Goes::Points(2.0)),
    (5, "I'm in good health", Goes::Points(0.0)),
    (6, "I can't taste anything", Goes::Points(1.0)),
    (6, "I can't smell anything", Goes::Points(1.0)),
    (6, "I can smell fine", Goes::Points(0.0)),
    (6, "no, I can still taste and smell", Goes::Points(0.0)),
    (6, "No, taste and smell are fine", Goes::Points(0.0)),
    (6, "food has no taste", Goes::Points(1.0)),
    (6, "everything tastes like cardboard", Goes::Points(1.0)),
    (6, "my sense of smell is gone", Goes::Points(1.0)),
    (6, "I can taste and smell normally", Goes::Points(0.0)),
    (6, "no, my fever is gone", Goes::Points(0.0)),
];

const FR_PHRASINGS: &[(usize, &str, Goes)] = &[
    (0, "je suis tombé dans l'escalier", Goes::To("dispatcher")),
    (0, "ma mère ne respire plus", Goes::To("dispatcher")),
    (0, "il a perdu connaissance", Goes::To("dispatcher")),
    (0, "il s'est évanoui", Goes::To("dispatcher")),
    (0, "il y a beaucoup de sang", Goes::To("dispatcher")),
    (0, "j'ai mal à la poitrine", Goes::To("dispatcher")),
    (0, "mon bébé s'étouffe", Goes::To("dispatcher")),
    (0, "j'ai pris trop de médicaments", Goes::To("dispatcher")),
    (0, "je veux me suicider", Goes::To("dispatcher")),
    (0, "ma femme accouche", Goes::To("dispatcher")),
    (0, "il ne répond plus", Goes::To("dispatcher")),
    (
        0,
        "non, je n'ai pas mal à la poitrine, c'est pour le covid",
        Goes::To("classify"),
    ),
    (
        0,
        "mon mari a de la fièvre et il tousse",
        Goes::To("classify"),
    ),
    (0, "ma femme est blessée", Goes::To("queue")),
    (0, "rien à voir avec le covid", Goes::To("queue")),
    (
        0,
        "c'est un peu compliqué, mon fils a eu un accident",
        Goes::To("queue"),
    ),
    (2, "un peu", Goes::Points(1.0)),
    (0, "ce n'est pas pour le covid", Goes::To("queue")),
    (7, "je voudrais me faire tester", Goes::To("info")),
    (7, "je voudrais des renseignements", Goes::To("info")),
    (7, "combien de temps dois-je m'isoler", Goes::To("info")),
    (7, "où me faire vacciner", Goes::To("info")),
    (7, "je crois que j'ai le covid", Goes::To("symptoms")),
    (7, "j'ai été testé positif", Goes::To("symptoms")),
    (7, "je ne me sens pas bien", Goes::To("symptoms")),
    (7, "les deux", Goes::To("symptoms")),
    (1, "j'ai de la température", Goes::Points(1.0)),
    (1, "j'ai des frissons", Goes::Points(1.0)),
    (1, "un peu", Goes::Points(1.0)),
    (1, "pas vraiment", Goes::Points(0.0)),
    (1, "je transpire la nuit", Goes::Points(1.0)),
    (1, "pas que je sache", Goes::Points(0.0)),
    (3, "j'ai des difficultés à respirer", Goes::To("emergency")),
    (3, "je manque d'air", Goes::To("emergency")),
    (3, "non, je respire bien", Goes::Points(0.0)),
    (3, "je respire très mal", Goes::To("emergency")),
    (3, "je suffoque", Goes::To("emergency")),
    (3, "je n'arrive pas à respirer", Goes::To("emergency")),
    (3, "je n'arrive plus à respirer", Goes::To("emergency")),
    (3, "j'arrive plus à respirer", Goes::To("emergency")),
    (3, "je ne peux plus respirer", Goes::To("emergency")),
    (3, "je siffle", Goes::To("emergency")),
    (3, "je respire normalement", Goes::Points(0.0)),
    (4, "j'ai mal à la poitrine", Goes::To("emergency")),
    (4, "ma poitrine me fait mal", Goes::To("emergency")),
    (4, "rien ne me fait mal", Goes::Points(0.0)),
    (4, "ça ne me fait pas mal", Goes::Points(0.0)),
    (4, "ça me brûle dans la poitrine", Goes::To("emergency")),
    (4, "une sensation de poids", Goes::To("emergency")),
    (4, "j'ai la poitrine lourde", Goes::To("emergency")),
    (4, "une gêne", Goes::To("emergency")),
    (4, "j'ai un point au cœur", Goes::To("emergency")),
    (4, "j'ai perdu du poids", Goes::Again),
    (5, "j'ai 72 ans", Goes::Points(2.0)),
    (5, "j'ai 65 ans", Goes::Points(2.0)),
    (5, "non, mais j'ai 70 ans", Goes::Points(2.0)),
    (5, "non, j'ai moins de 65 ans", Goes::Points(0.0)),
    (5, "j'ai une maladie des poumons", Goes::Points(2.0)),
    (5, "j'ai 40 ans", Goes::Again),
    (5, "je suis enceinte", Goes::Points(2.0)),
    (5, "je suis sous chimio", Goes::Points(2.0)),
    (5, "j'ai eu une greffe", Goes::Points(2.0)),
    (6, "je ne sens plus rien", Goes::Points(1.0)),
    (6, "je n'ai toujours pas de goût", Goes::Points(1.0)),
    (6, "j'ai toujours le goût et l'odorat", Goes::Points(0.0)),
    (6, "je n'ai pas perdu le goût", Goes::Points(0.0)),
    (6, "tout a un goût de carton", Goes::Points(1.0)),
    (6, "mon odorat a disparu", Goes::Points(1.0)),
    (6, "la nourriture a un goût bizarre", Goes::Points(1.0)),
    (6, "non, ma fièvre a disparu", Goes::Points(0.0)),
];

impl Goes {
    fn node(role: &str, l: &Lang) -> &'static str {
        match role {
            "dispatcher" => l.dispatcher,
            "classify" => l.classify,
            "queue" => l.queue_node,
            "info" => l.info,
            "emergency" => l.emergency,
            "symptoms" => l.q[0],
            other => panic!("no role {other}"),
        }
    }
}

/// Takes a call at the welcome to `question` with plain answers, says `answer` and checks
/// where it goes.
fn check_phrasing(mut call: Call, l: &Lang, question: usize, answer: &str, goes: Goes) {
    if question > 0 {
        call.say(l.yes);
        if question < 7 {
            call.say(l.symptoms);
            for _ in 1..question {
                call.say(l.no);
            }
        }
    }
    let at = call.at().to_owned();
    call.say(answer);
    match goes {
        Goes::To(role) => assert_eq!(call.at(), Goes::node(role, l), "{answer:?} at {at}"),
        Goes::Again => {
            assert_eq!(call.at(), at, "{answer:?}");
            assert_eq!(call.session.no_match, 1, "{answer:?}");
        }
        Goes::Points(points) => {
            let next = if question == 6 {
                l.students
            } else {
                l.q[question]
            };
            assert_eq!(call.at(), next, "{answer:?} at {at}");
            assert_eq!(
                call.var("score"),
                Some(&Literal::Number(points)),
                "{answer:?} at {at}"
            );
        }
    }
}

#[test]
fn triage_understands_how_callers_answer_not_only_the_prompts_words() {
    for (l, phrasings) in [(&EN, EN_PHRASINGS), (&FR, FR_PHRASINGS)] {
        for &(question, answer, goes) in phrasings {
            check_phrasing(triage(l), l, question, answer, goes);
        }
    }
    // The bilingual flow has the French flow's nodes and the same words in each language.
    let flow = example("covid-triage-bilingue.yaml");
    for (key, phrasings) in [("1", FR_PHRASINGS), ("2", EN_PHRASINGS)] {
        let l = Lang {
            yes: if key == "1" { FR.yes } else { EN.yes },
            no: if key == "1" { FR.no } else { EN.no },
            symptoms: if key == "1" { FR.symptoms } else { EN.symptoms },
            ..FR
        };
        for &(question, answer, goes) in phrasings {
            let mut call = Call::new(flow.clone());
            call.press(key);
            assert_eq!(call.at(), l.welcome);
            check_phrasing(call, &l, question, answer, goes);
        }
    }
}

#[test]
fn triage_green_number_busy_takes_the_fallback() {
    for l in [&FR, &EN] {
        let mut call = triage(l);
        call.say(l.about_covid);
        call.say(l.question);
        let xml = call.dial_ended("busy");
        assert_eq!(call.path(), [l.welcome, l.classify, l.info, l.info_busy]);
        assert!(xml.ends_with("<Hangup/></Response>"), "{xml}");
        assert_eq!(call.outcome(), Some(&Outcome::HungUp));
    }
}

#[test]
fn triage_red_flag_breathing_goes_to_the_emergency_service() {
    for l in [&FR, &EN] {
        let mut call = to_symptoms(l);
        call.say(l.yes);
        call.say(l.no);
        let breathless = if l.language == "fr-FR" {
            "oui, j'ai du mal à respirer"
        } else {
            "yes I'm short of breath"
        };
        let xml = call.say(breathless);
        assert_eq!(
            call.path(),
            [l.welcome, l.classify, l.q[0], l.q[1], l.q[2], l.emergency]
        );
        assert!(
            xml.contains(&format!("<Number>{}</Number>", l.emergency_number)),
            "{xml}"
        );
        let flag = if l.language == "fr-FR" {
            "signe_gravite"
        } else {
            "red_flag"
        };
        assert!(call.var(flag).is_some());
        assert_eq!(call.var("score"), Some(&Literal::Number(1.0)));
        call.dial_ended("completed");
        assert_eq!(call.outcome(), Some(&dialed(l.emergency_number)));
    }
}

#[test]
fn triage_red_flag_chest_pain_goes_to_the_emergency_service() {
    for l in [&FR, &EN] {
        let mut call = to_symptoms(l);
        for _ in 0..3 {
            call.say(l.no);
        }
        call.say(l.yes);
        assert_eq!(
            call.path(),
            [
                l.welcome,
                l.classify,
                l.q[0],
                l.q[1],
                l.q[2],
                l.q[3],
                l.emergency
            ]
        );
    }
}

#[test]
fn triage_high_score_goes_to_the_emergency_service() {
    for l in [&FR, &EN] {
        let mut call = to_symptoms(l);
        // fever +1, cough +1, no, no, chronic illness +2, no → 4 points
        for answer in [l.yes, l.yes, l.no, l.no, l.yes, l.no] {
            call.say(answer);
        }
        assert_eq!(call.var("score"), Some(&Literal::Number(4.0)));
        let mut expected = vec![l.welcome, l.classify];
        expected.extend(l.q);
        expected.extend([l.assess, l.emergency]);
        assert_eq!(call.path(), expected);
        assert!(call.events.iter().any(|e| matches!(e,
            StepEvent::Matched { node, route, target }
                if node == l.assess && route.contains("score >= 4") && target == l.emergency)));
    }
}

#[test]
fn triage_low_score_goes_to_the_medical_students_with_the_total() {
    for l in [&FR, &EN] {
        let mut call = to_symptoms(l);
        // fever (negated: counts as no), cough +1, no, no, no, taste +1 → 2 points
        for answer in [l.negated_fever, l.yes, l.no, l.no, l.no, l.yes] {
            call.say(answer);
        }
        assert_eq!(call.var("score"), Some(&Literal::Number(2.0)));
        let xml = call.xml();
        assert_eq!(call.at(), l.students);
        assert!(xml.contains(&format!("{} 2.", l.total_text)), "{xml}");
        assert!(
            xml.contains(&format!("<Number>{}</Number>", l.students_number)),
            "{xml}"
        );
        // Nobody answers: the fallback is the SAMU queue (as someone waiting for a dispatcher).
        call.dial_ended("no-answer");
        assert_eq!(call.at(), l.dispatcher);
        assert_eq!(
            call.outcome(),
            Some(&Outcome::Enqueued {
                queue: "samu".into()
            })
        );
    }
}

#[test]
fn triage_silence_twice_says_goodbye_as_the_seed_did() {
    for l in [&FR, &EN] {
        let mut call = triage(l);
        let xml = call.silence();
        // Reprompt: error-01 then a beep, inside a new <Gather>, attempt 2.
        let gather = xml.split("<Gather").nth(1).unwrap();
        assert!(
            gather.contains(&format!(
                "<Play>{}</Play><Play>https://ivr.test/prompts/beep.wav</Play>",
                l.error_01
            )),
            "{xml}"
        );
        assert!(!gather.contains("<Say"), "repeat-question is off: {xml}");
        assert!(xml.contains("seq=2"), "{xml}");
        assert_eq!(call.session.no_input, 1);
        assert!(call.last.events.contains(&StepEvent::Asked {
            node: l.welcome.into(),
            attempt: 2
        }));
        let xml = call.silence();
        assert_eq!(call.path(), [l.welcome, l.goodbye]);
        assert!(
            xml.ends_with(&format!(
                "<Response><Play>{}</Play><Hangup/></Response>",
                l.error_02
            )),
            "{xml}"
        );
        assert_eq!(call.outcome(), Some(&Outcome::HungUp));
        assert!(call.events.contains(&StepEvent::Exhausted {
            node: l.welcome.into(),
            target: l.goodbye.into()
        }));
    }
}

#[test]
fn triage_garbage_speech_is_reprompted_then_exhausted() {
    for l in [&FR, &EN] {
        let mut call = triage(l);
        let xml = call.say(l.garbage);
        assert_eq!(call.at(), l.welcome);
        assert!(xml.contains(l.no_match_text), "{xml}");
        assert!(call.last.events.contains(&StepEvent::NoMatch {
            node: l.welcome.into(),
            count: 1
        }));
        // A no-match and a no-input both use up an attempt (attempts: 2).
        call.silence();
        assert_eq!(call.at(), l.goodbye);
        assert_eq!(call.outcome(), Some(&Outcome::HungUp));
    }
}

#[test]
fn triage_a_caller_never_understood_waits_for_a_dispatcher() {
    // Silence twice ends the call (the seed's error-02); answers that are never understood,
    // unsure ones included, leave the caller in the emergency service's queue instead.
    let unsure = |l: &Lang| {
        if l.language == "fr-FR" {
            "je ne sais pas"
        } else {
            "I don't know"
        }
    };
    for l in [&FR, &EN] {
        for (first, second) in [
            (l.garbage, l.garbage),
            (unsure(l), unsure(l)),
            ("", l.garbage), // silence, then an answer not understood
        ] {
            let mut call = triage(l);
            if first.is_empty() {
                call.silence();
            } else {
                call.say(first);
            }
            let xml = call.say(second);
            assert_eq!(call.path(), [l.welcome, l.dispatcher], "{first} / {second}");
            assert!(xml.contains(">samu</Enqueue>"), "{xml}");
            assert!(
                !xml.contains("coronavirus"),
                "not told it is another matter: {xml}"
            );
            assert_eq!(
                call.outcome(),
                Some(&Outcome::Enqueued {
                    queue: "samu".into()
                })
            );
            assert!(call.events.contains(&StepEvent::Exhausted {
                node: l.welcome.into(),
                target: l.dispatcher.into()
            }));
        }
        // The same at a symptom question.
        let mut call = to_symptoms(l);
        call.say(l.garbage);
        call.say(unsure(l));
        assert_eq!(call.at(), l.dispatcher);
    }
}

#[test]
fn triage_an_unanswered_emergency_transfer_waits_for_a_dispatcher() {
    // Not the "not about the coronavirus" queue message: the caller has a red flag.
    for l in [&FR, &EN] {
        let mut call = to_symptoms(l);
        call.say(l.no);
        call.say(l.no);
        call.say(l.yes);
        assert_eq!(call.at(), l.emergency);
        let xml = call.dial_ended("no-answer");
        assert_eq!(call.at(), l.dispatcher);
        assert!(xml.contains(">samu</Enqueue>"), "{xml}");
        assert!(!xml.contains("coronavirus"), "{xml}");
    }
}

#[test]
fn exhaustion_can_depend_on_the_last_failure() {
    let flow = inline(
        r#"
flow: exhaustion
language: en-US
defaults:
  retry: { attempts: 2, exhausted: { no-input: bye, no-match: person } }
nodes:
  menu:
    say: Say sales.
    ask: speech
    routes:
      - { keywords: [sales], goto: bye }
  own:
    say: Say support.
    ask: speech
    retry: { exhausted: { no-match: bye } }
    routes:
      - { keywords: [support], goto: bye }
  person:
    dial: "+15551234567"
    next: own
  bye:
    say: Goodbye.
    hangup: true
"#,
    );
    let menu = flow.node(flow.find("menu").unwrap());
    let hotline_flow::NodeKind::Ask { ask, .. } = &menu.kind else {
        panic!("menu asks")
    };
    assert_ne!(ask.retry.exhausted.no_input, ask.retry.exhausted.no_match);
    for (first, second, end) in [
        (None, None, "bye"),
        (Some("weather"), None, "bye"),
        (None, Some("weather"), "person"),
        (Some("weather"), Some("weather"), "person"),
    ] {
        let mut call = Call::new(flow.clone());
        for answer in [first, second] {
            match answer {
                Some(text) => call.say(text),
                None => call.silence(),
            };
        }
        assert_eq!(call.path(), ["menu", end], "{first:?} then {second:?}");
    }
    // A node's own `exhausted: { no-match }` keeps the default's no-input target.
    let mut call = Call::new(flow.clone());
    call.say("weather");
    call.say("weather");
    call.dial_ended("completed");
    assert_eq!(call.at(), "own");
    call.silence();
    call.silence();
    assert_eq!(call.at(), "bye");
    let mut call = Call::new(flow);
    call.say("weather");
    call.say("weather");
    call.dial_ended("completed");
    call.say("weather");
    call.say("weather");
    assert_eq!(call.path(), ["menu", "person", "own", "bye"]);
}

#[test]
fn triage_a_reprompt_says_what_answer_is_expected() {
    for l in [&FR, &EN] {
        let (yes_no, question_or_symptoms) = if l.language == "fr-FR" {
            (
                "Répondez par oui ou par non",
                "Dites « question » ou « symptômes »",
            )
        } else {
            (
                "Please answer yes or no",
                "Please say question, or symptoms",
            )
        };
        let mut call = triage(l);
        let xml = call.say(l.garbage);
        assert!(xml.contains(yes_no), "{xml}");
        call.say(l.about_covid);
        let xml = call.say(l.garbage);
        assert_eq!(call.at(), l.classify);
        assert!(xml.contains(question_or_symptoms), "{xml}");
    }
}

#[test]
fn triage_garbage_then_a_real_answer_resets_the_counters() {
    for l in [&FR, &EN] {
        let mut call = triage(l);
        call.say(l.garbage);
        call.say(l.about_covid);
        assert_eq!(call.at(), l.classify);
        assert_eq!((call.session.no_input, call.session.no_match), (0, 0));
        call.silence();
        assert_eq!(
            call.at(),
            l.classify,
            "a fresh attempt budget at the new question"
        );
    }
}

#[test]
fn triage_an_unsure_answer_is_asked_again_not_taken_for_a_no() {
    // "I don't know" holds the `no` synonym "i don't", "I'm not sure" holds "i'm not": the
    // flows' `unclear` list makes them a no-match, so the caller is asked again.
    let unsure: [(&Lang, &[&str]); 2] = [
        (
            &FR,
            &[
                "je ne sais pas",
                "Aucune idée.",
                "je suis pas sûr",
                "je suis pas vraiment sûre",
            ],
        ),
        (
            &EN,
            &[
                "I don't know",
                "I'm not sure.",
                "no idea",
                "I don't know, maybe",
                "I'm not really sure",
            ],
        ),
    ];
    for (l, answers) in unsure {
        for answer in answers {
            let mut call = to_symptoms(l);
            let xml = call.say(answer);
            assert_eq!(call.at(), l.q[0], "{answer}");
            assert!(xml.contains(l.no_match_text), "{answer}: {xml}");
            assert_eq!(call.session.no_match, 1, "{answer}");
            assert!(
                call.events
                    .iter()
                    .any(|e| matches!(e, StepEvent::Heard { speech: Some(s), .. } if s == answer)),
                "{answer}: the answer is recorded"
            );
            call.say(l.no);
            assert_eq!(call.at(), l.q[1], "{answer}: then a plain no goes on");
        }
        // A real answer is still one.
        let mut call = to_symptoms(l);
        call.say(l.negated_fever);
        assert_eq!(call.at(), l.q[1]);
    }
}

#[test]
fn unclear_answers_are_a_no_match_on_the_questions_that_list_them() {
    let flow = inline(
        r#"
flow: unsure
language: en-US
defaults:
  ask: { input: speech, unclear: ["don't know", "not sure"] }
  retry: { attempts: 2, no-match: "Please say yes or no.", exhausted: bye }
nodes:
  fever:
    say: Do you have a fever?
    ask: speech
    routes:
      - keywords: ["yes"]
        goto: anything
      - keywords: ["i don't", "no"]
        goto: bye
  anything:
    say: Tell us anything.
    ask: { input: speech, unclear: [] }
    next: bye
  bye:
    say: Goodbye.
    hangup: true
"#,
    );
    let mut call = Call::new(flow.clone());
    let xml = call.say("I don't know");
    assert_eq!(call.at(), "fever");
    assert!(xml.contains("Please say yes or no."), "{xml}");
    call.say("I don't");
    assert_eq!(call.at(), "bye");
    // "not sure" is itself negative, so no negation word cancels it.
    let mut call = Call::new(flow.clone());
    call.say("No, I'm really not sure");
    assert_eq!(call.at(), "fever");
    assert_eq!(call.session.no_match, 1);
    // A question's own list replaces the default one: here, none.
    let mut call = Call::new(flow);
    call.say("yes");
    assert_eq!(call.at(), "anything");
    call.say("I don't know");
    assert_eq!(call.at(), "bye");
    assert_eq!(
        call.var("answer"),
        Some(&Literal::Text("I don't know".into()))
    );
}

#[test]
fn triage_keys_are_not_understood_by_a_speech_only_flow() {
    // The triage flows listen for speech only and have no `digits` routes: keys pressed
    // anyway are a no-match, then the question is asked again.
    for l in [&FR, &EN] {
        let mut call = triage(l);
        let xml = call.press("1");
        assert_eq!(call.at(), l.welcome);
        assert!(xml.contains("input=\"speech\""), "{xml}");
        assert_eq!(call.session.no_match, 1);
        assert_eq!(call.var("answer"), Some(&Literal::Text("1".into())));
    }
}

#[test]
fn golden_first_turn_french() {
    let call = triage(&FR);
    let expected = concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>",
        "<Gather input=\"speech\" action=\"https://ivr.test/calls/CA42/step?seq=1\" method=\"POST\" ",
        "timeout=\"5\" speechTimeout=\"3\" language=\"fr-FR\" hints=\"oui, non, coronavirus, covid\" ",
        "actionOnEmptyResult=\"true\">",
        "<Say voice=\"Polly.Lea\" language=\"fr-FR\">Bonjour, vous êtes bien au SAMU. ",
        "En raison de l&apos;épidémie de coronavirus, nous devons orienter votre appel. ",
        "Votre appel concerne-t-il le coronavirus ? Répondez par oui ou par non après le bip.</Say>",
        "<Play>https://ivr.test/prompts/beep.wav</Play>",
        "</Gather></Response>"
    );
    assert_eq!(call.xml(), expected);
}

#[test]
fn golden_next_question_english() {
    let mut call = to_symptoms(&EN);
    let xml = call.say("yes, I have a fever");
    let expected = concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>",
        "<Gather input=\"speech\" action=\"https://ivr.test/calls/CA42/step?seq=4\" method=\"POST\" ",
        "timeout=\"5\" speechTimeout=\"3\" language=\"en-US\" actionOnEmptyResult=\"true\">",
        "<Say voice=\"Polly.Joanna\" language=\"en-US\">Second question. Do you have a cough, ",
        "or is your usual cough worse?</Say>",
        "<Play>https://ivr.test/prompts/beep.wav</Play>",
        "</Gather></Response>"
    );
    assert_eq!(xml, expected);
    assert_eq!(call.var("score"), Some(&Literal::Number(1.0)));
    assert_eq!(
        call.var("answer"),
        Some(&Literal::Text("yes, I have a fever".into()))
    );
}

// ----- the sales menu ----------------------------------------------------------------------

#[test]
fn sales_press_one_dials_sales() {
    let mut call = Call::new(example("sales-menu.yaml"));
    let first = call.xml();
    assert!(first.contains("input=\"dtmf speech\""), "{first}");
    assert!(first.contains("numDigits=\"1\""), "{first}");
    assert!(first.contains("hints=\"sales, support\""), "{first}");
    let xml = call.press("1");
    assert_eq!(call.path(), ["menu", "sales"]);
    assert!(
        xml.contains(
            "<Say voice=\"Polly.Joanna\" language=\"en-US\">Connecting you to sales.</Say>"
        ),
        "{xml}"
    );
    assert!(xml.contains("<Number>+12025550123</Number>"), "{xml}");
    call.dial_ended("completed");
    assert_eq!(call.outcome(), Some(&dialed("+12025550123")));
}

#[test]
fn sales_say_support_then_voicemail() {
    let mut call = Call::new(example("sales-menu.yaml"));
    let xml = call.say("I need help, my thing is broken");
    assert_eq!(call.at(), "support");
    assert!(
        xml.contains("<Sip>sip:support@pbx.example.com</Sip>"),
        "{xml}"
    );
    let xml = call.dial_ended("no-answer");
    assert_eq!(call.at(), "voicemail");
    assert!(
        xml.contains("<Record action=\"https://ivr.test/calls/CA42/step?seq=3\""),
        "{xml}"
    );
    assert!(xml.contains("maxLength=\"120\""), "{xml}");
    assert!(xml.contains("finishOnKey=\"#\""), "{xml}");
    let xml = call.input(Input::Recorded {
        url: "https://api.twilio.com/rec/RE1".into(),
        duration_secs: 12,
    });
    assert_eq!(call.path(), ["menu", "support", "voicemail", "thanks"]);
    assert_eq!(
        call.var("voicemail_url"),
        Some(&Literal::Text("https://api.twilio.com/rec/RE1".into()))
    );
    assert!(
        xml.contains("we will call you back at 3 3 6 1 2 3 4 5 6 7 8. Goodbye."),
        "{xml}"
    );
    assert_eq!(call.outcome(), Some(&Outcome::HungUp));
}

#[test]
fn an_empty_voicemail_goes_on_without_a_recording() {
    // Twilio does not post an empty recording to `action`; it runs the next verb, the
    // redirect back to the same step, which brings no recording.
    let mut call = Call::new(example("sales-menu.yaml"));
    call.press("2");
    let xml = call.dial_ended("busy");
    let redirect = "<Redirect>https://ivr.test/calls/CA42/step?seq=3</Redirect>";
    let record = xml.find("<Record action=\"https://ivr.test/calls/CA42/step?seq=3\"");
    assert!(
        record.is_some_and(|r| xml.find(redirect) > Some(r)),
        "{xml}"
    );
    let xml = call.silence();
    assert_eq!(call.path(), ["menu", "support", "voicemail", "thanks"]);
    assert_eq!(call.var("voicemail_url"), None);
    assert!(xml.contains("we will call you back"), "{xml}");
    assert!(
        call.events
            .iter()
            .any(|e| matches!(e, StepEvent::NoInput { node, count: 1 } if node == "voicemail")),
        "{:?}",
        call.events
    );
}

#[test]
fn an_empty_voicemail_takes_the_fallback_or_ends_the_call() {
    let source = |fallback: &str| {
        format!(
            "flow: vm\nlanguage: en-US\nnodes:\n  leave:\n    say: Leave a message.\n    record: true\n{fallback}  thanks:\n    say: Thanks.\n    hangup: true\n  again:\n    say: We did not hear you.\n    hangup: true\n"
        )
    };
    let mut call = Call::new(inline(&source("    next: thanks\n    fallback: again\n")));
    let xml = call.silence();
    assert_eq!(call.path(), ["leave", "again"]);
    assert!(xml.contains("We did not hear you."), "{xml}");

    let mut call = Call::new(inline(&source("")));
    let xml = call.silence();
    assert!(xml.contains("<Hangup/>"), "{xml}");
    assert_eq!(call.outcome(), Some(&Outcome::HungUp));
}

#[test]
fn sales_silence_three_times_goes_to_the_operator() {
    let mut call = Call::new(example("sales-menu.yaml"));
    let xml = call.silence();
    // repeat-question: the reprompt, then the question again.
    let gather = xml.split("<Gather").nth(1).unwrap();
    let sorry = gather.find("Sorry, I didn&apos;t hear anything.").unwrap();
    let question = gather.find("Thanks for calling Example Corp.").unwrap();
    assert!(sorry < question, "{xml}");
    call.silence();
    assert_eq!(call.at(), "menu");
    let xml = call.silence();
    assert_eq!(call.path(), ["menu", "operator"]);
    assert!(
        xml.contains("Please hold for the next available operator."),
        "{xml}"
    );
    assert!(xml.contains(">front-desk</Enqueue>"), "{xml}");
    assert_eq!(
        call.outcome(),
        Some(&Outcome::Enqueued {
            queue: "front-desk".into()
        })
    );
}

#[test]
fn sales_garbage_then_keys() {
    let mut call = Call::new(example("sales-menu.yaml"));
    let xml = call.say("what are your opening hours");
    assert!(xml.contains("Sorry, I didn&apos;t get that."), "{xml}");
    call.press("7");
    assert_eq!(call.session.no_match, 2);
    call.press("2");
    assert_eq!(call.path(), ["menu", "support"]);
}

/// Callers say what they want, not only the option's name.
#[test]
fn sales_menu_understands_what_callers_want() {
    for (said, goes) in [
        ("I'd like a quote", "sales"),
        ("how much are your prices", "sales"),
        ("I want to purchase a licence", "sales"),
        ("my phone is not working", "support"),
        ("the app doesn't work", "support"),
        ("I have an issue with my account", "support"),
        ("can you fix my router", "support"),
        ("I'd like to speak to a person", "operator"),
    ] {
        let mut call = Call::new(example("sales-menu.yaml"));
        call.say(said);
        assert_eq!(call.path(), ["menu", goes], "{said:?}");
    }
}

#[test]
fn sales_queue_full_apologises() {
    let mut call = Call::new(example("sales-menu.yaml"));
    for _ in 0..3 {
        call.silence();
    }
    let xml = call.input(Input::QueueLeft {
        result: "queue-full".into(),
    });
    assert!(xml.contains("nobody can take your call"), "{xml}");
    assert!(xml.ends_with("<Hangup/></Response>"));
}

// ----- seq, serialisation, robustness ------------------------------------------------------

#[test]
fn seq_detects_retries_and_stale_webhooks() {
    let mut call = triage(&FR);
    assert_eq!(call.session.seq, 1);
    call.say(FR.about_covid);
    assert_eq!(call.session.check_seq(2), SeqCheck::Current);
    assert_eq!(call.session.check_seq(1), SeqCheck::Retry);
    assert_eq!(call.session.check_seq(0), SeqCheck::Stale);
    assert_eq!(call.session.check_seq(9), SeqCheck::Stale);
    assert!(!runtime::is_current(&call.session, 1));
    assert!(call.xml().contains("seq=2"));
}

#[test]
fn unexpected_input_apologises_in_the_call_language() {
    let mut call = triage(&FR);
    let xml = call.dial_ended("completed");
    assert!(xml.contains("Nous sommes désolés"), "{xml}");
    assert!(xml.ends_with("<Hangup/></Response>"), "{xml}");
    assert!(matches!(call.outcome(), Some(Outcome::Error { .. })));
    assert!(
        call.last
            .events
            .iter()
            .any(|e| matches!(e, StepEvent::Unexpected { .. }))
    );
    // Anything after the end gets a hangup.
    let xml = call.say("allô ?");
    assert!(xml.ends_with("<Response><Hangup/></Response>"), "{xml}");
}

#[test]
fn caller_hanging_up_is_an_outcome() {
    let mut call = triage(&EN);
    call.input(Input::CallEnded {
        status: "completed".into(),
    });
    assert_eq!(call.outcome(), Some(&Outcome::CallerHungUp));
    assert!(call.events.iter().any(|e| matches!(e,
        StepEvent::Ended { node, outcome: Outcome::CallerHungUp } if node == "welcome")));
}

#[test]
fn a_session_from_another_flow_is_refused() {
    let fr = example(FR.file);
    let en = example(EN.file);
    let (mut session, _) = runtime::start(&fr, facts(), &TestLinks);
    let turn = runtime::step(&en, &mut session, Input::NoInput, &TestLinks);
    assert!(matches!(session.ended, Some(Outcome::Error { .. })));
    assert!(turn.response.to_xml().contains("Nous sommes désolés"));
}

#[test]
fn a_new_flow_version_continues_by_node_name() {
    let flow = example(FR.file);
    let (mut session, _) = runtime::start(&flow, facts(), &TestLinks);
    session.flow_version = "old".into();
    let turn = runtime::step(
        &flow,
        &mut session,
        Input::Gathered {
            speech: Some(("oui".into(), 0.8)),
            digits: None,
            intent: None,
        },
        &TestLinks,
    );
    assert_eq!(session.node, "classification");
    assert!(matches!(&turn.events[0], StepEvent::FlowVersionChanged { from, .. } if from == "old"));
}

#[test]
fn blank_answers_count_as_silence_and_odd_confidence_is_clamped() {
    let mut call = triage(&FR);
    call.input(Input::Gathered {
        speech: Some(("   ".into(), 0.5)),
        digits: Some(String::new()),
        intent: None,
    });
    assert_eq!(call.session.no_input, 1);
    call.input(Input::Gathered {
        speech: Some(("oui".into(), f32::NAN)),
        digits: None,
        intent: None,
    });
    assert_eq!(call.var("confidence"), Some(&Literal::Number(0.0)));
}

// ----- webhook, redirect, bot, loops, language menus --------------------------------------

const WEBHOOK_FLOW: &str = r#"
flow: webhook-test
language: en-US
variables: { score: 3 }
nodes:
  start:
    say: One moment please.
    next: check
  check:
    webhook:
      url: https://triage.example.org/score
      timeout: 4
      returns: [risk]
    routes:
      - if: risk == high
        goto: emergency
    next: students
    fallback: sorry
  emergency:
    say: Emergency.
    hangup: true
  students:
    say: Students.
    hangup: true
  sorry:
    say: Sorry.
    hangup: true
"#;

fn webhook_call(reply: Result<serde_json::Value, String>) -> (Session, Turn) {
    let flow = inline(WEBHOOK_FLOW);
    let (mut session, first) = runtime::start(&flow, facts(), &TestLinks);
    let Some(Effect::Webhook {
        url,
        body,
        timeout_ms,
    }) = first.effect.clone()
    else {
        panic!("expected a webhook effect: {first:?}");
    };
    assert_eq!(url, "https://triage.example.org/score");
    assert_eq!(timeout_ms, 4000);
    assert_eq!(
        body,
        serde_json::json!({
            "flow": "webhook-test", "node": "check", "call_sid": "CA42",
            "caller": "+33612345678", "called": "+33199000000", "language": "en-US",
            "variables": { "score": 3 }
        })
    );
    assert_eq!(
        session.awaiting,
        Awaiting::Webhook {
            node: "check".into()
        }
    );
    let next = runtime::step(
        &flow,
        &mut session,
        Input::WebhookReplied(reply),
        &TestLinks,
    );
    (session, first.then(next))
}

#[test]
fn webhook_reply_sets_returns_and_routes() {
    let (session, turn) = webhook_call(Ok(
        serde_json::json!({ "set": { "risk": "high", "other": 1 } }),
    ));
    assert_eq!(session.node, "emergency");
    assert_eq!(
        session.vars.get("risk"),
        Some(&Literal::Text("high".into()))
    );
    assert_eq!(
        session.vars.get("other"),
        None,
        "undeclared fields are ignored"
    );
    assert!(turn.effect.is_none());
    let xml = turn.response.to_xml();
    assert!(
        xml.contains("One moment please.</Say><Say language=\"en-US\">Emergency.</Say><Hangup/>"),
        "prompts before the effect come first: {xml}"
    );
    assert!(xml.contains("Emergency."), "{xml}");
}

#[test]
fn webhook_reply_without_routes_matching_goes_next() {
    let (session, _) = webhook_call(Ok(serde_json::json!({ "set": { "risk": "low" } })));
    assert_eq!(session.node, "students");
    let (session, _) = webhook_call(Ok(serde_json::json!({})));
    assert_eq!(session.node, "students");
}

#[test]
fn webhook_goto_must_be_an_edge_of_the_node() {
    let (session, _) = webhook_call(Ok(serde_json::json!({ "goto": "sorry" })));
    assert_eq!(session.node, "sorry");
    let (session, _) = webhook_call(Ok(serde_json::json!({ "goto": "emergency" })));
    assert_eq!(session.node, "emergency");
    let (session, turn) = webhook_call(Ok(serde_json::json!({ "goto": "start" })));
    assert_eq!(
        session.node, "sorry",
        "start is not an edge of check: fallback"
    );
    assert!(
        turn.events
            .iter()
            .any(|e| matches!(e, StepEvent::WebhookCalled { ok: false, .. }))
    );
}

#[test]
fn webhook_failures_take_the_fallback() {
    for reply in [
        Err("timeout".to_owned()),
        Ok(serde_json::json!([1, 2])),
        Ok(serde_json::json!({ "set": [1] })),
        Ok(serde_json::json!({ "set": { "risk": { "nested": true } } })),
        Ok(serde_json::json!({ "goto": 3 })),
    ] {
        let (session, _) = webhook_call(reply);
        assert_eq!(session.node, "sorry");
        assert_eq!(session.ended, Some(Outcome::HungUp));
    }
}

#[test]
fn redirect_hands_the_call_to_another_flow() {
    let flow = inline(
        "flow: r\nlanguage: en-US\nnodes:\n  a:\n    say: Transferring.\n    redirect: sales-menu\n",
    );
    let (session, turn) = runtime::start(&flow, facts(), &TestLinks);
    assert!(
        turn.response
            .to_xml()
            .ends_with("<Redirect>https://ivr.test/flows/sales-menu/start</Redirect></Response>")
    );
    assert_eq!(
        session.ended,
        Some(Outcome::Redirected {
            flow: "sales-menu".into()
        })
    );
}

#[test]
fn bot_unavailable_says_so_and_takes_the_fallback() {
    let flow = inline(
        r#"
flow: b
language: fr-FR
nodes:
  assistant:
    bot: { name: covid-assistant, collect: [age] }
    next: done
    fallback: operator
  done:
    say: Merci.
    hangup: true
  operator:
    say: Un instant.
    enqueue: front-desk
"#,
    );
    let (session, turn) = runtime::start(&flow, facts(), &TestLinks);
    let xml = turn.response.to_xml();
    assert!(
        xml.contains("L&apos;assistant vocal n&apos;est pas disponible"),
        "{xml}"
    );
    assert_eq!(
        session.path.iter().collect::<Vec<_>>(),
        ["assistant", "operator"]
    );
    assert!(
        turn.events.iter().any(
            |e| matches!(e, StepEvent::BotUnavailable { bot, .. } if bot == "covid-assistant")
        )
    );
}

struct BotLinks;
impl Links for BotLinks {
    fn action(&self, s: &Session) -> String {
        TestLinks.action(s)
    }
    fn prompt(&self, f: &Flow, a: &Audio, l: &str) -> Option<String> {
        TestLinks.prompt(f, a, l)
    }
    fn flow_entry(&self, id: &str) -> String {
        TestLinks.flow_entry(id)
    }
    fn bot_entry(&self, s: &Session, bot: &hotline_flow::Bot) -> Option<String> {
        Some(format!(
            "https://ivr.test/bots/{}/voice?flow={}&seq={}",
            bot.name, s.flow_id, s.seq
        ))
    }
}

const BOT_FLOW: &str = r#"
flow: b
language: en-US
nodes:
  assistant:
    bot: { name: booking, collect: [date, Time] }
    routes:
      - if: date == "never"
        goto: operator
    next: done
    fallback: operator
  done:
    say: "Booked for {{ date }} at {{ Time }}."
    hangup: true
  operator:
    say: One moment.
    hangup: true
"#;

#[test]
fn a_configured_bot_takes_the_call_and_its_slots_become_variables() {
    let flow = inline(BOT_FLOW);
    let (mut session, turn) = runtime::start(&flow, facts(), &BotLinks);
    let xml = turn.response.to_xml();
    assert!(
        xml.contains("<Redirect>https://ivr.test/bots/booking/voice?flow=b&amp;seq=1</Redirect>"),
        "{xml}"
    );
    assert_eq!(
        session.awaiting,
        Awaiting::Bot {
            node: "assistant".into()
        }
    );
    assert!(
        turn.events
            .iter()
            .any(|e| matches!(e, StepEvent::BotStarted { bot, .. } if bot == "booking"))
    );
    assert!(session.ended.is_none());
    assert!(runtime::is_current(&session, 1));
    let slots = [("Date", "tomorrow"), ("time", "10 am"), ("Other", "x")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let turn = runtime::step(&flow, &mut session, Input::BotReturned { slots }, &BotLinks);
    let xml = turn.response.to_xml();
    assert!(xml.contains("Booked for tomorrow at 10 am."), "{xml}");
    assert!(!session.vars.contains_key("Other"));
    assert_eq!(
        session.path.iter().collect::<Vec<_>>(),
        ["assistant", "done"]
    );
    assert_eq!(session.ended, Some(Outcome::HungUp));
}

#[test]
fn a_failed_bot_takes_the_fallback() {
    let flow = inline(BOT_FLOW);
    let (mut session, _) = runtime::start(&flow, facts(), &BotLinks);
    let turn = runtime::step(
        &flow,
        &mut session,
        Input::BotFailed {
            reason: "timeout".into(),
        },
        &BotLinks,
    );
    assert!(turn.response.to_xml().contains("One moment."));
    assert_eq!(
        session.path.iter().collect::<Vec<_>>(),
        ["assistant", "operator"]
    );
    // Any other input while the bot has the call is unexpected.
    let (mut session, _) = runtime::start(&flow, facts(), &BotLinks);
    let turn = runtime::step(&flow, &mut session, Input::NoInput, &BotLinks);
    assert!(matches!(session.ended, Some(Outcome::Error { .. })));
    assert!(
        turn.events
            .iter()
            .any(|e| matches!(e, StepEvent::Unexpected { .. }))
    );
}

#[test]
fn a_loop_that_never_waits_ends_with_an_apology() {
    let flow = inline(
        r#"
flow: loop
language: en-US
nodes:
  a:
    routes:
      - if: never == 1
        goto: out
    next: b
  b:
    say: Looping.
    next: a
  out:
    hangup: true
"#,
    );
    let (session, turn) = runtime::start(&flow, facts(), &TestLinks);
    assert!(matches!(session.ended, Some(Outcome::Error { .. })));
    let xml = turn.response.to_xml();
    assert!(xml.contains("We are sorry"), "{xml}");
    assert!(xml.ends_with("<Hangup/></Response>"));
}

#[test]
fn error_transfer_is_dialled_after_the_apology() {
    struct TransferLinks;
    impl Links for TransferLinks {
        fn action(&self, s: &Session) -> String {
            TestLinks.action(s)
        }
        fn prompt(&self, f: &Flow, a: &Audio, l: &str) -> Option<String> {
            TestLinks.prompt(f, a, l)
        }
        fn flow_entry(&self, id: &str) -> String {
            TestLinks.flow_entry(id)
        }
        fn error_transfer(&self, _flow: &Flow) -> Option<String> {
            Some("+33 1 99 00 00 01".into())
        }
    }
    let flow = example(FR.file);
    let (mut session, _) = runtime::start(&flow, facts(), &TransferLinks);
    runtime::step(&flow, &mut session, Input::NoInput, &TransferLinks);
    assert_eq!(session.node, "accueil");
    // A recording result while a question is open: inconsistent, so apologise and transfer.
    let turn = runtime::step(
        &flow,
        &mut session,
        Input::Recorded {
            url: String::new(),
            duration_secs: 0,
        },
        &TransferLinks,
    );
    let xml = turn.response.to_xml();
    assert!(xml.contains("Nous vous transférons"), "{xml}");
    assert!(xml.contains("<Number>+33199000001</Number>"), "{xml}");
}

#[test]
fn language_menu_switches_prompts_and_recognition() {
    let flow = inline(
        r#"
flow: menu
language: fr-FR
languages: [fr-FR, en-US]
voice: { fr-FR: Polly.Lea, en-US: Polly.Joanna }
nodes:
  choose:
    say:
      - { text: "Pour le français, tapez 1.", language: fr-FR }
      - { text: "For English, press 2.", language: en-US }
    ask: { input: both, num-digits: 1 }
    retry: { exhausted: bye }
    routes:
      - { digits: 1, keywords: [français], language: fr-FR, goto: welcome }
      - { digits: 2, keywords: [english, anglais], language: en-US, goto: welcome }
  welcome:
    say: { fr-FR: Bienvenue., en-US: Welcome. }
    ask: { input: speech, hints: { fr-FR: [oui, non], en-US: [yes, no] } }
    retry: { exhausted: bye }
    routes:
      - keywords: { fr-FR: [oui], en-US: [yes] }
        goto: bye
  bye:
    say: { fr-FR: Au revoir., en-US: Goodbye. }
    hangup: true
"#,
    );
    let (mut session, turn) = runtime::start(&flow, facts(), &TestLinks);
    let xml = turn.response.to_xml();
    assert!(!xml.contains("hints="), "{xml}");
    assert!(
        xml.contains("<Say voice=\"Polly.Joanna\" language=\"en-US\">For English, press 2.</Say>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Say voice=\"Polly.Lea\" language=\"fr-FR\">Pour le français"),
        "{xml}"
    );
    let turn = runtime::step(
        &flow,
        &mut session,
        Input::Gathered {
            speech: None,
            digits: Some("2".into()),
            intent: None,
        },
        &TestLinks,
    );
    assert_eq!(session.language, "en-US");
    let xml = turn.response.to_xml();
    assert!(
        xml.contains("language=\"en-US\" hints=\"yes, no\""),
        "{xml}"
    );
    assert!(
        xml.contains("<Say voice=\"Polly.Joanna\" language=\"en-US\">Welcome.</Say>"),
        "{xml}"
    );
    let turn = runtime::step(
        &flow,
        &mut session,
        Input::Gathered {
            speech: Some(("yes please".into(), 0.9)),
            digits: None,
            intent: None,
        },
        &TestLinks,
    );
    assert!(turn.response.to_xml().contains("Goodbye."));
}

/// An `ask` whose routes use the intent the server's engine recognised (`intents:`).
const INTENT_MENU: &str = r#"
flow: intent-menu
language: en-US
intents: clinic
nodes:
  menu:
    say: How can we help?
    ask: { input: both }
    retry: { attempts: 2, exhausted: hours }
    routes:
      - intent: book
        digits: 1
        goto: booking
      - keywords: [hours]
        goto: hours
  booking:
    say: "Booking ({{ intent }} at {{ intent_confidence }})."
    next: check
  check:
    routes:
      - intent: book
        goto: done
    next: hours
  hours:
    say: Open all day.
    hangup: true
  done:
    say: Done.
    hangup: true
"#;

fn understood(text: &str, intent: &str, confidence: f32) -> Input {
    Input::Gathered {
        speech: Some((text.into(), 0.9)),
        digits: None,
        intent: Some(runtime::Understood {
            intent: intent.into(),
            confidence,
        }),
    }
}

#[test]
fn intent_routes_match_the_engines_intent_and_keep_it_in_variables() {
    let mut call = Call::new(inline(INTENT_MENU));
    let xml = call.input(understood("I'd like to come in", "book", 0.8125));
    assert!(xml.contains("Booking (book at 0.813)."), "{xml}");
    // A later branch sees the same intent (`intent` stays until the next answer).
    assert_eq!(call.at(), "done");
    assert_eq!(call.var("intent"), Some(&Literal::Text("book".into())));
    let heard = call
        .events
        .iter()
        .find_map(|e| match e {
            StepEvent::Heard { intent, .. } => intent.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(heard.intent, "book");
}

#[test]
fn an_answer_without_an_intent_clears_the_last_one() {
    let mut call = Call::new(inline(INTENT_MENU));
    // An intent the routes do not name: keywords still apply.
    call.input(understood("what are your hours", "cancel", 0.7));
    assert_eq!(call.at(), "hours");
    assert_eq!(call.var("intent"), Some(&Literal::Text("cancel".into())));

    let mut call = Call::new(inline(INTENT_MENU));
    call.say("what are your hours");
    assert_eq!(call.at(), "hours");
    assert_eq!(call.var("intent"), None);
    assert_eq!(call.var("intent_confidence"), None);
}

#[test]
fn keys_pressed_carry_no_intent() {
    let mut call = Call::new(inline(INTENT_MENU));
    // Even if a server passed one, an intent is about a transcript.
    call.input(Input::Gathered {
        speech: None,
        digits: Some("9".into()),
        intent: Some(runtime::Understood {
            intent: "book".into(),
            confidence: 1.0,
        }),
    });
    assert_eq!(call.at(), "menu");
    assert_eq!(call.var("intent"), None);
    // Key 1 books, but the later branch on the intent finds none.
    call.press("1");
    assert_eq!(call.at(), "hours");
}

/// An `if:` condition reads a number said as text as a `number` route does, by the call's
/// language: "1,200" is 1200 in English and 1.2 in French (it was 1.2 in every language).
#[test]
fn an_if_condition_reads_a_spoken_number_in_the_calls_language() {
    for (language, said, by_if, by_number) in [
        ("en-US", "1,200", "big", "big"),
        ("fr-FR", "1,200", "small", "small"),
        ("fr-FR", "1.200", "big", "big"),
        ("en-US", "1.234,5", "big", "big"),
    ] {
        let flow = inline(&format!(
            r#"
flow: amounts
language: {language}
defaults:
  retry: {{ exhausted: small }}
nodes:
  by-if:
    say: How much?
    ask: speech
    routes:
      - {{ if: answer >= 1000, goto: big }}
      - {{ if: answer < 1000, goto: small }}
  by-number:
    say: How much?
    ask: speech
    routes:
      - {{ number: ">= 1000", goto: big }}
      - {{ number: "< 1000", goto: small }}
  big:
    say: A lot.
    hangup: true
  small:
    say: Not much.
    hangup: true
"#
        ));
        let mut call = Call::new(flow.clone());
        call.say(said);
        assert_eq!(
            call.path(),
            ["by-if", by_if],
            "`if` on {said:?} in {language}"
        );
        let start = flow.find("by-number").unwrap();
        let mut flow = flow;
        flow.start = start;
        let mut call = Call::new(flow);
        call.say(said);
        assert_eq!(
            call.path(),
            ["by-number", by_number],
            "`number` on {said:?} in {language}"
        );
    }
}
