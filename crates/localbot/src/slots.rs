//! Slot value parsers: from what the caller said to a slot's value, per type.
//!
//! Built-in types give normalised values (`number` → `"42"`, `date` → `"2026-03-03"`,
//! `time` → `"14:30"`, `yes_no` → `"yes"`/`"no"`, `digits`/`phone` → digit strings,
//! `spelled` → `"ABC"`, `text` → the words as said). Custom types match their values and
//! synonyms (exactly, then fuzzily for ASR errors) or a regular expression.
//!
//! Two modes: [`Slots::answer`] reads a whole answer to the slot's question; [`Slots::find`]
//! scans any utterance for a value of the type (used to fill slots said along with the intent:
//! "book a cleaning tomorrow at ten"). Dates are relative to a `today` given in: no clock here.

use std::fmt;

use regex::Regex;

use crate::model::SlotType;
use crate::text::{digit_word, distance, number_at, ordinal_at, tokens};

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u32,
    /// Day, 1..=31.
    pub day: u32,
}

impl Date {
    /// A valid date, or `None`.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let d = Date { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(d)
    }

    /// Days since 1970-01-01.
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        (self.to_days() + 3).rem_euclid(7) as u32
    }

    /// `n` days later (or earlier when negative).
    pub fn plus(self, n: i64) -> Date {
        Date::from_days(self.to_days() + n)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        Date::new(y, m, d)
    }

    /// Today in UTC from the system clock (for drivers; the dialog core never calls it).
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days((secs / 86_400) as i64)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A slot type, ready to parse values.
#[derive(Debug, Clone)]
pub enum Kind {
    /// `number`.
    Number,
    /// `digits`.
    Digits,
    /// `yes_no`.
    YesNo,
    /// `date`.
    Date,
    /// `time`.
    Time,
    /// `phone`.
    Phone,
    /// `spelled`.
    Spelled,
    /// `text`.
    Text,
    /// A custom type with values and synonyms.
    Values {
        /// (canonical value, each way of saying it as tokens).
        values: Vec<(String, Vec<Vec<String>>)>,
        /// Other answers are accepted as said.
        open: bool,
    },
    /// A custom type defined by a regular expression.
    Pattern(Regex),
}

impl Kind {
    /// The kind for a built-in type name.
    pub fn builtin(name: &str) -> Option<Kind> {
        Some(match name {
            "number" => Kind::Number,
            "digits" => Kind::Digits,
            "yes_no" => Kind::YesNo,
            "date" => Kind::Date,
            "time" => Kind::Time,
            "phone" => Kind::Phone,
            "spelled" => Kind::Spelled,
            "text" => Kind::Text,
            _ => return None,
        })
    }

    /// The kind for a custom type (`None` when its regex does not compile: the validator
    /// reports that).
    pub fn custom(t: &SlotType) -> Option<Kind> {
        if let Some(re) = &t.regex {
            return Regex::new(re).ok().map(Kind::Pattern);
        }
        let values = t
            .values
            .iter()
            .map(|v| {
                let mut forms = vec![tokens(&v.value)];
                forms.extend(v.synonyms.iter().map(|s| tokens(s)));
                forms.retain(|f| !f.is_empty());
                (v.value.clone(), forms)
            })
            .collect();
        Some(Kind::Values {
            values,
            open: t.open,
        })
    }

    /// Words likely to be said for this type (speech recognition hints).
    pub fn phrases(&self) -> Vec<String> {
        match self {
            Kind::Values { values, .. } => values
                .iter()
                .flat_map(|(_, forms)| forms.iter().map(|f| f.join(" ")))
                .collect(),
            Kind::YesNo => vec!["yes".into(), "no".into()],
            _ => Vec::new(),
        }
    }

    /// Whether a numeric keypad answer fits this type.
    pub fn takes_digits(&self) -> bool {
        matches!(
            self,
            Kind::Number | Kind::Digits | Kind::Phone | Kind::YesNo
        )
    }
}

/// A value found in an utterance: the value and the token range it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The slot value.
    pub value: String,
    /// First token used.
    pub start: usize,
    /// One past the last token used.
    pub end: usize,
}

/// Slot parsing for one turn: today's date and the utterance's tokens.
#[derive(Debug, Clone, Copy)]
pub struct Slots {
    /// The date relative expressions are resolved against.
    pub today: Date,
}

impl Slots {
    /// Reads a whole answer to this slot's question; `None` when it holds no value.
    pub fn answer(&self, kind: &Kind, raw: &str) -> Option<String> {
        let toks = tokens(raw);
        match kind {
            Kind::Text => {
                // The recogniser punctuates ("Sarah Johnson."): the sentence's closing marks
                // are not part of the value (templates add their own).
                let t = raw
                    .trim()
                    .trim_end_matches(['.', ',', '!', '?', ';', ':', '…'])
                    .trim_end();
                (!t.is_empty()).then(|| t.chars().take(crate::text::MAX_UTTERANCE_CHARS).collect())
            }
            Kind::YesNo => yes_no(&toks),
            Kind::Date => Date::parse_iso(raw)
                .map(|d| d.to_string())
                .or_else(|| self.find_in(kind, &toks, true).map(|f| f.value)),
            Kind::Time => time(&toks, true).map(|f| f.value),
            Kind::Spelled => spelled(&toks, 1).map(|f| f.value),
            Kind::Pattern(re) => {
                let t = raw.trim();
                if re.is_match(t) {
                    return Some(t.to_owned());
                }
                let spelled = spelled(&toks, 1).map(|f| f.value);
                let upper = toks.join("").to_uppercase();
                spelled
                    .into_iter()
                    .chain([upper])
                    .chain(toks.iter().map(|t| t.to_uppercase()))
                    .chain(toks.iter().cloned())
                    .find(|c| re.is_match(c))
            }
            Kind::Values { open, .. } => self
                .find_in(kind, &toks, true)
                .map(|f| f.value)
                .or_else(|| (*open && !raw.trim().is_empty()).then(|| raw.trim().to_owned())),
            _ => self.find_in(kind, &toks, true).map(|f| f.value),
        }
    }

    /// Scans tokens for a value of this type. `None` for `text`, `yes_no` and `spelled`, which
    /// are only read from answers or sample placeholders (they would match anything).
    pub fn find(&self, kind: &Kind, toks: &[String]) -> Option<Found> {
        self.find_in(kind, toks, false)
    }

    fn find_in(&self, kind: &Kind, toks: &[String], answer: bool) -> Option<Found> {
        match kind {
            Kind::Number => (0..toks.len()).find_map(|i| {
                number_at(toks, i).map(|(v, n)| Found {
                    value: v.to_string(),
                    start: i,
                    end: i + n,
                })
            }),
            Kind::Digits => digit_run(toks, 1),
            Kind::Phone => phone(toks),
            Kind::Date => date(toks, self.today),
            Kind::Time => time(toks, answer),
            Kind::Values { values, .. } => values_match(values, toks),
            Kind::Pattern(re) => toks.iter().enumerate().find_map(|(i, t)| {
                [t.to_uppercase(), t.clone()]
                    .into_iter()
                    .find(|c| re.is_match(c))
                    .map(|value| Found {
                        value,
                        start: i,
                        end: i + 1,
                    })
            }),
            Kind::YesNo if answer => yes_no(toks).map(|value| Found {
                value,
                start: 0,
                end: toks.len(),
            }),
            Kind::Spelled if answer => spelled(toks, 1),
            Kind::Text | Kind::YesNo | Kind::Spelled => None,
        }
    }
}

const YES: [&str; 18] = [
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "ya",
    "sure",
    "correct",
    "right",
    "ok",
    "okay",
    "absolutely",
    "definitely",
    "affirmative",
    "certainly",
    "indeed",
    "uh-huh",
    "please",
];
const NO: [&str; 12] = [
    "no",
    "nope",
    "nah",
    "not",
    "never",
    "negative",
    "don't",
    "dont",
    "wrong",
    "incorrect",
    "nay",
    "cancel",
];

/// `yes` or `no` from an answer; the first word that decides wins ("no, that's right" → no).
pub fn yes_no(toks: &[String]) -> Option<String> {
    for (i, t) in toks.iter().enumerate() {
        let t = t.as_str();
        if NO.contains(&t) {
            return Some("no".into());
        }
        if t == "of" && toks.get(i + 1).is_some_and(|n| n == "course") {
            return Some("yes".into());
        }
        if YES.contains(&t) {
            return Some("yes".into());
        }
        if (t == "i" || t == "i've")
            && toks
                .get(i + 1)
                .is_some_and(|n| n == "do" || n == "have" || n == "am")
        {
            return Some("yes".into());
        }
        if t == "1" {
            return Some("yes".into());
        }
        if t == "2" {
            return Some("no".into());
        }
    }
    None
}

fn digit_run(toks: &[String], min: usize) -> Option<Found> {
    let mut best: Option<Found> = None;
    let mut i = 0;
    while i < toks.len() {
        let start = i;
        let mut value = String::new();
        let mut repeat = 1usize;
        while let Some(t) = toks.get(i) {
            let t = t.as_str();
            if t == "double" {
                repeat = 2;
            } else if t == "triple" {
                repeat = 3;
            } else if t.len() > 1 && t.chars().all(|c| c.is_ascii_digit()) {
                value.push_str(t);
                repeat = 1;
            } else if let Some(d) = digit_word(t)
                .filter(|_| !matches!(t, "to" | "too" | "for" | "o") || !value.is_empty())
            {
                for _ in 0..repeat {
                    value.push(char::from(b'0' + d));
                }
                repeat = 1;
            } else {
                break;
            }
            i += 1;
        }
        if value.len() >= min && best.as_ref().is_none_or(|b| value.len() > b.value.len()) {
            best = Some(Found {
                value,
                start,
                end: i,
            });
        }
        i = i.max(start + 1);
    }
    best
}

fn phone(toks: &[String]) -> Option<Found> {
    let plus = |t: &String| t == "plus" || t.starts_with('+');
    let stripped: Vec<String> = toks
        .iter()
        .map(|t| t.trim_start_matches('+').to_owned())
        .collect();
    let run = digit_run(&stripped, 7)?;
    if run.value.len() > 15 {
        return None;
    }
    let lead = run.start > 0 && toks.get(run.start - 1).is_some_and(plus);
    let own = toks.get(run.start).is_some_and(|t| t.starts_with('+'));
    Some(if lead || own {
        Found {
            value: format!("+{}", run.value),
            start: if lead { run.start - 1 } else { run.start },
            end: run.end,
        }
    } else {
        run
    })
}

const NATO: [&str; 26] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "x-ray", "yankee", "zulu",
];

fn spelled(toks: &[String], min: usize) -> Option<Found> {
    let letter = |t: &str| -> Option<String> {
        if t.chars().count() == 1 && t.chars().all(|c| c.is_alphanumeric()) {
            return Some(t.to_uppercase());
        }
        if t == "xray" {
            return Some("X".into());
        }
        if let Some(p) = NATO.iter().position(|n| *n == t) {
            return Some(char::from(b'A' + p as u8).to_string());
        }
        if t.chars().all(|c| c.is_ascii_digit()) {
            return Some(t.to_owned());
        }
        digit_word(t).filter(|_| t.len() > 2).map(|d| d.to_string())
    };
    let mut best: Option<Found> = None;
    let mut i = 0;
    while i < toks.len() {
        let start = i;
        let mut value = String::new();
        while let Some(l) = toks.get(i).and_then(|t| letter(t)) {
            value.push_str(&l);
            i += 1;
        }
        if value.chars().count() >= min && best.as_ref().is_none_or(|b| value.len() > b.value.len())
        {
            best = Some(Found {
                value,
                start,
                end: i,
            });
        }
        i = i.max(start + 1);
    }
    best
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn month_at(toks: &[String], i: usize) -> Option<u32> {
    let t = toks.get(i)?;
    let t = t.trim_end_matches('.');
    if let Some(p) = MONTHS.iter().position(|m| *m == t) {
        return Some(p as u32 + 1);
    }
    const SHORT: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let t = if t == "sept" { "sep" } else { t };
    SHORT.iter().position(|m| *m == t).map(|p| p as u32 + 1)
}

fn day_at(toks: &[String], i: usize) -> Option<(u32, usize)> {
    if toks.get(i).is_some_and(|t| t == "the") {
        let (v, n) = day_at(toks, i + 1)?;
        return Some((v, n + 1));
    }
    let (v, n) = ordinal_at(toks, i).or_else(|| number_at(toks, i).filter(|(_, n)| *n <= 2))?;
    (1..=31).contains(&v).then_some((v as u32, n))
}

/// The next date with this month and day on or after `today` (this year, else next year).
fn upcoming(today: Date, month: u32, day: u32) -> Option<Date> {
    let this = Date::new(today.year, month, day);
    match this {
        Some(d) if d >= today => Some(d),
        _ => Date::new(today.year + 1, month, day),
    }
}

fn date(toks: &[String], today: Date) -> Option<Found> {
    let found = |d: Date, start: usize, end: usize| Found {
        value: d.to_string(),
        start,
        end,
    };
    for i in 0..toks.len() {
        let t = toks[i].as_str();
        let next = toks.get(i + 1).map(String::as_str);
        match t {
            "today" | "tonight" => return Some(found(today, i, i + 1)),
            "tomorrow" | "tomorow" | "tmrw" => return Some(found(today.plus(1), i, i + 1)),
            "day" if next == Some("after") && toks.get(i + 2).is_some_and(|t| t == "tomorrow") => {
                return Some(found(today.plus(2), i, i + 3));
            }
            "next" if next == Some("week") => return Some(found(today.plus(7), i, i + 2)),
            "in" => {
                if let Some((n, used)) = number_at(toks, i + 1) {
                    let unit = toks.get(i + 1 + used).map(String::as_str);
                    let days = match unit {
                        Some("day" | "days") => Some(n as i64),
                        Some("week" | "weeks") => Some(n as i64 * 7),
                        _ => None,
                    };
                    if let Some(days) = days.filter(|d| *d <= 3660) {
                        return Some(found(today.plus(days), i, i + 2 + used));
                    }
                }
            }
            _ => {}
        }
        // Four-letter abbreviations only ("tues", "thur"): the three-letter ones are
        // words callers say for other things ("sat", "sun", "wed", French "mon").
        if let Some(w) = WEEKDAYS
            .iter()
            .position(|d| *d == t || (t.len() == 4 && d.starts_with(t)))
        {
            let mut ahead = (w as i64 - i64::from(today.weekday())).rem_euclid(7);
            if ahead == 0 {
                ahead = 7;
            }
            let start =
                if i > 0 && matches!(toks[i - 1].as_str(), "next" | "this" | "on" | "coming") {
                    i - 1
                } else {
                    i
                };
            return Some(found(today.plus(ahead), start, i + 1));
        }
        // "March 3rd", "March the third", "March 3"
        if let Some(m) = month_at(toks, i)
            && let Some((d, n)) = day_at(toks, i + 1)
            && let Some(date) = upcoming(today, m, d)
        {
            return Some(found(date, i, i + 1 + n));
        }
        // "3rd of March", "the 3rd of March", "3 March"
        if let Some((d, n)) = day_at(toks, i) {
            let mut j = i + n;
            if toks.get(j).is_some_and(|t| t == "of") {
                j += 1;
            }
            if let Some(m) = month_at(toks, j)
                && let Some(date) = upcoming(today, m, d)
            {
                return Some(found(date, i, j + 1));
            }
            // "the 5th": this month, or the next when passed.
            if toks.get(i).is_some_and(|t| t == "the") && ordinal_at(toks, i + 1).is_some() {
                let this = Date::new(today.year, today.month, d).filter(|x| *x >= today);
                let date = this.or_else(|| {
                    let (y, m) = if today.month == 12 {
                        (today.year + 1, 1)
                    } else {
                        (today.year, today.month + 1)
                    };
                    Date::new(y, m, d)
                });
                if let Some(date) = date {
                    return Some(found(date, i, i + n));
                }
            }
        }
    }
    None
}

fn hm(h: u64, m: u64) -> Option<String> {
    (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
}

/// Applies am/pm, or the daytime rule (1–7 without am/pm → afternoon).
fn meridiem(h: u64, suffix: Option<&str>) -> u64 {
    match suffix {
        Some("am") if h == 12 => 0,
        Some("am") => h,
        Some("pm") if h < 12 => h + 12,
        Some("pm") => h,
        _ if (1..=7).contains(&h) => h + 12,
        _ => h,
    }
}

/// An am/pm marker at `toks[i]`: `am`, `a m`, `a.m.`, `in the morning`…; value and tokens used.
fn suffix_at(toks: &[String], i: usize) -> Option<(&'static str, usize)> {
    let t = toks.get(i)?.as_str();
    let next = toks.get(i + 1).map(String::as_str);
    match (t, next) {
        ("am", _) => Some(("am", 1)),
        ("pm", _) => Some(("pm", 1)),
        ("a" | "ay", Some("m")) => Some(("am", 2)),
        ("p" | "pee", Some("m")) => Some(("pm", 2)),
        ("in", Some("the")) => match toks.get(i + 2).map(String::as_str) {
            Some("morning") => Some(("am", 3)),
            Some("afternoon" | "evening") => Some(("pm", 3)),
            _ => None,
        },
        ("tonight", _) => Some(("pm", 1)),
        ("o'clock" | "oclock", _) => Some(("", 1)),
        _ => None,
    }
}

fn time(toks: &[String], answer: bool) -> Option<Found> {
    for i in 0..toks.len() {
        let t = toks[i].as_str();
        let found = |value: String, end: usize| Found {
            value,
            start: i,
            end,
        };
        match t {
            "noon" | "midday" => return hm(12, 0).map(|v| found(v, i + 1)),
            "midnight" => return hm(0, 0).map(|v| found(v, i + 1)),
            "half" | "quarter"
                if toks
                    .get(i + 1)
                    .is_some_and(|n| n == "past" || n == "to" || n == "after") =>
            {
                let mins = if t == "half" { 30 } else { 15 };
                let before = toks[i + 1] == "to";
                if let Some((h, n)) = number_at(toks, i + 2).filter(|(h, _)| (1..=12).contains(h)) {
                    let suffix = suffix_at(toks, i + 2 + n);
                    let end = i + 2 + n + suffix.map_or(0, |s| s.1);
                    let h = meridiem(h, suffix.map(|s| s.0).filter(|s| !s.is_empty()));
                    let (h, m) = if before {
                        ((h + 23) % 24, 60 - mins)
                    } else {
                        (h, mins)
                    };
                    return hm(h, m).map(|v| found(v, end));
                }
            }
            _ => {}
        }
        // "10:30", "10:30pm"
        if let Some((hs, ms)) = t.split_once(':') {
            let ms_digits: String = ms.chars().take_while(char::is_ascii_digit).collect();
            let tail = &ms[ms_digits.len()..];
            if let (Ok(h), Ok(m)) = (hs.parse::<u64>(), ms_digits.parse::<u64>()) {
                let (suffix, used) = if tail.is_empty() {
                    suffix_at(toks, i + 1).map_or((None, 0), |(s, n)| (Some(s), n))
                } else {
                    (Some(if tail == "pm" { "pm" } else { "am" }), 0)
                };
                let h = if h > 12 {
                    h
                } else {
                    meridiem(h, suffix.filter(|s| !s.is_empty()))
                };
                return hm(h, m).map(|v| found(v, i + 1 + used));
            }
        }
        // "10am", "3pm"
        for suf in ["am", "pm"] {
            if let Some(h) = t.strip_suffix(suf).and_then(|h| h.parse::<u64>().ok()) {
                return hm(meridiem(h, Some(suf)), 0).map(|v| found(v, i + 1));
            }
        }
        // "ten", "ten thirty", "three p m", "at 3", "14 30"
        let at = i > 0 && matches!(toks[i - 1].as_str(), "at" | "around" | "by");
        if let Some((h, n)) = number_at(toks, i).filter(|(h, n)| *n <= 2 && *h <= 23) {
            let mut j = i + n;
            let mut minutes = 0;
            if let Some((m, k)) = number_at(toks, j).filter(|(m, _)| {
                *m < 60 && *m >= 10 || toks.get(j).is_some_and(|w| w == "oh" || w.starts_with('0'))
            }) {
                minutes = m;
                j += k;
            } else if toks.get(j).is_some_and(|w| w == "oh")
                && let Some((m, k)) = number_at(toks, j + 1).filter(|(m, _)| *m < 10)
            {
                minutes = m;
                j += 1 + k;
            }
            let suffix = suffix_at(toks, j);
            // Hours with minutes ("seven thirty") are a time wherever they are said.
            if suffix.is_some() || at || answer || j > i + n {
                let end = j + suffix.map_or(0, |s| s.1);
                let h = if h > 12 {
                    h
                } else {
                    meridiem(h, suffix.map(|s| s.0).filter(|s| !s.is_empty()))
                };
                let start = if at { i - 1 } else { i };
                return hm(h, minutes).map(|value| Found { value, start, end });
            }
        }
    }
    None
}

fn values_match(values: &[(String, Vec<Vec<String>>)], toks: &[String]) -> Option<Found> {
    // Exact: the longest form wins.
    let mut best: Option<(usize, Found)> = None;
    for (value, forms) in values {
        for form in forms {
            if form.len() > toks.len() {
                continue;
            }
            for i in 0..=toks.len() - form.len() {
                if toks[i..i + form.len()] == form[..]
                    && best.as_ref().is_none_or(|b| form.len() > b.0)
                {
                    best = Some((
                        form.len(),
                        Found {
                            value: value.clone(),
                            start: i,
                            end: i + form.len(),
                        },
                    ));
                }
            }
        }
    }
    if let Some((_, f)) = best {
        return Some(f);
    }
    // Fuzzy (speech recognition errors): a window of one to three more or fewer words whose
    // letters are close to a form's.
    let mut fuzzy: Option<(f32, Found)> = None;
    for (value, forms) in values {
        for form in forms {
            let target = form.join("");
            let tlen = target.chars().count();
            if tlen < 4 {
                continue;
            }
            for width in form.len().saturating_sub(1).max(1)..=form.len() + 1 {
                if width > toks.len() {
                    continue;
                }
                for i in 0..=toks.len() - width {
                    let cand = toks[i..i + width].join("");
                    let d = distance(&cand, &target);
                    let limit = (tlen / 4).max(1);
                    if d <= limit {
                        let score = 1.0 - d as f32 / tlen as f32;
                        if fuzzy.as_ref().is_none_or(|b| score > b.0) {
                            fuzzy = Some((
                                score,
                                Found {
                                    value: value.clone(),
                                    start: i,
                                    end: i + width,
                                },
                            ));
                        }
                    }
                }
            }
        }
    }
    fuzzy.map(|(_, f)| f)
}

/// Checks a value against a slot's `validate.between` bounds, in the type's order (numbers
/// numerically, dates and times as ISO text). `today` stands for today's date.
pub fn within(kind: &Kind, value: &str, lo: &str, hi: &str, today: Date) -> bool {
    let resolve = |b: &str| {
        if b == "today" {
            today.to_string()
        } else {
            b.to_owned()
        }
    };
    let (lo, hi) = (resolve(lo), resolve(hi));
    match kind {
        Kind::Number => match (value.parse::<f64>(), lo.parse::<f64>(), hi.parse::<f64>()) {
            (Ok(v), Ok(l), Ok(h)) => l <= v && v <= h,
            _ => false,
        },
        Kind::Time => {
            let pad = |s: &str| {
                if s.len() == 4 {
                    format!("0{s}")
                } else {
                    s.to_owned()
                }
            };
            let v = pad(value);
            pad(&lo) <= v && v <= pad(&hi)
        }
        _ => lo.as_str() <= value && value <= hi.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date {
        year: 2026,
        month: 11,
        day: 22,
    }; // a Sunday

    fn answer(kind: Kind, s: &str) -> Option<String> {
        Slots { today: TODAY }.answer(&kind, s)
    }

    #[test]
    fn free_text_drops_the_recognisers_closing_punctuation() {
        assert_eq!(
            answer(Kind::Text, "Sarah Johnson."),
            Some("Sarah Johnson".into())
        );
        assert_eq!(answer(Kind::Text, "  O'Brien!? "), Some("O'Brien".into()));
        assert_eq!(answer(Kind::Text, "Dr. Who"), Some("Dr. Who".into()));
        assert_eq!(answer(Kind::Text, " ... "), None);
    }

    #[test]
    fn three_letter_words_are_not_weekdays() {
        for s in ["annuler mon rendez-vous", "I sat down", "the sun is out"] {
            assert_eq!(answer(Kind::Date, s), None, "{s}");
        }
        assert_eq!(answer(Kind::Date, "tues").as_deref(), Some("2026-11-24"));
    }

    #[test]
    fn calendar() {
        assert_eq!(TODAY.weekday(), 6);
        assert_eq!(Date::from_days(TODAY.to_days()), TODAY);
        assert_eq!(TODAY.plus(10).to_string(), "2026-12-02");
        assert_eq!(
            Date::new(2028, 2, 29).map(|d| d.plus(1).to_string()),
            Some("2028-03-01".into())
        );
        assert_eq!(Date::new(2026, 2, 29), None);
        assert_eq!(Date::parse_iso("2026-03-03"), Date::new(2026, 3, 3));
    }

    #[test]
    fn dates() {
        let d = |s| answer(Kind::Date, s);
        assert_eq!(d("tomorrow").as_deref(), Some("2026-11-23"));
        assert_eq!(d("the day after tomorrow").as_deref(), Some("2026-11-24"));
        assert_eq!(d("next Monday").as_deref(), Some("2026-11-23"));
        assert_eq!(d("on friday please").as_deref(), Some("2026-11-27"));
        assert_eq!(d("sunday").as_deref(), Some("2026-11-29"));
        assert_eq!(d("March 3rd").as_deref(), Some("2027-03-03"));
        assert_eq!(d("the third of december").as_deref(), Some("2026-12-03"));
        assert_eq!(d("december twenty first").as_deref(), Some("2026-12-21"));
        assert_eq!(d("in three days").as_deref(), Some("2026-11-25"));
        assert_eq!(d("2026-12-24").as_deref(), Some("2026-12-24"));
        assert_eq!(d("the 5th").as_deref(), Some("2026-12-05"));
        assert_eq!(d("whenever"), None);
    }

    #[test]
    fn times() {
        let t = |s| answer(Kind::Time, s);
        assert_eq!(t("three p m").as_deref(), Some("15:00"));
        assert_eq!(t("10 am").as_deref(), Some("10:00"));
        assert_eq!(t("10am").as_deref(), Some("10:00"));
        assert_eq!(t("half past two").as_deref(), Some("14:30"));
        assert_eq!(
            t("quarter to nine in the morning").as_deref(),
            Some("08:45")
        );
        assert_eq!(t("ten thirty").as_deref(), Some("10:30"));
        assert_eq!(t("14:15").as_deref(), Some("14:15"));
        assert_eq!(t("2:30 pm").as_deref(), Some("14:30"));
        assert_eq!(t("noon").as_deref(), Some("12:00"));
        assert_eq!(t("eleven o'clock").as_deref(), Some("11:00"));
        assert_eq!(t("nine oh five").as_deref(), Some("09:05"));
        assert_eq!(t("no idea"), None);
        // Scanning needs a marker: "at", am/pm.
        let s = Slots { today: TODAY };
        let toks = tokens("I need a cleaning at 10 on Monday");
        assert_eq!(
            s.find(&Kind::Time, &toks).map(|f| f.value).as_deref(),
            Some("10:00")
        );
        assert_eq!(s.find(&Kind::Time, &tokens("I have 2 kids")), None);
    }

    #[test]
    fn numbers_digits_phones() {
        assert_eq!(answer(Kind::Number, "twenty five").as_deref(), Some("25"));
        assert_eq!(answer(Kind::Number, "I'm 42").as_deref(), Some("42"));
        assert_eq!(
            answer(Kind::Digits, "one two three four").as_deref(),
            Some("1234")
        );
        assert_eq!(
            answer(Kind::Digits, "double five oh seven").as_deref(),
            Some("5507")
        );
        assert_eq!(
            answer(
                Kind::Phone,
                "plus one five five five one two three four five six seven"
            )
            .as_deref(),
            Some("+15551234567")
        );
        assert_eq!(
            answer(Kind::Phone, "555 123 4567").as_deref(),
            Some("5551234567")
        );
        assert_eq!(answer(Kind::Phone, "12"), None);
    }

    #[test]
    fn yes_no_and_spelling() {
        for y in ["yes", "yeah sure", "Yep.", "of course", "that's right", "1"] {
            assert_eq!(answer(Kind::YesNo, y).as_deref(), Some("yes"), "{y}");
        }
        for n in ["no", "nope", "nah thanks", "no that's not right", "2"] {
            assert_eq!(answer(Kind::YesNo, n).as_deref(), Some("no"), "{n}");
        }
        assert_eq!(answer(Kind::YesNo, "banana"), None);
        assert_eq!(answer(Kind::Spelled, "A B C").as_deref(), Some("ABC"));
        assert_eq!(
            answer(Kind::Spelled, "alpha bravo seven").as_deref(),
            Some("AB7")
        );
    }

    #[test]
    fn custom_values_and_regex() {
        let t: SlotType = serde_saphyr::from_str(
            "values: [{value: cleaning, synonyms: [checkup, check up]}, {value: filling}]",
        )
        .unwrap();
        let k = Kind::custom(&t).unwrap();
        assert_eq!(
            answer(k.clone(), "a check up please").as_deref(),
            Some("cleaning")
        );
        assert_eq!(answer(k.clone(), "filling").as_deref(), Some("filling"));
        assert_eq!(answer(k.clone(), "a fillin").as_deref(), Some("filling"));
        assert_eq!(answer(k.clone(), "a cleanin").as_deref(), Some("cleaning"));
        assert_eq!(answer(k, "root canal"), None);
        let re: SlotType = serde_saphyr::from_str("regex: '^[A-Z][0-9]{3}$'").unwrap();
        let k = Kind::custom(&re).unwrap();
        assert_eq!(answer(k.clone(), "B 1 2 3").as_deref(), Some("B123"));
        assert_eq!(answer(k, "room b123").as_deref(), Some("B123"));
    }

    #[test]
    fn bounds() {
        assert!(within(&Kind::Time, "09:00", "08:00", "18:00", TODAY));
        assert!(!within(&Kind::Time, "19:00", "08:00", "18:00", TODAY));
        assert!(within(&Kind::Number, "5", "1", "10", TODAY));
        assert!(!within(&Kind::Number, "50", "1", "10", TODAY));
        assert!(!within(
            &Kind::Date,
            "2026-11-21",
            "today",
            "2027-12-31",
            TODAY
        ));
    }
}
