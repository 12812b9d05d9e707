//! What a `<Gather>` or `<Record>` collects from the caller's script: pure decisions, no I/O.
//!
//! Twilio's rules, as documented for `<Gather>`: input is awaited for `timeout` seconds after
//! the prompts; speech ends after `speechTimeout` seconds of silence (`auto`: about a second);
//! digits stop at `numDigits` or at `finishOnKey` (which is not included; pressed first, it gives
//! an empty result); speech to a DTMF-only gather (or keys to a speech-only one) is not heard.

use crate::script::{Script, Step};
use hotline_twilio::twiml::{Gather, Record, SpeechTimeout};
use std::time::Duration;

/// Time the caller takes per key press.
pub const KEY_PRESS: Duration = Duration::from_millis(300);
/// The pause `speechTimeout="auto"` waits for.
pub const AUTO_SPEECH_TIMEOUT: Duration = Duration::from_millis(1000);

/// Estimated time to speak `text` (about 14 characters a second, at least 400 ms).
pub fn speech_duration(text: &str) -> Duration {
    let chars = text.chars().count() as u64;
    Duration::from_millis((chars * 1000 / 14).max(400))
}

/// What a `<Gather>` got.
#[derive(Debug, Clone, PartialEq)]
pub enum GatherResult {
    /// Recognised speech.
    Speech {
        /// `SpeechResult`.
        text: String,
        /// `Confidence`.
        confidence: f32,
        /// Emulated time the gather took after its prompts.
        took: Duration,
    },
    /// Keys.
    Digits {
        /// `Digits`.
        digits: String,
        /// Time taken.
        took: Duration,
        /// Whether the finish key ended the entry.
        finished_by_key: bool,
    },
    /// Nothing usable before the timeout.
    Empty {
        /// Time taken.
        took: Duration,
        /// Why, for the transcript.
        why: String,
    },
    /// The caller hung up while the gather listened.
    CallerHangup {
        /// Time taken.
        took: Duration,
    },
}

/// Decides what `gather` collects, consuming script steps (and leaving unused silence).
/// `audio_text` gives the words of an audio step (its `text`), `default_confidence` the
/// confidence reported when the step does not set one. Caller actions are reported through
/// `on_step` for the transcript.
pub fn run_gather(
    gather: &Gather,
    script: &mut Script,
    default_confidence: f32,
    mut on_step: impl FnMut(&Step),
) -> GatherResult {
    let input = gather.input_or_default();
    let timeout = Duration::from_secs(u64::from(gather.timeout_secs()));
    let speech_tail = match gather.speech_timeout {
        Some(SpeechTimeout::Seconds(s)) => Duration::from_secs(u64::from(s)),
        Some(SpeechTimeout::Auto) => AUTO_SPEECH_TIMEOUT,
        // Without speechTimeout, Twilio uses `timeout` to end speech too.
        None => timeout,
    };
    let mut waited = Duration::ZERO;
    loop {
        let Some(step) = script.pop() else {
            return GatherResult::Empty {
                took: timeout.saturating_sub(waited) + waited,
                why: "no input (the caller's script is over)".to_owned(),
            };
        };
        match &step {
            Step::Listen(_) => continue,
            _ => on_step(&step),
        }
        match step {
            Step::Listen(_) => {}
            Step::Hangup => return GatherResult::CallerHangup { took: waited },
            Step::Silence(d) => {
                if waited + d >= timeout {
                    let rest = (waited + d) - timeout;
                    if !rest.is_zero() {
                        script.push_front(Step::Silence(rest));
                    }
                    return GatherResult::Empty {
                        took: timeout,
                        why: format!("no input within {}s", timeout.as_secs()),
                    };
                }
                waited += d;
            }
            Step::Say { text, confidence } => {
                let spoken = speech_duration(&text);
                if input.speech {
                    if text.trim().is_empty() {
                        return GatherResult::Empty {
                            took: waited + spoken + speech_tail,
                            why: "speech not recognised".to_owned(),
                        };
                    }
                    return GatherResult::Speech {
                        text,
                        confidence: confidence.unwrap_or(default_confidence),
                        took: waited + spoken + speech_tail,
                    };
                }
                // Not listening for speech: it is just noise while the timeout runs.
                waited += spoken;
                if waited >= timeout {
                    return GatherResult::Empty {
                        took: waited,
                        why: "speech ignored (the gather listens for keys only)".to_owned(),
                    };
                }
            }
            Step::Audio { path, text } => {
                let words = text.unwrap_or_default();
                let spoken = script
                    .audio_length(&path)
                    .unwrap_or_else(|| speech_duration(&words));
                if input.speech && !words.trim().is_empty() {
                    return GatherResult::Speech {
                        text: words,
                        confidence: default_confidence,
                        took: waited + spoken + speech_tail,
                    };
                }
                return GatherResult::Empty {
                    took: waited + spoken + speech_tail,
                    why: "audio not recognised (give the audio step a `text`)".to_owned(),
                };
            }
            Step::Press(keys) => {
                if !input.dtmf {
                    waited += KEY_PRESS * u32::try_from(keys.len()).unwrap_or(u32::MAX);
                    if waited >= timeout {
                        return GatherResult::Empty {
                            took: waited,
                            why: "keys ignored (the gather listens for speech only)".to_owned(),
                        };
                    }
                    continue;
                }
                return collect_digits(gather, &keys, waited, timeout);
            }
        }
    }
}

fn collect_digits(
    gather: &Gather,
    keys: &str,
    waited: Duration,
    timeout: Duration,
) -> GatherResult {
    let finish = gather.finish_key();
    let max = gather.num_digits.map(|n| n as usize);
    let mut digits = String::new();
    let mut took = waited;
    let mut finished_by_key = false;
    for key in keys.chars().filter(|c| *c != 'w') {
        took += KEY_PRESS;
        if Some(key) == finish {
            finished_by_key = true;
            break;
        }
        digits.push(key);
        if max.is_some_and(|m| digits.chars().count() >= m) {
            break;
        }
    }
    let complete = finished_by_key || max.is_some_and(|m| digits.chars().count() >= m);
    if !complete {
        // Twilio waits `timeout` for another key before submitting.
        took += timeout;
    }
    if digits.is_empty() {
        return GatherResult::Empty {
            took,
            why: "finish key pressed before any digit".to_owned(),
        };
    }
    GatherResult::Digits {
        digits,
        took,
        finished_by_key,
    }
}

/// What a `<Record>` got.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordResult {
    /// Audio was recorded.
    Recorded {
        /// Length of the recording.
        length: Duration,
        /// The words in it, when scripted.
        text: Option<String>,
        /// The key that ended it, or `hangup`.
        digits: Option<String>,
        /// Time taken, including the closing silence.
        took: Duration,
        /// Whether the caller hung up (the call ends after the action).
        hung_up: bool,
    },
    /// Nothing was recorded: Twilio moves on to the next verb.
    Empty {
        /// Time taken.
        took: Duration,
    },
    /// The caller hung up before saying anything.
    CallerHangup,
}

/// Decides what `record` captures from the script.
pub fn run_record(
    record: &Record,
    script: &mut Script,
    mut on_step: impl FnMut(&Step),
) -> RecordResult {
    let timeout = Duration::from_secs(u64::from(record.timeout_secs()));
    let max_len = Duration::from_secs(u64::from(record.max_length_secs()));
    let finish_keys = record
        .finish_on_key
        .clone()
        .unwrap_or_else(|| "1234567890*#".to_owned());
    let mut length = Duration::ZERO;
    let mut words: Vec<String> = Vec::new();
    let mut waited = Duration::ZERO;
    loop {
        let Some(step) = script.pop() else {
            return finish_record(length, words, None, length + timeout, false);
        };
        if !matches!(step, Step::Listen(_)) {
            on_step(&step);
        }
        match step {
            Step::Listen(_) => {}
            Step::Say { text, .. } => {
                length += speech_duration(&text) + waited;
                waited = Duration::ZERO;
                words.push(text);
            }
            Step::Audio { path, text } => {
                let t = text.unwrap_or_default();
                length += script
                    .audio_length(&path)
                    .unwrap_or_else(|| speech_duration(&t))
                    + waited;
                waited = Duration::ZERO;
                if !t.is_empty() {
                    words.push(t);
                }
            }
            Step::Silence(d) => {
                if waited + d >= timeout {
                    let rest = (waited + d) - timeout;
                    if !rest.is_zero() {
                        script.push_front(Step::Silence(rest));
                    }
                    return finish_record(length, words, None, length + timeout, false);
                }
                waited += d;
            }
            Step::Press(keys) => {
                if let Some(k) = keys.chars().find(|c| finish_keys.contains(*c)) {
                    return finish_record(
                        length,
                        words,
                        Some(k.to_string()),
                        length + KEY_PRESS,
                        false,
                    );
                }
            }
            Step::Hangup => {
                if length.is_zero() {
                    return RecordResult::CallerHangup;
                }
                return finish_record(length, words, Some("hangup".to_owned()), length, true);
            }
        }
        if length >= max_len {
            return finish_record(max_len, words, None, max_len, false);
        }
    }
}

fn finish_record(
    length: Duration,
    words: Vec<String>,
    digits: Option<String>,
    took: Duration,
    hung_up: bool,
) -> RecordResult {
    if length.is_zero() {
        return RecordResult::Empty { took };
    }
    RecordResult::Recorded {
        length,
        text: (!words.is_empty()).then(|| words.join(" ")),
        digits,
        took,
        hung_up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_twilio::twiml::GatherInput;

    fn say(t: &str) -> Step {
        Step::Say {
            text: t.into(),
            confidence: None,
        }
    }

    #[test]
    fn long_silence_times_out_and_leaves_the_rest() {
        let g = Gather::new()
            .with_input(GatherInput::SPEECH)
            .with_timeout(5);
        let mut s = Script::new([Step::Silence(Duration::from_secs(12)), say("oui")]);
        let r = run_gather(&g, &mut s, 0.9, |_| {});
        assert!(matches!(r, GatherResult::Empty { took, .. } if took == Duration::from_secs(5)));
        assert_eq!(s.peek(), Some(&Step::Silence(Duration::from_secs(7))));
    }

    #[test]
    fn short_silence_then_speech_is_heard() {
        let g = Gather::new()
            .with_input(GatherInput::SPEECH)
            .with_speech_timeout(SpeechTimeout::Seconds(3));
        let mut s = Script::new([Step::Silence(Duration::from_secs(2)), say("oui")]);
        match run_gather(&g, &mut s, 0.9, |_| {}) {
            GatherResult::Speech { text, took, .. } => {
                assert_eq!(text, "oui");
                assert_eq!(took, Duration::from_millis(2000 + 400 + 3000));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn digits_follow_num_digits_and_finish_key() {
        let g = Gather::new().with_num_digits(2);
        let mut s = Script::new([Step::Press("123".into())]);
        assert!(
            matches!(run_gather(&g, &mut s, 0.9, |_| {}), GatherResult::Digits { digits, .. } if digits == "12")
        );

        let g = Gather::new();
        let mut s = Script::new([Step::Press("42#".into())]);
        assert!(matches!(run_gather(&g, &mut s, 0.9, |_| {}),
            GatherResult::Digits { digits, finished_by_key: true, .. } if digits == "42"));

        let mut s = Script::new([Step::Press("#".into())]);
        assert!(matches!(
            run_gather(&g, &mut s, 0.9, |_| {}),
            GatherResult::Empty { .. }
        ));
    }

    #[test]
    fn input_kinds_are_respected() {
        let dtmf_only = Gather::new();
        let mut s = Script::new([say("one"), Step::Silence(Duration::from_secs(10))]);
        assert!(matches!(
            run_gather(&dtmf_only, &mut s, 0.9, |_| {}),
            GatherResult::Empty { .. }
        ));

        let speech_only = Gather::new().with_input(GatherInput::SPEECH);
        let mut s = Script::new([Step::Press("1".into()), say("sales")]);
        assert!(matches!(
            run_gather(&speech_only, &mut s, 0.9, |_| {}),
            GatherResult::Speech { .. }
        ));

        let mut s = Script::new([Step::Hangup]);
        assert!(matches!(
            run_gather(&speech_only, &mut s, 0.9, |_| {}),
            GatherResult::CallerHangup { .. }
        ));
    }

    #[test]
    fn record_times_audio_by_its_file() {
        let path = std::path::PathBuf::from("caller.wav");
        let audio = Step::Audio {
            path: path.clone(),
            text: Some("call me back".into()),
        };
        let mut s = Script::new([audio.clone(), Step::Press("#".into())]).with_audio_lengths(
            std::collections::HashMap::from([(path, Duration::from_millis(3620))]),
        );
        match run_record(&Record::new(), &mut s, |_| {}) {
            RecordResult::Recorded { length, .. } => {
                assert_eq!(length, Duration::from_millis(3620));
            }
            other => panic!("{other:?}"),
        }
        // Unmeasured (the file could not be read): timed by its words.
        let mut s = Script::new([audio, Step::Press("#".into())]);
        match run_record(&Record::new(), &mut s, |_| {}) {
            RecordResult::Recorded { length, .. } => {
                assert_eq!(length, speech_duration("call me back"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn record_captures_speech_until_silence_or_key() {
        let r = Record::new();
        let mut s = Script::new([
            say("please call me back"),
            Step::Silence(Duration::from_secs(6)),
        ]);
        match run_record(&r, &mut s, |_| {}) {
            RecordResult::Recorded { text, digits, .. } => {
                assert_eq!(text.as_deref(), Some("please call me back"));
                assert_eq!(digits, None);
            }
            other => panic!("{other:?}"),
        }
        let mut s = Script::new([say("hello"), Step::Press("#".into())]);
        assert!(
            matches!(run_record(&r, &mut s, |_| {}), RecordResult::Recorded { digits: Some(d), .. } if d == "#")
        );
        let mut s = Script::new([Step::Silence(Duration::from_secs(9))]);
        assert!(matches!(
            run_record(&r, &mut s, |_| {}),
            RecordResult::Empty { .. }
        ));
    }
}
