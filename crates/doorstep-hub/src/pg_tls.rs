//! How the hub reaches PostgreSQL: the connection URL's `sslmode` and `sslrootcert`, as libpq
//! reads them, turned into a tokio-postgres configuration and a rustls connector.
//!
//! tokio-postgres knows only `disable`, `prefer` and `require` and no root certificates, so both
//! parameters are taken out of the URL here and the rest is left to tokio-postgres:
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default, as libpq's) | if the server offers it | not checked |
//! | `require` | always | not checked, unless `sslrootcert` is given (then as `verify-ca`, as libpq does) |
//! | `verify-ca` | always | signed by `sslrootcert` |
//! | `verify-full` | always | signed by `sslrootcert` and naming the host |
//!
//! `sslrootcert` is a PEM file of one or more CA certificates, or `system` for the Mozilla roots
//! (webpki-roots); `verify-ca` and `verify-full` need it (libpq's fallback,
//! `~/.postgresql/root.crt`, would depend on the service user's home).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as DriverSslMode;
pub use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, PgUrlError> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            // libpq's `allow` tries plain text first: never what a care provider's data wants.
            other => return Err(PgUrlError::SslMode(other.to_string())),
        })
    }

    /// The value libpq (`pg_dump`, `psql`) takes.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PgUrlError {
    #[error("the database URL: {0}")]
    Parse(#[from] tokio_postgres::Error),
    #[error(
        "the database URL's sslmode={0} is not one the hub knows (disable, prefer, require, verify-ca, verify-full)"
    )]
    SslMode(String),
    #[error(
        "the database URL says sslmode={0} but names no sslrootcert: add sslrootcert=<PEM file of the CA> \
         (or sslrootcert=system for the public web's roots)"
    )]
    NoRootCert(&'static str),
    #[error("the database URL's sslrootcert {path}: {why}")]
    RootCert { path: PathBuf, why: String },
    #[error(
        "sslrootcert and sslmode=verify-ca/verify-full need the URL form of the database \
         (postgres://user:password@host:port/database?sslmode=verify-full&sslrootcert=/path/ca.pem)"
    )]
    NotAUrl,
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// Where and how to connect: tokio-postgres's configuration and the TLS connector that goes
/// with it.
#[derive(Clone)]
pub struct PgTarget {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub ssl_mode: SslMode,
    /// The `sslrootcert` given, as written (a path or `system`).
    pub root_cert: Option<String>,
}

impl std::fmt::Debug for PgTarget {
    // Never the configuration: it holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget").field("ssl_mode", &self.ssl_mode).field("root_cert", &self.root_cert).finish()
    }
}

impl PgTarget {
    /// Reads a `postgres://` URL (or libpq's `key=value` form, without `sslrootcert` and the
    /// verifying modes).
    pub fn parse(url: &str) -> Result<PgTarget, PgUrlError> {
        let (rest, mode, root_cert) = take_tls_params(url)?;
        // No sslmode: libpq's default, `prefer`. A hub on the database's own machine (or a
        // server without TLS) keeps working, and a server that offers TLS gets it; a hub that
        // reaches its database across a network should say `verify-full`.
        let mode = match mode.as_deref() {
            Some(value) => SslMode::parse(value)?,
            None => SslMode::Prefer,
        };
        let mut config: tokio_postgres::Config = rest.parse()?;
        config.ssl_mode(match mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            _ => DriverSslMode::Require,
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = match (&root_cert, mode) {
            (Some(path), _) => Some(load_roots(path)?),
            (None, SslMode::VerifyCa) => return Err(PgUrlError::NoRootCert("verify-ca")),
            (None, SslMode::VerifyFull) => return Err(PgUrlError::NoRootCert("verify-full")),
            (None, _) => None,
        };
        let verifier: Arc<dyn ServerCertVerifier> = match (roots, mode) {
            (_, SslMode::Disable) | (None, _) => Arc::new(Unverified { provider: provider.clone() }),
            (Some(roots), mode) => {
                let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| PgUrlError::Tls(rustls::Error::General(e.to_string())))?;
                Arc::new(Verified { webpki, check_name: mode == SslMode::VerifyFull })
            }
        };
        let tls_config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(PgTarget { config, tls: MakeRustlsConnect::new(tls_config), ssl_mode: mode, root_cert })
    }

    /// One connection, its driver spawned on the runtime.
    pub async fn connect_one(
        &self,
    ) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
        let (client, connection) = self.config.connect(self.tls.clone()).await?;
        let driver = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("PostgreSQL connection: {e}");
            }
        });
        Ok((client, driver))
    }
}

/// The URL without `sslmode` and `sslrootcert`, and their values (percent-decoded).
fn take_tls_params(url: &str) -> Result<(String, Option<String>, Option<String>), PgUrlError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        // libpq's key=value form: tokio-postgres reads sslmode=disable/prefer/require itself.
        if url.contains("sslrootcert") || url.contains("verify-ca") || url.contains("verify-full") {
            return Err(PgUrlError::NotAUrl);
        }
        return Ok((url.to_string(), None, None));
    }
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), None, None));
    };
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned();
        match key {
            "sslmode" => mode = Some(decoded()),
            "sslrootcert" => root = Some(decoded()),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    Ok((rest, mode, root))
}

fn load_roots(path: &str) -> Result<RootCertStore, PgUrlError> {
    if path == "system" {
        return Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() });
    }
    let bad = |why: String| PgUrlError::RootCert { path: PathBuf::from(path), why };
    let certs = CertificateDer::pem_file_iter(Path::new(path))
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("it holds no PEM certificate".into()));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    Ok(roots)
}

/// `prefer` and `require` without a root: encrypted against a passive listener, as libpq's
/// modes are; the handshake's signatures are still checked against the certificate presented.
#[derive(Debug)]
struct Unverified {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (the chain only) and `verify-full` (the chain and the host's name).
#[derive(Debug)]
struct Verified {
    webpki: Arc<WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for Verified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            // webpki checks the name last, so a name error means the chain was good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_and_the_rest_is_left_to_the_driver() {
        let (rest, mode, root) = take_tls_params(
            "postgres://u:p@h:5432/db?application_name=a%20b&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .expect("parsed");
        assert_eq!(rest, "postgres://u:p@h:5432/db?application_name=a%20b");
        assert_eq!((mode.as_deref(), root.as_deref()), (Some("verify-full"), Some("/etc/ca.pem")));
        let target = PgTarget::parse("postgres://u:p@h/db").expect("parsed");
        assert_eq!(target.ssl_mode, SslMode::Prefer);
        assert_eq!(target.config.get_ssl_mode(), DriverSslMode::Prefer);
        let target = PgTarget::parse("postgres://u:p@h/db?sslmode=disable").expect("parsed");
        assert_eq!(target.config.get_ssl_mode(), DriverSslMode::Disable);
    }

    #[test]
    fn verifying_modes_need_a_readable_root_certificate() {
        let err = PgTarget::parse("postgres://u:p@h/db?sslmode=verify-full").expect_err("no root");
        assert!(err.to_string().contains("sslrootcert"), "{err}");
        let err = PgTarget::parse("postgres://u:p@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            .expect_err("no file");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        let err = PgTarget::parse("postgres://u:p@h/db?sslmode=allow").expect_err("allow");
        assert!(err.to_string().contains("allow"), "{err}");
        let err = PgTarget::parse("host=h sslmode=verify-full").expect_err("key=value");
        assert!(matches!(err, PgUrlError::NotAUrl), "{err}");
        let system = PgTarget::parse("postgres://u:p@h/db?sslmode=verify-full&sslrootcert=system").expect("system");
        assert_eq!(system.ssl_mode, SslMode::VerifyFull);
    }
}
