//! Architecture invariant: bankflow-core never does I/O and knows no framework.
//! Scans the crate's sources and its manifest; fails on anything that would break purity.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read file");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn core_sources_do_no_io() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10, "found the sources");
    // `testkit` (testkit.rs and testkit/) is test support compiled only with the `testkit` feature.
    let forbidden = [
        "std::fs",
        "std::net",
        "tokio::net",
        "tokio::fs",
        "std::process",
        "std::env::var",
        "sqlx",
        "axum",
        "hyper",
        "reqwest",
    ];
    for (path, text) in files.iter().filter(|(p, _)| !p.contains("testkit")) {
        for f in forbidden {
            assert!(
                !text.contains(f),
                "{path} uses {f}: bankflow-core must stay free of I/O and frameworks"
            );
        }
    }
}

#[test]
fn core_manifest_has_no_io_dependencies() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("manifest");
    let deps = manifest
        .split("[dev-dependencies]")
        .next()
        .expect("deps section");
    for f in [
        "sqlx",
        "axum",
        "hyper",
        "reqwest",
        "rusqlite",
        "tokio-postgres",
        "\"net\"",
        "\"fs\"",
        "\"process\"",
    ] {
        assert!(!deps.contains(f), "bankflow-core depends on {f}");
    }
}
