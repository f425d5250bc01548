//! Test support: a real S3-compatible server (PyPI `moto[server]`) on a free local port, and an
//! independent S3 client (boto3, from the same venv) to look at what the server holds.
//!
//! `scripts/moto-venv.sh` installs both into a venv cached under
//! `${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}`. Every failure — the install, the
//! server not starting — is an error, so a test using this fails instead of skipping.

use std::io;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long moto may take to accept connections (Python imports are slow on a cold cache).
pub const MOTO_START_TIMEOUT_MS: u64 = 60_000;
/// Credentials moto accepts (it checks none); tests export them as `AWS_*` too.
pub const MOTO_ACCESS_KEY_ID: &str = "bankflow-test";
/// See [`MOTO_ACCESS_KEY_ID`].
pub const MOTO_SECRET_ACCESS_KEY: &str = "bankflow-test-secret";
/// Region the tests use.
pub const MOTO_REGION: &str = "us-east-1";

/// A running moto server; killed (by its process id) and waited for on drop.
pub struct MotoServer {
    child: Child,
    port: u16,
    python: PathBuf,
    log: PathBuf,
}

impl MotoServer {
    /// Installs moto when needed, starts it on a free port and waits until it answers.
    pub fn start() -> io::Result<MotoServer> {
        let python = install()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::env::temp_dir().join(format!("bankflow-moto-{port}.log"));
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let mut server = MotoServer {
            child,
            port,
            python,
            log,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_millis(MOTO_START_TIMEOUT_MS);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "moto exited ({status}):\n{}",
                    self.log_text()
                )));
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(io::Error::other(format!(
            "moto did not listen within {MOTO_START_TIMEOUT_MS} ms:\n{}",
            self.log_text()
        )))
    }

    /// What moto wrote to stderr.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A `s3://` URL for `bucket` on this server (what `--documents-url` takes).
    pub fn documents_url(&self, bucket: &str) -> String {
        format!(
            "s3://{bucket}?endpoint={}&region={MOTO_REGION}&allow_http=true",
            self.endpoint()
        )
    }

    /// Creates `bucket` with boto3.
    pub fn create_bucket(&self, bucket: &str) -> io::Result<()> {
        self.boto3("s3.create_bucket(Bucket=sys.argv[1])", &[bucket], None)
            .map(drop)
    }

    /// Every object in `bucket` as (key, bytes), read with boto3 (not with our adapter).
    pub fn objects(&self, bucket: &str) -> io::Result<Vec<(String, Vec<u8>)>> {
        let out = self.boto3(
            "for o in s3.list_objects_v2(Bucket=sys.argv[1]).get('Contents', []):\n    \
             body = s3.get_object(Bucket=sys.argv[1], Key=o['Key'])['Body'].read()\n    \
             print(o['Key'] + '\\t' + body.hex())",
            &[bucket],
            None,
        )?;
        out.lines()
            .map(|line| {
                let (key, hex) = line
                    .split_once('\t')
                    .ok_or_else(|| io::Error::other(format!("boto3 printed {line:?}")))?;
                let bytes =
                    hex::decode(hex).map_err(|e| io::Error::other(format!("boto3 hex: {e}")))?;
                Ok((key.to_string(), bytes))
            })
            .collect()
    }

    /// Overwrites `key` in `bucket` with `bytes` behind our adapter's back (boto3).
    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) -> io::Result<()> {
        self.boto3(
            "s3.put_object(Bucket=sys.argv[1], Key=sys.argv[2], Body=bytes.fromhex(sys.stdin.read()))",
            &[bucket, key],
            Some(&hex::encode(bytes)),
        )
        .map(drop)
    }

    /// Runs `body` with `s3` a boto3 client of this server; its stdout.
    fn boto3(&self, body: &str, args: &[&str], stdin: Option<&str>) -> io::Result<String> {
        let script = format!(
            "import sys, boto3\ns3 = boto3.client('s3', endpoint_url='{}', region_name='{MOTO_REGION}', \
             aws_access_key_id='{MOTO_ACCESS_KEY_ID}', aws_secret_access_key='{MOTO_SECRET_ACCESS_KEY}')\n{body}\n",
            self.endpoint()
        );
        let mut child = Command::new(&self.python)
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .ok_or_else(|| io::Error::other("no stdin"))?
                .write_all(input.as_bytes())?;
        }
        drop(child.stdin.take());
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "boto3 failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Runs the install script; the venv's python.
fn install() -> io::Result<PathBuf> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/moto-venv.sh");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{script} failed ({}): moto[server] could not be installed",
            out.status
        )));
    }
    let python = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !python.exists() {
        return Err(io::Error::other(format!(
            "{script} printed no python: {python:?}"
        )));
    }
    Ok(python)
}
