//! HTTPS served by the process itself (S-CR-2): rustls with the `ring` provider, TLS 1.2
//! and 1.3 only (rustls supports nothing older), ALPN for HTTP/2 and HTTP/1.1.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<RustlsConfig> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("Failed to read the TLS certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("Failed to parse the TLS certificate {}", cert.display()))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate found in {}", cert.display());
    // The error names the file, never its content.
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("Failed to read the TLS private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("Failed to choose TLS versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("The TLS certificate and key do not form a usable pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // The server's order decides (rustls's: AES-GCM and ChaCha20-Poly1305, strongest first):
    // every suite offered is an AEAD with forward secrecy either way, but a client cannot then
    // steer the choice, and TLS scanners (testssl's `cipher_order`) report a server without
    // an order as a finding.
    config.ignore_client_order = true;
    Ok(RustlsConfig::from_config(Arc::new(config)))
}
