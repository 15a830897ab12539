//! PEM certificate and private key loading on arbitrary bytes given as PEM
//! (Material::pem): never panics; every error has a material status; every
//! certificate returned parses as X.509.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minknow_auth::sources::pem::{read_certificates, read_private_key};
use minknow_auth::sources::Material;
use minknow_auth::Status;

fuzz_target!(|data: &[u8]| {
    let material = Material::pem(data.to_vec(), "fuzz");
    match read_certificates(&material) {
        Ok(certs) => {
            assert!(!certs.is_empty());
            for cert in &certs {
                assert!(minknow_auth::x509::Certificate::parse(cert).is_ok());
            }
        }
        Err(err) => assert!(
            matches!(err.status(), Status::BadCertificate | Status::PemLooksLikePath),
            "{:?}: {}",
            err.status(),
            err.message()
        ),
    }
    if let Err(err) = read_private_key(&material) {
        assert!(
            matches!(
                err.status(),
                Status::BadKey | Status::EncryptedKey | Status::PemLooksLikePath
            ),
            "{:?}: {}",
            err.status(),
            err.message()
        );
    }
});
