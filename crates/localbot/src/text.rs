//! Text normalisation shared by the slot parsers and the classifier: lower-case word tokens,
//! spoken numbers, edit distance. Pure string code; no knowledge of bots.

use hotline_asr::normalize;

/// Longest utterance considered, in characters (longer input is truncated, never rejected).
pub const MAX_UTTERANCE_CHARS: usize = 500;

/// Lower-case word tokens: letters, digits, `'`, `:` and `+` kept inside words; everything else
/// separates. `"I'd like 10:30, please!"` → `["i'd", "like", "10:30", "please"]`.
pub fn tokens(text: &str) -> Vec<String> {
    let text: String = text.chars().take(MAX_UTTERANCE_CHARS).collect();
    // Old spellings some recognisers still write.
    let text = text
        .to_lowercase()
        .replace("to-morrow", "tomorrow")
        .replace("to-day", "today")
        .replace("to-night", "tonight");
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '\'' || c == ':' || c == '+' {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|t| t.trim_matches(|c| c == '\'' || c == ':').to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Edit distance and "did you mean" (shared with flow files).
pub use hotline_flow::suggest::{closest, distance};

/// `"did you mean `x`?"` when a close candidate exists.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The value of a single digit word (`"five"`, `"oh"`, `"5"`).
pub fn digit_word(w: &str) -> Option<u8> {
    Some(match w {
        "zero" | "oh" | "o" | "0" => 0,
        "one" | "1" => 1,
        "two" | "to" | "too" | "2" => 2,
        "three" | "3" => 3,
        "four" | "for" | "4" => 4,
        "five" | "5" => 5,
        "six" | "6" => 6,
        "seven" | "7" => 7,
        "eight" | "8" => 8,
        "nine" | "9" => 9,
        _ => return None,
    })
}

/// 0 to 19 in words (`"a"` counts as one: "a quarter", "a hundred"); the word tables are
/// the recogniser's (`hotline_asr::normalize`).
fn unit_word(w: &str) -> Option<u64> {
    if w == "a" {
        return Some(1);
    }
    normalize::unit(w).or_else(|| normalize::teen(w))
}

fn tens_word(w: &str) -> Option<u64> {
    normalize::tens(w)
}

/// Ordinal words and suffixed numerals (`"third"`, `"3rd"`, `"twenty first"` is two tokens:
/// see [`ordinal_at`]).
fn ordinal_word(w: &str) -> Option<u64> {
    normalize::ordinal_word(w).or_else(|| {
        let digits = w
            .strip_suffix("st")
            .or_else(|| w.strip_suffix("nd"))
            .or_else(|| w.strip_suffix("rd"))
            .or_else(|| w.strip_suffix("th"))?;
        digits.parse().ok()
    })
}

/// An ordinal starting at `toks[i]` (`"3rd"`, `"third"`, `"twenty first"`): value and tokens
/// used.
pub fn ordinal_at(toks: &[String], i: usize) -> Option<(u64, usize)> {
    let w = toks.get(i)?;
    if let Some(v) = ordinal_word(w) {
        return Some((v, 1));
    }
    let tens = tens_word(w)?;
    let next = toks.get(i + 1)?;
    let unit = ordinal_word(next).filter(|u| *u < 10)?;
    Some((tens + unit, 2))
}

/// A cardinal number starting at `toks[i]`, in digits or words (`"42"`, `"forty two"`,
/// `"one hundred and five"`, `"two thousand"`): value and tokens used.
pub fn number_at(toks: &[String], i: usize) -> Option<(u64, usize)> {
    let first = toks.get(i)?;
    if let Ok(v) = first.replace(',', "").parse::<u64>() {
        return Some((v, 1));
    }
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut used = 0usize;
    let mut any = false;
    let mut j = i;
    while let Some(w) = toks.get(j) {
        let w = w.as_str();
        if let Some(u) = unit_word(w).filter(|_| {
            w != "a"
                || toks
                    .get(j + 1)
                    .is_some_and(|n| n == "hundred" || n == "thousand")
        }) {
            if any && !current.is_multiple_of(10) && u < 10 {
                break;
            }
            if any && !current.is_multiple_of(100) && current.is_multiple_of(10) && u >= 10 {
                break;
            }
            current += u;
        } else if let Some(t) = tens_word(w) {
            if any && !current.is_multiple_of(100) {
                break;
            }
            current += t;
        } else if w == "hundred" && any {
            current = current.max(1) * 100;
        } else if w == "thousand" && any {
            total += current.max(1) * 1000;
            current = 0;
        } else if w == "and"
            && any
            && toks
                .get(j + 1)
                .is_some_and(|n| unit_word(n).is_some() || tens_word(n).is_some())
        {
            // "one hundred and five"
        } else {
            break;
        }
        any = true;
        j += 1;
        used = j - i;
    }
    any.then_some((total + current, used))
}

/// Character n-grams of `s` with boundary marks (for fuzzy similarity).
pub fn char_ngrams(s: &str, n: usize) -> Vec<String> {
    let padded: Vec<char> = format!(" {s} ").chars().collect();
    if padded.len() < n {
        return vec![padded.iter().collect()];
    }
    padded.windows(n).map(|w| w.iter().collect()).collect()
}

/// A rough English sound key of `word`, for matching words a telephone recogniser heard wrong
/// ("by" for "bye", "aboardment" for "appointment"): spelling variants of one sound become one
/// letter (`ph` → `f`, `ck`/`c`/`q` → `k`, soft `c` → `s`, `sh`/`ch`/`tio` → `x`, `th` → `0`),
/// voiced and voiceless pairs merge (`b`/`p`, `d`/`t`, `g`/`k`, `v`/`f`, `z`/`s`, which the
/// 8 kHz telephone band blurs), silent letters drop (initial `kn`/`wr`/`ps`/`gn`, `gh`, a
/// final `e` after a consonant, `h` not before a vowel) and repeated letters collapse.
///
/// With `vowels`, each run of vowels keeps the class of its first letter (`y` counts as `i`);
/// without, vowels are dropped except at the start (a consonant skeleton, like Metaphone).
/// Non-letters are ignored.
pub fn sound_key(word: &str, vowels: bool) -> String {
    let mut c: Vec<char> = word
        .chars()
        .flat_map(char::to_lowercase)
        .filter(char::is_ascii_alphabetic)
        .collect();
    for prefix in ["kn", "wr", "ps", "gn"] {
        let p: Vec<char> = prefix.chars().collect();
        if c.len() > 2 && c.starts_with(&p) {
            c.remove(0);
        }
    }
    let is_vowel = |ch: char| matches!(ch, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let at = |i: usize| c.get(i).copied().unwrap_or(' ');
    let mut out: Vec<char> = Vec::new();
    let push = |out: &mut Vec<char>, ch: char| {
        if out.last() != Some(&ch) {
            out.push(ch);
        }
    };
    let mut i = 0;
    while i < c.len() {
        let (ch, next) = (at(i), at(i + 1));
        let mut skip = 1;
        match ch {
            'y' if i == 0 && is_vowel(next) => push(&mut out, 'y'),
            'w' if is_vowel(next) || next == 'h' => {
                push(&mut out, 'w');
                if next == 'h' {
                    skip = 2;
                }
            }
            'w' => {}
            v if is_vowel(v) => {
                let last_is_vowel = i > 0 && is_vowel(at(i - 1)) && at(i - 1) != 'y'
                    || i > 0 && at(i - 1) == 'y' && out.last() == Some(&'i');
                let silent_e = v == 'e' && i + 1 == c.len() && c.len() > 2 && !is_vowel(at(i - 1));
                if !last_is_vowel && !silent_e && (vowels || out.is_empty()) {
                    push(&mut out, if v == 'y' { 'i' } else { v });
                }
            }
            'p' if next == 'h' => {
                push(&mut out, 'f');
                skip = 2;
            }
            'g' if next == 'h' => skip = 2,
            'c' if next == 'h' => {
                push(&mut out, 'x');
                skip = 2;
            }
            's' if next == 'h' => {
                push(&mut out, 'x');
                skip = 2;
            }
            't' if next == 'h' => {
                push(&mut out, '0');
                skip = 2;
            }
            't' if next == 'i' && at(i + 2) == 'o' => push(&mut out, 'x'),
            'c' if matches!(next, 'e' | 'i' | 'y') => push(&mut out, 's'),
            'c' | 'q' | 'k' | 'g' => push(&mut out, 'k'),
            'x' => {
                push(&mut out, 'k');
                push(&mut out, 's');
            }
            'z' | 's' => push(&mut out, 's'),
            'v' | 'f' => push(&mut out, 'f'),
            'b' | 'p' => push(&mut out, 'p'),
            'd' | 't' => push(&mut out, 't'),
            'h' => {
                if is_vowel(next) && (i == 0 || is_vowel(at(i - 1))) {
                    push(&mut out, 'h');
                }
            }
            other => push(&mut out, other),
        }
        i += skip;
    }
    out.into_iter().collect()
}

/// Similarity in 0..=1 of two strings' consonant-skeleton sound keys ([`sound_key`]): one minus
/// the edit distance over the longer key. Two empty keys are not similar (0).
pub fn sound_similarity(a: &str, b: &str) -> f32 {
    let (a, b) = (sound_key(a, false), sound_key(b, false));
    let n = a.chars().count().max(b.chars().count());
    if n == 0 {
        return 0.0;
    }
    1.0 - distance(&a, &b) as f32 / n as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokens(s)
    }

    #[test]
    fn tokenizes() {
        assert_eq!(
            tokens("I'd like 10:30, please!"),
            ["i'd", "like", "10:30", "please"]
        );
        assert_eq!(tokens("  "), Vec::<String>::new());
        assert_eq!(tokens("Come to-morrow?"), ["come", "tomorrow"]);
    }

    #[test]
    fn numbers_in_words() {
        assert_eq!(number_at(&toks("forty two"), 0), Some((42, 2)));
        assert_eq!(
            number_at(&toks("one hundred and five people"), 0),
            Some((105, 4))
        );
        assert_eq!(
            number_at(&toks("two thousand twenty six"), 0),
            Some((2026, 4))
        );
        assert_eq!(number_at(&toks("seven"), 0), Some((7, 1)));
        assert_eq!(number_at(&toks("three four"), 0), Some((3, 1)));
        assert_eq!(number_at(&toks("a hundred"), 0), Some((100, 2)));
        assert_eq!(number_at(&toks("a cat"), 0), None);
        assert_eq!(ordinal_at(&toks("twenty first"), 0), Some((21, 2)));
        assert_eq!(ordinal_at(&toks("3rd"), 0), Some((3, 1)));
    }

    #[test]
    fn suggestions() {
        assert_eq!(distance("Servce", "Service"), 1);
        assert_eq!(closest("Servce", ["Date", "Service"]), Some("Service"));
        assert_eq!(closest("zzz", ["Date"]), None);
    }

    #[test]
    fn sound_keys() {
        // Homophones and near-homophones a recogniser swaps share a key.
        assert_eq!(sound_key("by", true), sound_key("bye", true));
        assert_ne!(sound_key("be", true), sound_key("bye", true));
        assert_eq!(sound_key("phone", true), sound_key("fone", true));
        assert_eq!(sound_key("know", true), sound_key("no", true));
        assert_eq!(sound_key("cell", true), sound_key("sell", true));
        assert_eq!(sound_key("appointment", false), "apntmnt");
        assert_eq!(sound_key("aboardment", false), "aprtmnt");
        assert_eq!(
            distance(
                &sound_key("appointment", false),
                &sound_key("aboardment", false)
            ),
            1
        );
        assert_eq!(sound_key("cough", false), "k");
        assert_eq!(sound_key("", true), "");
        assert_eq!(sound_key("10:30", true), "");
    }

    #[test]
    fn sound_similarity_ranks_slips_above_unrelated_words() {
        let slip = sound_similarity("bookinhisboiledmint", "bookanappointment");
        let other = sound_similarity("whatstheweatherlike", "bookanappointment");
        assert!(slip > other, "{slip} vs {other}");
        assert_eq!(sound_similarity("", ""), 0.0);
        assert!((sound_similarity("temperature", "temperature") - 1.0).abs() < 1e-6);
    }
}
