//! A real SMTP server for tests: PyPI's aiosmtpd (`tests/smtp_server.py`), installed into a
//! venv cached under `${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}` by
//! `scripts/aiosmtpd-venv.sh`. Starting fails loudly (never skips) when the server cannot run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// How the test server behaves.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Answer every DATA with this reply (e.g. `451 4.3.0 try again later`).
    pub refuse: Option<String>,
    /// Require AUTH with this login and password.
    pub login: Option<(String, String)>,
    /// `starttls` or `implicit`, with the PEM certificate and key files.
    pub tls: Option<(&'static str, PathBuf, PathBuf)>,
}

/// One message the server accepted, as Python's `email` package parsed it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The raw message as it came over the wire.
    pub raw: Vec<u8>,
    /// Envelope, decoded headers and bodies (`subject`, `from`, `to`, `content_type`,
    /// `text`, `html`, `mail_from`, `rcpt_tos`, `login`, `tls`).
    pub meta: serde_json::Value,
}

impl ReceivedMail {
    /// A string field of [`ReceivedMail::meta`] ("" when absent).
    pub fn field(&self, name: &str) -> &str {
        self.meta[name].as_str().unwrap_or_default()
    }
}

/// A running aiosmtpd; stopped when dropped.
pub struct SmtpTestServer {
    child: Child,
    // Held open: the server stops when its standard input closes.
    _stdin: Option<ChildStdin>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    out: PathBuf,
}

fn python() -> Result<String, String> {
    let script = Path::new(CRATE_DIR).join("scripts/aiosmtpd-venv.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): aiosmtpd could not be installed",
            script.display(),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl SmtpTestServer {
    /// Installs (once) and starts the server, writing accepted mail under `out`.
    pub fn start(config: &ServerConfig, out: &Path) -> Result<SmtpTestServer, String> {
        std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(python()?);
        cmd.arg(Path::new(CRATE_DIR).join("tests/smtp_server.py"))
            .arg("--out")
            .arg(out);
        if let Some(r) = &config.refuse {
            cmd.arg("--refuse").arg(r);
        }
        if let Some((user, password)) = &config.login {
            cmd.arg("--user").arg(user).arg("--password").arg(password);
        }
        if let Some((mode, cert, key)) = &config.tls {
            cmd.arg("--tls")
                .arg(mode)
                .arg("--cert")
                .arg(cert)
                .arg("--key")
                .arg(key);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting aiosmtpd: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("aiosmtpd did not start (said {line:?})"))?;
        Ok(SmtpTestServer {
            child,
            _stdin: stdin,
            port,
            out: out.to_path_buf(),
        })
    }

    /// Every message accepted so far, in arrival order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut out = Vec::new();
        for n in 1.. {
            let base = self.out.join(n.to_string());
            let Ok(raw) = std::fs::read(base.with_extension("eml")) else {
                break;
            };
            let meta = std::fs::read(base.with_extension("json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            out.push(ReceivedMail { raw, meta });
        }
        out
    }

    /// Waits up to `timeout` for at least `n` messages.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > timeout {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpTestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
