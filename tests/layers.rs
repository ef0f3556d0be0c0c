//! The floors of the house (ARCHITECTURE.md, "Layers"): every top-level module of `src/`
//! imports only from the modules declared before it in `src/lib.rs`. An upward
//! `crate::…` path, and so any cycle between top-level modules, fails this test with the
//! file and line that broke the rule.
//!
//! Test code (`#[cfg(test)] mod tests`, and the files such a declaration names) is exempt:
//! a rule's unit tests may parse a config to build their input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The most top-level modules `src/` may hold (a folder counts as one).
const MOST_MODULES: usize = 14;

/// The top-level modules in the order `lib.rs` declares them: lowest floor first.
fn floors(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').trim().to_string())
        .collect()
}

/// One `crate::MODULE` path in code: where, and which top-level module it names.
#[derive(Debug, PartialEq)]
struct Import {
    line: usize,
    module: String,
}

/// The top-level modules a file's non-test code names by `crate::…`, with their lines.
/// Comments are skipped; so is everything from `#[cfg(test)]` followed by `mod …` on.
fn imports(text: &str) -> Vec<Import> {
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            let next = lines[i + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty());
            if next.is_some_and(|n| n.starts_with("mod ") || n.starts_with("pub(crate) mod ")) {
                break;
            }
        }
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            // `yuqing_crate::` or `some_crate::` are not ours.
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(inner) = rest.strip_prefix('{') {
                // `crate::{a, b::c}`, perhaps over several lines: the first name of each
                // part at the top level of the braces.
                let mut group = String::new();
                for l in std::iter::once(inner).chain(lines[i + 1..].iter().copied()) {
                    group.push_str(l);
                    group.push(' ');
                    if l.contains('}') {
                        break;
                    }
                }
                let mut depth = 0;
                let mut part = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            found.extend(first_name(&part, i + 1));
                            part.clear();
                            continue;
                        }
                        _ => {}
                    }
                    part.push(c);
                }
                found.extend(first_name(&part, i + 1));
            } else {
                found.extend(first_name(rest, i + 1));
            }
        }
    }
    found
}

/// The module a path such as `config::Source` names first, if any.
fn first_name(path: &str, line: usize) -> Option<Import> {
    let name: String = path
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(Import { line, module: name })
}

/// Files of a top-level module: `src/NAME.rs` and everything under `src/NAME/`, minus the
/// files that hold only tests (`tests.rs`, declared by `#[cfg(test)] mod tests;`).
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        out.push(file);
    }
    let mut stack = vec![src.join(module)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && p.file_name().is_some_and(|n| n != "tests.rs")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every breach of the floor rule, as `file:line: message`.
fn breaches(order: &[String], files: &BTreeMap<String, Vec<(PathBuf, String)>>) -> Vec<String> {
    let floor: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut out = Vec::new();
    for (module, texts) in files {
        let mine = floor[module.as_str()];
        for (path, text) in texts {
            for import in imports(text) {
                let Some(&theirs) = floor.get(import.module.as_str()) else {
                    continue;
                };
                if theirs > mine {
                    out.push(format!(
                        "{}:{}: `{module}` (floor {mine}) imports `crate::{}` (floor {theirs}); \
                         a module may import only from the floors below it",
                        path.display(),
                        import.line,
                        import.module,
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn every_module_imports_only_from_the_floors_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let order = floors(&lib);
    assert!(
        order.len() <= MOST_MODULES,
        "src/lib.rs declares {} top-level modules; at most {MOST_MODULES}: {order:?}",
        order.len()
    );
    // Every top-level file or folder of src/ is declared in lib.rs, so none hides from
    // this test.
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        let name = e
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if name != "lib" && name != "main" {
            assert!(
                order.contains(&name),
                "src/{} is not declared in src/lib.rs",
                e.file_name().to_string_lossy()
            );
        }
    }
    let files: BTreeMap<String, Vec<(PathBuf, String)>> = order
        .iter()
        .map(|m| {
            let texts = files_of(&src, m)
                .into_iter()
                .map(|p| {
                    let text = std::fs::read_to_string(&p).unwrap();
                    (
                        p.strip_prefix(src.parent().unwrap()).unwrap().to_path_buf(),
                        text,
                    )
                })
                .collect();
            (m.clone(), texts)
        })
        .collect();
    let found = breaches(&order, &files);
    assert!(found.is_empty(), "upward imports:\n{}", found.join("\n"));
}

#[test]
fn an_upward_import_is_reported_at_its_line_and_test_code_is_exempt() {
    let order: Vec<String> = ["vocab", "rules", "daemon"].map(String::from).into();
    let rules = "//! Deadlines, see [`crate::daemon`].\n\
                 use crate::vocab::severity::Severity;\n\
                 pub fn f() { crate::daemon::metrics::get(); } // crate::daemon\n\
                 #[cfg(test)]\n\
                 mod tests {\n    use crate::daemon::scheduler;\n}\n";
    let daemon = "use crate::rules::deadline;\nuse crate::vocab::clock;\n";
    let vocab = "use other_crate::x;\nuse crate::{\n    rules::deadline,\n    vocab::clock,\n};\n";
    let files = BTreeMap::from([
        (
            "rules".to_string(),
            vec![(PathBuf::from("src/rules/deadline.rs"), rules.to_string())],
        ),
        (
            "daemon".to_string(),
            vec![(PathBuf::from("src/daemon.rs"), daemon.to_string())],
        ),
        (
            "vocab".to_string(),
            vec![(PathBuf::from("src/vocab.rs"), vocab.to_string())],
        ),
    ]);
    let found = breaches(&order, &files);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with(
            "src/rules/deadline.rs:3: `rules` (floor 1) imports `crate::daemon` (floor 2)"
        ),
        "{}",
        found[0]
    );
    // A grouped import names each module it takes from, at the line of `crate::`.
    assert!(
        found[1].starts_with("src/vocab.rs:2: `vocab` (floor 0) imports `crate::rules` (floor 1)"),
        "{}",
        found[1]
    );
}

#[test]
fn a_cycle_between_two_modules_is_an_upward_import_on_one_side() {
    let order: Vec<String> = ["feed", "page"].map(String::from).into();
    let files = BTreeMap::from([
        (
            "feed".to_string(),
            vec![(
                PathBuf::from("src/feed.rs"),
                "use crate::page::parse;\n".to_string(),
            )],
        ),
        (
            "page".to_string(),
            vec![(
                PathBuf::from("src/page.rs"),
                "use crate::feed::Entry;\n".to_string(),
            )],
        ),
    ]);
    assert_eq!(
        breaches(&order, &files),
        vec!["src/feed.rs:1: `feed` (floor 0) imports `crate::page` (floor 1); a module may import only from the floors below it"]
    );
}
