//! Test support (feature `testing`): what tests of FCM service-account auth need.

/// A fresh 2048-bit RSA private key as PKCS#8 PEM (the form Google issues in service-account
/// files), made by the `openssl` command line so no key is committed. Panics when openssl
/// fails: tests only.
pub fn rsa_private_key_pem() -> String {
    let dir = tempfile::tempdir().expect("a temporary dir");
    let pem = dir.path().join("key.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(made.success(), "openssl makes the test key");
    std::fs::read_to_string(&pem).expect("the key file")
}
