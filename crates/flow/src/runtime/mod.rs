//! The flow runtime: steps one call through a validated [`Flow`], one webhook at a time.
//!
//! Sans-IO: the server decodes Twilio's webhook into an [`Input`], loads the call's
//! [`Session`], calls [`step`], stores the session and the [`Turn::events`], and answers
//! Twilio with [`Turn::response`] rendered by `to_xml()`. When the turn carries an
//! [`Effect`] (a webhook to call), the server performs it, steps again with the result and
//! chains the turns with [`Turn::then`] before answering. Nothing here reads a clock, opens a
//! socket or draws a random number; URLs come from the server's [`Links`].
//!
//! ```no_run
//! use hotline_flow::runtime::{self, CallFacts, Input, Links, Session};
//! use hotline_flow::{Audio, Flow};
//!
//! struct MyLinks;
//! impl Links for MyLinks {
//!     fn action(&self, s: &Session) -> String {
//!         format!("https://ivr.example.com/calls/{}/step?seq={}", s.call_sid, s.seq)
//!     }
//!     fn prompt(&self, _flow: &Flow, audio: &Audio, _language: &str) -> Option<String> {
//!         match audio {
//!             Audio::Url(u) => Some(u.clone()),
//!             Audio::File { resolved, .. } => Some(format!("https://ivr.example.com/prompts/{resolved}")),
//!         }
//!     }
//!     fn flow_entry(&self, flow_id: &str) -> String {
//!         format!("https://ivr.example.com/flows/{flow_id}/start")
//!     }
//! }
//!
//! # fn demo(flow: &Flow) {
//! let facts = CallFacts { call_sid: "CA1".into(), from: "+33600000000".into(),
//!                         to: "+33100000000".into(), now_unix_ms: 0 };
//! let (mut session, turn) = runtime::start(flow, facts, &MyLinks);
//! let xml = turn.response.to_xml(); // answer the incoming-call webhook
//! // … later, Twilio posts the <Gather> result to the action URL with seq=1:
//! if runtime::is_current(&session, 1) {
//!     let input = Input::Gathered { speech: Some(("oui".into(), 0.9)), digits: None, intent: None };
//!     let turn = runtime::step(flow, &mut session, input, &MyLinks);
//!     # let _ = (xml, turn);
//! }
//! # }
//! ```
//!
//! Semantics are documented in `docs/flows.md`, "Runtime semantics".
//!
//! Files: [`session`](Session) (state between webhooks), `input` (what comes in), `turn`
//! (what goes out), `links` (URL building), `engine` (the stepping machine), `render`
//! (TwiML building), `vars` (variables), `webhook` (the webhook contract), `messages`
//! (built-in sentences).

mod codec;
mod engine;
mod input;
mod links;
mod messages;
mod render;
mod session;
mod turn;
mod vars;
mod webhook;

pub use codec::SESSION_MAGIC;
pub use engine::{MAX_HOPS, MAX_STEPS, start, step};
pub use input::{Input, Understood};
pub use links::Links;
pub use session::{Awaiting, CallFacts, MAX_PATH, NodePath, SeqCheck, Session, is_current};
pub use turn::{Effect, Outcome, StepEvent, Turn};

#[cfg(doc)]
use crate::Flow;
