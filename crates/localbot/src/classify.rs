//! Intent classification: which intent an utterance means, with a confidence in 0..=1.
//!
//! The score of an intent is its best sample's, a weighted mix of
//! - sentence embeddings (an [`Encoder`], e.g. all-MiniLM-L6-v2): meaning, for paraphrases;
//! - lexical similarity: IDF-weighted word overlap and character trigrams (robust to split or
//!   merged words: "book in a point meant"), with slot values masked by their type in both the
//!   utterance and the samples (`{Date}` and "tomorrow" both become `<date>`) and negations
//!   ("can't", "won't") read as "not"; the letters, and the sounds ([`crate::text::sound_key`]),
//!   of the whole utterance without spaces are compared too;
//! - speech-recognition slips: an unknown word within one edit of a known word, sounding like
//!   one ("by" for "bye"), or one consonant sound from a long one ("aboardment" for
//!   "appointment") counts as that word, and the transcript so corrected is embedded as well
//!   (a sample's embedding similarity is the better of the two);
//! - fuzzy matching of custom slot values (a caller naming a service is asking for the intent
//!   that takes it).
//!
//! Embedding the samples happens once, at construction; classifying embeds the utterance once
//! (twice when it has slips to correct, in one batch).
//! No IO here beyond what the encoder does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::bot::{Bot, CompiledLocale};
use crate::model::Locale;
use crate::slots::{Date, Kind, Slots};
use crate::text::{char_ngrams, distance, sound_key, tokens};

/// Why an encoder failed. The classifier then falls back to lexical scores for that turn.
#[derive(Debug, thiserror::Error)]
#[error("sentence encoder: {0}")]
pub struct EncodeError(pub String);

/// A sentence encoder: text in, an L2-normalised vector out.
pub trait Encoder: Send + Sync {
    /// Embeds one sentence.
    fn encode(&self, text: &str) -> Result<Vec<f32>, EncodeError>;
    /// Embeds several sentences (default: one by one).
    fn encode_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
        texts.iter().map(|t| self.encode(t)).collect()
    }
    /// The encoder's name, for logs.
    fn name(&self) -> &'static str;
}

impl Encoder for hotline_embed::MiniLm {
    fn encode(&self, text: &str) -> Result<Vec<f32>, EncodeError> {
        self.embed(text).map_err(|e| EncodeError(e.to_string()))
    }
    fn encode_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
        self.embed_batch(texts)
            .map_err(|e| EncodeError(e.to_string()))
    }
    fn name(&self) -> &'static str {
        "all-MiniLM-L6-v2"
    }
}

/// Weights of the score's parts, when embeddings are available.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Sentence-embedding cosine.
    pub embedding: f32,
    /// Lexical similarity.
    pub lexical: f32,
    /// Added when the utterance names a value of one of the intent's custom slot types.
    pub slot_value_bonus: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            embedding: 0.5,
            lexical: 0.5,
            slot_value_bonus: 0.1,
        }
    }
}

/// Raw similarities are scaled by this so that the default threshold (0.55) falls between
/// paraphrases and out-of-scope requests (measured on the example bots' held-out sets: raw
/// scores of out-of-scope requests stay below about 0.32, paraphrases mostly above 0.35).
pub const CALIBRATION: f32 = 1.6;

/// One intent's score for an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The intent.
    pub intent: String,
    /// 0..=1.
    pub score: f32,
}

#[derive(Debug, Clone)]
struct SampleIndex {
    words: Vec<String>,
    /// The sample's letters without spaces (for split or merged words).
    squashed: String,
    /// The sound key of `squashed` (for words the recogniser heard wrong).
    sound: String,
    grams: HashMap<String, f32>,
    embedding: Option<Vec<f32>>,
}

#[derive(Debug, Clone)]
struct IntentIndex {
    name: String,
    samples: Vec<SampleIndex>,
    /// Custom slot types' values this intent takes, as (value kind).
    value_kinds: Vec<Kind>,
}

#[derive(Debug, Clone)]
struct LocaleIndex {
    intents: Vec<IntentIndex>,
    idf: HashMap<String, f32>,
    /// Every slot kind of the locale with its mask token, for masking utterances.
    maskers: Vec<(String, Kind)>,
}

/// The classifier of one bot (all locales).
#[derive(Clone)]
pub struct Classifier {
    locales: Vec<LocaleIndex>,
    encoder: Option<Arc<dyn Encoder>>,
    weights: Weights,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("encoder", &self.encoder.as_ref().map(|e| e.name()))
            .finish_non_exhaustive()
    }
}

/// An example value for a slot type, used to expand `{Slot}` placeholders before embedding.
fn example_value(slot_type: &str, locale: &Locale) -> String {
    match slot_type {
        "number" => "two".into(),
        "digits" => "one two three four".into(),
        "yes_no" => "yes".into(),
        "date" => "tomorrow".into(),
        "time" => "ten a.m.".into(),
        "phone" => "five five five one two three four".into(),
        "spelled" => "a b c".into(),
        "text" => "something".into(),
        custom => locale
            .slot_types
            .get(custom)
            .and_then(|t| t.values.first().map(|v| v.value.clone()))
            .unwrap_or_else(|| "something".into()),
    }
}

fn mask_token(slot_type: &str) -> String {
    format!("<{}>", slot_type.to_lowercase())
}

fn grams(words: &[String]) -> HashMap<String, f32> {
    let mut out = HashMap::new();
    let joined = words.join(" ");
    let squashed: String = words.concat();
    for g in char_ngrams(&joined, 3)
        .into_iter()
        .chain(char_ngrams(&squashed, 3))
    {
        *out.entry(g).or_insert(0.0) += 1.0;
    }
    out
}

fn cosine_maps(a: &HashMap<String, f32>, b: &HashMap<String, f32>) -> f32 {
    let dot: f32 = a.iter().filter_map(|(k, x)| b.get(k).map(|y| x * y)).sum();
    let na: f32 = a.values().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.values().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Classifier {
    /// Indexes `bot`'s samples; with an encoder, embeds them (an encoder failure here is
    /// returned: a broken model must fail at start-up).
    pub fn new(bot: &Bot, encoder: Option<Arc<dyn Encoder>>) -> Result<Classifier, EncodeError> {
        let mut locales = Vec::new();
        for compiled in &bot.locales {
            let (locale, _) = bot.locale(&compiled.name);
            locales.push(index_locale(locale, compiled, encoder.as_deref())?);
        }
        Ok(Classifier {
            locales,
            encoder,
            weights: Weights::default(),
        })
    }

    /// The same classifier with other weights.
    #[must_use]
    pub fn with_weights(mut self, weights: Weights) -> Self {
        self.weights = weights;
        self
    }

    /// Whether sentence embeddings are used.
    pub fn has_encoder(&self) -> bool {
        self.encoder.is_some()
    }

    /// Every intent of locale number `locale` (as in [`Bot::locales`]) scored for `text`, best
    /// first. `today` resolves dates while masking slot values.
    pub fn classify(&self, locale: usize, text: &str, today: Date) -> Vec<Scored> {
        let Some(index) = self.locales.get(locale).or_else(|| self.locales.first()) else {
            return Vec::new();
        };
        let raw = tokens(text);
        if raw.is_empty() {
            return Vec::new();
        }
        let masked = mask(&raw, &index.maskers, today);
        let words = fuzz_to_vocab(&stems(&masked), &index.idf);
        let utt_grams = grams(&words);
        let squashed: String = masked.concat();
        let sound = sound_key(&squashed, false);
        let utt_vec = weighted(&words, &index.idf);
        // The transcript as heard and, when it has words that are slips for known ones, as
        // corrected: a sample's embedding similarity is the better of the two.
        let mut texts = vec![raw.join(" ")];
        texts.extend(corrected(&raw, &index.idf));
        let embeddings: Vec<Vec<f32>> = match &self.encoder {
            None => Vec::new(),
            Some(e) => {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                e.encode_batch(&refs).unwrap_or_else(|err| {
                    tracing::warn!(error = %err, "sentence encoder failed; lexical scores only for this turn");
                    Vec::new()
                })
            }
        };
        let slots = Slots { today };
        let mut out: Vec<Scored> = index
            .intents
            .iter()
            .map(|intent| {
                let best = intent
                    .samples
                    .iter()
                    .map(|s| {
                        let word_sim = cosine_maps(&utt_vec, &weighted(&s.words, &index.idf));
                        let gram_sim = cosine_maps(&utt_grams, &s.grams);
                        // Speech recognition splits and merges words ("book in a point
                        // meant"): compare the letters without spaces too.
                        let n = s
                            .squashed
                            .chars()
                            .count()
                            .max(squashed.chars().count())
                            .max(1);
                        let letters = 1.0 - distance(&squashed, &s.squashed) as f32 / n as f32;
                        // Misheard words ("his boiled mint" for "an appointment") sound
                        // alike even when their letters differ.
                        let sounds = sound_sim(&sound, &s.sound);
                        let lexical = (0.5 * word_sim + 0.5 * gram_sim)
                            .max(letters - 0.15)
                            .max(sounds - SOUND_PENALTY);
                        match (embeddings.is_empty(), &s.embedding) {
                            (false, Some(v)) => {
                                let e = embeddings
                                    .iter()
                                    .map(|u| dot(u, v))
                                    .fold(0.0f32, f32::max)
                                    .clamp(0.0, 1.0);
                                self.weights.embedding * e + self.weights.lexical * lexical
                            }
                            _ => lexical,
                        }
                    })
                    .fold(0.0f32, f32::max);
                let named_value = intent
                    .value_kinds
                    .iter()
                    .any(|k| slots.find(k, &raw).is_some());
                let score = if named_value {
                    best + self.weights.slot_value_bonus
                } else {
                    best
                };
                Scored {
                    intent: intent.name.clone(),
                    score: (score * CALIBRATION).clamp(0.0, 1.0),
                }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}

/// Sound-key similarity counts this much less than the same letter similarity (sounds are
/// coarser than letters, so unrelated sentences sound more alike than they read).
const SOUND_PENALTY: f32 = 0.15;

/// [`crate::text::sound_similarity`] of two keys already computed.
fn sound_sim(a: &str, b: &str) -> f32 {
    let n = a.chars().count().max(b.chars().count());
    if n == 0 {
        return 0.0;
    }
    1.0 - distance(a, b) as f32 / n as f32
}

/// A light English stemmer for word overlap: `booking`, `booked`, `books` → `book`.
fn stem(w: &str) -> String {
    // Negations carry the meaning embeddings miss ("I won't be able to come" cancels):
    // "can't", "won't", "cannot" all become "not".
    if w == "cannot" || w.ends_with("n't") {
        return "not".to_owned();
    }
    if w.starts_with('<') || w.chars().count() <= 4 {
        return w.to_owned();
    }
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(base) = w.strip_suffix(suffix)
            && base.chars().count() >= 3
        {
            return base.to_owned();
        }
    }
    w.to_owned()
}

fn stems(words: &[String]) -> Vec<String> {
    words.iter().map(|w| stem(w)).collect()
}

fn weighted(words: &[String], idf: &HashMap<String, f32>) -> HashMap<String, f32> {
    let mut out = HashMap::new();
    for w in words {
        let weight = idf.get(w).copied().unwrap_or(1.0);
        *out.entry(w.clone()).or_insert(0.0) += weight;
    }
    out
}

/// Words not in the vocabulary become the vocabulary word they are close to: within one edit
/// (5+ letters), sounding the same ("by" → "bye", see [`sound_key`]), or, for long words, one
/// edit apart in consonant sounds ("aboardment" → "appointment").
fn fuzz_to_vocab(words: &[String], idf: &HashMap<String, f32>) -> Vec<String> {
    words
        .iter()
        .map(|w| fuzz_word(w, idf).unwrap_or_else(|| w.clone()))
        .collect()
}

/// The vocabulary word `w` is a slip for (see [`fuzz_to_vocab`]), if `w` is not itself known.
fn fuzz_word(w: &str, idf: &HashMap<String, f32>) -> Option<String> {
    if idf.contains_key(w) || w.starts_with('<') {
        return None;
    }
    let letters = w.chars().count();
    if letters >= 5
        && let Some(v) = idf
            .keys()
            .filter(|v| v.chars().count() >= 5 && distance(w, v) <= 1)
            .min()
    {
        return Some(v.clone());
    }
    let key = sound_key(w, true);
    if key.chars().count() >= 2
        && let Some(v) = idf
            .keys()
            .filter(|v| !v.starts_with('<') && !v.contains('\'') && sound_key(v, true) == key)
            .min()
    {
        return Some(v.clone());
    }
    let skeleton = sound_key(w, false);
    if skeleton.chars().count() >= 6 {
        return idf
            .keys()
            .filter(|v| !v.contains('\'') && distance(&skeleton, &sound_key(v, false)) <= 1)
            .min()
            .cloned();
    }
    None
}

/// The utterance with misheard words replaced by the vocabulary words they are slips for
/// ("follow off my aboardment" → "follow off my appointment"), for embedding; `None` when
/// nothing changes.
fn corrected(raw: &[String], idf: &HashMap<String, f32>) -> Option<String> {
    let mut changed = false;
    let words: Vec<String> = raw
        .iter()
        .map(|t| match fuzz_word(&stem(t), idf) {
            // Contractions are the tokenizer's business, not slips.
            Some(v) if !t.contains('\'') && !v.contains('\'') => {
                changed = true;
                v
            }
            _ => t.clone(),
        })
        .collect();
    changed.then(|| words.join(" "))
}

/// Replaces slot values in `toks` by their type's mask token (custom values first, then dates,
/// times, phones, numbers).
fn mask(toks: &[String], maskers: &[(String, Kind)], today: Date) -> Vec<String> {
    let slots = Slots { today };
    let mut toks: Vec<String> = toks.to_vec();
    for (token, kind) in maskers {
        // Repeatedly: a type may occur twice ("from monday to friday").
        for _ in 0..4 {
            let Some(found) = slots.find(kind, &toks) else {
                break;
            };
            if found.end <= found.start || found.end > toks.len() {
                break;
            }
            // Do not mask a whole one-word utterance made of a sample word ("agent").
            toks.splice(found.start..found.end, [token.clone()]);
        }
    }
    toks
}

fn index_locale(
    locale: &Locale,
    compiled: &CompiledLocale,
    encoder: Option<&dyn Encoder>,
) -> Result<LocaleIndex, EncodeError> {
    // Maskers: custom types used by slots, then built-ins that scan.
    let mut maskers: Vec<(String, Kind)> = Vec::new();
    let mut seen = HashSet::new();
    for intent in locale.intents.iter().map(|(_, i)| i) {
        for (_, slot) in intent.slots.iter() {
            if seen.insert(slot.slot_type.clone())
                && let Some(t) = locale.slot_types.get(&slot.slot_type)
                && t.regex.is_none()
                && let Some(kind) = Kind::custom(t)
            {
                maskers.push((mask_token(&slot.slot_type), kind));
            }
        }
    }
    for builtin in ["date", "time", "phone", "number"] {
        if let Some(kind) = Kind::builtin(builtin) {
            maskers.push((mask_token(builtin), kind));
        }
    }
    let mut intents = Vec::new();
    let mut texts_for_embedding: Vec<String> = Vec::new();
    for (ci, (_, def)) in compiled.intents.iter().zip(locale.intents.iter()) {
        let mut samples = Vec::new();
        for sample in &ci.samples {
            // Words with placeholders masked by their slot's type.
            let mut words = Vec::new();
            let mut expanded = String::new();
            let mut rest = sample.text.as_str();
            loop {
                match rest.find('{') {
                    Some(open) => {
                        let (before, after) = rest.split_at(open);
                        words.extend(tokens(before));
                        expanded.push_str(before);
                        let close = after.find('}').unwrap_or(after.len().saturating_sub(1));
                        let name = after.get(1..close).unwrap_or("").trim();
                        let slot_type =
                            def.slots.get(name).map_or("text", |s| s.slot_type.as_str());
                        // Only types the masker finds in utterances are masked in samples.
                        let unmasked =
                            matches!(slot_type, "text" | "spelled" | "yes_no" | "digits")
                                || locale
                                    .slot_types
                                    .get(slot_type)
                                    .is_some_and(|t| t.regex.is_some());
                        let masked_type = (!unmasked).then(|| mask_token(slot_type));
                        if let Some(m) = masked_type {
                            words.push(m);
                        }
                        expanded.push_str(&example_value(slot_type, locale));
                        rest = after.get(close + 1..).unwrap_or("");
                    }
                    None => {
                        words.extend(tokens(rest));
                        expanded.push_str(rest);
                        break;
                    }
                }
            }
            texts_for_embedding.push(tokens(&expanded).join(" "));
            let squashed: String = words.concat();
            let words = stems(&words);
            samples.push(SampleIndex {
                sound: sound_key(&squashed, false),
                squashed,
                grams: grams(&words),
                words,
                embedding: None,
            });
        }
        let value_kinds = def
            .slots
            .iter()
            .filter_map(|(_, s)| locale.slot_types.get(&s.slot_type))
            .filter(|t| t.regex.is_none())
            .filter_map(Kind::custom)
            .collect();
        intents.push(IntentIndex {
            name: ci.name.clone(),
            samples,
            value_kinds,
        });
    }
    if let Some(encoder) = encoder {
        let refs: Vec<&str> = texts_for_embedding.iter().map(String::as_str).collect();
        let vectors = encoder.encode_batch(&refs)?;
        let mut it = vectors.into_iter();
        for intent in &mut intents {
            for sample in &mut intent.samples {
                sample.embedding = it.next();
            }
        }
    }
    // IDF over intents: words shared by many intents weigh less.
    let n = intents.len().max(1) as f32;
    let mut df: BTreeMap<String, usize> = BTreeMap::new();
    for intent in &intents {
        let set: HashSet<&String> = intent.samples.iter().flat_map(|s| s.words.iter()).collect();
        for w in set {
            *df.entry(w.clone()).or_insert(0) += 1;
        }
    }
    let idf = df
        .into_iter()
        .map(|(w, d)| (w, ((n + 1.0) / (d as f32 + 0.5)).ln().max(0.1)))
        .collect();
    Ok(LocaleIndex {
        intents,
        idf,
        maskers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> HashMap<String, f32> {
        words.iter().map(|w| ((*w).to_owned(), 1.0)).collect()
    }

    #[test]
    fn misheard_words_map_to_the_vocabulary() {
        let idf = vocab(&["bye", "appointment", "cancel", "that'", "symptom", "no"]);
        // Same sound.
        assert_eq!(fuzz_word("by", &idf).as_deref(), Some("bye"));
        assert_eq!(fuzz_word("know", &idf).as_deref(), Some("no"));
        // One consonant sound apart, in a long word.
        assert_eq!(
            fuzz_word("aboardment", &idf).as_deref(),
            Some("appointment")
        );
        // One letter apart (5+ letters).
        assert_eq!(fuzz_word("cancell", &idf).as_deref(), Some("cancel"));
        // Known words, masks, short skeletons and contractions stay.
        assert_eq!(fuzz_word("cancel", &idf), None);
        assert_eq!(fuzz_word("<date>", &idf), None);
        assert_eq!(fuzz_word("somebody", &idf), None);
        assert_eq!(fuzz_word("weather", &idf), None);
    }

    #[test]
    fn corrected_transcript_only_when_a_word_changes() {
        let idf = vocab(&["bye", "appointment", "that'"]);
        let toks = |s: &str| tokens(s);
        assert_eq!(
            corrected(&toks("forget it by"), &idf).as_deref(),
            Some("forget it bye")
        );
        assert_eq!(
            corrected(&toks("follow off my aboardment"), &idf).as_deref(),
            Some("follow off my appointment")
        );
        assert_eq!(corrected(&toks("what's on tv"), &idf), None);
        assert_eq!(corrected(&toks("hello there"), &idf), None);
    }

    #[test]
    fn negations_stem_to_not() {
        assert_eq!(stem("can't"), "not");
        assert_eq!(stem("won't"), "not");
        assert_eq!(stem("cannot"), "not");
        assert_eq!(stem("booking"), "book");
    }
}
