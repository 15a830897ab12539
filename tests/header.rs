//! The committed C header must be what cbindgen generates from the source
//! now. Set MINKNOW_AUTH_BLESS=1 to rewrite it after an ABI change.

use std::path::Path;

#[test]
fn header_matches_the_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write(&mut generated);
    let path = root.join("include/minknow_auth.h");
    if std::env::var_os("MINKNOW_AUTH_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write header");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/minknow_auth.h is stale: run `MINKNOW_AUTH_BLESS=1 cargo test --test header` \
         and commit the result"
    );
}

#[test]
fn every_macro_is_prefixed() {
    let header = include_str!("../include/minknow_auth.h");
    for line in header.lines().filter(|l| l.starts_with("#define ")) {
        let name = line.split_whitespace().nth(1).unwrap_or("");
        assert!(name.starts_with("MINKNOW_"), "unprefixed macro in the header: {line}");
    }
}

#[test]
fn version_macros_match_cargo_toml() {
    let header = include_str!("../include/minknow_auth.h");
    let value = |name: &str| -> String {
        let line = header.lines().find(|l| l.starts_with(&format!("#define {name} "))).unwrap();
        line.split_whitespace().nth(2).unwrap().to_owned()
    };
    assert_eq!(value("MINKNOW_AUTH_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(value("MINKNOW_AUTH_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(value("MINKNOW_AUTH_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
}
