//! The document: OpenAPI 3.0 or 3.1 text (JSON or YAML) read into a JSON value, and local
//! `$ref`s followed. Pure: text in, values out.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// An OpenAPI document, read.
#[derive(Debug, Clone)]
pub struct Spec {
    pub doc: Value,
    /// `openapi: 3.0.x`: `nullable`, `example` and boolean `exclusiveMinimum` are 3.0's.
    pub is_30: bool,
    pub version: String,
}

/// Why a document cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("{origin}: not JSON or YAML: {message}")]
    Syntax { origin: String, message: String },
    #[error(
        "{origin}: not an OpenAPI 3.0 or 3.1 document ({found}); Swagger 2.0 must be converted to OpenAPI 3 first"
    )]
    Version { origin: String, found: String },
    #[error("{origin}: the document has no `paths`")]
    NoPaths { origin: String },
}

impl Spec {
    /// Reads `text` (JSON when it starts with `{`, else YAML); `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Spec, SpecError> {
        let doc = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| SpecError::Syntax {
                origin: origin.to_owned(),
                message: e.to_string(),
            })?
        } else {
            let mut docs = YamlLoader::load_from_str(text).map_err(|e| SpecError::Syntax {
                origin: origin.to_owned(),
                message: format!(
                    "line {}, column {}: {}",
                    e.marker().line(),
                    e.marker().col() + 1,
                    e.info()
                ),
            })?;
            if docs.is_empty() {
                return Err(SpecError::Syntax {
                    origin: origin.to_owned(),
                    message: "the file holds no document".into(),
                });
            }
            yaml_to_json(docs.swap_remove(0))
        };
        let found = doc
            .get("openapi")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let version = match found {
            Some(v) if v.starts_with("3.0") || v.starts_with("3.1") => v,
            Some(v) => {
                return Err(SpecError::Version {
                    origin: origin.to_owned(),
                    found: format!("openapi: {v}"),
                });
            }
            None => {
                let found = match doc.get("swagger") {
                    Some(v) => format!("swagger: {}", v.as_str().unwrap_or("?")),
                    None => "no `openapi` field".into(),
                };
                return Err(SpecError::Version {
                    origin: origin.to_owned(),
                    found,
                });
            }
        };
        if !doc.get("paths").is_some_and(Value::is_object) {
            return Err(SpecError::NoPaths {
                origin: origin.to_owned(),
            });
        }
        Ok(Spec {
            is_30: version.starts_with("3.0"),
            version,
            doc,
        })
    }

    /// `value` with its `$ref`s followed (local ones only; at most 32 hops).
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => match self.lookup(r) {
                    Some(target) => value = target,
                    None => return value,
                },
                None => return value,
            }
        }
        value
    }

    /// The value a local reference (`#/components/schemas/Batch`) names.
    pub fn lookup(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }
}

/// A YAML node as JSON: keys become strings, numbers stay numbers.
pub fn yaml_to_json(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::String(s) => Value::String(s),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (k, v) in hash {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s,
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Null => "null".into(),
                    other => format!("{other:?}"),
                };
                map.insert(key, yaml_to_json(v));
            }
            Value::Object(map)
        }
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_read_alike_and_other_documents_are_refused() {
        let yaml = "openapi: 3.1.0\npaths:\n  /x:\n    get:\n      parameters:\n        - {name: limit, in: query, schema: {type: integer, maximum: 100, default: 2.5}}\n";
        let json = r#"{"openapi":"3.1.0","paths":{"/x":{"get":{"parameters":[{"name":"limit","in":"query","schema":{"type":"integer","maximum":100,"default":2.5}}]}}}}"#;
        let a = Spec::parse(yaml, "a.yaml").unwrap();
        let b = Spec::parse(json, "b.json").unwrap();
        assert_eq!(a.doc, b.doc);
        assert!(!a.is_30);
        let swagger = Spec::parse("swagger: '2.0'\npaths: {}\n", "old.yaml").unwrap_err();
        assert!(swagger.to_string().contains("swagger: 2.0"), "{swagger}");
        assert!(swagger.to_string().contains("old.yaml"), "{swagger}");
        let bad = Spec::parse("openapi: [unclosed\n", "bad.yaml").unwrap_err();
        assert!(matches!(bad, SpecError::Syntax { .. }), "{bad}");
        let no_paths = Spec::parse("openapi: 3.0.3\n", "np.yaml").unwrap_err();
        assert_eq!(
            no_paths,
            SpecError::NoPaths {
                origin: "np.yaml".into()
            }
        );
    }

    #[test]
    fn references_are_followed_through_several_hops() {
        let spec = Spec::parse(
            r##"{"openapi":"3.0.0","paths":{},"components":{"schemas":{"A":{"$ref":"#/components/schemas/B"},"B":{"type":"string"}}}}"##,
            "s",
        )
        .unwrap();
        let a = spec.lookup("#/components/schemas/A").unwrap();
        assert_eq!(spec.resolve(a), &serde_json::json!({"type": "string"}));
        assert!(spec.is_30);
    }
}
