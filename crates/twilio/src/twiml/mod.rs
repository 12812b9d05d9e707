//! TwiML for Voice: the data model, a typed builder, rendering and parsing.
//!
//! The model keeps every attribute as `Option` so that a document round-trips exactly
//! (build → render → parse gives back the same value); accessor methods such as
//! [`Gather::timeout_secs`] apply Twilio's documented defaults.
//!
//! This module must stay pure: no I/O, no clocks.

mod model;
mod parse;
mod render;

pub use model::*;
pub use parse::{Diagnostic, ParseError, Parsed, parse};
