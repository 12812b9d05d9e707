//! `hotline bot import`: converts an Amazon Lex V2 bot export (the `.zip` Lex's export produces,
//! or the folder it unpacks to) into a Hotline bot file.
//!
//! The pipeline: [`source`] reads the files with limits (zip entries through a hardened
//! reader), [`lex`] parses the JSON layout, [`map`] builds [`crate::model::BotFile`] and lists
//! what it could not carry over, then the bot is written as YAML (the list as comments on top)
//! and loaded back through the bot loader, so the output is valid by construction.
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
}

/// Imports the Lex V2 export at `path` (a `.zip` or a folder) with the default [`Limits`].
pub fn import_lex(path: &Path) -> Result<Imported, ImportError> {
    import_lex_with(path, &Limits::default())
}

/// Imports the Lex V2 export at `path` with explicit limits.
pub fn import_lex_with(path: &Path, limits: &Limits) -> Result<Imported, ImportError> {
    let files = source::read_export(path, limits)?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    convert(&files, &label)
}

/// Imports a Lex V2 export zip already in memory (`label` names it in messages), e.g. an
/// upload.
pub fn import_lex_zip_bytes(
    bytes: &[u8],
    label: &str,
    limits: &Limits,
) -> Result<Imported, ImportError> {
    if bytes.len() as u64 > limits.max_archive_bytes {
        return Err(ImportError::Source(SourceError::TooLarge {
            path: label.into(),
            what: format!("{} bytes (limit {})", bytes.len(), limits.max_archive_bytes),
        }));
    }
    let files = source::zip_bytes(bytes, Path::new(label), limits)?;
    convert(&files, label)
}

fn convert(files: &source::ExportFiles, label: &str) -> Result<Imported, ImportError> {
    let export = lex::read_layout(files)?;
    let mut notes = notes::Notes::default();
    for skipped in &files.skipped {
        notes.add(
            &notes::Here::file(skipped),
            "symbolic link",
            "links are not followed when reading an export folder",
        );
    }
    let bot = map::map_export(&export, &mut notes);
    let body = serde_saphyr::to_string(&bot)
        .map_err(|e| ImportError::Invalid(format!("cannot write YAML: {e}")))?;
    let yaml = format!("{}{body}", header(label, &notes.0));
    check(&yaml, &bot)?;
    Ok(Imported {
        bot,
        yaml,
        not_carried: notes.0,
    })
}

/// Loads the YAML back as a bot file and checks it is the bot that was built.
fn check(yaml: &str, bot: &BotFile) -> Result<(), ImportError> {
    let reloaded: BotFile =
        serde_saphyr::from_str(yaml).map_err(|e| ImportError::Invalid(e.to_string()))?;
    if &reloaded != bot {
        return Err(ImportError::Invalid(
            "the YAML does not read back as the converted bot".into(),
        ));
    }
    Ok(())
}

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
