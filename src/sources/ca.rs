//! Which CA certificates a channel trusts, and where they were found.
//!
//! Order, as in the reference client: certificates the caller gave (PEM
//! bytes and paths, all of them together), else `MINKNOW_TRUSTED_CA` (an
//! unreadable path is recorded and the defaults are tried), else every
//! default location of the running OS that holds a readable CA. Unlike the
//! reference, every readable default is trusted, not only the first: after
//! an upgrade the old location may still hold a stale CA while the new one
//! holds the current one, and the verifier tries each CA whose name matches.
//! Files are read each time a channel is built, so a regenerated CA is
//! picked up without restarting the program.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;

use super::pem::read_certificates;
use super::Material;
use crate::env::{self, Env};
use crate::error::{Error, Result, Status};

/// The operating systems whose MinKNOW installs we know the layout of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
    Other,
}

impl Os {
    /// The OS this library was built for.
    pub fn current() -> Os {
        if cfg!(target_os = "linux") {
            Os::Linux
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Other
        }
    }
}

/// Where MinKNOW installations keep their CA, newest layouts first.
pub fn default_locations(os: Os) -> &'static [&'static str] {
    match os {
        Os::Linux => &[
            "/data/rpc-certs/minknow/ca.crt",
            "/var/lib/minknow/data/rpc-certs/minknow/ca.crt",
            "/opt/ont/minknow/conf/rpc-certs/ca.crt",
        ],
        Os::MacOs => &[
            "/Library/MinKNOW/data/rpc-certs/minknow/ca.crt",
            "/Applications/MinKNOW.app/Contents/Resources/conf/rpc-certs/ca.crt",
        ],
        Os::Windows => &[
            r"C:\data\rpc-certs\minknow\ca.crt",
            r"C:\Program Files\OxfordNanopore\MinKNOW\conf\rpc-certs\ca.crt",
        ],
        Os::Other => &[],
    }
}

/// One place a CA was looked for, and what was found there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaAttempt {
    /// The path or option, as a person would recognise it.
    pub source: String,
    /// How many certificates it gave, or why it gave none.
    pub outcome: std::result::Result<usize, String>,
}

/// The trusted certificates and the record of how they were found.
#[derive(Clone, Debug)]
pub struct TrustedCas {
    pub certificates: Vec<CertificateDer<'static>>,
    pub attempts: Vec<CaAttempt>,
}

/// Where to look: the caller's material, and for tests a root directory
/// that the default locations are taken relative to.
#[derive(Clone, Debug, Default)]
pub struct CaSearch {
    pub explicit: Vec<Material>,
    /// Prefix for the default locations (`None` = the real file system).
    pub root: Option<PathBuf>,
}

/// Find and read the CA certificates a channel should trust.
pub fn resolve(search: &CaSearch, env: &Env, os: Os) -> Result<TrustedCas> {
    if !search.explicit.is_empty() {
        return read_explicit(&search.explicit);
    }
    let mut attempts = Vec::new();
    if let Some(path) = env.non_empty(env::TRUSTED_CA) {
        let material = Material::path(PathBuf::from(path), env::TRUSTED_CA);
        if let Some(found) = try_read(&material, &mut attempts) {
            return Ok(TrustedCas { certificates: found, attempts });
        }
    }
    let mut certificates = Vec::new();
    for location in default_locations(os) {
        let path = rooted(search.root.as_deref(), location);
        let material = Material::path(path, "default location");
        certificates.extend(try_read(&material, &mut attempts).unwrap_or_default());
    }
    if certificates.is_empty() {
        return Err(no_ca_error(&attempts));
    }
    Ok(TrustedCas { certificates, attempts })
}

/// The caller named these: any failure is an error, not a fallback.
fn read_explicit(explicit: &[Material]) -> Result<TrustedCas> {
    let mut certificates = Vec::new();
    let mut attempts = Vec::new();
    for material in explicit {
        let found = read_certificates(material)?;
        attempts.push(CaAttempt { source: material.describe(), outcome: Ok(found.len()) });
        certificates.extend(found);
    }
    Ok(TrustedCas { certificates, attempts })
}

fn try_read(
    material: &Material,
    attempts: &mut Vec<CaAttempt>,
) -> Option<Vec<CertificateDer<'static>>> {
    let source = material.describe();
    match read_certificates(material) {
        Ok(found) => {
            attempts.push(CaAttempt { source, outcome: Ok(found.len()) });
            Some(found)
        }
        Err(err) => {
            attempts.push(CaAttempt { source, outcome: Err(err.message().to_owned()) });
            None
        }
    }
}

fn rooted(root: Option<&Path>, location: &str) -> PathBuf {
    match root {
        None => PathBuf::from(location),
        Some(root) => {
            let relative = location.trim_start_matches(['/', '\\']).replace(':', "");
            root.join(relative)
        }
    }
}

fn no_ca_error(attempts: &[CaAttempt]) -> Error {
    let tried: Vec<String> = attempts
        .iter()
        .map(|a| match &a.outcome {
            Ok(_) => a.source.clone(),
            Err(why) => format!("{} ({why})", a.source),
        })
        .collect();
    Error::new(
        Status::NoTrustedCa,
        format!(
            "no MinKNOW CA certificate found; tried: {}. Set {} to MinKNOW's ca.crt or pass \
             a CA explicitly",
            if tried.is_empty() { "nothing".to_owned() } else { tried.join("; ") },
            env::TRUSTED_CA
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn put(root: &Path, location: &str, contents: &str) -> PathBuf {
        let path = rooted(Some(root), location);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    fn search(root: &Path) -> CaSearch {
        CaSearch { explicit: Vec::new(), root: Some(root.to_owned()) }
    }

    #[test]
    fn default_locations_are_tried_in_order_and_all_readable_ones_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let locations = default_locations(Os::Linux);
        put(dir.path(), locations[1], &ca_pem());
        put(dir.path(), locations[2], &ca_pem());
        let found = resolve(&search(dir.path()), &Env::empty(), Os::Linux).unwrap();
        assert_eq!(found.certificates.len(), 2);
        let sources: Vec<_> = found.attempts.iter().map(|a| a.source.clone()).collect();
        assert_eq!(sources.len(), 3);
        assert!(sources[0].contains("data/rpc-certs/minknow/ca.crt"));
        assert!(found.attempts[0].outcome.is_err());
        assert_eq!(found.attempts[1].outcome, Ok(1));
    }

    #[test]
    fn env_variable_wins_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), default_locations(Os::Linux)[0], &ca_pem());
        let mine = put(dir.path(), "mine/ca.crt", &ca_pem());
        let env = Env::from_pairs(&[(env::TRUSTED_CA, mine.to_str().unwrap())]);
        let found = resolve(&search(dir.path()), &env, Os::Linux).unwrap();
        assert_eq!(found.attempts.len(), 1);
        assert!(found.attempts[0].source.contains("mine/ca.crt"));
        assert!(found.attempts[0].source.contains(env::TRUSTED_CA));
    }

    #[test]
    fn unreadable_env_path_falls_back_to_defaults() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), default_locations(Os::Linux)[1], &ca_pem());
        let env = Env::from_pairs(&[(env::TRUSTED_CA, "/nonexistent/ca.crt")]);
        let found = resolve(&search(dir.path()), &env, Os::Linux).unwrap();
        assert_eq!(found.certificates.len(), 1);
        assert!(found.attempts[0].source.contains("/nonexistent/ca.crt"));
        assert!(found.attempts[0].outcome.is_err());
    }

    #[test]
    fn explicit_material_is_used_alone_and_errors_are_fatal() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), default_locations(Os::Linux)[0], &ca_pem());
        let one = Material::pem(ca_pem(), "option ca_pem");
        let two = Material::path(put(dir.path(), "two.crt", &ca_pem()), "option ca_path");
        let s = CaSearch { explicit: vec![one, two], root: Some(dir.path().to_owned()) };
        let found = resolve(&s, &Env::empty(), Os::Linux).unwrap();
        assert_eq!(found.certificates.len(), 2);

        let missing = Material::path(dir.path().join("missing.crt"), "option ca_path");
        let s = CaSearch { explicit: vec![missing], root: Some(dir.path().to_owned()) };
        let err = resolve(&s, &Env::empty(), Os::Linux).unwrap_err();
        assert_eq!(err.status(), Status::FileError);
        assert!(err.message().contains("missing.crt"), "{}", err.message());
    }

    #[test]
    fn nothing_found_names_every_location() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(&search(dir.path()), &Env::empty(), Os::MacOs).unwrap_err();
        assert_eq!(err.status(), Status::NoTrustedCa);
        for location in default_locations(Os::MacOs) {
            let tail = location.trim_start_matches('/');
            assert!(err.message().contains(tail), "{} lacks {tail}", err.message());
        }
        assert!(err.message().contains(env::TRUSTED_CA));
    }

    #[test]
    fn windows_locations_are_rooted_without_drive_colon() {
        let p = rooted(Some(Path::new("/r")), default_locations(Os::Windows)[0]);
        assert_eq!(p, PathBuf::from(r"/r/C\data\rpc-certs\minknow\ca.crt"));
    }
}
