//! A compact binary encoding of [`Session`], for session stores on the per-webhook hot path.
//!
//! JSON (serde) stays the portable, readable form; this one is what the server stores between
//! two webhooks of a call: about half the bytes and several times faster both ways (see
//! `benches/runtime.rs`). It is a pure codec: [`Session::encode_binary`] appends to a buffer,
//! [`Session::decode_binary`] reads a slice and returns `None` for anything it did not write
//! (truncated, garbage, a newer format) — never panics, never allocates more than the input
//! can hold.
//!
//! Layout (`varint` = unsigned LEB128, `str` = varint length + UTF-8 bytes):
//! ```text
//! "HSB1"  call_sid:str caller:str called:str started_unix_ms:varint flow_id:str
//!         flow_version:str node:str seq:varint language:str
//!         vars: varint count, then (name:str, tag:u8, value) — 0 number (f64 LE), 1 bool (u8),
//!               2 text (str)
//!         no_input:varint no_match:varint
//!         awaiting: tag:u8 (0 start, 1 gather, 2 dial, 3 enqueue, 4 record, 5 webhook, 6 bot,
//!                   7 nothing), then node:str for 1–6
//!         path: varint count, then str each
//!         ended: tag:u8 (0 none, 1 dialed, 2 enqueued, 3 redirected, 4 hung up, 5 recorded,
//!                6 handed to bot, 7 caller hung up, 8 error), then str for 1, 2, 3, 6, 8
//! ```
//! Nothing may follow.

use super::Outcome;
use super::session::{Awaiting, NodePath, Session};
use crate::Literal;

/// The format's magic and version.
pub const SESSION_MAGIC: &[u8; 4] = b"HSB1";

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A cursor over the input; every read is bounds-checked.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                // Reject bits shifted out of the top (a 10th byte above 1).
                if shift == 63 && b > 1 {
                    return None;
                }
                return Some(v);
            }
        }
        None
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    /// A count of items that each take at least one byte: never more than the bytes left.
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n <= self.rest.len()).then_some(n)
    }

    fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.varint()?).ok()?;
        std::str::from_utf8(self.take(n)?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }
}

impl Session {
    /// Appends the binary form of the session to `out` (see the module docs).
    pub fn encode_binary(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(SESSION_MAGIC);
        put_str(out, &self.call_sid);
        put_str(out, &self.caller);
        put_str(out, &self.called);
        put_varint(out, self.started_unix_ms);
        put_str(out, &self.flow_id);
        put_str(out, &self.flow_version);
        put_str(out, &self.node);
        put_varint(out, self.seq);
        put_str(out, &self.language);
        put_varint(out, self.vars.len() as u64);
        for (name, value) in &self.vars {
            put_str(out, name);
            match value {
                Literal::Number(n) => {
                    out.push(0);
                    out.extend_from_slice(&n.to_le_bytes());
                }
                Literal::Bool(b) => {
                    out.push(1);
                    out.push(u8::from(*b));
                }
                Literal::Text(t) => {
                    out.push(2);
                    put_str(out, t);
                }
            }
        }
        put_varint(out, u64::from(self.no_input));
        put_varint(out, u64::from(self.no_match));
        let (tag, node) = match &self.awaiting {
            Awaiting::Start => (0, None),
            Awaiting::Gather { node } => (1, Some(node)),
            Awaiting::Dial { node } => (2, Some(node)),
            Awaiting::Enqueue { node } => (3, Some(node)),
            Awaiting::Record { node } => (4, Some(node)),
            Awaiting::Webhook { node } => (5, Some(node)),
            Awaiting::Bot { node } => (6, Some(node)),
            Awaiting::Nothing => (7, None),
        };
        out.push(tag);
        if let Some(node) = node {
            put_str(out, node);
        }
        put_varint(out, self.path.len() as u64);
        for node in self.path.iter() {
            put_str(out, node);
        }
        let (tag, text) = match &self.ended {
            None => (0, None),
            Some(Outcome::Dialed { target }) => (1, Some(target)),
            Some(Outcome::Enqueued { queue }) => (2, Some(queue)),
            Some(Outcome::Redirected { flow }) => (3, Some(flow)),
            Some(Outcome::HungUp) => (4, None),
            Some(Outcome::Recorded) => (5, None),
            Some(Outcome::HandedToBot { bot }) => (6, Some(bot)),
            Some(Outcome::CallerHungUp) => (7, None),
            Some(Outcome::Error { message }) => (8, Some(message)),
        };
        out.push(tag);
        if let Some(text) = text {
            put_str(out, text);
        }
    }

    /// Reads [`Session::encode_binary`]'s form; `None` for anything else (including trailing
    /// bytes).
    pub fn decode_binary(bytes: &[u8]) -> Option<Session> {
        let mut r = Reader { rest: bytes };
        if r.take(4)? != SESSION_MAGIC {
            return None;
        }
        let call_sid = r.string()?;
        let caller = r.string()?;
        let called = r.string()?;
        let started_unix_ms = r.varint()?;
        let flow_id = r.string()?;
        let flow_version = r.string()?;
        let node = r.string()?;
        let seq = r.varint()?;
        let language = r.string()?;
        let mut vars = std::collections::BTreeMap::new();
        for _ in 0..r.count()? {
            let name = r.string()?;
            let value = match r.byte()? {
                0 => Literal::Number(f64::from_le_bytes(r.take(8)?.try_into().ok()?)),
                1 => match r.byte()? {
                    0 => Literal::Bool(false),
                    1 => Literal::Bool(true),
                    _ => return None,
                },
                2 => Literal::Text(r.string()?),
                _ => return None,
            };
            vars.insert(name, value);
        }
        let no_input = r.u32()?;
        let no_match = r.u32()?;
        let awaiting = match r.byte()? {
            0 => Awaiting::Start,
            1 => Awaiting::Gather { node: r.string()? },
            2 => Awaiting::Dial { node: r.string()? },
            3 => Awaiting::Enqueue { node: r.string()? },
            4 => Awaiting::Record { node: r.string()? },
            5 => Awaiting::Webhook { node: r.string()? },
            6 => Awaiting::Bot { node: r.string()? },
            7 => Awaiting::Nothing,
            _ => return None,
        };
        let n = r.count()?;
        // Room for every id and separator (they are within the bytes left): one allocation.
        let mut path = if n == 0 {
            NodePath::default()
        } else {
            NodePath::with_capacity(r.rest.len())
        };
        for _ in 0..n {
            if !path.push_checked(r.str()?) {
                return None;
            }
        }
        if path.len() != n {
            // More than MAX_PATH ids: not something encode_binary writes.
            return None;
        }
        let ended = match r.byte()? {
            0 => None,
            1 => Some(Outcome::Dialed {
                target: r.string()?,
            }),
            2 => Some(Outcome::Enqueued { queue: r.string()? }),
            3 => Some(Outcome::Redirected { flow: r.string()? }),
            4 => Some(Outcome::HungUp),
            5 => Some(Outcome::Recorded),
            6 => Some(Outcome::HandedToBot { bot: r.string()? }),
            7 => Some(Outcome::CallerHungUp),
            8 => Some(Outcome::Error {
                message: r.string()?,
            }),
            _ => return None,
        };
        if !r.rest.is_empty() {
            return None;
        }
        Some(Session {
            call_sid,
            caller,
            called,
            started_unix_ms,
            flow_id,
            flow_version,
            node,
            seq,
            language,
            vars,
            no_input,
            no_match,
            awaiting,
            path,
            ended,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut r = Reader { rest: &out };
            assert_eq!(r.varint(), Some(v));
            assert!(r.rest.is_empty());
        }
        // Eleven continuation bytes, or a 10th byte that overflows: refused.
        assert_eq!(Reader { rest: &[0xff; 11] }.varint(), None);
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert_eq!(Reader { rest: &over }.varint(), None);
    }
}
