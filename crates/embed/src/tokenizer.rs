//! BERT's uncased WordPiece tokenizer, written from `vocab.txt`, producing the same ids as the
//! Hugging Face `tokenizers` pipeline of all-MiniLM-L6-v2 (`tokenizer.json`): a `BertNormalizer`
//! (drop control characters, whitespace to spaces, spaces around CJK ideographs, NFD and strip
//! non-spacing marks, lowercase), a `BertPreTokenizer` (split on whitespace, isolate punctuation),
//! greedy longest-match WordPiece with `##` continuations (`[UNK]` for a word with no split or
//! longer than 100 characters), then `[CLS] … [SEP]`, truncated to a maximum length.
//!
//! Known difference: the reference also recognises the literal text of special tokens (`[SEP]`,
//! `[MASK]`, …) typed inside the input; here they are ordinary text. Never panics on any input.

use std::collections::HashMap;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::EmbedError;

/// Words longer than this many characters become `[UNK]` (as in BERT).
const MAX_WORD_CHARS: usize = 100;

/// A WordPiece vocabulary with BERT's normalisation and special tokens.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    vocab: HashMap<String, u32>,
    cls: u32,
    sep: u32,
    unk: u32,
}

impl Tokenizer {
    /// Loads `vocab.txt` (one token per line, the line number is the id).
    pub fn from_file(path: &Path) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                EmbedError::corrupt(path, "the vocabulary is not UTF-8")
            } else {
                EmbedError::io(path, e)
            }
        })?;
        Self::from_vocab(&text).map_err(|reason| EmbedError::corrupt(path, reason))
    }

    /// Builds a tokenizer from the text of a `vocab.txt`; the error says what is wrong with it.
    pub fn from_vocab(text: &str) -> Result<Self, String> {
        let mut vocab = HashMap::new();
        for (id, token) in text.lines().enumerate() {
            let id = u32::try_from(id).map_err(|_| "the vocabulary is too large".to_owned())?;
            vocab.entry(token.to_owned()).or_insert(id);
        }
        let special = |name: &str| {
            vocab
                .get(name)
                .copied()
                .ok_or_else(|| format!("the vocabulary has no {name} token"))
        };
        Ok(Self {
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            unk: special("[UNK]")?,
            vocab,
        })
    }

    /// The number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The id of `token` (a vocabulary entry such as `"book"` or `"##ing"`), if it has one.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    /// The ids of `text` as the model sees it: `[CLS]`, the word pieces, `[SEP]`, truncated so
    /// that the whole is at most `max_tokens` long (which must be at least 2; smaller values are
    /// treated as 2).
    pub fn encode(&self, text: &str, max_tokens: usize) -> Vec<u32> {
        let keep = max_tokens.max(2) - 2;
        let mut ids = Vec::with_capacity(16);
        ids.push(self.cls);
        let mut pieces = self.word_pieces(text);
        pieces.truncate(keep);
        ids.extend(pieces);
        ids.push(self.sep);
        ids
    }

    /// The word-piece ids of `text`, without special tokens or truncation.
    pub fn word_pieces(&self, text: &str) -> Vec<u32> {
        let normalized = normalize(text);
        let mut ids = Vec::new();
        let mut candidate = String::new();
        for word in pre_tokenize(&normalized) {
            self.word_piece(word, &mut candidate, &mut ids);
        }
        ids
    }

    /// Greedy longest-match-first WordPiece of one word, appended to `ids`.
    fn word_piece(&self, word: &str, candidate: &mut String, ids: &mut Vec<u32>) {
        if word.chars().count() > MAX_WORD_CHARS {
            ids.push(self.unk);
            return;
        }
        let before = ids.len();
        let mut start = 0;
        while start < word.len() {
            // Char boundaries after `start`, longest first.
            let mut found = None;
            let mut ends: Vec<usize> = word[start..]
                .char_indices()
                .map(|(i, c)| start + i + c.len_utf8())
                .collect();
            ends.reverse();
            for end in ends {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(candidate.as_str()) {
                    found = Some((id, end));
                    break;
                }
            }
            match found {
                Some((id, end)) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(before);
                    ids.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// BERT's normaliser: clean text, pad CJK ideographs, strip accents, lowercase.
fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            cleaned.push(' ');
        } else if is_chinese_char(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    cleaned
        .nfd()
        .filter(|c| c.general_category() != GeneralCategory::NonspacingMark)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits on whitespace (dropped) and punctuation (each punctuation mark its own word).
fn pre_tokenize(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for chunk in text.split(char::is_whitespace) {
        let mut start = 0;
        for (i, c) in chunk.char_indices() {
            if is_punctuation(c) {
                if start < i {
                    words.push(&chunk[start..i]);
                }
                words.push(&chunk[i..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        if start < chunk.len() {
            words.push(&chunk[start..]);
        }
    }
    words
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.general_category_group() == GeneralCategoryGroup::Other
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.general_category_group() == GeneralCategoryGroup::Punctuation
}

fn is_chinese_char(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Tokenizer {
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nbook\n##ing\nun\n##aff\n##able\n,\ncafe\n的\n";
        Tokenizer::from_vocab(vocab).unwrap()
    }

    #[test]
    fn greedy_longest_match_with_continuations() {
        let t = tiny();
        assert_eq!(t.word_pieces("booking"), vec![4, 5]);
        assert_eq!(t.word_pieces("unaffable"), vec![6, 7, 8]);
        // One piece missing: the whole word is [UNK], not a partial split.
        assert_eq!(t.word_pieces("bookx"), vec![1]);
    }

    #[test]
    fn normalises_case_accents_punctuation_and_cjk() {
        let t = tiny();
        assert_eq!(t.word_pieces("  BOOK,Café\t\u{0}的"), vec![4, 9, 10, 11]);
        assert_eq!(normalize("A\u{7}b"), "ab");
    }

    #[test]
    fn truncates_to_max_tokens_with_specials() {
        let t = tiny();
        let ids = t.encode(&"book ".repeat(500), 8);
        assert_eq!(ids, vec![2, 4, 4, 4, 4, 4, 4, 3]);
        assert_eq!(t.encode("", 128), vec![2, 3]);
    }

    #[test]
    fn overlong_word_is_unknown() {
        let t = tiny();
        assert_eq!(t.word_pieces(&"a".repeat(101)), vec![1]);
    }

    #[test]
    fn vocabulary_without_specials_is_refused() {
        assert!(Tokenizer::from_vocab("a\nb\n").is_err());
    }
}
