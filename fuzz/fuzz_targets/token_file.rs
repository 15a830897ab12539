//! The local token file parser on arbitrary bytes: never panics; a parsed
//! token is one that can travel as gRPC metadata; an error is always
//! BAD_TOKEN_FILE and never quotes the token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minknow_auth::credentials::local_token::{check_token_text, parse_token_file};
use minknow_auth::Status;

fuzz_target!(|data: &[u8]| {
    match parse_token_file(data) {
        Ok(file) => assert!(check_token_text(&file.token).is_ok()),
        Err(err) => {
            assert_eq!(err.status(), Status::BadTokenFile);
            // When the input has a string token, the message must not hold it.
            let token = serde_token(data);
            if let Some(token) = token.filter(|t| t.len() >= 8) {
                assert!(!err.message().contains(&token), "the error quotes the token");
            }
        }
    }
});

/// The `"token"` string of a JSON object, found without serde (the fuzz
/// crate keeps its own dependencies small): only for simple inputs.
fn serde_token(data: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(data).ok()?;
    let start = text.find("\"token\"")? + "\"token\"".len();
    let rest = text[start..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    Some(rest[..end].to_owned())
}
