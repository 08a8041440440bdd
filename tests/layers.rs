//! The library's modules form layers with no cycle: each top-level module of `src/`
//! names (as `crate::x` or `super::x` from its root) only modules of layers listed before
//! its own in the `//!` text of `src/lib.rs`, which this test reads, so the documented
//! layering and the code cannot drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers as `src/lib.rs` lists them: lines `//! N. `a`, `b`: what they are`.
fn documented_layers(lib: &str) -> Vec<Vec<String>> {
    lib.lines()
        .filter_map(|line| line.strip_prefix("//! "))
        .filter_map(|text| {
            let (number, rest) = text.split_once(". ")?;
            number.parse::<u32>().ok()?;
            let names = rest.split_once(": ").map_or(rest, |(names, _)| names);
            Some(backticked(names))
        })
        .collect()
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The top-level modules `src/lib.rs` declares.
fn declared_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("pub ").or(Some(line)))
        .filter_map(|line| line.strip_prefix("mod "))
        .filter_map(|line| line.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The macros exported at the crate's root (`crate::name!`), by the module defining them.
fn exported_macros(files: &BTreeMap<String, Vec<(PathBuf, String)>>) -> BTreeMap<String, String> {
    let mut macros = BTreeMap::new();
    for (module, sources) in files {
        for (_, text) in sources {
            for part in text.split("macro_rules!").skip(1) {
                let name: String = part
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                macros.insert(name, module.clone());
            }
        }
    }
    macros
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Code without its comments (doc links name modules too): what follows `//` on a line
/// is dropped, crude but enough for `crate::` paths.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The first segment after every `crate::` in `code`, and after each `super::` chain
/// that climbs to the crate's root from a file at `depth` (1 for `src/x.rs` and
/// `src/x/mod.rs`, 2 for `src/x/y.rs`...); `crate::{a, b::c}` names `a` and `b`.
fn named_roots(code: &str, depth: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    loop {
        let at = match (rest.find("crate::"), rest.find("super::")) {
            (Some(c), Some(s)) => c.min(s),
            (Some(at), None) | (None, Some(at)) => at,
            (None, None) => break,
        };
        let mut tail = &rest[at..];
        let from_root = if let Some(after) = tail.strip_prefix("crate::") {
            tail = after;
            true
        } else {
            let mut climbed = 0;
            while let Some(after) = tail.strip_prefix("super::") {
                tail = after;
                climbed += 1;
            }
            climbed >= depth
        };
        if from_root {
            if let Some(group) = tail.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or("");
                names.extend(group.split(',').map(|item| identifier(item.trim())));
            } else {
                names.push(identifier(tail));
            }
        }
        rest = tail;
    }
    names
}

fn depth_of(file: &Path, src: &Path) -> usize {
    let relative = file.strip_prefix(src).unwrap();
    let parts = relative.components().count();
    if relative.file_name().is_some_and(|name| name == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// Every use of a module by another: (user, used) -> a file where it happens.
fn edges(src: &Path, lib: &str) -> BTreeMap<(String, String), PathBuf> {
    let modules = declared_modules(lib);
    let mut files = BTreeMap::new();
    for module in &modules {
        let mut paths = Vec::new();
        let single = src.join(format!("{module}.rs"));
        if single.exists() {
            paths.push(single);
        }
        rust_files(&src.join(module), &mut paths);
        let sources: Vec<(PathBuf, String)> = paths
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                (path, text)
            })
            .collect();
        files.insert(module.clone(), sources);
    }
    let macros = exported_macros(&files);
    let mut edges = BTreeMap::new();
    for (module, sources) in &files {
        for (path, text) in sources {
            for name in named_roots(&without_comments(text), depth_of(path, src)) {
                let used = match macros.get(&name) {
                    Some(defined_in) => defined_in.clone(),
                    None if modules.contains(&name) => name,
                    None => continue,
                };
                if &used != module {
                    edges
                        .entry((module.clone(), used))
                        .or_insert_with(|| path.clone());
                }
            }
        }
    }
    edges
}

/// What breaks the layering: modules in no layer, and uses of a module of the same or
/// a later layer.
fn violations(src: &Path, lib: &str) -> Vec<String> {
    let layers = documented_layers(lib);
    let layer_of = |module: &str| {
        layers
            .iter()
            .position(|layer| layer.iter().any(|m| m == module))
    };
    let mut problems: Vec<String> = declared_modules(lib)
        .iter()
        .filter(|module| layer_of(module).is_none())
        .map(|module| {
            format!(
                "module `{module}` is in no layer: list it in the layers of src/lib.rs's //! text"
            )
        })
        .collect();
    for ((user, used), path) in edges(src, lib) {
        let (Some(user_layer), Some(used_layer)) = (layer_of(&user), layer_of(&used)) else {
            continue;
        };
        if used_layer >= user_layer {
            problems.push(format!(
                "`{user}` (layer {}) uses `{used}` (layer {}) in {}: a module may only use \
                 the layers listed before its own in src/lib.rs",
                user_layer + 1,
                used_layer + 1,
                path.display()
            ));
        }
    }
    problems
}

#[test]
fn every_module_uses_only_the_layers_below_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(
        documented_layers(&lib).len() >= 2,
        "src/lib.rs lists no layers (lines `//! 1. `module`: ...`)"
    );
    let problems = violations(&src, &lib);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_use_of_a_later_layer_is_reported_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let lib = "//! 1. `low`: below.\n//! 2. `high`: above.\npub mod low;\npub mod high;\n";
    std::fs::write(src.join("lib.rs"), lib).unwrap();
    std::fs::write(src.join("high.rs"), "use crate::low::thing;\n").unwrap();
    std::fs::create_dir(src.join("low")).unwrap();
    std::fs::write(
        src.join("low/mod.rs"),
        "mod deep;\n// crate::high in a comment\n",
    )
    .unwrap();
    std::fs::write(src.join("low/deep.rs"), "use super::super::{high, low};\n").unwrap();
    let problems = violations(src, lib);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`low` (layer 1) uses `high` (layer 2)"));
    assert!(problems[0].contains("deep.rs"));
}

#[test]
fn a_module_in_no_layer_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lib = "//! 1. `low`: below.\npub mod low;\nmod stray;\n";
    let problems = violations(dir.path(), lib);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`stray` is in no layer"));
}
