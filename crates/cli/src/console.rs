//! What `hotline serve` tells its operator on standard error (the start-up banner, warnings,
//! flow diagnostics), in the log format chosen: plain lines, or with `--log-format json` one
//! JSON object per line, the same shape as the log events', so that a log shipper reads one
//! format from the process.

use std::fmt::Arguments;
use std::sync::atomic::{AtomicBool, Ordering};

/// The log target of these lines, always enabled in JSON mode (the banner is not optional).
pub(crate) const TARGET: &str = "hotline_console";

static JSON: AtomicBool = AtomicBool::new(false);

/// From now on, lines are JSON log events (`init_logging` set up the JSON subscriber).
pub(crate) fn use_json() {
    JSON.store(true, Ordering::Relaxed);
}

/// A line of information.
pub(crate) fn info(args: Arguments) {
    if JSON.load(Ordering::Relaxed) {
        tracing::info!(target: TARGET, "{args}");
    } else {
        eprintln!("{args}");
    }
}

/// A warning or an error (text: the line says which).
pub(crate) fn warn(args: Arguments) {
    if JSON.load(Ordering::Relaxed) {
        tracing::warn!(target: TARGET, "{args}");
    } else {
        eprintln!("{args}");
    }
}

/// A block of lines (a compiler-style report, ending with a line break) as one message.
pub(crate) fn block(text: &str) {
    if JSON.load(Ordering::Relaxed) {
        tracing::warn!(target: TARGET, "{}", text.trim_end());
    } else {
        eprint!("{text}");
    }
}
