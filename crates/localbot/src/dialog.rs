//! The dialog manager, sans-IO: one caller turn and the conversation's [`DialogState`] in, a
//! reply (or a webhook to call) out.
//!
//! Elicit the intent → fill slots from the utterance (the matched sample's placeholders, then a
//! scan per slot type) → ask for missing required slots in order (prompt, then reprompts, up to
//! the locale's `max_retries`, then `give_up`) → validate → confirm (yes/no) → fulfil (a
//! templated message, or a [`WebhookCall`] the driver performs and answers with
//! [`Dialog::after_webhook`]) → `then`. A confident other intent mid-dialog switches to it.
//!
//! No clock, no network, no async: today's date and the intent ranking come in as arguments, and
//! the state is plain serde data stored in `BotSession::engine_state` between turns.

use std::collections::BTreeMap;

use hotline_bot::{CallAction, DialogAction, Intent, IntentState, Reply};
use serde::{Deserialize, Serialize};

use crate::bot::{Bot, CompiledIntent, CompiledLocale};
use crate::classify::Scored;
use crate::model::{IntentDef, Locale, ScoreRule, Then};
use crate::slots::{Date, Kind, Slots, within, yes_no};
use crate::text::tokens;

/// Confidence above which an utterance mid-dialog switches to another intent.
pub const SWITCH_CONFIDENCE: f32 = 0.8;

/// Where the conversation stands (kept between turns).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DialogState {
    /// The intent in progress.
    #[serde(default)]
    pub intent: Option<String>,
    /// Its confidence when recognised.
    #[serde(default)]
    pub confidence: Option<f32>,
    /// Slots filled so far.
    #[serde(default)]
    pub slots: BTreeMap<String, String>,
    /// What the bot is waiting for.
    #[serde(default)]
    pub phase: Phase,
    /// Failed attempts at the current question.
    #[serde(default)]
    pub attempts: u32,
}

/// What the bot is waiting for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "waiting_for", rename_all = "snake_case")]
pub enum Phase {
    /// A request (an intent).
    #[default]
    Intent,
    /// The value of this slot.
    Slot {
        /// The slot.
        slot: String,
    },
    /// A yes or no to the confirmation question.
    Confirmation,
}

/// One caller turn, as the dialog sees it.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// The call reached the bot.
    Start,
    /// Words (typed, or transcribed), with the intents ranked for them.
    Text {
        /// The words.
        text: &'a str,
        /// Intents, best first (from the classifier).
        ranked: &'a [Scored],
    },
    /// Keypad digits.
    Digits(&'a str),
    /// Nothing usable was heard (silence, or the recogniser failed).
    Nothing,
}

/// A fulfilment webhook the driver must call, then answer with [`Dialog::after_webhook`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCall {
    /// Where to POST.
    pub url: String,
    /// Time limit.
    pub timeout_ms: u64,
    /// The JSON body: `{bot, intent, slots, attributes, locale, call_sid}`.
    pub body: serde_json::Value,
}

/// A webhook's answer (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookAnswer {
    /// Messages to say instead of the intent's `say`.
    pub messages: Vec<String>,
    /// Slots to set or change.
    pub slots: BTreeMap<String, String>,
    /// Session attributes to set.
    pub attributes: BTreeMap<String, String>,
    /// Overrides the intent's `then`.
    pub then: Option<Then>,
    /// The fulfilment failed: say the fallback instead (and keep listening).
    pub failed: bool,
}

/// What a turn produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Say this.
    Reply(Reply),
    /// Call this webhook, then pass its answer to [`Dialog::after_webhook`].
    Webhook(WebhookCall),
}

/// The dialog of one bot in one locale for one turn.
#[derive(Debug)]
pub struct Dialog<'a> {
    bot: &'a Bot,
    locale: &'a Locale,
    compiled: &'a CompiledLocale,
    today: Date,
}

fn then_action(then: Option<&Then>) -> CallAction {
    match then {
        Some(Then::Hangup) => CallAction::Hangup,
        Some(Then::Transfer(to)) => CallAction::Transfer(to.clone()),
        Some(Then::Return) => CallAction::ReturnToFlow,
        Some(Then::Listen | Then::Score(_)) | None => CallAction::Continue,
    }
}

/// Fills `{Slot}` and `{attr.name}` placeholders; unknown ones become empty.
pub fn render(
    template: &str,
    slots: &BTreeMap<String, String>,
    spoken: &dyn Fn(&str, &str) -> String,
    attributes: &BTreeMap<String, String>,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = after[..close].trim();
                if let Some(attr) = name.strip_prefix("attr.") {
                    out.push_str(attributes.get(attr).map_or("", String::as_str));
                } else if let Some(v) = slots.get(name) {
                    out.push_str(&spoken(name, v));
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// How a slot value is said in a message: dates as "Monday, November 23", times as "2:30 PM".
pub fn speak(kind: Option<&Kind>, value: &str) -> String {
    match kind {
        Some(Kind::Date) => match Date::parse_iso(value) {
            Some(d) => {
                let month = MONTH_NAMES.get(d.month as usize - 1).copied().unwrap_or("");
                let day = DAY_NAMES.get(d.weekday() as usize).copied().unwrap_or("");
                format!("{day}, {month} {}", d.day)
            }
            None => value.to_owned(),
        },
        Some(Kind::Time) => match value
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
        {
            Some((h, m)) => {
                let (h12, ampm) = match h {
                    0 => (12, "AM"),
                    1..=11 => (h, "AM"),
                    12 => (12, "PM"),
                    _ => (h - 12, "PM"),
                };
                if m == 0 {
                    format!("{h12} {ampm}")
                } else {
                    format!("{h12}:{m:02} {ampm}")
                }
            }
            None => value.to_owned(),
        },
        _ => value.to_owned(),
    }
}

impl<'a> Dialog<'a> {
    /// The dialog of `bot` in `locale` (the first locale when absent), with dates resolved
    /// against `today`.
    pub fn new(bot: &'a Bot, locale: &str, today: Date) -> Dialog<'a> {
        let (file, compiled) = bot.locale(locale);
        Dialog {
            bot,
            locale: file,
            compiled,
            today,
        }
    }

    /// The index of the dialog's locale in [`Bot::locales`].
    pub fn locale_index(&self) -> usize {
        self.bot
            .locales
            .iter()
            .position(|l| l.name == self.compiled.name)
            .unwrap_or(0)
    }

    fn intent(&self, name: &str) -> Option<(&'a IntentDef, &'a CompiledIntent)> {
        let def = self.locale.intents.get(name)?;
        let compiled = self.compiled.intents.iter().find(|i| i.name == name)?;
        Some((def, compiled))
    }

    fn render(
        &self,
        template: &str,
        state: &DialogState,
        attributes: &BTreeMap<String, String>,
    ) -> String {
        let compiled = state
            .intent
            .as_deref()
            .and_then(|n| self.intent(n))
            .map(|(_, c)| c);
        let spoken = |slot: &str, value: &str| speak(compiled.and_then(|c| c.kind(slot)), value);
        render(template, &state.slots, &spoken, attributes)
    }

    fn reply(
        &self,
        state: &DialogState,
        messages: Vec<String>,
        intent_state: Option<IntentState>,
        dialog: DialogAction,
        action: CallAction,
    ) -> Reply {
        Reply {
            messages: messages
                .into_iter()
                .filter(|m| !m.trim().is_empty())
                .collect(),
            audio: None,
            transcript: None,
            intent: match (&state.intent, intent_state) {
                (Some(name), Some(s)) => Some(Intent {
                    name: name.clone(),
                    confidence: state.confidence,
                    state: s,
                }),
                _ => None,
            },
            slots: state.slots.clone(),
            dialog,
            action,
        }
    }

    /// Plays one turn. `attributes` are the session's (webhooks may change them later).
    pub fn turn(
        &self,
        state: &mut DialogState,
        input: Input<'_>,
        attributes: &BTreeMap<String, String>,
    ) -> Step {
        match input {
            Input::Start => {
                *state = DialogState::default();
                let msg = self.render(&self.locale.greeting, state, attributes);
                Step::Reply(self.reply(
                    state,
                    vec![msg],
                    None,
                    DialogAction::ElicitIntent,
                    CallAction::Continue,
                ))
            }
            Input::Nothing => self.retry(state, attributes, None),
            Input::Digits(d) => self.digits(state, d.trim(), attributes),
            Input::Text { text, ranked } => self.text(state, text, ranked, attributes),
        }
    }

    fn digits(
        &self,
        state: &mut DialogState,
        digits: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Step {
        let clean: String = digits
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '*' || *c == '#')
            .collect();
        let value = clean.trim_end_matches('#').to_owned();
        match state.phase.clone() {
            Phase::Confirmation => match value.as_str() {
                "1" => self.confirmed(state, true, attributes),
                "2" => self.confirmed(state, false, attributes),
                _ => self.retry(state, attributes, None),
            },
            Phase::Slot { slot } => {
                let kind = state
                    .intent
                    .as_deref()
                    .and_then(|n| self.intent(n))
                    .and_then(|(_, c)| c.kind(&slot).cloned());
                let parsed = match kind {
                    Some(Kind::YesNo) => match value.as_str() {
                        "1" => Some("yes".to_owned()),
                        "2" => Some("no".to_owned()),
                        _ => None,
                    },
                    Some(k)
                        if k.takes_digits()
                            && !value.is_empty()
                            && value.chars().all(|c| c.is_ascii_digit()) =>
                    {
                        Some(value.clone())
                    }
                    Some(k @ (Kind::Text | Kind::Pattern(_) | Kind::Spelled)) => {
                        Slots { today: self.today }.answer(&k, &value)
                    }
                    _ => None,
                };
                match parsed {
                    Some(v) => self.fill(state, &slot, v, attributes, None),
                    None => self.retry(state, attributes, None),
                }
            }
            Phase::Intent => {
                let found = self
                    .locale
                    .intents
                    .iter()
                    .find(|(_, i)| i.digits.as_deref() == Some(value.as_str()));
                match found {
                    Some((name, _)) => self.start_intent(state, name, 1.0, None, attributes),
                    None => self.retry(state, attributes, None),
                }
            }
        }
    }

    fn text(
        &self,
        state: &mut DialogState,
        text: &str,
        ranked: &[Scored],
        attributes: &BTreeMap<String, String>,
    ) -> Step {
        let toks = tokens(text);
        if toks.is_empty() {
            return self.retry(state, attributes, None);
        }
        let threshold = self.locale.threshold();
        let top = ranked.first().filter(|s| s.score >= threshold);
        let switch = ranked.first().filter(|s| {
            s.score >= SWITCH_CONFIDENCE.max(threshold)
                && state.intent.as_deref() != Some(s.intent.as_str())
        });
        match state.phase.clone() {
            Phase::Confirmation => match yes_no(&toks) {
                Some(answer) => self.confirmed(state, answer == "yes", attributes),
                None => match switch {
                    Some(s) => self.start_intent(state, &s.intent, s.score, Some(text), attributes),
                    None => self.retry(state, attributes, None),
                },
            },
            Phase::Slot { slot } => {
                let Some((_, compiled)) = state.intent.as_deref().and_then(|n| self.intent(n))
                else {
                    *state = DialogState::default();
                    return self.retry(state, attributes, None);
                };
                let kind = compiled.kind(&slot).cloned();
                let parsed = kind
                    .as_ref()
                    .and_then(|k| Slots { today: self.today }.answer(k, text));
                // A confident other intent wins over a free-text answer or no answer at all.
                let free = matches!(kind, Some(Kind::Text) | None);
                if let Some(s) = switch
                    && (parsed.is_none() || (free && s.score >= 0.9))
                {
                    return self.start_intent(state, &s.intent, s.score, Some(text), attributes);
                }
                match parsed {
                    Some(v) => {
                        // Other slots said in the same breath ("tomorrow at ten").
                        if !free {
                            self.scan(state, compiled, &toks, Some(&slot));
                        }
                        self.fill(state, &slot, v, attributes, None)
                    }
                    None => self.retry(state, attributes, None),
                }
            }
            Phase::Intent => match top {
                Some(s) => {
                    self.start_intent(state, &s.intent.clone(), s.score, Some(text), attributes)
                }
                None => self.retry(state, attributes, None),
            },
        }
    }

    /// Fills slots from the utterance: the best sample pattern's placeholders, then a scan per
    /// slot type over the words not used yet.
    fn scan(
        &self,
        state: &mut DialogState,
        compiled: &CompiledIntent,
        toks: &[String],
        skip: Option<&str>,
    ) {
        let slots = Slots { today: self.today };
        let joined = toks.join(" ");
        let mut from_sample: BTreeMap<String, String> = BTreeMap::new();
        for sample in &compiled.samples {
            let Some(re) = &sample.pattern else { continue };
            let Some(caps) = re.captures(&joined) else {
                continue;
            };
            let mut got = BTreeMap::new();
            for (i, slot) in sample.groups.iter().enumerate() {
                let Some(m) = caps.get(i + 1) else { continue };
                let Some(kind) = compiled.kind(slot) else {
                    continue;
                };
                if let Some(v) = slots.answer(kind, m.as_str()) {
                    got.insert(slot.clone(), v);
                }
            }
            if got.len() > from_sample.len() {
                from_sample = got;
            }
        }
        let mut used = toks.to_vec();
        for (slot, value) in from_sample {
            if Some(slot.as_str()) != skip && !state.slots.contains_key(&slot) {
                state.slots.insert(slot, value);
            }
        }
        for (slot, kind) in &compiled.slots {
            if Some(slot.as_str()) == skip || state.slots.contains_key(slot) {
                continue;
            }
            if let Some(found) = slots.find(kind, &used) {
                state.slots.insert(slot.clone(), found.value);
                for t in used.iter_mut().take(found.end).skip(found.start) {
                    *t = String::from("\u{0}");
                }
            }
        }
    }

    fn start_intent(
        &self,
        state: &mut DialogState,
        name: &str,
        confidence: f32,
        text: Option<&str>,
        attributes: &BTreeMap<String, String>,
    ) -> Step {
        *state = DialogState {
            intent: Some(name.to_owned()),
            confidence: Some(confidence.clamp(0.0, 1.0)),
            ..DialogState::default()
        };
        let Some((_, compiled)) = self.intent(name) else {
            *state = DialogState::default();
            return self.retry(state, attributes, None);
        };
        if let Some(text) = text {
            self.scan(state, compiled, &tokens(text), None);
            // Values that fail validation are dropped (and asked for).
            let names: Vec<String> = state.slots.keys().cloned().collect();
            for slot in names {
                if self.invalid(state, &slot).is_some() {
                    state.slots.remove(&slot);
                }
            }
        }
        self.next(state, attributes, Vec::new())
    }

    /// The validation message when `slot`'s value fails its check.
    fn invalid(&self, state: &DialogState, slot: &str) -> Option<String> {
        let (def, compiled) = self.intent(state.intent.as_deref()?)?;
        let check = def.slots.get(slot)?.validate.as_ref()?;
        let value = state.slots.get(slot)?;
        let kind = compiled.kind(slot)?;
        let mut ok = true;
        if let Some([lo, hi]) = &check.between {
            ok &= within(kind, value, lo, hi, self.today);
        }
        if let Some(re) = &check.regex {
            ok &= regex::Regex::new(re).is_ok_and(|re| re.is_match(value));
        }
        if let Some(n) = check.length {
            ok &= value.trim_start_matches('+').chars().count() == n;
        }
        (!ok).then(|| check.message.clone())
    }

    fn fill(
        &self,
        state: &mut DialogState,
        slot: &str,
        value: String,
        attributes: &BTreeMap<String, String>,
        _: Option<()>,
    ) -> Step {
        state.slots.insert(slot.to_owned(), value);
        if let Some(message) = self.invalid(state, slot) {
            let msg = self.render(&message, state, attributes);
            state.slots.remove(slot);
            return self.retry(state, attributes, Some(msg));
        }
        state.attempts = 0;
        self.next(state, attributes, Vec::new())
    }

    /// Asks for the next missing slot, the confirmation, or fulfils.
    fn next(
        &self,
        state: &mut DialogState,
        attributes: &BTreeMap<String, String>,
        mut messages: Vec<String>,
    ) -> Step {
        let Some((def, _)) = state.intent.as_deref().and_then(|n| self.intent(n)) else {
            return self.retry(state, attributes, None);
        };
        if let Some(Then::Score(rule)) = &def.then
            && rule
                .red_flags
                .iter()
                .any(|f| state.slots.get(f).is_some_and(|v| v == "yes"))
        {
            return Step::Reply(self.scored(state, attributes, messages, rule, true));
        }
        let missing = def
            .slots
            .iter()
            .find(|(name, s)| s.required && !state.slots.contains_key(*name));
        if let Some((name, slot)) = missing {
            let new_question = state.phase
                != Phase::Slot {
                    slot: name.to_owned(),
                };
            if new_question {
                state.attempts = 0;
            }
            state.phase = Phase::Slot {
                slot: name.to_owned(),
            };
            messages.push(self.render(slot.prompt.as_deref().unwrap_or(""), state, attributes));
            return Step::Reply(self.reply(
                state,
                messages,
                Some(IntentState::InProgress),
                DialogAction::ElicitSlot {
                    slot: name.to_owned(),
                },
                CallAction::Continue,
            ));
        }
        if let Some(confirm) = &def.confirm {
            state.phase = Phase::Confirmation;
            state.attempts = 0;
            messages.push(self.render(confirm, state, attributes));
            return Step::Reply(self.reply(
                state,
                messages,
                Some(IntentState::InProgress),
                DialogAction::ConfirmIntent,
                CallAction::Continue,
            ));
        }
        self.fulfil(state, attributes, messages)
    }

    fn confirmed(
        &self,
        state: &mut DialogState,
        yes: bool,
        attributes: &BTreeMap<String, String>,
    ) -> Step {
        if yes {
            return self.fulfil(state, attributes, Vec::new());
        }
        let declined = state
            .intent
            .as_deref()
            .and_then(|n| self.intent(n))
            .and_then(|(d, _)| d.declined.clone())
            .unwrap_or_else(|| "OK.".into());
        let msg = self.render(&declined, state, attributes);
        let reply = self.reply(
            state,
            vec![msg],
            Some(IntentState::Failed),
            DialogAction::Close,
            CallAction::Continue,
        );
        *state = DialogState::default();
        Step::Reply(reply)
    }

    fn fulfil(
        &self,
        state: &mut DialogState,
        attributes: &BTreeMap<String, String>,
        messages: Vec<String>,
    ) -> Step {
        let Some((def, _)) = state.intent.as_deref().and_then(|n| self.intent(n)) else {
            return self.retry(state, attributes, None);
        };
        if let Some(hook) = def.fulfill.as_ref().and_then(|f| f.webhook.as_ref()) {
            let body = serde_json::json!({
                "bot": self.bot.id(),
                "intent": state.intent,
                "slots": state.slots,
                "attributes": attributes,
                "locale": self.compiled.name,
            });
            return Step::Webhook(WebhookCall {
                url: hook.url.clone(),
                timeout_ms: hook
                    .timeout_ms
                    .unwrap_or(crate::model::DEFAULT_WEBHOOK_TIMEOUT_MS),
                body,
            });
        }
        Step::Reply(self.fulfilled(state, attributes, messages, None, def))
    }

    fn fulfilled(
        &self,
        state: &mut DialogState,
        attributes: &BTreeMap<String, String>,
        mut messages: Vec<String>,
        then: Option<Then>,
        def: &IntentDef,
    ) -> Reply {
        if let Some(say) = def.fulfill.as_ref().and_then(|f| f.say.as_ref()) {
            messages.push(self.render(say, state, attributes));
        }
        let then = then.or_else(|| def.then.clone());
        if let Some(Then::Score(rule)) = &then {
            return self.scored(state, attributes, messages, rule, false);
        }
        let reply = self.reply(
            state,
            messages,
            Some(IntentState::Fulfilled),
            DialogAction::Close,
            then_action(then.as_ref()),
        );
        *state = DialogState::default();
        reply
    }

    /// Ends a scored intent: the `high` outcome on a red flag or a high score, else `low`.
    fn scored(
        &self,
        state: &mut DialogState,
        attributes: &BTreeMap<String, String>,
        mut messages: Vec<String>,
        rule: &ScoreRule,
        red_flag: bool,
    ) -> Reply {
        let score: u64 = rule
            .points
            .iter()
            .map(
                |(slot, points)| match state.slots.get(slot).map(String::as_str) {
                    Some("yes") => u64::from(*points),
                    Some(v) => v
                        .parse::<u64>()
                        .map_or(0, |n| n.saturating_mul(u64::from(*points))),
                    None => 0,
                },
            )
            .sum();
        let outcome = if red_flag || score >= u64::from(rule.at_least) {
            &rule.high
        } else {
            &rule.low
        };
        state.slots.insert("score".into(), score.to_string());
        if let Some(say) = &outcome.say {
            messages.push(self.render(say, state, attributes));
        }
        let reply = self.reply(
            state,
            messages,
            Some(IntentState::Fulfilled),
            DialogAction::Close,
            then_action(outcome.then.as_ref()),
        );
        *state = DialogState::default();
        reply
    }

    /// Finishes a fulfilment whose webhook answered `answer` (`Err`: failed or timed out).
    /// Applies the answer's attributes to `attributes`.
    pub fn after_webhook(
        &self,
        state: &mut DialogState,
        answer: Result<WebhookAnswer, String>,
        attributes: &mut BTreeMap<String, String>,
    ) -> Reply {
        let Some((def, _)) = state.intent.as_deref().and_then(|n| self.intent(n)) else {
            let msg = self.render(&self.locale.fallback, state, attributes);
            return self.reply(
                state,
                vec![msg],
                None,
                DialogAction::ElicitIntent,
                CallAction::Continue,
            );
        };
        match answer {
            Ok(a) if !a.failed => {
                attributes.extend(a.attributes);
                state.slots.extend(a.slots);
                if a.messages.is_empty() {
                    self.fulfilled(state, attributes, Vec::new(), a.then, def)
                } else {
                    let then = a.then.or_else(|| def.then.clone());
                    let reply = self.reply(
                        state,
                        a.messages,
                        Some(IntentState::Fulfilled),
                        DialogAction::Close,
                        then_action(then.as_ref()),
                    );
                    *state = DialogState::default();
                    reply
                }
            }
            other => {
                if let Ok(a) = other {
                    attributes.extend(a.attributes);
                } else if let Err(e) = other {
                    tracing::warn!(intent = ?state.intent, error = %e, "fulfilment webhook failed");
                }
                let fallback = def
                    .fulfill
                    .as_ref()
                    .and_then(|f| f.webhook.as_ref())
                    .and_then(|w| w.fallback.clone())
                    .unwrap_or_else(|| self.locale.fallback.clone());
                let msg = self.render(&fallback, state, attributes);
                let reply = self.reply(
                    state,
                    vec![msg],
                    Some(IntentState::Failed),
                    DialogAction::Close,
                    CallAction::Continue,
                );
                *state = DialogState::default();
                reply
            }
        }
    }

    /// The current question again (a reprompt), or the fallback when no question is pending;
    /// after `max_retries` failed attempts in a row, `give_up`.
    fn retry(
        &self,
        state: &mut DialogState,
        attributes: &BTreeMap<String, String>,
        lead: Option<String>,
    ) -> Step {
        state.attempts += 1;
        if state.attempts > self.locale.retries() {
            let give_up = self.locale.give_up.as_ref();
            let say = give_up
                .and_then(|g| g.say.clone())
                .unwrap_or_else(|| self.locale.fallback.clone());
            let msg = self.render(&say, state, attributes);
            let action = then_action(Some(
                give_up
                    .and_then(|g| g.then.as_ref())
                    .unwrap_or(&Then::Hangup),
            ));
            let intent_state = state.intent.as_ref().map(|_| IntentState::Failed);
            let reply = self.reply(
                state,
                lead.into_iter().chain([msg]).collect(),
                intent_state,
                DialogAction::Close,
                action,
            );
            *state = DialogState::default();
            return Step::Reply(reply);
        }
        let mut messages: Vec<String> = lead.into_iter().collect();
        let attempt = state.attempts as usize;
        match state.phase.clone() {
            Phase::Slot { slot } => {
                let def = state
                    .intent
                    .as_deref()
                    .and_then(|n| self.intent(n))
                    .and_then(|(d, _)| d.slots.get(&slot));
                let text = def.map(|d| {
                    if messages.is_empty() {
                        d.reprompts
                            .get(attempt - 1)
                            .or(d.reprompts.last())
                            .or(d.prompt.as_ref())
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        d.prompt.clone().unwrap_or_default()
                    }
                });
                messages.push(self.render(&text.unwrap_or_default(), state, attributes));
                Step::Reply(self.reply(
                    state,
                    messages,
                    Some(IntentState::InProgress),
                    DialogAction::ElicitSlot { slot },
                    CallAction::Continue,
                ))
            }
            Phase::Confirmation => {
                let confirm = state
                    .intent
                    .as_deref()
                    .and_then(|n| self.intent(n))
                    .and_then(|(d, _)| d.confirm.clone())
                    .unwrap_or_default();
                messages.push(self.render(&confirm, state, attributes));
                if attempt == 1 {
                    messages.insert(0, "Please answer yes or no.".into());
                }
                Step::Reply(self.reply(
                    state,
                    messages,
                    Some(IntentState::InProgress),
                    DialogAction::ConfirmIntent,
                    CallAction::Continue,
                ))
            }
            Phase::Intent => {
                messages.push(self.render(&self.locale.fallback, state, attributes));
                Step::Reply(self.reply(
                    state,
                    messages,
                    None,
                    DialogAction::ElicitIntent,
                    CallAction::Continue,
                ))
            }
        }
    }

    /// Speech-recognition hints for the next turn: what kind of answer is expected, and likely
    /// phrases (slot values).
    pub fn hints(&self, state: &DialogState) -> hotline_asr::Hints {
        use hotline_asr::{Expect, Hints};
        match &state.phase {
            Phase::Confirmation => Hints {
                expect: Expect::YesNo,
                phrases: vec!["yes".into(), "no".into()],
            },
            Phase::Slot { slot } => {
                let kind = state
                    .intent
                    .as_deref()
                    .and_then(|n| self.intent(n))
                    .and_then(|(_, c)| c.kind(slot));
                Hints {
                    expect: match kind {
                        Some(Kind::YesNo) => Expect::YesNo,
                        Some(Kind::Number | Kind::Digits | Kind::Phone) => Expect::Digits,
                        _ => Expect::Free,
                    },
                    phrases: kind.map(Kind::phrases).unwrap_or_default(),
                }
            }
            Phase::Intent => Hints {
                expect: Expect::Free,
                phrases: self
                    .compiled
                    .intents
                    .iter()
                    .flat_map(|i| i.slots.iter().flat_map(|(_, k)| k.phrases()))
                    .take(100)
                    .collect(),
            },
        }
    }
}
