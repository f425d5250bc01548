//! `--config FILE`: a TOML file of `bankflow serve` settings, beside flags and environment.
//!
//! Precedence: flags, then environment, then the file, then defaults. Keys are the long flag
//! names with `_` for `-` (`bind`, `database_url`, `tls_cert`, …), so the flag list in clap is
//! the only list of settings. Loading happens before the runtime starts: each file value whose
//! environment variable is unset becomes that variable, and clap resolves the rest as usual.
//! Secrets (flags whose env values clap hides) are refused in the file: they belong in the
//! environment or a secret store, never in a plain-text file beside the configuration.

use std::path::Path;

use clap::CommandFactory;

use crate::serve::Cli;

/// Largest configuration file read.
pub const CONFIG_BYTES_MAX: u64 = 64 * 1024;

/// The `--config` value in `argv`, if any (`--config FILE` or `--config=FILE`); also
/// `BANKFLOW_CONFIG` when the flag is absent.
pub fn config_path(argv: &[String]) -> Option<String> {
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(v.to_string());
        }
    }
    std::env::var("BANKFLOW_CONFIG")
        .ok()
        .filter(|v| !v.is_empty())
}

/// (environment variable, value) pairs the file sets, or what is wrong with it.
pub fn env_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("not valid TOML: {e}"))?;
    let cmd = Cli::command();
    let serve = cmd
        .find_subcommand("serve")
        .ok_or("internal: no serve subcommand")?;
    let mut pairs = Vec::with_capacity(table.len());
    for (key, value) in &table {
        let long = key.replace('_', "-");
        let arg = serve
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()))
            .ok_or_else(|| format!("unknown setting `{key}`"))?;
        if arg.is_hide_env_values_set() {
            return Err(format!(
                "`{key}` is a secret: pass it in the environment or from a secret store, not in a file"
            ));
        }
        let env = arg
            .get_env()
            .and_then(|e| e.to_str())
            .ok_or_else(|| format!("`{key}` cannot be set from a file"))?;
        pairs.push((env.to_string(), scalar(key, value)?));
    }
    Ok(pairs)
}

fn scalar(key: &str, value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        // Lists (cors_origins) are comma-separated, as in the environment.
        toml::Value::Array(items) => items
            .iter()
            .map(|v| scalar(key, v))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        _ => Err(format!(
            "`{key}`: expected a string, integer, boolean or list"
        )),
    }
}

/// Reads the file and exports its settings. Call before any thread starts: it sets
/// environment variables.
pub fn load(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let len = std::fs::metadata(path)
        .map_err(|e| format!("config {shown}: {e}"))?
        .len();
    if len > CONFIG_BYTES_MAX {
        return Err(format!(
            "config {shown}: larger than {CONFIG_BYTES_MAX} bytes"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("config {shown}: {e}"))?;
    for (env, value) in env_pairs(&text).map_err(|e| format!("config {shown}: {e}"))? {
        if std::env::var_os(&env).is_none() {
            std::env::set_var(env, value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_the_flags_environment_variables() {
        let pairs = env_pairs(
            "bind = \"0.0.0.0:9000\"\nrate_limit_per_min = 50\ncors_origins = [\"https://a\", \"https://b\"]\nlog_format = \"json\"",
        )
        .unwrap();
        assert!(pairs.contains(&("BANKFLOW_BIND".into(), "0.0.0.0:9000".into())));
        assert!(pairs.contains(&("BANKFLOW_RATE_LIMIT_PER_MIN".into(), "50".into())));
        assert!(pairs.contains(&("BANKFLOW_CORS_ORIGINS".into(), "https://a,https://b".into())));
        assert!(pairs.contains(&("BANKFLOW_LOG_FORMAT".into(), "json".into())));
    }

    #[test]
    fn unknown_keys_secrets_and_bad_toml_are_refused() {
        assert!(env_pairs("bnid = \"x\"")
            .unwrap_err()
            .contains("unknown setting `bnid`"));
        assert!(env_pairs("jwt_secret = \"x\"")
            .unwrap_err()
            .contains("secret"));
        assert!(env_pairs("bind = ").unwrap_err().contains("TOML"));
        assert!(env_pairs("bind = { a = 1 }").is_err());
    }

    #[test]
    fn the_path_comes_from_the_flag() {
        let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            config_path(&argv(&["bankflow", "serve", "--config", "a.toml"])).as_deref(),
            Some("a.toml")
        );
        assert_eq!(
            config_path(&argv(&["bankflow", "serve", "--config=b.toml"])).as_deref(),
            Some("b.toml")
        );
    }

    #[test]
    fn smtp_and_shared_limit_settings_come_from_the_file_but_not_their_secrets() {
        let pairs = env_pairs(
            "smtp_host = \"smtp.example.com\"\nsmtp_tls = \"implicit\"\nsmtp_from = \"a@b.example\"\nmail_drop = true\nrate_limit_redis_fail = \"open\"",
        )
        .unwrap();
        assert!(pairs.contains(&("BANKFLOW_SMTP_HOST".into(), "smtp.example.com".into())));
        assert!(pairs.contains(&("BANKFLOW_SMTP_TLS".into(), "implicit".into())));
        assert!(pairs.contains(&("BANKFLOW_MAIL_DROP".into(), "true".into())));
        assert!(pairs.contains(&("BANKFLOW_RATE_LIMIT_REDIS_FAIL".into(), "open".into())));
        // A password, or a Redis URL that may hold one, belongs in the environment.
        assert!(env_pairs("smtp_password = \"x\"")
            .unwrap_err()
            .contains("secret"));
        assert!(env_pairs("rate_limit_redis = \"redis://:p@h\"")
            .unwrap_err()
            .contains("secret"));
    }

    #[test]
    fn finding_11_trusted_proxies_come_from_the_file_as_a_list() {
        let pairs = env_pairs("trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\"]").unwrap();
        assert!(pairs.contains(&(
            "BANKFLOW_TRUSTED_PROXIES".into(),
            "10.0.0.0/8,fd00::/8".into()
        )));
    }
}
