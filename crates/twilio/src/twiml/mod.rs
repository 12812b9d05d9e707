//! TwiML for Voice: the data model, a typed builder, rendering and parsing.
//!
//! The model keeps every attribute as `Option` so that a document round-trips exactly
//! (build → render → parse gives back the same value); accessor methods such as
//! [`Gather::timeout_secs`] apply Twilio's documented defaults. The one exception to exact
//! round trips: [`parse`] trims whitespace at both ends of element text (`<Say>`, URLs, numbers),
//! so such whitespace in a model does not survive rendering and parsing.
//!
//! [`parse`] reports every problem with a line, a column and a stable [`Code`]: errors make the
//! document fail (Twilio's "application error"), warnings let the call go on with defaults.
//!
//! This module must stay pure: no I/O, no clocks.

mod model;
mod parse;
mod render;

pub use model::*;
pub use parse::{
    Code, Diagnostic, MAX_DEPTH, MAX_INPUT_BYTES, MAX_WARNINGS, ParseError, Parsed, parse,
};
