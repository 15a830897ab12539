//! The local token: MinKNOW's "local guest mode" credential, published in a JSON file that
//! only this machine's users can read, rotated on a schedule with a grace period for the old one.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

use crate::files;
use crate::random;

/// How long a token that never rotates claims to be valid.
const UNROTATED_LIFETIME: Duration = Duration::from_secs(86_400);

/// Where "now" comes from, so rotation and grace can be tested without waiting.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Which of the local tokens a presented value matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalMatch {
    Current,
    /// The token before the last rotation, still inside its grace period.
    Previous,
}

/// How long an old token stays accepted while its replacement is not yet in the file (the
/// grace period proper starts when it is).
const UNTIL_PUBLISHED: Duration = Duration::from_secs(3_600);

/// The current token and, after a rotation, the previous one with the time it stops working.
#[derive(Debug)]
pub struct TokenRing {
    current: String,
    previous: Option<(String, SystemTime)>,
}

impl TokenRing {
    pub fn new(token: String) -> Self {
        TokenRing { current: token, previous: None }
    }

    pub fn current(&self) -> &str {
        &self.current
    }

    /// Makes `token` current; the old one stays accepted until `now + grace`.
    pub fn rotate(&mut self, token: String, now: SystemTime, grace: Duration) {
        let old = std::mem::replace(&mut self.current, token);
        self.previous = Some((old, now + grace));
    }

    /// The previous token stops working at `now + grace` (called once the file holds the
    /// new token, so the grace period never ends before a client could read the new one).
    pub fn start_grace(&mut self, now: SystemTime, grace: Duration) {
        if let Some((_, until)) = &mut self.previous {
            *until = now + grace;
        }
    }

    pub fn check(&self, presented: &str, now: SystemTime) -> Option<LocalMatch> {
        if constant_time_eq(presented, &self.current) {
            return Some(LocalMatch::Current);
        }
        match &self.previous {
            Some((old, until)) if now < *until && constant_time_eq(presented, old) => {
                Some(LocalMatch::Previous)
            }
            _ => None,
        }
    }
}

/// Compares without an early exit, so timing says nothing about how much of a token matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The file's contents: `{"token": ..., "expires": <RFC 3339 UTC>}`, in MinKNOW's key order.
pub fn token_json(token: &str, expires: SystemTime) -> String {
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    format!("{{\"token\": {}, \"expires\": {}}}", quoted(token), quoted(&rfc3339(expires)))
}

/// Formats like MinKNOW does: microseconds and an explicit `+00:00` offset.
pub fn rfc3339(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The live local-token state shared by every port, and the file that publishes it.
pub struct LocalTokens {
    path: PathBuf,
    ring: Mutex<TokenRing>,
    rotate: Duration,
    grace: Duration,
    clock: Arc<dyn Clock>,
}

impl LocalTokens {
    /// Issues the first token and writes the file. `rotate` zero means never rotate.
    pub fn create(
        path: PathBuf,
        rotate: Duration,
        grace: Duration,
        clock: Arc<dyn Clock>,
    ) -> io::Result<Self> {
        let tokens = LocalTokens {
            path,
            ring: Mutex::new(TokenRing::new(random::token())),
            rotate,
            grace,
            clock,
        };
        tokens.write_file(&tokens.lock().current.clone(), tokens.clock.now())?;
        Ok(tokens)
    }

    pub fn path(&self) -> &PathBuf {
        &self.path
    }

    pub fn rotate_every(&self) -> Duration {
        self.rotate
    }

    pub fn check(&self, presented: &str) -> Option<LocalMatch> {
        self.lock().check(presented, self.clock.now())
    }

    /// Issues a new token. The ring changes before the file, so a client that reads the new
    /// file can use the token at once; the old token's grace period starts once the file is
    /// written, so even with no grace a client is never refused a token the file still holds.
    pub fn rotate(&self) -> io::Result<()> {
        let (token, issued) = self.rotate_ring();
        self.publish(&token, issued)
    }

    /// The first half of a rotation: the ring accepts a new token (returned with its issue
    /// time) before any file says so, and the old one until [`LocalTokens::publish`] has
    /// written the file (plus the grace period).
    pub fn rotate_ring(&self) -> (String, SystemTime) {
        let now = self.clock.now();
        let token = random::token();
        self.lock().rotate(token.clone(), now, UNTIL_PUBLISHED);
        (token, now)
    }

    /// Writes the file for a token from [`LocalTokens::rotate_ring`], atomically, and starts
    /// the old token's grace period.
    pub fn publish(&self, token: &str, issued: SystemTime) -> io::Result<()> {
        let written = self.write_file(token, issued);
        self.lock().start_grace(self.clock.now(), self.grace);
        written
    }

    /// Leaves the file holding the first half of its new contents, written in place, as a
    /// rotation that is not atomic can be seen half way.
    pub fn write_half(&self, token: &str, issued: SystemTime) -> io::Result<()> {
        let json = token_json(token, issued + self.lifetime());
        std::fs::write(&self.path, &json.as_bytes()[..json.len() / 2])
    }

    fn lifetime(&self) -> Duration {
        if self.rotate.is_zero() {
            UNROTATED_LIFETIME
        } else {
            self.rotate
        }
    }

    fn write_file(&self, token: &str, issued: SystemTime) -> io::Result<()> {
        let json = token_json(token, issued + self.lifetime());
        files::write_atomic(&self.path, json.as_bytes(), 0o600)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TokenRing> {
        // A panic elsewhere while holding the lock leaves the ring intact; keep serving.
        self.ring.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeClock(Mutex<SystemTime>);

    impl FakeClock {
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn rfc3339_format() {
        let t = at(1_796_396_400) + Duration::from_micros(123_456);
        assert_eq!(rfc3339(t), "2026-12-04T15:00:00.123456+00:00");
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00.000000+00:00");
    }

    #[test]
    fn json_has_token_and_expires() {
        let json: serde_json::Value =
            serde_json::from_str(&token_json("abc", at(1_796_396_400))).unwrap();
        assert_eq!(json["token"], "abc");
        assert_eq!(json["expires"], "2026-12-04T15:00:00.000000+00:00");
        assert_eq!(json.as_object().unwrap().len(), 2);
    }

    #[test]
    fn ring_grace_period() {
        let mut ring = TokenRing::new("one".into());
        assert_eq!(ring.check("one", at(0)), Some(LocalMatch::Current));
        assert_eq!(ring.check("two", at(0)), None);

        ring.rotate("two".into(), at(100), Duration::from_secs(2));
        assert_eq!(ring.check("two", at(100)), Some(LocalMatch::Current));
        assert_eq!(ring.check("one", at(101)), Some(LocalMatch::Previous));
        assert_eq!(ring.check("one", at(102)), None);

        // Only one previous token is kept.
        ring.rotate("three".into(), at(103), Duration::from_secs(2));
        assert_eq!(ring.check("two", at(103)), Some(LocalMatch::Previous));
        assert_eq!(ring.check("one", at(103)), None);
    }

    #[test]
    fn grace_starts_when_the_file_is_published() {
        let mut ring = TokenRing::new("one".into());
        ring.rotate("two".into(), at(100), UNTIL_PUBLISHED);
        // Not yet in the file: the old token still works, even with no grace.
        assert_eq!(ring.check("one", at(100)), Some(LocalMatch::Previous));
        ring.start_grace(at(101), Duration::ZERO);
        assert_eq!(ring.check("one", at(101)), None);
        assert_eq!(ring.check("two", at(101)), Some(LocalMatch::Current));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(!constant_time_eq("", "a"));
    }

    #[test]
    fn local_tokens_rotate_and_rewrite_the_file() {
        let dir = files::fresh_temp_dir("token-test").unwrap();
        let path = dir.join("local-token.json");
        let clock = Arc::new(FakeClock(Mutex::new(at(1_000_000))));
        let tokens = LocalTokens::create(
            path.clone(),
            Duration::from_secs(10),
            Duration::from_secs(2),
            clock.clone(),
        )
        .unwrap();

        let read = || -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
        };
        let first = read();
        let first_token = first["token"].as_str().unwrap().to_string();
        assert_eq!(first["expires"], rfc3339(at(1_000_010)));
        assert_eq!(tokens.check(&first_token), Some(LocalMatch::Current));

        clock.advance(Duration::from_secs(10));
        tokens.rotate().unwrap();
        let second = read();
        let second_token = second["token"].as_str().unwrap();
        assert_ne!(second_token, first_token);
        assert_eq!(second["expires"], rfc3339(at(1_000_020)));
        assert_eq!(tokens.check(second_token), Some(LocalMatch::Current));
        assert_eq!(tokens.check(&first_token), Some(LocalMatch::Previous));

        clock.advance(Duration::from_secs(2));
        assert_eq!(tokens.check(&first_token), None);
        assert_eq!(tokens.check(second_token), Some(LocalMatch::Current));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_faulty_rotation_accepts_the_new_token_before_the_file_is_whole() {
        let dir = files::fresh_temp_dir("token-fault-test").unwrap();
        let path = dir.join("local-token.json");
        let clock = Arc::new(FakeClock(Mutex::new(at(3_000_000))));
        let tokens = LocalTokens::create(
            path.clone(),
            Duration::from_secs(2),
            Duration::from_secs(2),
            clock,
        )
        .unwrap();
        let (token, issued) = tokens.rotate_ring();
        assert_eq!(tokens.check(&token), Some(LocalMatch::Current));
        tokens.write_half(&token, issued).unwrap();
        let half = std::fs::read(&path).unwrap();
        assert!(serde_json::from_slice::<serde_json::Value>(&half).is_err());
        tokens.publish(&token, issued).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["token"], token.as_str());
        assert!(token_json(&token, issued + Duration::from_secs(2))
            .starts_with(std::str::from_utf8(&half).unwrap()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unrotated_token_expires_in_a_day() {
        let dir = files::fresh_temp_dir("token-day-test").unwrap();
        let path = dir.join("local-token.json");
        let clock = Arc::new(FakeClock(Mutex::new(at(2_000_000))));
        LocalTokens::create(path.clone(), Duration::ZERO, Duration::from_secs(2), clock).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["expires"], rfc3339(at(2_086_400)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
