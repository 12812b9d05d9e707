//! Twilio protocol core for Hotline.
//!
//! Pure codecs for everything that crosses the wire between Twilio and a TwiML application:
//!
//! - [`twiml`]: the TwiML for Voice data model, a typed builder, a renderer and a parser whose
//!   errors carry line and column.
//! - [`signature`]: computing and validating `X-Twilio-Signature` (form posts, query strings,
//!   `bodySHA256` bodies, WebSocket upgrades), compared in constant time.
//! - [`stream`]: Media Streams WebSocket messages, both directions.
//! - [`rest`]: the live-call update request (`POST …/Calls/{CallSid}.json`), its retry policy,
//!   and a small HTTP driver.
//! - [`webhook`]: the voice webhook's request parameters.
//!
//! Nothing here opens a socket except [`rest::RestClient`], the thin driver at the edge.

pub mod rest;
pub mod signature;
pub mod stream;
pub mod twiml;
pub mod webhook;
