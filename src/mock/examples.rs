//! A deterministic listing made from a suite's example items: item `i` is example `i % n`
//! with a fresh id, an order key (newest first, one key in five shared with the item before
//! it), its other times moved by as much as its order key, and each filter's value in turn.

use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Value};

use super::MockConfig;
use super::dataset::{NEWEST, Rng};
use crate::contract::KeyKind;

/// The listing a mock built from `config` serves: [`generate`]d, then tied or nulled as the
/// benign options say.
pub fn listing(config: &MockConfig, examples: &[Value]) -> Vec<Value> {
    let mut items = generate(config, examples, config.items, config.seed);
    if config.all_tied {
        let head = items.first().and_then(|item| key_of(config, item));
        for item in &mut items {
            if let (Some(head), Some(key)) = (head, key_of(config, item)) {
                shift_times(config.order_key_kind, item, head - key);
                item[&config.order_key] = key_value(config.order_key_kind, head);
            }
        }
    }
    if config.all_nullable_null {
        // The mock has no schema: a field that some example leaves null may be null.
        let nullable: Vec<&String> = examples
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|e| e.iter().filter(|(_, v)| v.is_null()).map(|(k, _)| k))
            .collect();
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            for key in &nullable {
                item.insert((*key).clone(), Value::Null);
            }
        }
    }
    items
}

/// `count` items made from `examples` (which must not be empty), newest first, the same for
/// the same seed. Order keys are Unix seconds from 2025-11-24T13:16:40Z down, as the List
/// Batches generator makes them; RFC 3339 keys add microseconds
/// (`2025-11-24T13:16:40.123456Z`), and tied items carry exactly the same string.
pub fn generate(config: &MockConfig, examples: &[Value], count: usize, seed: u64) -> Vec<Value> {
    if examples.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng(seed);
    let mut seconds = NEWEST;
    let mut fraction = 0;
    (0..count)
        .map(|i| {
            if i == 0 {
                fraction = rng.below(1_000_000) as i64;
            } else if rng.below(5) != 0 {
                // One item in five shares its predecessor's key.
                seconds -= 1 + rng.below(900) as i64;
                fraction = rng.below(1_000_000) as i64;
            }
            let key = match config.order_key_kind {
                KeyKind::Rfc3339 => seconds * 1_000_000 + fraction,
                KeyKind::UnixSeconds | KeyKind::Integer => seconds,
            };
            let example = &examples[i % examples.len()];
            let id = format!("{}{:016x}{:04x}", prefix(config, example), rng.next(), i);
            make(config, example, i, id, key)
        })
        .collect()
}

/// A new item for live traffic: made from example `tick % n`, created `now` (Unix seconds).
pub fn live_item(config: &MockConfig, examples: &[Value], tick: usize, now: i64) -> Value {
    let empty = Value::Object(Map::new());
    let example = examples.get(tick % examples.len().max(1)).unwrap_or(&empty);
    let key = match config.order_key_kind {
        KeyKind::Rfc3339 => now.saturating_mul(1_000_000),
        KeyKind::UnixSeconds | KeyKind::Integer => now,
    };
    let id = format!("{}live{tick:06}", prefix(config, example));
    make(config, example, tick, id, key)
}

/// The prefix of made-up ids: the contract's, else the example id's up to and including its
/// last `_` or `-` (`file-`, `msgbatch_`), else `item_`.
pub fn prefix(config: &MockConfig, example: &Value) -> String {
    if let Some(prefix) = &config.id_prefix {
        return prefix.clone();
    }
    example
        .get(&config.id_field)
        .and_then(Value::as_str)
        .and_then(|id| id.rfind(['_', '-']).map(|end| id[..=end].to_owned()))
        .unwrap_or_else(|| "item_".to_owned())
}

/// Item `i`: `example` with `id`, order key `key` (in [`key_of`]'s units), its other times moved
/// alike, and the filter values of its turn.
fn make(config: &MockConfig, example: &Value, i: usize, id: String, key: i64) -> Value {
    let mut item = example.clone();
    if !item.is_object() {
        item = Value::Object(Map::new());
    }
    if let Some(own) = key_of(config, &item) {
        shift_times(config.order_key_kind, &mut item, key - own);
    }
    // Strings that name the example's id (`results_url`) name the new one (ids too short
    // to be told from other text are left alone).
    let own_id = example.get(&config.id_field).and_then(Value::as_str);
    if let (Some(own_id), Some(fields)) = (own_id.filter(|i| i.len() >= 4), item.as_object_mut()) {
        for value in fields.values_mut() {
            if let Some(text) = value.as_str().filter(|t| t.contains(own_id)) {
                *value = text.replace(own_id, &id).into();
            }
        }
    }
    item[&config.id_field] = id.into();
    item[&config.order_key] = key_value(config.order_key_kind, key);
    for filter in &config.filters {
        if let Some(value) = filter.values.get(i % filter.values.len().max(1)) {
            set_pointer(&mut item, &filter.field, value.clone().into());
        }
    }
    item
}

/// An item's order key in the units keys are made in: seconds, or microseconds for RFC 3339.
pub fn key_of(config: &MockConfig, item: &Value) -> Option<i64> {
    let value = item.get(&config.order_key)?;
    match config.order_key_kind {
        KeyKind::UnixSeconds | KeyKind::Integer => value.as_i64(),
        KeyKind::Rfc3339 => parse_micros(value.as_str()?),
    }
}

/// An order key as the contract writes it.
pub fn key_value(kind: KeyKind, key: i64) -> Value {
    match kind {
        KeyKind::UnixSeconds | KeyKind::Integer => key.into(),
        KeyKind::Rfc3339 => format_micros(key).into(),
    }
}

fn parse_micros(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// `2025-11-24T13:16:40.123456Z`.
pub fn format_micros(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros).map_or_else(
        || micros.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::Micros, true),
    )
}

/// Moves an item's times by `delta` (the key's units): integer `*_at` fields for Unix seconds,
/// strings that parse as RFC 3339 for RFC 3339 keys; no time at all for plain integers.
fn shift_times(kind: KeyKind, item: &mut Value, delta: i64) {
    let Some(fields) = item.as_object_mut() else {
        return;
    };
    for (key, value) in fields.iter_mut() {
        match kind {
            KeyKind::UnixSeconds => {
                if let Some(t) = value.as_i64().filter(|_| key.ends_with("_at")) {
                    *value = (t + delta).into();
                }
            }
            KeyKind::Rfc3339 => {
                if let Some(t) = value.as_str().and_then(parse_micros) {
                    *value = format_micros(t + delta).into();
                }
            }
            KeyKind::Integer => {}
        }
    }
}

/// Sets the value at JSON pointer `pointer`, making the objects on the way.
pub fn set_pointer(target: &mut Value, pointer: &str, value: Value) {
    let mut at = target;
    let keys: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = keys.split_last() else {
        *at = value;
        return;
    };
    for key in path {
        if !at.get(key).is_some_and(Value::is_object) {
            if !at.is_object() {
                *at = Value::Object(Map::new());
            }
            at[key.as_str()] = Value::Object(Map::new());
        }
        at = &mut at[key.as_str()];
    }
    if !at.is_object() {
        *at = Value::Object(Map::new());
    }
    at[last.as_str()] = value;
}

/// Removes the value at JSON pointer `pointer`, if there is one; returns it.
pub fn take_pointer(target: &mut Value, pointer: &str) -> Option<Value> {
    let (parent, last) = pointer.rsplit_once('/')?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let parent = if parent.is_empty() {
        Some(target)
    } else {
        target.pointer_mut(parent)
    };
    parent?.as_object_mut()?.remove(&last)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::contract::{Filter, list_batches};

    fn config(kind: KeyKind) -> MockConfig {
        let mut config = MockConfig::for_contract(&list_batches());
        config.order_key_kind = kind;
        config.filters = vec![Filter {
            param: "purpose".into(),
            field: "/meta/purpose".into(),
            values: vec!["batch".into(), "vision".into()],
        }];
        config
    }

    fn examples() -> Vec<Value> {
        vec![
            json!({"id": "file-abc", "created_at": 1_600_000_000, "expires_at": 1_600_000_600,
                   "done_at": "x", "size": 5}),
            json!({"id": "plain", "created_at": 1_600_000_000, "expires_at": null}),
        ]
    }

    #[test]
    fn deterministic_unique_newest_first_with_ties_and_filter_values_in_turn() {
        let config = config(KeyKind::UnixSeconds);
        let a = generate(&config, &examples(), 300, 7);
        assert_eq!(a, generate(&config, &examples(), 300, 7));
        assert_ne!(a, generate(&config, &examples(), 300, 8));
        let ids: std::collections::HashSet<&str> =
            a.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 300);
        let keys: Vec<i64> = a
            .iter()
            .map(|i| i["created_at"].as_i64().unwrap())
            .collect();
        assert_eq!(keys[0], NEWEST);
        assert!(keys.windows(2).all(|w| w[0] >= w[1]));
        assert!(keys.windows(2).any(|w| w[0] == w[1]), "ties");
        assert_eq!(a[0]["meta"]["purpose"], "batch");
        assert_eq!(a[1]["meta"]["purpose"], "vision");
        assert_eq!(a[2]["meta"]["purpose"], "batch");
        // Other fields kept; `*_at` integers moved with the key; ids prefixed per example.
        assert_eq!(a[0]["size"], 5);
        assert_eq!(a[0]["done_at"], "x");
        assert_eq!(a[0]["expires_at"].as_i64().unwrap(), NEWEST + 600);
        assert!(a[1]["expires_at"].is_null());
        assert!(a[0]["id"].as_str().unwrap().starts_with("file-"));
        assert!(a[1]["id"].as_str().unwrap().starts_with("item_"));
        assert_eq!(a[0]["id"].as_str().unwrap().len(), "file-".len() + 20);
    }

    #[test]
    fn rfc3339_keys_carry_microseconds_and_ties_are_equal_strings() {
        let config = config(KeyKind::Rfc3339);
        let examples = vec![
            json!({"id": "msgbatch_01", "created_at": "2024-09-24T18:37:24.100435Z",
            "ended_at": "2024-09-24T19:37:24Z", "archived_at": null,
            "results_url": "https://x/v1/messages/batches/msgbatch_01/results"}),
        ];
        let a = generate(&config, &examples, 100, 1);
        let keys: Vec<&str> = a
            .iter()
            .map(|i| i["created_at"].as_str().unwrap())
            .collect();
        assert!(keys[0].starts_with("2025-11-24T13:16:40."), "{}", keys[0]);
        assert!(keys.iter().all(|k| k.len() == 27 && k.ends_with('Z')));
        let micros: Vec<i64> = keys.iter().map(|k| parse_micros(k).unwrap()).collect();
        assert!(micros.windows(2).all(|w| w[0] >= w[1]));
        assert!(
            keys.windows(2).any(|w| w[0] == w[1]),
            "ties are equal strings"
        );
        let ended = parse_micros(a[5]["ended_at"].as_str().unwrap()).unwrap();
        let created = parse_micros(keys[5]).unwrap();
        assert_eq!(
            ended - created,
            3_600_000_000 - 100_435,
            "moved by as much as the key"
        );
        assert!(a[0]["archived_at"].is_null());
        assert!(a[0]["id"].as_str().unwrap().starts_with("msgbatch_"));
        let url = format!(
            "https://x/v1/messages/batches/{}/results",
            a[3]["id"].as_str().unwrap()
        );
        assert_eq!(
            a[3]["results_url"],
            url.as_str(),
            "the example's id renamed in its strings"
        );
    }

    #[test]
    fn the_contract_s_prefix_wins_and_integer_keys_move_no_times() {
        let mut config = config(KeyKind::Integer);
        config.id_prefix = Some("asst_".into());
        let a = generate(&config, &examples(), 3, 1);
        assert!(
            a.iter()
                .all(|i| i["id"].as_str().unwrap().starts_with("asst_"))
        );
        assert_eq!(a[0]["created_at"], NEWEST);
        assert_eq!(a[0]["expires_at"], 1_600_000_600, "no time moved");
        let live = live_item(&config, &examples(), 3, 1_800_000_000);
        assert_eq!(live["id"], "asst_live000003");
        assert_eq!(live["created_at"], 1_800_000_000);
    }

    #[test]
    fn pointers_are_set_and_taken_through_nested_objects() {
        let mut v = json!({"a": {"b": 1}});
        set_pointer(&mut v, "/a/c/d", json!(2));
        set_pointer(&mut v, "/x~1y", json!(3));
        assert_eq!(v, json!({"a": {"b": 1, "c": {"d": 2}}, "x/y": 3}));
        assert_eq!(take_pointer(&mut v, "/a/c/d"), Some(json!(2)));
        assert_eq!(take_pointer(&mut v, "/nope"), None);
        assert_eq!(v, json!({"a": {"b": 1, "c": {}}, "x/y": 3}));
    }
}
