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

/// A warning.
pub(crate) fn warn(args: Arguments) {
    if JSON.load(Ordering::Relaxed) {
        tracing::warn!(target: TARGET, "{args}");
    } else {
        eprintln!("{args}");
    }
}

/// An error: what stopped the command.
pub(crate) fn error(args: Arguments) {
    if JSON.load(Ordering::Relaxed) {
        tracing::error!(target: TARGET, "{args}");
    } else {
        eprintln!("{args}");
    }
}

/// A block of lines (a compiler-style report, ending with a line break) as one message: an
/// error when `fatal`, else a warning.
pub(crate) fn block(text: &str, fatal: bool) {
    if !JSON.load(Ordering::Relaxed) {
        eprint!("{text}");
    } else if fatal {
        tracing::error!(target: TARGET, "{}", text.trim_end());
    } else {
        tracing::warn!(target: TARGET, "{}", text.trim_end());
    }
}
