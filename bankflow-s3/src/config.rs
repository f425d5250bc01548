//! Where the bucket is and how long a request may take: `s3://bucket/prefix?endpoint=…`.

use std::time::Duration;

use bankflow_core::{BankError, BankResult};
use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, ClientOptions, RetryConfig};

/// Default time one S3 request may take (connect to last byte).
pub const S3_REQUEST_TIMEOUT_MS_DEFAULT: u64 = 30_000;
/// Default time to establish a connection.
pub const S3_CONNECT_TIMEOUT_MS_DEFAULT: u64 = 5_000;
/// Most retries of one request (connect errors, timeouts, 5xx), with exponential backoff.
pub const S3_RETRIES_MAX: usize = 3;
/// Longest a request is retried for, from its first attempt.
pub const S3_RETRY_TIMEOUT_MS: u64 = 60_000;

/// An S3-compatible bucket. Credentials are never part of the URL (URLs end up in logs and
/// process listings): they come from the fields below or, when those are unset, from the
/// standard `AWS_*` environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT`, or the instance's role).
#[derive(Clone, Default)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix inside the bucket ("" for none), without leading or trailing `/`.
    pub prefix: String,
    /// Region (default: `AWS_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// Endpoint of a non-AWS server (MinIO, Ceph, moto): addressed path-style.
    pub endpoint: Option<String>,
    /// Allow a plain-`http://` endpoint (local test servers only).
    pub allow_http: bool,
    /// Access key id (default: from the environment).
    pub access_key_id: Option<String>,
    /// Secret access key (default: from the environment). Never printed.
    pub secret_access_key: Option<String>,
    /// Time one request may take.
    pub request_timeout_ms: u64,
    /// Time to connect.
    pub connect_timeout_ms: u64,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("allow_http", &self.allow_http)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .finish()
    }
}

fn invalid(message: impl Into<String>) -> BankError {
    BankError::validation("documents_url", message)
}

impl S3Config {
    /// Parses `s3://BUCKET[/PREFIX][?endpoint=URL&region=R&allow_http=true&timeout_ms=N&connect_timeout_ms=N]`.
    /// Unknown parameters and credentials in the URL are refused.
    pub fn from_url(s: &str) -> BankResult<S3Config> {
        let url = url::Url::parse(s.trim()).map_err(|e| invalid(format!("not a URL: {e}")))?;
        if url.scheme() != "s3" {
            return Err(invalid("an S3 documents URL starts with s3://"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ));
        }
        let bucket = url
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| invalid("the URL names no bucket (s3://BUCKET)"))?;
        let mut c = S3Config {
            bucket: bucket.to_string(),
            prefix: url.path().trim_matches('/').to_string(),
            request_timeout_ms: S3_REQUEST_TIMEOUT_MS_DEFAULT,
            connect_timeout_ms: S3_CONNECT_TIMEOUT_MS_DEFAULT,
            ..S3Config::default()
        };
        for (k, v) in url.query_pairs() {
            c.set(&k, &v)?;
        }
        Ok(c)
    }

    fn set(&mut self, key: &str, value: &str) -> BankResult<()> {
        let millis = |v: &str| {
            v.parse::<u64>()
                .ok()
                .filter(|ms| (1..=600_000).contains(ms))
                .ok_or_else(|| invalid(format!("{key}: 1 to 600000 milliseconds")))
        };
        match key {
            "endpoint" => self.endpoint = Some(value.to_string()),
            "region" => self.region = Some(value.to_string()),
            "allow_http" => {
                self.allow_http = value
                    .parse()
                    .map_err(|_| invalid("allow_http: true or false"))?
            }
            "timeout_ms" => self.request_timeout_ms = millis(value)?,
            "connect_timeout_ms" => self.connect_timeout_ms = millis(value)?,
            other => return Err(invalid(format!("unknown parameter `{other}`"))),
        }
        Ok(())
    }

    /// The `object_store` builder: environment first, then this configuration over it.
    pub(crate) fn builder(&self) -> AmazonS3Builder {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(self.allow_http)
                    .with_timeout(Duration::from_millis(self.request_timeout_ms))
                    .with_connect_timeout(Duration::from_millis(self.connect_timeout_ms)),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: S3_RETRIES_MAX,
                retry_timeout: Duration::from_millis(S3_RETRY_TIMEOUT_MS),
            });
        if let Some(r) = &self.region {
            b = b.with_region(r);
        }
        if let Some(e) = &self.endpoint {
            // Self-hosted servers address buckets by path, not by virtual host.
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        if let Some(k) = &self.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = &self.secret_access_key {
            b = b.with_secret_access_key(s);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_bucket_prefix_endpoint_and_limits() {
        let c = S3Config::from_url(
            "s3://kyc-docs/prod/eu?endpoint=http://127.0.0.1:9000&region=eu-west-1&allow_http=true&timeout_ms=2000",
        )
        .unwrap();
        assert_eq!(c.bucket, "kyc-docs");
        assert_eq!(c.prefix, "prod/eu");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert!(c.allow_http);
        assert_eq!(c.request_timeout_ms, 2000);
        assert_eq!(c.connect_timeout_ms, S3_CONNECT_TIMEOUT_MS_DEFAULT);
        let plain = S3Config::from_url("s3://b").unwrap();
        assert_eq!((plain.prefix.as_str(), plain.allow_http), ("", false));
    }

    #[test]
    fn bad_urls_are_refused_by_name() {
        for (url, needle) in [
            ("http://b", "s3://"),
            ("s3://key:secret@b", "credentials"),
            ("s3://b?colour=red", "unknown parameter"),
            ("s3://b?timeout_ms=0", "timeout_ms"),
            ("s3://b?allow_http=yes", "allow_http"),
            ("not a url", "not a URL"),
        ] {
            let e = S3Config::from_url(url).unwrap_err();
            assert_eq!(e.code(), "validation_error");
            assert!(e.to_string().contains(needle), "{url}: {e}");
        }
    }

    #[test]
    fn the_secret_is_never_printed() {
        let c = S3Config {
            secret_access_key: Some("very-secret".into()),
            ..S3Config::default()
        };
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
