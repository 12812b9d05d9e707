//! Golden tests: each `tests/golden/*.yaml` is a broken flow; its rendered diagnostics must
//! equal `tests/golden/*.expected`. Regenerate with `UPDATE_GOLDEN=1 cargo test -p hotline-flow
//! --test golden` and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hotline_flow::{Sources, load_flow_str, render_diagnostics};

fn render(name: &str, source: &str, dir: &Path) -> String {
    let file = format!("tests/golden/{name}");
    let diags = match load_flow_str(source, &file, dir) {
        Ok(loaded) => loaded.warnings,
        Err(diags) => diags,
    };
    let mut sources = Sources::new();
    sources.add(file, source);
    render_diagnostics(&diags, &sources)
}

#[test]
fn golden_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let mut failures = Vec::new();
    for name in names {
        let source = std::fs::read_to_string(dir.join(&name)).unwrap();
        // A relative base folder keeps paths in the output machine-independent (tests run
        // from the crate folder).
        let actual = render(&name, &source, Path::new("tests/golden"));
        let expected_path = dir.join(name.replace(".yaml", ".expected"));
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "=== {name}: rendered diagnostics differ from {}\n--- actual ---\n{actual}",
                expected_path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
