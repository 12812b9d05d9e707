//! Lex V2's JSON shapes and header encoding: gzip + base64 JSON, both ways, and the conversion of
//! a Lex answer into a [`Reply`].

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use hotline_bot::{CallAction, DialogAction, EngineError, Intent, IntentState, Reply};
use serde::{Deserialize, Serialize};

/// Lex's `sessionState` (the fields Hotline reads; the others are kept as they are).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// The next dialog step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog_action: Option<WireDialogAction>,
    /// The current intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<WireIntent>,
    /// Session attributes.
    #[serde(default)]
    pub session_attributes: BTreeMap<String, String>,
    /// Everything else (active contexts, runtime hints…), passed through.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Lex's `dialogAction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireDialogAction {
    /// `Close`, `ConfirmIntent`, `Delegate`, `ElicitIntent`, `ElicitSlot`, `None`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The slot asked for (`ElicitSlot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_to_elicit: Option<String>,
}

/// Lex's `intent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireIntent {
    /// The intent's name.
    pub name: String,
    /// Slots: name → slot (null when not filled).
    #[serde(default)]
    pub slots: BTreeMap<String, Option<WireSlot>>,
    /// `InProgress`, `ReadyForFulfillment`, `Fulfilled`, `Failed`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `None`, `Confirmed`, `Denied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_state: Option<String>,
}

/// A Lex slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireSlot {
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<WireValue>,
}

/// A slot value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireValue {
    /// What the caller said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_value: Option<String>,
    /// What Lex understood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreted_value: Option<String>,
    /// Possible resolutions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_values: Vec<String>,
}

/// A Lex message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMessage {
    /// The text (absent for image cards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// `PlainText`, `SSML`, `CustomPayload`, `ImageResponseCard`.
    pub content_type: String,
}

/// A Lex interpretation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireInterpretation {
    /// The intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<WireIntent>,
    /// The NLU confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nlu_confidence: Option<WireConfidence>,
}

/// An NLU confidence score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireConfidence {
    /// 0..=1.
    pub score: f64,
}

/// gzip, then base64 (standard alphabet): how Lex wants JSON headers.
pub fn encode_header(json: &impl Serialize) -> Result<String, EngineError> {
    let bytes = serde_json::to_vec(json)
        .map_err(|e| EngineError::BadResponse(format!("encoding a Lex header: {e}")))?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&bytes)
        .and_then(|()| gz.finish())
        .map(|z| STANDARD.encode(z))
        .map_err(|e| EngineError::BadResponse(format!("compressing a Lex header: {e}")))
}

/// base64, then gunzip: the raw bytes of a Lex header.
pub fn decode_header_bytes(name: &str, value: &str) -> Result<Vec<u8>, EngineError> {
    let bad = |what: String| EngineError::BadResponse(format!("Lex header `{name}`: {what}"));
    let zipped = STANDARD
        .decode(value.trim())
        .map_err(|e| bad(format!("not base64: {e}")))?;
    let mut out = Vec::new();
    GzDecoder::new(zipped.as_slice())
        .take(1 << 20)
        .read_to_end(&mut out)
        .map_err(|e| bad(format!("not gzip: {e}")))?;
    Ok(out)
}

/// base64, then gunzip, then JSON.
pub fn decode_header<T: for<'de> Deserialize<'de>>(
    name: &str,
    value: &str,
) -> Result<T, EngineError> {
    let bytes = decode_header_bytes(name, value)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| EngineError::BadResponse(format!("Lex header `{name}`: bad JSON: {e}")))
}

/// The `inputTranscript` header: a JSON string, or (tolerated) the bare text.
pub fn decode_transcript(value: &str) -> Result<String, EngineError> {
    let bytes = decode_header_bytes("inputTranscript", value)?;
    Ok(serde_json::from_slice::<String>(&bytes)
        .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned()))
}

fn intent_state(s: Option<&str>) -> IntentState {
    match s {
        Some("ReadyForFulfillment") => IntentState::ReadyForFulfillment,
        Some("FulfillmentInProgress") => IntentState::FulfillmentInProgress,
        Some("Waiting") => IntentState::Waiting,
        Some("Fulfilled") => IntentState::Fulfilled,
        Some("Failed") => IntentState::Failed,
        _ => IntentState::InProgress,
    }
}

/// Builds the [`Reply`] for a Lex answer (action [`CallAction::Continue`]: the
/// [`ReplyPolicy`](hotline_bot::ReplyPolicy) decides).
pub fn reply(
    messages: &[WireMessage],
    state: &SessionState,
    interpretations: &[WireInterpretation],
    transcript: Option<String>,
) -> Reply {
    let messages = messages
        .iter()
        .filter(|m| matches!(m.content_type.as_str(), "PlainText" | "SSML"))
        .filter_map(|m| m.content.clone())
        .filter(|m| !m.trim().is_empty())
        .collect();
    let intent = state
        .intent
        .as_ref()
        .filter(|i| !i.name.is_empty())
        .map(|i| {
            let confidence = interpretations
                .iter()
                .find(|x| x.intent.as_ref().is_some_and(|xi| xi.name == i.name))
                .and_then(|x| x.nlu_confidence.as_ref())
                .map(|c| c.score.clamp(0.0, 1.0) as f32);
            Intent {
                name: i.name.clone(),
                confidence,
                state: intent_state(i.state.as_deref()),
            }
        });
    let slots = state
        .intent
        .iter()
        .flat_map(|i| i.slots.iter())
        .filter_map(|(name, slot)| {
            let value = slot.as_ref()?.value.as_ref()?;
            let v = value
                .interpreted_value
                .clone()
                .or_else(|| value.original_value.clone())?;
            Some((name.clone(), v))
        })
        .collect();
    let dialog = match state.dialog_action.as_ref() {
        Some(d) => match (d.kind.as_str(), &d.slot_to_elicit) {
            ("ElicitSlot", Some(slot)) => DialogAction::ElicitSlot { slot: slot.clone() },
            ("ConfirmIntent", _) => DialogAction::ConfirmIntent,
            ("Close", _) => DialogAction::Close,
            ("Delegate", _) => DialogAction::Delegate,
            _ => DialogAction::ElicitIntent,
        },
        None => DialogAction::ElicitIntent,
    };
    Reply {
        messages,
        audio: None,
        transcript,
        intent,
        slots,
        dialog,
        action: CallAction::Continue,
    }
}

/// Lex `audio/pcm` replies (16 kHz, 16-bit little-endian) → 8 kHz mu-law for Twilio.
pub fn pcm16k_to_ulaw8k(bytes: &[u8]) -> Vec<u8> {
    let samples: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    // 16 kHz → 8 kHz is always a supported ratio; plain decimation is the never-taken fallback.
    let pcm8 = hotline_audio::resample::resample(&samples, 16_000, 8_000)
        .unwrap_or_else(|_| samples.iter().step_by(2).copied().collect());
    let mut out = Vec::with_capacity(pcm8.len());
    hotline_audio::g711::encode_ulaw(&pcm8, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_garbage_is_a_bad_response() {
        let state = SessionState {
            session_attributes: [("a".to_owned(), "1".to_owned())].into(),
            ..SessionState::default()
        };
        let h = encode_header(&state).unwrap();
        let back: SessionState = decode_header("sessionState", &h).unwrap();
        assert_eq!(back, state);
        assert!(matches!(
            decode_header::<SessionState>("sessionState", "%%%"),
            Err(EngineError::BadResponse(_))
        ));
        assert!(decode_header::<SessionState>("x", &STANDARD.encode("not gzip")).is_err());
        assert_eq!(
            decode_transcript(&encode_header(&"hi there").unwrap()).unwrap(),
            "hi there"
        );
    }

    #[test]
    fn a_lex_answer_becomes_a_reply() {
        let state: SessionState = serde_json::from_value(serde_json::json!({
            "dialogAction": {"type": "ElicitSlot", "slotToElicit": "Time"},
            "intent": {"name": "Book", "state": "InProgress", "confirmationState": "None",
                "slots": {"Date": {"value": {"originalValue": "tmrw", "interpretedValue": "2026-11-23", "resolvedValues": []}}, "Time": null}},
            "sessionAttributes": {},
            "activeContexts": []
        }))
        .unwrap();
        assert!(state.other.contains_key("activeContexts"));
        let messages = vec![
            WireMessage {
                content: Some("At what time?".into()),
                content_type: "PlainText".into(),
            },
            WireMessage {
                content: None,
                content_type: "ImageResponseCard".into(),
            },
        ];
        let interp = vec![WireInterpretation {
            intent: state.intent.clone(),
            nlu_confidence: Some(WireConfidence { score: 0.87 }),
        }];
        let r = reply(&messages, &state, &interp, Some("tomorrow".into()));
        assert_eq!(r.messages, ["At what time?"]);
        assert_eq!(
            r.dialog,
            DialogAction::ElicitSlot {
                slot: "Time".into()
            }
        );
        assert_eq!(r.slots.get("Date").map(String::as_str), Some("2026-11-23"));
        assert!(!r.slots.contains_key("Time"));
        let i = r.intent.unwrap();
        assert_eq!(i.state, IntentState::InProgress);
        assert!((i.confidence.unwrap() - 0.87).abs() < 1e-6);
    }

    #[test]
    fn pcm_replies_become_half_as_many_ulaw_bytes() {
        let bytes: Vec<u8> = (0..1600i16).flat_map(|i| (i * 10).to_le_bytes()).collect();
        let out = pcm16k_to_ulaw8k(&bytes);
        assert!((790..=810).contains(&out.len()), "{}", out.len());
    }
}
