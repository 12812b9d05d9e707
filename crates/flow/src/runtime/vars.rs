//! Call variables: looking them up (built-ins first), applying `set`/`add`, rendering
//! templates, and converting to and from JSON for webhooks.
//!
//! Pure functions over a [`Session`]; they never fail and never panic. Numbers stay finite (a
//! session must always serialise to JSON).

use super::session::Session;
use super::turn::StepEvent;
use crate::template::Template;
use crate::{AssignOp, Assignment, Literal, SetValue};

/// The value of variable `name` for `session` in flow `flow_id`: session-derived built-ins
/// (`caller`, `caller_digits`, `called`, `call_sid`, `language`, `flow`, `node`, `attempt`),
/// then the stored variables (including `answer`, `digits`, `confidence`, `intent`).
pub(crate) fn lookup(session: &Session, name: &str) -> Option<Literal> {
    let text = |s: &str| Some(Literal::Text(s.to_owned()));
    match name {
        "caller" => text(&session.caller),
        "caller_digits" => Some(Literal::Text(spoken_digits(&session.caller))),
        "called" => text(&session.called),
        "call_sid" => text(&session.call_sid),
        "language" => text(&session.language),
        "flow" => text(&session.flow_id),
        "node" => text(&session.node),
        "attempt" => Some(Literal::Number(f64::from(session.attempt()))),
        _ => session.vars.get(name).cloned(),
    }
}

/// A phone number as its digits one by one, for a prompt to read back: `+33 6 12-34` becomes
/// `3 3 6 1 2 3 4`, which text-to-speech reads digit by digit, where `+336…` is read as one
/// large number. Nothing when `number` is not a phone number (withheld: `anonymous`, or a SIP
/// or client address), so that a prompt never reads out an address.
pub(crate) fn spoken_digits(number: &str) -> String {
    let number = number.trim();
    let number = number.strip_prefix('+').unwrap_or(number);
    // A withheld number can also come as a word spelled on a keypad: ANONYMOUS, RESTRICTED,
    // UNAVAILABLE, BLOCKED. Read back, it would be nine to eleven meaningless digits.
    if WITHHELD_ON_A_KEYPAD.contains(&number) {
        return String::new();
    }
    let phone_like = number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
    if !phone_like {
        return String::new();
    }
    let mut spoken = String::with_capacity(number.len() * 2);
    for d in number.chars().filter(char::is_ascii_digit) {
        if !spoken.is_empty() {
            spoken.push(' ');
        }
        spoken.push(d);
    }
    spoken
}

/// ANONYMOUS, RESTRICTED, UNAVAILABLE and BLOCKED, spelled on a phone's keypad.
const WITHHELD_ON_A_KEYPAD: [&str; 4] = ["266696687", "7378742833", "86282452253", "2562533"];

/// Renders a template with the session's variables (unknown ones render as nothing).
pub(crate) fn render(template: &Template, session: &Session) -> String {
    template.render(|name| lookup(session, name).map(|l| l.to_text()))
}

/// Applies assignments in order, recording a `Set` event for each.
pub(crate) fn apply(
    assignments: &[Assignment],
    session: &mut Session,
    events: &mut Vec<StepEvent>,
) {
    for a in assignments {
        let value = match &a.op {
            AssignOp::Set(SetValue::Literal(l)) => l.clone(),
            AssignOp::Set(SetValue::Text(t)) => Literal::Text(render(t, session)),
            AssignOp::Add(n) => {
                let current = lookup(session, &a.var)
                    .as_ref()
                    .and_then(|l| l.as_number(&session.language))
                    .unwrap_or(0.0);
                let sum = current + n;
                Literal::Number(if sum.is_finite() { sum } else { current })
            }
        };
        set(session, &a.var, value, events);
    }
}

/// Sets one variable and records it.
pub(crate) fn set(session: &mut Session, var: &str, value: Literal, events: &mut Vec<StepEvent>) {
    let value = match value {
        Literal::Number(n) if !n.is_finite() => Literal::Number(0.0),
        other => other,
    };
    events.push(StepEvent::Set {
        var: var.to_owned(),
        value: value.clone(),
    });
    session.vars.insert(var.to_owned(), value);
}

/// A literal as JSON: whole numbers as integers (`3`, not `3.0`).
pub(crate) fn to_json(value: &Literal) -> serde_json::Value {
    match value {
        Literal::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            serde_json::Value::from(*n as i64)
        }
        Literal::Number(n) => serde_json::Number::from_f64(*n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Literal::Bool(b) => serde_json::Value::Bool(*b),
        Literal::Text(t) => serde_json::Value::String(t.clone()),
    }
}

/// A JSON value from a webhook reply as a literal: strings, finite numbers and booleans only.
pub(crate) fn from_json(value: &serde_json::Value) -> Option<Literal> {
    match value {
        serde_json::Value::String(s) => Some(Literal::Text(s.clone())),
        serde_json::Value::Bool(b) => Some(Literal::Bool(*b)),
        serde_json::Value::Number(n) => n.as_f64().filter(|f| f.is_finite()).map(Literal::Number),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::session::{CallFacts, Session};

    fn session() -> Session {
        let flow = crate::load_flow_str(
            "flow: t\nlanguage: en-US\nvariables: { score: 0 }\nnodes:\n  a:\n    hangup: true\n",
            "t.yaml",
            std::path::Path::new("."),
        )
        .map(|l| l.flow);
        let Ok(flow) = flow else {
            panic!("test flow must load");
        };
        Session::new(
            &flow,
            &CallFacts {
                call_sid: "CA1".into(),
                from: "+33600000000".into(),
                to: "+33100000000".into(),
                now_unix_ms: 0,
            },
        )
    }

    #[test]
    fn builtins_and_add() {
        let mut s = session();
        assert_eq!(
            lookup(&s, "caller"),
            Some(Literal::Text("+33600000000".into()))
        );
        assert_eq!(
            lookup(&s, "caller_digits"),
            Some(Literal::Text("3 3 6 0 0 0 0 0 0 0 0".into()))
        );
        assert_eq!(lookup(&s, "attempt"), Some(Literal::Number(1.0)));
        let mut ev = Vec::new();
        let add = |n| Assignment {
            var: "score".into(),
            op: AssignOp::Add(n),
        };
        apply(&[add(2.0), add(1.5)], &mut s, &mut ev);
        assert_eq!(s.vars.get("score"), Some(&Literal::Number(3.5)));
        apply(&[add(f64::MAX), add(f64::MAX)], &mut s, &mut ev);
        assert!(
            s.vars
                .get("score")
                .and_then(|l| l.as_number("en-US"))
                .is_some_and(f64::is_finite)
        );
        assert_eq!(ev.len(), 4);
    }

    #[test]
    fn caller_digits_reads_a_number_and_nothing_else() {
        for (number, spoken) in [
            ("+15551234567", "1 5 5 5 1 2 3 4 5 6 7"),
            ("+33 6 12-34.56 (78)", "3 3 6 1 2 3 4 5 6 7 8"),
            ("0612", "0 6 1 2"),
            ("anonymous", ""),
            ("sip:alice@pbx.example.com", ""),
            ("client:agent7", ""),
            ("+266696687", ""),
            ("+7378742833", ""),
            ("", ""),
            ("+", ""),
        ] {
            assert_eq!(spoken_digits(number), spoken, "{number}");
        }
    }

    #[test]
    fn json_round_trip() {
        assert_eq!(to_json(&Literal::Number(3.0)), serde_json::json!(3));
        assert_eq!(to_json(&Literal::Number(2.5)), serde_json::json!(2.5));
        assert_eq!(
            from_json(&serde_json::json!("x")),
            Some(Literal::Text("x".into()))
        );
        assert_eq!(from_json(&serde_json::json!([1])), None);
        assert_eq!(from_json(&serde_json::json!(null)), None);
    }
}
