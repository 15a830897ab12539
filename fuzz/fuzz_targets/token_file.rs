//! The local token file parser on arbitrary bytes: never panics; a parsed
//! token is one that can travel as gRPC metadata; an error is always
//! BAD_TOKEN_FILE and says nothing that depends on the token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minknow_auth::credentials::local_token::{check_token_text, parse_token_file};
use minknow_auth::Status;

fuzz_target!(|data: &[u8]| {
    match parse_token_file(data) {
        Ok(file) => assert!(check_token_text(&file.token).is_ok()),
        Err(err) => {
            assert_eq!(err.status(), Status::BadTokenFile);
            // The message must not depend on what the token says: the same
            // file with the token's text changed wherever it occurs (same
            // length, same kind of characters) gives the same message.
            // (Checking only that the message does not contain the token
            // flags tokens that happen to spell the message's own words.)
            if let Some(other) = with_token_changed(data) {
                let again = parse_token_file(&other).expect_err("only the token changed");
                assert_eq!(err.message(), again.message(), "the error depends on the token");
            }
        }
    }
});

/// `data` with every occurrence of its first `"token": "..."` value
/// replaced by x's (or y's where it had x), when that value is a plain
/// token (letters, digits, '-', '_', '.', ' '; 4 or more) and replacing it
/// leaves the field names alone, so the JSON's shape does not change.
fn with_token_changed(data: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let key = text.find("\"token\"")? + "\"token\"".len();
    let after_colon = text[key..].trim_start().strip_prefix(':')?.trim_start();
    let value = after_colon.strip_prefix('"')?;
    let start = text.len() - value.len();
    let len = value.find('"')?;
    let token = &data[start..start + len];
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"-_. ".contains(b);
    if token.len() < 4 || !token.iter().all(plain) {
        return None;
    }
    let mut other = Vec::with_capacity(data.len());
    let mut rest = data;
    while !rest.is_empty() {
        if rest.starts_with(token) {
            other.extend(token.iter().map(|&b| if b == b'x' { b'y' } else { b'x' }));
            rest = &rest[token.len()..];
        } else {
            other.push(rest[0]);
            rest = &rest[1..];
        }
    }
    let count = |d: &[u8], key: &[u8]| d.windows(key.len()).filter(|w| w == &key).count();
    for key in [&b"\"token\""[..], b"\"expires\""] {
        if count(data, key) != count(&other, key) {
            return None;
        }
    }
    Some(other)
}
