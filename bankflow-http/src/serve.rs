//! The `bankflow` command line: `serve` and `migrate`, configured by flags or `BANKFLOW_*`
//! environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bankflow_core::{Bank, MemoryStore, Store};
use bankflow_store_postgres::{PgOptions, PgStore};
use bankflow_store_sqlite::{SqliteOptions, SqliteStore};
use clap::{Args, Parser, Subcommand};
use tokio::sync::watch;

use crate::jwt::JwtKeys;
use crate::ratelimit::RateLimits;
use crate::state::{AppState, HttpConfig};
use crate::telemetry::LogFormat;

/// BankFlow reference server.
#[derive(Debug, Parser)]
#[command(
    name = "bankflow",
    version,
    about = "BankFlow banking engine: REST server and tools"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, Swagger UI, metrics and the web app.
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(StoreArgs),
    /// Check a configuration (the same flags, env and --config as serve) and print what is wrong.
    Doctor(ServeArgs),
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the SQLite database, the JWT secret and uploaded documents.
    #[arg(long, env = "BANKFLOW_DATA_DIR", default_value = "./bankflow-data")]
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; `memory:` an in-memory store (nothing persists);
    /// `sqlite:…` or a path selects SQLite; unset: SQLite in the data dir.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

/// `bankflow serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Store settings.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "BANKFLOW_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Built web app to serve at `/` (default: frontend/dist when it exists).
    #[arg(long, env = "BANKFLOW_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
    /// Comma-separated origins allowed by CORS (default: none, same-origin only).
    #[arg(long, env = "BANKFLOW_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Days published outbox events, expired idempotency records and finished notifications
    /// are kept before the worker's retention pass removes them (an idempotency key always
    /// replays for at least its 30-day window).
    #[arg(long, env = "BANKFLOW_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub retention_days: u32,
    /// Staff (admin, support) must enrol TOTP at their first sign-in before any staff
    /// function works (PCI DSS v4 req. 8). `false` only for development.
    #[arg(long, env = "BANKFLOW_STAFF_MFA_REQUIRED", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub staff_mfa_required: bool,
    /// KYC submission needs the customer's verified email (finding 12). `false` only for
    /// development and test servers that capture no mail.
    #[arg(long, env = "BANKFLOW_REQUIRE_VERIFIED_EMAIL", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub require_verified_email: bool,
    /// Maker-checker: a staff member's transfer, payment, booking or reversal of more than
    /// this amount (in the movement's currency) waits for a second admin's approval. `0` holds
    /// every staff movement; there is no way to switch the control off from the server.
    #[arg(long, env = "BANKFLOW_STAFF_APPROVAL_THRESHOLD", default_value = "10000",
          value_parser = parse_threshold)]
    pub staff_approval_threshold: rust_decimal::Decimal,
    /// Requests per minute per user (per IP when anonymous).
    #[arg(long, env = "BANKFLOW_RATE_LIMIT_PER_MIN", default_value_t = 100)]
    pub rate_limit_per_min: u32,
    /// Requests per minute per IP on login/register/forgot/reset/verify/refresh.
    #[arg(long, env = "BANKFLOW_AUTH_RATE_LIMIT_PER_MIN", default_value_t = 10)]
    pub auth_rate_limit_per_min: u32,
    /// Requests per minute per service client (OAuth2 client-credentials tokens).
    #[arg(long, env = "BANKFLOW_CLIENT_RATE_LIMIT_PER_MIN",
          default_value_t = crate::state::CLIENT_RATE_LIMIT_PER_MIN_DEFAULT)]
    pub client_rate_limit_per_min: u32,
    /// Comma-separated CIDR ranges of reverse proxies whose `X-Forwarded-For` names the client
    /// (rate limits, audit IP); from any other peer the header is ignored. Default: none.
    #[arg(long, env = "BANKFLOW_TRUSTED_PROXIES", value_delimiter = ',', value_name = "CIDR",
          value_parser = crate::ratelimit::parse_proxy_range)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// HS256 signing secret (≥ 32 bytes); default: generated once and kept in the data dir.
    #[arg(long, env = "BANKFLOW_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Email of the admin created on first start when no admin exists.
    #[arg(long, env = "BANKFLOW_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of that admin.
    #[arg(long, env = "BANKFLOW_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// AES-256 key (64 hex digits) sealing SSNs at rest; default: generated once in the data dir.
    #[arg(long, env = "BANKFLOW_DATA_KEY", hide_env_values = true)]
    pub data_key: Option<String>,
    /// Key ring file (outside the data dir, mode 0600): one `KEY_ID HEX64` per line, the first
    /// the current key, the others retired keys that still open old data. After a rotation
    /// (a new first line) the server re-seals everything under the new key in the background.
    #[arg(long, env = "BANKFLOW_DATA_KEY_FILE", conflicts_with = "data_key")]
    pub data_key_file: Option<PathBuf>,
    /// File keeping the signed checkpoint of the audit chain head, against which deleting
    /// the newest audit entries is detected; default: `audit-anchor.json` in the data dir.
    /// Keep it on another volume, outside the database's backups.
    #[arg(long, env = "BANKFLOW_AUDIT_ANCHOR_FILE")]
    pub audit_anchor_file: Option<PathBuf>,
    /// TOML file of these settings (keys are the flag names with `_`); flags and env win.
    #[arg(long, env = "BANKFLOW_CONFIG")]
    pub config: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS only (with HSTS). Reloaded on SIGHUP.
    #[arg(long, env = "BANKFLOW_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "BANKFLOW_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Log lines as text or one JSON object per line.
    #[arg(long, env = "BANKFLOW_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// OTLP/HTTP endpoint (e.g. http://collector:4318): export traces there.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Bearer token /metrics requires (default: none).
    #[arg(long, env = "BANKFLOW_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve /metrics on this separate (plain HTTP) address only, not on --bind.
    #[arg(long, env = "BANKFLOW_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Where KYC documents are kept (files in the data dir, or S3).
    #[command(flatten)]
    pub documents: crate::document_store::DocumentArgs,
    /// Kafka: the outbox relay also publishes every event there.
    #[command(flatten)]
    pub kafka: crate::kafka::KafkaArgs,
    /// Message channels: SMTP, the development mail drop.
    #[command(flatten)]
    pub notify: crate::notifiers::NotifyArgs,
    /// Rate-limit budgets shared by several processes in Redis.
    #[command(flatten)]
    pub shared_limits: crate::ratelimit_redis::SharedLimitArgs,
    /// Outgoing webhooks: retries and concurrency.
    #[command(flatten)]
    pub webhooks: crate::webhook_transport::WebhookArgs,
}

/// Boxed error for the binary's top level.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the configured store and brings its schema up to date: PostgreSQL for a
/// `postgres://` URL, an in-memory store for `memory:` (nothing persists; demos and load
/// tests), otherwise SQLite (the URL or path given, or `bankflow.db` in the data dir).
pub async fn open_store(args: &StoreArgs) -> Result<Arc<dyn Store>, CliError> {
    let url = args
        .database_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    Ok(match url {
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            tracing::info!("store: PostgreSQL");
            Arc::new(PgStore::connect(u, PgOptions::default()).await?)
        }
        Some("memory:") => {
            tracing::warn!("store: in memory; nothing is kept after the process ends");
            Arc::new(MemoryStore::new())
        }
        Some(u) => {
            tracing::info!("store: SQLite");
            Arc::new(SqliteStore::open(u, SqliteOptions::default()).await?)
        }
        None => {
            create_private_dir(&args.data_dir)?;
            let path = sqlite_path(&args.data_dir);
            let path = path
                .to_str()
                .ok_or("the data dir path is not valid UTF-8")?;
            tracing::info!(path, "store: SQLite");
            Arc::new(SqliteStore::open(path, SqliteOptions::default()).await?)
        }
    })
}

/// Creates the data dir readable by its owner only: it holds the database, the signing
/// secret, the data key, documents and the mail drop.
/// An existing directory keeps the permissions its owner chose.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A key kept as a file in the data dir (generated there on first start, for development)
/// sits beside the database and documents it protects: one backup holds both (finding 7).
/// Only the path is logged, never the key.
fn warn_of_keys_in_data_dir(args: &ServeArgs) {
    let keys = [
        (
            "data key",
            data_key_given(args),
            crate::adapters::DATA_KEY_FILE,
        ),
        (
            "JWT secret",
            args.jwt_secret.is_some(),
            crate::jwt::SECRET_FILE,
        ),
    ];
    for (what, given, file_name) in keys {
        if given {
            continue;
        }
        let file = args.store.data_dir.join(file_name);
        tracing::warn!(
            file = %file.display(),
            "SECURITY: the {what} is a file in the data dir, beside the database and documents: \
             one backup holds both; for production pass it in the environment from a secret \
             store (`bankflow doctor` fails this check)"
        );
    }
}

/// True when the data key comes from the environment, or from a key file outside the data dir
/// (a key file inside it is as bad as the generated one).
pub fn data_key_given(args: &ServeArgs) -> bool {
    args.data_key.is_some()
        || args
            .data_key_file
            .as_deref()
            .is_some_and(|f| !crate::adapters::inside(f, &args.store.data_dir))
}

/// The audit anchor's file: `--audit-anchor-file`, else `audit-anchor.json` in the data dir.
pub fn audit_anchor_path(args: &ServeArgs) -> PathBuf {
    args.audit_anchor_file.clone().unwrap_or_else(|| {
        args.store
            .data_dir
            .join(crate::audit_anchor::AUDIT_ANCHOR_FILE)
    })
}

/// An anchor in the data dir travels with the database in every backup: restoring an old
/// backup of both (or truncating both) goes unnoticed (finding 8).
fn warn_of_anchor_in_data_dir(args: &ServeArgs) {
    let file = audit_anchor_path(args);
    if crate::adapters::inside(&file, &args.store.data_dir) {
        tracing::warn!(
            file = %file.display(),
            "SECURITY: the audit anchor is a file in the data dir, beside the database: one \
             backup holds both, and whoever can roll back the database can roll it back too; \
             pass --audit-anchor-file on another volume (`bankflow doctor` warns of this)"
        );
    }
}

/// The default SQLite database file in the data dir.
pub fn sqlite_path(data_dir: &Path) -> PathBuf {
    data_dir.join("bankflow.db")
}

/// `bankflow migrate`.
pub async fn migrate(args: StoreArgs) -> Result<(), CliError> {
    open_store(&args).await?;
    tracing::info!("schema is up to date");
    Ok(())
}

/// A non-negative decimal amount (never a float).
fn parse_threshold(s: &str) -> Result<rust_decimal::Decimal, String> {
    match s.trim().parse::<rust_decimal::Decimal>() {
        Ok(d) if !d.is_sign_negative() => Ok(d),
        _ => Err("a non-negative decimal amount, e.g. 10000 or 2500.50".into()),
    }
}

/// `bankflow serve`: runs until ctrl-c or SIGTERM, then drains in-flight requests.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let store = open_store(&args.store).await?;
    let dir = &args.store.data_dir;
    create_private_dir(dir)?;
    let keys = crate::adapters::load_or_create_keys(
        args.data_key.as_deref(),
        args.data_key_file.as_deref(),
        dir,
    )?;
    let rotated = keys.retired_key_count() > 0;
    warn_of_keys_in_data_dir(&args);
    warn_of_anchor_in_data_dir(&args);
    let anchor = crate::audit_anchor::FileAuditAnchor::new(audit_anchor_path(&args));
    let builder = Bank::builder(store)
        .runtime(Arc::new(bankflow_core::TokioRuntime))
        .config(bankflow_core::BankConfig {
            retention: chrono::Duration::days(i64::from(args.retention_days)),
            staff_mfa_required: args.staff_mfa_required,
            require_verified_email: args.require_verified_email,
            staff_approval_threshold: Some(args.staff_approval_threshold),
            ..bankflow_core::BankConfig::default()
        })
        .keys(Arc::new(keys))
        .audit_anchor(Arc::new(anchor))
        .documents(args.documents.store(dir)?)
        .notifier(args.notify.notifier(dir)?);
    let jwt = JwtKeys::load_or_create(args.jwt_secret.as_deref(), &args.store.data_dir)?;
    let static_dir = args.static_dir.clone().or_else(|| {
        let d = PathBuf::from("frontend/dist");
        d.join("index.html").exists().then_some(d)
    });
    let rate_limits = RateLimits {
        general_per_min: args.rate_limit_per_min,
        auth_per_min: args.auth_rate_limit_per_min,
    };
    let shared_limiter = args.shared_limits.limiter(rate_limits)?;
    let config = HttpConfig {
        rate_limits,
        cors_origins: args.cors_origins.clone(),
        static_dir,
        hsts: args.tls_cert.is_some(),
        metrics_token: args.metrics_token.clone(),
        metrics_elsewhere: args.metrics_bind.is_some(),
        trusted_proxies: crate::ratelimit::TrustedProxies::new(args.trusted_proxies.clone()),
        client_rate_limit_per_min: Some(args.client_rate_limit_per_min),
    };
    // Service clients' buckets are shared too (their keys, `client:<id>`, are their own).
    let shared_client_limiter = args.shared_limits.limiter(config.client_limits())?;
    let mut state = AppState::start(builder, jwt, config);
    if let Some(shared) = shared_limiter {
        state.limiter = Arc::new(crate::ratelimit::Limiter::Shared(shared));
    }
    if let Some(shared) = shared_client_limiter {
        state.client_limiter = Arc::new(crate::ratelimit::Limiter::Shared(shared));
    }
    let bank = state.bank.clone();
    if rotated {
        tokio::spawn(crate::adapters::reseal_after_rotation(bank.clone()));
    }
    crate::identity::bootstrap_admin(
        &state,
        args.admin_email.as_deref(),
        args.admin_password.as_deref(),
    )
    .await?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut relay_sinks = args.kafka.relay_sinks()?;
    // Webhook deliveries are enqueued from the relay: a batch is published only once its
    // delivery rows committed.
    relay_sinks.push(Arc::new(bankflow_core::webhook::WebhookFanout(
        bank.clone(),
    )));
    let hooks = crate::webhook_transport::WebhookWorker {
        transport: Arc::new(crate::webhook_transport::HttpTransport::new(
            args.webhooks.targets(),
        )?),
        policy: args.webhooks.policy(),
    };
    let worker = tokio::spawn(crate::worker::run(
        bank.clone(),
        relay_sinks,
        hooks,
        stop_rx,
    ));
    let metrics_server = match args.metrics_bind {
        Some(addr) => Some(spawn_metrics_listener(addr, state.clone()).await?),
        None => None,
    };
    let app = crate::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    tokio::spawn(drain_on_signal(handle.clone(), state.clone()));
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = crate::tls::load(cert, key).await?;
            tokio::spawn(crate::tls::reload_on_sighup(
                tls.clone(),
                cert.clone(),
                key.clone(),
            ));
            let server = axum_server::bind_rustls(args.bind, tls).handle(handle.clone());
            tokio::spawn(log_listening(handle.clone(), "https"));
            server.serve(app).await?;
        }
        _ => {
            let server = axum_server::bind(args.bind).handle(handle.clone());
            tokio::spawn(log_listening(handle.clone(), "http"));
            server.serve(app).await?;
        }
    }
    if let Some(m) = metrics_server {
        m.abort();
    }
    let _ = stop_tx.send(true);
    let _ = worker.await;
    tracing::info!("bankflow stopped");
    Ok(())
}

/// How long in-flight requests may take to finish after a shutdown signal.
pub const DRAIN_TIMEOUT_S: u64 = 30;

async fn drain_on_signal(handle: axum_server::Handle<SocketAddr>, state: AppState) {
    shutdown_signal().await;
    // Long-lived streams end now, so draining does not wait for them.
    state.shut_down();
    handle.graceful_shutdown(Some(std::time::Duration::from_secs(DRAIN_TIMEOUT_S)));
}

async fn log_listening(handle: axum_server::Handle<SocketAddr>, scheme: &'static str) {
    if let Some(addr) = handle.listening().await {
        tracing::info!(%addr, scheme, "bankflow listening");
    }
}

/// `/metrics` alone on its own address (for a scrape network apart from client traffic).
async fn spawn_metrics_listener(
    addr: SocketAddr,
    state: AppState,
) -> Result<tokio::task::JoinHandle<()>, CliError> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "metrics listening");
    let router = crate::metrics_router(state);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown requested; draining requests");
}
