//! Reading YAML in tests: the GitHub Action (`action.yml`) and the workflows `init` writes.

use std::path::Path;

pub use yaml_rust2::Yaml;
use yaml_rust2::YamlLoader;

/// The one YAML document in the file at `path`; panics naming the file, line and column of a
/// syntax error, or a file that holds no document or several.
pub fn read_yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_yaml(&text, &path.display().to_string())
}

/// The one YAML document in `text`; `origin` names it in a panic.
pub fn parse_yaml(text: &str, origin: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).unwrap_or_else(|e| {
        let at = e.marker();
        panic!(
            "{origin}:{}:{}: not YAML: {}",
            at.line(),
            at.col() + 1,
            e.info()
        )
    });
    assert_eq!(docs.len(), 1, "{origin}: expected one YAML document");
    docs.remove(0)
}
