//! The stepping machine: applies one [`Input`] to a [`Session`] and produces a [`Turn`].
//!
//! Sans-IO and total: no clock, no randomness, no network, no panics. Every path either stops
//! at a node that waits for Twilio (or for an effect), or ends the call; an internal
//! inconsistency ends it with a spoken apology (never silence) and an `Outcome::Error`.

use hotline_twilio::twiml as tw;

use super::input::{Input, Understood};
use super::links::Links;
use super::messages::{self, Message};
use super::render;
use super::session::{Awaiting, CallFacts, Session};
use super::turn::{Effect, Outcome, StepEvent, Turn};
use super::vars;
use super::webhook;
use crate::matcher;
use crate::{
    Answer, Ask, Bot, Dial, DialTarget, Failure, Flow, Literal, Node, NodeId, NodeKind, Prompt,
    Record, Route, Webhook,
};

/// Most nodes entered within one step before the call is ended as an error (a loop of
/// `say`/branch nodes that never waits for the caller).
pub const MAX_HOPS: u32 = 64;

/// Most steps in one call before it is ended as an error (a flow that loops through questions
/// forever on silence).
pub const MAX_STEPS: u64 = 1000;

/// Starts a call: a fresh [`Session`] on `flow` and the first [`Turn`] (the start node's
/// prompts, up to the first node that waits). Same as [`Session::new`] followed by
/// [`step`] with [`Input::Start`].
pub fn start(flow: &Flow, facts: CallFacts, links: &dyn Links) -> (Session, Turn) {
    let mut session = Session::new(flow, &facts);
    let turn = step(flow, &mut session, Input::Start(facts), links);
    (session, turn)
}

/// Applies `input` to `session` (which is updated in place) and returns what to answer.
///
/// - `session.seq` is incremented first, so action URLs built during this step carry the new
///   value. Check [`super::is_current`] before calling: a retried webhook must get the
///   previous response replayed, never a second step.
/// - `flow` should be the version the call started on ([`Session::flow_version`]). Given
///   another version, the runtime records a `flow_version_changed` event and carries on by
///   node name; if the node no longer exists the call ends with an apology.
/// - An input the session is not waiting for (e.g. a dial result while a question is open)
///   is recorded as `unexpected` and ends the call with an apology.
/// - Once the call has ended, late callbacks (dial, queue, recording results) are recorded
///   and answered with `<Hangup/>` (after an apology when a hand-off failed).
pub fn step(flow: &Flow, session: &mut Session, input: Input, links: &dyn Links) -> Turn {
    let mut ctx = Ctx {
        flow,
        links,
        verbs: Vec::new(),
        events: Vec::new(),
        effect: None,
        hops: 0,
    };
    session.seq = session.seq.saturating_add(1);
    ctx.dispatch(session, input);
    ctx.finish(session)
}

struct Ctx<'a> {
    flow: &'a Flow,
    links: &'a dyn Links,
    verbs: Vec<tw::Verb>,
    events: Vec<StepEvent>,
    effect: Option<Effect>,
    hops: u32,
}

impl<'a> Ctx<'a> {
    fn finish(mut self, session: &mut Session) -> Turn {
        if self.verbs.is_empty() && self.effect.is_none() {
            // Never answer with silence.
            self.fail(session, "the step produced no response".into());
        }
        Turn {
            response: tw::Response { verbs: self.verbs },
            effect: self.effect,
            events: self.events,
        }
    }

    fn dispatch(&mut self, session: &mut Session, input: Input) {
        if let Input::CallEnded { .. } = input {
            self.end(session, Outcome::CallerHungUp);
            session.awaiting = Awaiting::Nothing;
            self.verbs.push(tw::Verb::Hangup);
            return;
        }
        if session.ended.is_some() {
            return self.after_end(session, input);
        }
        if session.flow_id != self.flow.id {
            let message = format!(
                "the session belongs to flow `{}` but was stepped with flow `{}`",
                session.flow_id, self.flow.id
            );
            return self.fail(session, message);
        }
        if session.seq > MAX_STEPS {
            return self.fail(session, format!("the call went over {MAX_STEPS} steps"));
        }
        if session.flow_version != self.flow.version_hash {
            self.events.push(StepEvent::FlowVersionChanged {
                from: std::mem::take(&mut session.flow_version),
                to: self.flow.version_hash.clone(),
            });
            session.flow_version = self.flow.version_hash.clone();
        }
        let awaiting = std::mem::replace(&mut session.awaiting, Awaiting::Nothing);
        match (awaiting, input) {
            (Awaiting::Start, Input::Start(facts)) => {
                session.call_sid = facts.call_sid;
                session.caller = facts.from;
                session.called = facts.to;
                session.started_unix_ms = facts.now_unix_ms;
                self.enter(session, self.flow.start);
            }
            (
                Awaiting::Gather { node },
                Input::Gathered {
                    speech,
                    digits,
                    intent,
                },
            ) => {
                self.on_gathered(session, &node, speech, digits, intent);
            }
            (Awaiting::Gather { node }, Input::NoInput) => {
                if let Some((n, ask)) = self.resolve_ask(session, &node) {
                    self.on_retry(session, n, ask, Failure::NoInput);
                }
            }
            (Awaiting::Dial { node }, Input::DialEnded { status }) => {
                self.on_dial_ended(session, &node, &status);
            }
            (Awaiting::Enqueue { node }, Input::QueueLeft { result }) => {
                self.on_queue_left(session, &node, &result);
            }
            (Awaiting::Record { node }, Input::Recorded { url, duration_secs }) => {
                self.on_recorded(session, &node, url, duration_secs);
            }
            (Awaiting::Record { node }, Input::NoInput) => {
                self.on_not_recorded(session, &node);
            }
            (Awaiting::Webhook { node }, Input::WebhookReplied(reply)) => {
                self.on_webhook(session, &node, reply);
            }
            (Awaiting::Bot { node }, Input::BotReturned { slots }) => {
                self.on_bot(session, &node, Ok(slots));
            }
            (Awaiting::Bot { node }, Input::BotFailed { reason }) => {
                self.on_bot(session, &node, Err(reason));
            }
            (awaiting, input) => {
                self.events.push(StepEvent::Unexpected {
                    awaiting: awaiting.name().to_owned(),
                    input: input.name().to_owned(),
                });
                let message = format!(
                    "received `{}` while waiting for `{}`",
                    input.name(),
                    awaiting.name()
                );
                self.fail(session, message);
            }
        }
    }

    /// Late callbacks after the flow is done with the call.
    fn after_end(&mut self, session: &mut Session, input: Input) {
        let node = session.node.clone();
        let handoff_failed = match input {
            Input::DialEnded { status } => {
                let failed = !dial_answered(&status);
                self.events.push(StepEvent::DialEnded { node, status });
                failed && matches!(session.awaiting, Awaiting::Dial { .. })
            }
            Input::QueueLeft { result } => {
                let failed = !queue_finished(&result);
                self.events.push(StepEvent::QueueLeft { node, result });
                failed && matches!(session.awaiting, Awaiting::Enqueue { .. })
            }
            Input::Recorded { duration_secs, .. } => {
                self.events.push(StepEvent::Recorded {
                    node,
                    duration_secs,
                });
                false
            }
            other => {
                self.events.push(StepEvent::Unexpected {
                    awaiting: "nothing".into(),
                    input: other.name().to_owned(),
                });
                false
            }
        };
        if handoff_failed {
            self.say_message(session, Message::Unavailable);
        }
        session.awaiting = Awaiting::Nothing;
        self.verbs.push(tw::Verb::Hangup);
    }

    // ----- entering nodes -----------------------------------------------------------------

    /// Enters `id` and keeps going through nodes that do not wait.
    fn enter(&mut self, session: &mut Session, mut id: NodeId) {
        loop {
            self.hops += 1;
            if self.hops > MAX_HOPS {
                let message = format!(
                    "more than {MAX_HOPS} nodes entered in one step (last: `{}`)",
                    session.node
                );
                return self.fail(session, message);
            }
            match self.enter_one(session, id) {
                Some(next) => id = next,
                None => return,
            }
        }
    }

    /// Enters one node; returns the next node when the call goes straight on.
    fn enter_one(&mut self, session: &mut Session, id: NodeId) -> Option<NodeId> {
        let flow = self.flow;
        let Some(node) = flow.nodes.get(id.index()) else {
            self.fail(
                session,
                format!("node index {} is out of range", id.index()),
            );
            return None;
        };
        session.visit(&node.id);
        self.events.push(StepEvent::Entered {
            node: node.id.clone(),
        });
        vars::apply(&node.on_enter, session, &mut self.events);
        if let NodeKind::Ask { ask, .. } = &node.kind {
            self.ask(session, node, ask, &[], true);
            return None;
        }
        let mut spoken = Vec::new();
        self.render(session, node, &node.prompts, &mut spoken);
        self.verbs.extend(spoken.into_iter().map(render::to_verb));
        match &node.kind {
            NodeKind::Ask { .. } => None,
            NodeKind::Continue { next } => Some(*next),
            NodeKind::Branch { routes, next } => {
                let speech = session.vars.get("answer").map(Literal::to_text);
                let digits = session.vars.get("digits").map(Literal::to_text);
                let intent = session.vars.get("intent").map(Literal::to_text);
                let words = words_for(routes, speech.as_deref());
                let answer = Answer {
                    speech: speech.as_deref(),
                    digits: digits.as_deref(),
                    intent: intent.as_deref(),
                    words: words.as_ref(),
                };
                let language = session.language.clone();
                Some(self.route_or_default(session, node, routes, &answer, &language, *next))
            }
            NodeKind::Dial {
                dial,
                next,
                fallback,
            } => self.dial(session, node, dial, *next, *fallback),
            NodeKind::Enqueue { queue, next } => {
                session.awaiting = Awaiting::Enqueue {
                    node: node.id.clone(),
                };
                let mut enqueue = tw::Enqueue::new(queue.clone());
                enqueue.action = Some(self.links.action(session));
                self.verbs.push(tw::Verb::Enqueue(enqueue));
                if next.is_none() {
                    self.end(
                        session,
                        Outcome::Enqueued {
                            queue: queue.clone(),
                        },
                    );
                }
                None
            }
            NodeKind::Redirect { flow: target } => {
                let url = self.links.flow_entry(target);
                self.verbs.push(tw::Verb::Redirect(tw::Redirect::new(url)));
                self.end(
                    session,
                    Outcome::Redirected {
                        flow: target.clone(),
                    },
                );
                None
            }
            NodeKind::Record { record, .. } => {
                self.record(session, node, record);
                None
            }
            NodeKind::Hangup => {
                self.verbs.push(tw::Verb::Hangup);
                self.end(session, Outcome::HungUp);
                None
            }
            NodeKind::Webhook { webhook, .. } => {
                self.webhook(session, node, webhook);
                None
            }
            NodeKind::Bot {
                bot,
                next,
                fallback,
                ..
            } => self.bot(session, node, bot, *next, *fallback),
        }
    }

    fn render(
        &mut self,
        session: &Session,
        node: &Node,
        prompts: &[Prompt],
        out: &mut Vec<tw::GatherPrompt>,
    ) {
        render::prompts(
            self.flow,
            self.links,
            session,
            node,
            prompts,
            &mut self.events,
            out,
        );
    }

    // ----- ask ----------------------------------------------------------------------------

    /// Emits the `<Gather>` for `node`: `reprompt`, then the question when `question`.
    fn ask(
        &mut self,
        session: &mut Session,
        node: &Node,
        ask: &Ask,
        reprompt: &[Prompt],
        question: bool,
    ) {
        self.events.push(StepEvent::Asked {
            node: node.id.clone(),
            attempt: session.attempt(),
        });
        let mut prompts = Vec::new();
        self.render(session, node, reprompt, &mut prompts);
        if question {
            self.render(session, node, &node.prompts, &mut prompts);
        }
        session.awaiting = Awaiting::Gather {
            node: node.id.clone(),
        };
        let action = self.links.action(session);
        let gather = render::gather(ask, &session.language, action, prompts);
        self.verbs.push(tw::Verb::Gather(gather));
    }

    fn resolve_ask(&mut self, session: &mut Session, name: &str) -> Option<(&'a Node, &'a Ask)> {
        let node = self.resolve(session, name)?;
        match &node.kind {
            NodeKind::Ask { ask, .. } => Some((node, ask)),
            other => {
                let message = format!("node `{name}` is a {} node, not an ask", other.name());
                self.fail(session, message);
                None
            }
        }
    }

    fn on_gathered(
        &mut self,
        session: &mut Session,
        name: &str,
        speech: Option<(String, f32)>,
        digits: Option<String>,
        intent: Option<Understood>,
    ) {
        let Some((node, ask)) = self.resolve_ask(session, name) else {
            return;
        };
        let NodeKind::Ask { routes, next, .. } = &node.kind else {
            return;
        };
        let speech = speech.and_then(|(text, confidence)| {
            let text = text.trim();
            (!text.is_empty()).then(|| (text.to_owned(), clean_confidence(confidence)))
        });
        let digits = digits.and_then(|d| {
            let d = d.trim();
            (!d.is_empty()).then(|| d.to_owned())
        });
        if speech.is_none() && digits.is_none() {
            return self.on_retry(session, node, ask, Failure::NoInput);
        }
        // An intent is only about a transcript (keys pressed have none).
        let intent = intent
            .filter(|i| speech.is_some() && !i.intent.trim().is_empty())
            .map(|i| Understood {
                intent: i.intent.trim().to_owned(),
                confidence: clean_confidence(i.confidence),
            });
        self.events.push(StepEvent::Heard {
            node: node.id.clone(),
            speech: speech.as_ref().map(|(s, _)| s.clone()),
            confidence: speech.as_ref().map(|(_, c)| *c),
            digits: digits.clone(),
            intent: intent.clone(),
        });
        store_answer(
            session,
            ask,
            speech.as_ref(),
            digits.as_deref(),
            intent.as_ref(),
        );
        let said = speech.as_ref().map(|(s, _)| s.as_str());
        // The words, once, for the routes' keywords and the question's `unclear` list.
        let words = match &ask.unclear {
            Some(_) => said.map(matcher::normalize),
            None => words_for(routes, said),
        };
        let answer = Answer {
            speech: said,
            digits: digits.as_deref(),
            intent: intent.as_ref().map(|i| i.intent.as_str()),
            words: words.as_ref(),
        };
        let language = ask
            .language
            .clone()
            .unwrap_or_else(|| session.language.clone());
        // "I don't know" is no answer, whatever route its words would take ("i don't" is a no).
        if let (Some(words), Some(unclear)) = (&words, &ask.unclear)
            && unclear
                .get(&language)
                .is_some_and(|set| set.any(words, &language))
        {
            return self.on_retry(session, node, ask, Failure::NoMatch);
        }
        match self.pick_route(session, routes, &answer, &language) {
            Some(route) => {
                let target = self.take_route(session, node, route);
                self.enter(session, target);
            }
            None => match next {
                Some(next) => {
                    self.default_route(node, *next);
                    self.enter(session, *next);
                }
                None => self.on_retry(session, node, ask, Failure::NoMatch),
            },
        }
    }

    fn on_retry(&mut self, session: &mut Session, node: &Node, ask: &Ask, kind: Failure) {
        let count = match kind {
            Failure::NoInput => {
                session.no_input = session.no_input.saturating_add(1);
                self.events.push(StepEvent::NoInput {
                    node: node.id.clone(),
                    count: session.no_input,
                });
                session.no_input
            }
            Failure::NoMatch => {
                session.no_match = session.no_match.saturating_add(1);
                self.events.push(StepEvent::NoMatch {
                    node: node.id.clone(),
                    count: session.no_match,
                });
                session.no_match
            }
        };
        let used = session.no_input.saturating_add(session.no_match);
        if used >= ask.retry.attempts.max(1) {
            // The last failure decides: a caller who keeps speaking but is not understood may
            // go to a person, one who stays silent to a goodbye.
            let target = ask.retry.exhausted.after(kind);
            self.events.push(StepEvent::Exhausted {
                node: node.id.clone(),
                target: self.name_of(target),
            });
            return self.enter(session, target);
        }
        let reprompt = match kind {
            Failure::NoInput => ask.retry.no_input_prompt(count as usize),
            Failure::NoMatch => ask.retry.no_match_prompt(count as usize),
        };
        let question = ask.retry.repeat_question || reprompt.is_empty();
        self.ask(session, node, ask, reprompt, question);
    }

    // ----- routes -------------------------------------------------------------------------

    fn pick_route<'r>(
        &self,
        session: &Session,
        routes: &'r [Route],
        answer: &Answer<'_>,
        language: &str,
    ) -> Option<&'r Route> {
        let lookup = |name: &str| vars::lookup(session, name);
        routes.iter().find(|r| r.matches(answer, language, &lookup))
    }

    /// Applies a route's side effects and returns its target.
    fn take_route(&mut self, session: &mut Session, node: &Node, route: &Route) -> NodeId {
        vars::apply(&route.assign, session, &mut self.events);
        if let Some(language) = &route.language
            && *language != session.language
        {
            session.language.clone_from(language);
            self.events.push(StepEvent::LanguageChanged {
                language: language.clone(),
            });
        }
        self.events.push(StepEvent::Matched {
            node: node.id.clone(),
            route: route.label.clone(),
            target: self.name_of(route.target),
        });
        route.target
    }

    fn default_route(&mut self, node: &Node, next: NodeId) {
        self.events.push(StepEvent::Matched {
            node: node.id.clone(),
            route: "default".into(),
            target: self.name_of(next),
        });
    }

    fn route_or_default(
        &mut self,
        session: &mut Session,
        node: &Node,
        routes: &[Route],
        answer: &Answer<'_>,
        language: &str,
        next: NodeId,
    ) -> NodeId {
        match self.pick_route(session, routes, answer, language) {
            Some(route) => self.take_route(session, node, route),
            None => {
                self.default_route(node, next);
                next
            }
        }
    }

    // ----- dial, queue, record ------------------------------------------------------------

    fn dial(
        &mut self,
        session: &mut Session,
        node: &Node,
        dial: &Dial,
        next: Option<NodeId>,
        fallback: Option<NodeId>,
    ) -> Option<NodeId> {
        let Some((target, noun)) = dial_target(dial, session) else {
            let raw = match &dial.target {
                DialTarget::Template(t) => vars::render(t, session),
                _ => String::new(),
            };
            self.events.push(StepEvent::DialEnded {
                node: node.id.clone(),
                status: "invalid-number".into(),
            });
            return match fallback {
                Some(f) => Some(f),
                None => {
                    let message = format!("node `{}`: `{raw}` is not a number or SIP URI", node.id);
                    self.fail(session, message);
                    None
                }
            };
        };
        session.awaiting = Awaiting::Dial {
            node: node.id.clone(),
        };
        let mut verb = tw::Dial::to(noun)
            .with_action(self.links.action(session))
            .with_timeout(dial.timeout_secs);
        if let Some(caller_id) = &dial.caller_id {
            verb = verb.with_caller_id(caller_id.clone());
        }
        if dial.record {
            verb = verb.with_record("record-from-answer");
        }
        self.verbs.push(tw::Verb::Dial(verb));
        if next.is_none() && fallback.is_none() {
            self.end(session, Outcome::Dialed { target });
        }
        None
    }

    fn on_dial_ended(&mut self, session: &mut Session, name: &str, status: &str) {
        let Some(node) = self.resolve(session, name) else {
            return;
        };
        let NodeKind::Dial {
            dial,
            next,
            fallback,
        } = &node.kind
        else {
            return self.wrong_kind(session, node, "dial");
        };
        self.events.push(StepEvent::DialEnded {
            node: node.id.clone(),
            status: status.to_owned(),
        });
        let target = dial_target(dial, session)
            .map(|(t, _)| t)
            .unwrap_or_default();
        let continue_to = if dial_answered(status) {
            *next
        } else {
            *fallback
        };
        match continue_to {
            Some(to) => self.enter(session, to),
            None => {
                if !dial_answered(status) {
                    self.say_message(session, Message::Unavailable);
                }
                self.verbs.push(tw::Verb::Hangup);
                self.end(session, Outcome::Dialed { target });
            }
        }
    }

    fn on_queue_left(&mut self, session: &mut Session, name: &str, result: &str) {
        let Some(node) = self.resolve(session, name) else {
            return;
        };
        let NodeKind::Enqueue { queue, next } = &node.kind else {
            return self.wrong_kind(session, node, "enqueue");
        };
        self.events.push(StepEvent::QueueLeft {
            node: node.id.clone(),
            result: result.to_owned(),
        });
        match next {
            Some(next) if !queue_finished(result) => self.enter(session, *next),
            _ => {
                if !queue_finished(result) {
                    self.say_message(session, Message::Unavailable);
                }
                self.verbs.push(tw::Verb::Hangup);
                self.end(
                    session,
                    Outcome::Enqueued {
                        queue: queue.clone(),
                    },
                );
            }
        }
    }

    fn record(&mut self, session: &mut Session, node: &Node, record: &Record) {
        session.awaiting = Awaiting::Record {
            node: node.id.clone(),
        };
        let action = self.links.action(session);
        let mut verb = tw::Record::new()
            .with_action(action.clone())
            .with_max_length(record.max_length_secs)
            .with_play_beep(record.beep);
        verb.finish_on_key = record.finish_on_key.map(|k| k.to_string());
        if record.transcribe {
            verb.transcribe = Some(true);
            verb.transcribe_callback = self.links.transcription(session, &node.id);
        }
        self.verbs.push(tw::Verb::Record(verb));
        // Twilio does not post an empty recording to `action`: it goes on with the next verb.
        // This redirect brings that call back to the same step, with no recording.
        self.verbs
            .push(tw::Verb::Redirect(tw::Redirect::new(action)));
    }

    fn on_recorded(&mut self, session: &mut Session, name: &str, url: String, duration_secs: u32) {
        let Some(node) = self.resolve(session, name) else {
            return;
        };
        let NodeKind::Record { record, next, .. } = &node.kind else {
            return self.wrong_kind(session, node, "record");
        };
        self.events.push(StepEvent::Recorded {
            node: node.id.clone(),
            duration_secs,
        });
        vars::set(
            session,
            &record.save_as,
            Literal::Text(url),
            &mut self.events,
        );
        match next {
            Some(next) => self.enter(session, *next),
            None => {
                self.verbs.push(tw::Verb::Hangup);
                self.end(session, Outcome::Recorded);
            }
        }
    }

    /// The caller recorded nothing (the redirect after `<Record>`): `fallback`, else `next`,
    /// else the call ends. The recording's variable is left unset.
    fn on_not_recorded(&mut self, session: &mut Session, name: &str) {
        let Some(node) = self.resolve(session, name) else {
            return;
        };
        let NodeKind::Record { next, fallback, .. } = &node.kind else {
            return self.wrong_kind(session, node, "record");
        };
        session.no_input = session.no_input.saturating_add(1);
        self.events.push(StepEvent::NoInput {
            node: node.id.clone(),
            count: session.no_input,
        });
        match fallback.or(*next) {
            Some(target) => self.enter(session, target),
            None => {
                self.verbs.push(tw::Verb::Hangup);
                self.end(session, Outcome::HungUp);
            }
        }
    }

    // ----- webhook ------------------------------------------------------------------------

    fn webhook(&mut self, session: &mut Session, node: &Node, webhook: &Webhook) {
        session.awaiting = Awaiting::Webhook {
            node: node.id.clone(),
        };
        self.events.push(StepEvent::WebhookRequested {
            node: node.id.clone(),
            url: webhook.url.clone(),
        });
        self.effect = Some(Effect::Webhook {
            url: webhook.url.clone(),
            body: webhook::body(session, &node.id),
            timeout_ms: u64::from(webhook.timeout_secs).saturating_mul(1000),
        });
    }

    fn on_webhook(
        &mut self,
        session: &mut Session,
        name: &str,
        reply: Result<serde_json::Value, String>,
    ) {
        let Some(node) = self.resolve(session, name) else {
            return;
        };
        let NodeKind::Webhook {
            webhook,
            routes,
            next,
            fallback,
        } = &node.kind
        else {
            return self.wrong_kind(session, node, "webhook");
        };
        let parsed = reply.and_then(|json| webhook::parse_reply(self.flow, node, webhook, &json));
        let reply = match parsed {
            Ok(reply) => reply,
            Err(why) => {
                self.events.push(StepEvent::WebhookCalled {
                    node: node.id.clone(),
                    ok: false,
                    detail: Some(why),
                });
                return self.enter(session, *fallback);
            }
        };
        for (var, value) in reply.set {
            vars::set(session, &var, value, &mut self.events);
        }
        self.events.push(StepEvent::WebhookCalled {
            node: node.id.clone(),
            ok: true,
            detail: (!reply.ignored.is_empty())
                .then(|| format!("ignored undeclared fields: {}", reply.ignored.join(", "))),
        });
        let target = match reply.goto {
            Some(goto) => {
                self.events.push(StepEvent::Matched {
                    node: node.id.clone(),
                    route: "goto".into(),
                    target: self.name_of(goto),
                });
                goto
            }
            None => self.route_on_vars(session, node, routes, *next),
        };
        self.enter(session, target);
    }

    /// Routes after a webhook or bot: answer conditions test the last answer, as on a branch.
    fn route_on_vars(
        &mut self,
        session: &mut Session,
        node: &Node,
        routes: &[Route],
        next: NodeId,
    ) -> NodeId {
        let speech = session.vars.get("answer").map(Literal::to_text);
        let digits = session.vars.get("digits").map(Literal::to_text);
        let intent = session.vars.get("intent").map(Literal::to_text);
        let words = words_for(routes, speech.as_deref());
        let answer = Answer {
            speech: speech.as_deref(),
            digits: digits.as_deref(),
            intent: intent.as_deref(),
            words: words.as_ref(),
        };
        let language = session.language.clone();
        self.route_or_default(session, node, routes, &answer, &language, next)
    }

    // ----- bot ----------------------------------------------------------------------------

    /// Hands the call to the bot (`<Redirect>` to the server's bot entry; the flow waits in
    /// `Awaiting::Bot`, resumed by [`Ctx::on_bot`]). When the server has no such bot: say so
    /// and go on to `fallback` (or `next`).
    fn bot(
        &mut self,
        session: &mut Session,
        node: &Node,
        bot: &Bot,
        next: NodeId,
        fallback: Option<NodeId>,
    ) -> Option<NodeId> {
        if let Some(url) = self.links.bot_entry(session, bot) {
            session.awaiting = Awaiting::Bot {
                node: node.id.clone(),
            };
            self.events.push(StepEvent::BotStarted {
                node: node.id.clone(),
                bot: bot.name.clone(),
            });
            self.verbs.push(tw::Verb::Redirect(tw::Redirect::new(url)));
            return None;
        }
        self.events.push(StepEvent::BotUnavailable {
            node: node.id.clone(),
            bot: bot.name.clone(),
        });
        self.say_message(session, Message::BotUnavailable);
        Some(fallback.unwrap_or(next))
    }

    fn on_bot(
        &mut self,
        session: &mut Session,
        name: &str,
        result: Result<std::collections::BTreeMap<String, String>, String>,
    ) {
        let Some(node) = self.resolve(session, name) else {
            return;
        };
        let NodeKind::Bot {
            bot,
            routes,
            next,
            fallback,
        } = &node.kind
        else {
            return self.wrong_kind(session, node, "bot");
        };
        self.events.push(StepEvent::BotReturned {
            node: node.id.clone(),
            ok: result.is_ok(),
        });
        match result {
            Ok(slots) => {
                // A slot sets the collected variable of the same name (an exact match first,
                // else ignoring ASCII case: `date` collects Lex's `Date`).
                for var in &bot.collect {
                    let value = slots.get(var).or_else(|| {
                        slots
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(var))
                            .map(|(_, v)| v)
                    });
                    if let Some(value) = value {
                        vars::set(session, var, Literal::Text(value.clone()), &mut self.events);
                    }
                }
                let target = self.route_on_vars(session, node, routes, *next);
                self.enter(session, target);
            }
            Err(_) => self.enter(session, fallback.unwrap_or(*next)),
        }
    }

    // ----- endings and errors -------------------------------------------------------------

    /// Records the outcome once.
    fn end(&mut self, session: &mut Session, outcome: Outcome) {
        if session.ended.is_none() {
            self.events.push(StepEvent::Ended {
                node: session.node.clone(),
                outcome: outcome.clone(),
            });
            session.ended = Some(outcome);
        }
    }

    /// Ends the call after an internal inconsistency: apology in the call's language, then
    /// the configured transfer or `<Hangup/>`.
    fn fail(&mut self, session: &mut Session, message: String) {
        let transfer = self
            .links
            .error_transfer(self.flow)
            .and_then(|t| render::runtime_dial_target(&t));
        match transfer {
            Some(noun) => {
                self.say_message(session, Message::ApologyTransfer);
                self.verbs.push(tw::Verb::Dial(tw::Dial::to(noun)));
                self.verbs.push(tw::Verb::Hangup);
            }
            None => {
                self.say_message(session, Message::Apology);
                self.verbs.push(tw::Verb::Hangup);
            }
        }
        session.awaiting = Awaiting::Nothing;
        self.end(session, Outcome::Error { message });
    }

    fn say_message(&mut self, session: &Session, message: Message) {
        let language = session.language.as_str();
        let text = messages::text(message, language);
        self.events.push(StepEvent::Said {
            node: session.node.clone(),
            text: text.to_owned(),
        });
        let say = render::say_verb(text.to_owned(), language, self.flow.voice_for(language));
        self.verbs.push(tw::Verb::Say(say));
    }

    /// The awaited node, checked to be the session's current node and to exist in the flow.
    fn resolve(&mut self, session: &mut Session, name: &str) -> Option<&'a Node> {
        if session.node != name {
            let message = format!(
                "the session waits at `{name}` but its current node is `{}`",
                session.node
            );
            self.fail(session, message);
            return None;
        }
        let flow = self.flow;
        match flow.find(name).and_then(|id| flow.nodes.get(id.index())) {
            Some(node) => Some(node),
            None => {
                self.fail(
                    session,
                    format!("node `{name}` is not in this flow version"),
                );
                None
            }
        }
    }

    fn wrong_kind(&mut self, session: &mut Session, node: &Node, expected: &str) {
        let message = format!(
            "node `{}` is a {} node, expected a {expected} node",
            node.id,
            node.kind.name()
        );
        self.fail(session, message);
    }

    fn name_of(&self, id: NodeId) -> String {
        self.flow
            .nodes
            .get(id.index())
            .map(|n| n.id.clone())
            .unwrap_or_default()
    }
}

/// Stores an answer: `answer` (transcript, else digits), `digits`, `confidence`, `intent` and
/// `intent_confidence` (when the intent engine recognised one; cleared otherwise), and the
/// ask's `save-as` variable.
fn store_answer(
    session: &mut Session,
    ask: &Ask,
    speech: Option<&(String, f32)>,
    digits: Option<&str>,
    intent: Option<&Understood>,
) {
    let text = speech
        .map(|(s, _)| s.as_str())
        .or(digits)
        .unwrap_or_default()
        .to_owned();
    match digits {
        Some(d) => {
            session
                .vars
                .insert("digits".into(), Literal::Text(d.to_owned()));
        }
        None => {
            session.vars.remove("digits");
        }
    }
    match speech {
        Some((_, c)) => {
            let rounded = (f64::from(*c) * 1000.0).round() / 1000.0;
            session
                .vars
                .insert("confidence".into(), Literal::Number(rounded));
        }
        None => {
            session.vars.remove("confidence");
        }
    }
    match intent {
        Some(i) => {
            let rounded = (f64::from(i.confidence) * 1000.0).round() / 1000.0;
            session
                .vars
                .insert("intent".into(), Literal::Text(i.intent.clone()));
            session
                .vars
                .insert("intent_confidence".into(), Literal::Number(rounded));
        }
        None => {
            session.vars.remove("intent");
            session.vars.remove("intent_confidence");
        }
    }
    if ask.save_as != "answer" {
        session
            .vars
            .insert(ask.save_as.clone(), Literal::Text(text.clone()));
    }
    session.vars.insert("answer".into(), Literal::Text(text));
}

/// A confidence in 0-1 (NaN and out-of-range values are clamped, NaN becomes 0).
fn clean_confidence(c: f32) -> f32 {
    if c.is_nan() { 0.0 } else { c.clamp(0.0, 1.0) }
}

/// Whether a `DialCallStatus` means the other party answered.
fn dial_answered(status: &str) -> bool {
    status.eq_ignore_ascii_case("completed") || status.eq_ignore_ascii_case("answered")
}

/// Whether a `QueueResult` means the caller's time in the queue is over for good (answered
/// by an agent, or hung up).
fn queue_finished(result: &str) -> bool {
    result.eq_ignore_ascii_case("bridged") || result.eq_ignore_ascii_case("hangup")
}

/// The dial target as text (for outcomes) and as a TwiML noun. `None` when a templated
/// number renders to something that is not a number or SIP URI.
fn dial_target(dial: &Dial, session: &Session) -> Option<(String, tw::DialTarget)> {
    match &dial.target {
        DialTarget::Number(n) => Some((n.clone(), tw::DialTarget::number(n.clone()))),
        DialTarget::Sip(uri) => Some((uri.clone(), tw::DialTarget::sip(uri.clone()))),
        DialTarget::Template(t) => {
            let raw = vars::render(t, session);
            let noun = render::runtime_dial_target(&raw)?;
            let text = match &noun {
                tw::DialTarget::Number { number, .. } => number.clone(),
                tw::DialTarget::Sip { uri, .. } => uri.clone(),
                other => other.describe(),
            };
            Some((text, noun))
        }
    }
}

/// `speech` normalized once for all of `routes`, when one of them matches keywords.
fn words_for(routes: &[Route], speech: Option<&str>) -> Option<matcher::Normalized> {
    let keywords = routes.iter().any(|r| {
        r.answer
            .iter()
            .any(|m| matches!(m, crate::AnswerMatch::Keywords(_)))
    });
    speech.filter(|_| keywords).map(matcher::normalize)
}
