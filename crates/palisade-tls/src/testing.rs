//! Test certificates for the servers' TLS tests (feature `testing`, a dev-dependency only):
//! a fresh CA and a `localhost` serving certificate signed by it, and the pair written as
//! `tls.crt`/`tls.key`. Panics on failure: a test that cannot mint or write a certificate
//! cannot run at all.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

/// A CA and a `localhost` certificate it signed, all PEM.
#[derive(Debug, Clone)]
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A fresh CA and a `localhost` serving certificate signed by it.
pub fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let key = KeyPair::generate().expect("serving key");
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("serving parameters")
        .signed_by(&key, &ca, &ca_key)
        .expect("serving certificate");
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// Writes `tls.crt` and `tls.key` into `dir`; returns their paths.
pub fn write_pair(dir: &Path, cert_pem: &str, key_pem: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert, cert_pem).expect("write tls.crt");
    std::fs::write(&key, key_pem).expect("write tls.key");
    (cert, key)
}
