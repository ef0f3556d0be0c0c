//! The docs a newcomer reads work in a clone: every relative link in the README,
//! ARCHITECTURE.md and docs/*.md names a file or folder of the repository, and none points
//! outside it (`../shared/…` exists only on the machine the project was started on).

use std::path::{Path, PathBuf};

/// The targets of `[text](target)` links and of backquoted paths that look like files
/// of the repository (`docs/rules.md`, `../…`), with their line numbers.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                out.push((n + 1, rest[..end].to_string()));
            }
        }
        for quoted in line.split('`').skip(1).step_by(2) {
            if quoted.starts_with("../") {
                out.push((n + 1, quoted.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_relative_link_in_the_docs_resolves_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<PathBuf> = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "md") {
            docs.push(e.path());
        }
    }
    let mut broken = Vec::new();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for (line, target) in links(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with('#')
            {
                continue;
            }
            let path = target.split('#').next().unwrap_or("");
            let resolved = doc.parent().unwrap().join(path);
            let inside = resolved
                .canonicalize()
                .is_ok_and(|p| p.starts_with(root.canonicalize().unwrap()));
            if !inside {
                broken.push(format!(
                    "{}:{line}: {target}",
                    doc.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links that do not resolve in a clone:\n{}",
        broken.join("\n")
    );
}

#[test]
fn a_link_outside_the_repository_is_found() {
    let found = links("see [rules](../shared/domain.md) and `../shared/seeds/` or [x](docs/a.md)");
    assert_eq!(
        found.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
        ["../shared/domain.md", "docs/a.md", "../shared/seeds/"]
    );
}

/// Issue 28: the README said Rust 1.83 while `Cargo.lock` needed 1.89. The Rust the README
/// names is Cargo.toml's `rust-version`, and no locked dependency needs a newer one (read
/// with `cargo metadata`, offline, from the registry cache the build just used: this
/// platform's packages).
#[test]
fn the_readme_names_the_rust_version_the_locked_dependencies_need() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let ours = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("Cargo.toml sets rust-version");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("Rust {ours} or later")),
        "the README names another Rust than rust-version {ours}"
    );
    // `1.89` and `1.89.0` are the same version.
    let version = |v: &str| -> [u64; 3] {
        let mut parts = v.split('.').map(|n| n.parse().unwrap_or(0));
        [0; 3].map(|_| parts.next().unwrap_or(0))
    };
    // Only this platform's packages: a fresh machine's registry cache holds just those (the
    // build downloads no `windows-*` or `android_*` crate), and `--offline` cannot fetch.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let host = rustc
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(root)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let newer: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > version(ours))
                .then(|| format!("{} {} needs {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        newer.is_empty(),
        "rust-version {ours} is too old: {newer:?}"
    );
}
