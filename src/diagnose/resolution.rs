//! The resolution report: what the library would use before dialling, and
//! why. The same rules as [`crate::channel::resolve`] (which this calls);
//! only the record is fuller.

use serde_json::{json, Value};

use crate::channel::options::ConnectOptions;
use crate::channel::resolve::{self, Resolved};
use crate::env::{self, Env};
use crate::error::{Error, Status};
use crate::sources::ca::{self, CaSearch, Os, TrustedCas};
use crate::sources::identity::Identity;
use crate::sources::token_policy::{self, LocalTokenMode, LocalTokenUse, TokenPlan};
use crate::x509::{self, AltName, Certificate, KeyUsage, Version};

use super::Cause;

/// What was resolved, ready to dial.
pub struct Material {
    pub host: String,
    pub cas: TrustedCas,
    pub identity: Option<Identity>,
    pub plan: TokenPlan,
    pub notes: Vec<String>,
    pub local_use: LocalTokenUse,
    pub host_is_local: bool,
}

pub struct Resolution {
    pub json: Value,
    pub material: std::result::Result<Material, (Cause, Error)>,
}

/// Environment variables that hold paths or switches: shown with values.
/// `PROTOCOL_TOKEN` holds a secret: only whether it is set.
const SHOWN: [&str; 5] = [
    env::TRUSTED_CA,
    env::CLIENT_CERTIFICATE_CHAIN,
    env::CLIENT_KEY,
    env::USE_LOCAL_TOKEN,
    env::RPC_PORT_SECURE,
];

pub fn resolve(host: &str, options: &ConnectOptions, env: &Env) -> Resolution {
    let mut json = json!({
        "use_environment": options.use_environment,
        "environment": environment(env),
    });
    let host = match resolve::check_host(host) {
        Ok(host) => host,
        Err(e) => return Resolution { json, material: Err((Cause::InvalidArgument, e)) },
    };

    // The CAs on their own first, so that their record survives a failure
    // of the identity (resolve() below reads them again, as connect does).
    let search = CaSearch { explicit: options.ca.clone(), root: options.ca_search_root.clone() };
    if let Err(e) = ca::resolve(&search, env, Os::current()) {
        let cause =
            if e.status() == Status::NoTrustedCa { Cause::NoTrustedCa } else { Cause::BadCaFile };
        json["ca"] = json!({ "error": e.message() });
        return Resolution { json, material: Err((cause, e)) };
    }
    let Resolved { cas, identity, plan, notes } = match resolve::resolve(&host, options, env) {
        Ok(resolved) => resolved,
        Err(e) => {
            json["identity"] = json!({ "error": e.message() });
            return Resolution { json, material: Err((Cause::BadClientIdentity, e)) };
        }
    };

    let names = token_policy::own_host_names();
    let host_is_local = token_policy::is_local_host(&host, &names);
    let local_use = token_policy::local_token_use(options.local_token, &host, env, &names);
    json["ca"] = ca_json(&cas);
    json["identity"] = identity.as_ref().map_or(Value::Null, |id| identity_json(id, options, env));
    json["token"] = token_json(&host, options, env, &plan, local_use, host_is_local);
    json["notes"] = json!(notes);
    let material = Material { host, cas, identity, plan, notes, local_use, host_is_local };
    Resolution { json, material: Ok(material) }
}

fn environment(env: &Env) -> Value {
    let mut vars = Vec::new();
    for name in SHOWN {
        let value = env.get(name).map(|v| v.to_string_lossy().into_owned());
        vars.push(json!({ "name": name, "set": value.is_some(), "value": value }));
    }
    let set = env.get(env::PROTOCOL_TOKEN).is_some();
    vars.push(json!({ "name": env::PROTOCOL_TOKEN, "set": set, "value": Value::Null }));
    Value::Array(vars)
}

/// The source of each trusted certificate, by its index in `cas`.
pub fn ca_sources(cas: &TrustedCas) -> Vec<String> {
    let mut sources = Vec::new();
    for attempt in &cas.attempts {
        if let Ok(n) = attempt.outcome {
            sources.extend(std::iter::repeat_n(attempt.source.clone(), n));
        }
    }
    sources
}

fn ca_json(cas: &TrustedCas) -> Value {
    let attempts: Vec<Value> = cas
        .attempts
        .iter()
        .map(|a| match &a.outcome {
            Ok(n) => json!({ "source": a.source, "ok": true, "certificates": n }),
            Err(why) => json!({ "source": a.source, "ok": false, "error": why }),
        })
        .collect();
    let sources = ca_sources(cas);
    let trusted: Vec<Value> = cas
        .certificates
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let mut cert = certificate_json(der);
            cert["index"] = json!(i + 1);
            cert["source"] = json!(sources.get(i));
            cert
        })
        .collect();
    json!({ "attempts": attempts, "trusted": trusted })
}

/// A certificate's public facts: never its body or key.
pub fn certificate_json(der: &[u8]) -> Value {
    let Ok(cert) = Certificate::parse(der) else {
        return json!({ "error": "not a valid X.509 certificate" });
    };
    let now = now();
    let (names, names_from) = match &cert.extensions.subject_alt_names {
        Some(sans) => (
            sans.iter()
                .map(|n| match n {
                    AltName::Dns(d) => (*d).to_owned(),
                    AltName::Ip(ip) => ip.to_string(),
                })
                .collect(),
            "subjectAltName",
        ),
        None => (cert.subject_common_names(), "commonName"),
    };
    json!({
        "subject": cert.subject_text(),
        "issuer": cert.issuer_text(),
        "version": match cert.version { Version::V1 => 1, Version::V2 => 2, Version::V3 => 3 },
        "names": names,
        "names_from": names_from,
        "not_before": x509::format_time(cert.not_before),
        "not_after": x509::format_time(cert.not_after),
        "valid_now": cert.not_before <= now && now <= cert.not_after,
        "self_signed": cert.is_self_issued(),
        "ca": cert.extensions.basic_constraints.map(|b| b.ca),
        "key_usage": cert.extensions.key_usage.map(key_usage_names),
        "extended_key_usage": cert.extensions.extended_key_usage.as_ref().map(|ekus| {
            ekus.iter().map(|e| eku_name(e)).collect::<Vec<_>>()
        }),
    })
}

pub fn now() -> i64 {
    let ms = crate::credentials::clock::Clock::now_ms(&crate::credentials::clock::SystemClock);
    ms.div_euclid(1000)
}

fn key_usage_names(ku: KeyUsage) -> Vec<&'static str> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    NAMES.iter().enumerate().filter(|(bit, _)| ku.has(1 << bit)).map(|(_, n)| *n).collect()
}

fn eku_name(oid: &[u8]) -> String {
    match oid {
        o if o == x509::EKU_SERVER_AUTH => "serverAuth".to_owned(),
        o if o == x509::EKU_CLIENT_AUTH => "clientAuth".to_owned(),
        o if o == x509::EKU_ANY => "anyExtendedKeyUsage".to_owned(),
        other => x509::oid_text(other),
    }
}

fn identity_json(id: &Identity, options: &ConnectOptions, env: &Env) -> Value {
    let (chain, key) = match &options.identity {
        Some((chain, key)) => (chain.describe(), key.describe()),
        None => {
            let show = |name: &str| {
                let path = env.get(name).map(|v| v.to_string_lossy().into_owned());
                format!("{} (from {name})", path.unwrap_or_default())
            };
            (show(env::CLIENT_CERTIFICATE_CHAIN), show(env::CLIENT_KEY))
        }
    };
    let mut json = id.chain().first().map_or(Value::Null, |leaf| certificate_json(leaf));
    json["chain"] = json!(chain);
    json["key"] = json!(key);
    json["chain_length"] = json!(id.chain().len());
    json
}

fn token_json(
    host: &str,
    options: &ConnectOptions,
    env: &Env,
    plan: &TokenPlan,
    local_use: LocalTokenUse,
    host_is_local: bool,
) -> Value {
    let local = match (options.local_token, local_use) {
        (LocalTokenMode::Off, _) => "not used: turned off by the caller".to_owned(),
        (LocalTokenMode::On, LocalTokenUse::ForcedRemote) => {
            format!("forced on by the caller although {host} is not this machine")
        }
        (_, LocalTokenUse::LocalHost) => {
            format!("asked for: {host} is this machine (if MinKNOW's local guest mode is on)")
        }
        (_, LocalTokenUse::ForcedRemote) => {
            format!("forced on by {} although {host} is not this machine", env::USE_LOCAL_TOKEN)
        }
        (_, LocalTokenUse::No) if env.get(env::USE_LOCAL_TOKEN).is_some() => {
            format!("not used: turned off by {}", env::USE_LOCAL_TOKEN)
        }
        (_, LocalTokenUse::No) => format!(
            "not used: {host} is not this machine (a local token never leaves it unless {} \
             forces it)",
            env::USE_LOCAL_TOKEN
        ),
    };
    let developer = if options.developer_token.is_some() { "given" } else { "not given" };
    let protocol = match (&options.protocol_token, env.non_empty(env::PROTOCOL_TOKEN)) {
        (Some(_), _) => "given by the caller",
        (None, Some(_)) => "set in PROTOCOL_TOKEN",
        (None, None) => "not set",
    };
    json!({
        "plan": plan.describe(),
        "host_is_local": host_is_local,
        "developer_token": developer,
        "local_token": local,
        "protocol_token": protocol,
    })
}

/// The resolution part of the text report.
pub fn text(json: &Value) -> String {
    let mut out = String::new();
    if let Some(vars) = json["environment"].as_array() {
        let set: Vec<String> = vars
            .iter()
            .filter(|v| v["set"] == true)
            .map(|v| match v["value"].as_str() {
                Some(value) => format!("{}={value}", v["name"].as_str().unwrap_or("?")),
                None => format!("{} (set)", v["name"].as_str().unwrap_or("?")),
            })
            .collect();
        let shown = if set.is_empty() { "none".to_owned() } else { set.join(", ") };
        out.push_str(&format!("environment: {shown}\n"));
    }
    if let Some(error) = json["ca"]["error"].as_str() {
        out.push_str(&format!("trusted CAs: {error}\n"));
    }
    for attempt in json["ca"]["attempts"].as_array().into_iter().flatten() {
        let source = attempt["source"].as_str().unwrap_or("?");
        match attempt["ok"].as_bool() {
            Some(true) => out.push_str(&format!(
                "CA file: {source}: {} certificate(s)\n",
                attempt["certificates"]
            )),
            _ => out.push_str(&format!(
                "CA file: {source}: not used: {}\n",
                attempt["error"].as_str().unwrap_or("?")
            )),
        }
    }
    for ca in json["ca"]["trusted"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "trusted CA #{}: {} (v{}, valid until {})\n",
            ca["index"],
            ca["subject"].as_str().unwrap_or("?"),
            ca["version"],
            ca["not_after"].as_str().unwrap_or("?")
        ));
    }
    match &json["identity"] {
        Value::Null => out.push_str("client certificate: none\n"),
        id if id["error"].is_string() => {
            out.push_str(&format!("client certificate: {}\n", id["error"].as_str().unwrap_or("?")))
        }
        id => out.push_str(&format!(
            "client certificate: {} issued by {} (key usage {}, extended key usage {}, valid \
             until {}), from {}\n",
            id["subject"].as_str().unwrap_or("?"),
            id["issuer"].as_str().unwrap_or("?"),
            list_or_absent(&id["key_usage"]),
            list_or_absent(&id["extended_key_usage"]),
            id["not_after"].as_str().unwrap_or("?"),
            id["chain"].as_str().unwrap_or("?"),
        )),
    }
    if let Some(plan) = json["token"]["plan"].as_str() {
        out.push_str(&format!(
            "token: {plan}; local token {}\n",
            json["token"]["local_token"].as_str().unwrap_or("?")
        ));
    }
    out
}

fn list_or_absent(value: &Value) -> String {
    match value.as_array() {
        None => "absent".to_owned(),
        Some(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("+"),
    }
}
