//! HTTPS for `bankflow serve`: rustls (ring provider) through axum-server, with the certificate
//! and key re-read on SIGHUP so a renewed certificate needs no restart.

use std::path::{Path, PathBuf};

use axum_server::tls_rustls::RustlsConfig;

use crate::serve::CliError;

/// `Strict-Transport-Security` sent when TLS is on: one year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// rustls needs one process-wide crypto provider; ring is the only one compiled in, but
/// installing it explicitly keeps that true if a dependency ever enables another.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads the PEM certificate chain and private key.
pub async fn load(cert: &Path, key: &Path) -> Result<RustlsConfig, CliError> {
    install_crypto_provider();
    RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        format!(
            "TLS certificate {} / key {}: {e}",
            cert.display(),
            key.display()
        )
        .into()
    })
}

/// Re-reads the files on each SIGHUP; a bad new pair keeps the old one serving.
pub async fn reload_on_sighup(config: RustlsConfig, cert: PathBuf, key: PathBuf) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match config.reload_from_pem_file(&cert, &key).await {
                Ok(()) => tracing::info!("TLS certificate reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "TLS reload failed; keeping the old certificate")
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (config, cert, key);
}
