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
