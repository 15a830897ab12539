//! Matching the server certificate against the name the client expects.
//!
//! The rules follow OpenSSL/BoringSSL as gRPC C-core uses them: DNS
//! subjectAltNames when the certificate has any, else the subject's
//! commonName (MinKNOW's leaves often carry only `CN=localhost`); IP
//! addresses against iPAddress subjectAltNames, or the commonName text when
//! there is no subjectAltName at all (C-core compares it as a string).

use std::net::IpAddr;

use rustls_pki_types::ServerName;

use crate::x509::{AltName, Certificate};

/// `Ok` when `leaf` is valid for `expected`, else the message to show.
pub(crate) fn check(leaf: &Certificate<'_>, expected: &ServerName<'_>) -> Result<(), String> {
    let matched = match expected {
        ServerName::DnsName(dns) => matches_dns(leaf, dns.as_ref()),
        ServerName::IpAddress(ip) => matches_ip(leaf, IpAddr::from(*ip)),
        _ => return Err(format!("unsupported kind of server name {expected:?}")),
    };
    if matched {
        return Ok(());
    }
    let shown = match expected {
        ServerName::IpAddress(ip) => format!("address {}", IpAddr::from(*ip)),
        _ => format!("name '{}'", expected.to_str()),
    };
    Err(format!(
        "server certificate {} is not valid for {shown} ({})",
        leaf.subject_text(),
        names_text(leaf)
    ))
}

fn matches_dns(leaf: &Certificate<'_>, host: &str) -> bool {
    let sans = leaf.extensions.subject_alt_names.as_deref().unwrap_or_default();
    let dns: Vec<&str> = sans
        .iter()
        .filter_map(|n| match n {
            AltName::Dns(d) => Some(*d),
            AltName::Ip(_) => None,
        })
        .collect();
    if !dns.is_empty() {
        return dns.iter().any(|pattern| dns_matches(pattern, host));
    }
    leaf.subject_common_names().iter().any(|cn| dns_matches(cn, host))
}

fn matches_ip(leaf: &Certificate<'_>, ip: IpAddr) -> bool {
    match &leaf.extensions.subject_alt_names {
        Some(sans) => sans.contains(&AltName::Ip(ip)),
        None => leaf.subject_common_names().iter().any(|cn| cn.parse::<IpAddr>() == Ok(ip)),
    }
}

/// Case-insensitive comparison, ignoring one trailing dot, with a `*`
/// allowed as the whole leftmost label of the pattern (matching exactly one
/// label, and never directly under a top-level name).
fn dns_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern).to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return !pattern.is_empty() && pattern == host;
    };
    if !suffix.contains('.') || suffix.contains('*') {
        return false;
    }
    match host.split_once('.') {
        Some((first, rest)) => !first.is_empty() && rest == suffix,
        None => false,
    }
}

/// "its names: a, b" for messages.
fn names_text(leaf: &Certificate<'_>) -> String {
    let names: Vec<String> = match &leaf.extensions.subject_alt_names {
        Some(sans) => sans
            .iter()
            .map(|n| match n {
                AltName::Dns(d) => (*d).to_owned(),
                AltName::Ip(ip) => ip.to_string(),
            })
            .collect(),
        None => leaf.subject_common_names(),
    };
    if names.is_empty() {
        return "it has no names".to_owned();
    }
    format!("its names: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::dns_matches;

    #[test]
    fn dns_patterns() {
        assert!(dns_matches("localhost", "LocalHost"));
        assert!(dns_matches("localhost.", "localhost"));
        assert!(dns_matches("*.lab.example", "seq1.lab.example"));
        assert!(!dns_matches("*.lab.example", "lab.example"));
        assert!(!dns_matches("*.lab.example", "a.seq1.lab.example"));
        assert!(!dns_matches("*.example", "lab.example"));
        assert!(!dns_matches("s*.lab.example", "seq.lab.example"));
        assert!(!dns_matches("", ""));
        assert!(!dns_matches("localhost", "localhost2"));
    }
}
