//! The G.711 codecs against golden data from CPython's `audioop` module (CPython 3.11), kept in
//! `tests/fixtures/audioop_*.txt` so that this test needs no Python. The fixtures hold audioop's
//! complete output (all 256 decodes, all 65,536 encodes as runs) plus its SHA-256, which is
//! recomputed here. Regenerate them with `tests/fixtures/gen_audioop_fixtures.py`.
//!
//! Summary of what is asserted (see `hotline_audio::g711` for why):
//! - decoding: identical to audioop for every code, mu-law and A-law;
//! - A-law encoding: identical to `audioop.lin2alaw` for every sample;
//! - mu-law encoding: `audioop.lin2ulaw(x) == linear_to_ulaw(x & !3)` for every sample; the two
//!   differ at exactly 381 negative samples, where audioop picks the neighbouring code of larger
//!   magnitude and ours is the nearer level.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hotline_audio::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};

const ULAW2LIN: &str = include_str!("fixtures/audioop_ulaw2lin.txt");
const ALAW2LIN: &str = include_str!("fixtures/audioop_alaw2lin.txt");
const LIN2ULAW: &str = include_str!("fixtures/audioop_lin2ulaw_runs.txt");
const LIN2ALAW: &str = include_str!("fixtures/audioop_lin2alaw_runs.txt");

fn data_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split_once(' ').expect("two fields"))
}

fn parse_code(field: &str) -> u8 {
    u8::from_str_radix(field.trim_start_matches("0x"), 16).unwrap()
}

/// The hex digest after "sha256 of the … bytes…: " in a fixture's header.
fn recorded_sha256(text: &str) -> &str {
    text.lines()
        .find(|line| line.starts_with("# sha256"))
        .and_then(|line| line.rsplit(": ").next())
        .expect("sha256 header")
}

fn decode_fixture(text: &str) -> Vec<i16> {
    let table: Vec<i16> = data_lines(text)
        .enumerate()
        .map(|(i, (code, value))| {
            assert_eq!(usize::from(parse_code(code)), i);
            value.parse().unwrap()
        })
        .collect();
    assert_eq!(table.len(), 256);
    let bytes: Vec<u8> = table.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(sha256_hex(&bytes), recorded_sha256(text));
    table
}

/// Expands the runs into audioop's output for samples -32768..=32767 (index = sample + 32768).
fn encode_fixture(text: &str) -> Vec<u8> {
    let runs: Vec<(i32, u8)> = data_lines(text)
        .map(|(first, code)| (first.parse().unwrap(), parse_code(code)))
        .collect();
    assert_eq!(runs.first().map(|r| r.0), Some(-32768));
    let mut out = Vec::with_capacity(65536);
    for (i, &(first, code)) in runs.iter().enumerate() {
        let end = runs.get(i + 1).map_or(32768, |next| next.0);
        assert!(end > first, "runs must increase");
        out.extend(std::iter::repeat_n(code, (end - first) as usize));
    }
    assert_eq!(out.len(), 65536);
    assert_eq!(sha256_hex(&out), recorded_sha256(text));
    out
}

#[test]
fn decoders_match_audioop_for_every_code() {
    let ulaw = decode_fixture(ULAW2LIN);
    let alaw = decode_fixture(ALAW2LIN);
    for code in 0..=255u8 {
        assert_eq!(
            ulaw_to_linear(code),
            ulaw[usize::from(code)],
            "mu-law {code:#04x}"
        );
        assert_eq!(
            alaw_to_linear(code),
            alaw[usize::from(code)],
            "A-law {code:#04x}"
        );
    }
}

#[test]
fn alaw_encoder_matches_audioop_for_every_sample() {
    let audioop = encode_fixture(LIN2ALAW);
    for (sample, &expected) in (i16::MIN..=i16::MAX).zip(&audioop) {
        assert_eq!(linear_to_alaw(sample), expected, "{sample}");
    }
}

#[test]
fn ulaw_encoder_differs_from_audioop_only_by_its_rounding_of_negative_samples() {
    let audioop = encode_fixture(LIN2ULAW);
    let mut differences = 0;
    for (sample, &theirs) in (i16::MIN..=i16::MAX).zip(&audioop) {
        // audioop truncates to 14 bits with an arithmetic shift before taking the magnitude.
        assert_eq!(linear_to_ulaw(sample & !3), theirs, "{sample}");
        let ours = linear_to_ulaw(sample);
        if ours != theirs {
            differences += 1;
            assert!(sample < 0, "{sample}");
            // Negative codes run from 0x7F (smallest magnitude) down to 0x00 (largest).
            assert_eq!(theirs + 1, ours, "{sample}: neighbouring codes");
            let error = |code| (i32::from(ulaw_to_linear(code)) - i32::from(sample)).abs();
            assert!(
                error(ours) < error(theirs),
                "{sample}: ours is the nearer level"
            );
        }
    }
    assert_eq!(differences, 381);
}

#[test]
fn literal_vectors_from_audioop() {
    // (sample, audioop.lin2ulaw, audioop.lin2alaw)
    let vectors: [(i16, u8, u8); 17] = [
        (-32768, 0x00, 0x2a),
        (-32124, 0x00, 0x2a),
        (-31612, 0x00, 0x2b),
        (-31611, 0x00, 0x2b), // ours: 0x01
        (-1000, 0x4e, 0x7a),
        (-100, 0x72, 0x53),
        (-4, 0x7e, 0x55),
        (-3, 0x7e, 0x55), // ours: 0x7f
        (-1, 0x7e, 0x55), // ours: 0x7f
        (0, 0xff, 0xd5),
        (1, 0xff, 0xd5),
        (3, 0xff, 0xd5),
        (4, 0xfe, 0xd5),
        (100, 0xf2, 0xd3),
        (1000, 0xce, 0xfa),
        (31611, 0x81, 0xab),
        (32767, 0x80, 0xaa),
    ];
    for (sample, ulaw, alaw) in vectors {
        assert_eq!(linear_to_ulaw(sample & !3), ulaw, "{sample}");
        assert_eq!(linear_to_alaw(sample), alaw, "{sample}");
    }
    assert_eq!(linear_to_ulaw(-31611), 0x01);
    assert_eq!(linear_to_ulaw(-3), 0x7F);
    for (code, value) in [
        (0x00, -32124),
        (0x7E, -8),
        (0x7F, 0),
        (0x80, 32124),
        (0xFE, 8),
        (0xFF, 0),
        (0x70, -120),
    ] {
        assert_eq!(ulaw_to_linear(code), value);
    }
    for (code, value) in [
        (0x00, -5504),
        (0x55, -8),
        (0xD5, 8),
        (0x2A, -32256),
        (0xAA, 32256),
        (0x80, 5504),
    ] {
        assert_eq!(alaw_to_linear(code), value);
    }
}

/// SHA-256 (FIPS 180-4), enough to check the fixtures' recorded digests without a dependency.
fn sha256_hex(message: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&(message.len() as u64 * 8).to_be_bytes());
    for block in padded.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes(word.try_into().unwrap());
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(value);
        }
    }
    h.iter().map(|word| format!("{word:08x}")).collect()
}

#[test]
fn sha256_known_answers() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
