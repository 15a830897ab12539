//! Diagnosis: why a connection works or does not, for people and programs.
//!
//! [`diagnose`] resolves everything [`crate::channel::Channel::connect`]
//! would (environment, CA files in order, client identity, token rule),
//! then dials step by step — TCP, TLS, HTTP/2, the unauthenticated
//! `local_authentication_token_path`, the authenticated `get_version_info`
//! — and stops at the first failure with its likely [`Cause`] and fix. The
//! report serialises to JSON ([`Report::to_json`]) for the C ABI and the
//! `minknow-auth doctor` command.
//!
//! Like every other part of the library, a report names token sources and
//! files, never token values, keys or certificate bodies.

pub mod cause;
mod dial;
mod record;
mod resolution;

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::channel::options::{self, ConnectOptions};
use crate::error::Result;

pub use cause::Cause;

/// The version of the JSON layout, in the report's `schema` field. Not
/// `pub`: cbindgen would put a `pub const` in the C header.
const SCHEMA: &str = "minknow-auth-doctor/1";

/// One step of the dial, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepName {
    Resolve,
    Tcp,
    Tls,
    Http2,
    UnauthenticatedCall,
    AuthenticatedCall,
}

impl StepName {
    pub fn code(self) -> &'static str {
        match self {
            StepName::Resolve => "resolve",
            StepName::Tcp => "tcp",
            StepName::Tls => "tls",
            StepName::Http2 => "http2",
            StepName::UnauthenticatedCall => "unauthenticated_call",
            StepName::AuthenticatedCall => "authenticated_call",
        }
    }
}

/// What one step did.
#[derive(Clone, Debug)]
pub struct Step {
    pub name: StepName,
    pub ok: bool,
    /// One line for people.
    pub summary: String,
    /// Step-specific facts (addresses, certificates, the token file...).
    pub details: Map<String, Value>,
}

/// The first failure, with its likely cause.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    pub step: StepName,
    pub cause: Cause,
    /// What happened, naming host, port, file or certificate.
    pub message: String,
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Report {
    pub host: String,
    pub port: u16,
    /// Why this port: given, or the default rule.
    pub port_reason: String,
    pub server_name: String,
    /// Environment, CA files, identity and token rule, as JSON.
    pub resolution: Value,
    pub steps: Vec<Step>,
    pub diagnosis: Option<Diagnosis>,
    /// Things that worked but look wrong (a client certificate that was
    /// never asked for, a local token forced to another host).
    pub warnings: Vec<String>,
}

impl Report {
    /// True when every step passed.
    pub fn ok(&self) -> bool {
        self.diagnosis.is_none()
    }

    /// The report as JSON; see the README for the layout.
    pub fn to_json(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                json!({
                    "step": s.name.code(),
                    "ok": s.ok,
                    "summary": s.summary,
                    "details": Value::Object(s.details.clone()),
                })
            })
            .collect();
        let diagnosis = self.diagnosis.as_ref().map(|d| {
            json!({
                "step": d.step.code(),
                "cause": d.cause.code(),
                "message": d.message,
                "fix": d.cause.fix(),
            })
        });
        json!({
            "schema": SCHEMA,
            "ok": self.ok(),
            "host": self.host,
            "port": self.port,
            "port_reason": self.port_reason,
            "server_name": self.server_name,
            "resolution": self.resolution,
            "steps": steps,
            "diagnosis": diagnosis,
            "warnings": self.warnings,
        })
    }

    /// The report for people, one line per fact.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "minknow-auth doctor: {} port {} ({}), server name {}\n",
            self.host, self.port, self.port_reason, self.server_name
        );
        out.push_str(&resolution::text(&self.resolution));
        for step in &self.steps {
            let mark = if step.ok { "ok  " } else { "FAIL" };
            out.push_str(&format!("[{mark}] {:<20} {}\n", step.name.code(), step.summary));
        }
        for warning in &self.warnings {
            out.push_str(&format!("warning: {warning}\n"));
        }
        match &self.diagnosis {
            None => out.push_str("result: connected and authenticated\n"),
            Some(d) => {
                out.push_str(&format!(
                    "result: failed at {} ({})\n",
                    d.step.code(),
                    d.cause.code()
                ));
                out.push_str(&format!("  what: {}\n", d.message));
                out.push_str(&format!("  fix:  {}\n", d.cause.fix()));
            }
        }
        out
    }
}

/// Diagnose a connection to the manager on `host` (`port` defaults as in
/// [`crate::channel::Channel::connect`]) with `options`. Never fails: a
/// failure is the report's diagnosis. Network steps are bounded together
/// by the options' connect timeout.
pub async fn diagnose(host: &str, port: Option<u16>, options: &ConnectOptions) -> Report {
    let env = options.env();
    let resolved = resolution::resolve(host, options, &env);
    let has_identity = resolved.material.as_ref().is_ok_and(|m| m.identity.is_some());
    let chosen = options::manager_port(port, has_identity);
    let port_reason = match port {
        Some(_) => "given".to_owned(),
        None if has_identity => "default with a client certificate".to_owned(),
        None => "default without a client certificate".to_owned(),
    };
    let mut report = Report {
        host: host.to_owned(),
        port: chosen,
        port_reason,
        server_name: options
            .server_name
            .clone()
            .unwrap_or_else(|| options::DEFAULT_SERVER_NAME.to_owned()),
        resolution: resolved.json.clone(),
        steps: Vec::new(),
        diagnosis: None,
        warnings: Vec::new(),
    };
    let material = match resolved.material {
        Ok(material) => material,
        Err((cause, err)) => {
            report.fail(StepName::Resolve, cause, err.message(), Map::new());
            return report;
        }
    };
    report.pass(StepName::Resolve, "options, environment and files read".to_owned(), Map::new());
    if material.identity.is_some() && chosen == options::TOKEN_PORT {
        report.warnings.push(format!(
            "a client certificate is configured but port {chosen} never accepts client \
             certificates (use 9501)"
        ));
    }
    report.warnings.extend(material.notes.iter().cloned());
    dial::run(&mut report, &material, options).await;
    report
}

/// [`diagnose`] on the library's runtime, for callers that are not async.
/// Errors only when the runtime cannot run it.
pub fn diagnose_blocking(
    host: &str,
    port: Option<u16>,
    options: &ConnectOptions,
) -> Result<Report> {
    crate::runtime::block_on(diagnose(host, port, options))
}

impl Report {
    fn pass(&mut self, name: StepName, summary: String, details: Map<String, Value>) {
        self.steps.push(Step { name, ok: true, summary, details });
    }

    fn fail(&mut self, name: StepName, cause: Cause, message: &str, details: Map<String, Value>) {
        let summary = format!("{}: {message}", cause.code());
        self.steps.push(Step { name, ok: false, summary, details });
        self.diagnosis = Some(Diagnosis { step: name, cause, message: message.to_owned() });
    }
}

/// How long is left before `deadline`, at least a millisecond so that a
/// timeout of zero still fails as a timeout.
fn remaining(deadline: tokio::time::Instant) -> Duration {
    deadline.saturating_duration_since(tokio::time::Instant::now()).max(Duration::from_millis(1))
}
