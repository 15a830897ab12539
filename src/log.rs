//! The library's own logging: to a callback the program installs (the C
//! API, and through it the C++, Go and R bindings), else to stderr when
//! `MINKNOW_AUTH_LOG` asks for it, else nowhere.
//!
//! Deliberately not the `log` crate's global logger: a library must not
//! install one, and C programs need a callback with user data. Messages
//! say which source and which step; they never hold a token, a key or a
//! certificate body (callers of [`emit`] pass only names, paths and hosts).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Once, RwLock};

/// How much to log, most severe first.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Off = 0,
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// Parse `MINKNOW_AUTH_LOG`'s value (any case); `None` if unknown.
    pub fn parse(text: &str) -> Option<Level> {
        let all = [Level::Off, Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace];
        all.into_iter().find(|l| l.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The level with this number (as in the C enum), if any.
    pub fn from_number(value: i32) -> Option<Level> {
        match value {
            0 => Some(Level::Off),
            1 => Some(Level::Error),
            2 => Some(Level::Warn),
            3 => Some(Level::Info),
            4 => Some(Level::Debug),
            5 => Some(Level::Trace),
            _ => None,
        }
    }
}

/// Where messages go.
pub trait Sink: Send + Sync {
    fn write(&self, level: Level, message: &str);
}

struct Stderr;

impl Sink for Stderr {
    fn write(&self, level: Level, message: &str) {
        eprintln!("minknow_auth {}: {message}", level.name());
    }
}

/// The variable that turns on logging to stderr.
pub const LOG_VARIABLE: &str = "MINKNOW_AUTH_LOG";

static MAX_LEVEL: AtomicU8 = AtomicU8::new(Level::Off as u8);
static SINK: RwLock<Option<Arc<dyn Sink>>> = RwLock::new(None);
static FROM_ENV: Once = Once::new();

/// Read `MINKNOW_AUTH_LOG` once, the first time anything is logged, unless
/// a sink was installed before.
fn init_from_env() {
    FROM_ENV.call_once(|| {
        let Some(level) = std::env::var(LOG_VARIABLE).ok().and_then(|v| Level::parse(&v)) else {
            return;
        };
        let mut sink = SINK.write().unwrap_or_else(|p| p.into_inner());
        if sink.is_none() && level != Level::Off {
            *sink = Some(Arc::new(Stderr));
            MAX_LEVEL.store(level as u8, Ordering::SeqCst);
        }
    });
}

/// Send messages up to `max` to `sink` (`None`: stop logging). Replaces
/// any earlier sink, including stderr from the environment; the earlier
/// sink is dropped once no message is being written to it.
pub fn install(max: Level, sink: Option<Arc<dyn Sink>>) {
    FROM_ENV.call_once(|| {});
    let mut slot = SINK.write().unwrap_or_else(|p| p.into_inner());
    let level = if sink.is_some() { max } else { Level::Off };
    *slot = sink;
    MAX_LEVEL.store(level as u8, Ordering::SeqCst);
}

/// Whether a message at `level` would go anywhere (cheap; check before
/// formatting).
pub fn enabled(level: Level) -> bool {
    init_from_env();
    level != Level::Off
        && level
            <= Level::from_number(i32::from(MAX_LEVEL.load(Ordering::Relaxed)))
                .unwrap_or(Level::Off)
}

/// Write one message. Use through the `log_*!` macros.
pub fn emit(level: Level, message: &str) {
    let sink = SINK.read().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(sink) = sink {
        sink.write(level, message);
    }
}

macro_rules! log_at {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, &format!($($arg)*));
        }
    };
}
pub(crate) use log_at;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_parse_back() {
        for level in
            [Level::Off, Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace]
        {
            assert_eq!(Level::parse(level.name()), Some(level));
        }
        assert_eq!(Level::parse(" DEBUG "), Some(Level::Debug));
        assert_eq!(Level::parse("verbose"), None);
    }

    #[test]
    fn levels_order_by_verbosity() {
        assert!(Level::Error < Level::Warn && Level::Debug < Level::Trace);
    }
}
