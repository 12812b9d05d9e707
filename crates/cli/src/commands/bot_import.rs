//! `hotline bot import`: converts an Amazon Lex V2 bot export (the `.zip` or its folder) into a
//! Hotline bot file. Glue only: the conversion and its report live in
//! `hotline_localbot::import`.
//!
//! Output: the bot's YAML on stdout, or in `-o OUT.yaml`; the list of what was not carried over
//! on stderr (and as comments at the top of the YAML). `--json` prints a machine-readable
//! report on stdout instead of the YAML. Exit status: 0 when the bot was written (findings are
//! warnings), 1 when the export cannot be read or converted, 2 when the output cannot be
//! written.

use anyhow::Context;
use clap::Args;
use hotline_localbot::import::{ImportOptions, Imported, import_lex_with, render_not_carried};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `hotline bot import`.
#[derive(Debug, Args)]
pub(crate) struct BotImportArgs {
    /// The Lex V2 export: the `.zip` that Lex's "Export" produced, or the folder it unpacks to
    /// (the one holding `Manifest.json`).
    #[arg(value_name = "EXPORT")]
    pub export: PathBuf,
    /// Write the bot file here instead of standard output.
    #[arg(short, long, value_name = "OUT.yaml")]
    pub output: Option<PathBuf>,
    /// Print a JSON report on standard output: the bot's id, locales, intents, slot types, the
    /// output file (or the YAML itself when there is no -o) and every finding not carried over.
    #[arg(long)]
    pub json: bool,
    /// Import only this locale (`fr_FR`). By default every locale that has the same intents
    /// and slots as the primary one is imported (a Hotline bot has the same intents in every
    /// locale); the others are listed, to be imported on their own with this option.
    #[arg(long, value_name = "LOCALE")]
    pub locale: Option<String>,
}

/// Runs `hotline bot import`.
pub(crate) fn run(args: BotImportArgs) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        locale: args.locale.clone(),
        ..ImportOptions::default()
    };
    let imported = match import_lex_with(&args.export, &options) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: cannot import {}: {e}", args.export.display());
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(out) = &args.output {
        write_atomically(out, imported.yaml.as_bytes())
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let report = json_report(&imported, args.output.as_deref());
        writeln!(stdout, "{report}").context("cannot write to standard output")?;
    } else if args.output.is_none() {
        stdout
            .write_all(imported.yaml.as_bytes())
            .context("cannot write to standard output")?;
    }
    stdout.flush().context("cannot write to standard output")?;

    let file = &imported.bot;
    let intents: usize = file.locales.iter().map(|(_, l)| l.intents.len()).sum();
    eprintln!(
        "imported Lex bot into `{}`: {} locale(s) ({}), {} intent(s){}",
        file.bot,
        file.locales.len(),
        file.locales.keys().collect::<Vec<_>>().join(", "),
        intents,
        args.output
            .as_ref()
            .map(|o| format!(", written to {}", o.display()))
            .unwrap_or_default()
    );
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    if imported.not_carried.is_empty() {
        eprintln!("everything in the export was carried over");
    } else {
        eprintln!(
            "not carried over, or carried over differently ({} findings; also at the top of the bot file):",
            imported.not_carried.len()
        );
        for line in render_not_carried(&imported.not_carried) {
            eprintln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn json_report(imported: &Imported, output: Option<&Path>) -> serde_json::Value {
    let locales: Vec<serde_json::Value> = imported
        .bot
        .locales
        .iter()
        .map(|(name, l)| {
            serde_json::json!({
                "locale": name,
                "intents": l.intents.keys().collect::<Vec<_>>(),
                "slot_types": l.slot_types.keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut report = serde_json::json!({
        "bot": imported.bot.bot,
        "locales": locales,
        "not_carried": imported.not_carried,
        "warnings": imported.warnings,
    });
    if let Some(map) = report.as_object_mut() {
        match output {
            Some(path) => {
                map.insert("output".into(), path.display().to_string().into());
            }
            None => {
                map.insert("yaml".into(), imported.yaml.clone().into());
            }
        }
    }
    report
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so an interrupted
/// import never leaves half a bot file behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bot.yaml".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
