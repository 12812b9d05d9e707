//! Presigned S3 GET URLs for flows whose prompts live in a bucket (`prompts: s3://bucket/prefix`).
//!
//! Twilio fetches `<Play>` audio without credentials, and Hotline never puts raw S3 URLs in
//! TwiML: it hands out its own short-lived, HMAC-signed `/prompts/…` URLs, and that route answers
//! `302 Found` with a URL presigned here, per request. [`S3Prompts`] is that presigner (it
//! implements [`hotline_server::app::S3Presigner`]), built on the official AWS SDK.
//!
//! The client is built once, at start-up, by [`S3Prompts::connect`], which also resolves the
//! region and the credentials so that a missing one stops the server at start-up, not at the
//! first call. Presigning is local computation (SigV4 over the URL): no request reaches S3.
//!
//! Credentials come from the SDK's standard chain: environment variables, the shared profile
//! files (`~/.aws/credentials`, `~/.aws/config`, including `role_arn` + `source_profile`), web
//! identity (EKS IRSA), ECS task roles and EC2 instance roles (IMDSv2). This crate builds
//! `aws-config` without its default features, so **SSO profiles, `credential_process` and
//! `aws login` sessions are not supported**: export static or temporary keys instead.
//!
//! This module must not do HTTP itself nor know about flows; the server joins the flow's prefix
//! and the prompt name into the object key.

use aws_config::BehaviorVersion;
pub use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::{ProvideCredentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use hotline_server::app::S3Presigner;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The default lifetime of a presigned URL: one hour.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// The longest lifetime S3 accepts for a presigned URL (SigV4): seven days.
pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Environment variable: the endpoint of an S3-compatible store (MinIO, Ceph, R2…).
pub const ENV_ENDPOINT: &str = "HOTLINE_S3_ENDPOINT";
/// Environment variable: `true` to address buckets as `endpoint/bucket/key` (path style).
pub const ENV_PATH_STYLE: &str = "HOTLINE_S3_PATH_STYLE";
/// Environment variable: the lifetime of presigned URLs, in seconds.
pub const ENV_TTL: &str = "HOTLINE_S3_PRESIGN_TTL";

/// Where [`S3Prompts`] gets its credentials.
#[derive(Debug, Clone, Default)]
pub enum CredentialsSource {
    /// The SDK's standard chain: environment, profile files, web identity, ECS, EC2 IMDS.
    #[default]
    Chain,
    /// Fixed credentials (tests, or keys read from a secret store by the caller).
    Static(Credentials),
}

/// How to reach S3 and sign prompt URLs.
#[derive(Debug, Clone)]
pub struct S3PromptsConfig {
    /// The bucket's region (`eu-west-3`). `None`: the SDK's chain (`AWS_REGION`,
    /// `AWS_DEFAULT_REGION`, the profile's `region`, EC2 instance metadata).
    pub region: Option<String>,
    /// A custom endpoint (`http://127.0.0.1:9000` for MinIO). `None`: AWS S3, or
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` when set.
    pub endpoint_url: Option<String>,
    /// Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`; most
    /// S3-compatible stores need it.
    pub force_path_style: bool,
    /// How long a presigned URL stays valid (at most [`MAX_TTL`]).
    pub ttl: Duration,
    /// Where the credentials come from.
    pub credentials: CredentialsSource,
}

impl Default for S3PromptsConfig {
    fn default() -> Self {
        S3PromptsConfig {
            region: None,
            endpoint_url: None,
            force_path_style: false,
            ttl: DEFAULT_TTL,
            credentials: CredentialsSource::Chain,
        }
    }
}

/// Why S3 prompts cannot be set up or presigned.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// No region found. Remedy: set `AWS_REGION` to the bucket's region.
    #[error(
        "no AWS region for S3 prompts: set AWS_REGION (or AWS_DEFAULT_REGION) to the bucket's region, e.g. AWS_REGION=eu-west-3, or put `region = …` in the AWS profile"
    )]
    NoRegion,
    /// The region is not a region name. Remedy: use the bucket's region code.
    #[error(
        "`{0}` is not an AWS region name: set AWS_REGION to the bucket's region code, e.g. eu-west-3"
    )]
    InvalidRegion(String),
    /// No credentials found. Remedy: export keys, pick a profile, or run with a role.
    #[error(
        "no AWS credentials for S3 prompts: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary keys), or AWS_PROFILE naming a profile in ~/.aws/credentials, or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN; on ECS or EC2 the task or instance role is used (SSO and credential_process profiles are not supported). The SDK said: {0}"
    )]
    NoCredentials(String),
    /// The endpoint is not an http(s) URL. Remedy: give a base URL.
    #[error("the S3 endpoint `{0}` is not an http(s) URL: write e.g. http://127.0.0.1:9000")]
    InvalidEndpoint(String),
    /// The URL lifetime is out of range. Remedy: between one second and seven days.
    #[error(
        "the S3 presigned URL lifetime {0:?} is out of range: S3 accepts 1 second to 7 days (604800 s)"
    )]
    InvalidTtl(Duration),
    /// An environment variable has a value that cannot be used. Remedy: see `expected`.
    #[error("{var}=`{value}` is not valid: {expected}")]
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
    /// The SDK could not presign (endpoint resolution, a bucket name, credentials that expired
    /// and cannot be refreshed). Remedy: read the detail.
    #[error("cannot presign s3://{bucket}/{key}: {detail}")]
    Presign {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
        /// The SDK's explanation.
        detail: String,
    },
}

impl S3PromptsConfig {
    /// Reads the configuration from the process environment: see [`S3PromptsConfig::from_lookup`].
    pub fn from_env() -> Result<Self, S3Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup` (an environment):
    /// - `HOTLINE_S3_ENDPOINT`: optional endpoint of an S3-compatible store;
    /// - `HOTLINE_S3_PATH_STYLE`: `true`/`false` (default `false`);
    /// - `HOTLINE_S3_PRESIGN_TTL`: URL lifetime in seconds (default 3600, at most 604800).
    ///
    /// The region and the credentials are left to the SDK's chain, which reads `AWS_REGION`,
    /// `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_PROFILE`… itself.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, S3Error> {
        let set = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = S3PromptsConfig {
            endpoint_url: set(ENV_ENDPOINT),
            ..S3PromptsConfig::default()
        };
        if let Some(v) = set(ENV_PATH_STYLE) {
            config.force_path_style = match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(S3Error::InvalidEnv {
                        var: ENV_PATH_STYLE,
                        value: v,
                        expected: "write true or false",
                    });
                }
            };
        }
        if let Some(v) = set(ENV_TTL) {
            let secs = v.parse::<u64>().map_err(|_| S3Error::InvalidEnv {
                var: ENV_TTL,
                value: v.clone(),
                expected: "write a number of seconds, 1 to 604800",
            })?;
            config.ttl = Duration::from_secs(secs);
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the settings without any IO.
    pub fn validate(&self) -> Result<(), S3Error> {
        if self.ttl < Duration::from_secs(1) || self.ttl > MAX_TTL {
            return Err(S3Error::InvalidTtl(self.ttl));
        }
        if let Some(region) = &self.region {
            check_region(region)?;
        }
        if let Some(endpoint) = &self.endpoint_url {
            let ok = url::Url::parse(endpoint)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(S3Error::InvalidEndpoint(endpoint.clone()));
            }
        }
        Ok(())
    }
}

/// A region code is a DNS label: lowercase letters, digits and `-` (`eu-west-3`, `us-gov-west-1`).
fn check_region(region: &str) -> Result<(), S3Error> {
    let ok = !region.is_empty()
        && region.len() <= 63
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(S3Error::InvalidRegion(region.to_owned()))
    }
}

/// An SDK error and its causes on one line, without the `Debug` dump `DisplayErrorContext` adds.
fn explain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Presigns GET URLs for prompt objects; built once, shared by every request.
#[derive(Debug, Clone)]
pub struct S3Prompts {
    client: aws_sdk_s3::Client,
    region: String,
    ttl: Duration,
}

impl S3Prompts {
    /// Builds the client: resolves the region and the credentials (the SDK's chain unless the
    /// configuration fixes them) and presigns a probe URL, so that every setting is known to
    /// work before the first call. Contacts no S3 endpoint; the credential chain may query the
    /// ECS or EC2 metadata endpoints, as configured by the environment.
    pub async fn connect(config: &S3PromptsConfig) -> Result<S3Prompts, S3Error> {
        config.validate()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let CredentialsSource::Static(credentials) = &config.credentials {
            loader = loader.credentials_provider(credentials.clone());
        }
        let sdk = loader.load().await;
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or(S3Error::NoRegion)?;
        check_region(&region)?;
        let provider = sdk
            .credentials_provider()
            .ok_or_else(|| S3Error::NoCredentials("no credentials provider".to_owned()))?;
        provider
            .provide_credentials()
            .await
            .map_err(|e| S3Error::NoCredentials(explain(&e)))?;
        let mut s3 =
            aws_sdk_s3::config::Builder::from(&sdk).force_path_style(config.force_path_style);
        if let Some(endpoint) = &config.endpoint_url {
            s3 = s3.endpoint_url(endpoint.clone());
        }
        let prompts = S3Prompts {
            client: aws_sdk_s3::Client::from_conf(s3.build()),
            region,
            ttl: config.ttl,
        };
        // Endpoint resolution and signing are only exercised by presigning: do it once now.
        prompts
            .presign_get("hotline-start-up-check", "probe.wav")
            .await?;
        tracing::debug!(
            region = %prompts.region,
            endpoint = config.endpoint_url.as_deref().unwrap_or("AWS"),
            path_style = config.force_path_style,
            ttl_s = config.ttl.as_secs(),
            "S3 prompt presigner ready"
        );
        Ok(prompts)
    }

    /// A GET URL for `bucket`/`key`, valid for the configured lifetime from now. The key is
    /// percent-encoded as S3 expects (`/` kept).
    pub async fn presign_get(&self, bucket: &str, key: &str) -> Result<String, S3Error> {
        let presigning =
            PresigningConfig::expires_in(self.ttl).map_err(|_| S3Error::InvalidTtl(self.ttl))?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(|e| S3Error::Presign {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                detail: explain(&e),
            })?;
        Ok(request.uri().to_owned())
    }

    /// The region the URLs are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// How long a presigned URL stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

impl S3Presigner for S3Prompts {
    fn presign<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>> {
        Box::pin(async move {
            self.presign_get(bucket, key)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn config(endpoint: Option<&str>, path_style: bool, ttl: Duration) -> S3PromptsConfig {
        S3PromptsConfig {
            region: Some("eu-west-3".to_owned()),
            endpoint_url: endpoint.map(str::to_owned),
            force_path_style: path_style,
            ttl,
            credentials: CredentialsSource::Static(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )),
        }
    }

    /// The URL split into (scheme://host, path, query pairs as written).
    fn split(url: &str) -> (String, String, Vec<(String, String)>) {
        let (base, query) = url.split_once('?').unwrap();
        let after_scheme = base.find("://").unwrap() + 3;
        let slash = base[after_scheme..].find('/').unwrap() + after_scheme;
        let pairs = query
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        (base[..slash].to_owned(), base[slash..].to_owned(), pairs)
    }

    fn param<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {k} in {pairs:?}"))
    }

    fn assert_signed(pairs: &[(String, String)], ttl_secs: u64) {
        assert_eq!(param(pairs, "X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
        assert_eq!(param(pairs, "X-Amz-Expires"), ttl_secs.to_string());
        let credential = param(pairs, "X-Amz-Credential");
        assert!(credential.starts_with("AKIDEXAMPLE%2F"), "{credential}");
        assert!(
            credential.ends_with("%2Feu-west-3%2Fs3%2Faws4_request"),
            "{credential}"
        );
        let date = param(pairs, "X-Amz-Date");
        assert_eq!(date.len(), 16, "{date}");
        assert!(date.ends_with('Z') && date.as_bytes()[8] == b'T', "{date}");
        let signature = param(pairs, "X-Amz-Signature");
        assert_eq!(signature.len(), 64, "{signature}");
        assert!(signature.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(param(pairs, "X-Amz-SignedHeaders").contains("host"));
        assert!(!pairs.iter().any(|(k, _)| k == "X-Amz-Security-Token"));
    }

    #[tokio::test]
    async fn virtual_hosted_urls_on_aws() {
        let s3 = S3Prompts::connect(&config(None, false, DEFAULT_TTL))
            .await
            .unwrap();
        assert_eq!(s3.region(), "eu-west-3");
        let url = s3
            .presign_get("prompts-bucket", "fr/welcome.wav")
            .await
            .unwrap();
        let (host, path, pairs) = split(&url);
        assert_eq!(host, "https://prompts-bucket.s3.eu-west-3.amazonaws.com");
        assert_eq!(path, "/fr/welcome.wav");
        assert_signed(&pairs, 3600);
    }

    #[tokio::test]
    async fn path_style_urls_on_a_custom_endpoint() {
        let ttl = Duration::from_secs(900);
        let s3 = S3Prompts::connect(&config(Some("http://127.0.0.1:9000"), true, ttl))
            .await
            .unwrap();
        let url = s3
            .presign_get("prompts-bucket", "fr/welcome.wav")
            .await
            .unwrap();
        let (host, path, pairs) = split(&url);
        assert_eq!(host, "http://127.0.0.1:9000");
        assert_eq!(path, "/prompts-bucket/fr/welcome.wav");
        assert_signed(&pairs, 900);
    }

    #[tokio::test]
    async fn keys_are_percent_encoded_with_slashes_kept() {
        let s3 = S3Prompts::connect(&config(Some("http://127.0.0.1:9000"), true, DEFAULT_TTL))
            .await
            .unwrap();
        let url = s3
            .presign_get("prompts-bucket", "fr/accueil/bonjour à tous+1.wav")
            .await
            .unwrap();
        let (_, path, _) = split(&url);
        assert_eq!(
            path,
            "/prompts-bucket/fr/accueil/bonjour%20%C3%A0%20tous%2B1.wav"
        );
    }

    #[tokio::test]
    async fn each_url_is_signed_for_its_object() {
        let s3 = S3Prompts::connect(&config(None, true, DEFAULT_TTL))
            .await
            .unwrap();
        let a = s3.presign_get("prompts-bucket", "fr/a.wav").await.unwrap();
        let b = s3.presign_get("prompts-bucket", "fr/b.wav").await.unwrap();
        let (host, path, _) = split(&a);
        assert_eq!(host, "https://s3.eu-west-3.amazonaws.com");
        assert_eq!(path, "/prompts-bucket/fr/a.wav");
        let (_, _, pa) = split(&a);
        let (_, _, pb) = split(&b);
        assert_ne!(param(&pa, "X-Amz-Signature"), param(&pb, "X-Amz-Signature"));
    }

    #[tokio::test]
    async fn the_lifetime_is_bounded_like_s3() {
        for ttl in [Duration::ZERO, MAX_TTL + Duration::from_secs(1)] {
            let e = S3Prompts::connect(&config(None, false, ttl))
                .await
                .unwrap_err();
            assert!(matches!(e, S3Error::InvalidTtl(_)), "{e}");
            assert!(e.to_string().contains("7 days"), "{e}");
        }
        let s3 = S3Prompts::connect(&config(None, false, MAX_TTL))
            .await
            .unwrap();
        let (_, _, pairs) = split(&s3.presign_get("b-u-c", "k").await.unwrap());
        assert_eq!(param(&pairs, "X-Amz-Expires"), "604800");
    }

    #[tokio::test]
    async fn a_malformed_region_is_refused() {
        let mut c = config(None, false, DEFAULT_TTL);
        c.region = Some("Paris (eu-west-3)".to_owned());
        let e = S3Prompts::connect(&c).await.unwrap_err();
        assert!(matches!(e, S3Error::InvalidRegion(_)), "{e}");
        assert!(e.to_string().contains("AWS_REGION"), "{e}");
    }

    #[test]
    fn environment_settings() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let c = S3PromptsConfig::from_lookup(env(&[])).unwrap();
        assert_eq!(c.endpoint_url, None);
        assert!(!c.force_path_style);
        assert_eq!(c.ttl, DEFAULT_TTL);
        assert_eq!(c.region, None, "the SDK's chain reads AWS_REGION itself");

        let c = S3PromptsConfig::from_lookup(env(&[
            (ENV_ENDPOINT, "http://127.0.0.1:9000"),
            (ENV_PATH_STYLE, "TRUE"),
            (ENV_TTL, "300"),
        ]))
        .unwrap();
        assert_eq!(c.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(c.force_path_style);
        assert_eq!(c.ttl, Duration::from_secs(300));

        for (bad, var) in [
            (&[(ENV_PATH_STYLE, "maybe")][..], ENV_PATH_STYLE),
            (&[(ENV_TTL, "1h")][..], ENV_TTL),
        ] {
            let e = S3PromptsConfig::from_lookup(env(bad)).unwrap_err();
            assert!(e.to_string().starts_with(var), "{e}");
        }
        let e = S3PromptsConfig::from_lookup(env(&[(ENV_TTL, "604801")])).unwrap_err();
        assert!(matches!(e, S3Error::InvalidTtl(_)));
        let e = S3PromptsConfig::from_lookup(env(&[(ENV_ENDPOINT, "minio:9000")])).unwrap_err();
        assert!(matches!(e, S3Error::InvalidEndpoint(_)), "{e}");
    }
}
