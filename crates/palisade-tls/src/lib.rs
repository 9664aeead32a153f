//! The TLS serving pieces `palisade-admit` and `palisade-feed-server` share, so both servers
//! accept the same PEM files with the same errors and rotate certificates the same way:
//! [`server_config`] builds a rustls [`ServerConfig`] from PEM bytes (ring provider whatever
//! the process default, safe default protocol versions, no client auth, one certificate chain,
//! ALPN `h2` then `http/1.1`), and [`watch_certificates`] re-reads the files and swaps the
//! configuration in when they change, and [`serve`] is the accept loop they run their
//! router on (connection cap, handshake/first-request/header/idle timeouts, request body
//! bytes in flight, HTTP/2 limits, `TCP_NODELAY`, graceful shutdown), over TLS or plain
//! TCP. Depends on neither server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub mod serve;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// Why a certificate and key cannot be served. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {reason}", file.display())]
    Read { file: PathBuf, reason: String },
    #[error("{}: no certificate found (no PEM CERTIFICATE block)", file.display())]
    NoCertificate { file: PathBuf },
    #[error("{}: bad PEM: {reason}", file.display())]
    BadPem { file: PathBuf, reason: String },
    #[error("{}: no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {reason}", file.display())]
    Key { file: PathBuf, reason: String },
    #[error("certificate {} and key {} do not fit together: {reason}", cert.display(), key.display())]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("the ring provider offers no usable TLS version: {reason}")]
    Protocol { reason: String },
}

fn bad_pem(file: &Path, e: &pem::Error) -> TlsError {
    TlsError::BadPem {
        file: file.to_owned(),
        reason: e.to_string(),
    }
}

/// Builds the server configuration from PEM bytes: every certificate in `cert_pem` (leaf
/// first, then intermediates) and the first private key in `key_pem`. A PEM section that does
/// not parse is an error, not skipped: a chain with a section missing would be served short.
pub fn server_config(
    cert_file: &Path,
    cert_pem: &[u8],
    key_file: &Path,
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| bad_pem(cert_file, &e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            file: cert_file.to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::Key {
            file: key_file.to_owned(),
            reason: "no PRIVATE KEY block found".to_owned(),
        },
        e => bad_pem(key_file, &e),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Protocol {
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Mismatch {
            cert: cert_file.to_owned(),
            key: key_file.to_owned(),
            reason: e.to_string(),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The certificate and key files as they are now.
pub async fn read_pair(cert: &Path, key: &Path) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
    let read = |file: &Path| {
        let file = file.to_owned();
        async move {
            tokio::fs::read(&file).await.map_err(|e| TlsError::Read {
                reason: e.to_string(),
                file,
            })
        }
    };
    Ok((read(cert).await?, read(key).await?))
}

/// Watches one certificate and key pair for changes; [`watch_certificates`] runs it on a
/// timer, tests call [`Reloader::check`] directly.
#[derive(Debug)]
pub struct Reloader {
    cert: PathBuf,
    key: PathBuf,
    /// The bytes seen last. `None`: a file could not be read then, so that an unreadable file
    /// is reported once, not on every check.
    last: Option<(Vec<u8>, Vec<u8>)>,
}

impl Reloader {
    /// `serving`: the PEM bytes the server started with (not reported as a change).
    pub fn new(cert: PathBuf, key: PathBuf, serving: (Vec<u8>, Vec<u8>)) -> Reloader {
        Reloader {
            cert,
            key,
            last: Some(serving),
        }
    }

    /// Reads both files once. `None`: nothing new since the last check (same bytes, or still
    /// unreadable). Otherwise the new configuration, or why the new files cannot be served;
    /// a failed pair is not retried until the files change again.
    pub async fn check(&mut self) -> Option<Result<Arc<ServerConfig>, TlsError>> {
        match read_pair(&self.cert, &self.key).await {
            Ok(pair) if self.last.as_ref() == Some(&pair) => None,
            Ok(pair) => {
                let built = server_config(&self.cert, &pair.0, &self.key, &pair.1);
                self.last = Some(pair);
                Some(built)
            }
            Err(_) if self.last.is_none() => None,
            Err(e) => {
                self.last = None;
                Some(Err(e))
            }
        }
    }

    pub fn cert_file(&self) -> &Path {
        &self.cert
    }
}

/// Checks the files every `every`, forever (abort the task to stop). When either changed and
/// the pair is valid, new handshakes use it (open connections keep theirs). A bad or
/// half-written pair (the key rotated before the certificate, a file missing for a moment)
/// keeps the old one serving, is logged, and is retried when the files change again.
/// `on_result` hears of every change: `Ok(())` reloaded, `Err` kept the old pair (for metrics).
pub async fn watch_certificates(
    tls: RustlsConfig,
    mut reloader: Reloader,
    every: Duration,
    mut on_result: impl FnMut(Result<(), &TlsError>) + Send,
) {
    loop {
        tokio::time::sleep(every).await;
        match reloader.check().await {
            None => {}
            Some(Ok(config)) => {
                tls.reload_from_config(config);
                tracing::info!(
                    cert = %reloader.cert_file().display(),
                    "serving certificate reloaded"
                );
                on_result(Ok(()));
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "new certificate not loaded; still serving the previous one");
                on_result(Err(&e));
            }
        }
    }
}

#[cfg(test)]
mod tests;
