//! Pure keyword/phrase matching for caller answers (speech transcripts or typed text).
//!
//! Normalization: lowercase, accent folding (own table for Latin-1 and Latin Extended-A),
//! `n't` → ` not`, anything that is not a letter or digit separates words, and sentence
//! punctuation (`. , ; : ! ?`) plus `but`/`mais` start a new clause.
//! Matching is whole-word (a number may be glued on: `covid19` matches `covid`), a phrase within
//! one clause; a phrase also matches when written with or without spaces
//! (`corona virus` ~ `coronavirus`, `covid 19` ~ `covid19`). A match is rejected when a
//! negation cue of the call's language (`no`, `not`, `pas`, `sans`, `aucun`...) appears within
//! [`NEGATION_WINDOW`] words before it in the same clause, unless the keyword is itself
//! negative (`pas du tout`, `no`). A match is also rejected when its clause *ends* with a
//! trailing cue (`not`, `no`, `pas`, `non`) within that many words after it: "absolutely not",
//! "of course not", "bien sûr que non", "absolument pas", "je crois pas". Only at the clause's
//! end (an intensifier such as `du tout` or `really` aside), so that "no cough, no fever"
//! spoken without a comma does not cancel "cough", and never in "why not", "pourquoi pas",
//! "or not", "ou pas". No I/O, no allocation-heavy regex: this runs per answer.

/// How many words before a keyword are searched for a negation cue, and how far after it a
/// trailing cue may end its clause.
pub const NEGATION_WINDOW: usize = 3;

/// Most words of a phrase glued together when comparing without spaces.
const MAX_GLUE: usize = 3;

/// Folds one lowercase character to ASCII when it is a Latin letter with a diacritic.
/// Returns `None` when the character has no folding (it is kept as is).
pub fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ð' | 'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' | 'ĸ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// Lowercases and folds accents: `"Fièvre"` → `"fievre"`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match fold_char(c) {
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    out
}

/// A text split into normalized words, with clause boundaries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalized {
    /// The words, lowercase and accent-folded.
    pub words: Vec<String>,
    /// `clause[i]` is the clause number of `words[i]`; negation never crosses clauses.
    pub clause: Vec<usize>,
}

const CLAUSE_WORDS: &[&str] = &["but", "however", "mais", "cependant", "pourtant"];

/// Normalizes `text` into words (see the module documentation).
pub fn normalize(text: &str) -> Normalized {
    let mut folded = fold(text);
    if folded.contains(['\u{2019}', '\u{2bc}', '`', '\u{b4}']) {
        folded = folded.replace(['\u{2019}', '\u{2bc}', '`', '\u{b4}'], "'");
    }
    if folded.contains("n't") {
        folded = folded.replace("n't", " not");
    }
    let mut out = Normalized::default();
    let mut clause = 0usize;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Normalized, clause: &mut usize| {
        if word.is_empty() {
            return;
        }
        let w = std::mem::take(word);
        if CLAUSE_WORDS.contains(&w.as_str()) {
            *clause += 1;
        }
        out.words.push(w);
        out.clause.push(*clause);
    };
    for c in folded.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out, &mut clause);
            if matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '\n') {
                clause += 1;
            }
        }
    }
    flush(&mut word, &mut out, &mut clause);
    out
}

/// Negation cue words for a language tag (`fr-FR`, `en`...). Unknown languages get the
/// English and French cues together.
pub fn negation_cues(language: &str) -> &'static [&'static str] {
    Cues::of(language).before
}

/// Words that may follow a trailing cue at the end of a clause: "pas du tout", "not at all",
/// "not really", "pas vraiment".
const INTENSIFIERS: &[&str] = &["du", "tout", "at", "all", "really", "vraiment"];

/// Words after which a trailing cue is an idiom, not a negation: "why not" and "pourquoi pas"
/// agree; "or not", "ou pas" and "ou non" ask.
const IDIOM_BEFORE_CUE: &[&str] = &["why", "pourquoi", "or", "ou", "if"];

/// The negation cues of one language: before a keyword, and ending its clause after it
/// ("absolutely not", "bien sûr que non"); unknown languages get both lists.
#[derive(Debug, Clone, Copy)]
struct Cues {
    before: &'static [&'static str],
    after: &'static [&'static str],
}

impl Cues {
    const EN: Cues = Cues {
        before: &[
            "no", "not", "never", "without", "none", "nor", "neither", "nothing",
        ],
        after: &["not", "no"],
    };
    const FR: Cues = Cues {
        before: &[
            "ne", "n", "pas", "sans", "aucun", "aucune", "ni", "jamais", "rien",
        ],
        after: &["pas", "non"],
    };
    const ALL: Cues = Cues {
        before: &[
            "no", "not", "never", "without", "none", "nor", "neither", "nothing", "ne", "n", "pas",
            "sans", "aucun", "aucune", "ni", "jamais", "rien",
        ],
        after: &["not", "no", "pas", "non"],
    };

    /// The cues of a language tag, by its primary subtag.
    fn of(language: &str) -> Self {
        let primary = language.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("en") {
            Self::EN
        } else if primary.eq_ignore_ascii_case("fr") {
            Self::FR
        } else {
            Self::ALL
        }
    }

    /// Whether the keyword at `start..start + len` is negated, before or after.
    fn negate(&self, text: &Normalized, start: usize, len: usize) -> bool {
        is_negated(text, start, self.before) || is_negated_after(text, start + len, self.after)
    }
}

/// One keyword or phrase, normalized once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    /// The phrase as written in the flow.
    pub original: String,
    words: Vec<String>,
    glued: String,
    /// Clause boundaries inside the phrase itself (`nothing but`, `oui, merci`): a match in
    /// a text may cross as many, no more.
    boundaries: usize,
}

impl Phrase {
    /// Normalizes a phrase. Returns `None` when it holds no word at all.
    pub fn new(text: &str) -> Option<Self> {
        let n = normalize(text);
        if n.words.is_empty() {
            return None;
        }
        let boundaries = match (n.clause.first(), n.clause.last()) {
            (Some(first), Some(last)) => last.saturating_sub(*first),
            _ => 0,
        };
        Some(Self {
            original: text.to_owned(),
            glued: n.words.concat(),
            words: n.words,
            boundaries,
        })
    }

    fn is_negative(&self, cues: &Cues) -> bool {
        self.words
            .iter()
            .any(|w| cues.before.contains(&w.as_str()) || cues.after.contains(&w.as_str()))
    }

    /// Positions `(start, len)` where the phrase occurs in `text`.
    fn occurrences(&self, text: &Normalized) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        let n = text.words.len();
        // Every way the phrase can begin at a word (the same words, the same letters spaced
        // otherwise, a number glued on) begins with the phrase's first byte: a word that does
        // not is skipped with one comparison.
        let first = self.glued.as_bytes().first();
        for start in 0..n {
            if text.words.get(start).and_then(|w| w.as_bytes().first()) != first {
                continue;
            }
            let k = self.words.len();
            if start + k <= n
                && text.words[start..start + k] == self.words[..]
                && within_clauses(text, start, k, self.boundaries)
            {
                found.push((start, k));
                continue;
            }
            // Same letters, different spacing: "corona virus" vs "coronavirus". Compared
            // without allocating: each next word must continue the glued phrase.
            let mut rest = self.glued.as_str();
            for len in 1..=MAX_GLUE.min(n - start) {
                let Some(word) = text.words.get(start + len - 1) else {
                    break;
                };
                if let Some(after) = rest.strip_prefix(word.as_str()) {
                    if after.is_empty() {
                        if within_clauses(text, start, len, self.boundaries) {
                            found.push((start, len));
                        }
                        break;
                    }
                    rest = after;
                    continue;
                }
                // A number glued to a word: "covid19" for "covid".
                if len == 1
                    && self.glued.ends_with(|c: char| c.is_alphabetic())
                    && word
                        .strip_prefix(self.glued.as_str())
                        .is_some_and(|digits| {
                            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
                        })
                {
                    found.push((start, len));
                }
                break;
            }
        }
        found
    }
}

/// A match of a keyword in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The keyword as written in the flow.
    pub keyword: String,
    /// Index of the first matched word in the normalized text.
    pub word: usize,
}

/// A set of alternative keywords/phrases (synonyms already expanded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeywordSet {
    /// The phrases, in the order written.
    pub phrases: Vec<Phrase>,
    /// Whether negation cues before a keyword, or ending its clause after it, cancel the
    /// match (default true).
    pub negation: bool,
}

impl KeywordSet {
    /// Builds a set from phrases (empty phrases are skipped), with negation detection on.
    pub fn new<S: AsRef<str>>(phrases: &[S]) -> Self {
        Self {
            phrases: phrases
                .iter()
                .filter_map(|p| Phrase::new(p.as_ref()))
                .collect(),
            negation: true,
        }
    }

    /// Finds the first non-negated occurrence of any phrase in `text`, said in `language`.
    pub fn find(&self, text: &Normalized, language: &str) -> Option<Match> {
        let cues = Cues::of(language);
        let mut best: Option<Match> = None;
        for phrase in &self.phrases {
            let found = phrase.occurrences(text);
            if found.is_empty() {
                continue;
            }
            let check_negation = self.negation && !phrase.is_negative(&cues);
            for (start, len) in found {
                if check_negation && cues.negate(text, start, len) {
                    continue;
                }
                if best.as_ref().is_none_or(|b| start < b.word) {
                    best = Some(Match {
                        keyword: phrase.original.clone(),
                        word: start,
                    });
                }
                break;
            }
        }
        best
    }

    /// Whether any phrase occurs in `text` without being negated: [`KeywordSet::find`]
    /// without looking for the earliest match (stops at the first one).
    pub fn any(&self, text: &Normalized, language: &str) -> bool {
        let cues = Cues::of(language);
        self.phrases.iter().any(|phrase| {
            let found = phrase.occurrences(text);
            // Whether the phrase is itself negative is asked only of a phrase that occurs.
            !found.is_empty() && {
                let check_negation = self.negation && !phrase.is_negative(&cues);
                found
                    .iter()
                    .any(|&(start, len)| !(check_negation && cues.negate(text, start, len)))
            }
        })
    }

    /// Convenience: normalizes `text` and tells whether any phrase matches.
    pub fn matches(&self, text: &str, language: &str) -> bool {
        self.find(&normalize(text), language).is_some()
    }
}

/// Whether the `len` words from `start` cross at most `boundaries` clause boundaries: a phrase
/// does not span a comma or a full stop that it does not hold itself ("No, taste and smell
/// are fine" does not hold `no taste`).
fn within_clauses(text: &Normalized, start: usize, len: usize, boundaries: usize) -> bool {
    let last = start + len.saturating_sub(1);
    match (text.clause.get(start), text.clause.get(last)) {
        (Some(first), Some(last)) => last.saturating_sub(*first) <= boundaries,
        _ => false,
    }
}

fn is_negated(text: &Normalized, start: usize, cues: &[&str]) -> bool {
    let Some(&clause) = text.clause.get(start) else {
        return false;
    };
    let from = start.saturating_sub(NEGATION_WINDOW);
    (from..start).any(|i| {
        text.clause.get(i) == Some(&clause)
            && text
                .words
                .get(i)
                .is_some_and(|w| cues.contains(&w.as_str()))
    })
}

/// Whether the clause of the keyword that ends before word `end` ends with a trailing cue
/// (intensifiers aside) within [`NEGATION_WINDOW`] words of it, not in an idiom.
fn is_negated_after(text: &Normalized, end: usize, cues: &[&str]) -> bool {
    let Some(&clause) = end.checked_sub(1).and_then(|last| text.clause.get(last)) else {
        return false;
    };
    let word = |i: usize| text.words.get(i).map(String::as_str);
    // The clause's last word, then back over the intensifiers after the cue.
    let mut cue = end;
    while text.clause.get(cue) == Some(&clause) {
        cue += 1;
    }
    while cue > end && word(cue - 1).is_some_and(|w| INTENSIFIERS.contains(&w)) {
        cue -= 1;
    }
    let Some(cue) = cue.checked_sub(1).filter(|&c| c >= end) else {
        return false;
    };
    cue < end + NEGATION_WINDOW
        && word(cue).is_some_and(|w| cues.contains(&w))
        && !word(cue - 1).is_some_and(|w| IDIOM_BEFORE_CUE.contains(&w))
}

/// The first number in an answer, in `language` (a BCP-47 tag), for numeric comparisons:
/// `"j'ai 72 ans"` → 72, `"37,5"` and `"37.5"` → 37.5 in any language. Digits only: speech
/// recognizers return numbers as digits.
///
/// Digit groups read as people write them: `"1,200,000"`, `"1.234,5"`, `"1,234.5"` and
/// `"12 500"` with a no-break space are read whole in any language. One separator followed by
/// exactly three digits is the one ambiguous case, read by `language`'s decimal mark
/// ([`decimal_point`]): `"1,200"` is 1200 in English and 1.2 in French, `"1.200"` the reverse.
pub fn extract_number(text: &str, language: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    // A minus sign, not a hyphen (`covid-19`).
    let before = text[..start].strip_suffix(['-', '\u{2212}']);
    let negative = before.is_some_and(|b| !b.ends_with(char::is_alphanumeric));
    let (value, _) = read_token(&text[start..], language)?;
    Some(if negative { -value } else { value })
}

/// A text that is one number and nothing more (spaces around it allowed), read as
/// [`extract_number`] reads numbers in `language`: `"72"`, `" 38,5 "`, `"-3"`, `"1,200"` (1200
/// in English, 1.2 in French), `"1.234,5"`. A text with anything else in it is not a number
/// (`"72 ans"`, `"1.2.3"`), and neither are `nan` or `inf`, which Rust's float parser would
/// take (French callers say "nan" for no). Forms of Rust's own syntax with no comma (`1e3`,
/// `.5`, `+2`) still read as Rust reads them.
pub fn parse_number(text: &str, language: &str) -> Option<f64> {
    let t = text.trim();
    let (negative, body) = match t.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    if body.starts_with(|c: char| c.is_ascii_digit())
        && let Some((value, used)) = read_token(body, language)
        && used == body.len()
    {
        return Some(if negative { -value } else { value });
    }
    if t.contains(',') {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The number at the start of `rest` (which starts with a digit) and how many bytes of `rest`
/// it spans: digits, and single separators each followed by a digit.
fn read_token(rest: &str, language: &str) -> Option<(f64, usize)> {
    let mut groups: Vec<&str> = Vec::new();
    let mut seps: Vec<char> = Vec::new();
    let mut group_start = 0;
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            continue;
        }
        let next_is_digit = chars.peek().is_some_and(|(_, d)| d.is_ascii_digit());
        if is_number_separator(c) && next_is_digit {
            groups.push(&rest[group_start..i]);
            seps.push(c);
            group_start = i + c.len_utf8();
        } else {
            groups.push(&rest[group_start..i]);
            group_start = rest.len();
            break;
        }
    }
    if group_start < rest.len() {
        groups.push(&rest[group_start..]);
    }
    let (value, used) = read_groups(&groups, &seps, decimal_point(language))?;
    // The bytes of the groups read, and of the separators between them.
    let span = groups
        .iter()
        .take(used)
        .map(|g| g.len())
        .chain(
            seps.iter()
                .take(used.saturating_sub(1))
                .map(|c| c.len_utf8()),
        )
        .sum();
    Some((value, span))
}

/// A character that may sit between digits of one number: a decimal mark or a digit-group
/// separator (a no-break or narrow no-break space, as French and others write thousands).
fn is_number_separator(c: char) -> bool {
    matches!(c, '.' | ',' | '\u{a0}' | '\u{202f}')
}

/// Whether `language` writes decimals with a point (`1,200.5`) rather than a comma
/// (`1.200,5`, `1 200,5`): English, Chinese, Japanese, Korean, Hebrew, Thai, Hindi, Malay,
/// Filipino and Irish, and Spanish in Mexico and the United States, German in Switzerland.
pub fn decimal_point(language: &str) -> bool {
    let lower = language.to_ascii_lowercase();
    let primary = lower.split(['-', '_']).next().unwrap_or("");
    matches!(
        primary,
        "en" | "zh" | "ja" | "ko" | "he" | "th" | "hi" | "ms" | "fil" | "tl" | "ga"
    ) || matches!(lower.as_str(), "es-mx" | "es-us" | "de-ch")
}

/// The number that digit `groups` separated by `seps` spell (see [`extract_number`]), and how
/// many of the groups it reads; a separator that fits no reading ends the number before it
/// (`"1.2.3"` → 1.2, two groups).
fn read_groups(groups: &[&str], seps: &[char], decimal_point: bool) -> Option<(f64, usize)> {
    let (first, later) = groups.split_first()?;
    let is_mark = |c: char| c == '.' || c == ',';
    // The decimal mark: the last mark, when another mark precedes it (`1,234.5`), when it is
    // the only separator and not followed by exactly three digits (`37,5`), or, followed by
    // three digits, when those cannot be a group (`0,500`) or it is the language's (`1,200` in
    // French).
    let marks: Vec<(usize, char)> = seps
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, c)| is_mark(c))
        .collect();
    let decimal = match marks.as_slice() {
        [] => None,
        [.., (i, last)] => {
            let three = later.get(*i).is_some_and(|g| g.len() == 3);
            let others_differ = marks.iter().any(|(_, c)| c != last);
            let only_one = marks.len() == 1;
            let ambiguous_is_decimal = (*last == '.') == decimal_point;
            // `0,500` is not a digit group.
            let could_group = first.len() <= 3 && !first.starts_with('0');
            if others_differ || (only_one && (!three || !could_group || ambiguous_is_decimal)) {
                Some(*i)
            } else {
                None
            }
        }
    };
    // The integer part: digit groups, one kind of separator between them, three digits each
    // after a first of one to three (`1,200,000`), or India's two then a last three
    // (`12,34,567`); else as many groups of three as fit, the number ending there.
    let grouped = decimal.unwrap_or(seps.len());
    let integer = later.get(..grouped).unwrap_or_default();
    let one_kind = seps
        .iter()
        .take(grouped)
        .all(|&c| Some(c) == seps.first().copied());
    let western = integer.is_empty() || (first.len() <= 3 && integer.iter().all(|g| g.len() == 3));
    let indian = first.len() <= 2
        && integer
            .split_last()
            .is_some_and(|(last, rest)| last.len() == 3 && rest.iter().all(|g| g.len() == 2));
    let mut digits = String::from(*first);
    let mut used = 1;
    if one_kind && (western || indian) {
        integer.iter().for_each(|g| digits.push_str(g));
        used += integer.len();
        if let Some(fraction) = decimal.and_then(|i| later.get(i)) {
            digits.push('.');
            digits.push_str(fraction);
            used += 1;
        }
    } else if first.len() <= 3 && one_kind && integer.first().is_some_and(|g| g.len() == 3) {
        integer.iter().take_while(|g| g.len() == 3).for_each(|g| {
            digits.push_str(g);
            used += 1;
        });
    } else if let (Some(&sep), Some(fraction)) = (seps.first(), later.first())
        && is_mark(sep)
    {
        // Not digit groups: the first separator is a decimal mark (`1.2.3` → 1.2).
        digits.push('.');
        digits.push_str(fraction);
        used += 1;
    }
    // Hundreds of digits read as infinity, which every `>=` would hold for: no number.
    let value = digits.parse::<f64>().ok().filter(|n| n.is_finite())?;
    Some((value, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> KeywordSet {
        KeywordSet::new(words)
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("Fièvre À Œuf ÇA Łódź"), "fievre a oeuf ca lodz");
        assert_eq!(fold("Straße"), "strasse");
    }

    #[test]
    fn normalizes_words_and_clauses() {
        let n = normalize("Non, j'ai de la fièvre.");
        assert_eq!(n.words, ["non", "j", "ai", "de", "la", "fievre"]);
        assert_eq!(n.clause, [0, 1, 1, 1, 1, 1]);
        assert_eq!(normalize("I don't know").words, ["i", "do", "not", "know"]);
    }

    #[test]
    fn french_yes_no() {
        let oui = set(&["oui", "ouais", "bien sûr", "tout à fait"]);
        let non = set(&["non", "nan", "pas du tout", "n'ai pas"]);
        assert!(oui.matches("Oui", "fr-FR"));
        assert!(oui.matches("ouais ouais", "fr-FR"));
        assert!(oui.matches("Bien sur !", "fr-FR"));
        assert!(oui.matches("Tout à fait.", "fr-FR"));
        assert!(!oui.matches("non", "fr-FR"));
        assert!(non.matches("Non.", "fr-FR"));
        assert!(non.matches("non merci", "fr-FR"));
        assert!(non.matches("Pas du tout", "fr-FR"));
        assert!(non.matches("je n'ai pas de fièvre", "fr-FR"));
        assert!(!non.matches("oui", "fr-FR"));
        // Whole words only: "oui" is not in "ouistiti", "non" not in "nonante".
        assert!(!oui.matches("ouistiti", "fr-FR"));
        assert!(!non.matches("nonante", "fr-FR"));
    }

    #[test]
    fn french_negation() {
        let fever = set(&["fièvre"]);
        assert!(fever.matches("j'ai de la fièvre", "fr-FR"));
        assert!(fever.matches("J'ai de la FIEVRE", "fr-FR"));
        assert!(!fever.matches("je n'ai pas de fièvre", "fr-FR"));
        assert!(!fever.matches("pas de fièvre", "fr-FR"));
        assert!(!fever.matches("sans fièvre", "fr-FR"));
        assert!(!fever.matches("aucune fièvre", "fr-FR"));
        assert!(!fever.matches("ni toux ni fièvre", "fr-FR"));
        // A new clause resets negation.
        assert!(fever.matches("je ne tousse pas, mais j'ai de la fièvre", "fr-FR"));
        assert!(fever.matches("pas de toux mais fièvre", "fr-FR"));
        // Outside the window the cue no longer applies.
        assert!(fever.matches("je n'ai jamais eu autant de fièvre", "fr-FR"));
    }

    #[test]
    fn english_negation() {
        let fever = set(&["fever"]);
        assert!(fever.matches("I have a fever", "en-US"));
        assert!(!fever.matches("no fever", "en-US"));
        assert!(!fever.matches("I don't have a fever", "en-US"));
        assert!(!fever.matches("I do not have any fever", "en-US"));
        assert!(!fever.matches("without fever", "en-US"));
        assert!(fever.matches("no cough, but a fever", "en-US"));
        // A phrase is matched within one clause.
        let no_taste = set(&["no taste"]);
        assert!(no_taste.matches("food has no taste", "en-US"));
        assert!(!no_taste.matches("No, taste and smell are fine", "en-US"));
        assert!(!set(&["coronavirus"]).matches("corona. virus", "en-US"));
        assert!(set(&["coronavirus"]).matches("corona virus", "en-US"));
        // … unless it holds the boundary itself.
        assert!(set(&["nothing but"]).matches("nothing but a cough", "en-US"));
        assert!(set(&["yes, please"]).matches("yes please", "en-US"));
        assert!(set(&["yes, please"]).matches("Yes. Please.", "en-US"));
        // "Nothing" negates as « rien » does.
        assert!(!fever.matches("nothing like a fever", "en-US"));
        assert!(!set(&["hurts"]).matches("nothing hurts", "en-US"));
        let mut plain = set(&["fever"]);
        plain.negation = false;
        assert!(plain.matches("no fever", "en-US"));
    }

    #[test]
    fn a_cue_ending_the_clause_negates_what_it_follows() {
        let yes = set(&["yes", "absolutely", "of course", "sure", "right"]);
        for answer in [
            "Absolutely not.",
            "Of course not!",
            "of course I'm not",
            "Absolutely not, I fell down the stairs.",
            "not at all, absolutely not at all",
            "yes no",
            "yes not really",
        ] {
            assert!(!yes.matches(answer, "en-US"), "{answer}");
        }
        for answer in [
            "Yes.",
            "Sure, why not.",
            "yes, no problem",
            "yes no problem",
            "Absolutely, not a doubt",
            "yes I have no idea why it happened",
        ] {
            assert!(yes.matches(answer, "en-US"), "{answer}");
        }
        let oui = set(&["oui", "bien sûr", "absolument", "je crois"]);
        for answer in [
            "Bien sûr que non.",
            "Absolument pas !",
            "absolument pas du tout",
            "Je crois pas.",
            "je crois que non",
            "oui enfin non",
        ] {
            assert!(!oui.matches(answer, "fr-FR"), "{answer}");
        }
        for answer in [
            "Oui.",
            "je crois que oui",
            "oui pourquoi pas",
            "oui pas de problème",
            "oui, pas mal",
        ] {
            assert!(oui.matches(answer, "fr-FR"), "{answer}");
        }
        // Only the clause's end: "no fever" still negates what follows it, not "cough".
        let cough = set(&["cough"]);
        assert!(cough.matches("cough no fever", "en-US"));
        assert!(!cough.matches("a cough no", "en-US"));
        let fievre = set(&["fièvre"]);
        assert!(fievre.matches("de la fièvre pas très forte", "fr-FR"));
        assert!(!fievre.matches("de la fièvre non", "fr-FR"));
        // Out of the window, and across clauses, nothing is cancelled.
        assert!(fievre.matches("de la fièvre depuis hier soir pas", "fr-FR"));
        assert!(fievre.matches("de la fièvre. Non, pas de toux.", "fr-FR"));
        // A negative keyword is never cancelled, and `negation: false` turns the check off.
        let non = set(&["non", "absolument pas"]);
        assert!(non.matches("bien sûr que non", "fr-FR"));
        assert!(non.matches("Absolument pas.", "fr-FR"));
        let mut plain = set(&["absolutely"]);
        plain.negation = false;
        assert!(plain.matches("absolutely not", "en-US"));
        // Other languages get both lists.
        assert!(!set(&["si"]).matches("si no", "es-ES"));
    }

    #[test]
    fn negative_keywords_are_not_negated() {
        let no = set(&["no", "not really"]);
        assert!(no.matches("no", "en-US"));
        assert!(no.matches("Not really.", "en-US"));
        assert!(no.matches("no no no", "en-US"));
    }

    #[test]
    fn covid_spellings() {
        let covid = set(&["covid", "coronavirus"]);
        assert!(covid.matches("C'est pour le Covid-19", "fr-FR"));
        assert!(covid.matches("le coronavirus", "fr-FR"));
        assert!(covid.matches("le corona virus", "fr-FR"));
        assert!(covid.matches("CORONA-VIRUS", "fr-FR"));
        assert!(covid.matches("covid19", "fr-FR"));
        assert!(!covid.matches("une chute dans l'escalier", "fr-FR"));
        let covid19 = set(&["covid 19"]);
        assert!(covid19.matches("covid19", "en-US"));
        assert!(covid19.matches("COVID-19", "en-US"));
        assert!(!covid19.matches("covid", "en-US"));
    }

    #[test]
    fn multi_word_phrases_and_first_match() {
        let s = set(&["chest pain", "pain"]);
        let n = normalize("I feel pain in my chest pain");
        let m = s.find(&n, "en-US");
        assert_eq!(
            m,
            Some(Match {
                keyword: "pain".into(),
                word: 2
            })
        );
        assert!(set(&["difficulté à respirer"]).matches("j'ai une difficulte a respirer", "fr"));
    }

    #[test]
    fn extracts_numbers() {
        for lang in ["fr-FR", "en-US", "de-DE"] {
            assert_eq!(extract_number("j'ai 72 ans", lang), Some(72.0));
            assert_eq!(extract_number("37,5 degrés", lang), Some(37.5));
            assert_eq!(extract_number("about 38.2.", lang), Some(38.2));
            assert_eq!(extract_number("-3", lang), Some(-3.0));
            assert_eq!(extract_number("soixante", lang), None);
            assert_eq!(extract_number("1, 2 ou 3", lang), Some(1.0));
            assert_eq!(extract_number("0,500 l", lang), Some(0.5));
            // Groups read whole in any language.
            assert_eq!(extract_number("$1,200,000", lang), Some(1_200_000.0));
            assert_eq!(extract_number("1.200.000 €", lang), Some(1_200_000.0));
            assert_eq!(extract_number("1,234.5", lang), Some(1234.5));
            assert_eq!(extract_number("1.234,5", lang), Some(1234.5));
            assert_eq!(extract_number("12\u{a0}500 €", lang), Some(12_500.0));
            assert_eq!(extract_number("12\u{202f}500,75 €", lang), Some(12_500.75));
            assert_eq!(extract_number("−4,5", lang), Some(-4.5));
            assert_eq!(extract_number("il fait -3 degrés", lang), Some(-3.0));
            assert_eq!(extract_number("covid-19", lang), Some(19.0));
            // Separators that fit no reading end the number.
            assert_eq!(extract_number("1.2.3", lang), Some(1.2));
            assert_eq!(extract_number("1234,567,890", lang), Some(1234.567));
            assert_eq!(extract_number("12 500", lang), Some(12.0));
            assert_eq!(extract_number("1,200,00", lang), Some(1200.0));
            assert_eq!(extract_number("12,34,567.5", lang), Some(1_234_567.5));
            assert_eq!(extract_number("1.234.567,89", lang), Some(1_234_567.89));
            assert_eq!(extract_number(&"9".repeat(400), lang), None);
        }
        // One separator before three digits: the language's decimal mark decides.
        assert_eq!(
            extract_number("I make 1,200 a month", "en-US"),
            Some(1200.0)
        );
        assert_eq!(extract_number("1,200", "fr-FR"), Some(1.2));
        assert_eq!(extract_number("1.200", "en-GB"), Some(1.2));
        assert_eq!(extract_number("1.200", "de-DE"), Some(1200.0));
        assert_eq!(extract_number("1.200", "es-MX"), Some(1.2));
        assert_eq!(extract_number("1,200", "es-ES"), Some(1.2));
    }

    #[test]
    fn parses_a_text_that_is_one_number() {
        for lang in ["fr-FR", "en-US"] {
            assert_eq!(parse_number(" 72 ", lang), Some(72.0));
            assert_eq!(parse_number("38,5", lang), Some(38.5));
            assert_eq!(parse_number("-3", lang), Some(-3.0));
            assert_eq!(parse_number("1.234,5", lang), Some(1234.5));
            assert_eq!(parse_number("1,200,000", lang), Some(1_200_000.0));
            assert_eq!(parse_number("12\u{a0}500", lang), Some(12_500.0));
            // Rust's own forms, without a comma.
            assert_eq!(parse_number("1e3", lang), Some(1000.0));
            assert_eq!(parse_number(".5", lang), Some(0.5));
            // More than one number, or words: not a number.
            for text in [
                "72 ans", "1.2.3", "1,200,00", "1,2,3", "nan", "inf", "", "-", "a1",
            ] {
                assert_eq!(parse_number(text, lang), None, "{text:?} in {lang}");
            }
        }
        // One separator before three digits: the language decides, as for `extract_number`.
        assert_eq!(parse_number("1,200", "en-US"), Some(1200.0));
        assert_eq!(parse_number("1,200", "fr-FR"), Some(1.2));
        assert_eq!(parse_number("1.200", "de-DE"), Some(1200.0));
        assert_eq!(parse_number("1.200", "en-US"), Some(1.2));
    }

    #[test]
    fn decimal_points_by_language() {
        for tag in ["en-US", "en", "EN-gb", "zh-CN", "ja-JP", "es-MX", "de-CH"] {
            assert!(decimal_point(tag), "{tag}");
        }
        for tag in [
            "fr-FR", "fr-CA", "de-DE", "es-ES", "pt-BR", "it-IT", "", "xx",
        ] {
            assert!(!decimal_point(tag), "{tag}");
        }
    }

    #[test]
    fn cues_per_language() {
        assert!(negation_cues("fr-CA").contains(&"pas"));
        assert!(!negation_cues("en-GB").contains(&"pas"));
        assert!(negation_cues("es-ES").contains(&"not"));
        assert_eq!(Cues::of("fr-CA").after, ["pas", "non"]);
        assert_eq!(Cues::of("en_GB").after, ["not", "no"]);
        assert!(Cues::of("es-ES").after.contains(&"non"));
    }
}
