//! The local authentication token: a JSON file MinKNOW rewrites before the
//! token expires, `{"token": "...", "expires": "<RFC 3339>"}`.
//!
//! The file is re-read from 120 s before `expires` (as the reference client
//! does), at most once a second, and once more when a call comes back
//! UNAUTHENTICATED. Unlike the reference, a failed re-read (the file briefly
//! missing or half written while MinKNOW rotates it) keeps the old token
//! and tries again on a later call, instead of dropping the token for good.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tonic::metadata::{Ascii, MetadataValue};

use super::clock::Clock;
use super::rfc3339;
use crate::error::{Error, Result, Status};
use crate::log::{log_at, Level};

/// Re-read the file this long before the token expires.
pub const REFRESH_MARGIN_MS: i64 = 120_000;
/// Inside the refresh window, re-read at most this often.
pub const REREAD_INTERVAL_MS: i64 = 1_000;
/// A token file larger than this is refused without being read whole.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// The contents of a token file.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenFile {
    pub token: String,
    pub expires_ms: i64,
}

impl std::fmt::Debug for TokenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenFile {{ expires: {} }}", rfc3339::format_millis(self.expires_ms))
    }
}

/// Read and parse the token file at `path`.
pub fn read_token_file(path: &Path) -> Result<TokenFile> {
    let bytes = read_bounded(path)?;
    parse_token_file(&bytes).map_err(|e| e.context(format!("token file {}", path.display())))
}

fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let io_error = |e: std::io::Error| {
        Error::new(Status::FileError, format!("cannot read token file {}: {e}", path.display()))
    };
    let file = File::open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if meta.is_dir() {
        return Err(Error::new(
            Status::FileError,
            format!("token file {} is a directory", path.display()),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::new(
            Status::BadTokenFile,
            format!("token file {} is larger than {MAX_FILE_BYTES} bytes", path.display()),
        ));
    }
    Ok(bytes)
}

/// Parse the JSON of a token file. Errors say which field is wrong, never
/// what the token is.
pub fn parse_token_file(bytes: &[u8]) -> Result<TokenFile> {
    let bad = |why: &str| Error::new(Status::BadTokenFile, why.to_owned());
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("is empty"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        bad(&format!("is not valid JSON (line {}, column {})", e.line(), e.column()))
    })?;
    let object = value.as_object().ok_or_else(|| bad("is not a JSON object"))?;
    let token = match object.get("token") {
        None => return Err(bad("has no \"token\" field")),
        Some(v) => v.as_str().ok_or_else(|| bad("has a \"token\" that is not a string"))?,
    };
    check_token_text(token).map_err(|why| bad(&format!("has a \"token\" that {why}")))?;
    let expires = match object.get("expires") {
        None => return Err(bad("has no \"expires\" field")),
        Some(v) => v.as_str().ok_or_else(|| bad("has an \"expires\" that is not a string"))?,
    };
    // Not quoted: a damaged file may hold anything there, the token too.
    let expires_ms = rfc3339::parse_millis(expires).ok_or_else(|| {
        bad(&format!(
            "has an \"expires\" that is not an RFC 3339 time ({} characters; expected \
             e.g. 2026-12-04T15:00:00.123456+00:00)",
            expires.chars().count()
        ))
    })?;
    Ok(TokenFile { token: token.to_owned(), expires_ms })
}

/// A token must be non-empty printable ASCII to travel as gRPC metadata.
pub fn check_token_text(token: &str) -> std::result::Result<(), &'static str> {
    if token.is_empty() {
        return Err("is empty");
    }
    if !token.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err("holds characters not allowed in gRPC metadata (printable ASCII only)");
    }
    Ok(())
}

/// A local token that keeps itself fresh.
pub struct LocalToken {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

struct State {
    value: MetadataValue<Ascii>,
    expires_ms: i64,
    last_read_ms: i64,
}

impl LocalToken {
    /// Read the token file now. Fails if it cannot be read or parsed.
    pub fn open(path: PathBuf, clock: Arc<dyn Clock>) -> Result<LocalToken> {
        let now = clock.now_ms();
        let file = read_token_file(&path)?;
        let state = State {
            value: to_metadata(&file.token)?,
            expires_ms: file.expires_ms,
            last_read_ms: now,
        };
        Ok(LocalToken { path, clock, state: Mutex::new(state) })
    }

    /// The file the token comes from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The token to send now, re-reading the file first when it is due.
    pub fn current(&self) -> MetadataValue<Ascii> {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        if refresh_due(now, state.expires_ms, state.last_read_ms) {
            self.reread(&mut state, now);
        }
        state.value.clone()
    }

    /// Re-read the file because the server refused the token. Returns
    /// whether a different token was read (worth retrying the call).
    pub fn refresh_after_rejection(&self) -> bool {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let before = state.value.clone();
        self.reread(&mut state, now);
        state.value != before
    }

    fn reread(&self, state: &mut State, now: i64) {
        state.last_read_ms = now;
        // On failure the old token stays: MinKNOW still honours it for a
        // while, and the next call tries the file again.
        let read = read_token_file(&self.path).and_then(|f| Ok((to_metadata(&f.token)?, f)));
        match read {
            Ok((value, file)) => {
                state.value = value;
                state.expires_ms = file.expires_ms;
                log_at!(Level::Debug, "re-read local token file {}", self.path.display());
            }
            Err(e) => log_at!(Level::Warn, "keeping the old local token: {}", e.message()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave State half-updated
        // (each field is assigned whole), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether the token file should be read again at `now`.
pub fn refresh_due(now_ms: i64, expires_ms: i64, last_read_ms: i64) -> bool {
    now_ms >= expires_ms - REFRESH_MARGIN_MS && now_ms - last_read_ms >= REREAD_INTERVAL_MS
}

fn to_metadata(token: &str) -> Result<MetadataValue<Ascii>> {
    MetadataValue::try_from(token).map_err(|_| {
        Error::new(Status::BadTokenFile, "token holds characters not allowed in gRPC metadata")
    })
}

#[cfg(test)]
mod tests {
    use super::super::clock::ManualClock;
    use super::*;
    use std::fs;

    const NOW: i64 = 1_796_396_400_000; // 2026-12-04T15:00:00Z

    fn write(path: &Path, token: &str, expires: &str) {
        fs::write(path, format!(r#"{{"token": "{token}", "expires": "{expires}"}}"#)).unwrap();
    }

    #[test]
    fn parses_minknow_format() {
        let file = parse_token_file(
            br#"{"token": "abc-123", "expires": "2026-12-04T15:00:00.123456+00:00"}"#,
        )
        .unwrap();
        assert_eq!(file.token, "abc-123");
        assert_eq!(file.expires_ms, NOW + 123);
    }

    #[test]
    fn extra_fields_are_ignored() {
        let file =
            parse_token_file(br#"{"expires": "2026-12-04T15:00:00Z", "token": "t", "x": 1}"#);
        assert_eq!(file.unwrap().token, "t");
    }

    #[test]
    fn bad_files_name_the_problem() {
        let cases: [(&[u8], &str); 10] = [
            (b"", "is empty"),
            (b"  \n", "is empty"),
            (b"{\"token\": \"t\"", "not valid JSON"),
            (b"[1, 2]", "not a JSON object"),
            (br#"{"expires": "2026-12-04T15:00:00Z"}"#, "no \"token\""),
            (br#"{"token": 5, "expires": "2026-12-04T15:00:00Z"}"#, "not a string"),
            (br#"{"token": "", "expires": "2026-12-04T15:00:00Z"}"#, "is empty"),
            (br#"{"token": "a\nb", "expires": "2026-12-04T15:00:00Z"}"#, "printable ASCII"),
            (br#"{"token": "t"}"#, "no \"expires\""),
            (br#"{"token": "t", "expires": "tomorrow"}"#, "not an RFC 3339"),
        ];
        for (bytes, expected) in cases {
            let err = parse_token_file(bytes).unwrap_err();
            assert_eq!(err.status(), Status::BadTokenFile);
            assert!(err.message().contains(expected), "{:?}: {}", bytes, err.message());
        }
    }

    #[test]
    fn errors_never_show_the_token() {
        let err = parse_token_file(br#"{"token": "s3cret", "expires": "soon"}"#).unwrap_err();
        assert!(!err.message().contains("s3cret"));
    }

    /// Found by the token_file fuzz target (fuzz/regressions/token_file):
    /// a damaged "expires" holding the token was quoted in the error.
    #[test]
    fn errors_never_quote_the_expires_field() {
        let file = br#"{"token":"aB s-123", "expires": "2026-12-04T15:000.aB s-123:0.0"}"#;
        let err = parse_token_file(file).unwrap_err();
        assert_eq!(err.status(), Status::BadTokenFile);
        assert!(!err.message().contains("aB s-123"), "{}", err.message());
        assert!(err.message().contains("not an RFC 3339 time (30 characters"), "{}", err.message());
    }

    #[test]
    fn huge_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let huge = dir.path().join("huge.json");
        fs::write(&huge, vec![b' '; (MAX_FILE_BYTES + 10) as usize]).unwrap();
        assert_eq!(read_token_file(&huge).unwrap_err().status(), Status::BadTokenFile);
        let missing = dir.path().join("missing.json");
        let err = read_token_file(&missing).unwrap_err();
        assert_eq!(err.status(), Status::FileError);
        assert!(err.message().contains("missing.json"));
        assert_eq!(read_token_file(dir.path()).unwrap_err().status(), Status::FileError);
    }

    #[test]
    fn refresh_timing() {
        let expires = NOW + 10 * 60_000;
        assert!(!refresh_due(NOW, expires, NOW - 60_000));
        assert!(!refresh_due(expires - REFRESH_MARGIN_MS - 1, expires, NOW));
        assert!(refresh_due(expires - REFRESH_MARGIN_MS, expires, NOW));
        // Rate limit inside the window.
        assert!(!refresh_due(expires, expires, expires - 500));
        assert!(refresh_due(expires, expires, expires - 1_000));
    }

    #[test]
    fn rereads_before_expiry_with_injected_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        write(&path, "first", "2026-12-04T15:10:00Z");
        let clock = Arc::new(ManualClock::new(NOW));
        let token = LocalToken::open(path.clone(), clock.clone()).unwrap();
        assert_eq!(token.current(), "first");

        write(&path, "second", "2026-12-04T15:20:00Z");
        clock.set(NOW + 7 * 60_000); // 3 minutes before expiry: not yet
        assert_eq!(token.current(), "first");
        clock.set(NOW + 8 * 60_000); // 2 minutes before expiry: re-read
        assert_eq!(token.current(), "second");
    }

    #[test]
    fn failed_reread_keeps_old_token_and_retries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        write(&path, "old", "2026-12-04T15:01:00Z");
        let clock = Arc::new(ManualClock::new(NOW));
        let token = LocalToken::open(path.clone(), clock.clone()).unwrap();

        fs::remove_file(&path).unwrap();
        clock.advance(2_000);
        assert_eq!(token.current(), "old");
        fs::write(&path, br#"{"token": "new", "exp"#).unwrap(); // half written
        clock.advance(2_000);
        assert_eq!(token.current(), "old");
        write(&path, "new", "2026-12-04T15:02:00Z");
        clock.advance(2_000);
        assert_eq!(token.current(), "new");
    }

    #[test]
    fn rejection_forces_a_reread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        write(&path, "old", "2026-12-05T15:00:00Z");
        let clock = Arc::new(ManualClock::new(NOW));
        let token = LocalToken::open(path.clone(), clock).unwrap();
        assert!(!token.refresh_after_rejection());
        write(&path, "new", "2026-12-05T15:00:00Z");
        assert!(token.refresh_after_rejection());
        assert_eq!(token.current(), "new");
    }
}
