//! Certificate pinning: a device set up with the SHA-256 fingerprint of its hub's certificate
//! talks only to a hub presenting exactly that certificate. The pin is the trust, so a
//! self-signed hub certificate is fine; the handshake signatures are still checked, so only
//! the holder of the certificate's private key can pass.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

/// SHA-256 of the hub's end-entity certificate (its DER bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CertificatePin([u8; 32]);

/// A fingerprint that cannot be read; the message says how it should look.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "The certificate fingerprint {0}. It should be 64 letters and numbers (0 to 9 and A to F), in pairs that may be \
     separated by colons, like AB:CD:12:… (your manager has it)."
)]
pub struct BadFingerprint(&'static str);

impl CertificatePin {
    /// Reads "AB:CD:…" (as `openssl x509 -fingerprint -sha256` and `doorstep-hub cert-fingerprint`
    /// print it) or plain hex, in either case; spaces around pairs are ignored.
    pub fn parse(text: &str) -> Result<CertificatePin, BadFingerprint> {
        let text = text.trim();
        let text = text.strip_prefix("sha256:").or_else(|| text.strip_prefix("SHA256:")).unwrap_or(text);
        let digits: Vec<u8> = text.bytes().filter(|b| !matches!(b, b':' | b' ')).collect();
        if digits.iter().any(|b| !b.is_ascii_hexdigit()) {
            return Err(BadFingerprint("has characters other than 0 to 9, A to F and colons"));
        }
        if digits.len() != 64 {
            return Err(BadFingerprint("is the wrong length"));
        }
        let mut pin = [0u8; 32];
        for (byte, pair) in pin.iter_mut().zip(digits.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| BadFingerprint("is not plain text"))?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| BadFingerprint("is not hexadecimal"))?;
        }
        Ok(CertificatePin(pin))
    }

    /// The pin of a certificate.
    pub fn of(cert_der: &[u8]) -> CertificatePin {
        CertificatePin(Sha256::digest(cert_der).into())
    }

    /// Lower-case hex, as the device setting keeps it.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for CertificatePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertificatePin({})", self.hex())
    }
}

/// The error a pinned handshake ends with when the hub shows another certificate; found again
/// in the connection error's chain to tell it from being offline.
#[derive(Debug, thiserror::Error)]
#[error("the hub's certificate does not match the pinned fingerprint")]
pub(crate) struct PinMismatch;

#[derive(Debug)]
struct PinnedVerifier {
    pin: CertificatePin,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The exact certificate is named, so its issuer, name and dates add nothing to trust.
        if CertificatePin::of(end_entity.as_ref()) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(PinMismatch)))))
        }
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

/// A TLS client configuration that accepts only the pinned certificate.
pub(crate) fn pinned_tls(pin: CertificatePin) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedVerifier { pin, provider }))
        .with_no_client_auth())
}

/// What a failed connection says about the hub's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertificateProblem {
    /// Not the pinned certificate.
    PinMismatch,
    /// Refused by the ordinary checks (unknown issuer, wrong name, expired…).
    Untrusted,
}

/// Looks through a connection error's chain for a refused certificate.
pub(crate) fn certificate_problem(error: &(dyn std::error::Error + 'static)) -> Option<CertificateProblem> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(problem) = problem_here(e) {
            return Some(problem);
        }
        // An io::Error's `source` skips the error it wraps, so look inside it too.
        if let Some(problem) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|inner| {
            let inner: &(dyn std::error::Error + 'static) = inner;
            certificate_problem(inner)
        }) {
            return Some(problem);
        }
        next = e.source();
    }
    None
}

fn problem_here(e: &(dyn std::error::Error + 'static)) -> Option<CertificateProblem> {
    if e.is::<PinMismatch>() {
        return Some(CertificateProblem::PinMismatch);
    }
    match e.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) if inner.is::<PinMismatch>() => {
            Some(CertificateProblem::PinMismatch)
        }
        rustls::Error::InvalidCertificate(_) => Some(CertificateProblem::Untrusted),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_with_or_without_colons_in_either_case() {
        let hex = "0123456789abcdef".repeat(4);
        let colons = hex.as_bytes().chunks(2).map(|p| std::str::from_utf8(p).unwrap()).collect::<Vec<_>>().join(":");
        let pin = CertificatePin::parse(&hex).unwrap();
        assert_eq!(pin.hex(), hex);
        assert_eq!(CertificatePin::parse(&colons.to_uppercase()).unwrap(), pin);
        assert_eq!(CertificatePin::parse(&format!("  {colons}\n")).unwrap(), pin);
        assert!(CertificatePin::parse(&hex[2..]).unwrap_err().to_string().contains("wrong length"));
        assert!(CertificatePin::parse(&hex.replace('a', "g")).unwrap_err().to_string().contains("other than"));
        assert!(CertificatePin::parse("").is_err());
    }

    #[test]
    fn a_mismatch_is_found_through_io_errors() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(PinMismatch))));
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        assert_eq!(certificate_problem(&io), Some(CertificateProblem::PinMismatch));
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, expired);
        assert_eq!(certificate_problem(&io), Some(CertificateProblem::Untrusted));
        let other = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert_eq!(certificate_problem(&other), None);
    }
}
