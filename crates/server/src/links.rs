//! URL building for the runtime: action URLs carrying the step counter, signed prompt URLs,
//! flow entry URLs — all on the server's public base (what Twilio sees, behind any proxy).

use crate::prompts::PromptSigner;
use hotline_flow::runtime::{Links, Session};
use hotline_flow::{Audio, Bot, Flow, PromptBase};
use hotline_twilio::signature::PublicBase;
use std::collections::BTreeSet;

/// The server's URL scheme.
#[derive(Debug, Clone)]
pub struct ServerLinks {
    /// The externally visible base URL.
    pub public: PublicBase,
    /// Signs prompt URLs.
    pub signer: PromptSigner,
    /// Transfer target when a flow fails, if any.
    pub error_transfer: Option<String>,
    /// The voice bots served (a flow's `bot` node hands the call to one of them).
    pub bots: BTreeSet<String>,
}

/// [`ServerLinks`] at a given time (prompt URLs expire relative to it).
pub struct LinksAt<'a> {
    links: &'a ServerLinks,
    now_unix: u64,
}

impl ServerLinks {
    /// Links valid from `now_unix`.
    pub fn at(&self, now_unix: u64) -> LinksAt<'_> {
        LinksAt {
            links: self,
            now_unix,
        }
    }

    /// The voice URL of a flow: `{public}/flows/{id}/voice`.
    pub fn flow_entry_url(&self, flow_id: &str) -> String {
        self.public.http_url(&flow_voice_path(flow_id))
    }

    /// The step URL of a flow: `{public}/flows/{id}/step?seq=N`. Built on every webhook, so in
    /// one allocation.
    pub fn step_url(&self, flow_id: &str, seq: u64) -> String {
        self.public.http_url_with(flow_id.len() + 40, |out| {
            out.push_str("/flows/");
            push_segment(out, flow_id);
            out.push_str("/step?seq=");
            out.push_str(itoa::Buffer::new().format(seq));
        })
    }
}

/// The path of a flow's voice webhook, `/flows/{id}/voice`, its id escaped.
pub fn flow_voice_path(flow_id: &str) -> String {
    format!("/flows/{}/voice", encode(flow_id))
}

/// Where Twilio posts the transcription of a recording made at `node`:
/// `{public}/flows/{id}/transcription?seq=N&node=NODE`.
fn transcription_url(public: &PublicBase, flow_id: &str, seq: u64, node: &str) -> String {
    public.http_url(&format!(
        "/flows/{}/transcription?seq={seq}&node={}",
        encode(flow_id),
        encode(node)
    ))
}

/// Where a bot hands a call back to its flow: `{public}/flows/{id}/step?seq=N&bot=done`.
pub fn bot_return_url(public: &PublicBase, flow_id: &str, seq: u64) -> String {
    public.http_url(&format!(
        "/flows/{}/step?seq={seq}&bot=done",
        encode(flow_id)
    ))
}

/// Percent-encodes one path segment (a space is `%20`: in a path, `+` means a plus sign).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    push_segment(&mut out, segment);
    out
}

/// Appends `segment` percent-encoded: ASCII letters, digits and `*-._` as they are (the set
/// `application/x-www-form-urlencoded` leaves alone), every other byte as `%XX`.
fn push_segment(out: &mut String, segment: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

impl Links for LinksAt<'_> {
    fn action(&self, session: &Session) -> String {
        self.links.step_url(&session.flow_id, session.seq)
    }

    fn prompt(&self, flow: &Flow, audio: &Audio, _language: &str) -> Option<String> {
        match audio {
            Audio::Url(u) => Some(u.clone()),
            Audio::File { resolved, .. } => match &flow.prompt_base {
                PromptBase::Http(prefix) => Some(format!(
                    "{}/{}",
                    prefix.trim_end_matches('/'),
                    resolved.trim_start_matches('/')
                )),
                // Local folders and S3 are both served through our signed prompt URLs; for S3
                // the prompt handler answers with a redirect to a freshly presigned S3 URL.
                // Signed once per prompt and expiry minute, then cached.
                PromptBase::Local(_) | PromptBase::S3 { .. } => Some(self.links.signer.url(
                    &flow.id,
                    resolved,
                    self.now_unix,
                    |query| {
                        let path: Vec<String> = resolved.split('/').map(encode).collect();
                        let path = path.join("/");
                        self.links
                            .public
                            .http_url(&format!("/prompts/{}/{path}?{query}", encode(&flow.id)))
                    },
                )),
                PromptBase::None => None,
            },
        }
    }

    fn flow_entry(&self, flow_id: &str) -> String {
        self.links.flow_entry_url(flow_id)
    }

    fn error_transfer(&self, _flow: &Flow) -> Option<String> {
        self.links.error_transfer.clone()
    }

    fn transcription(&self, session: &Session, node: &str) -> Option<String> {
        Some(transcription_url(
            &self.links.public,
            &session.flow_id,
            session.seq,
            node,
        ))
    }

    fn bot_entry(&self, session: &Session, bot: &Bot) -> Option<String> {
        if !self.links.bots.contains(&bot.name) {
            return None;
        }
        Some(self.links.public.http_url(&format!(
            "/bots/{}/voice?flow={}&seq={}&max={}",
            encode(&bot.name),
            encode(&session.flow_id),
            session.seq,
            bot.max_duration_secs
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn path_segments_encode_spaces_as_percent_20() {
        assert_eq!(
            encode("bonjour à tous+1.wav"),
            "bonjour%20%C3%A0%20tous%2B1.wav"
        );
        assert_eq!(encode("covid-triage_fr.v2*"), "covid-triage_fr.v2*");
        assert_eq!(encode("a/b?c#d&e=f%"), "a%2Fb%3Fc%23d%26e%3Df%25");
    }

    #[test]
    fn segments_encode_as_form_urlencoding_does_with_spaces_as_percent_20() {
        for s in [
            "",
            "x",
            "é è ü",
            "\u{1F600}~!'()",
            "tab\there",
            "+ +",
            "A-z_0.9*",
        ] {
            let reference = url::form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            assert_eq!(encode(s), reference, "{s:?}");
        }
    }
}
