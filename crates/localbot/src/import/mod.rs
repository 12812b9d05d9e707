//! `hotline bot import`: converts an Amazon Lex V2 bot export (the `.zip` Lex's export produces,
//! or the folder it unpacks to) into a Hotline bot file.
//!
//! The pipeline: `source.rs` reads the files with limits (zip entries through a hardened
//! reader, `zip.rs` and `inflate.rs`), `lex.rs` parses the JSON layout (it cites the AWS pages
//! the schema comes from), `map.rs` builds [`crate::model::BotFile`] and lists
//! what it could not carry over, then the bot is written as YAML (the list as comments on top)
//! and loaded back through the bot loader ([`crate::parse_bot`]), so the output is valid by
//! construction.
//!
//! Nothing from the export is dropped silently: every feature, setting or unknown field that
//! the Hotline bot does not keep is a [`NotCarried`] entry with the file, place and reason.

mod inflate;
mod lex;
mod map;
mod notes;
mod source;
mod zip;

pub use inflate::InflateError;
pub use lex::LexError;
pub use notes::{NotCarried, render as render_not_carried};
pub use source::SourceError;
pub use zip::{Limits, ZipError};

use crate::model::BotFile;
use std::path::Path;
use thiserror::Error;

/// Why an export could not be imported.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The export's files could not be read (missing path, unreadable or unsafe zip, too
    /// large). See the cause for the file and the remedy.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The export's JSON is missing a required file or is malformed. See the cause for the
    /// file (and line and column).
    #[error(transparent)]
    Lex(#[from] LexError),
    /// The converted bot did not pass Hotline's bot checks. This is an importer bug: please
    /// report it with the export (the message lists the problems).
    #[error("the converted bot is not valid (an importer bug, please report it): {0}")]
    Invalid(String),
}

/// The result of an import.
#[derive(Debug)]
pub struct Imported {
    /// The converted bot.
    pub bot: BotFile,
    /// The bot file to write: the not-carried-over list as comments, then the YAML.
    pub yaml: String,
    /// Everything not carried over, in the order found.
    pub not_carried: Vec<NotCarried>,
    /// What the bot checks (`hotline check`) warn about in the generated file, rendered as
    /// `CODE line:column: message`; the bot is valid, but worth a look.
    pub warnings: Vec<String>,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Limits on the export's size.
    pub limits: Limits,
    /// Import only this locale (`fr_FR`). By default every locale with the same intents and
    /// slots as the primary one is imported.
    pub locale: Option<String>,
}

/// Imports the Lex V2 export at `path` (a `.zip` or a folder) with the default options.
pub fn import_lex(path: &Path) -> Result<Imported, ImportError> {
    import_lex_with(path, &ImportOptions::default())
}

/// Imports the Lex V2 export at `path` with explicit options.
pub fn import_lex_with(path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let files = source::read_export(path, &options.limits)?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    convert(&files, &label, options)
}

/// Imports a Lex V2 export zip already in memory (`label` names it in messages), e.g. an
/// upload.
pub fn import_lex_zip_bytes(
    bytes: &[u8],
    label: &str,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let limits = &options.limits;
    if bytes.len() as u64 > limits.max_archive_bytes {
        return Err(ImportError::Source(SourceError::TooLarge {
            path: label.into(),
            what: format!("{} bytes (limit {})", bytes.len(), limits.max_archive_bytes),
        }));
    }
    let files = source::zip_bytes(bytes, Path::new(label), limits)?;
    convert(&files, label, options)
}

fn convert(
    files: &source::ExportFiles,
    label: &str,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let export = lex::read_layout(files)?;
    let mut notes = notes::Notes::default();
    for skipped in &files.skipped {
        notes.add(
            &notes::Here::file(skipped),
            "symbolic link",
            "links are not followed when reading an export folder",
        );
    }
    let bot = map::map_export(&export, options.locale.as_deref(), &mut notes)?;
    let body = serde_saphyr::to_string(&bot)
        .map_err(|e| ImportError::Invalid(format!("cannot write YAML: {e}")))?;
    let yaml = format!("{}{body}", header(label, &notes.0));
    let warnings = check(&yaml, &bot)?;
    Ok(Imported {
        bot,
        yaml,
        not_carried: notes.0,
        warnings,
    })
}

/// Loads the YAML back through the bot loader (shape, model and semantic checks, as
/// `hotline check` does) and checks it is the bot that was built. Returns the loader's
/// warnings, rendered.
fn check(yaml: &str, bot: &BotFile) -> Result<Vec<String>, ImportError> {
    let show = |d: &hotline_flow::Diagnostic| {
        format!(
            "{} {}:{}: {}{}",
            d.code,
            d.line,
            d.column,
            d.message,
            d.help
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        )
    };
    let loaded = crate::parse_bot(yaml, IMPORTED_NAME).map_err(|diags| {
        ImportError::Invalid(diags.iter().map(show).collect::<Vec<_>>().join("; "))
    })?;
    if &loaded.bot.file != bot {
        return Err(ImportError::Invalid(
            "the YAML does not read back as the converted bot".into(),
        ));
    }
    Ok(loaded.warnings.iter().map(show).collect())
}

/// The name the generated file is checked under.
const IMPORTED_NAME: &str = "imported-bot.yaml";

/// The comment block at the top of the bot file.
fn header(label: &str, notes: &[NotCarried]) -> String {
    let mut out = format!(
        "# Imported from the Amazon Lex V2 export {} by `hotline bot import`.\n",
        comment_safe(label)
    );
    if notes.is_empty() {
        out.push_str("# Everything in the export was carried over.\n\n");
        return out;
    }
    out.push_str(&format!(
        "# Not carried over, or carried over differently ({} findings):\n",
        notes.len()
    ));
    for line in render_not_carried(notes) {
        out.push_str("# ");
        out.push_str(&comment_safe(&line));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Text safe inside a YAML comment (and a terminal): control characters replaced.
pub(crate) fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
