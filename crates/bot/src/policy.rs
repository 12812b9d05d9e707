//! [`ReplyPolicy`]: from an engine's reply to what happens to the call; [`fallback_reply`]: what
//! the caller hears when the engine fails.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{CallAction, EngineError, IntentState, Reply};

/// Turns an engine's raw reply into a [`CallAction`], per intent. The seed's default: say the
/// messages, hang up after a fulfilled goodbye intent, otherwise keep listening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplyPolicy {
    /// Intents that end the call once fulfilled. Default: `Goodbye`, `GoodbyeIntent`.
    pub goodbye_intents: BTreeSet<String>,
    /// Intents that transfer the call once fulfilled (or ready for fulfilment): intent → number.
    pub transfer: BTreeMap<String, String>,
    /// Intents that hand the call back to the flow once fulfilled (or ready for fulfilment).
    pub return_to_flow: BTreeSet<String>,
    /// Where to transfer the caller after an engine error (instead of retrying), if anywhere.
    pub on_error_transfer: Option<String>,
}

impl Default for ReplyPolicy {
    fn default() -> Self {
        ReplyPolicy {
            goodbye_intents: ["Goodbye", "GoodbyeIntent"].map(str::to_owned).into(),
            transfer: BTreeMap::new(),
            return_to_flow: BTreeSet::new(),
            on_error_transfer: None,
        }
    }
}

impl ReplyPolicy {
    /// The action for `reply`. An action the engine already decided (not `Continue`) is kept.
    pub fn action(&self, reply: &Reply) -> CallAction {
        if reply.action != CallAction::Continue {
            return reply.action.clone();
        }
        let Some(intent) = &reply.intent else {
            return CallAction::Continue;
        };
        let done = matches!(
            intent.state,
            IntentState::Fulfilled | IntentState::ReadyForFulfillment
        );
        if !done {
            return CallAction::Continue;
        }
        if let Some(number) = self.transfer.get(&intent.name) {
            return CallAction::Transfer(number.clone());
        }
        if self.return_to_flow.contains(&intent.name) {
            return CallAction::ReturnToFlow;
        }
        if intent.state == IntentState::Fulfilled && self.goodbye_intents.contains(&intent.name) {
            return CallAction::Hangup;
        }
        CallAction::Continue
    }

    /// `reply` with its action decided by [`ReplyPolicy::action`].
    pub fn apply(&self, mut reply: Reply) -> Reply {
        reply.action = self.action(&reply);
        reply
    }

    /// What the caller hears after `error`: an apology in `locale`, then a retry (or the
    /// configured transfer). See [`fallback_reply`].
    pub fn fallback(&self, locale: &str, error: &EngineError) -> Reply {
        self.transferred(fallback_reply(locale, error))
    }

    /// What the caller hears when the bot cannot take the call at all (the server is at its
    /// stream limit; no engine turn was tried): that the service is unavailable, then the
    /// configured transfer, or a hang-up.
    pub fn unavailable(&self, locale: &str) -> Reply {
        self.transferred(apology(locale, false))
    }

    /// `reply`, sent to the configured transfer number if there is one.
    fn transferred(&self, mut reply: Reply) -> Reply {
        if let Some(number) = &self.on_error_transfer {
            reply.action = CallAction::Transfer(number.clone());
        }
        reply
    }
}

/// An apology in `locale` (French, Spanish, German, Portuguese, Italian; English otherwise) that
/// keeps listening, so the caller can say it again. A configuration error cannot heal by
/// retrying, so the apology then says the service is unavailable and the call hangs up, unless
/// [`ReplyPolicy::fallback`] transfers it.
pub fn fallback_reply(locale: &str, error: &EngineError) -> Reply {
    apology(
        locale,
        error.is_retryable() || matches!(error, EngineError::BadResponse(_)),
    )
}

/// The apology in `locale`: asking to repeat and listening on (`retry`), or saying the service
/// is unavailable and hanging up.
fn apology(locale: &str, retry: bool) -> Reply {
    let lang = locale
        .split(['_', '-'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let text = match (lang.as_str(), retry) {
        ("fr", true) => "Désolé, je n'ai pas pu traiter votre demande. Pouvez-vous répéter ?",
        ("fr", false) => "Désolé, ce service est momentanément indisponible. Au revoir.",
        ("es", true) => "Lo siento, no pude procesar su solicitud. ¿Puede repetirlo?",
        ("es", false) => "Lo siento, este servicio no está disponible en este momento. Adiós.",
        ("de", true) => "Entschuldigung, das hat nicht geklappt. Können Sie das wiederholen?",
        ("de", false) => {
            "Entschuldigung, dieser Dienst ist gerade nicht verfügbar. Auf Wiederhören."
        }
        ("pt", true) => "Desculpe, não consegui processar o seu pedido. Pode repetir?",
        ("pt", false) => "Desculpe, este serviço está indisponível no momento. Adeus.",
        ("it", true) => "Mi scusi, non sono riuscito a elaborare la richiesta. Può ripetere?",
        ("it", false) => "Mi scusi, il servizio non è al momento disponibile. Arrivederci.",
        (_, true) => "Sorry, I couldn't process that. Could you say it again?",
        (_, false) => "Sorry, this service is unavailable right now. Goodbye.",
    };
    let mut reply = Reply::say([text]);
    reply.action = if retry {
        CallAction::Continue
    } else {
        CallAction::Hangup
    };
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DialogAction, Intent};

    fn reply(intent: &str, state: IntentState) -> Reply {
        let mut r = Reply::say(["ok"]);
        r.intent = Some(Intent {
            name: intent.to_owned(),
            confidence: Some(0.9),
            state,
        });
        r.dialog = DialogAction::Close;
        r
    }

    #[test]
    fn default_hangs_up_after_fulfilled_goodbye_only() {
        let p = ReplyPolicy::default();
        assert_eq!(
            p.action(&reply("Goodbye", IntentState::Fulfilled)),
            CallAction::Hangup
        );
        assert_eq!(
            p.action(&reply("Goodbye", IntentState::InProgress)),
            CallAction::Continue
        );
        assert_eq!(
            p.action(&reply("Goodbye", IntentState::Failed)),
            CallAction::Continue
        );
        assert_eq!(
            p.action(&reply("BookAppointment", IntentState::Fulfilled)),
            CallAction::Continue
        );
        assert_eq!(p.action(&Reply::say(["hi"])), CallAction::Continue);
    }

    #[test]
    fn transfer_and_return_to_flow_per_intent() {
        let p: ReplyPolicy = serde_json::from_value(serde_json::json!({
            "transfer": {"Agent": "+33123456789"},
            "return_to_flow": ["Menu"],
            "goodbye_intents": ["Bye"]
        }))
        .unwrap();
        assert_eq!(
            p.action(&reply("Agent", IntentState::ReadyForFulfillment)),
            CallAction::Transfer("+33123456789".into())
        );
        assert_eq!(
            p.action(&reply("Agent", IntentState::InProgress)),
            CallAction::Continue
        );
        assert_eq!(
            p.action(&reply("Menu", IntentState::Fulfilled)),
            CallAction::ReturnToFlow
        );
        assert_eq!(
            p.action(&reply("Bye", IntentState::Fulfilled)),
            CallAction::Hangup
        );
        assert_eq!(
            p.action(&reply("Goodbye", IntentState::Fulfilled)),
            CallAction::Continue
        );
        let applied = p.apply(reply("Menu", IntentState::Fulfilled));
        assert_eq!(applied.action, CallAction::ReturnToFlow);
    }

    #[test]
    fn engine_decided_action_is_kept() {
        let mut r = reply("Other", IntentState::InProgress);
        r.action = CallAction::Hangup;
        assert_eq!(ReplyPolicy::default().action(&r), CallAction::Hangup);
    }

    #[test]
    fn unknown_policy_fields_are_rejected() {
        let e = serde_json::from_value::<ReplyPolicy>(serde_json::json!({"goodby": []}));
        assert!(e.is_err());
    }

    #[test]
    fn fallback_apologises_in_the_locale() {
        let t = EngineError::Timeout {
            engine: "lex",
            ms: 10,
        };
        let fr = fallback_reply("fr_FR", &t);
        assert!(fr.messages[0].starts_with("Désolé"));
        assert_eq!(fr.action, CallAction::Continue);
        assert!(fallback_reply("es-ES", &t).messages[0].starts_with("Lo siento"));
        assert!(fallback_reply("en_US", &t).messages[0].starts_with("Sorry"));
        assert!(fallback_reply("xx", &t).messages[0].starts_with("Sorry"));
        let config = EngineError::Configuration("denied".into());
        assert_eq!(fallback_reply("en_GB", &config).action, CallAction::Hangup);
        let p = ReplyPolicy {
            on_error_transfer: Some("+15550100".into()),
            ..ReplyPolicy::default()
        };
        let r = p.fallback("en_US", &config);
        assert_eq!(r.action, CallAction::Transfer("+15550100".into()));
        assert!(!r.messages.is_empty());
    }

    #[test]
    fn unavailable_says_so_then_hangs_up_or_transfers() {
        let r = ReplyPolicy::default().unavailable("fr-FR");
        assert!(r.messages[0].contains("indisponible"), "{:?}", r.messages);
        assert_eq!(r.action, CallAction::Hangup);
        let p = ReplyPolicy {
            on_error_transfer: Some("+15550100".into()),
            ..ReplyPolicy::default()
        };
        let r = p.unavailable("en-US");
        assert!(r.messages[0].contains("unavailable"), "{:?}", r.messages);
        assert_eq!(r.action, CallAction::Transfer("+15550100".into()));
    }
}
