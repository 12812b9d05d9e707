//! `hotline calls` and `hotline report`: reading the durable call records.

use super::{count, stores};
use crate::cli::{CallsArgs, PurgeArgs, ReportArgs};
use anyhow::Context;
use hotline_flow::runtime::Outcome;
use hotline_server::engine::outcome_name;
use hotline_store::CallFilter;
use hotline_store::records::kind;
use std::process::ExitCode;

fn when(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since the Unix epoch of a civil date (the inverse of [`when`]'s algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `--since`: an age before `now_ms` (`90m`, `24h`, `7d`) or a UTC date (`2026-11-24`, its
/// midnight), as ms since the Unix epoch.
fn since_flag(value: &str, now_ms: i64) -> anyhow::Result<i64> {
    let v = value.trim();
    let unit_ms = match v.chars().last() {
        Some('m') => Some(60_000),
        Some('h') => Some(3_600_000),
        Some('d') => Some(86_400_000),
        _ => None,
    };
    if let Some(unit) = unit_ms
        && let Some(n) = v[..v.len() - 1].parse::<i64>().ok().filter(|n| *n >= 0)
    {
        return n
            .checked_mul(unit)
            .and_then(|ago| now_ms.checked_sub(ago))
            .context("--since: too long ago");
    }
    let parts: Vec<&str> = v.split('-').collect();
    if let [y, m, d] = parts[..]
        && y.len() == 4
        && m.len() == 2
        && d.len() == 2
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<i64>(), d.parse::<i64>())
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
        // Not a day that does not exist (2026-02-30 would be in March).
        && let ms = days_from_civil(y, m, d) * 86_400_000
        && when(ms).starts_with(v)
    {
        return Ok(ms);
    }
    anyhow::bail!("--since `{value}`: give an age (90m, 24h, 7d) or a UTC date (2026-11-24)")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Masks all but the last 4 digits of a phone number (personal data).
fn mask(number: &str) -> String {
    let n = number.chars().count();
    if n <= 4 {
        return number.to_owned();
    }
    number
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i + 4 < n && c.is_ascii_digit() {
                '•'
            } else {
                c
            }
        })
        .collect()
}

pub(crate) async fn calls(args: CallsArgs) -> anyhow::Result<ExitCode> {
    let store = stores::existing_records(&args.records.records)?
        .build()
        .await
        .context("cannot open the call records")?;
    if let Some(sid) = &args.call_sid {
        let Some((call, steps)) = store.get_call(sid).await? else {
            eprintln!("no call {sid} in the records");
            return Ok(ExitCode::from(1));
        };
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "call": call, "steps": steps }))?
            );
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "call {} — flow {} (version {}) from {} to {}",
            call.call_sid,
            call.flow_id,
            call.flow_version,
            mask(&call.from),
            call.to
        );
        println!(
            "started {}, {}",
            when(call.started_at_ms),
            match (call.ended_at_ms, &call.outcome) {
                (Some(end), Some(outcome)) => format!(
                    "ended {} ({outcome}) after {:.1}s",
                    when(end),
                    (end - call.started_at_ms) as f64 / 1000.0
                ),
                _ => "still in progress (or its end was never reported)".to_owned(),
            }
        );
        for s in steps {
            let mut line = format!(
                "  +{:>6.1}s  {:<18} {:<12}",
                (s.at_ms - call.started_at_ms) as f64 / 1000.0,
                s.node,
                s.kind
            );
            if let Some(sp) = &s.speech {
                line.push_str(&format!(" said \"{sp}\""));
                if let Some(c) = s.confidence {
                    line.push_str(&format!(" ({c:.2})"));
                }
            }
            if let Some(d) = &s.digits {
                line.push_str(&format!(" pressed {d}"));
            }
            // After the answer: the route it took (a `heard` row), or a branch's (`matched`).
            if let Some(r) = &s.route {
                line.push_str(&format!(" → route {r}"));
            }
            match &s.detail {
                Some(d) if s.kind == kind::ENDED => line.push_str(&format!(" {}", ended(d))),
                Some(d) => line.push_str(&format!(" {d}")),
                None => {}
            }
            println!("{}", line.trim_end());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let filter = CallFilter {
        flow_id: args.flow.clone(),
        since_ms: args
            .since
            .as_deref()
            .map(|s| since_flag(s, now_ms()))
            .transpose()?,
        limit: args.limit,
        ..CallFilter::default()
    };
    let calls = store.list_calls(&filter).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&calls)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<34}  {:<20}  {:<20}  {:<16}  {:<18}  outcome",
        "call", "started", "flow", "from", "last node"
    );
    for c in &calls {
        println!(
            "{:<34}  {:<20}  {:<20}  {:<16}  {:<18}  {}",
            c.call_sid,
            when(c.started_at_ms),
            c.flow_id,
            mask(&c.from),
            c.last_node.as_deref().unwrap_or("-"),
            c.outcome.as_deref().unwrap_or("in progress")
        );
    }
    eprintln!("{}", count(calls.len() as u64, "call"));
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let store = stores::existing_records(&args.records.records)?
        .build()
        .await
        .context("cannot open the call records")?;
    let since = args
        .since
        .as_deref()
        .map(|s| since_flag(s, now_ms()))
        .transpose()?;
    let funnel = store
        .funnel(&args.flow, args.version.as_deref(), since)
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&funnel)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "flow {}{} — {}{} ({} in progress)",
        funnel.flow_id,
        funnel
            .flow_version
            .as_deref()
            .map(|v| format!(" version {v}"))
            .unwrap_or_default(),
        count(funnel.calls, "call"),
        since
            .map(|ms| format!(" started since {}", when(ms)))
            .unwrap_or_default(),
        funnel.in_progress
    );
    println!();
    println!(
        "{:<24} {:>8} {:>8} {:>9} {:>9} {:>8}",
        "node", "reached", "retries", "no-input", "no-match", "hung up"
    );
    for n in &funnel.nodes {
        println!(
            "{:<24} {:>8} {:>8} {:>9} {:>9} {:>8}",
            n.node, n.reached, n.retries, n.no_inputs, n.no_matches, n.hung_up
        );
    }
    println!();
    println!("{:<24} {:>8}", "outcome", "calls");
    for o in &funnel.outcomes {
        println!("{:<24} {:>8}", o.outcome, o.calls);
    }
    if funnel.nodes.iter().any(|n| !n.routes.is_empty()) {
        println!();
        // The label last: a route's keywords can be long.
        println!("{:<24} {:>8}  route", "node", "taken");
        for n in &funnel.nodes {
            for r in &n.routes {
                println!("{:<24} {:>8}  {}", n.node, r.taken, r.route);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `hotline purge --older-than AGE`: deletes the calls started before now minus AGE.
pub(crate) async fn purge(args: PurgeArgs) -> anyhow::Result<ExitCode> {
    let age = super::retention_flag(&args.older_than, "older-than")?;
    let store = stores::existing_records(&args.records.records)?
        .build()
        .await
        .context("cannot open the call records")?;
    let cutoff = hotline_store::records::purge_cutoff(age);
    // Paced as the server's hourly purge is: safe beside a running server.
    let purged = hotline_store::records::purge_before(
        &*store,
        cutoff,
        hotline_store::records::PURGE_CHUNK,
        hotline_store::records::PURGE_PAUSE,
    )
    .await
    .context("cannot purge the call records")?;
    println!(
        "purged {} started before {}",
        count(purged, "call"),
        when(cutoff)
    );
    Ok(ExitCode::SUCCESS)
}

/// An `ended` step's outcome (kept as JSON in the records) as the call list names it, with
/// where the call went: "dialed +12025550123", "error: …". Anything else is shown as it is.
fn ended(detail: &str) -> String {
    let Ok(outcome) = serde_json::from_str::<Outcome>(detail) else {
        return detail.to_owned();
    };
    let name = outcome_name(&outcome);
    match outcome {
        Outcome::Dialed { target: to }
        | Outcome::Enqueued { queue: to }
        | Outcome::Redirected { flow: to }
        | Outcome::HandedToBot { bot: to } => format!("{name} {to}"),
        Outcome::Error { message } => format!("{name}: {message}"),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn since_is_an_age_or_a_utc_date() {
        let now = 1_795_531_320_000; // 2026-11-24 14:42:00Z
        assert_eq!(super::since_flag("90m", now).ok(), Some(now - 90 * 60_000));
        assert_eq!(super::since_flag("24h", now).ok(), Some(now - 86_400_000));
        assert_eq!(
            super::since_flag(" 7d ", now).ok(),
            Some(now - 7 * 86_400_000)
        );
        let midnight = super::since_flag("2026-11-24", now).unwrap();
        assert_eq!(super::when(midnight), "2026-11-24 00:00:00Z");
        assert_eq!(
            super::when(super::since_flag("2024-02-29", now).unwrap()),
            "2024-02-29 00:00:00Z"
        );
        assert_eq!(super::since_flag("1970-01-01", now).ok(), Some(0));
        for bad in [
            "",
            "7",
            "d",
            "-3d",
            "1.5h",
            "7w",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "26-11-24",
            "2026/11/24",
        ] {
            assert!(super::since_flag(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn ended_steps_name_the_outcome() {
        assert_eq!(
            super::ended(r#"{"kind":"dialed","target":"+12025550123"}"#),
            "dialed +12025550123"
        );
        assert_eq!(super::ended(r#"{"kind":"hung_up"}"#), "hung-up");
        assert_eq!(
            super::ended(r#"{"kind":"caller_hung_up"}"#),
            "caller-hangup"
        );
        assert_eq!(
            super::ended(r#"{"kind":"error","message":"no node `x`"}"#),
            "error: no node `x`"
        );
        assert_eq!(super::ended("not json"), "not json");
    }
}
