//! Load generators for Hotline's benchmarks.
//!
//! [`gather`] drives a flow's `<Gather>` callbacks over HTTP/1.1 keep-alive connections on
//! loopback, exactly as Twilio would (signed form posts, each call's `seq` followed from the
//! TwiML answers), and reports requests/s, latency percentiles and — given the server's pid —
//! the server's CPU time per request, read from `/proc`. The HTTP client is a minimal
//! hand-written one so that the generator's own cost stays far below the server's.

pub mod gather;
pub mod http1;
pub mod streams;
