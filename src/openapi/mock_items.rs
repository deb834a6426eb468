//! The example items an imported suite's mock serves: the spec's own examples when they
//! conform to the item schema, else items made from the schema.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::schema::deref;

/// A time the made-up items carry (2025-01-01T00:00:00Z).
const TIME: i64 = 1_735_689_600;

/// Items for the mock, and where they came from.
pub fn items(
    examples: &[Value],
    item_doc: &Value,
    defs: &BTreeMap<String, Value>,
    item_schema: &Value,
    forced: &[(String, Value)],
) -> (Vec<Value>, String) {
    let validator = jsonschema::validator_for(item_doc).ok();
    let conforms = |v: &Value| validator.as_ref().is_none_or(|val| val.is_valid(v));
    let good: Vec<Value> = examples.iter().filter(|e| conforms(e)).cloned().collect();
    if !good.is_empty() {
        return (
            good,
            format!("{} example item(s) from the spec", examples.len()),
        );
    }
    let mut made = make(defs, item_schema, 0);
    if let Value::Object(map) = &mut made {
        for (pointer, value) in forced {
            map.insert(pointer.trim_start_matches('/').to_owned(), value.clone());
        }
    }
    let why = if examples.is_empty() {
        "made from the item schema (the spec has no example items)".to_owned()
    } else {
        format!(
            "made from the item schema (the spec's {} example item(s) do not conform to it)",
            examples.len()
        )
    };
    (vec![made], why)
}

/// A value the schema accepts, as plain as can be.
pub fn make(defs: &BTreeMap<String, Value>, schema: &Value, depth: usize) -> Value {
    let schema = deref(defs, schema);
    if depth > 12 {
        return Value::Null;
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(e) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(|v| !v.is_null()))
    {
        return e.clone();
    }
    // An example or default of the schema's own type (documents hold stringified objects).
    let own = |v: &&Value| fits_type(schema, v);
    if let Some(e) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(own))
    {
        return e.clone();
    }
    if let Some(d) = schema.get("default").filter(|d| !d.is_null()).filter(own) {
        return d.clone();
    }
    for key in ["anyOf", "oneOf"] {
        let Some(branches) = schema.get(key).and_then(Value::as_array) else {
            continue;
        };
        let made: Vec<Value> = branches
            .iter()
            .filter(|b| deref(defs, b).get("type") != Some(&json!("null")))
            // `{}` takes anything and says nothing (3.1's `nullable` `$ref`: `anyOf: [{}, null]`
            // beside an `allOf`).
            .filter(|b| {
                !matches!(b, Value::Bool(true)) && b.as_object().is_none_or(|m| !m.is_empty())
            })
            .map(|b| make(defs, b, depth + 1))
            .collect();
        // The first branch's value that the whole choice takes (a value two `oneOf` branches
        // take is refused by it).
        if made.len() > 1 {
            let mut doc = schema.clone();
            if let Value::Object(map) = &mut doc {
                map.insert("$defs".into(), json!(defs));
            }
            if let Ok(v) = jsonschema::validator_for(&doc)
                && let Some(good) = made.iter().find(|m| v.is_valid(m))
            {
                return good.clone();
            }
        }
        if let Some(first) = made.into_iter().next() {
            return first;
        }
    }
    if let Some(branches) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        let mut other = None;
        for b in branches {
            match make(defs, b, depth + 1) {
                Value::Object(m) => merged.extend(m),
                v => other = Some(v),
            }
        }
        if schema.get("properties").is_some() || !merged.is_empty() || other.is_none() {
            if let Value::Object(own) = object(defs, schema, depth) {
                merged.extend(own);
            }
            return Value::Object(merged);
        }
        return other.unwrap_or(Value::Null);
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "object",
    };
    match kind {
        "object" => object(defs, schema, depth),
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = schema
                .get("items")
                .map_or(Value::Null, |i| make(defs, i, depth + 1));
            Value::Array(vec![item; min.max(1) as usize])
        }
        "string" => Value::String(string(schema)),
        "integer" => {
            let min = schema.get("minimum").and_then(Value::as_i64).or_else(|| {
                schema
                    .get("exclusiveMinimum")
                    .and_then(Value::as_i64)
                    .map(|m| m + 1)
            });
            json!(
                min.unwrap_or(1).max(
                    schema
                        .get("maximum")
                        .and_then(Value::as_i64)
                        .map_or(i64::MIN, |m| m.min(1))
                )
            )
        }
        "number" => json!(schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.0)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

fn object(defs: &BTreeMap<String, Value>, schema: &Value, depth: usize) -> Value {
    let mut out = Map::new();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (key, prop) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        // Every required property, and the optional ones near the top (they make the mock's
        // items look like the API's).
        if required.contains(&key.as_str()) || depth == 0 {
            let value = if time_like(key)
                && matches!(deref(defs, prop).get("type"), Some(Value::String(t)) if t == "integer")
            {
                json!(TIME)
            } else {
                match make(defs, prop, depth + 1) {
                    // Plain strings say which field they are (an id equal to another field
                    // would be renamed with it when the mock gives items fresh ids).
                    Value::String(s) if s == "example" => Value::String(if key == "id" {
                        "item_0001".to_owned()
                    } else {
                        format!("example {key}")
                    }),
                    other => other,
                }
            };
            out.insert(key.clone(), value);
        }
    }
    Value::Object(out)
}

/// Whether `value` has a JSON type `schema` names (or it names none).
fn fits_type(schema: &Value, value: &Value) -> bool {
    let name = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let ok = |t: &str| t == name || (t == "number" && name == "integer");
    match schema.get("type") {
        Some(Value::String(t)) => ok(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(ok),
        _ => true,
    }
}

fn time_like(key: &str) -> bool {
    key.ends_with("_at") || key == "created" || key.ends_with("At") || key == "timestamp"
}

fn string(schema: &Value) -> String {
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let text = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => "2025-01-01T00:00:00Z".to_owned(),
        Some("date") => "2025-01-01".to_owned(),
        Some("time") => "00:00:00Z".to_owned(),
        Some("email") => "user@example.com".to_owned(),
        Some("uri" | "url") => "https://example.com/".to_owned(),
        Some("uuid") => "00000000-0000-4000-8000-000000000000".to_owned(),
        Some("ipv4") => "192.0.2.1".to_owned(),
        _ => "example".to_owned(),
    };
    if text.len() < min {
        format!("{text}{}", "x".repeat(min - text.len()))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_items_conform_to_their_schema() {
        let defs = BTreeMap::from([(
            "Counts".to_owned(),
            json!({"type": "object", "required": ["total"], "properties": {"total": {"type": "integer", "minimum": 0}}}),
        )]);
        let schema = json!({
            "type": "object",
            "required": ["id", "object", "created_at", "status", "counts", "tags", "when", "parent"],
            "properties": {
                "id": {"type": "string"},
                "object": {"const": "thing"},
                "created_at": {"type": "integer"},
                "status": {"type": "string", "enum": ["ok", "failed"]},
                "counts": {"$ref": "#/$defs/Counts"},
                "tags": {"type": "array", "minItems": 2, "items": {"type": "string", "minLength": 10}},
                "when": {"type": ["string", "null"], "format": "date-time"},
                "parent": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"id": {"type": "string"}}}]},
                "note": {"type": "string", "nullable": true}
            }
        });
        let mut doc = schema.clone();
        doc["$defs"] = json!(defs);
        let (items, why) = items(&[json!({"id": 3})], &doc, &defs, &schema, &[]);
        assert!(why.contains("do not conform"), "{why}");
        let validator = jsonschema::validator_for(&doc).unwrap();
        assert!(validator.is_valid(&items[0]), "{}", items[0]);
        assert_eq!(items[0]["created_at"], json!(TIME));
        let good = json!({"id": "a", "object": "thing", "created_at": 1, "status": "ok", "counts": {"total": 0}, "tags": ["0123456789", "9876543210"], "when": null, "parent": null});
        let (kept, why) = super::items(std::slice::from_ref(&good), &doc, &defs, &schema, &[]);
        assert_eq!(
            (kept, why.as_str()),
            (vec![good], "1 example item(s) from the spec")
        );
    }
}
