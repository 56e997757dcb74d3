//! The TLS crypto provider for the masters and the IAM server: ring's, without ChaCha20-Poly1305.
//!
//! Every TLS stack a Mesos master or a DC/OS IAM server runs (libprocess's OpenSSL, the JDK, Go) offers
//! AES-GCM, so the ChaCha20-Poly1305 suites are never needed; rustls's `ring::default_provider()` lists
//! them in a static that keeps their code (57 KB) in the static binary whether they are used or
//! not. This provider names its parts one by one instead: the AES-GCM suites of TLS 1.3 and 1.2, ring's
//! key exchanges, webpki's ring signature checks (the same table as rustls's), the OS's random numbers.
//! It also says when a failed request was a certificate that did not verify ([`untrusted`]).

use std::sync::Arc;

use rustls::crypto::ring::cipher_suite::{
    TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::SignatureScheme;
use webpki::ring as algs;

use super::error::Untrusted;

/// The provider the HTTPS client is built with.
pub(crate) fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            TLS13_AES_128_GCM_SHA256,
            TLS13_AES_256_GCM_SHA384,
            TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: rustls::crypto::ring::ALL_KX_GROUPS.to_vec(),
        signature_verification_algorithms: SIGNATURE_CHECKS,
        secure_random: &OsRandom,
        key_provider: &OsRandom,
    }
}

/// The OS's random numbers for TLS, and ring's loader for a client certificate's key.
#[derive(Debug)]
struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        getrandom::getrandom(buf).map_err(|_| GetRandomFailed)
    }
}

impl KeyProvider for OsRandom {
    fn load_private_key(&self, key_der: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        rustls::crypto::ring::sign::any_supported_type(&key_der)
    }
}

/// Certificate and handshake signature checks: rustls's own table for ring.
static SIGNATURE_CHECKS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algs::ECDSA_P256_SHA256,
        algs::ECDSA_P256_SHA384,
        algs::ECDSA_P384_SHA256,
        algs::ECDSA_P384_SHA384,
        algs::ED25519,
        algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algs::RSA_PKCS1_2048_8192_SHA256,
        algs::RSA_PKCS1_2048_8192_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA512,
        algs::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        // For TLS 1.2 the curve is not fixed by the scheme; for TLS 1.3 it is.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[algs::ED25519]),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (SignatureScheme::RSA_PKCS1_SHA512, &[algs::RSA_PKCS1_2048_8192_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[algs::RSA_PKCS1_2048_8192_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[algs::RSA_PKCS1_2048_8192_SHA256]),
    ],
};

/// The certificate failure in `e`, if that is what it is.
pub(crate) fn untrusted(e: &ureq::Error, system_bundle: bool) -> Option<Untrusted> {
    let rustls_error = match e {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    }?;
    matches!(
        rustls_error,
        rustls::Error::InvalidCertificate(_) | rustls::Error::InvalidCertRevocationList(_)
    )
    .then(|| Untrusted {
        detail: rustls_error.to_string(),
        system_bundle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_aes_gcm_suites_and_every_signature_check_of_ring() {
        let ours = provider();
        let ring = rustls::crypto::ring::default_provider();
        assert!(ours
            .cipher_suites
            .iter()
            .all(|s| format!("{:?}", s.suite()).contains("AES")));
        assert_eq!(
            ring.cipher_suites
                .iter()
                .filter(|s| format!("{:?}", s.suite()).contains("AES"))
                .count(),
            ours.cipher_suites.len()
        );
        assert_eq!(
            format!("{:?}", ours.signature_verification_algorithms),
            format!("{:?}", ring.signature_verification_algorithms)
        );
        assert!(ours.fips() == ring.fips());
    }
}
