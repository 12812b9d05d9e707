//! The shared conformance suites (ENGINEERING §4): every [`SessionStore`] and every
//! [`RecordStore`] — including fakes in other crates' tests — must pass them.
//!
//! Enabled by the `conformance` feature. Each check is a public async function taking the store;
//! [`session_suite!`](crate::session_suite) and [`record_suite!`](crate::record_suite) expand
//! to one `#[tokio::test]` per check for a backend:
//!
//! ```ignore
//! hotline_store::session_suite!(async { Arc::new(MemorySessionStore::new(1000, 4)) as Arc<dyn SessionStore> });
//! hotline_store::record_suite!(async { let fixture = my_fixture().await; (fixture.store(), fixture) });
//! ```
//! The record factory returns the store and a guard that is dropped at the end of the test (to
//! delete a temp file or drop a PostgreSQL schema).
//!
//! Checks use fresh call SIDs, so they may share one backend instance and run in parallel.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A call SID no other check (or test run) uses.
pub fn unique_sid(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "CA{tag}{:x}{:x}{:x}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Checks for [`crate::SessionStore`].
pub mod session {
    use super::*;
    use crate::{CasOutcome, SessionStore};

    const TTL: Duration = Duration::from_secs(60);

    /// Absent → `None`; `put` then `get` returns the bytes; versions count writes from 1.
    pub async fn round_trip(store: Arc<dyn SessionStore>) {
        let sid = unique_sid("rt");
        assert_eq!(store.get(&sid).await.unwrap(), None);
        assert_eq!(store.put(&sid, b"node=menu", TTL).await.unwrap(), 1);
        let s = store.get(&sid).await.unwrap().unwrap();
        assert_eq!((s.bytes.as_slice(), s.version), (&b"node=menu"[..], 1));
        assert_eq!(store.put(&sid, b"node=sales", TTL).await.unwrap(), 2);
        let s = store.get(&sid).await.unwrap().unwrap();
        assert_eq!((s.bytes.as_slice(), s.version), (&b"node=sales"[..], 2));
    }

    /// Empty, binary and large (256 KiB) values survive unchanged; keys do not mix.
    pub async fn values_and_isolation(store: Arc<dyn SessionStore>) {
        let (a, b) = (unique_sid("va"), unique_sid("vb"));
        store.put(&a, b"", TTL).await.unwrap();
        assert_eq!(store.get(&a).await.unwrap().unwrap().bytes, b"");
        let binary: Vec<u8> = (0..=255u8).cycle().take(256 * 1024).collect();
        store.put(&b, &binary, TTL).await.unwrap();
        assert_eq!(store.get(&b).await.unwrap().unwrap().bytes, binary);
        assert_eq!(store.get(&a).await.unwrap().unwrap().bytes, b"");
    }

    /// `delete` reports whether something was there; the counter restarts afterwards.
    pub async fn delete(store: Arc<dyn SessionStore>) {
        let sid = unique_sid("del");
        assert!(!store.delete(&sid).await.unwrap());
        store.put(&sid, b"x", TTL).await.unwrap();
        store.put(&sid, b"y", TTL).await.unwrap();
        assert!(store.delete(&sid).await.unwrap());
        assert_eq!(store.get(&sid).await.unwrap(), None);
        assert!(!store.delete(&sid).await.unwrap());
        assert_eq!(store.put(&sid, b"z", TTL).await.unwrap(), 1);
    }

    /// A session disappears after its TTL; every write refreshes the TTL.
    pub async fn ttl_expiry(store: Arc<dyn SessionStore>) {
        let (short, refreshed) = (unique_sid("ttl"), unique_sid("ttlr"));
        let ttl = Duration::from_millis(300);
        store.put(&short, b"x", ttl).await.unwrap();
        store.put(&refreshed, b"x", ttl).await.unwrap();
        assert!(store.get(&short).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.put(&refreshed, b"y", ttl).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            store.get(&short).await.unwrap(),
            None,
            "expired after its TTL"
        );
        assert_eq!(
            store.get(&refreshed).await.unwrap().unwrap().bytes,
            b"y",
            "a write refreshes the TTL"
        );
        assert!(
            !store.delete(&short).await.unwrap(),
            "an expired session is gone"
        );
        assert_eq!(
            store
                .compare_and_put(&short, None, b"n", TTL)
                .await
                .unwrap(),
            CasOutcome::Stored { version: 1 }
        );
    }

    /// `compare_and_put` semantics: `None` = create only, `Some(v)` = update only at `v`.
    pub async fn compare_and_put(store: Arc<dyn SessionStore>) {
        let sid = unique_sid("cas");
        assert_eq!(
            store
                .compare_and_put(&sid, Some(1), b"a", TTL)
                .await
                .unwrap(),
            CasOutcome::Conflict { current: None }
        );
        assert_eq!(
            store.compare_and_put(&sid, None, b"a", TTL).await.unwrap(),
            CasOutcome::Stored { version: 1 }
        );
        assert_eq!(
            store.compare_and_put(&sid, None, b"b", TTL).await.unwrap(),
            CasOutcome::Conflict { current: Some(1) }
        );
        assert_eq!(
            store
                .compare_and_put(&sid, Some(1), b"b", TTL)
                .await
                .unwrap(),
            CasOutcome::Stored { version: 2 }
        );
        assert_eq!(
            store
                .compare_and_put(&sid, Some(1), b"c", TTL)
                .await
                .unwrap(),
            CasOutcome::Conflict { current: Some(2) }
        );
        let s = store.get(&sid).await.unwrap().unwrap();
        assert_eq!(
            (s.bytes.as_slice(), s.version),
            (&b"b"[..], 2),
            "a conflict writes nothing"
        );
    }

    /// 32 tasks increment one counter with get → compare_and_put → retry: no update is lost.
    pub async fn racing_webhooks(store: Arc<dyn SessionStore>) {
        let sid = unique_sid("race");
        store.put(&sid, b"0", TTL).await.unwrap();
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (store, sid) = (Arc::clone(&store), sid.clone());
                tokio::spawn(async move {
                    loop {
                        let s = store.get(&sid).await.unwrap().unwrap();
                        let n: u64 = std::str::from_utf8(&s.bytes).unwrap().parse().unwrap();
                        let next = (n + 1).to_string();
                        match store
                            .compare_and_put(&sid, Some(s.version), next.as_bytes(), TTL)
                            .await
                            .unwrap()
                        {
                            CasOutcome::Stored { .. } => break,
                            CasOutcome::Conflict { .. } => tokio::task::yield_now().await,
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let s = store.get(&sid).await.unwrap().unwrap();
        assert_eq!((s.bytes.as_slice(), s.version), (&b"32"[..], 33));
    }
}

/// Checks for [`crate::RecordStore`].
pub mod records {
    use super::*;
    use crate::records::kind;
    use crate::{
        CallEnd, CallFilter, CallRecord, OUTCOME_CALLER_HANGUP, OUTCOME_LOST, RecordStore,
        RouteCount, StepRecord, StoreError, TurnRecord,
    };

    fn call(sid: &str, flow: &str, version: &str, started: i64) -> CallRecord {
        CallRecord::started(sid, flow, version, "+33612345678", "+15005550006", started)
    }

    fn step(sid: &str, seq: u32, node: &str, kind: &'static str) -> StepRecord {
        StepRecord::new(sid, seq, 1_000 + i64::from(seq), node, kind)
    }

    /// Start, steps with every optional field, end: `get_call` returns exactly that.
    pub async fn round_trip(store: Arc<dyn RecordStore>) {
        let sid = unique_sid("rt");
        let started = call(&sid, "triage", "v1", 1_000);
        store.call_started(started.clone()).await.unwrap();
        let mut heard = step(&sid, 2, "menu", kind::HEARD);
        heard.speech = Some("l'accueil, s'il vous plaît — \"urgent\" ☎".into());
        heard.confidence = Some(0.8125);
        heard.digits = Some("1#".into());
        let mut matched = step(&sid, 3, "menu", kind::MATCHED);
        matched.route = Some("reception".into());
        matched.detail = Some("rule 2".into());
        let steps = vec![
            step(&sid, 1, "menu", kind::ENTERED),
            heard,
            matched,
            step(&sid, 4, "reception", kind::ENTERED),
        ];
        for s in &steps {
            store.append(s.clone()).await.unwrap();
        }
        let (got, got_steps) = store.get_call(&sid).await.unwrap().unwrap();
        assert_eq!(
            got,
            CallRecord {
                last_node: Some("reception".into()),
                ..started.clone()
            },
            "in progress"
        );
        assert_eq!(got_steps, steps);
        store.call_ended(&sid, "completed", 61_000).await.unwrap();
        let (got, _) = store.get_call(&sid).await.unwrap().unwrap();
        let expected = CallRecord {
            ended_at_ms: Some(61_000),
            outcome: Some("completed".into()),
            last_node: Some("reception".into()),
            ..started
        };
        assert_eq!(got, expected);
        assert_eq!(got.duration_ms(), Some(60_000));
        assert_eq!(store.get_call(&unique_sid("none")).await.unwrap(), None);
    }

    /// Steps come back in `seq` order whatever order they were written in.
    pub async fn step_order(store: Arc<dyn RecordStore>) {
        let sid = unique_sid("ord");
        store.call_started(call(&sid, "f", "v", 0)).await.unwrap();
        for seq in [5u32, 1, 4, 2, 3, 10, 7] {
            store
                .append(step(&sid, seq, &format!("n{seq}"), kind::ENTERED))
                .await
                .unwrap();
        }
        let (c, steps) = store.get_call(&sid).await.unwrap().unwrap();
        assert_eq!(
            steps.iter().map(|s| s.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 7, 10]
        );
        assert_eq!(
            c.last_node.as_deref(),
            Some("n10"),
            "last node = highest seq"
        );
    }

    /// Replays (Twilio retrying a webhook) change nothing: first write wins.
    pub async fn idempotent_writes(store: Arc<dyn RecordStore>) {
        let sid = unique_sid("idem");
        store.call_started(call(&sid, "f", "v", 5)).await.unwrap();
        store
            .call_started(call(&sid, "other", "v9", 99))
            .await
            .unwrap();
        let first = step(&sid, 1, "menu", kind::ENTERED);
        store.append(first.clone()).await.unwrap();
        store.append(first.clone()).await.unwrap();
        store
            .append(step(&sid, 1, "elsewhere", kind::NO_INPUT))
            .await
            .unwrap();
        store
            .append_all(vec![first.clone(), step(&sid, 2, "menu", kind::RETRY)])
            .await
            .unwrap();
        store.append_all(vec![]).await.unwrap();
        let (c, steps) = store.get_call(&sid).await.unwrap().unwrap();
        assert_eq!((c.flow_id.as_str(), c.started_at_ms), ("f", 5));
        assert_eq!(steps, vec![first, step(&sid, 2, "menu", kind::RETRY)]);
    }

    /// Ending a call nobody started is refused, and does not disturb other writes.
    pub async fn unknown_call(store: Arc<dyn RecordStore>) {
        let ghost = unique_sid("ghost");
        let err = store.call_ended(&ghost, "completed", 1).await.unwrap_err();
        assert!(
            matches!(err, StoreError::UnknownCall(ref s) if *s == ghost),
            "{err}"
        );
        let sid = unique_sid("ok");
        store.call_started(call(&sid, "f", "v", 0)).await.unwrap();
        store.call_ended(&sid, "completed", 1).await.unwrap();
    }

    /// An end `only_if_open` ([`OUTCOME_LOST`]'s) ends a call still open, never one ended
    /// already (which it reports as unknown); a later plain end still replaces it.
    pub async fn ends_only_if_open(store: Arc<dyn RecordStore>) {
        let end_if_open = |sid: &str, at| {
            let end = CallEnd {
                only_if_open: true,
                ..CallEnd::new(sid, OUTCOME_LOST, at)
            };
            TurnRecord {
                started: None,
                steps: vec![],
                ended: Some(end),
            }
        };
        let open = unique_sid("lost-open");
        store.call_started(call(&open, "f", "v", 0)).await.unwrap();
        store
            .append(step(&open, 0, "menu", kind::ENTERED))
            .await
            .unwrap();
        store.record_turn(end_if_open(&open, 7)).await.unwrap();
        let (c, _) = store.get_call(&open).await.unwrap().unwrap();
        assert_eq!(
            (c.outcome.as_deref(), c.ended_at_ms, c.last_node.as_deref()),
            (Some(OUTCOME_LOST), Some(7), Some("menu"))
        );
        store.call_ended(&open, "dialed", 9).await.unwrap();
        let (c, _) = store.get_call(&open).await.unwrap().unwrap();
        assert_eq!(
            (c.outcome.as_deref(), c.ended_at_ms),
            (Some("dialed"), Some(9))
        );

        let ended = unique_sid("lost-ended");
        store.call_started(call(&ended, "f", "v", 0)).await.unwrap();
        store.call_ended(&ended, "hung-up", 5).await.unwrap();
        let err = store.record_turn(end_if_open(&ended, 8)).await.unwrap_err();
        assert!(matches!(err, StoreError::UnknownCall(_)), "{err}");
        let (c, _) = store.get_call(&ended).await.unwrap().unwrap();
        assert_eq!(
            (c.outcome.as_deref(), c.ended_at_ms),
            (Some("hung-up"), Some(5))
        );
        // A plain end with the same outcome string replaces an end as any other does.
        store.call_ended(&ended, OUTCOME_LOST, 10).await.unwrap();
        let (c, _) = store.get_call(&ended).await.unwrap().unwrap();
        assert_eq!(c.outcome.as_deref(), Some(OUTCOME_LOST));
    }

    /// `list_calls`: filters by flow, version and start time; newest first; limited.
    pub async fn list_calls(store: Arc<dyn RecordStore>) {
        let flow = unique_sid("flow");
        let sids: Vec<String> = (0..5).map(|i| unique_sid(&format!("l{i}"))).collect();
        for (i, sid) in sids.iter().enumerate() {
            let version = if i < 3 { "v1" } else { "v2" };
            store
                .call_started(call(sid, &flow, version, 1_000 * (i as i64 + 1)))
                .await
                .unwrap();
        }
        store
            .call_started(call(&unique_sid("x"), "another-flow", "v1", 9_999))
            .await
            .unwrap();
        let list = |flow_version: Option<&str>, since_ms, limit| CallFilter {
            flow_id: Some(flow.clone()),
            flow_version: flow_version.map(str::to_owned),
            since_ms,
            limit,
        };
        let got = store.list_calls(&list(None, None, 50)).await.unwrap();
        let order: Vec<&str> = got.iter().map(|c| c.call_sid.as_str()).collect();
        assert_eq!(
            order,
            sids.iter().rev().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(
            store.list_calls(&list(None, None, 2)).await.unwrap().len(),
            2
        );
        assert_eq!(
            store
                .list_calls(&list(Some("v1"), None, 50))
                .await
                .unwrap()
                .len(),
            3
        );
        let since = store
            .list_calls(&list(None, Some(2_000), 50))
            .await
            .unwrap();
        assert_eq!(since.len(), 4);
        assert!(since.iter().all(|c| c.started_at_ms >= 2_000));
        let any = store
            .list_calls(&CallFilter {
                limit: 1000,
                ..CallFilter::default()
            })
            .await
            .unwrap();
        assert!(any.iter().any(|c| c.flow_id == "another-flow"));
    }

    /// The funnel on a small synthetic dataset, with exact numbers.
    ///
    /// Flow `F` v1, five calls (plus one of v2 and one of another flow that must not count):
    /// 1. menu(entered, no-input, retry, heard, matched) → sales(entered) → completed
    /// 2. menu(entered, no-match, retry, no-match, exhausted) → caller-hangup at menu
    /// 3. menu(entered, heard, matched) → support(entered, no-input) → caller-hangup at support
    /// 4. menu(entered) → caller-hangup at menu
    /// 5. menu(entered, heard) → still in progress
    ///
    /// The answers' routes: call 1's `matched` row `1 / sales`, call 3's `2 / support`, and call
    /// 5's `heard` row `1 / sales` (an answer's route is on its `heard` row). Call n starts at
    /// n - 1 ms, the other version's and flow's calls at 0.
    pub async fn funnel(store: Arc<dyn RecordStore>) {
        use kind::*;
        let flow = unique_sid("funnel");
        type Call<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let script: [Call<'_>; 5] = [
            (
                &[
                    ("menu", ENTERED),
                    ("menu", NO_INPUT),
                    ("menu", RETRY),
                    ("menu", HEARD),
                    ("menu", MATCHED),
                    ("sales", ENTERED),
                ],
                Some("completed"),
            ),
            (
                &[
                    ("menu", ENTERED),
                    ("menu", NO_MATCH),
                    ("menu", RETRY),
                    ("menu", NO_MATCH),
                    ("menu", EXHAUSTED),
                ],
                Some(OUTCOME_CALLER_HANGUP),
            ),
            (
                &[
                    ("menu", ENTERED),
                    ("menu", HEARD),
                    ("menu", MATCHED),
                    ("support", ENTERED),
                    ("support", NO_INPUT),
                ],
                Some(OUTCOME_CALLER_HANGUP),
            ),
            (&[("menu", ENTERED)], Some(OUTCOME_CALLER_HANGUP)),
            (&[("menu", ENTERED), ("menu", HEARD)], None),
        ];
        for (i, (steps, outcome)) in script.iter().enumerate() {
            let sid = unique_sid(&format!("f{i}"));
            store
                .call_started(call(&sid, &flow, "v1", i as i64))
                .await
                .unwrap();
            let route = match i {
                0 | 4 => Some("1 / sales"),
                2 => Some("2 / support"),
                _ => None,
            };
            let steps = steps
                .iter()
                .enumerate()
                .map(|(n, (node, k))| {
                    let mut s = step(&sid, n as u32 + 1, node, k);
                    let answer = if i == 4 { HEARD } else { MATCHED };
                    if *k == answer {
                        s.route = route.map(str::to_owned);
                    }
                    s
                })
                .collect();
            store.append_all(steps).await.unwrap();
            if let Some(outcome) = outcome {
                store.call_ended(&sid, outcome, 100).await.unwrap();
            }
        }
        let other_version = unique_sid("fv2");
        store
            .call_started(call(&other_version, &flow, "v2", 0))
            .await
            .unwrap();
        store
            .append(step(&other_version, 1, "menu", RETRY))
            .await
            .unwrap();
        store
            .call_ended(&other_version, OUTCOME_CALLER_HANGUP, 1)
            .await
            .unwrap();
        let other_flow = unique_sid("fo");
        store
            .call_started(call(&other_flow, "other", "v1", 0))
            .await
            .unwrap();
        store
            .append(step(&other_flow, 1, "menu", NO_INPUT))
            .await
            .unwrap();

        let f = store.funnel(&flow, Some("v1"), None).await.unwrap();
        assert_eq!((f.calls, f.in_progress), (5, 1));
        // Most reached first; `support` (step 4 of call 3) and `sales` (step 6 of call 1) are
        // tied, and `support` comes earlier in a call, although `sales` is first by name.
        assert_eq!(
            f.nodes.iter().map(|n| n.node.as_str()).collect::<Vec<_>>(),
            ["menu", "support", "sales"]
        );
        let menu = f.node("menu").unwrap();
        assert_eq!(
            (
                menu.reached,
                menu.retries,
                menu.no_inputs,
                menu.no_matches,
                menu.hung_up
            ),
            (5, 2, 1, 2, 2)
        );
        assert_eq!(
            menu.routes,
            [
                RouteCount {
                    route: "1 / sales".into(),
                    taken: 2
                },
                RouteCount {
                    route: "2 / support".into(),
                    taken: 1
                }
            ]
        );
        let sales = f.node("sales").unwrap();
        assert!(sales.routes.is_empty());
        assert_eq!(
            (
                sales.reached,
                sales.retries,
                sales.no_inputs,
                sales.no_matches,
                sales.hung_up
            ),
            (1, 0, 0, 0, 0)
        );
        let support = f.node("support").unwrap();
        assert_eq!(
            (support.reached, support.no_inputs, support.hung_up),
            (1, 1, 1)
        );
        assert_eq!(f.outcome(OUTCOME_CALLER_HANGUP), 3);
        assert_eq!(f.outcome("completed"), 1);
        assert_eq!(f.outcomes.len(), 2);
        assert_eq!(
            f.outcomes.first().map(|o| o.outcome.as_str()),
            Some(OUTCOME_CALLER_HANGUP)
        );

        let all = store.funnel(&flow, None, None).await.unwrap();
        assert_eq!((all.calls, all.in_progress), (6, 1));
        let menu = all.node("menu").unwrap();
        assert_eq!((menu.reached, menu.retries, menu.hung_up), (6, 3, 3));
        assert_eq!(all.outcome(OUTCOME_CALLER_HANGUP), 4);

        // Only the calls started from 2 ms on: the script's calls 3 to 5 (started at 2, 3, 4).
        let recent = store.funnel(&flow, None, Some(2)).await.unwrap();
        assert_eq!((recent.calls, recent.in_progress), (3, 1));
        let menu = recent.node("menu").unwrap();
        assert_eq!((menu.reached, menu.retries, menu.hung_up), (3, 0, 1));
        assert_eq!((menu.route("1 / sales"), menu.route("2 / support")), (1, 1));
        assert_eq!(recent.node("support").map(|n| n.hung_up), Some(1));
        assert!(recent.node("sales").is_none());
        assert_eq!(recent.outcome(OUTCOME_CALLER_HANGUP), 2);
        assert_eq!(recent.outcome("completed"), 0);

        let none = store
            .funnel(&unique_sid("nobody"), None, None)
            .await
            .unwrap();
        assert_eq!(
            (none.calls, none.nodes.len(), none.outcomes.len()),
            (0, 0, 0)
        );
    }

    /// `record_turn`: a whole call in three turns (start + steps, steps, steps + end) reads
    /// back like the separate writes would; the end's `last_node` sees the turn's own steps
    /// (and not a transcription's, numbered past them);
    /// a replayed turn changes nothing; an end for an unknown call is refused after its steps
    /// are stored; an empty turn is a no-op.
    pub async fn turns(store: Arc<dyn RecordStore>) {
        let sid = unique_sid("turn");
        let started = call(&sid, "triage", "v1", 1_000);
        let first = TurnRecord {
            started: Some(started.clone()),
            steps: vec![step(&sid, 0, "menu", kind::ENTERED)],
            ended: None,
        };
        store.record_turn(first.clone()).await.unwrap();
        let mut heard = step(&sid, 1, "menu", kind::HEARD);
        heard.speech = Some("oui".into());
        heard.confidence = Some(0.5);
        let second = TurnRecord {
            started: None,
            steps: vec![heard.clone(), step(&sid, 2, "q1", kind::ENTERED)],
            ended: None,
        };
        store.record_turn(second.clone()).await.unwrap();
        // Twilio retried the first two webhooks: nothing changes.
        store.record_turn(first).await.unwrap();
        store.record_turn(second).await.unwrap();
        // A recording's transcription, numbered past every step, arrives mid-call: it is not
        // where the call is, nor where it ends.
        let mut transcribed = step(&sid, 2_000_000_001, "voicemail", kind::TRANSCRIBED);
        transcribed.speech = Some("rappelez-moi".into());
        store
            .record_turn(TurnRecord {
                started: None,
                steps: vec![transcribed.clone()],
                ended: None,
            })
            .await
            .unwrap();
        let (c, steps) = store.get_call(&sid).await.unwrap().unwrap();
        assert_eq!(c.ended_at_ms, None);
        assert_eq!(c.last_node.as_deref(), Some("q1"));
        assert_eq!(steps.len(), 4);
        store
            .record_turn(TurnRecord {
                started: None,
                steps: vec![
                    step(&sid, 3, "q1", kind::HEARD),
                    step(&sid, 4, "end", kind::ENDED),
                ],
                ended: Some(CallEnd::new(sid.clone(), "dialed", 9_000)),
            })
            .await
            .unwrap();
        let (c, steps) = store.get_call(&sid).await.unwrap().unwrap();
        assert_eq!(
            c,
            CallRecord {
                ended_at_ms: Some(9_000),
                outcome: Some("dialed".into()),
                last_node: Some("end".into()),
                ..started
            }
        );
        assert_eq!(
            steps.iter().map(|s| s.seq).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 2_000_000_001]
        );
        assert_eq!(steps.get(1), Some(&heard));
        assert_eq!(steps.last(), Some(&transcribed));

        let ghost = unique_sid("ghost-turn");
        let err = store
            .record_turn(TurnRecord {
                started: None,
                steps: vec![step(&ghost, 0, "menu", kind::ENTERED)],
                ended: Some(CallEnd::new(ghost.clone(), "completed", 1)),
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::UnknownCall(ref s) if *s == ghost),
            "{err}"
        );
        store.record_turn(TurnRecord::default()).await.unwrap();
    }

    /// 48 whole-call turns (start, steps, end) and 16 ends of unknown calls, all at once, so
    /// that a batching backend commits them together: each caller gets its own result (the
    /// unknown ends are refused, the others not), and each call's `last_node` is its own last
    /// step.
    pub async fn concurrent_turns_that_end(store: Arc<dyn RecordStore>) {
        const CALLS: u32 = 48;
        const GHOSTS: u32 = 16;
        let end = |sid: &str| CallEnd::new(sid, "completed", 2_000);
        let mut tasks = Vec::new();
        for i in 0..CALLS + GHOSTS {
            let store = Arc::clone(&store);
            // Ghosts between the real calls, so their results sit in the middle of a batch.
            let ghost = i % 4 == 3 && i / 4 < GHOSTS;
            let sid = unique_sid(&format!("{}{i}", if ghost { "g" } else { "t" }));
            let turn = if ghost {
                TurnRecord {
                    started: None,
                    steps: Vec::new(),
                    ended: Some(end(&sid)),
                }
            } else {
                TurnRecord {
                    started: Some(call(&sid, "batched", "v1", 0)),
                    steps: (0..=i % 5)
                        .map(|seq| step(&sid, seq, &format!("n{seq}"), kind::ENTERED))
                        .collect(),
                    ended: Some(end(&sid)),
                }
            };
            tasks.push(tokio::spawn(async move {
                let result = store.record_turn(turn).await;
                (sid, ghost, i, result)
            }));
        }
        for t in tasks {
            let (sid, ghost, i, result) = t.await.unwrap();
            if ghost {
                assert!(
                    matches!(result, Err(StoreError::UnknownCall(ref s)) if *s == sid),
                    "{sid}: {result:?}"
                );
                assert!(store.get_call(&sid).await.unwrap().is_none(), "{sid}");
            } else {
                result.unwrap();
                let (c, steps) = store.get_call(&sid).await.unwrap().unwrap();
                assert_eq!(steps.len() as u32, i % 5 + 1, "{sid}");
                assert_eq!(c.outcome.as_deref(), Some("completed"), "{sid}");
                let last = format!("n{}", i % 5);
                assert_eq!(c.last_node.as_deref(), Some(last.as_str()), "{sid}");
            }
        }
    }

    /// `purge`: the calls started before the cutoff go, oldest first and at most `max_calls`
    /// at a time, with their steps; later calls and their steps stay, and their call ids keep
    /// working; a cutoff within a day of now is refused and deletes nothing.
    pub async fn purge(store: Arc<dyn RecordStore>) {
        let day = crate::records::MIN_RETENTION_MS;
        let now = crate::records::now_ms();
        let cutoff = now - 30 * day;
        // Five old calls (started 40 to 36 days ago) and two recent ones, three steps each.
        let mut old = Vec::new();
        for (i, started) in [40, 39, 38, 37, 36].iter().enumerate() {
            let sid = unique_sid(&format!("old{i}"));
            old.push((sid, now - started * day));
        }
        let recent = [
            (unique_sid("recent0"), now - 2 * day),
            (unique_sid("recent1"), now - 60_000),
        ];
        for (sid, started) in old.iter().chain(&recent) {
            store
                .call_started(call(sid, "retention", "v1", *started))
                .await
                .unwrap();
            store
                .append_all((1..=3).map(|n| step(sid, n, "menu", kind::HEARD)).collect())
                .await
                .unwrap();
        }
        store
            .call_ended(&old[0].0, "completed", old[0].1 + 60_000)
            .await
            .unwrap();

        let refused = store.purge(now - day / 2, 100).await.unwrap_err();
        assert!(matches!(refused, StoreError::Config { .. }), "{refused}");
        assert_eq!(store.purge(now + day, 100).await.ok(), None);

        // The oldest two first.
        assert_eq!(store.purge(cutoff, 2).await.unwrap(), 2);
        for (sid, _) in &old[..2] {
            assert_eq!(store.get_call(sid).await.unwrap(), None, "{sid}");
        }
        assert!(store.get_call(&old[2].0).await.unwrap().is_some());
        // Then the rest: fewer than asked for, so nothing is left before the cutoff.
        assert_eq!(
            crate::records::purge_before(&*store, cutoff, 2, std::time::Duration::ZERO)
                .await
                .unwrap(),
            3
        );
        assert_eq!(store.purge(cutoff, 2).await.unwrap(), 0);
        for (sid, _) in &old {
            assert_eq!(store.get_call(sid).await.unwrap(), None, "{sid}");
        }
        let listed = store
            .list_calls(&CallFilter {
                flow_id: Some("retention".into()),
                ..CallFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|c| c.call_sid.as_str())
                .collect::<Vec<_>>(),
            [recent[1].0.as_str(), recent[0].0.as_str()]
        );
        for (sid, _) in &recent {
            let (_, steps) = store.get_call(sid).await.unwrap().unwrap();
            assert_eq!(steps.len(), 3, "{sid}");
            // The writer goes on writing for the calls that stay.
            store
                .append(step(sid, 4, "bye", kind::ENTERED))
                .await
                .unwrap();
            store.call_ended(sid, "completed", now).await.unwrap();
            let (c, steps) = store.get_call(sid).await.unwrap().unwrap();
            assert_eq!((steps.len(), c.last_node.as_deref()), (4, Some("bye")));
        }
        // A funnel no longer counts the purged callers.
        let funnel = store.funnel("retention", None, None).await.unwrap();
        let menu = funnel.nodes.iter().find(|n| n.node == "menu").unwrap();
        assert_eq!(menu.reached, 2);
    }

    /// 64 tasks × 40 appends at once: every write acknowledged, every step stored exactly once.
    pub async fn concurrent_appends(store: Arc<dyn RecordStore>) {
        const TASKS: u32 = 64;
        const STEPS: u32 = 40;
        let sids: Vec<String> = (0..TASKS).map(|i| unique_sid(&format!("c{i}"))).collect();
        let tasks: Vec<_> = sids
            .iter()
            .map(|sid| {
                let (store, sid) = (Arc::clone(&store), sid.clone());
                tokio::spawn(async move {
                    store
                        .call_started(call(&sid, "concurrency", "v1", 0))
                        .await
                        .unwrap();
                    for seq in 1..=STEPS {
                        store
                            .append(step(&sid, seq, "menu", kind::HEARD))
                            .await
                            .unwrap();
                    }
                    store.call_ended(&sid, "completed", 1).await.unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        for sid in &sids {
            let (c, steps) = store.get_call(sid).await.unwrap().unwrap();
            assert_eq!(steps.len(), STEPS as usize, "{sid}");
            assert!(steps.iter().zip(1..).all(|(s, seq)| s.seq == seq));
            assert_eq!(c.outcome.as_deref(), Some("completed"));
        }
    }
}

/// Expands to one `#[tokio::test]` per session check; `$factory` is an async expression
/// evaluating to `Arc<dyn SessionStore>`.
#[macro_export]
macro_rules! session_suite {
    ($factory:expr) => {
        $crate::session_suite!(@tests $factory; round_trip values_and_isolation delete ttl_expiry compare_and_put racing_webhooks);
    };
    (@tests $factory:expr; $($check:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $factory.await;
                $crate::conformance::session::$check(store).await;
            }
        )*
    };
}

/// Expands to one `#[tokio::test]` per record check; `$factory` is an async expression
/// evaluating to `(Arc<dyn RecordStore>, guard)`; the guard is dropped after the check.
#[macro_export]
macro_rules! record_suite {
    ($factory:expr) => {
        $crate::record_suite!(@tests $factory; round_trip step_order idempotent_writes unknown_call ends_only_if_open list_calls funnel concurrent_appends turns concurrent_turns_that_end purge);
    };
    (@tests $factory:expr; $($check:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, guard) = $factory.await;
                $crate::conformance::records::$check(store).await;
                drop(guard);
            }
        )*
    };
}
