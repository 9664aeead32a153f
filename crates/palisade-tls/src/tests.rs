#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use crate::testing::{pki, write_pair};

fn config(cert: &[u8], key: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    server_config(Path::new("tls.crt"), cert, Path::new("tls.key"), key)
}

#[test]
fn valid_pair_serves_h2_then_http11() {
    let p = pki();
    let c = config(p.cert_pem.as_bytes(), p.key_pem.as_bytes()).unwrap();
    assert_eq!(c.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    // The chain is served whole: leaf and CA both reach the handshake.
    let chain = format!("{}{}", p.cert_pem, p.ca_pem);
    assert!(config(chain.as_bytes(), p.key_pem.as_bytes()).is_ok());
}

#[test]
fn no_certificate_names_the_file() {
    let p = pki();
    for cert in [&b""[..], b"not PEM at all\n", p.key_pem.as_bytes()] {
        let e = config(cert, p.key_pem.as_bytes()).unwrap_err();
        assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");
        let m = e.to_string();
        assert!(m.starts_with("tls.crt: no certificate found"), "{m}");
    }
}

#[test]
fn a_bad_pem_section_is_an_error_not_skipped() {
    let p = pki();
    // A valid leaf followed by a truncated second certificate: before, one server skipped
    // the broken section and served a short chain.
    let truncated = &p.ca_pem[..p.ca_pem.len() / 2];
    let chain = format!("{}{truncated}", p.cert_pem);
    let e = config(chain.as_bytes(), p.key_pem.as_bytes()).unwrap_err();
    assert!(
        matches!(e, TlsError::BadPem { ref file, .. } if file == Path::new("tls.crt")),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("tls.crt: bad PEM: "), "{e}");
    // Broken base64 inside a complete section.
    let garbled = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let e = config(garbled.as_bytes(), p.key_pem.as_bytes()).unwrap_err();
    assert!(matches!(e, TlsError::BadPem { .. }), "{e:?}");
    // The same in the key file names the key file.
    let key = &p.key_pem[..p.key_pem.len() / 2];
    let e = config(p.cert_pem.as_bytes(), key.as_bytes()).unwrap_err();
    assert!(
        matches!(e, TlsError::BadPem { ref file, .. } if file == Path::new("tls.key")),
        "{e:?}"
    );
}

#[test]
fn no_key_names_the_key_file() {
    let p = pki();
    let e = config(p.cert_pem.as_bytes(), p.cert_pem.as_bytes()).unwrap_err();
    assert!(matches!(e, TlsError::Key { .. }), "{e:?}");
    let m = e.to_string();
    assert!(m.starts_with("tls.key: no usable PEM private key"), "{m}");
    assert!(m.contains("no PRIVATE KEY block found"), "{m}");
}

#[test]
fn mismatched_pair_names_both_files() {
    let (a, b) = (pki(), pki());
    let e = config(a.cert_pem.as_bytes(), b.key_pem.as_bytes()).unwrap_err();
    assert!(matches!(e, TlsError::Mismatch { .. }), "{e:?}");
    let m = e.to_string();
    assert!(
        m.starts_with("certificate tls.crt and key tls.key do not fit together: "),
        "{m}"
    );
}

/// Pair `a` written and read back as the serving pair, and a second pair `b` to rotate to.
struct Files {
    b: crate::testing::Pki,
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    serving: (Vec<u8>, Vec<u8>),
}

async fn serving_files() -> Files {
    let (a, b) = (pki(), pki());
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), &a.cert_pem, &a.key_pem);
    let serving = read_pair(&cert, &key).await.unwrap();
    Files {
        b,
        dir,
        cert,
        key,
        serving,
    }
}

#[tokio::test]
async fn reloader_reports_changes_once() {
    let Files {
        b,
        dir: _dir,
        cert,
        key,
        serving,
    } = serving_files().await;
    let mut r = Reloader::new(cert.clone(), key.clone(), serving);
    assert!(
        r.check().await.is_none(),
        "the serving pair is not a change"
    );

    // Key first: a mismatched pair, reported once, then not again until a file changes.
    std::fs::write(&key, &b.key_pem).unwrap();
    let e = r.check().await.unwrap().unwrap_err();
    assert!(matches!(e, TlsError::Mismatch { .. }), "{e:?}");
    assert!(r.check().await.is_none());
    std::fs::write(&cert, &b.cert_pem).unwrap();
    assert!(r.check().await.unwrap().is_ok());
    assert!(r.check().await.is_none());

    // A missing file: reported once, not on every check.
    std::fs::remove_file(&key).unwrap();
    let e = r.check().await.unwrap().unwrap_err();
    assert!(
        matches!(e, TlsError::Read { ref file, .. } if *file == key),
        "{e:?}"
    );
    assert!(e.to_string().contains("tls.key"), "{e}");
    assert!(r.check().await.is_none());
    assert!(r.check().await.is_none());
    // Back again: a change, served.
    std::fs::write(&key, &b.key_pem).unwrap();
    assert!(r.check().await.unwrap().is_ok());
}

#[tokio::test]
async fn watch_swaps_in_a_new_pair_and_keeps_the_old_on_a_bad_one() {
    let Files {
        b,
        dir,
        cert,
        key,
        serving,
    } = serving_files().await;
    let initial = server_config(&cert, &serving.0, &key, &serving.1).unwrap();
    let tls = RustlsConfig::from_config(initial.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(watch_certificates(
        tls.clone(),
        Reloader::new(cert.clone(), key.clone(), serving),
        Duration::from_millis(5),
        move |r: Result<(), &TlsError>| {
            let _ = tx.send(r.map_err(|e| e.to_string()));
        },
    ));
    let next = async |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>| {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap()
    };

    // A bad pair is reported and the first configuration keeps serving.
    std::fs::write(&cert, b"not a certificate").unwrap();
    let e = next(&mut rx).await.unwrap_err();
    assert!(e.contains("no certificate found"), "{e}");
    assert!(Arc::ptr_eq(&tls.get_inner(), &initial));

    // A good pair replaces it.
    write_pair(dir.path(), &b.cert_pem, &b.key_pem);
    loop {
        // Two writes: the watcher may see the new certificate with the old key first.
        if next(&mut rx).await.is_ok() {
            break;
        }
    }
    let now = tls.get_inner();
    assert!(!Arc::ptr_eq(&now, &initial));
    assert_eq!(now.alpn_protocols, initial.alpn_protocols);
    task.abort();
}
