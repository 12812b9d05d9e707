//! Short answers: spoken numbers to digits, yes/no canonicalisation, and text folding for
//! comparisons (pure functions, no IO, no model).
//!
//! Used by the recogniser when [`crate::Hints::expect`] asks for digits or yes/no, by the bot's
//! slot filling, and by the WER evaluation (both sides normalised the same way).
//!
//! - [`fold`]: lowercase, punctuation removed (apostrophes inside words kept, hyphens and
//!   periods between letters become spaces), whitespace collapsed.
//! - [`numbers_to_digits`]: every spoken number becomes digits and adjacent numbers join:
//!   "four five six" → "456", "twenty three" → "23", "nine oh two one oh" → "90210",
//!   "double five" → "55", "three hundred and five" → "305"; ordinals become their number but
//!   join nothing ("July fourth nineteen eighty five" → "july 4 1985", "21st" → "21"); other
//!   words stay.
//! - [`digits`]: just the digits of an answer ("my number is four five six" → "456").
//! - [`yes_no`]: "yeah", "yep", "sure", "correct", "that's right" → yes; "nope", "no thanks",
//!   "not really", "that's wrong" → no.

/// Lowercases, removes punctuation and collapses whitespace.
///
/// Apostrophes inside a word are kept ("don't"); hyphens, slashes and periods become spaces
/// ("twenty-three" → "twenty three", "p.m." → "p m"); commas inside a digit run are dropped
/// ("1,234" → "1234").
#[must_use]
pub fn fold(text: &str) -> String {
    fold_with(text, false)
}

/// [`fold`], optionally keeping commas as `,` words (they decide whether numbers join).
fn fold_with(text: &str, keep_commas: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’')
            && prev.is_some_and(char::is_alphanumeric)
            && next.is_some_and(char::is_alphanumeric)
        {
            out.push('\'');
        } else if c == ','
            && prev.is_some_and(|p| p.is_ascii_digit())
            && next.is_some_and(|n| n.is_ascii_digit())
        {
            // thousands separator
        } else if c == ',' && keep_commas {
            out.push_str(" , ");
        } else if c == '%' {
            out.push_str(" percent ");
        } else if c == '&' {
            out.push_str(" and ");
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A unit word's value (`"zero"`, `"nought"`, `"one"` … `"nine"`).
pub fn unit(word: &str) -> Option<u64> {
    Some(match word {
        "zero" | "nought" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        _ => return None,
    })
}

/// `"ten"` … `"nineteen"`.
pub fn teen(word: &str) -> Option<u64> {
    Some(match word {
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

/// `"twenty"` … `"ninety"`.
pub fn tens(word: &str) -> Option<u64> {
    Some(match word {
        "twenty" => 20,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

fn is_numeral(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `word` starts a spoken number (not counting "oh", which needs a neighbour, or
/// ordinals, which end a digit run).
fn starts_number(words: &[&str], i: usize) -> bool {
    let Some(&w) = words.get(i) else {
        return false;
    };
    unit(w).is_some()
        || teen(w).is_some()
        || tens(w).is_some()
        || is_numeral(w)
        || ((w == "double" || w == "triple")
            && words.get(i + 1).is_some_and(|n| single_digit(n).is_some()))
        || (w == "a" && words.get(i + 1) == Some(&"hundred"))
}

/// A word that stands for one digit ("five", "5", "oh").
fn single_digit(word: &str) -> Option<char> {
    if word == "oh" || word == "o" {
        return Some('0');
    }
    if word.len() == 1 && is_numeral(word) {
        return word.chars().next();
    }
    unit(word).and_then(|d| char::from_digit(u32::try_from(d).ok()?, 10))
}

/// A number phrase parsed from words: its value, where it ends, and whether it is an ordinal
/// ("twenty first"), which ends a digit run instead of joining the next number.
#[derive(Debug, Clone, Copy)]
struct Num {
    value: u64,
    end: usize,
    ordinal: bool,
}

/// An ordinal word's value (`"first"` … `"ninetieth"`).
pub fn ordinal_word(word: &str) -> Option<u64> {
    Some(match word {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        "eleventh" => 11,
        "twelfth" => 12,
        "thirteenth" => 13,
        "fourteenth" => 14,
        "fifteenth" => 15,
        "sixteenth" => 16,
        "seventeenth" => 17,
        "eighteenth" => 18,
        "nineteenth" => 19,
        "twentieth" => 20,
        "thirtieth" => 30,
        "fortieth" => 40,
        "fiftieth" => 50,
        "sixtieth" => 60,
        "seventieth" => 70,
        "eightieth" => 80,
        "ninetieth" => 90,
        _ => return None,
    })
}

/// "21st", "4th", "2nd", "3rd" → the digits.
fn numeral_ordinal(word: &str) -> Option<&str> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))?;
    is_numeral(digits).then_some(digits)
}

/// 0..=99 from words at `i`: "seven", "fifteen", "forty", "forty two", "twenty first".
/// A lone "second" is not taken as a number ("one second please").
fn below_hundred(words: &[&str], i: usize) -> Option<Num> {
    let w = *words.get(i)?;
    let plain = |value, end| Num {
        value,
        end,
        ordinal: false,
    };
    if let Some(v) = unit(w).or_else(|| teen(w)) {
        return Some(plain(v, i + 1));
    }
    if let Some(t) = tens(w) {
        let next = words.get(i + 1).copied().unwrap_or_default();
        return Some(match (unit(next), ordinal_word(next)) {
            (Some(u), _) if u > 0 => plain(t + u, i + 2),
            (_, Some(o)) if (1..=9).contains(&o) => Num {
                value: t + o,
                end: i + 2,
                ordinal: true,
            },
            _ => plain(t, i + 1),
        });
    }
    match ordinal_word(w) {
        Some(v) if w != "second" => Some(Num {
            value: v,
            end: i + 1,
            ordinal: true,
        }),
        _ => None,
    }
}

/// 0..=999: optional "<n> hundred [and] <m>".
fn below_thousand(words: &[&str], i: usize) -> Option<Num> {
    let mut num = if words.get(i) == Some(&"a") {
        Num {
            value: 1,
            end: i + 1,
            ordinal: false,
        }
    } else {
        below_hundred(words, i)?
    };
    if num.ordinal {
        return Some(num);
    }
    if words.get(num.end) == Some(&"hundred") && (1..=9).contains(&num.value) {
        num.value *= 100;
        num.end += 1;
        let k = if words.get(num.end) == Some(&"and") {
            num.end + 1
        } else {
            num.end
        };
        if let Some(rest) = below_hundred(words, k) {
            num.value += rest.value;
            num.end = rest.end;
            num.ordinal = rest.ordinal;
        }
    } else if words.get(i) == Some(&"a") {
        return None;
    }
    Some(num)
}

/// A cardinal (or ordinal) up to 999,999 ("two thousand and twenty four").
fn cardinal(words: &[&str], i: usize) -> Option<Num> {
    let num = below_thousand(words, i)?;
    if !num.ordinal && words.get(num.end) == Some(&"thousand") && num.value > 0 {
        let mut total = Num {
            value: num.value * 1000,
            end: num.end + 1,
            ordinal: false,
        };
        let k = if words.get(total.end) == Some(&"and") {
            total.end + 1
        } else {
            total.end
        };
        if let Some(rest) = below_thousand(words, k) {
            total.value += rest.value;
            total.end = rest.end;
            total.ordinal = rest.ordinal;
        }
        return Some(total);
    }
    Some(num)
}

/// One number phrase at `i` as its digit string, where it ends, and whether it is an ordinal.
fn number_at(words: &[&str], i: usize, after_number: bool) -> Option<(String, usize, bool)> {
    let w = *words.get(i)?;
    if is_numeral(w) {
        return Some((w.to_owned(), i + 1, false));
    }
    if let Some(digits) = numeral_ordinal(w) {
        return Some((digits.to_owned(), i + 1, true));
    }
    if w == "double" || w == "triple" {
        let d = single_digit(words.get(i + 1)?)?;
        let n = if w == "double" { 2 } else { 3 };
        return Some((std::iter::repeat_n(d, n).collect(), i + 2, false));
    }
    if w == "oh" || w == "o" {
        // "oh" is zero only inside a digit string: after a number or before one.
        return (after_number || starts_number(words, i + 1))
            .then(|| ("0".to_owned(), i + 1, false));
    }
    cardinal(words, i).map(|n| (n.value.to_string(), n.end, n.ordinal))
}

/// Folds `text` and replaces every spoken number with digits; adjacent numbers join into one
/// digit string ("four five six" → "456", "nineteen eighty four" → "1984"). A comma keeps
/// numbers apart ("July 4, 1985") unless both sides are single digits ("5, 5, 5").
#[must_use]
pub fn numbers_to_digits(text: &str) -> String {
    let folded = fold_with(text, true);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out: Vec<String> = Vec::new();
    // Whether the last output word is a number that the next number may join.
    let mut joinable = false;
    let mut last_numeric = false;
    let mut i = 0;
    while i < words.len() {
        if words.get(i) == Some(&",") {
            let single = |j: Option<usize>| {
                j.and_then(|j| words.get(j))
                    .is_some_and(|w| single_digit(w).is_some())
            };
            joinable = joinable && single(i.checked_sub(1)) && single(Some(i + 1));
            i += 1;
            continue;
        }
        if let Some((digits, next, ordinal)) = number_at(&words, i, last_numeric) {
            match out.last_mut() {
                Some(prev) if joinable && !ordinal => prev.push_str(&digits),
                _ => out.push(digits),
            }
            joinable = !ordinal;
            last_numeric = true;
            i = next.max(i + 1);
        } else {
            if let Some(w) = words.get(i) {
                out.push((*w).to_owned());
            }
            joinable = false;
            last_numeric = false;
            i += 1;
        }
    }
    out.join(" ")
}

/// The digits in an answer ("my number is four five six" → "456"), or `None` when it has no
/// number at all.
#[must_use]
pub fn digits(text: &str) -> Option<String> {
    let all: String = numbers_to_digits(text)
        .split(' ')
        .filter(|w| is_numeral(w))
        .collect();
    (!all.is_empty()).then_some(all)
}

/// A yes/no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YesNo {
    /// Agreement.
    Yes,
    /// Refusal.
    No,
}

impl YesNo {
    /// `"yes"` or `"no"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
        }
    }
}

const YES_WORDS: &[&str] = &[
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "ya",
    "yah",
    "yes'm",
    "sure",
    "correct",
    "right",
    "affirmative",
    "ok",
    "okay",
    "absolutely",
    "definitely",
    "certainly",
    "indeed",
    "agreed",
    "exactly",
    "true",
    "please",
    "alright",
    "aye",
];
const NO_WORDS: &[&str] = &[
    "no",
    "nope",
    "nah",
    "naw",
    "negative",
    "incorrect",
    "wrong",
    "never",
    "false",
    "nay",
];
/// Words that turn a following (or preceding, "absolutely not") yes word into no.
const NEGATORS: &[&str] = &[
    "not", "don't", "dont", "isn't", "isnt", "ain't", "wasn't", "doesn't",
];
const YES_PHRASES: &[&[&str]] = &[
    &["of", "course"],
    &["uh", "huh"],
    &["mm", "hmm"],
    &["go", "ahead"],
    &["i", "do"],
];

/// The yes/no meaning of an answer, or `None` when it says neither (or is empty).
///
/// The first decisive word wins ("no, yes" → no); a negator flips a yes word ("not really",
/// "that's not right", "absolutely not" → no); "no problem" and "no doubt" count as yes.
#[must_use]
pub fn yes_no(text: &str) -> Option<YesNo> {
    let folded = fold(text);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    for (i, &w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied();
        let negated_before = i
            .checked_sub(1)
            .and_then(|j| words.get(j))
            .is_some_and(|p| NEGATORS.contains(p));
        if w == "no" && matches!(next, Some("problem" | "doubt" | "worries")) {
            return Some(YesNo::Yes);
        }
        if NO_WORDS.contains(&w) {
            return Some(if negated_before {
                YesNo::Yes
            } else {
                YesNo::No
            });
        }
        if NEGATORS.contains(&w) {
            let rest = words.get(i + 1..).unwrap_or_default();
            if rest.is_empty()
                || rest
                    .iter()
                    .any(|r| YES_WORDS.contains(r) || *r == "really" || *r == "think")
            {
                return Some(YesNo::No);
            }
            continue;
        }
        if YES_WORDS.contains(&w) {
            if next.is_some_and(|n| NEGATORS.contains(&n)) {
                return Some(YesNo::No);
            }
            return Some(YesNo::Yes);
        }
        if let Some(p) = YES_PHRASES
            .iter()
            .find(|p| words.get(i..i + p.len()).is_some_and(|s| s == **p))
        {
            // "I do not" is handled by the negator when the loop reaches it.
            if !words.get(i + p.len()).is_some_and(|n| NEGATORS.contains(n)) {
                return Some(YesNo::Yes);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_cases() {
        for (input, want) in [
            ("Hello, World!", "hello world"),
            ("  Don't   stop. ", "don't stop"),
            ("Twenty-three", "twenty three"),
            ("3 p.m.", "3 p m"),
            ("1,234 and 5, 6", "1234 and 5 6"),
            ("'quoted'", "quoted"),
            ("It’s", "it's"),
            ("100%", "100 percent"),
            ("", ""),
            ("...", ""),
        ] {
            assert_eq!(fold(input), want, "{input:?}");
        }
    }

    #[test]
    fn spoken_numbers_become_digits() {
        for (input, want) in [
            ("four five six", "456"),
            ("my number is four five six", "my number is 456"),
            ("twenty three", "23"),
            ("twenty", "20"),
            ("nine oh two one oh", "90210"),
            ("double five one two", "5512"),
            ("triple seven", "777"),
            ("double oh seven", "007"),
            ("three hundred and five", "305"),
            ("one hundred twenty", "120"),
            ("a hundred", "100"),
            ("two thousand and twenty four", "2024"),
            ("twenty twenty four", "2024"),
            ("nineteen eighty four", "1984"),
            ("fifteen", "15"),
            ("zero", "0"),
            ("My number is 456.", "my number is 456"),
            ("5, 5, 5, 1 2 3 4", "5551234"),
            ("tomorrow at three p m", "tomorrow at 3 p m"),
            ("oh no", "oh no"),
            ("oh five", "05"),
            ("five oh", "50"),
            ("a dog", "a dog"),
            ("double trouble", "double trouble"),
            ("one and two", "1 and 2"),
            ("forty two thousand", "42000"),
            ("twelve thirty", "1230"),
            ("the ninth", "the 9"),
            ("on the twenty first of march", "on the 21 of march"),
            ("On the 21st of March.", "on the 21 of march"),
            ("july fourth, nineteen eighty five", "july 4 1985"),
            ("July 4, 1985", "july 4 1985"),
            ("five five five, one two three four", "5551234"),
            ("call 555, then 1234", "call 555 then 1234"),
            ("yes, no", "yes no"),
            ("one second please", "1 second please"),
            ("the twenty second", "the 22"),
            ("one hundred and first", "101"),
            ("2nd floor", "2 floor"),
            ("first of all", "1 of all"),
            ("fourth", "4"),
            ("", ""),
        ] {
            assert_eq!(numbers_to_digits(input), want, "{input:?}");
        }
    }

    #[test]
    fn digits_of_answers() {
        for (input, want) in [
            ("four five six", Some("456")),
            ("It's 4 5 6.", Some("456")),
            ("My zip code is nine oh two one oh", Some("90210")),
            ("double five, five, one two three four", Some("5551234")),
            ("551234", Some("551234")),
            ("seven", Some("7")),
            ("I don't know", None),
            ("oh", None),
            ("", None),
        ] {
            assert_eq!(digits(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn yes_no_answers() {
        use YesNo::{No, Yes};
        for (input, want) in [
            ("Yes.", Some(Yes)),
            ("yeah", Some(Yes)),
            ("Yep!", Some(Yes)),
            ("Sure.", Some(Yes)),
            ("That's correct.", Some(Yes)),
            ("that's right", Some(Yes)),
            ("Yes, please.", Some(Yes)),
            ("Okay", Some(Yes)),
            ("of course", Some(Yes)),
            ("uh huh", Some(Yes)),
            ("I do", Some(Yes)),
            ("I do not", Some(No)),
            ("that is not correct either", Some(No)),
            ("No problem", Some(Yes)),
            ("no.", Some(No)),
            ("No, no.", Some(No)),
            ("Nope", Some(No)),
            ("No thanks", Some(No)),
            ("no thank you", Some(No)),
            ("not really", Some(No)),
            ("That's not right", Some(No)),
            ("that is not correct", Some(No)),
            ("absolutely not", Some(No)),
            ("Nah.", Some(No)),
            ("wrong", Some(No)),
            ("I don't think so", Some(No)),
            ("not wrong", Some(Yes)),
            ("no, yes", Some(No)),
            ("", None),
            ("maybe later", None),
            ("what", None),
        ] {
            assert_eq!(yes_no(input), want, "{input:?}");
        }
    }
}
