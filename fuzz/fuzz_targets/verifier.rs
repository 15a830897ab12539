//! The server certificate verifier on arbitrary DER: a leaf and up to three
//! "intermediates" cut from the input, against a fixed trusted CA. Never
//! panics, and never accepts: nothing the fuzzer can make is signed by the
//! CA's key, except the one seed leaf it was given (which it may mutate
//! only into something that no longer verifies).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use minknow_auth::trust::ServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// A P-256 CA made for fuzzing only, and a leaf it signed for `localhost`
/// (the seed input fuzz/seeds/verifier/leaf is a 0 byte, then this leaf).
const CA: &[u8] = include_bytes!("verifier_ca.der");
const SEED_LEAF: &[u8] = include_bytes!("verifier_leaf.der");

fn verifier() -> &'static ServerVerifier {
    static VERIFIER: OnceLock<ServerVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let provider = rustls::crypto::ring::default_provider();
        ServerVerifier::new(vec![CertificateDer::from(CA.to_vec())], &provider).expect("the CA")
    })
}

fuzz_target!(|data: &[u8]| {
    // First byte: how many intermediates (0-3); each is a length byte
    // (times 8) and that many bytes; the rest is the leaf.
    let Some((&count, mut rest)) = data.split_first() else { return };
    let mut pieces = Vec::new();
    for _ in 0..(count % 4) {
        let Some((&len, tail)) = rest.split_first() else { break };
        let (piece, tail) = tail.split_at((usize::from(len) * 8).min(tail.len()));
        pieces.push(CertificateDer::from(piece.to_vec()));
        rest = tail;
    }
    let leaf = CertificateDer::from(rest.to_vec());
    let name = ServerName::try_from("localhost").unwrap();
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_900_000_000));
    let result = verifier().verify_server_cert(&leaf, &pieces, &name, &[], now);
    if result.is_ok() {
        assert_eq!(leaf.as_ref(), SEED_LEAF, "accepted a certificate the CA never signed");
    }
    for piece in pieces.iter().chain([&leaf]) {
        let _ = minknow_auth::x509::Certificate::parse(piece);
    }
});
