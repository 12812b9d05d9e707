//! Reads the `.zip` that Lex's export produces into memory, treating every byte as hostile.
//!
//! Only what a Lex export uses is supported: a single-disk archive (no Zip64), entries stored or
//! deflated, no encryption. The central directory is the source of truth (as in every mainstream
//! reader). Limits: number of entries, size of each entry and of all entries together (checked
//! against the declared sizes first, then enforced while decompressing, since a declared size can
//! lie), and CRC-32 verified. Entry names must be UTF-8 relative paths with no `..`, no absolute
//! or drive prefix and no duplicates. It must never panic or allocate past the limits, whatever
//! the archive contains.

use super::inflate::{InflateError, inflate};
use thiserror::Error;

/// Limits applied while reading an export (zip or folder).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most files (zip entries, folder files) read.
    pub max_entries: usize,
    /// Largest single file, uncompressed, in bytes.
    pub max_entry_bytes: usize,
    /// Largest total of all files, uncompressed, in bytes.
    pub max_total_bytes: usize,
    /// Largest archive file, in bytes.
    pub max_archive_bytes: u64,
}

impl Default for Limits {
    /// Generous for Lex (a bot with hundreds of intents exports to a few megabytes), small for a
    /// zip bomb.
    fn default() -> Self {
        Limits {
            max_entries: 20_000,
            max_entry_bytes: 16 << 20,
            max_total_bytes: 128 << 20,
            max_archive_bytes: 128 << 20,
        }
    }
}

/// Why a zip archive could not be read.
#[derive(Debug, Error)]
pub enum ZipError {
    /// The file is not a zip archive (no end-of-central-directory record), or is truncated.
    /// Pass the `.zip` Lex produced, or the folder it unpacks to.
    #[error("not a zip archive, or a truncated one ({0})")]
    NotZip(&'static str),
    /// The archive uses a feature Lex exports never use (multi-disk, Zip64, encryption, a
    /// compression method other than stored/deflate). Unpack it with a zip tool and import the
    /// folder.
    #[error("unsupported zip feature: {0}")]
    Unsupported(String),
    /// The archive's structure is inconsistent (offsets or sizes pointing outside the file,
    /// bad signatures, CRC mismatch). Download the export again.
    #[error("corrupt zip archive: {0}")]
    Corrupt(String),
    /// An entry's name is unsafe or unreadable (absolute path, `..`, drive letter, not UTF-8,
    /// duplicate). Such an archive is not a Lex export; nothing was extracted.
    #[error("unsafe entry name {name:?}: {why}")]
    UnsafeName {
        /// The name, with invalid UTF-8 replaced.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The archive exceeds a limit (entries, entry size, total size). Lex exports are far
    /// smaller; check that this is really a Lex export.
    #[error("the archive is too large: {0}")]
    TooLarge(String),
    /// An entry could not be decompressed.
    #[error("entry {name:?}: {source}")]
    Inflate {
        /// The entry's name.
        name: String,
        /// What went wrong.
        source: InflateError,
    },
}

/// One file of the archive.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The path inside the archive, `/`-separated, validated.
    pub name: String,
    /// The uncompressed content.
    pub data: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn corrupt(what: impl Into<String>) -> ZipError {
    ZipError::Corrupt(what.into())
}

const EOCD_SIG: u32 = 0x0605_4b50;
const CDH_SIG: u32 = 0x0201_4b50;
const LFH_SIG: u32 = 0x0403_4b50;

/// Reads every file entry of `archive` (directories are skipped).
pub(crate) fn read_zip(archive: &[u8], limits: &Limits) -> Result<Vec<Entry>, ZipError> {
    let eocd = find_eocd(archive)?;
    let disk = u16_at(archive, eocd + 4).unwrap_or(0);
    let cd_disk = u16_at(archive, eocd + 6).unwrap_or(0);
    let on_disk = u16_at(archive, eocd + 8).unwrap_or(0);
    let total = u16_at(archive, eocd + 10).unwrap_or(0);
    let cd_size = u32_at(archive, eocd + 12).unwrap_or(0);
    let cd_offset = u32_at(archive, eocd + 16).unwrap_or(0);
    if disk != 0 || cd_disk != 0 || on_disk != total {
        return Err(ZipError::Unsupported("multi-disk archive".into()));
    }
    if total == u16::MAX || cd_size == u32::MAX || cd_offset == u32::MAX {
        return Err(ZipError::Unsupported("Zip64 archive".into()));
    }
    let total = usize::from(total);
    if total > limits.max_entries {
        return Err(ZipError::TooLarge(format!(
            "{total} entries (limit {})",
            limits.max_entries
        )));
    }
    let cd_start = usize::try_from(cd_offset).map_err(|_| corrupt("central directory offset"))?;
    let cd_end = cd_start
        .checked_add(usize::try_from(cd_size).map_err(|_| corrupt("central directory size"))?)
        .ok_or_else(|| corrupt("central directory size"))?;
    if cd_end > eocd {
        return Err(corrupt("central directory outside the archive"));
    }

    let mut entries = Vec::with_capacity(total);
    let mut seen = std::collections::BTreeSet::new();
    let mut declared_total: u64 = 0;
    let mut produced_total: usize = 0;
    let mut at = cd_start;
    for _ in 0..total {
        if u32_at(archive, at) != Some(CDH_SIG) {
            return Err(corrupt("bad central directory entry signature"));
        }
        let field = |off: usize| u16_at(archive, at + off).ok_or_else(|| corrupt("truncated"));
        let field32 = |off: usize| u32_at(archive, at + off).ok_or_else(|| corrupt("truncated"));
        let flags = field(8)?;
        let method = field(10)?;
        let crc = field32(16)?;
        let comp_size = field32(20)?;
        let uncomp_size = field32(24)?;
        let name_len = usize::from(field(28)?);
        let extra_len = usize::from(field(30)?);
        let comment_len = usize::from(field(32)?);
        let local_offset = field32(42)?;
        let name_bytes = archive
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| corrupt("truncated entry name"))?;
        at += 46 + name_len + extra_len + comment_len;
        if at > cd_end {
            return Err(corrupt("central directory entry past its end"));
        }

        let name = std::str::from_utf8(name_bytes).map_err(|_| ZipError::UnsafeName {
            name: String::from_utf8_lossy(name_bytes).into_owned(),
            why: "not UTF-8",
        })?;
        let name = safe_name(name)?;
        if name.ends_with('/') {
            continue; // a directory
        }
        if !seen.insert(name.clone()) {
            return Err(ZipError::UnsafeName {
                name,
                why: "appears twice",
            });
        }
        if flags & 1 != 0 {
            return Err(ZipError::Unsupported(format!("{name}: encrypted entry")));
        }
        if comp_size == u32::MAX || uncomp_size == u32::MAX {
            return Err(ZipError::Unsupported(format!("{name}: Zip64 entry")));
        }
        let uncomp = usize::try_from(uncomp_size).unwrap_or(usize::MAX);
        if uncomp > limits.max_entry_bytes {
            return Err(ZipError::TooLarge(format!(
                "{name} declares {uncomp} bytes (limit {} per file)",
                limits.max_entry_bytes
            )));
        }
        declared_total += u64::from(uncomp_size);
        if declared_total > limits.max_total_bytes as u64 {
            return Err(ZipError::TooLarge(format!(
                "the entries declare more than {} bytes in total",
                limits.max_total_bytes
            )));
        }

        // The local header repeats the name; its own lengths give the data's start.
        let local = usize::try_from(local_offset).map_err(|_| corrupt("local header offset"))?;
        if local >= cd_start || u32_at(archive, local) != Some(LFH_SIG) {
            return Err(corrupt(format!("{name}: bad local header")));
        }
        let local_name = usize::from(u16_at(archive, local + 26).unwrap_or(0));
        let local_extra = usize::from(u16_at(archive, local + 28).unwrap_or(0));
        let data_start = local + 30 + local_name + local_extra;
        let data_end = data_start
            .checked_add(usize::try_from(comp_size).unwrap_or(usize::MAX))
            .filter(|&end| end <= cd_start)
            .ok_or_else(|| corrupt(format!("{name}: data outside the archive")))?;
        let raw = archive
            .get(data_start..data_end)
            .ok_or_else(|| corrupt(format!("{name}: data outside the archive")))?;

        let cap = uncomp.min(limits.max_total_bytes.saturating_sub(produced_total));
        let data = match method {
            0 => {
                if raw.len() != uncomp {
                    return Err(corrupt(format!("{name}: stored size mismatch")));
                }
                raw.to_vec()
            }
            8 => inflate(raw, cap).map_err(|source| ZipError::Inflate {
                name: name.clone(),
                source,
            })?,
            other => {
                return Err(ZipError::Unsupported(format!(
                    "{name}: compression method {other}"
                )));
            }
        };
        if data.len() != uncomp {
            return Err(corrupt(format!(
                "{name}: {} bytes, {uncomp} declared",
                data.len()
            )));
        }
        if crc32(&data) != crc {
            return Err(corrupt(format!("{name}: CRC-32 mismatch")));
        }
        produced_total += data.len();
        entries.push(Entry { name, data });
    }
    Ok(entries)
}

/// Finds the end-of-central-directory record, scanning back over a possible comment.
fn find_eocd(archive: &[u8]) -> Result<usize, ZipError> {
    if archive.len() < 22 {
        return Err(ZipError::NotZip("shorter than an empty archive"));
    }
    let lowest = archive.len().saturating_sub(22 + usize::from(u16::MAX));
    let mut at = archive.len() - 22;
    loop {
        if u32_at(archive, at) == Some(EOCD_SIG) {
            let comment = usize::from(u16_at(archive, at + 20).unwrap_or(0));
            if at + 22 + comment == archive.len() {
                return Ok(at);
            }
        }
        if at == lowest {
            return Err(ZipError::NotZip("no end-of-central-directory record"));
        }
        at -= 1;
    }
}

/// Validates an entry name as a relative path that stays inside the export.
pub(crate) fn safe_name(name: &str) -> Result<String, ZipError> {
    let unsafe_name = |why| ZipError::UnsafeName {
        name: name.to_string(),
        why,
    };
    if name.is_empty() {
        return Err(unsafe_name("empty"));
    }
    if name.contains('\0') || name.chars().any(char::is_control) {
        return Err(unsafe_name("control character"));
    }
    let normalised = name.replace('\\', "/");
    if normalised.starts_with('/') {
        return Err(unsafe_name("absolute path"));
    }
    let bytes = normalised.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err(unsafe_name("drive letter"));
    }
    if normalised.split('/').any(|part| part == "..") {
        return Err(unsafe_name("`..` leaves the export"));
    }
    Ok(normalised)
}

/// CRC-32 (IEEE 802.3, as zip uses).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &byte in data {
        crc = TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn unsafe_names_are_rejected() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "\\x",
            "C:/x",
            "a\\..\\x",
            "",
            "a\0b",
        ] {
            assert!(safe_name(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(safe_name("Bot/Bot.json").unwrap(), "Bot/Bot.json");
        assert_eq!(safe_name("Bot\\Bot.json").unwrap(), "Bot/Bot.json");
        assert_eq!(safe_name("a..b/c").unwrap(), "a..b/c");
    }

    #[test]
    fn not_a_zip() {
        assert!(matches!(
            read_zip(b"hello", &Limits::default()),
            Err(ZipError::NotZip(_))
        ));
        assert!(matches!(
            read_zip(&[0u8; 100], &Limits::default()),
            Err(ZipError::NotZip(_))
        ));
    }
}
