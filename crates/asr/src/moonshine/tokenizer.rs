//! Moonshine's `tokenizer.bin` (from the moonshine-cpp wheel): a pure parser and decoder.
//!
//! The file is one entry per token id, each "1 length byte + that many bytes"; byte-fallback
//! tokens are already raw bytes. Decoding skips the special ids (≤ 2), concatenates the bytes,
//! turns the SentencePiece word marker "▁" into a space and trims. No IO here.

/// Ids 0..=2 are `<unk>`, `<s>` (the decoder's start token) and `</s>` (end of text).
pub(crate) const START_TOKEN: i64 = 1;
/// End of text: decoding stops here.
pub(crate) const END_TOKEN: i64 = 2;

/// Token id → bytes.
#[derive(Debug, Clone)]
pub(crate) struct Tokenizer {
    pieces: Vec<Vec<u8>>,
}

impl Tokenizer {
    /// Parses the file's bytes.
    ///
    /// # Errors
    /// A message when the file is empty or ends inside an entry.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = bytes;
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len);
            let Some((piece, tail)) = tail.split_at_checked(len) else {
                return Err(format!(
                    "token {} claims {len} bytes but the file ends after {}",
                    pieces.len(),
                    tail.len()
                ));
            };
            pieces.push(piece.to_vec());
            rest = tail;
        }
        if pieces.len() < 3 {
            return Err(format!(
                "only {} tokens; a Moonshine tokenizer.bin has tens of thousands",
                pieces.len()
            ));
        }
        Ok(Self { pieces })
    }

    /// Number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.pieces.len()
    }

    /// The text of `ids` (unknown and special ids are skipped; invalid UTF-8 is replaced).
    pub(crate) fn decode(&self, ids: &[i64]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            if id <= END_TOKEN {
                continue;
            }
            if let Some(piece) = usize::try_from(id).ok().and_then(|i| self.pieces.get(i)) {
                bytes.extend_from_slice(piece);
            }
        }
        String::from_utf8_lossy(&bytes)
            .replace('\u{2581}', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(pieces: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in pieces {
            out.push(u8::try_from(p.len()).unwrap());
            out.extend_from_slice(p);
        }
        out
    }

    #[test]
    fn decodes_word_pieces_and_skips_special_ids() {
        let bytes = file(&[
            b"<unk>",
            b"<s>",
            b"</s>",
            "\u{2581}Hello".as_bytes(),
            b",",
            "\u{2581}wor".as_bytes(),
            b"ld",
            b"",
        ]);
        let t = Tokenizer::parse(&bytes).unwrap();
        assert_eq!(t.len(), 8);
        assert_eq!(t.decode(&[1, 3, 4, 5, 6, 2]), "Hello, world");
        assert_eq!(t.decode(&[0, 7, 99_999, -5]), "");
    }

    #[test]
    fn byte_fallback_pieces_join_into_utf8() {
        let bytes = file(&[b"a", b"b", b"c", &[0xC3], &[0xA9]]);
        let t = Tokenizer::parse(&bytes).unwrap();
        assert_eq!(t.decode(&[3, 4]), "é");
        assert_eq!(t.decode(&[3]), "\u{FFFD}");
    }

    #[test]
    fn truncated_or_tiny_files_are_rejected() {
        assert!(Tokenizer::parse(&[]).is_err());
        assert!(Tokenizer::parse(&[5, b'a']).is_err());
        assert!(Tokenizer::parse(&file(&[b"a", b"b"])).is_err());
    }
}
