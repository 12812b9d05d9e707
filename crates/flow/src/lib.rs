//! The Hotline flow language: YAML call flows (say, ask, route, compute, act) parsed with
//! spans, validated like a compiler, and lowered to a typed [`Flow`] the runtime steps through.
//!
//! It also holds the sans-IO [`runtime`] that steps a call through a flow, one Twilio webhook
//! at a time, and builds the TwiML answer. Neither part places calls, opens sockets or fetches
//! webhooks: the only I/O is reading the flow file and checking that prompt files exist in a
//! local prompt folder. The format is documented in `docs/flows.md`.
//!
//! ```no_run
//! use std::path::Path;
//! match hotline_flow::load_flow(Path::new("examples/flows/sales-menu.yaml")) {
//!     Ok(loaded) => println!("{} nodes", loaded.flow.nodes.len()),
//!     Err(diags) => {
//!         let sources = hotline_flow::Sources::read_for(&diags);
//!         eprint!("{}", hotline_flow::render_diagnostics(&diags, &sources));
//!     }
//! }
//! ```

pub mod codes;
mod diagnostic;
pub mod graph;
mod lower;
pub mod matcher;
mod model;
pub mod runtime;
pub mod suggest;
pub mod template;
mod validate;
pub mod yaml;

use std::path::Path;

pub use diagnostic::{
    Diagnostic, Severity, Sources, Span, Spanned, render_diagnostics, render_diagnostics_with,
};
pub use lower::MAX_NODES;
pub use model::*;

/// Largest flow file accepted, in bytes.
pub const MAX_FLOW_BYTES: usize = 4 * 1024 * 1024;

/// A flow that passed validation, with the warnings found along the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated flow.
    pub flow: Flow,
    /// Warnings (unreachable nodes, unknown variables); never errors.
    pub warnings: Vec<Diagnostic>,
}

/// Reads, parses and validates a flow file. Relative prompt folders are resolved against the
/// file's folder. On failure, returns every diagnostic (errors and warnings) sorted by
/// position; render them with [`render_diagnostics`] and [`Sources::read_for`].
pub fn load_flow(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let whole = Span {
        start: 0,
        end: 0,
        line: 0,
        column: 0,
    };
    let too_large = |size: u64| {
        vec![
            Diagnostic::error(
                codes::TOO_LARGE,
                &file,
                whole,
                format!("the flow file is {size} bytes; the limit is {MAX_FLOW_BYTES}"),
                "file too large",
            )
            .with_help("split the flow into several files linked by `redirect`"),
        ]
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FLOW_BYTES as u64 => return Err(too_large(m.len())),
        _ => {}
    }
    let source = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                return Err(vec![
                    Diagnostic::error(
                        codes::YAML_SYNTAX,
                        &file,
                        whole,
                        format!(
                            "the flow file is not UTF-8 (invalid byte at offset {})",
                            e.utf8_error().valid_up_to()
                        ),
                        "not UTF-8",
                    )
                    .with_help("save the file as UTF-8"),
                ]);
            }
        },
        Err(e) => {
            return Err(vec![Diagnostic::error(
                codes::YAML_SYNTAX,
                &file,
                whole,
                format!("cannot read the flow file: {e}"),
                "unreadable",
            )]);
        }
    };
    load_flow_str(&source, &file, &lower::base_dir_of(path))
}

/// Parses and validates flow `source`. `file_name` is used in diagnostics; `base_dir` is the
/// folder relative prompt folders are resolved against (normally the flow file's folder).
pub fn load_flow_str(
    source: &str,
    file_name: &str,
    base_dir: &Path,
) -> Result<Loaded, Vec<Diagnostic>> {
    if source.len() > MAX_FLOW_BYTES {
        return Err(vec![
            Diagnostic::error(
                codes::TOO_LARGE,
                file_name,
                Span::default(),
                format!(
                    "the flow is {} bytes; the limit is {MAX_FLOW_BYTES}",
                    source.len()
                ),
                "file too large",
            )
            .with_help("split the flow into several files linked by `redirect`"),
        ]);
    }
    let mut diags = Vec::new();
    let Some(tree) = yaml::parse(source, file_name, &mut diags) else {
        return Err(diags);
    };
    let mut lowerer = lower::Lowerer::new(file_name, base_dir);
    let flow = lowerer.lower(&tree, source);
    let mut diags = std::mem::take(&mut lowerer.diags);
    validate::check(&lowerer.facts, file_name, &mut diags);
    diags.sort_by(|a, b| {
        (a.line, a.column, a.severity, a.code).cmp(&(b.line, b.column, b.severity, b.code))
    });
    diags.dedup();
    match flow {
        Some(flow) if !diags.iter().any(Diagnostic::is_error) => Ok(Loaded {
            flow,
            warnings: diags,
        }),
        _ => Err(diags),
    }
}
