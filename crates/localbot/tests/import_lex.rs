//! `hotline bot import` from Amazon Lex V2: the appointment fixture (folder and zip) converts to
//! the expected bot, everything Hotline cannot carry is listed, and hostile exports (path
//! traversal, lying sizes, corrupt archives, malformed JSON) fail with clear errors, never a
//! panic.

#![allow(clippy::unwrap_used)]

use hotline_localbot::import::{
    ImportError, ImportOptions, Imported, LexError, Limits, NotCarried, SourceError, ZipError,
    import_lex, import_lex_with, import_lex_zip_bytes,
};
use hotline_localbot::model::{BotFile, Then};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lex")
        .join(name)
}

fn folder() -> Imported {
    import_lex(&fixture("appointment")).unwrap()
}

fn has(notes: &[NotCarried], what: &str, file_ends: &str) -> bool {
    notes
        .iter()
        .any(|n| n.what.contains(what) && n.file.ends_with(file_ends))
}

/// Every file of the fixture folder, as (relative path, bytes), in path order.
fn fixture_files() -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
                out.push((rel.replace('\\', "/"), std::fs::read(&path).unwrap()));
            }
        }
    }
    let root = fixture("appointment");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

// ---- A minimal zip writer (stored entries) for building archives in tests ----

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One entry to write: name bytes, data, and the sizes to declare (normally the data's).
struct RawEntry {
    name: Vec<u8>,
    data: Vec<u8>,
    declared: u32,
    flags: u16,
}

fn entry(name: &str, data: &[u8]) -> RawEntry {
    RawEntry {
        name: name.as_bytes().to_vec(),
        data: data.to_vec(),
        declared: data.len() as u32,
        flags: 0,
    }
}

fn zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let crc = crc32(&e.data);
        let header = |sig: u32, central_dir: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central_dir {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // needed
            h.extend_from_slice(&e.flags.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&0u32.to_le_bytes()); // time, date
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            h.extend_from_slice(&e.declared.to_le_bytes());
            h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central_dir {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
                h.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(&e.name);
            h
        };
        let local = header(0x0403_4b50, false);
        let cdh = header(0x0201_4b50, true);
        out.extend_from_slice(&local);
        out.extend_from_slice(&e.data);
        central.extend_from_slice(&cdh);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn import_bytes(bytes: &[u8]) -> Result<Imported, ImportError> {
    import_bytes_with(bytes, &Limits::default())
}

fn import_bytes_with(bytes: &[u8], limits: &Limits) -> Result<Imported, ImportError> {
    let options = ImportOptions {
        limits: *limits,
        ..ImportOptions::default()
    };
    import_lex_zip_bytes(bytes, "export.zip", &options)
}

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "hotline-import-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fixture_zip_with(extra: Vec<RawEntry>) -> Vec<u8> {
    let mut entries: Vec<RawEntry> = fixture_files()
        .iter()
        .map(|(name, data)| entry(name, data))
        .collect();
    entries.extend(extra);
    zip(&entries)
}

// ---- The conversion ----

#[test]
fn locales_intents_and_slot_types() {
    let bot = folder().bot;
    assert_eq!(bot.bot, "appointment-bot");
    assert!(
        bot.description
            .as_deref()
            .unwrap()
            .starts_with("Books, checks and cancels dental appointments")
    );
    assert_eq!(bot.locales.keys().collect::<Vec<_>>(), ["en_US", "fr_FR"]);

    let en = bot.locales.get("en_US").unwrap();
    // The fallback intent becomes the locale's fallback; Kendra's intent is not carried.
    assert_eq!(
        en.intents.keys().collect::<Vec<_>>(),
        [
            "CancelAppointment",
            "Goodbye",
            "MakeAppointment",
            "OpeningHours"
        ]
    );
    assert_eq!(
        en.fallback,
        "Sorry, I can book, check or cancel appointments. What would you like to do?"
    );
    assert_eq!(en.voice.as_deref(), Some("Polly.Joanna-Neural"));
    assert_eq!(en.confidence, Some(0.4));
    assert_eq!(en.max_retries, None, "Lex's 2 is Hotline's default");
    assert!(!en.greeting.is_empty());

    let kinds = en.slot_types.get("AppointmentTypeValue").unwrap();
    let values: Vec<(&str, Vec<&str>)> = kinds
        .values
        .iter()
        .map(|v| {
            (
                v.value.as_str(),
                v.synonyms.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        values,
        [
            ("cleaning", vec!["cleanup", "scale and polish"]),
            ("root canal", vec!["root canal treatment", "endodontics"]),
            ("whitening", vec!["teeth whitening", "bleaching"]),
        ]
    );
    assert!(!kinds.open, "TopResolution accepts listed values only");
    let patient = en.slot_types.get("PatientIdType").unwrap();
    assert_eq!(patient.regex.as_deref(), Some("[A-Z]{2}[0-9]{4}"));
    assert!(
        !en.slot_types.contains_key("FullNameType"),
        "composite types are not carried"
    );

    let fr = bot.locales.get("fr_FR").unwrap();
    assert_eq!(fr.voice.as_deref(), Some("Polly.Lea"));
    assert_eq!(
        fr.fallback,
        "Désolé, je peux prendre un rendez-vous. Que souhaitez-vous ?"
    );
    let fr_kinds = fr.slot_types.get("AppointmentTypeValue").unwrap();
    assert!(
        fr_kinds.open,
        "ORIGINAL_VALUE accepts other answers as said"
    );
    assert_eq!(fr_kinds.values[0].value, "détartrage");
    assert_eq!(fr_kinds.values[0].synonyms, ["nettoyage", "détartrer"]);
    assert!(fr_kinds.values[2].synonyms.is_empty());
}

#[test]
fn make_appointment_samples_slots_prompts_confirmation() {
    let bot = folder().bot;
    let en = bot.locales.get("en_US").unwrap();
    let make = en.intents.get("MakeAppointment").unwrap();
    assert_eq!(
        make.description.as_deref(),
        Some("Books a dental appointment")
    );
    assert_eq!(
        make.samples,
        [
            "I would like to book an appointment",
            "Book an appointment",
            "Book a {AppointmentType} appointment",
            "I need a {AppointmentType}",
            "Can I come in on {Date}",
            "Can I come in on {Date} at {Time}",
            "Schedule {ExtraServices} too",
        ]
    );
    // slotPriorities order (the JSON lists them shuffled).
    let slots: Vec<(&str, &str, bool)> = make
        .slots
        .iter()
        .map(|(n, s)| (n, s.slot_type.as_str(), s.required))
        .collect();
    assert_eq!(
        slots,
        [
            ("AppointmentType", "AppointmentTypeValue", true),
            ("Date", "date", true),
            ("Time", "time", true),
            ("Phone", "phone", true),
            ("PatientId", "PatientIdType", false),
            ("ExtraServices", "AppointmentTypeValue", false),
        ]
    );
    let kind = make.slots.get("AppointmentType").unwrap();
    // Two message groups (text, then a card said as its title and buttons), and a variation.
    assert_eq!(
        kind.prompt.as_deref(),
        Some(
            "What type of appointment would you like to schedule? Appointment type. Cleaning, Root canal, Whitening"
        )
    );
    assert_eq!(
        kind.reprompts,
        [
            "Which appointment do you need: a cleaning, a root canal or whitening? Appointment type. Cleaning, Root canal, Whitening"
        ]
    );
    let date = make.slots.get("Date").unwrap();
    assert_eq!(
        date.prompt.as_deref(),
        Some("When should I schedule your {AppointmentType}?")
    );
    assert_eq!(
        date.reprompts,
        ["What day would suit you for the {AppointmentType}?"]
    );
    // SSML reduced to text.
    assert_eq!(
        make.slots.get("Time").unwrap().prompt.as_deref(),
        Some("At what time on {Date}? We open at 8:00.")
    );
    // A custom payload group is skipped, the text group kept.
    assert_eq!(
        make.slots.get("Phone").unwrap().prompt.as_deref(),
        Some("What number can we reach you on?")
    );
    assert_eq!(
        make.confirm.as_deref(),
        Some("{Time} is available on {Date}. Should I book your {AppointmentType} appointment?")
    );
    assert_eq!(
        make.declined.as_deref(),
        Some("Okay, I will not schedule an appointment.")
    );
    assert_eq!(
        make.fulfill.as_ref().unwrap().say.as_deref(),
        Some("Your appointment is booked. Thank you. See you on {Date} at {Time}.")
    );
    assert_eq!(make.then, None, "ElicitIntent keeps listening");

    let cancel = en.intents.get("CancelAppointment").unwrap();
    assert_eq!(cancel.then, Some(Then::Hangup), "EndConversation hangs up");
    assert_eq!(
        cancel.slots.keys().collect::<Vec<_>>(),
        ["Date"],
        "the composite slot is left out"
    );
    assert_eq!(
        cancel.samples,
        ["Cancel my appointment", "I can't make it on {Date}"],
        "the sample using the composite slot is left out"
    );
    let goodbye = en.intents.get("Goodbye").unwrap();
    assert_eq!(goodbye.then, Some(Then::Hangup));
    assert!(goodbye.samples.iter().any(|s| s == "goodbye"));

    // The documentation's spelling (fr_FR) reads the same way.
    let fr = bot.locales.get("fr_FR").unwrap();
    let fr_make = fr.intents.get("MakeAppointment").unwrap();
    // ExtraServices has no slot priority in fr_FR: it comes last, with a note.
    assert_eq!(
        fr_make.slots.keys().collect::<Vec<_>>(),
        [
            "AppointmentType",
            "Date",
            "Time",
            "Phone",
            "PatientId",
            "ExtraServices"
        ]
    );
    assert_eq!(
        fr_make.slots.get("Time").unwrap().prompt.as_deref(),
        Some("À quelle heure le {Date} ?")
    );
    assert_eq!(
        fr_make.confirm.as_deref(),
        Some("Un {AppointmentType} le {Date} à {Time}, je confirme ?")
    );
    assert_eq!(
        fr_make.declined.as_deref(),
        Some("D'accord, je n'enregistre rien.")
    );
    // A Lex session attribute reference becomes Hotline's.
    assert_eq!(
        fr_make.fulfill.as_ref().unwrap().say.as_deref(),
        Some("Merci {attr.patientFirstName}, à bientôt.")
    );
}

#[test]
fn every_unsupported_feature_is_listed_with_its_file() {
    let notes = folder().not_carried;
    let en = "BotLocales/en_US/";
    let make = "Intents/MakeAppointment/Intent.json";
    for (what, file) in [
        ("dialog code hook", make),
        ("fulfilment code hook", make),
        ("confirmationConditional", make),
        ("fulfilment failureResponse", make),
        (
            "image response card",
            "MakeAppointment/Slots/AppointmentType/Slot.json",
        ),
        ("SSML", "MakeAppointment/Slots/Time/Slot.json"),
        ("custom payload", "MakeAppointment/Slots/Phone/Slot.json"),
        (
            "slot sample utterances",
            "MakeAppointment/Slots/Phone/Slot.json",
        ),
        (
            "obfuscationSetting",
            "MakeAppointment/Slots/Phone/Slot.json",
        ),
        (
            "multiple values",
            "MakeAppointment/Slots/ExtraServices/Slot.json",
        ),
        (
            "slotCaptureSetting.codeHook",
            "MakeAppointment/Slots/Date/Slot.json",
        ),
        ("maxRetries 3", "MakeAppointment/Slots/Time/Slot.json"),
        (
            "composite slot type",
            "SlotTypes/FullNameType/SlotType.json",
        ),
        (
            "composite slot (sub-slots)",
            "CancelAppointment/Slots/PatientName/Slot.json",
        ),
        ("sample utterance", "CancelAppointment/Intent.json"),
        ("outputContexts", "CancelAppointment/Intent.json"),
        ("AMAZON.KendraSearchIntent", "DentalFAQ/Intent.json"),
        ("AMAZON.StopIntent", "Goodbye/Intent.json"),
        ("inputContexts", "OpeningHours/Intent.json"),
        ("initial response", "OpeningHours/Intent.json"),
        ("AMAZON.DayOfWeek", "OpeningHours/Slots/Day/Slot.json"),
        (
            "custom vocabulary",
            "CustomVocabulary/CustomVocabulary.json",
        ),
        (
            "advancedRecognitionSetting",
            "AppointmentTypeValue/SlotType.json",
        ),
        ("greeting", "en_US/BotLocale.json"),
        ("nluConfidenceThreshold", "en_US/BotLocale.json"),
        ("idleSessionTTLInSeconds", "AppointmentBot/Bot.json"),
        (
            "slot missing from slotPriorities",
            "fr_FR/Intents/MakeAppointment/Slots/ExtraServices/Slot.json",
        ),
    ] {
        assert!(
            has(&notes, what, file),
            "no note {what:?} for …{file}; notes: {notes:#?}"
        );
    }
    // Places are recorded.
    let card = notes
        .iter()
        .find(|n| n.what.contains("image response card"))
        .unwrap();
    assert!(card.file.contains(en));
    assert_eq!(card.locale.as_deref(), Some("en_US"));
    assert_eq!(card.intent.as_deref(), Some("MakeAppointment"));
    assert_eq!(card.slot.as_deref(), Some("AppointmentType"));
    // Every note says why.
    assert!(
        notes
            .iter()
            .all(|n| !n.why.is_empty() && !n.what.is_empty())
    );
}

#[test]
fn yaml_lists_the_findings_as_comments_and_reads_back_as_the_bot() {
    let imported = folder();
    let (comments, body): (Vec<&str>, Vec<&str>) =
        imported.yaml.lines().partition(|l| l.starts_with('#'));
    assert!(comments[0].contains("Amazon Lex V2 export appointment"));
    assert!(
        comments
            .iter()
            .any(|l| l.contains("dialog code hook (Lambda)")),
        "{comments:#?}"
    );
    assert!(
        comments
            .iter()
            .any(|l| l.contains("Intents/DentalFAQ/Intent.json"))
    );
    let reread: BotFile = serde_saphyr::from_str(&body.join("\n")).unwrap();
    assert_eq!(reread, imported.bot);
    let with_comments: BotFile = serde_saphyr::from_str(&imported.yaml).unwrap();
    assert_eq!(with_comments, imported.bot);
}

#[test]
fn zip_and_folder_give_the_same_bot() {
    let folder = folder();
    // The committed archive (deflated by Python's zipfile).
    let zipped = import_lex(&fixture("appointment.zip")).unwrap();
    assert_eq!(zipped.bot, folder.bot);
    assert_eq!(zipped.not_carried, folder.not_carried);
    // An archive built here (stored entries), and one with the export in a top folder.
    let built = import_bytes(&fixture_zip_with(Vec::new())).unwrap();
    assert_eq!(built.bot, folder.bot);
    assert_eq!(built.not_carried, folder.not_carried);
    let nested: Vec<RawEntry> = fixture_files()
        .iter()
        .map(|(n, d)| entry(&format!("AppointmentBot_DRAFT_X1_LexJson/{n}"), d))
        .collect();
    assert_eq!(import_bytes(&zip(&nested)).unwrap().bot, folder.bot);
}

#[test]
fn locales_must_share_intents_and_slots_or_be_imported_alone() {
    // fr_FR without its OpeningHours intent and without MakeAppointment's Phone slot.
    let entries: Vec<RawEntry> = fixture_files()
        .iter()
        .filter(|(n, _)| {
            !n.contains("fr_FR/Intents/OpeningHours/")
                && !n.contains("fr_FR/Intents/MakeAppointment/Slots/Phone/")
        })
        .map(|(n, d)| entry(n, d))
        .collect();
    let archive = zip(&entries);
    let imported = import_bytes(&archive).unwrap();
    assert_eq!(imported.bot.locales.keys().collect::<Vec<_>>(), ["en_US"]);
    let note = imported
        .not_carried
        .iter()
        .find(|n| n.what == "locale fr_FR")
        .unwrap();
    assert!(note.why.contains("intent OpeningHours"), "{}", note.why);
    assert!(
        note.why.contains("slot MakeAppointment.Phone"),
        "{}",
        note.why
    );
    assert!(note.why.contains("--locale fr_FR"), "{}", note.why);

    // On its own, fr_FR imports (and en_US is listed as not imported).
    let options = ImportOptions {
        locale: Some("fr_FR".into()),
        ..ImportOptions::default()
    };
    let alone = import_lex_zip_bytes(&archive, "export.zip", &options).unwrap();
    assert_eq!(alone.bot.locales.keys().collect::<Vec<_>>(), ["fr_FR"]);
    let fr = alone.bot.locales.get("fr_FR").unwrap();
    assert!(!fr.intents.contains_key("OpeningHours"));
    assert!(
        alone
            .not_carried
            .iter()
            .any(|n| n.what == "locale en_US" && n.why.contains("only fr_FR"))
    );

    // An unknown locale is an error naming the ones there are.
    let options = ImportOptions {
        locale: Some("de_DE".into()),
        ..ImportOptions::default()
    };
    let err = import_lex_zip_bytes(&archive, "export.zip", &options).unwrap_err();
    assert!(err.to_string().contains("en_US, fr_FR"), "{err}");
}

#[test]
fn the_generated_file_passes_the_bot_checks() {
    let imported = folder();
    let loaded = hotline_localbot::parse_bot(&imported.yaml, "imported.yaml").unwrap();
    assert_eq!(loaded.bot.file, imported.bot);
    // The loader's warnings are passed on (Phone is required but in no sample).
    assert!(
        imported.warnings.iter().any(|w| w.contains("Phone")),
        "{:?}",
        imported.warnings
    );
}

#[test]
fn what_hotline_forbids_is_resolved_with_notes() {
    // A sample shared by two intents, an intent name starting with a digit.
    let opening = "AppointmentBot/BotLocales/en_US/Intents/OpeningHours/Intent.json";
    let mut entries: Vec<RawEntry> = fixture_files()
        .iter()
        .map(|(n, d)| {
            if n == opening {
                let mut v: serde_json::Value = serde_json::from_slice(d).unwrap();
                v["sampleUtterances"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"utterance": "book an appointment"}));
                entry(n, &serde_json::to_vec(&v).unwrap())
            } else {
                entry(n, d)
            }
        })
        .collect();
    entries.push(entry(
        "AppointmentBot/BotLocales/en_US/Intents/2ndOpinion/Intent.json",
        br#"{"name": "2ndOpinion", "sampleUtterances": [{"utterance": "a second opinion"}]}"#,
    ));
    let imported = import_bytes(&zip(&entries)).unwrap();
    let en = imported.bot.locales.get("en_US").unwrap();
    let opening = en.intents.get("OpeningHours").unwrap();
    assert!(!opening.samples.iter().any(|s| s == "book an appointment"));
    assert!(imported.not_carried.iter().any(|n| {
        n.intent.as_deref() == Some("OpeningHours")
            && n.what == "sample utterance \"book an appointment\""
            && n.why.contains("also a sample of MakeAppointment")
    }));
    assert!(!en.intents.contains_key("2ndOpinion"));
    assert!(
        imported
            .not_carried
            .iter()
            .any(|n| n.what == "intent \"2ndOpinion\"")
    );
}

// ---- Hostile and broken input ----

fn zip_error(result: Result<Imported, ImportError>) -> ZipError {
    match result {
        Err(ImportError::Source(SourceError::Zip { source, .. })) => source,
        other => panic!("expected a zip error, got {other:?}"),
    }
}

#[test]
fn path_traversal_is_refused() {
    for name in [
        "../x",
        "AppointmentBot/../../etc/passwd",
        "/etc/passwd",
        "C:/Windows/x",
        "..\\x",
    ] {
        let archive = fixture_zip_with(vec![entry(name, b"{}")]);
        let err = zip_error(import_bytes(&archive));
        assert!(
            matches!(err, ZipError::UnsafeName { .. }),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("unsafe entry name"), "{err}");
    }
}

#[test]
fn names_that_are_not_utf8_or_repeated_are_refused() {
    let mut bad = entry("x", b"{}");
    bad.name = vec![b'a', 0xff, b'b'];
    assert!(matches!(
        zip_error(import_bytes(&fixture_zip_with(vec![bad]))),
        ZipError::UnsafeName {
            why: "not UTF-8",
            ..
        }
    ));
    let dup = fixture_zip_with(vec![entry("Manifest.json", b"{}")]);
    assert!(matches!(
        zip_error(import_bytes(&dup)),
        ZipError::UnsafeName {
            why: "appears twice",
            ..
        }
    ));
    let mut locked = entry("secret.json", b"{}");
    locked.flags = 1;
    assert!(matches!(
        zip_error(import_bytes(&fixture_zip_with(vec![locked]))),
        ZipError::Unsupported(_)
    ));
}

#[test]
fn sizes_beyond_the_limits_are_refused_before_reading() {
    // A declared size of nearly 4 GiB.
    let mut huge = entry("big.json", b"{}");
    huge.declared = u32::MAX - 1;
    let err = zip_error(import_bytes(&fixture_zip_with(vec![huge])));
    assert!(matches!(err, ZipError::TooLarge(_)), "{err:?}");

    // Too many entries, too many bytes in total.
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    let err = zip_error(import_bytes_with(&fixture_zip_with(Vec::new()), &limits));
    assert!(matches!(err, ZipError::TooLarge(_)), "{err:?}");
    let limits = Limits {
        max_total_bytes: 10_000,
        ..Limits::default()
    };
    let err = zip_error(import_bytes_with(&fixture_zip_with(Vec::new()), &limits));
    assert!(matches!(err, ZipError::TooLarge(_)), "{err:?}");

    // The same limits apply to folders.
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    let options = ImportOptions {
        limits,
        ..ImportOptions::default()
    };
    assert!(matches!(
        import_lex_with(&fixture("appointment"), &options),
        Err(ImportError::Source(SourceError::TooLarge { .. }))
    ));
}

#[test]
fn a_deflated_entry_larger_than_declared_is_cut_off() {
    // Patch the committed (deflated) archive: every entry now claims 10 bytes.
    let mut archive = std::fs::read(fixture("appointment.zip")).unwrap();
    let mut at = 0;
    let mut patched = 0;
    while let Some(pos) = archive[at..]
        .windows(4)
        .position(|w| w == 0x0201_4b50u32.to_le_bytes())
    {
        let cdh = at + pos;
        archive[cdh + 24..cdh + 28].copy_from_slice(&10u32.to_le_bytes());
        patched += 1;
        at = cdh + 4;
    }
    assert!(patched > 20);
    let err = zip_error(import_bytes(&archive));
    assert!(
        matches!(
            err,
            ZipError::Inflate {
                source: hotline_localbot::import::InflateError::TooLarge(10),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn corrupt_archives_fail_cleanly() {
    let good = std::fs::read(fixture("appointment.zip")).unwrap();
    // Truncated anywhere: an error (or, cut inside the trailing comment area, still valid).
    for cut in (0..good.len()).step_by(97) {
        assert!(import_bytes(&good[..cut]).is_err(), "cut at {cut}");
    }
    // Bytes flipped in the compressed data, the directory, or the end record: never a panic,
    // and a CRC catches corrupted content.
    let mut errors = 0;
    for at in (0..good.len()).step_by(53) {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        if import_bytes(&bad).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0);
    // Not a zip at all.
    assert!(matches!(
        zip_error(import_bytes(b"PK\x03\x04 this is not really a zip")),
        ZipError::NotZip(_)
    ));
}

#[test]
fn malformed_or_missing_files_name_the_file() {
    /// Rewrites (`Some`) or removes (`None`) a file of the fixture.
    type Edit<'a> = &'a dyn Fn(&str, &[u8]) -> Option<Vec<u8>>;
    let files = fixture_files();
    let rebuild = |edit: Edit<'_>| {
        let entries: Vec<RawEntry> = files
            .iter()
            .filter_map(|(n, d)| edit(n, d).map(|d| entry(n, &d)))
            .collect();
        zip(&entries)
    };
    let slot = "AppointmentBot/BotLocales/en_US/Intents/MakeAppointment/Slots/Date/Slot.json";
    // Malformed JSON: file, line and column.
    let archive = rebuild(&|n, d| {
        Some(if n == slot {
            b"{\n  \"name\": \"Date\",\n  \"slotTypeName\": \n}".to_vec()
        } else {
            d.to_vec()
        })
    });
    match import_bytes(&archive) {
        Err(ImportError::Lex(LexError::Json { file, line, .. })) => {
            assert_eq!(file, slot);
            assert_eq!(line, 4);
        }
        other => panic!("{other:?}"),
    }
    // Not UTF-8.
    let archive = rebuild(&|n, d| {
        Some(if n == slot {
            b"{\"name\": \"Da\xfft\xfe\"}".to_vec()
        } else {
            d.to_vec()
        })
    });
    let err = import_bytes(&archive).unwrap_err();
    assert!(
        err.to_string().contains(slot) && err.to_string().contains("UTF-8"),
        "{err}"
    );
    // A field of the wrong type.
    let archive = rebuild(&|n, d| {
        Some(if n == slot {
            br#"{"name": "Date", "valueElicitationSetting": {"promptSpecification": {"maxRetries": "two"}}}"#.to_vec()
        } else {
            d.to_vec()
        })
    });
    assert!(
        import_bytes(&archive)
            .unwrap_err()
            .to_string()
            .contains(slot)
    );
    // A missing Intent.json next to its slots.
    let intent = "AppointmentBot/BotLocales/en_US/Intents/MakeAppointment/Intent.json";
    let archive = rebuild(&|n, d| (n != intent).then(|| d.to_vec()));
    match import_bytes(&archive) {
        Err(ImportError::Lex(LexError::Missing { file, .. })) => assert_eq!(file, intent),
        other => panic!("{other:?}"),
    }
    // No bot at all.
    let archive = zip(&[entry(
        "Manifest.json",
        b"{\"metadata\": {\"fileFormat\": \"LexJson\", \"resourceType\": \"CustomVocabulary\"}}",
    )]);
    let err = import_bytes(&archive).unwrap_err();
    assert!(
        err.to_string().contains("CustomVocabulary, not a bot"),
        "{err}"
    );
    // A path that does not exist.
    assert!(matches!(
        import_lex(Path::new("/nonexistent/export.zip")),
        Err(ImportError::Source(SourceError::Io { .. }))
    ));
}

#[cfg(unix)]
#[test]
fn folder_symlinks_are_listed_not_followed() {
    let dir = Scratch::new("symlink");
    for (name, data) in fixture_files() {
        let path = dir.0.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    std::os::unix::fs::symlink("/etc", dir.0.join("AppointmentBot/escape")).unwrap();
    let imported = import_lex(&dir.0).unwrap();
    assert_eq!(imported.bot, folder().bot);
    assert!(
        imported
            .not_carried
            .iter()
            .any(|n| n.what == "symbolic link" && n.file == "AppointmentBot/escape")
    );
}

#[test]
fn unknown_fields_are_recorded() {
    let files = fixture_files();
    let intent = "AppointmentBot/BotLocales/en_US/Intents/OpeningHours/Intent.json";
    let entries: Vec<RawEntry> = files
        .iter()
        .map(|(n, d)| {
            if n == intent {
                let mut v: serde_json::Value = serde_json::from_slice(d).unwrap();
                v["futureLexFeature"] = serde_json::json!({"enabled": true});
                v["emptyFeature"] = serde_json::Value::Null;
                entry(n, &serde_json::to_vec(&v).unwrap())
            } else {
                entry(n, d)
            }
        })
        .collect();
    let imported = import_bytes(&zip(&entries)).unwrap();
    assert!(
        imported
            .not_carried
            .iter()
            .any(|n| n.what == "field `futureLexFeature`" && n.file == intent)
    );
    assert!(
        !imported
            .not_carried
            .iter()
            .any(|n| n.what.contains("emptyFeature")),
        "a null field carries nothing"
    );
}

/// An export with no intent Hotline can carry (found by the `lex_export` fuzz target: a bot
/// with a locale and no intents) is refused with what to do, not written as a bot the checks
/// then reject as an "importer bug".
#[test]
fn an_export_with_no_usable_intent_is_refused_with_the_remedy() {
    let files = fixture_files();
    // Without its intents (and their slots): the locales alone.
    let only_locales = |locale: Option<&str>| {
        let entries: Vec<RawEntry> = files
            .iter()
            .filter(|(n, _)| !n.contains("/Intents/"))
            .filter(|(n, _)| locale.is_none_or(|l| !n.contains("/BotLocales/") || n.contains(l)))
            .map(|(n, d)| entry(n, d))
            .collect();
        zip(&entries)
    };
    match import_bytes(&only_locales(Some("/en_US/"))) {
        Err(ImportError::Lex(e @ LexError::NoIntents { .. })) => {
            let message = e.to_string();
            assert!(
                message.starts_with(
                    "AppointmentBot/BotLocales/en_US/BotLocale.json: nothing to import"
                ),
                "{message}"
            );
            assert!(message.contains("locale en_US has no intent"), "{message}");
            assert!(message.contains("add samples"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match import_bytes(&only_locales(None)) {
        Err(ImportError::Lex(e @ LexError::NoIntents { .. })) => {
            assert!(e.to_string().contains("none of its 2 locales"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Intents whose samples are all unusable count as none: only the fallback intent, which
    // has no samples, is left.
    let entries: Vec<RawEntry> = files
        .iter()
        .filter(|(n, _)| !n.contains("/Intents/") || n.contains("/Intents/FallbackIntent/"))
        .map(|(n, d)| entry(n, d))
        .collect();
    assert!(
        matches!(
            import_bytes(&zip(&entries)),
            Err(ImportError::Lex(LexError::NoIntents { .. }))
        ),
        "an export with only a fallback intent"
    );
}
