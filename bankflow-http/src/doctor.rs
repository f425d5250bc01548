//! `bankflow doctor`: checks a configuration (the same flags, environment and `--config` as
//! `bankflow serve`) without changing anything, and prints one line per check. Exits non-zero
//! when any check fails.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};

use crate::serve::{sqlite_path, CliError, ServeArgs};

/// Longest wait for the database or an adapter to answer.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Fine.
    Ok,
    /// Works, but should change before production.
    Warn,
    /// `serve` would fail or misbehave.
    Fail,
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Outcome.
    pub level: Level,
    /// What was checked (`database`, `migrations`, `data_key`, …).
    pub what: &'static str,
    /// What was found, and for failures what to do.
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        write!(f, "{tag} {}: {}", self.what, self.detail)
    }
}

fn finding(level: Level, what: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        level,
        what,
        detail: detail.into(),
    }
}

/// `bankflow doctor`.
pub async fn run(args: &ServeArgs) -> Result<(), CliError> {
    let findings = check(args).await;
    for f in &findings {
        println!("{f}");
    }
    let failed = findings.iter().filter(|f| f.level == Level::Fail).count();
    if failed > 0 {
        return Err(format!("{failed} check(s) failed").into());
    }
    Ok(())
}

/// Every check, in order.
pub async fn check(args: &ServeArgs) -> Vec<Finding> {
    let mut out = database(args).await;
    out.push(key_file(
        "data_key",
        crate::serve::data_key_given(args),
        args.data_key_file
            .as_deref()
            .unwrap_or(&args.store.data_dir.join(crate::adapters::DATA_KEY_FILE)),
    ));
    out.push(key_file(
        "jwt_secret",
        args.jwt_secret.is_some(),
        &args.store.data_dir.join(crate::jwt::SECRET_FILE),
    ));
    if let Some(f) = tls(args).await {
        out.push(f);
    }
    if let Some(f) = otlp(args).await {
        out.push(f);
    }
    out.push(data_dir(args));
    out.push(audit_anchor(args));
    out
}

/// The audit anchor should not travel with the database: in the data dir, one backup (or
/// one insider) rolls back both, and truncating the audit log goes unnoticed (finding 8).
fn audit_anchor(args: &ServeArgs) -> Finding {
    let file = crate::serve::audit_anchor_path(args);
    if crate::adapters::inside(&file, &args.store.data_dir) {
        return finding(
            Level::Warn,
            "audit_anchor",
            format!(
                "{} lies in the data dir beside the database (one backup holds both): pass --audit-anchor-file on another volume",
                file.display()
            ),
        );
    }
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() && !m.permissions().readonly() => finding(
            Level::Ok,
            "audit_anchor",
            format!("{} (outside the data dir)", file.display()),
        ),
        _ => finding(
            Level::Fail,
            "audit_anchor",
            format!("{} is not a writable directory", dir.display()),
        ),
    }
}

fn database_url(args: &ServeArgs) -> Option<&str> {
    args.store
        .database_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Versions the store's migrator recorded as applied (same table in both stores).
const APPLIED_SQL: &str = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";

/// Connects with `$opts` and reads the applied versions, within `$timeout`. A macro because
/// sqlx's executor bounds do not name well over both drivers.
macro_rules! applied_versions {
    ($opts:expr, $timeout:expr) => {
        tokio::time::timeout($timeout, async {
            let mut c = $opts.connect().await?;
            let v: Result<Vec<(i64,)>, _> = sqlx::query_as(APPLIED_SQL).fetch_all(&mut c).await;
            let _ = c.close().await;
            v.map(|rows| rows.into_iter().map(|r| r.0).collect::<Vec<i64>>())
        })
        .await
    };
}

/// The SQLite database file, when the store is SQLite.
fn sqlite_file(args: &ServeArgs) -> Option<String> {
    let url = match database_url(args) {
        None => return Some(sqlite_path(&args.store.data_dir).display().to_string()),
        Some(u) if is_postgres(u) || u == "memory:" => return None,
        Some(u) => u,
    };
    let path = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Some(path.split('?').next().unwrap_or(path).to_string())
}

async fn database(args: &ServeArgs) -> Vec<Finding> {
    let timeout = Duration::from_millis(CONNECT_TIMEOUT_MS);
    match database_url(args) {
        Some("memory:") => vec![finding(
            Level::Warn,
            "database",
            "in memory: nothing persists",
        )],
        Some(u) if is_postgres(u) => {
            let Ok(opts) = u.parse::<sqlx::postgres::PgConnectOptions>() else {
                return vec![finding(
                    Level::Fail,
                    "database",
                    "DATABASE_URL is not a valid postgres URL",
                )];
            };
            let applied = applied_versions!(opts, timeout);
            versions_findings("PostgreSQL", applied, &bankflow_store_postgres::MIGRATOR)
        }
        _ => {
            let Some(file) = sqlite_file(args) else {
                return Vec::new();
            };
            let file = file.as_str();
            if !Path::new(file).exists() {
                return vec![finding(
                    Level::Fail,
                    "database",
                    format!("no SQLite database at {file}: run `bankflow migrate`"),
                )];
            }
            let opts = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(file)
                .read_only(true);
            let applied = applied_versions!(opts, timeout);
            versions_findings("SQLite", applied, &bankflow_store_sqlite::MIGRATOR)
        }
    }
}

fn versions_findings(
    kind: &str,
    applied: Result<Result<Vec<i64>, sqlx::Error>, tokio::time::error::Elapsed>,
    migrator: &sqlx::migrate::Migrator,
) -> Vec<Finding> {
    let applied = match applied {
        Err(_) => {
            return vec![finding(
                Level::Fail,
                "database",
                format!("{kind} did not answer within {CONNECT_TIMEOUT_MS} ms"),
            )]
        }
        Ok(Err(sqlx::Error::Database(e))) if e.message().contains("_sqlx_migrations") => Vec::new(),
        Ok(Err(e)) => {
            return vec![finding(
                Level::Fail,
                "database",
                format!("{kind} unreachable: {e}"),
            )]
        }
        Ok(Ok(v)) => v,
    };
    let mut out = vec![finding(Level::Ok, "database", format!("{kind} reachable"))];
    let wanted: Vec<i64> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    let pending = wanted.iter().filter(|v| !applied.contains(v)).count();
    let unknown = applied.iter().filter(|v| !wanted.contains(v)).count();
    out.push(match (pending, unknown) {
        (0, 0) => finding(Level::Ok, "migrations", format!("all {} applied", wanted.len())),
        (0, n) => finding(Level::Fail, "migrations", format!("{n} applied migration(s) unknown to this build: the database is newer than this binary")),
        (n, _) => finding(Level::Fail, "migrations", format!("{n} of {} pending: run `bankflow migrate`", wanted.len())),
    });
    out
}

/// A key from the environment (or a flag) is fine. A key file in the data dir fails: that
/// directory holds the SQLite database and the documents the key seals, so one backup or
/// copy of it carries both the ciphertext and the key that opens it (finding 7).
fn key_file(what: &'static str, given: bool, file: &Path) -> Finding {
    if given {
        return finding(Level::Ok, what, "given in the environment (or a flag)");
    }
    if !file.exists() {
        return finding(
            Level::Warn,
            what,
            format!(
                "absent: serve will generate one into {} (development only)",
                file.display()
            ),
        );
    }
    finding(
        Level::Fail,
        what,
        format!(
            "{} lies in the data dir beside the database and documents (one backup holds both): pass it in the environment from a secret store instead",
            file.display()
        ),
    )
}

async fn tls(args: &ServeArgs) -> Option<Finding> {
    let (cert, key) = (args.tls_cert.as_ref()?, args.tls_key.as_ref()?);
    Some(match crate::tls::load(cert, key).await {
        Ok(_) => finding(
            Level::Ok,
            "tls",
            format!("certificate {} and key readable", cert.display()),
        ),
        Err(e) => finding(Level::Fail, "tls", e.to_string()),
    })
}

/// The OTLP collector accepts a TCP connection (an HTTP check would export a span).
async fn otlp(args: &ServeArgs) -> Option<Finding> {
    let url = args.otlp_endpoint.as_deref()?.trim();
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest).to_string();
    let target = if authority.contains(':') {
        authority
    } else {
        format!("{authority}:4318")
    };
    let connect = tokio::net::TcpStream::connect(target.clone());
    Some(
        match tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), connect).await {
            Ok(Ok(_)) => finding(
                Level::Ok,
                "otlp",
                format!("collector at {target} accepts connections"),
            ),
            Ok(Err(e)) => finding(
                Level::Fail,
                "otlp",
                format!("collector at {target} unreachable: {e}"),
            ),
            Err(_) => finding(
                Level::Fail,
                "otlp",
                format!("collector at {target} did not answer"),
            ),
        },
    )
}

/// The filesystem adapters (documents, mail drop) live in the data dir.
fn data_dir(args: &ServeArgs) -> Finding {
    let d = &args.store.data_dir;
    match std::fs::metadata(d) {
        Ok(m) if m.is_dir() && !m.permissions().readonly() => finding(
            Level::Ok,
            "data_dir",
            format!("{} writable (documents, mail drop)", d.display()),
        ),
        Ok(_) => finding(
            Level::Fail,
            "data_dir",
            format!("{} is not a writable directory", d.display()),
        ),
        Err(_) => finding(
            Level::Warn,
            "data_dir",
            format!("{} absent: serve creates it (mode 0700)", d.display()),
        ),
    }
}
