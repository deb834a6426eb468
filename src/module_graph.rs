//! No import cycle between modules: a test reads every file under `src/` and fails naming
//! each cycle (`cargo test --lib module_graph`).
//!
//! What it reads: the paths a file's code names, in `use` lines or anywhere else:
//! `crate::x::…` (and `$crate::x::…` in macros) is an edge from the file's top-level module to
//! `x`; within a folder, `super::y::…` or `crate::folder::y::…` is an edge between its
//! children. A file belongs to its top-level module (`src/http.rs`, `src/http/mod.rs` and
//! `src/http/client.rs` to `http`) and, inside a folder, to the child it sits in
//! (`src/http/client.rs` to `client`). Left out:
//! - `lib.rs` and `main.rs`, which name every module;
//! - a module's paths to itself, comments (doc links included) and string literals;
//! - `#[cfg(test)]` items (the `mod tests` blocks): a test may use what it likes;
//! - a child's `super::Item` that reaches a sibling's item through the folder's `pub use`:
//!   children name a sibling's items by its path (`super::retry::RetryPolicy`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles between top-level modules tolerated for now, written as the test names them
/// (`a -> b -> a`). None today, and it must stay empty: an entry is a debt, and the test fails
/// on an entry whose cycle is gone, so one cannot outlive its cycle.
const KNOWN_CYCLES: &[&str] = &[];

/// Edges `from -> to`, each with the files that make it.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Every `.rs` file under `dir`, in order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
    files
}

/// The code of a Rust file without its comments and the insides of its string and character
/// literals (a literal is left as `""`).
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let after_ident = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        // A raw string: r"…", r#"…"#, br"…".
        if !after_ident && (at(i) == 'r' || (at(i) == 'b' && at(i + 1) == 'r')) {
            let mut j = if at(i) == 'b' { i + 2 } else { i + 1 };
            let hashes = (j..).take_while(|&k| at(k) == '#').count();
            j += hashes;
            if at(j) == '"' {
                j += 1;
                while j < c.len() && !(at(j) == '"' && (1..=hashes).all(|h| at(j + h) == '#')) {
                    j += 1;
                }
                out.push_str("\"\"");
                i = j + 1 + hashes;
                continue;
            }
        }
        match at(i) {
            '/' if at(i + 1) == '/' => {
                while i < c.len() && at(i) != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                loop {
                    if i >= c.len() {
                        break;
                    } else if at(i) == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if at(i) == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            '"' => {
                i += 1;
                while i < c.len() && at(i) != '"' {
                    i += if at(i) == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A character literal ('a', '\n', '\u{1F600}'), not a lifetime ('a).
            '\'' if at(i + 1) == '\\' => {
                i += 3;
                while i < c.len() && at(i) != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            }
            '\'' if at(i + 2) == '\'' => {
                i += 3;
                out.push_str("' '");
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

/// `code` without its `#[cfg(test)]` items: each runs to its first `;` or, if a `{` comes
/// first, to the `}` that closes it.
fn without_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at + MARK.len()..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, ch) in item.char_indices() {
            match ch {
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The paths that follow `keyword::` in `code` (`crate`, `super`), as their segments, a
/// use-tree's groups spread out: `crate::{a::{b, c}, d}` gives `a::b`, `a::c` and `d`. Only
/// names count: a path ends at anything else (`::<`, `(`, `*`).
fn paths_after(code: &str, keyword: &str) -> Vec<Vec<String>> {
    let c: Vec<char> = code.chars().collect();
    let k: Vec<char> = keyword.chars().collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i + k.len() <= c.len() {
        let starts = c[i..i + k.len()] == k[..]
            && (i == 0 || !is_ident(c[i - 1]))
            && !c.get(i + k.len()).copied().is_some_and(is_ident);
        if starts {
            let mut j = skip_space(&c, i + k.len());
            if c.get(j) == Some(&':') && c.get(j + 1) == Some(&':') {
                j = skip_space(&c, j + 2);
                tree(&c, &mut j, &mut Vec::new(), &mut paths);
            }
        }
        i += 1;
    }
    paths
}

fn skip_space(c: &[char], mut i: usize) -> usize {
    while c.get(i).is_some_and(|ch| ch.is_whitespace()) {
        i += 1;
    }
    i
}

/// Reads a use-tree (or a path) at `*i` under `prefix`, adding the paths it names.
fn tree(c: &[char], i: &mut usize, prefix: &mut Vec<String>, paths: &mut Vec<Vec<String>>) {
    if c.get(*i) == Some(&'{') {
        *i += 1;
        loop {
            *i = skip_space(c, *i);
            match c.get(*i) {
                None => return,
                Some('}') => {
                    *i += 1;
                    return;
                }
                Some(',') => *i += 1,
                Some(_) => {
                    let before = *i;
                    tree(c, i, &mut prefix.clone(), paths);
                    // Past what the subtree did not read (`as name`, `self`, `*`).
                    while *i < c.len() && !matches!(c[*i], ',' | '}') {
                        *i += 1;
                    }
                    if *i == before {
                        *i += 1;
                    }
                }
            }
        }
    }
    let start = *i;
    while c.get(*i).copied().is_some_and(is_ident) {
        *i += 1;
    }
    if *i == start {
        if !prefix.is_empty() {
            paths.push(prefix.clone());
        }
        return;
    }
    prefix.push(c[start..*i].iter().collect());
    let j = skip_space(c, *i);
    if c.get(j) == Some(&':') && c.get(j + 1) == Some(&':') {
        let next = skip_space(c, j + 2);
        if c.get(next).is_some_and(|ch| *ch == '{' || is_ident(*ch)) {
            *i = next;
            return tree(c, i, prefix, paths);
        }
    }
    paths.push(prefix.clone());
}

/// Where a file sits: its top-level module and, in a folder, the child of that folder it
/// belongs to (`None` for the folder's own `mod.rs`). `None` for lib.rs and main.rs.
fn place(src: &Path, file: &Path) -> Option<(String, Option<String>)> {
    let rel = file.strip_prefix(src).ok()?;
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    match parts.as_slice() {
        [one] if one == "lib" || one == "main" => None,
        [one] => Some((one.clone(), None)),
        [top, child, ..] if child == "mod" => Some((top.clone(), None)),
        [top, child, ..] => Some((top.clone(), Some(child.clone()))),
        [] => None,
    }
}

/// The graph of top-level modules, and one graph of children per folder, of the files under
/// `src`, each file given as its path and its text.
fn graphs(src: &Path, files: &[(PathBuf, String)]) -> (Graph, BTreeMap<String, Graph>) {
    let placed: Vec<_> = files
        .iter()
        .filter_map(|(path, text)| Some((path, place(src, path)?, text)))
        .collect();
    let tops: BTreeSet<String> = placed.iter().map(|(_, (top, _), _)| top.clone()).collect();
    let mut children: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, (top, child), _) in &placed {
        if let Some(child) = child {
            children
                .entry(top.clone())
                .or_default()
                .insert(child.clone());
        }
    }
    let mut top_graph = Graph::new();
    let mut child_graphs: BTreeMap<String, Graph> = BTreeMap::new();
    for (path, (top, child), text) in &placed {
        let code = without_test_items(&strip(text));
        let shown = path
            .strip_prefix(src.parent().unwrap_or(src))
            .unwrap_or(path)
            .display()
            .to_string();
        let edge = |graph: &mut Graph, from: &str, to: &str| {
            if from != to {
                let tos = graph.entry(from.to_owned()).or_default();
                tos.entry(to.to_owned()).or_default().insert(shown.clone());
            }
        };
        let from_crate = paths_after(&code, "crate");
        for path in &from_crate {
            if tops.contains(&path[0]) {
                edge(&mut top_graph, top, &path[0]);
            }
        }
        let (Some(child), Some(siblings)) = (child, children.get(top)) else {
            continue;
        };
        let graph = child_graphs.entry(top.clone()).or_default();
        let via_crate = from_crate
            .iter()
            .filter(|p| p[0] == *top)
            .filter_map(|p| p.get(1));
        let via_super = paths_after(&code, "super")
            .into_iter()
            .map(|p| p[0].clone());
        for to in via_crate.cloned().chain(via_super) {
            if siblings.contains(&to) {
                edge(graph, child, &to);
            }
        }
    }
    (top_graph, child_graphs)
}

/// Every elementary cycle of `graph`, each once, from its least module: `a -> b -> a`.
fn cycles(graph: &Graph) -> Vec<String> {
    fn walk(graph: &Graph, start: &str, path: &mut Vec<String>, found: &mut Vec<String>) {
        let here = path.last().expect("a path starts at its start").clone();
        for next in graph.get(&here).into_iter().flat_map(|tos| tos.keys()) {
            if next == start {
                found.push(format!("{} -> {start}", path.join(" -> ")));
            } else if next.as_str() > start && !path.contains(next) {
                path.push(next.clone());
                walk(graph, start, path, found);
                path.pop();
            }
        }
    }
    let mut found = Vec::new();
    for start in graph.keys() {
        walk(graph, start, &mut vec![start.clone()], &mut found);
    }
    found
}

/// Each edge of `cycle` with the files that make it, one a line.
fn evidence(graph: &Graph, cycle: &str) -> String {
    let names: Vec<&str> = cycle.split(" -> ").collect();
    names
        .windows(2)
        .map(|w| {
            let files = &graph[w[0]][w[1]];
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            format!("    {} -> {}: {}\n", w[0], w[1], files.join(", "))
        })
        .collect()
}

fn source_files() -> (PathBuf, Vec<(PathBuf, String)>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src)
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (path, text)
        })
        .collect();
    (src, files)
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let (src, files) = source_files();
    let (graph, _) = graphs(&src, &files);
    assert!(
        graph.contains_key("http") && graph.contains_key("runner"),
        "the graph was not read: {graph:?}"
    );
    let found = cycles(&graph);
    let mut report = String::new();
    for cycle in found.iter().filter(|c| !KNOWN_CYCLES.contains(&c.as_str())) {
        report.push_str(&format!("a cycle: {cycle}\n{}", evidence(&graph, cycle)));
    }
    for gone in KNOWN_CYCLES
        .iter()
        .filter(|c| !found.iter().any(|f| f == *c))
    {
        report.push_str(&format!(
            "no longer a cycle: {gone} (remove it from KNOWN_CYCLES)\n"
        ));
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn no_import_cycle_between_the_children_of_a_folder() {
    let (src, files) = source_files();
    let (_, folders) = graphs(&src, &files);
    assert!(folders.contains_key("http"), "the folders were not read");
    let mut report = String::new();
    for (folder, graph) in &folders {
        for cycle in cycles(graph) {
            report.push_str(&format!(
                "a cycle in src/{folder}/: {cycle}\n{}",
                evidence(graph, &cycle)
            ));
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// The checker itself: it finds a cycle made by a `use`, a grouped `use` or a path in code,
/// and not one made by a comment, a string, a test block or a module naming itself.
#[test]
fn the_checker_finds_cycles_and_only_real_ones() {
    let src = Path::new("/x/src");
    let file = |path: &str, text: &str| (src.join(path), text.to_owned());
    let files = vec![
        file("lib.rs", "pub mod a; use crate::b::B; use crate::a::A;"),
        file(
            "a/mod.rs",
            "mod one; mod two; use crate::{c::{C, D}, a::X};",
        ),
        file(
            "a/one.rs",
            "use super::two::T; // super::three\nfn f() { let s = \"crate::e::E\"; }",
        ),
        file(
            "a/two.rs",
            "use super::{X, one::O};\n#[cfg(test)]\nmod tests { use crate::e::E; }",
        ),
        file("b.rs", "/* crate::a::A */ fn f() { crate::b::g(); }"),
        file("c.rs", "use std::fmt;\nfn f() -> u8 { crate::d::f('\"') }"),
        file(
            "d.rs",
            "fn f<'a>(x: &'a str) { let _ = r#\"crate::b\"#; crate::a::go(x) }",
        ),
        file("e.rs", "use crate::a::two;"),
    ];
    let (graph, folders) = graphs(src, &files);
    assert_eq!(cycles(&graph), ["a -> c -> d -> a"]);
    assert!(!graph.contains_key("b"), "{graph:?}");
    assert_eq!(cycles(&folders["a"]), ["one -> two -> one"]);
    assert_eq!(
        evidence(&graph, "a -> c -> d -> a"),
        "    a -> c: src/a/mod.rs\n    c -> d: src/c.rs\n    d -> a: src/d.rs\n"
    );
}
