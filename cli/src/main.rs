//! `minknow-auth`: the library's diagnosis, the main manager queries and a
//! client-certificate maker, on the command line. Every subcommand prints
//! JSON with `--json`; exit status 0 on success, 1 on failure, 2 on a bad
//! command line.

mod args;
mod certificate;

use std::process::ExitCode;

use minknow_auth::channel::Channel;
use minknow_auth::diagnose::{self, StepName};
use minknow_auth::{manager, runtime, Error};
use serde_json::{json, Value};

use args::{Command, Connection, Parsed};

fn main() -> ExitCode {
    let parsed = match args::parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(why) => {
            eprintln!("minknow-auth: {why}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let Parsed { command, json } = parsed;
    let outcome = match command {
        Command::Help => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Command::Doctor(c) => doctor(&c, json),
        Command::Version(c) => version(&c),
        Command::Positions(c) => positions(&c),
        Command::TokenPath(c) => token_path(&c),
        Command::CreateClientCertificate(options) => certificate::create(&options),
    };
    match outcome {
        Outcome::Report { ok, json: value, text } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            } else {
                print!("{text}");
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Outcome::Failed(e) => {
            if json {
                let value = json!({
                    "ok": false,
                    "error": { "status": e.status().name(), "code": e.status() as i32, "message": e.message() },
                });
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            } else {
                eprintln!("minknow-auth: {e}");
            }
            ExitCode::from(1)
        }
    }
}

/// What a subcommand produced: a report (JSON and text forms), or an
/// error from the library.
pub enum Outcome {
    Report { ok: bool, json: Value, text: String },
    Failed(Error),
}

fn doctor(connection: &Connection, _json: bool) -> Outcome {
    let options = match connection.options() {
        Ok(o) => o,
        Err(e) => return Outcome::Failed(e),
    };
    let report = match diagnose::diagnose_blocking(&connection.host, connection.port, &options) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e),
    };
    Outcome::Report { ok: report.ok(), json: report.to_json(), text: report.to_text() }
}

fn connect(connection: &Connection) -> Result<Channel, Error> {
    let options = connection.options()?;
    runtime::block_on(Channel::connect(&connection.host, connection.port, &options))?
}

fn version(connection: &Connection) -> Outcome {
    let result = connect(connection).and_then(|channel| {
        let info = runtime::block_on(manager::version(&channel))??;
        Ok((channel, info))
    });
    match result {
        Ok((channel, v)) => Outcome::Report {
            ok: true,
            text: format!(
                "{}: MinKNOW {} (distribution {})\n",
                channel.target(),
                v.full,
                v.distribution
            ),
            json: json!({
                "ok": true,
                "host": channel.host(),
                "port": channel.port(),
                "minknow": { "major": v.major, "minor": v.minor, "patch": v.patch, "full": v.full },
                "bream": v.bream,
                "distribution": v.distribution,
            }),
        },
        Err(e) => Outcome::Failed(e),
    }
}

fn positions(connection: &Connection) -> Outcome {
    let result = connect(connection).and_then(|channel| {
        let positions = manager::positions(&channel)?;
        Ok((channel, positions))
    });
    let (channel, positions) = match result {
        Ok(found) => found,
        Err(e) => return Outcome::Failed(e),
    };
    let mut text = format!("{}: {} position(s)\n", channel.target(), positions.len());
    let mut list = Vec::new();
    for p in &positions {
        let port = p.secure_port.map_or_else(|| "-".to_owned(), |port| port.to_string());
        text.push_str(&format!(
            "{:<10} {:<18} port {port}\n",
            p.name,
            manager::state_name(p.state)
        ));
        list.push(json!({
            "name": p.name,
            "state": manager::state_name(p.state),
            "port": p.secure_port,
            "error_info": p.error_info,
            "is_integrated": p.is_integrated,
            "is_simulated": p.is_simulated,
            "parent_name": p.parent_name,
        }));
    }
    Outcome::Report {
        ok: true,
        text,
        json: json!({ "ok": true, "host": channel.host(), "port": channel.port(), "positions": list }),
    }
}

/// The token file the manager names, asked without credentials (it is how
/// a client finds its local token): the diagnosis up to that call.
fn token_path(connection: &Connection) -> Outcome {
    let options = match connection.options() {
        Ok(o) => o,
        Err(e) => return Outcome::Failed(e),
    };
    let report = match diagnose::diagnose_blocking(&connection.host, connection.port, &options) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e),
    };
    let step = report.steps.iter().find(|s| s.name == StepName::UnauthenticatedCall);
    let Some(step) = step.filter(|s| s.ok) else {
        let d = report.diagnosis.as_ref();
        let message = d.map_or_else(String::new, |d| {
            format!("{} ({}): {}", d.message, d.cause.code(), d.cause.fix())
        });
        let status = match d.map(|d| d.step) {
            Some(StepName::Resolve) => minknow_auth::Status::InvalidArgument,
            _ => minknow_auth::Status::ConnectFailed,
        };
        return Outcome::Failed(Error::new(status, message));
    };
    let path = step.details.get("token_file").cloned().unwrap_or(Value::Null);
    let text = match path.as_str() {
        Some(p) => format!("{p}\n"),
        None => format!("no local token file ({})\n", step.summary),
    };
    Outcome::Report {
        ok: true,
        text,
        json: json!({ "ok": true, "host": report.host, "port": report.port, "token_file": path }),
    }
}
