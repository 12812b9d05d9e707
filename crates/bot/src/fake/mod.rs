//! The scripted fake engine, for tests and demos: a keyword → intent table with slots elicited
//! in turn, or a fixed list of expected turns → replies; it can also simulate latency and errors.

mod backend;
mod config;

pub use backend::FakeEngine;
pub use config::{FakeConfig, FakeError, FakeFailure, FakeIntent, FakeSlot, ScriptedTurn};
