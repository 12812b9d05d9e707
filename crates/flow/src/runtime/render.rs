//! Turning flow prompts and actions into TwiML values (`<Say>`, `<Play>`, `<Gather>`,
//! `<Dial>`, `<Record>`), in the call's language.
//!
//! Builds `hotline_twilio::twiml` data only: it never serialises XML (the server calls
//! `to_xml`) and decides nothing about where the call goes next.

use hotline_twilio::twiml as tw;

use super::links::Links;
use super::session::Session;
use super::turn::StepEvent;
use super::vars;
use crate::{Ask, Audio, Flow, InputMode, Node, Prompt, SpeechTimeout};

/// Renders `prompts` of `node` (with the node's voice override) in the session's language,
/// recording `Said`/`Played`/`PromptUnavailable` events. Empty texts are skipped.
pub(crate) fn prompts(
    flow: &Flow,
    links: &dyn Links,
    session: &Session,
    node: &Node,
    prompts: &[Prompt],
    events: &mut Vec<StepEvent>,
    out: &mut Vec<tw::GatherPrompt>,
) {
    let node_voice = node.voice.as_deref();
    for prompt in prompts {
        match prompt {
            Prompt::Say(say) => {
                let language = say.language.as_deref().unwrap_or(&session.language);
                let Some(template) = say.text.get(language) else {
                    continue;
                };
                let text = vars::render(template, session);
                if text.trim().is_empty() {
                    continue;
                }
                let voice = say
                    .voice
                    .as_deref()
                    .or(node_voice)
                    .or_else(|| flow.voice_for(language));
                events.push(StepEvent::Said {
                    node: node.id.clone(),
                    text: text.clone(),
                });
                out.push(tw::GatherPrompt::Say(say_verb(text, language, voice)));
            }
            Prompt::Play(play) => {
                let Some(audio) = play.audio.get(&session.language) else {
                    continue;
                };
                match links.prompt(flow, audio, &session.language) {
                    Some(url) => {
                        events.push(StepEvent::Played {
                            node: node.id.clone(),
                            url: url.clone(),
                        });
                        out.push(tw::GatherPrompt::Play(tw::Play::new(url)));
                    }
                    None => events.push(StepEvent::PromptUnavailable {
                        node: node.id.clone(),
                        prompt: audio_name(audio).to_owned(),
                    }),
                }
            }
        }
    }
}

/// A `<Say>` in `language`, with `voice` when known.
pub(crate) fn say_verb(text: String, language: &str, voice: Option<&str>) -> tw::Say {
    let say = tw::Say::new(text).with_language(language);
    match voice {
        Some(v) => say.with_voice(v),
        None => say,
    }
}

/// The prompt as written in the flow.
pub(crate) fn audio_name(audio: &Audio) -> &str {
    match audio {
        Audio::Url(u) => u,
        Audio::File { name, .. } => name,
    }
}

/// A prompt nested in `<Gather>` as a top-level verb.
pub(crate) fn to_verb(prompt: tw::GatherPrompt) -> tw::Verb {
    match prompt {
        tw::GatherPrompt::Say(s) => tw::Verb::Say(s),
        tw::GatherPrompt::Play(p) => tw::Verb::Play(p),
        tw::GatherPrompt::Pause(p) => tw::Verb::Pause(p),
    }
}

/// The `<Gather>` of an `ask` node: every result, empty ones included, comes back to `action`.
pub(crate) fn gather(
    ask: &Ask,
    call_language: &str,
    action: String,
    prompts: Vec<tw::GatherPrompt>,
) -> tw::Gather {
    let input = match ask.input {
        InputMode::Speech => tw::GatherInput::SPEECH,
        InputMode::Dtmf => tw::GatherInput::DTMF,
        InputMode::Both => tw::GatherInput::BOTH,
    };
    let mut g = tw::Gather::new()
        .with_input(input)
        .with_action(action)
        .with_method(tw::Method::Post)
        .with_timeout(ask.timeout_secs)
        .with_action_on_empty_result(true);
    if input.speech {
        let language = ask.language.as_deref().unwrap_or(call_language);
        g = g
            .with_speech_timeout(match ask.speech_timeout {
                SpeechTimeout::Auto => tw::SpeechTimeout::Auto,
                SpeechTimeout::Seconds(n) => tw::SpeechTimeout::Seconds(n),
            })
            .with_language(language);
        if let Some(hints) = ask.hints.get(language)
            && !hints.is_empty()
        {
            g = g.with_hints(hints.join(", "));
        }
    }
    if input.dtmf {
        if let Some(n) = ask.num_digits {
            g = g.with_num_digits(n);
        }
        if let Some(k) = ask.finish_on_key {
            g = g.with_finish_on_key(k.to_string());
        }
    }
    g.prompts = prompts;
    g
}

/// A dial target known only at run time (`{{ transfer_to }}`), cleaned like the checker does:
/// spaces, dots, dashes, parentheses and `(0)` removed; E.164 (`+` and 8-15 digits), a short
/// number (2-15 digits) or a `sip:`/`sips:` URI with `user@host`. `None` when invalid.
pub(crate) fn runtime_dial_target(raw: &str) -> Option<tw::DialTarget> {
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let rest = raw.split_once(':').map(|(_, r)| r).unwrap_or("");
        let ok = rest
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty())
            && !raw
                .chars()
                .any(|c| c.is_whitespace() || c == '<' || c == '>');
        return ok.then(|| tw::DialTarget::sip(raw));
    }
    let cleaned: String = raw
        .replace("(0)", "")
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let (plus, digits) = match cleaned.strip_prefix('+') {
        Some(d) => (true, d),
        None => (false, cleaned.as_str()),
    };
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let len_ok = if plus {
        (8..=15).contains(&digits.len())
    } else {
        (2..=15).contains(&digits.len())
    };
    (all_digits && len_ok).then(|| tw::DialTarget::number(cleaned.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_numbers() {
        let n = |s: &str| runtime_dial_target(s).map(|t| t.describe());
        assert_eq!(n("+33 1 99 00 12 34"), Some("number +33199001234".into()));
        assert_eq!(
            n("+44 (0)20 7946 0018"),
            Some("number +442079460018".into())
        );
        assert_eq!(n("15"), Some("number 15".into()));
        assert_eq!(
            n("sip:agent@pbx.example.com"),
            Some("sip sip:agent@pbx.example.com".into())
        );
        assert_eq!(n(""), None);
        assert_eq!(n("call the boss"), None);
        assert_eq!(n("+123"), None);
        assert_eq!(n("sip:example.com"), None);
    }
}
