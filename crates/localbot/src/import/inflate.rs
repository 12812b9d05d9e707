//! DEFLATE decompression (RFC 1951) for the entries of a Lex export zip, with a hard cap on the
//! output size.
//!
//! Lex exports are small JSON files, so this favours obviously-bounded code over speed: Huffman
//! codes are decoded bit by bit with canonical code counts (the approach of zlib's reference
//! decoder `puff.c`). Every read is bounds-checked; a truncated, corrupt or oversized stream
//! returns an [`InflateError`], never a panic. It lives here (rather than pulling a compression
//! crate into `hotline-localbot`) so that the only code touching hostile archive bytes is this
//! small, fully tested module.
//!
//! It must not allocate more than `max_output` bytes of output, whatever the input claims.

use thiserror::Error;

/// Why a DEFLATE stream could not be decompressed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InflateError {
    /// The stream ended in the middle of a block. The archive is truncated or corrupt:
    /// export the bot again.
    #[error("the compressed data ends too early")]
    Truncated,
    /// The stream is not valid DEFLATE data (bad block type, code or distance). The archive is
    /// corrupt: export the bot again.
    #[error("the compressed data is corrupt: {0}")]
    Corrupt(&'static str),
    /// The data decompresses to more than the allowed size (a "zip bomb" or a wrong declared
    /// size). Lex exports are far smaller; check that this is really a Lex export.
    #[error("the data decompresses to more than {0} bytes")]
    TooLarge(usize),
}

/// Decompresses a raw DEFLATE stream (no zlib or gzip header), producing at most `max_output`
/// bytes.
pub(crate) fn inflate(input: &[u8], max_output: usize) -> Result<Vec<u8>, InflateError> {
    let mut state = State {
        input,
        pos: 0,
        bit_buf: 0,
        bit_count: 0,
        out: Vec::new(),
        max_output,
    };
    loop {
        let last = state.bits(1)? == 1;
        match state.bits(2)? {
            0 => state.stored()?,
            1 => {
                let (lit, dist) = fixed_tables();
                state.codes(&lit, &dist)?;
            }
            2 => {
                let (lit, dist) = state.dynamic_tables()?;
                state.codes(&lit, &dist)?;
            }
            _ => return Err(InflateError::Corrupt("reserved block type")),
        }
        if last {
            return Ok(state.out);
        }
    }
}

/// The longest code in DEFLATE, in bits.
const MAX_BITS: usize = 15;

/// A canonical Huffman code: how many codes of each length, and the symbols in code order.
struct Huffman {
    counts: [u16; MAX_BITS + 1],
    symbols: Vec<u16>,
}

impl Huffman {
    /// Builds the code from each symbol's code length (0: unused). Rejects over-subscribed
    /// codes; incomplete codes are allowed (RFC 1951 permits a single distance code).
    fn new(lengths: &[u8]) -> Result<Self, InflateError> {
        let mut counts = [0u16; MAX_BITS + 1];
        for &len in lengths {
            let slot = counts
                .get_mut(usize::from(len))
                .ok_or(InflateError::Corrupt("code length over 15"))?;
            *slot += 1;
        }
        let mut left: i32 = 1;
        for &count in counts.iter().skip(1) {
            left = (left << 1) - i32::from(count);
            if left < 0 {
                return Err(InflateError::Corrupt("over-subscribed Huffman code"));
            }
        }
        let mut offsets = [0u16; MAX_BITS + 2];
        for len in 1..=MAX_BITS {
            offsets[len + 1] = offsets[len] + counts[len];
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (symbol, &len) in lengths.iter().enumerate() {
            if len != 0 {
                let at = &mut offsets[usize::from(len)];
                if let Some(slot) = symbols.get_mut(usize::from(*at)) {
                    *slot = u16::try_from(symbol).unwrap_or(u16::MAX);
                }
                *at += 1;
            }
        }
        Ok(Huffman { counts, symbols })
    }
}

/// Fixed literal/length and distance codes (RFC 1951 §3.2.6).
fn fixed_tables() -> (Huffman, Huffman) {
    let mut lengths = [0u8; 288];
    for (i, len) in lengths.iter_mut().enumerate() {
        *len = match i {
            0..=143 => 8,
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        };
    }
    // These tables are valid by construction; an error here cannot happen.
    let lit = Huffman::new(&lengths).unwrap_or(Huffman {
        counts: [0; MAX_BITS + 1],
        symbols: Vec::new(),
    });
    let dist = Huffman::new(&[5u8; 30]).unwrap_or(Huffman {
        counts: [0; MAX_BITS + 1],
        symbols: Vec::new(),
    });
    (lit, dist)
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which code-length code lengths are stored (RFC 1951 §3.2.7).
const CLEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

struct State<'a> {
    input: &'a [u8],
    pos: usize,
    bit_buf: u32,
    bit_count: u32,
    out: Vec<u8>,
    max_output: usize,
}

impl State<'_> {
    /// Reads `n` (≤ 16) bits, least significant first.
    fn bits(&mut self, n: u32) -> Result<u32, InflateError> {
        while self.bit_count < n {
            let byte = *self.input.get(self.pos).ok_or(InflateError::Truncated)?;
            self.pos += 1;
            self.bit_buf |= u32::from(byte) << self.bit_count;
            self.bit_count += 8;
        }
        let value = self.bit_buf & ((1u32 << n) - 1);
        self.bit_buf >>= n;
        self.bit_count -= n;
        Ok(value)
    }

    fn push(&mut self, byte: u8) -> Result<(), InflateError> {
        if self.out.len() >= self.max_output {
            return Err(InflateError::TooLarge(self.max_output));
        }
        self.out.push(byte);
        Ok(())
    }

    /// A stored (uncompressed) block.
    fn stored(&mut self) -> Result<(), InflateError> {
        self.bit_buf = 0;
        self.bit_count = 0;
        let header = self
            .input
            .get(self.pos..self.pos + 4)
            .ok_or(InflateError::Truncated)?;
        let len = u16::from_le_bytes([header[0], header[1]]);
        let nlen = u16::from_le_bytes([header[2], header[3]]);
        if len != !nlen {
            return Err(InflateError::Corrupt("stored block length check"));
        }
        self.pos += 4;
        let data = self
            .input
            .get(self.pos..self.pos + usize::from(len))
            .ok_or(InflateError::Truncated)?;
        if self.out.len() + data.len() > self.max_output {
            return Err(InflateError::TooLarge(self.max_output));
        }
        self.out.extend_from_slice(data);
        self.pos += usize::from(len);
        Ok(())
    }

    /// Decodes one symbol with `code`, reading one bit at a time.
    fn decode(&mut self, code: &Huffman) -> Result<u16, InflateError> {
        let mut value: i32 = 0; // bits read so far, as a code
        let mut first: i32 = 0; // first code of the current length
        let mut index: i32 = 0; // index of that code in `symbols`
        for len in 1..=MAX_BITS {
            value |= i32::try_from(self.bits(1)?).unwrap_or(0);
            let count = i32::from(code.counts[len]);
            if value - count < first {
                let at = usize::try_from(index + (value - first))
                    .map_err(|_| InflateError::Corrupt("Huffman code"))?;
                return code
                    .symbols
                    .get(at)
                    .copied()
                    .ok_or(InflateError::Corrupt("Huffman code"));
            }
            index += count;
            first += count;
            first <<= 1;
            value <<= 1;
        }
        Err(InflateError::Corrupt("no such Huffman code"))
    }

    /// Literals and back-references until the end-of-block symbol.
    fn codes(&mut self, lit: &Huffman, dist: &Huffman) -> Result<(), InflateError> {
        loop {
            let symbol = self.decode(lit)?;
            match symbol {
                0..=255 => self.push(u8::try_from(symbol).unwrap_or(0))?,
                256 => return Ok(()),
                _ => {
                    let i = usize::from(symbol - 257);
                    let (base, extra) = LENGTH_BASE
                        .get(i)
                        .zip(LENGTH_EXTRA.get(i))
                        .ok_or(InflateError::Corrupt("length symbol"))?;
                    let len = usize::from(*base) + self.bits(u32::from(*extra))? as usize;
                    let d = usize::from(self.decode(dist)?);
                    let (base, extra) = DIST_BASE
                        .get(d)
                        .zip(DIST_EXTRA.get(d))
                        .ok_or(InflateError::Corrupt("distance symbol"))?;
                    let distance = usize::from(*base) + self.bits(u32::from(*extra))? as usize;
                    if distance > self.out.len() {
                        return Err(InflateError::Corrupt("distance before the start"));
                    }
                    for _ in 0..len {
                        let byte = self.out[self.out.len() - distance];
                        self.push(byte)?;
                    }
                }
            }
        }
    }

    /// Reads the code lengths of a dynamic block and builds its two codes.
    fn dynamic_tables(&mut self) -> Result<(Huffman, Huffman), InflateError> {
        let nlen = self.bits(5)? as usize + 257;
        let ndist = self.bits(5)? as usize + 1;
        let ncode = self.bits(4)? as usize + 4;
        if nlen > 286 || ndist > 30 {
            return Err(InflateError::Corrupt("too many length or distance codes"));
        }
        let mut clen = [0u8; 19];
        for &at in CLEN_ORDER.iter().take(ncode) {
            clen[at] = u8::try_from(self.bits(3)?).unwrap_or(0);
        }
        let clen_code = Huffman::new(&clen)?;
        let mut lengths = vec![0u8; nlen + ndist];
        let mut i = 0;
        while i < nlen + ndist {
            let symbol = self.decode(&clen_code)?;
            let (value, repeat) = match symbol {
                0..=15 => (u8::try_from(symbol).unwrap_or(0), 1),
                16 => {
                    if i == 0 {
                        return Err(InflateError::Corrupt("repeat with no previous length"));
                    }
                    (lengths[i - 1], 3 + self.bits(2)? as usize)
                }
                17 => (0, 3 + self.bits(3)? as usize),
                _ => (0, 11 + self.bits(7)? as usize),
            };
            if i + repeat > nlen + ndist {
                return Err(InflateError::Corrupt("too many code lengths"));
            }
            lengths[i..i + repeat].fill(value);
            i += repeat;
        }
        if lengths[256] == 0 {
            return Err(InflateError::Corrupt("no end-of-block code"));
        }
        let lit = Huffman::new(&lengths[..nlen])?;
        let dist = Huffman::new(&lengths[nlen..])?;
        Ok((lit, dist))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Streams produced by Python's zlib (`zlib.compressobj(9, zlib.DEFLATED, -15)`).

    /// b"hello hello hello hello" — fixed Huffman with a back-reference.
    const HELLO: &[u8] = &[0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x27, 0x01];

    #[test]
    fn fixed_block_with_back_reference() {
        assert_eq!(
            inflate(HELLO, 1024).unwrap(),
            b"hello hello hello hello".to_vec()
        );
    }

    #[test]
    fn stored_block() {
        // BFINAL=1, BTYPE=00, LEN=3, NLEN=!3, "abc".
        let stream = [0x01, 0x03, 0x00, 0xfc, 0xff, b'a', b'b', b'c'];
        assert_eq!(inflate(&stream, 16).unwrap(), b"abc".to_vec());
        let bad = [0x01, 0x03, 0x00, 0xfc, 0xfe, b'a', b'b', b'c'];
        assert!(matches!(inflate(&bad, 16), Err(InflateError::Corrupt(_))));
    }

    #[test]
    fn output_cap_is_enforced() {
        assert_eq!(inflate(HELLO, 10), Err(InflateError::TooLarge(10)));
    }

    #[test]
    fn truncated_and_garbage_streams_fail_cleanly() {
        for cut in 0..HELLO.len() - 1 {
            assert!(inflate(&HELLO[..cut], 1024).is_err(), "cut at {cut}");
        }
        assert!(matches!(
            inflate(&[0x07], 16),
            Err(InflateError::Corrupt(_)) | Err(InflateError::Truncated)
        ));
        // Every single byte and pair of bytes: never a panic.
        for a in 0..=255u8 {
            let _ = inflate(&[a], 64);
            for b in [0u8, 1, 0x7f, 0x80, 0xff] {
                let _ = inflate(&[a, b, a, b, a], 64);
            }
        }
    }
}
