//! OpenAPI schemas as standalone JSON Schema 2020-12 documents: every `$ref` the schema
//! reaches copied under `$defs`, and 3.0's dialect translated (`nullable` into a `null` type,
//! `example` into `examples`, boolean `exclusiveMinimum`/`exclusiveMaximum` into numbers;
//! `discriminator`, `xml`, `externalDocs` and `x-` extensions, which validate nothing,
//! dropped; `writeOnly` properties no longer required in a response).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::spec::Spec;

const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Keywords whose value is one schema.
const ONE: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
];
/// Keywords whose value maps names to schemas.
const MAP: &[&str] = &["properties", "patternProperties", "dependentSchemas"];
/// Keywords whose value is a list of schemas.
const LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// OpenAPI's own keywords, which validate nothing.
const DROPPED: &[&str] = &[
    "discriminator",
    "xml",
    "externalDocs",
    "nullable",
    "example",
];

/// Converts schemas of one document, collecting the components they reach.
pub struct Converter<'s> {
    spec: &'s Spec,
    /// The components reached, converted, by `$defs` name.
    pub defs: BTreeMap<String, Value>,
    /// References that could not be followed (remote, or to nothing).
    pub unresolved: Vec<String>,
    /// The components being converted, innermost last (2019-09's `$recursiveRef: "#"` names
    /// the innermost).
    current: Vec<String>,
}

impl<'s> Converter<'s> {
    pub fn new(spec: &'s Spec) -> Self {
        Converter {
            spec,
            defs: BTreeMap::new(),
            unresolved: Vec::new(),
            current: Vec::new(),
        }
    }

    /// `schema` as JSON Schema 2020-12; the components it reaches are added to `defs`.
    pub fn convert(&mut self, schema: &Value) -> Value {
        let Value::Object(map) = schema else {
            // `true`/`false` schemas are schemas as they are.
            return schema.clone();
        };
        if map.contains_key("$recursiveRef") {
            return match self.current.last() {
                Some(def) => json!({ "$ref": format!("#/$defs/{}", def.replace('~', "~0")) }),
                None => Value::Bool(true),
            };
        }
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let target = self.reference(reference);
            // 3.1 allows keywords beside `$ref`; 3.0 ignores them.
            let siblings: Map<String, Value> = map
                .iter()
                .filter(|(k, _)| *k != "$ref" && (!self.spec.is_30 || *k == "description"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let nullable = map.get("nullable") == Some(&Value::Bool(true));
            let mut out = target;
            if !siblings.is_empty() {
                let mut rest = self.convert(&Value::Object(siblings));
                if let Value::Object(rest) = &mut rest {
                    rest.insert("allOf".into(), json!([out]));
                }
                out = rest;
            }
            return if nullable { or_null(out) } else { out };
        }
        let mut out = Map::new();
        for (key, value) in map {
            let key = key.as_str();
            if key.starts_with("x-") || DROPPED.contains(&key) || key == "$recursiveAnchor" {
                continue;
            }
            let converted = if ONE.contains(&key) {
                self.convert(value)
            } else if MAP.contains(&key) {
                match value {
                    Value::Object(m) => Value::Object(
                        m.iter()
                            .map(|(k, v)| (k.clone(), self.convert(v)))
                            .collect(),
                    ),
                    other => other.clone(),
                }
            } else if LIST.contains(&key) {
                match value {
                    Value::Array(a) => Value::Array(a.iter().map(|v| self.convert(v)).collect()),
                    other => other.clone(),
                }
            } else {
                value.clone()
            };
            out.insert(key.to_owned(), converted);
        }
        if let Some(example) = map.get("example") {
            out.entry("examples").or_insert_with(|| json!([example]));
        }
        // 3.0: `exclusiveMinimum: true` qualifies `minimum`.
        for (flag, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(Value::Bool(exclusive)) = out.get(flag).cloned() {
                out.remove(flag);
                if exclusive && let Some(b) = out.remove(bound) {
                    out.insert(flag.into(), b);
                }
            }
        }
        // A response never carries writeOnly properties: they cannot be required there.
        let write_only: Vec<String> = map
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, p)| {
                        self.spec.resolve(p).get("writeOnly") == Some(&Value::Bool(true))
                    })
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        if !write_only.is_empty()
            && let Some(Value::Array(required)) = out.get_mut("required")
        {
            required.retain(|r| {
                !r.as_str()
                    .is_some_and(|r| write_only.iter().any(|w| w == r))
            });
        }
        if let Some(Value::Array(required)) = out.get_mut("required") {
            let mut seen = Vec::new();
            required.retain(|r| {
                let fresh = !seen.contains(r);
                seen.push(r.clone());
                fresh
            });
        }
        let nullable = map.get("nullable") == Some(&Value::Bool(true));
        let out = Value::Object(out);
        if nullable { or_null(out) } else { out }
    }

    /// A `$ref`: components become `#/$defs/Name` (converted once); any other local target is
    /// converted in place.
    fn reference(&mut self, reference: &str) -> Value {
        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
            let def = name.replace('/', "_");
            if !self.defs.contains_key(&def) {
                self.defs.insert(def.clone(), Value::Bool(true));
                self.current.push(def.clone());
                let converted = match self.spec.lookup(reference) {
                    Some(target) => self.convert(target),
                    None => {
                        self.unresolved.push(reference.to_owned());
                        Value::Bool(true)
                    }
                };
                self.current.pop();
                self.defs.insert(def.clone(), converted);
            }
            return json!({ "$ref": format!("#/$defs/{}", def.replace('~', "~0")) });
        }
        match self.spec.lookup(reference) {
            Some(target) => self.convert(target),
            None => {
                self.unresolved.push(reference.to_owned());
                Value::Bool(true)
            }
        }
    }

    /// A standalone document: `root` with the dialect, a title and every component reached.
    pub fn document(&self, root: Value, title: &str, description: &str) -> Value {
        let mut doc = Map::new();
        doc.insert("$schema".into(), DIALECT.into());
        doc.insert("title".into(), title.into());
        doc.insert("description".into(), description.into());
        match root {
            Value::Object(map) => doc.extend(map),
            Value::Bool(true) => {}
            other => {
                doc.insert("allOf".into(), json!([other]));
            }
        }
        if !self.defs.is_empty() {
            doc.insert(
                "$defs".into(),
                Value::Object(self.defs.clone().into_iter().collect()),
            );
        }
        Value::Object(doc)
    }
}

/// `schema`, or null.
fn or_null(schema: Value) -> Value {
    match schema {
        Value::Object(mut map) if !map.contains_key("$ref") => {
            match map.get_mut("type") {
                Some(Value::String(t)) => {
                    let t = t.clone();
                    map.insert("type".into(), json!([t, "null"]));
                }
                Some(Value::Array(types)) => {
                    if !types.iter().any(|t| t == "null") {
                        types.push("null".into());
                    }
                }
                _ => return json!({ "anyOf": [Value::Object(map), {"type": "null"}] }),
            }
            if let Some(Value::Array(values)) = map.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            Value::Object(map)
        }
        other => json!({ "anyOf": [other, {"type": "null"}] }),
    }
}

/// The schema at `value` with one level of `#/$defs/` reference followed in `defs`.
pub fn deref<'a>(defs: &'a BTreeMap<String, Value>, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            Some(name) => match defs.get(&name.replace("~0", "~")) {
                Some(v) => value = v,
                None => return value,
            },
            None => return value,
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(components: Value, is_30: bool) -> Spec {
        let version = if is_30 { "3.0.3" } else { "3.1.0" };
        Spec::parse(
            &json!({"openapi": version, "paths": {}, "components": {"schemas": components}})
                .to_string(),
            "t",
        )
        .unwrap()
    }

    #[test]
    fn openapi_30_dialect_becomes_2020_12() {
        let s = spec(
            json!({
                "Item": {
                    "type": "object",
                    "required": ["id", "secret", "kind"],
                    "discriminator": {"propertyName": "kind"},
                    "example": {"id": "a"},
                    "properties": {
                        "id": {"type": "string", "readOnly": true},
                        "note": {"type": "string", "nullable": true},
                        "kind": {"type": "string", "enum": ["a", "b"], "nullable": true},
                        "parent": {"$ref": "#/components/schemas/Parent", "nullable": true},
                        "secret": {"type": "string", "writeOnly": true},
                        "size": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "x-internal": 1}
                    }
                },
                "Parent": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Item"}}}
            }),
            true,
        );
        let mut c = Converter::new(&s);
        let root = c.convert(&json!({"$ref": "#/components/schemas/Item"}));
        assert_eq!(root, json!({"$ref": "#/$defs/Item"}));
        let item = &c.defs["Item"];
        assert_eq!(
            item["properties"]["note"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(item["properties"]["kind"]["enum"], json!(["a", "b", null]));
        assert_eq!(
            item["properties"]["parent"],
            json!({"anyOf": [{"$ref": "#/$defs/Parent"}, {"type": "null"}]})
        );
        assert_eq!(
            item["required"],
            json!(["id", "kind"]),
            "writeOnly is not required"
        );
        assert_eq!(item["examples"], json!([{"id": "a"}]));
        assert!(item.get("discriminator").is_none() && item.get("example").is_none());
        assert_eq!(
            item["properties"]["size"],
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
        assert_eq!(item["properties"]["id"]["readOnly"], json!(true));
        assert!(
            c.defs.contains_key("Parent"),
            "a reference reached through another"
        );
        let doc = c.document(root, "t", "d");
        let validator = jsonschema::validator_for(&doc).unwrap();
        assert!(validator.is_valid(&json!({"id": "x", "kind": null, "note": null})));
        assert!(!validator.is_valid(&json!({"id": "x", "kind": "c"})));
        assert!(!validator.is_valid(&json!({"id": "x", "kind": "a", "size": 0})));
        assert!(!validator.is_valid(&json!({"kind": "a"})));
    }

    #[test]
    fn a_31_reference_keeps_its_siblings_and_a_missing_one_is_named() {
        let s = spec(json!({"A": {"type": "string"}}), false);
        let mut c = Converter::new(&s);
        let out = c.convert(&json!({"$ref": "#/components/schemas/A", "maxLength": 2}));
        assert_eq!(
            out,
            json!({"maxLength": 2, "allOf": [{"$ref": "#/$defs/A"}]})
        );
        c.convert(&json!({"$ref": "#/components/schemas/Nope"}));
        assert_eq!(c.unresolved, vec!["#/components/schemas/Nope".to_owned()]);
    }
}
