//! `bankflow doctor` and `--config FILE`.

use std::process::Command;

use crate::write;

/// Keys given from outside the data dir, as an operator's secret store would.
const KEYS_FROM_ENV: [(&str, &str); 2] = [
    (
        "BANKFLOW_DATA_KEY",
        "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
    ),
    (
        "BANKFLOW_JWT_SECRET",
        "a-signing-secret-of-at-least-32-bytes!!",
    ),
];

/// `bankflow doctor args` with no keys in the environment.
fn doctor(args: &[&str]) -> (bool, String) {
    doctor_with(args, &[])
}

/// `bankflow doctor args` with exactly `env` as its key settings: success and stdout+stderr.
fn doctor_with(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bankflow"))
        .arg("doctor")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("BANKFLOW_DATA_KEY")
        .env_remove("BANKFLOW_JWT_SECRET")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn doctor_names_what_is_wrong_in_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("bankflow.toml");
    write(&config, &format!(
        "data_dir = \"{}\"\ntls_cert = \"{}/missing.pem\"\ntls_key = \"{}/missing.key\"\notlp_endpoint = \"http://127.0.0.1:9\"\n",
        data.display(), dir.path().display(), dir.path().display()));
    let (ok, text) = doctor(&["--config", config.to_str().unwrap()]);
    assert!(!ok, "{text}");
    assert!(text.contains("FAIL database: no SQLite database"), "{text}");
    assert!(
        text.contains("FAIL tls:") && text.contains("missing.pem"),
        "{text}"
    );
    assert!(text.contains("FAIL otlp:"), "{text}");

    // After `migrate` the database is current; keys generated beside it are a failure.
    let status = Command::new(env!("CARGO_BIN_EXE_bankflow"))
        .args(["migrate", "--data-dir", data.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .status()
        .unwrap();
    assert!(status.success());
    write(&config, &format!("data_dir = \"{}\"\n", data.display()));
    write(&data.join("data_key"), &"ab".repeat(32));
    let (ok, text) = doctor(&["--config", config.to_str().unwrap()]);
    assert!(text.contains("ok   database: SQLite reachable"), "{text}");
    assert!(text.contains("ok   migrations: all"), "{text}");
    assert!(
        text.contains("FAIL data_key:") && text.contains("beside the database"),
        "{text}"
    );
    assert!(!ok);

    // With the keys in the environment, everything passes.
    let (ok, text) = doctor_with(&["--config", config.to_str().unwrap()], &KEYS_FROM_ENV);
    assert!(ok, "{text}");
}

#[test]
fn a_config_file_with_a_secret_or_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    write(
        &config,
        "jwt_secret = \"do-not-put-me-here-0123456789abcdef\"\n",
    );
    let (ok, text) = doctor(&["--config", config.to_str().unwrap()]);
    assert!(!ok);
    assert!(text.contains("is a secret"), "{text}");
    assert!(!text.contains("do-not-put-me-here"), "{text}");
    write(&config, "bnid = \"0.0.0.0:1\"\n");
    let (ok, text) = doctor(&["--config", config.to_str().unwrap()]);
    assert!(!ok && text.contains("unknown setting `bnid`"), "{text}");
}

#[test]
fn finding_7_a_key_generated_into_the_data_dir_fails_doctor_and_serve_warns() {
    // First start without keys: serve still generates them (development), but says so.
    let mut server = crate::Server::start(&["--database-url", "memory:"], &[]);
    server.stop();
    let log = server.log_text();
    assert!(
        log.contains("SECURITY: the data key is a file in the data dir")
            && log.contains("SECURITY: the JWT secret is a file in the data dir"),
        "{log}"
    );
    let data = server.dir.path().join("data");
    assert!(data.join("data_key").exists());

    // The database lives elsewhere, yet the data dir (documents, key) is one backup.
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        "memory:",
    ];
    let (ok, text) = doctor(&args);
    assert!(!ok, "{text}");
    assert!(
        text.contains("FAIL data_key:") && text.contains("one backup holds both"),
        "{text}"
    );
    assert!(text.contains("FAIL jwt_secret:"), "{text}");

    // Given from outside the data dir, the keys pass.
    let (ok, text) = doctor_with(&args, &KEYS_FROM_ENV);
    assert!(ok, "{text}");
    assert!(
        text.contains("ok   data_key: given") && text.contains("ok   jwt_secret: given"),
        "{text}"
    );
}

#[test]
fn finding_8_an_audit_anchor_in_the_data_dir_is_warned_of() {
    let mut server = crate::Server::start(&["--database-url", "memory:"], &[]);
    server.stop();
    let log = server.log_text();
    assert!(
        log.contains("SECURITY: the audit anchor is a file in the data dir"),
        "{log}"
    );
    let data = server.dir.path().join("data");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        "memory:",
    ];
    let (ok, text) = doctor_with(&args, &KEYS_FROM_ENV);
    assert!(ok, "a warning, not a failure: {text}");
    assert!(text.contains("WARN audit_anchor:"), "{text}");

    // On another volume (here: beside the data dir, not in it) it passes.
    let elsewhere = server.dir.path().join("audit-anchor.json");
    let mut args = args.to_vec();
    args.extend(["--audit-anchor-file", elsewhere.to_str().unwrap()]);
    let (ok, text) = doctor_with(&args, &KEYS_FROM_ENV);
    assert!(ok, "{text}");
    assert!(text.contains("ok   audit_anchor:"), "{text}");
}
