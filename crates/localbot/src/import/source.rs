//! Gathers the files of a Lex V2 export, from the `.zip` Lex produces or the folder it unpacks
//! to, into one in-memory tree keyed by `/`-separated relative paths.
//!
//! Both inputs go through the same limits (file count, file size, total size). A folder is
//! walked without following symbolic links (a link could point anywhere on the machine); links
//! found are reported, not read. Nothing here interprets the files: see `lex.rs`.

use super::zip::{Limits, ZipError, read_zip};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why the export's files could not be read.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The path does not exist or cannot be read. Check the path and its permissions.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The zip archive is unreadable, unsafe or too large (see the cause).
    #[error("{path}: {source}")]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What is wrong with it.
        source: ZipError,
    },
    /// The folder exceeds a limit (files, file size, total size, depth). Lex exports are far
    /// smaller: point at the export's own folder, not a parent.
    #[error("{path}: too large: {what}")]
    TooLarge {
        /// The folder or file.
        path: PathBuf,
        /// Which limit.
        what: String,
    },
    /// A file name in the folder is not UTF-8. Lex names are ASCII: rename the file.
    #[error("{0}: file name is not UTF-8")]
    NonUtf8Name(PathBuf),
}

/// The export's files, by relative path.
#[derive(Debug, Default)]
pub(crate) struct ExportFiles {
    /// `/`-separated relative path → content.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Paths skipped while reading (symbolic links), for the report.
    pub skipped: Vec<String>,
}

/// Reads `path`: a folder, or a zip archive (any other file is tried as a zip).
pub(crate) fn read_export(path: &Path, limits: &Limits) -> Result<ExportFiles, SourceError> {
    let meta = std::fs::metadata(path).map_err(|source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        let mut out = ExportFiles::default();
        let mut total = 0usize;
        walk(path, path, 0, limits, &mut out, &mut total)?;
        Ok(out)
    } else {
        if meta.len() > limits.max_archive_bytes {
            return Err(SourceError::TooLarge {
                path: path.to_path_buf(),
                what: format!("{} bytes (limit {})", meta.len(), limits.max_archive_bytes),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        zip_bytes(&bytes, path, limits)
    }
}

/// Reads a zip archive already in memory (`label` names it in errors).
pub(crate) fn zip_bytes(
    bytes: &[u8],
    label: &Path,
    limits: &Limits,
) -> Result<ExportFiles, SourceError> {
    let entries = read_zip(bytes, limits).map_err(|source| SourceError::Zip {
        path: label.to_path_buf(),
        source,
    })?;
    Ok(ExportFiles {
        files: entries.into_iter().map(|e| (e.name, e.data)).collect(),
        skipped: Vec::new(),
    })
}

/// Folders deeper than this are not Lex exports (the deepest Lex path has 7 levels).
const MAX_DEPTH: usize = 16;

fn walk(
    root: &Path,
    dir: &Path,
    depth: usize,
    limits: &Limits,
    out: &mut ExportFiles,
    total: &mut usize,
) -> Result<(), SourceError> {
    let io = |source, path: &Path| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    if depth > MAX_DEPTH {
        return Err(SourceError::TooLarge {
            path: dir.to_path_buf(),
            what: format!("folders nested deeper than {MAX_DEPTH}"),
        });
    }
    let mut children = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(e, dir))? {
        children.push(entry.map_err(|e| io(e, dir))?.path());
    }
    children.sort();
    for child in children {
        let relative = child
            .strip_prefix(root)
            .unwrap_or(&child)
            .components()
            .map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| SourceError::NonUtf8Name(child.clone()))?
            .join("/");
        let meta = std::fs::symlink_metadata(&child).map_err(|e| io(e, &child))?;
        if meta.file_type().is_symlink() {
            out.skipped.push(relative);
        } else if meta.is_dir() {
            walk(root, &child, depth + 1, limits, out, total)?;
        } else if meta.is_file() {
            if out.files.len() >= limits.max_entries {
                return Err(SourceError::TooLarge {
                    path: root.to_path_buf(),
                    what: format!("more than {} files", limits.max_entries),
                });
            }
            let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
            if len > limits.max_entry_bytes {
                return Err(SourceError::TooLarge {
                    path: child,
                    what: format!("{len} bytes (limit {} per file)", limits.max_entry_bytes),
                });
            }
            *total = total.saturating_add(len);
            if *total > limits.max_total_bytes {
                return Err(SourceError::TooLarge {
                    path: root.to_path_buf(),
                    what: format!("more than {} bytes in total", limits.max_total_bytes),
                });
            }
            // Read at most the limit even if the file grew since its size was checked.
            let mut data = Vec::with_capacity(len.min(limits.max_entry_bytes));
            std::fs::File::open(&child)
                .and_then(|f| {
                    use std::io::Read;
                    f.take(limits.max_entry_bytes as u64 + 1)
                        .read_to_end(&mut data)
                })
                .map_err(|e| io(e, &child))?;
            if data.len() > limits.max_entry_bytes {
                return Err(SourceError::TooLarge {
                    path: child,
                    what: format!("more than {} bytes", limits.max_entry_bytes),
                });
            }
            out.files.insert(relative, data);
        }
    }
    Ok(())
}
