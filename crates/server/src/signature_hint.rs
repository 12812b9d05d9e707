//! Why a signature did not match, for the operator: the most common set-up error is a public
//! URL that is not the one Twilio calls (`http` behind a proxy that Twilio reaches over
//! `https`, another host name, a missing path prefix). When a request is rejected for a
//! mismatch, [`hint`] tries the addresses the request itself names (its `Host` and
//! `X-Forwarded-Host` headers, with either scheme, with and without the prefix) and says which
//! one the signature is valid for, or that none is: then the auth token is the likely cause.
//!
//! This only explains a rejection. The request stays rejected; the URLs Hotline checks are
//! always rebuilt from the configured public base, never from these headers
//! ([`PublicBase`]). The extra checks run only for requests already refused: at most eight
//! HMACs each (two hosts, with and without the prefix, two schemes).

use axum::http::HeaderMap;
use hotline_twilio::signature::PublicBase;

/// What the operator should read beside a signature mismatch of a request for
/// `path_and_query`, checked against `configured` (the URL rebuilt from `public`). `websocket`
/// tries `wss`/`ws` instead of `https`/`http`; `valid(url)` checks the request's signature
/// against `url`.
pub(crate) fn hint(
    public: &PublicBase,
    configured: &str,
    headers: &HeaderMap,
    path_and_query: &str,
    websocket: bool,
    valid: impl Fn(&str) -> bool,
) -> String {
    // Each scheme tried, and the scheme of the `--public-url` that gives it.
    let schemes = if websocket {
        [("wss", "https"), ("ws", "http")]
    } else {
        [("https", "https"), ("http", "http")]
    };
    let mut hosts: Vec<&str> = Vec::with_capacity(2);
    for name in ["x-forwarded-host", "host"] {
        // A proxy chain lists hosts comma-separated, the client's first.
        let host = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim);
        if let Some(host) = host
            && plausible_authority(host)
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
    }
    let mut prefixes = vec![public.prefix()];
    if !public.prefix().is_empty() {
        prefixes.push("");
    }
    let mut tried = 0;
    for host in &hosts {
        for prefix in &prefixes {
            for (scheme, http_scheme) in schemes {
                let url = format!("{scheme}://{host}{prefix}{path_and_query}");
                if url == configured {
                    continue;
                }
                tried += 1;
                if valid(&url) {
                    let http_base = format!("{http_scheme}://{host}{prefix}");
                    return format!(
                        "the signature is valid for {url}, not {configured}: Twilio calls Hotline at {http_base}, so start it with --public-url {http_base}"
                    );
                }
            }
        }
    }
    format!(
        "no other address the request names matches either ({tried} tried from its Host and X-Forwarded-Host headers): the auth token is probably not the one Twilio signs with (the account's primary auth token, Twilio console → Account info), or the request is not from Twilio"
    )
}

/// `host[:port]` as a header may carry it: no path, user info or spaces, and not absurdly long.
fn plausible_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 261
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::hint;
    use axum::http::{HeaderMap, HeaderValue};
    use hotline_twilio::signature::{PublicBase, Validator, compute};

    const TOKEN: &str = "12345";

    fn params() -> Vec<(String, String)> {
        vec![
            ("CallSid".into(), "CA1".into()),
            ("From".into(), "+33612345678".into()),
        ]
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// The hint for a request signed with `token` for `signed_url`, with `headers`, against
    /// `public`.
    fn explain_signed(
        token: &str,
        public: &str,
        signed_url: &str,
        headers: &HeaderMap,
        websocket: bool,
    ) -> String {
        let signature = compute(token, signed_url, &params());
        let v = Validator::new(TOKEN);
        let public = PublicBase::parse(public).unwrap();
        let configured = if websocket {
            public.websocket_url("/voice?x=1")
        } else {
            public.http_url("/voice?x=1")
        };
        hint(
            &public,
            &configured,
            headers,
            "/voice?x=1",
            websocket,
            |url| {
                v.validate_form(url, &params(), Some(signature.as_bytes()))
                    .is_ok()
            },
        )
    }

    /// [`explain_signed`] with the server's own token.
    fn explain(public: &str, signed_url: &str, headers: &HeaderMap, websocket: bool) -> String {
        explain_signed(TOKEN, public, signed_url, headers, websocket)
    }

    #[test]
    fn names_the_address_twilio_called() {
        // Behind a proxy that Twilio reaches over plain http (a tunnel, a test set-up).
        let h = headers(&[("host", "hotline.example.com")]);
        let said = explain(
            "https://hotline.example.com",
            "http://hotline.example.com/voice?x=1",
            &h,
            false,
        );
        assert!(
            said.contains("--public-url http://hotline.example.com")
                && said.contains("not https://hotline.example.com/voice?x=1"),
            "{said}"
        );

        // The proxy forwards to 127.0.0.1:8080 and names the public host in X-Forwarded-Host.
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "ivr.example.org, proxy.internal"),
        ]);
        let said = explain(
            "https://hotline.example.com",
            "https://ivr.example.org/voice?x=1",
            &h,
            false,
        );
        assert!(
            said.contains("--public-url https://ivr.example.org"),
            "{said}"
        );

        // A prefix configured that Twilio's URL does not have.
        let h = headers(&[("host", "hotline.example.com")]);
        let said = explain(
            "https://hotline.example.com/ivr",
            "https://hotline.example.com/voice?x=1",
            &h,
            false,
        );
        assert!(
            said.ends_with("--public-url https://hotline.example.com"),
            "{said}"
        );

        // A media stream: the handshake was signed over ws://, the base given as https.
        let said = explain(
            "https://hotline.example.com",
            "ws://hotline.example.com/voice?x=1",
            &h,
            true,
        );
        assert!(
            said.contains("valid for ws://hotline.example.com/voice?x=1")
                && said.contains("--public-url http://hotline.example.com"),
            "{said}"
        );
    }

    #[test]
    fn blames_the_token_when_no_address_matches() {
        let h = headers(&[("host", "hotline.example.com")]);
        let said = explain_signed(
            "another-token",
            "https://hotline.example.com",
            "https://hotline.example.com/voice?x=1",
            &h,
            false,
        );
        assert!(
            said.contains("auth token") && said.contains("1 tried"),
            "{said}"
        );
    }

    #[test]
    fn hostile_hosts_are_not_tried() {
        let h = headers(&[("host", "evil.example.com/@x"), ("x-forwarded-host", "a b")]);
        let tried = std::cell::Cell::new(0);
        let public = PublicBase::parse("https://hotline.example.com").unwrap();
        let said = hint(
            &public,
            &public.http_url("/voice"),
            &h,
            "/voice",
            false,
            |_| {
                tried.set(tried.get() + 1);
                false
            },
        );
        assert_eq!(tried.get(), 0, "{said}");
        assert!(said.contains("0 tried"), "{said}");
    }
}
