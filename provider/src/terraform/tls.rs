//! AutoMTLS as go-plugin does it: the plugin makes a fresh self-signed certificate, prints it in the
//! handshake line, and accepts exactly one client: the holder of the certificate Terraform passed in
//! `PLUGIN_CLIENT_CERT`.
//!
//! - Our certificate: SAN `localhost` (Terraform dials with that server name), EKU serverAuth, an
//!   ECDSA P-256 key from rcgen.
//! - ALPN `h2`: Terraform 1.12+ (grpc-go >= 1.67) refuses a TLS server that does not negotiate it.
//! - The client: Terraform's certificate is self-signed with `IsCA` and CertSign, which webpki refuses
//!   as an end-entity certificate, so a stock verifier cannot be used. [`PinnedClientCert`] requires a
//!   client certificate, compares it byte for byte with `PLUGIN_CLIENT_CERT`, and checks the handshake
//!   signature with the crypto provider's algorithms.
//! - The crypto provider is aws-lc-rs: Terraform's client key is ECDSA P-521 (go-plugin's choice),
//!   which ring cannot verify. (aws-lc-rs is in the build anyway: the AWS SDK's HTTPS client uses it.)

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

/// A TLS set-up problem (always fatal at start-up).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCert,
    #[error("PLUGIN_CLIENT_CERT is not valid PEM: {0}")]
    BadPem(String),
    #[error("cannot make the server certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The crypto provider for the plugin's TLS server.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Our certificate and key.
pub struct ServerIdentity {
    pub cert_der: Vec<u8>,
    pub key_pkcs8: Vec<u8>,
}

/// A fresh self-signed server certificate for `localhost`.
pub fn server_identity() -> Result<ServerIdentity, TlsError> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "elasticache-access");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(30);
    params.not_after = now + time::Duration::days(365 * 30);
    let cert = params.self_signed(&key)?;
    Ok(ServerIdentity {
        cert_der: cert.der().to_vec(),
        key_pkcs8: key.serialize_der(),
    })
}

/// The DER of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, TlsError> {
    use base64::Engine as _;
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let start = pem.find(begin).ok_or(TlsError::NoClientCert)? + begin.len();
    let stop = pem[start..]
        .find(end)
        .ok_or_else(|| TlsError::BadPem("no END CERTIFICATE line".into()))?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| TlsError::BadPem(e.to_string()))
}

/// The server certificate as the handshake line carries it: standard base64 without padding.
pub fn cert_for_handshake(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(der)
}

/// Accepts exactly one client certificate, byte for byte, and checks that the client holds its key.
#[derive(Debug)]
pub struct PinnedClientCert {
    expected: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    pub fn new(expected_der: Vec<u8>, provider: &CryptoProvider) -> Self {
        PinnedClientCert {
            expected: expected_der,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused a TLS client whose certificate is not PLUGIN_CLIENT_CERT");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server's TLS configuration: our identity, ALPN h2, and only the pinned client.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert_der: Vec<u8>,
) -> Result<ServerConfig, TlsError> {
    let provider = provider();
    let verifier = Arc::new(PinnedClientCert::new(client_cert_der, &provider));
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(identity.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_pkcs8.clone())),
        )?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A client certificate shaped like Terraform's: self-signed, IsCA, CertSign, clientAuth.
    fn terraform_like_client() -> (String, Vec<u8>, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
            .unwrap_or_else(|_| panic!("key"));
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap_or_default();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).unwrap_or_else(|_| panic!("cert"));
        (cert.pem(), cert.der().to_vec(), key.serialize_der())
    }

    async fn handshake(
        pinned_pem: &str,
        client_cert: Option<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Vec<u8>, String> {
        let identity = server_identity().map_err(|e| e.to_string())?;
        let pinned = pem_to_der(pinned_pem).map_err(|e| e.to_string())?;
        let server_cfg = Arc::new(server_config(&identity, pinned).map_err(|e| e.to_string())?);
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(identity.cert_der.clone()))
            .map_err(|e| e.to_string())?;
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let mut client_cfg = match client_cert {
            Some((der, key)) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from(der)],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
                )
                .map_err(|e| e.to_string())?,
            None => builder.with_no_client_auth(),
        };
        client_cfg.alpn_protocols = vec![b"h2".to_vec()];
        let (a, b) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut s = tokio_rustls::TlsAcceptor::from(server_cfg)
                .accept(b)
                .await
                .map_err(|e| e.to_string())?;
            let alpn = s
                .get_ref()
                .1
                .alpn_protocol()
                .map(|p| p.to_vec())
                .unwrap_or_default();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
            s.write_all(b"pong").await.map_err(|e| e.to_string())?;
            s.flush().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(alpn)
        });
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_cfg));
        let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        let client = async {
            let mut c = connector
                .connect(name, a)
                .await
                .map_err(|e| e.to_string())?;
            c.write_all(b"ping").await.map_err(|e| e.to_string())?;
            let mut buf = [0u8; 4];
            c.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(buf)
        };
        let got = client.await;
        let alpn = server.await.map_err(|e| e.to_string())??;
        got?;
        Ok(alpn)
    }

    #[tokio::test]
    async fn the_pinned_ca_shaped_client_is_accepted_with_alpn_h2() {
        let (pem, der, key) = terraform_like_client();
        let alpn = handshake(&pem, Some((der, key))).await;
        assert_eq!(alpn, Ok(b"h2".to_vec()));
    }

    #[tokio::test]
    async fn another_certificate_or_none_is_refused() {
        let (pem, _, _) = terraform_like_client();
        let (_, other_der, other_key) = terraform_like_client();
        assert!(handshake(&pem, Some((other_der, other_key))).await.is_err());
        assert!(handshake(&pem, None).await.is_err());
    }

    #[tokio::test]
    async fn a_stolen_certificate_without_its_key_is_refused() {
        let (pem, der, _) = terraform_like_client();
        let (_, _, wrong_key) = terraform_like_client();
        // rustls refuses a mismatched key already on the client side, or the server refuses the
        // signature: either way there is no session.
        assert!(handshake(&pem, Some((der, wrong_key))).await.is_err());
    }

    #[test]
    fn server_cert_is_for_localhost_and_printed_without_padding() {
        let id = server_identity().unwrap_or_else(|_| panic!("identity"));
        let b64 = cert_for_handshake(&id.cert_der);
        assert!(!b64.ends_with('='));
        assert!(b64.len() > 50);
        assert!(pem_to_der("no pem here").is_err());
    }
}
