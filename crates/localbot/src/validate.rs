//! Semantic checks of a bot file, after its shape is known to be right: every problem at once,
//! each pointing at the offending text (slot types, placeholders, samples, regexes, templates,
//! webhooks, transfers, locales). Pure: no IO.

use std::collections::{BTreeMap, BTreeSet};

use hotline_flow::{Diagnostic, Span};
use regex::Regex;

use crate::codes;
use crate::model::{BUILTIN_TYPES, BotFile, Locale, ScoreRule, Then};
use crate::schema::{Seg, at, key_at};
use crate::slots::Date;
use crate::text::{did_you_mean, tokens};
use crate::yaml::Yaml;

/// `{Name}` placeholders in a template or sample.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = after[..close].trim();
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_-.".contains(c))
                {
                    out.push(name.to_owned());
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Whether a transfer target looks dialable: E.164 or a SIP address.
pub(crate) fn valid_transfer(target: &str) -> bool {
    let t = target.trim();
    if t.starts_with("sip:") {
        return t.len() > 4;
    }
    let digits = t.strip_prefix('+').unwrap_or("");
    (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

struct Checker<'a> {
    file: &'a str,
    root: &'a Yaml,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn span(&self, path: &[Seg<'_>]) -> Span {
        at(self.root, path).map_or(self.root.span, |n| n.span)
    }
    fn key_span(&self, path: &[Seg<'_>]) -> Span {
        key_at(self.root, path).unwrap_or_else(|| self.span(path))
    }
    fn error(
        &mut self,
        code: &'static str,
        span: Span,
        msg: String,
        label: &str,
        help: Option<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, self.file, span, msg, label).with_help_opt(help));
    }
    fn warning(
        &mut self,
        code: &'static str,
        span: Span,
        msg: String,
        label: &str,
        help: Option<String>,
    ) {
        self.diags
            .push(Diagnostic::warning(code, self.file, span, msg, label).with_help_opt(help));
    }

    /// Checks a template's placeholders against `slots` (and `attr.*`).
    fn template(&mut self, text: &str, path: &[Seg<'_>], slots: &[&str]) {
        for p in placeholders(text) {
            if p.starts_with("attr.") && p.len() > 5 {
                continue;
            }
            if slots.contains(&p.as_str()) {
                continue;
            }
            let help = did_you_mean(&p, slots.iter().copied()).or_else(|| {
                Some(if slots.is_empty() {
                    "only session attributes (`{attr.name}`) can be used here".into()
                } else {
                    format!(
                        "placeholders here are the intent's slots ({}) or `{{attr.name}}`",
                        slots
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            });
            self.error(
                codes::TEMPLATE_UNKNOWN_SLOT,
                self.span(path),
                format!("the message uses `{{{p}}}`, which is not a slot here"),
                "unknown placeholder in this text",
                help,
            );
        }
    }

    fn then(&mut self, then: &Then, path: &[Seg<'_>]) {
        if let Then::Transfer(target) = then
            && !valid_transfer(target)
        {
            let mut p = path.to_vec();
            p.push(Seg::Key("transfer"));
            self.error(
                codes::BAD_TRANSFER,
                self.span(&p),
                format!("`{target}` is not a phone number in E.164 form or a SIP address"),
                "cannot transfer here",
                Some("write the number with its country code, e.g. `\"+15551234567\"`, or `sip:agent@example.com`".into()),
            );
        }
    }

    fn score_rule(&mut self, rule: &ScoreRule, then: &[Seg<'_>], slots: &[&str]) {
        let mut base = then.to_vec();
        base.push(Seg::Key("score"));
        let at_path = |k: &'static str| {
            let mut p = base.clone();
            p.push(Seg::Key(k));
            p
        };
        for (slot, _) in rule.points.iter() {
            if !slots.contains(&slot) {
                let mut p = at_path("points");
                p.push(Seg::Key(slot));
                let span = self.key_span(&p);
                self.error(
                    codes::UNKNOWN_SLOT_REFERENCE,
                    span,
                    format!("`points` names `{slot}`, which is not a slot of this intent"),
                    "no such slot",
                    did_you_mean(slot, slots.iter().copied()),
                );
            }
        }
        for (i, slot) in rule.red_flags.iter().enumerate() {
            if !slots.contains(&slot.as_str()) {
                let mut p = at_path("red_flags");
                p.push(Seg::Idx(i));
                let span = self.span(&p);
                self.error(
                    codes::UNKNOWN_SLOT_REFERENCE,
                    span,
                    format!("`red_flags` names `{slot}`, which is not a slot of this intent"),
                    "no such slot",
                    did_you_mean(slot, slots.iter().copied()),
                );
            }
        }
        let mut with_score: Vec<&str> = slots.to_vec();
        with_score.push("score");
        for k in ["high", "low"] {
            let outcome = if k == "high" { &rule.high } else { &rule.low };
            let mut p = at_path(k);
            if let Some(say) = &outcome.say {
                p.push(Seg::Key("say"));
                self.template(say, &p, &with_score);
                p.pop();
            }
            if let Some(t) = &outcome.then {
                p.push(Seg::Key("then"));
                if matches!(t, Then::Score(_)) {
                    let span = self.span(&p);
                    self.error(
                        codes::UNKNOWN_THEN,
                        span,
                        "an outcome cannot score again".into(),
                        "nested score",
                        Some("use `listen`, `hangup`, `return` or `{ transfer: NUMBER }`".into()),
                    );
                }
                self.then(t, &p);
            }
        }
    }

    fn locale(&mut self, name: &str, locale: &Locale) {
        let base = [Seg::Key("locales"), Seg::Key(name)];
        let p = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> { rest.to_vec() };
        let _ = p;
        for (field, text) in [
            ("greeting", &locale.greeting),
            ("fallback", &locale.fallback),
        ] {
            let path = [base[0], base[1], Seg::Key(field)];
            if text.trim().is_empty() {
                self.error(
                    codes::LOCALE_MISSING_CONTENT,
                    self.span(&path),
                    format!("the `{field}` of locale `{name}` is empty"),
                    "nothing to say",
                    Some("write what the bot says".into()),
                );
            }
            self.template(text, &path, &[]);
        }
        if let Some(c) = locale.confidence
            && !(0.0..=1.0).contains(&c)
        {
            self.error(
                codes::INVALID_VALUE,
                self.span(&[base[0], base[1], Seg::Key("confidence")]),
                format!("confidence {c} is outside 0..1"),
                "not a probability",
                Some("use a value such as 0.55".into()),
            );
        }
        if let Some(g) = &locale.give_up {
            if let Some(say) = &g.say {
                self.template(
                    say,
                    &[base[0], base[1], Seg::Key("give_up"), Seg::Key("say")],
                    &[],
                );
            }
            if let Some(t) = &g.then {
                self.then(
                    t,
                    &[base[0], base[1], Seg::Key("give_up"), Seg::Key("then")],
                );
            }
        }
        // Slot types.
        for (tname, t) in locale.slot_types.iter() {
            let tpath = [base[0], base[1], Seg::Key("slot_types"), Seg::Key(tname)];
            if !valid_name(tname) {
                self.error(
                    codes::INVALID_NAME,
                    self.key_span(&tpath),
                    format!("`{tname}` is not a valid slot type name"),
                    "bad name",
                    Some("use letters, digits, `_` and `-`, starting with a letter".into()),
                );
            }
            if BUILTIN_TYPES.contains(&tname) {
                self.error(
                    codes::INVALID_NAME,
                    self.key_span(&tpath),
                    format!("`{tname}` is a built-in type and cannot be redefined"),
                    "built-in name",
                    Some("choose another name".into()),
                );
            }
            match (&t.regex, t.values.is_empty()) {
                (Some(_), false) | (None, true) => self.error(
                    codes::BAD_SLOT_TYPE,
                    self.key_span(&tpath),
                    format!("slot type `{tname}` needs either `values` or `regex` (exactly one)"),
                    "neither or both given",
                    Some("list the values (`values: [{ value: x, synonyms: [...] }]`) or give a `regex`".into()),
                ),
                _ => {}
            }
            if let Some(re) = &t.regex
                && let Err(e) = Regex::new(re)
            {
                let mut path = tpath.to_vec();
                path.push(Seg::Key("regex"));
                self.error(
                    codes::BAD_REGEX,
                    self.span(&path),
                    format!(
                        "the regular expression does not compile: {}",
                        first_line(&e.to_string())
                    ),
                    "bad regex",
                    Some("check the syntax (Rust `regex` crate; no look-around)".into()),
                );
            }
            for (i, v) in t.values.iter().enumerate() {
                if v.value.trim().is_empty() {
                    let path = [
                        tpath[0],
                        tpath[1],
                        tpath[2],
                        tpath[3],
                        Seg::Key("values"),
                        Seg::Idx(i),
                    ];
                    self.error(
                        codes::INVALID_VALUE,
                        self.span(&path),
                        "a slot value is empty".into(),
                        "empty value",
                        None,
                    );
                }
            }
        }
        let types: Vec<&str> = BUILTIN_TYPES
            .iter()
            .copied()
            .chain(locale.slot_types.keys())
            .collect();
        if locale.intents.is_empty() {
            self.error(
                codes::LOCALE_MISSING_CONTENT,
                self.key_span(&base),
                format!("locale `{name}` has no intents"),
                "no intents",
                Some("add at least one intent with samples".into()),
            );
        }
        // Intents.
        let mut samples_seen: BTreeMap<Vec<String>, (String, Span)> = BTreeMap::new();
        let mut digits_seen: BTreeMap<String, String> = BTreeMap::new();
        for (iname, intent) in locale.intents.iter() {
            let ipath = [base[0], base[1], Seg::Key("intents"), Seg::Key(iname)];
            let sub = |k: &'static str| [ipath[0], ipath[1], ipath[2], ipath[3], Seg::Key(k)];
            if !valid_name(iname) {
                self.error(
                    codes::INVALID_NAME,
                    self.key_span(&ipath),
                    format!("`{iname}` is not a valid intent name"),
                    "bad name",
                    Some("use letters, digits, `_` and `-`, starting with a letter".into()),
                );
            }
            if intent.samples.iter().all(|s| s.trim().is_empty()) && intent.digits.is_none() {
                self.error(
                    codes::NO_SAMPLES,
                    self.key_span(&ipath),
                    format!("intent `{iname}` has no samples, so it can never be recognised"),
                    "no samples",
                    Some("add `samples:` (a few ways callers say it) or menu `digits:`".into()),
                );
            }
            if let Some(d) = &intent.digits {
                if d.is_empty()
                    || !d
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
                {
                    self.error(
                        codes::INVALID_VALUE,
                        self.span(&sub("digits")),
                        format!("`{d}` is not a sequence of keypad digits"),
                        "not digits",
                        Some("use 0-9, `*` and `#`, e.g. `\"1\"`".into()),
                    );
                } else if let Some(other) = digits_seen.insert(d.clone(), iname.to_owned()) {
                    self.error(
                        codes::DUPLICATE_DIGITS,
                        self.span(&sub("digits")),
                        format!("digits `{d}` already select intent `{other}`"),
                        "claimed twice",
                        Some("give each intent its own digits".into()),
                    );
                }
            }
            let slot_names: Vec<&str> = intent.slots.keys().collect();
            let mut used: BTreeSet<String> = BTreeSet::new();
            for (i, sample) in intent.samples.iter().enumerate() {
                let spath = [
                    ipath[0],
                    ipath[1],
                    ipath[2],
                    ipath[3],
                    Seg::Key("samples"),
                    Seg::Idx(i),
                ];
                for p in placeholders(sample) {
                    if intent.slots.contains_key(&p) {
                        used.insert(p);
                    } else {
                        let help = did_you_mean(&p, slot_names.iter().copied()).unwrap_or_else(|| {
                            format!("declare it under `slots:` of `{iname}` (e.g. `{p}: {{ type: text, prompt: ... }}`)")
                        });
                        self.error(
                            codes::PLACEHOLDER_WITHOUT_SLOT,
                            self.span(&spath),
                            format!(
                                "sample uses `{{{p}}}`, but intent `{iname}` has no slot `{p}`"
                            ),
                            "placeholder with no slot",
                            Some(help),
                        );
                    }
                }
                let key = tokens(sample);
                if key.is_empty() {
                    continue;
                }
                let here = self.span(&spath);
                match samples_seen.get(&key) {
                    Some((other, first)) if other != iname => {
                        let line = first.line;
                        self.error(
                            codes::DUPLICATE_SAMPLE,
                            here,
                            format!("sample \"{sample}\" also belongs to intent `{other}`"),
                            "same sample in two intents",
                            Some(format!(
                                "the first is on line {line}; an utterance can only mean one thing"
                            )),
                        );
                    }
                    Some(_) => {}
                    None => {
                        samples_seen.insert(key, (iname.to_owned(), here));
                    }
                }
            }
            for (sname, slot) in intent.slots.iter() {
                let slpath = [
                    ipath[0],
                    ipath[1],
                    ipath[2],
                    ipath[3],
                    Seg::Key("slots"),
                    Seg::Key(sname),
                ];
                let field = |k: &'static str| {
                    [
                        slpath[0],
                        slpath[1],
                        slpath[2],
                        slpath[3],
                        slpath[4],
                        slpath[5],
                        Seg::Key(k),
                    ]
                };
                if !valid_name(sname) {
                    self.error(
                        codes::INVALID_NAME,
                        self.key_span(&slpath),
                        format!("`{sname}` is not a valid slot name"),
                        "bad name",
                        Some("use letters, digits, `_` and `-`, starting with a letter".into()),
                    );
                }
                if !types.contains(&slot.slot_type.as_str()) {
                    let help =
                        did_you_mean(&slot.slot_type, types.iter().copied()).unwrap_or_else(|| {
                            format!(
                                "built-in types are {}; or declare it under `slot_types:`",
                                BUILTIN_TYPES.map(|t| format!("`{t}`")).join(", ")
                            )
                        });
                    self.error(
                        codes::UNKNOWN_SLOT_TYPE,
                        self.span(&field("type")),
                        format!("unknown slot type `{}`", slot.slot_type),
                        "no such type",
                        Some(help),
                    );
                }
                if slot.required && slot.prompt.as_deref().is_none_or(|p| p.trim().is_empty()) {
                    self.error(
                        codes::MISSING_PROMPT,
                        self.key_span(&slpath),
                        format!("required slot `{sname}` has no `prompt`"),
                        "cannot be asked for",
                        Some("add `prompt: \"...?\"`, or make it `required: false`".into()),
                    );
                }
                // Only for types a caller says along with a request ("a cleaning tomorrow"); yes/no,
                // spelled and free-text answers are asked for anyway.
                let sayable = !matches!(slot.slot_type.as_str(), "yes_no" | "text" | "spelled");
                if sayable && slot.required && !used.contains(sname) && !intent.samples.is_empty() {
                    self.warning(
                        codes::SLOT_NOT_IN_SAMPLES,
                        self.key_span(&slpath),
                        format!("required slot `{sname}` never appears in a sample of `{iname}`"),
                        "only ever asked for",
                        Some(format!(
                            "add a sample with `{{{sname}}}` so callers can say it with the request"
                        )),
                    );
                }
                if let Some(p) = &slot.prompt {
                    self.template(p, &field("prompt"), &slot_names);
                }
                for (i, r) in slot.reprompts.iter().enumerate() {
                    self.template(
                        r,
                        &[
                            slpath[0],
                            slpath[1],
                            slpath[2],
                            slpath[3],
                            slpath[4],
                            slpath[5],
                            Seg::Key("reprompts"),
                            Seg::Idx(i),
                        ],
                        &slot_names,
                    );
                }
                if let Some(v) = &slot.validate {
                    let vpath = field("validate");
                    let vf = |k: &'static str| {
                        [
                            vpath[0],
                            vpath[1],
                            vpath[2],
                            vpath[3],
                            vpath[4],
                            vpath[5],
                            vpath[6],
                            Seg::Key(k),
                        ]
                    };
                    self.template(&v.message, &vf("message"), &slot_names);
                    if let Some(re) = &v.regex
                        && let Err(e) = Regex::new(re)
                    {
                        self.error(
                            codes::BAD_REGEX,
                            self.span(&vf("regex")),
                            format!(
                                "the regular expression does not compile: {}",
                                first_line(&e.to_string())
                            ),
                            "bad regex",
                            None,
                        );
                    }
                    if let Some([lo, hi]) = &v.between {
                        let ok = |b: &str| match slot.slot_type.as_str() {
                            "number" => b.parse::<f64>().is_ok(),
                            "time" => b.split_once(':').is_some_and(|(h, m)| {
                                h.parse::<u8>().is_ok_and(|h| h < 24)
                                    && m.len() == 2
                                    && m.parse::<u8>().is_ok_and(|m| m < 60)
                            }),
                            "date" => b == "today" || Date::parse_iso(b).is_some(),
                            _ => false,
                        };
                        if !ok(lo) || !ok(hi) {
                            self.error(codes::BAD_VALIDATION, self.span(&vf("between")), format!("`between` bounds do not fit slot type `{}`", slot.slot_type), "bad bounds", Some("bounds apply to `number` (`[1, 10]`), `time` (`[\"08:00\", \"18:00\"]`) and `date` (`[today, \"2026-12-31\"]`)".into()));
                        }
                    }
                }
            }
            for (k, text) in [("confirm", &intent.confirm), ("declined", &intent.declined)] {
                if let Some(t) = text {
                    self.template(t, &sub(k), &slot_names);
                }
            }
            if let Some(f) = &intent.fulfill {
                let fpath = sub("fulfill");
                if let Some(say) = &f.say {
                    self.template(
                        say,
                        &[
                            fpath[0],
                            fpath[1],
                            fpath[2],
                            fpath[3],
                            fpath[4],
                            Seg::Key("say"),
                        ],
                        &slot_names,
                    );
                }
                if let Some(w) = &f.webhook {
                    let wpath = [
                        fpath[0],
                        fpath[1],
                        fpath[2],
                        fpath[3],
                        fpath[4],
                        Seg::Key("webhook"),
                    ];
                    let wf = |k: &'static str| {
                        [
                            wpath[0],
                            wpath[1],
                            wpath[2],
                            wpath[3],
                            wpath[4],
                            wpath[5],
                            Seg::Key(k),
                        ]
                    };
                    match url::Url::parse(&w.url) {
                        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                        Ok(_) | Err(_) => self.error(
                            codes::BAD_WEBHOOK_URL,
                            self.span(&wf("url")),
                            format!("`{}` is not an http:// or https:// URL", w.url),
                            "bad URL",
                            Some("write a full URL, e.g. `http://127.0.0.1:9000/book`".into()),
                        ),
                    }
                    if let Some(ms) = w.timeout_ms
                        && !(1..=60_000).contains(&ms)
                    {
                        self.error(
                            codes::INVALID_VALUE,
                            self.span(&wf("timeout_ms")),
                            format!("timeout_ms {ms} is outside 1..=60000"),
                            "out of range",
                            Some("a few seconds (3000) keeps callers waiting little".into()),
                        );
                    }
                    if let Some(fb) = &w.fallback {
                        self.template(fb, &wf("fallback"), &slot_names);
                    }
                }
            }
            if let Some(t) = &intent.then {
                self.then(t, &sub("then"));
                if let Then::Score(rule) = t {
                    self.score_rule(rule, &sub("then"), &slot_names);
                }
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_owned()
}

/// Runs every semantic check; returns the diagnostics (errors and warnings).
pub(crate) fn check(bot: &BotFile, root: &Yaml, file: &str) -> Vec<Diagnostic> {
    let mut c = Checker {
        file,
        root,
        diags: Vec::new(),
    };
    if !valid_name(&bot.bot) {
        c.error(
            codes::INVALID_NAME,
            c.span(&[Seg::Key("bot")]),
            format!("`{}` is not a valid bot id", bot.bot),
            "bad id",
            Some("use letters, digits, `_` and `-`, starting with a letter".into()),
        );
    }
    if bot.locales.is_empty() {
        c.error(
            codes::MISSING_FIELD,
            c.key_span(&[Seg::Key("locales")]),
            "the bot has no locales".into(),
            "empty",
            Some("add a locale such as `en_US:` with a greeting, a fallback and intents".into()),
        );
    }
    for (name, locale) in bot.locales.iter() {
        c.locale(name, locale);
    }
    // Every locale has the same intents and slots as the first.
    if let Some((first_name, first)) = bot.locales.iter().next() {
        for (name, locale) in bot.locales.iter().skip(1) {
            for (iname, intent) in first.intents.iter() {
                match locale.intents.get(iname) {
                    None => c.error(
                        codes::LOCALE_MISSING_CONTENT,
                        c.key_span(&[Seg::Key("locales"), Seg::Key(name)]),
                        format!(
                            "locale `{name}` lacks intent `{iname}` (declared in `{first_name}`)"
                        ),
                        "intent missing in this locale",
                        Some(format!("add `{iname}` under `intents:` of `{name}`")),
                    ),
                    Some(other) => {
                        for s in intent.slots.keys() {
                            if !other.slots.contains_key(s) {
                                c.error(codes::LOCALE_MISSING_CONTENT, c.key_span(&[Seg::Key("locales"), Seg::Key(name), Seg::Key("intents"), Seg::Key(iname)]), format!("intent `{iname}` of locale `{name}` lacks slot `{s}` (declared in `{first_name}`)"), "slot missing in this locale", None);
                            }
                        }
                    }
                }
            }
        }
    }
    c.diags
}
