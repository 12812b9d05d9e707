//! Human durations: `5s`, `250ms`, `1m30s`, `1.5s`, or a bare number of seconds.

use std::time::Duration;

/// Parses a duration such as `5s`, `250ms`, `2m`, `1m30s`, `1.5s` or `3` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".to_owned());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs, s);
    }
    let mut total = 0.0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{s}` has a number without a unit (use ms, s, m or h)"))?;
        if num_len == 0 {
            return Err(format!(
                "`{s}` is not a duration (examples: 5s, 250ms, 1m30s)"
            ));
        }
        let (num, after) = rest.split_at(num_len);
        let value: f64 = num
            .parse()
            .map_err(|_| format!("`{num}` in `{s}` is not a number"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit.trim() {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{s}` (use ms, s, m or h)"
                ));
            }
        };
        total += value * scale;
        rest = next;
    }
    secs_to_duration(total, s)
}

fn secs_to_duration(secs: f64, original: &str) -> Result<Duration, String> {
    const MAX_SECS: f64 = 24.0 * 3600.0;
    if !secs.is_finite() || !(0.0..=MAX_SECS).contains(&secs) {
        return Err(format!("`{original}` is out of range (0 to 24h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Formats a duration compactly: `350ms`, `4.2s`, `2m05s`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        let tenths = (ms + 50) / 100;
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else {
        let s = ms / 1000;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// Formats a call-clock timestamp as `mm:ss.mmm`.
pub fn fmt_clock(ms: u64) -> String {
    format!(
        "{:02}:{:02}.{:03}",
        ms / 60_000,
        (ms / 1000) % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("99999h").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_duration(Duration::from_millis(350)), "350ms");
        assert_eq!(fmt_duration(Duration::from_millis(4240)), "4.2s");
        assert_eq!(fmt_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(fmt_clock(61_234), "01:01.234");
    }
}
