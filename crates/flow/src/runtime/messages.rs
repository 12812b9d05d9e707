//! The few sentences the runtime speaks on its own, in the call's language: the apology when
//! something went wrong, and the notice that a transfer or bot is unavailable.
//!
//! Chosen by the language's primary subtag (`fr-FR` → `fr`), English otherwise. Static text
//! only; no templates, no I/O.

/// A built-in sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// Internal error; the call ends.
    Apology,
    /// Internal error; the caller is transferred.
    ApologyTransfer,
    /// A transfer or queue failed and the flow has nowhere to go.
    Unavailable,
    /// The voice assistant cannot take the call.
    BotUnavailable,
}

pub(crate) fn text(message: Message, language: &str) -> &'static str {
    let primary = language.split(['-', '_']).next().unwrap_or("");
    let lang = primary.to_ascii_lowercase();
    match (lang.as_str(), message) {
        ("fr", Message::Apology) => {
            "Nous sommes désolés, un problème technique nous empêche de traiter votre appel. \
             Merci de rappeler plus tard. Au revoir."
        }
        ("fr", Message::ApologyTransfer) => {
            "Nous sommes désolés, un problème technique est survenu. \
             Nous vous transférons vers un correspondant."
        }
        ("fr", Message::Unavailable) => {
            "Nous sommes désolés, personne ne peut prendre votre appel pour le moment. \
             Merci de rappeler plus tard. Au revoir."
        }
        ("fr", Message::BotUnavailable) => "L'assistant vocal n'est pas disponible pour le moment.",
        ("es", Message::Apology) => {
            "Lo sentimos, un problema técnico nos impide atender su llamada. \
             Por favor, vuelva a llamar más tarde. Adiós."
        }
        ("es", Message::ApologyTransfer) => {
            "Lo sentimos, se ha producido un problema técnico. Le transferimos con un agente."
        }
        ("es", Message::Unavailable) => {
            "Lo sentimos, nadie puede atender su llamada en este momento. \
             Por favor, vuelva a llamar más tarde. Adiós."
        }
        ("es", Message::BotUnavailable) => "El asistente de voz no está disponible ahora.",
        ("de", Message::Apology) => {
            "Es tut uns leid, ein technisches Problem verhindert die Bearbeitung Ihres Anrufs. \
             Bitte rufen Sie später noch einmal an. Auf Wiederhören."
        }
        ("de", Message::ApologyTransfer) => {
            "Es tut uns leid, ein technisches Problem ist aufgetreten. Wir verbinden Sie weiter."
        }
        ("de", Message::Unavailable) => {
            "Es tut uns leid, im Moment kann niemand Ihren Anruf entgegennehmen. \
             Bitte rufen Sie später noch einmal an. Auf Wiederhören."
        }
        ("de", Message::BotUnavailable) => "Der Sprachassistent ist im Moment nicht verfügbar.",
        (_, Message::Apology) => {
            "We are sorry, a technical problem prevents us from handling your call. \
             Please call again later. Goodbye."
        }
        (_, Message::ApologyTransfer) => {
            "We are sorry, a technical problem occurred. We are transferring you now."
        }
        (_, Message::Unavailable) => {
            "We are sorry, nobody can take your call right now. Please call again later. Goodbye."
        }
        (_, Message::BotUnavailable) => "The voice assistant is not available right now.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_primary_subtag() {
        assert!(text(Message::Apology, "fr-FR").starts_with("Nous sommes désolés"));
        assert!(text(Message::Apology, "FR-ca").starts_with("Nous sommes désolés"));
        assert!(text(Message::Apology, "en-US").starts_with("We are sorry"));
        assert!(text(Message::Apology, "ja-JP").starts_with("We are sorry"));
        assert!(text(Message::Apology, "").starts_with("We are sorry"));
    }
}
