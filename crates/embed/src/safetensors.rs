//! Reads f32 tensors out of a `.safetensors` file: an 8-byte little-endian header length, a JSON
//! header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
//! Every size and offset in the header is checked against the file before anything is read, so a
//! truncated or damaged file is an error, never a panic or a huge allocation. It reads one tensor
//! at a time (no copy of the whole file in memory) and does nothing else.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::EmbedError;

/// Larger headers than this are refused (the real one is about 20 KB).
const MAX_HEADER: u64 = 16 << 20;

struct TensorInfo {
    dtype: String,
    shape: Vec<usize>,
    begin: u64,
    end: u64,
}

/// An open safetensors file whose header has been parsed and checked.
pub(crate) struct TensorFile {
    path: PathBuf,
    file: File,
    data_start: u64,
    tensors: BTreeMap<String, TensorInfo>,
}

impl TensorFile {
    pub(crate) fn open(path: &Path) -> Result<Self, EmbedError> {
        let mut file = File::open(path).map_err(|e| EmbedError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| EmbedError::io(path, e))?.len();
        let corrupt = |reason: String| EmbedError::corrupt(path, reason);
        if file_len < 8 {
            return Err(corrupt(format!("{file_len} bytes, too short for a header")));
        }
        let mut len_bytes = [0u8; 8];
        file.read_exact(&mut len_bytes)
            .map_err(|e| EmbedError::io(path, e))?;
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > MAX_HEADER || header_len > file_len - 8 {
            return Err(corrupt(format!(
                "header length {header_len} does not fit in the {file_len}-byte file"
            )));
        }
        let mut header = vec![0u8; usize::try_from(header_len).unwrap_or(0)];
        file.read_exact(&mut header)
            .map_err(|e| EmbedError::io(path, e))?;
        let data_start = 8 + header_len;
        let data_len = file_len - data_start;
        let json: serde_json::Value = serde_json::from_slice(&header)
            .map_err(|e| corrupt(format!("header is not JSON: {e}")))?;
        let entries = json
            .as_object()
            .ok_or_else(|| corrupt("header is not a JSON object".into()))?;
        let mut tensors = BTreeMap::new();
        for (name, entry) in entries {
            if name == "__metadata__" {
                continue;
            }
            let info = parse_entry(entry)
                .ok_or_else(|| corrupt(format!("malformed header entry for tensor `{name}`")))?;
            if info.begin > info.end || info.end > data_len {
                return Err(corrupt(format!(
                    "tensor `{name}` lies at bytes {}..{} beyond the {data_len} data bytes (truncated file?)",
                    info.begin, info.end
                )));
            }
            tensors.insert(name.clone(), info);
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            data_start,
            tensors,
        })
    }

    /// Reads tensor `name` as f32, checking that it is F32, has exactly `shape`, and holds only
    /// finite numbers.
    pub(crate) fn read_f32(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbedError> {
        let path = self.path.clone();
        let corrupt = |reason: String| EmbedError::corrupt(&path, reason);
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| corrupt(format!("tensor `{name}` is missing")))?;
        if info.dtype != "F32" {
            return Err(corrupt(format!(
                "tensor `{name}` is {}, expected F32",
                info.dtype
            )));
        }
        if info.shape != shape {
            return Err(corrupt(format!(
                "tensor `{name}` has shape {:?}, expected {shape:?}",
                info.shape
            )));
        }
        let count: usize = shape.iter().product();
        let bytes = info.end - info.begin;
        if usize::try_from(bytes).ok() != count.checked_mul(4) {
            return Err(corrupt(format!(
                "tensor `{name}` has {bytes} bytes for {count} f32 values"
            )));
        }
        self.file
            .seek(SeekFrom::Start(self.data_start + info.begin))
            .map_err(|e| EmbedError::io(&path, e))?;
        let mut raw = vec![0u8; count * 4];
        self.file
            .read_exact(&mut raw)
            .map_err(|e| EmbedError::io(&path, e))?;
        let values: Vec<f32> = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(corrupt(format!(
                "tensor `{name}` holds a non-finite value at index {i}"
            )));
        }
        Ok(values)
    }
}

fn parse_entry(entry: &serde_json::Value) -> Option<TensorInfo> {
    let dtype = entry.get("dtype")?.as_str()?.to_owned();
    let shape = entry
        .get("shape")?
        .as_array()?
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<Vec<usize>>>()?;
    let offsets = entry.get("data_offsets")?.as_array()?;
    let begin = offsets.first()?.as_u64()?;
    let end = offsets.get(1)?.as_u64()?;
    Some(TensorInfo {
        dtype,
        shape,
        begin,
        end,
    })
}
