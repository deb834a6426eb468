//! Plausibility: values that keep their JSON type but lose their meaning (a timestamp in
//! milliseconds, counts that do not add up), judged only where the contract's `[plausible]`
//! table says what a field means.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use crate::contract::{Plausibility, TopField};
use crate::violation::{Invariant, Violation};

/// 2000-01-01T00:00:00Z: no batch API's data is older.
pub const EARLIEST_SECONDS: i64 = 946_684_800;
/// 2100-01-01T00:00:00Z: a Unix-seconds value past this is in another unit.
pub const LATEST_SECONDS: i64 = 4_102_444_800;

/// Checks every item of a page against the contract's plausibility rules. A field that is
/// absent, null, or neither an integer nor an RFC 3339 date-time is left to the schema.
///
/// This runs on every item of every page, so each field the rules name is looked up once
/// per item (the rules share most of them), and nothing is allocated unless a rule fails.
pub fn check_items(items: &[Value], rules: &Plausibility, out: &mut Vec<Violation>) {
    let plan = rules.plan();
    let fields = &plan.fields;
    if fields.is_empty() {
        return;
    }
    let mut values: Vec<Option<i64>> = vec![None; fields.len()];
    let mut read = vec![false; plan.tops.len()];
    for (i, item) in items.iter().enumerate() {
        read_fields(item, &plan.tops, &mut read, &mut values);
        let at = |slot: usize| format!("/data/{i}{}", fields[slot]);

        for &s in &plan.seconds {
            if let Some(v) = values[s].filter(|v| !in_range(*v)) {
                out.push(Violation::new(
                    Invariant::Plausible,
                    at(s),
                    "Unix seconds between 2000-01-01 and 2100-01-01",
                    format!("{v}{}", unit_hint(v)),
                ));
            }
        }

        for (b, later) in &plan.not_before {
            let Some(bound) = values[*b] else {
                continue;
            };
            for &f in later {
                if let Some(v) = values[f].filter(|v| *v < bound) {
                    out.push(Violation::new(
                        Invariant::Plausible,
                        at(f),
                        format!(">= {bound} (data[{i}].{})", field(&fields[*b])),
                        format!("{v} ({} s earlier)", bound.abs_diff(v)),
                    ));
                }
            }
        }

        for (t, parts) in &plan.sums {
            let Some(total) = values[*t] else {
                continue;
            };
            let sum = parts
                .iter()
                .try_fold(0i64, |sum, &p| values[p].map(|v| sum.saturating_add(v)));
            if let Some(added) = sum.filter(|added| *added > total) {
                let names: Vec<String> = parts.iter().map(|&p| field(&fields[p])).collect();
                let counts: Vec<String> = parts
                    .iter()
                    .filter_map(|&p| values[p].map(|v| v.to_string()))
                    .collect();
                out.push(Violation::new(
                    Invariant::Plausible,
                    at(*t),
                    format!(
                        ">= {added} ({} = {})",
                        names.join(" + "),
                        counts.join(" + ")
                    ),
                    total.to_string(),
                ));
            }
        }
    }
}

/// Fills `values` with the integers at the plan's fields of `item` (`None` where absent or not
/// an integer). The item's keys and `tops` are both sorted (serde_json's maps iterate by key),
/// so one pass matches them; a top key the pass missed (absent, or a map that keeps insertion
/// order) is looked up directly.
fn read_fields(item: &Value, tops: &[TopField], read: &mut [bool], values: &mut [Option<i64>]) {
    values.fill(None);
    read.fill(false);
    let Some(map) = item.as_object() else {
        return;
    };
    let mut next = 0;
    for (key, value) in map {
        while next < tops.len() && tops[next].0.as_str() < key.as_str() {
            next += 1;
        }
        if next == tops.len() {
            break;
        }
        if tops[next].0 == *key {
            resolve(value, &tops[next].1, values);
            read[next] = true;
            next += 1;
        }
    }
    for ((top, below), _) in tops.iter().zip(read.iter()).filter(|(_, done)| !**done) {
        if let Some(value) = map.get(top) {
            resolve(value, below, values);
        }
    }
}

/// A JSON Pointer array index: `0`, or digits without a leading zero (RFC 6901).
fn array_index(key: &str) -> Option<usize> {
    let digits = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit());
    (digits && (key == "0" || !key.starts_with('0')))
        .then(|| key.parse().ok())
        .flatten()
}

/// Sets `values[slot]` for each field below `value`.
fn resolve(value: &Value, below: &[(Vec<String>, usize)], values: &mut [Option<i64>]) {
    for (keys, slot) in below {
        values[*slot] = lookup(value, keys).and_then(seconds);
    }
}

/// An integer, or an RFC 3339 date-time as Unix seconds (Anthropic's times), so `not_before`
/// holds for either kind of time.
fn seconds(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let text = value.as_str()?;
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp())
    })
}

/// The value at `keys` below `value` (object keys, or array indices).
fn lookup<'v>(value: &'v Value, keys: &[String]) -> Option<&'v Value> {
    let mut at = value;
    for key in keys {
        at = match at {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(array_index(key)?)?,
            _ => return None,
        };
    }
    Some(at)
}

fn in_range(seconds: i64) -> bool {
    (EARLIEST_SECONDS..LATEST_SECONDS).contains(&seconds)
}

/// What an out-of-range timestamp most likely is, e.g. ` (milliseconds: Mon, 24 Nov 2025
/// 13:16:40 GMT)`.
fn unit_hint(v: i64) -> String {
    if v == 0 {
        return " (a placeholder, not a time)".to_owned();
    }
    for (unit, per_second) in [
        ("milliseconds", 1_000),
        ("microseconds", 1_000_000),
        ("nanoseconds", 1_000_000_000),
    ] {
        let seconds = v / per_second;
        if in_range(seconds) {
            let when = UNIX_EPOCH + Duration::from_secs(seconds as u64);
            return format!(" (as {unit}: {})", httpdate::fmt_http_date(when));
        }
    }
    String::new()
}

/// `/request_counts/total` → `request_counts.total`, for messages.
fn field(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::contract::{NotBefore, Sum};

    fn rules() -> Plausibility {
        Plausibility {
            unix_seconds: vec!["/created_at".into(), "/completed_at".into()],
            not_before: vec![NotBefore {
                bound: "/created_at".into(),
                fields: vec!["/completed_at".into()],
            }],
            sums: vec![Sum {
                total: "/request_counts/total".into(),
                parts: vec![
                    "/request_counts/completed".into(),
                    "/request_counts/failed".into(),
                ],
            }],
            ..Plausibility::default()
        }
    }

    fn check(items: &[Value]) -> Vec<Violation> {
        let mut out = Vec::new();
        check_items(items, &rules(), &mut out);
        out
    }

    #[test]
    fn rfc3339_times_are_held_to_not_before_too() {
        let rules = Plausibility {
            not_before: vec![NotBefore {
                bound: "/created_at".into(),
                fields: vec!["/ended_at".into()],
            }],
            ..Plausibility::default()
        };
        let item =
            |ended: &str| json!({"created_at": "2025-03-01T17:04:10.002311Z", "ended_at": ended});
        let mut out = Vec::new();
        check_items(&[item("2025-03-01T18:22:55.771090Z")], &rules, &mut out);
        assert_eq!(out, []);
        check_items(&[item("2025-03-01T16:04:10Z")], &rules, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].pointer, "/data/0/ended_at");
        assert_eq!(out[0].actual, "1740845050 (3600 s earlier)");
    }

    #[test]
    fn fields_are_read_as_serde_json_reads_pointers() {
        let item = json!({"a": {"b/c": [1, {"d": 2}], "e~f": 3}, "": 4, "z": 5, "m": "x"});
        let pointers = [
            "/a/b~1c/01",
            "/a/b~1c/+0",
            "/a/b~1c/0",
            "/a/b~1c/1/d",
            "/a/e~0f",
            "/a/x",
            "/a/b~1c/9",
            "/",
            "/z",
            "/m",
            "/q",
        ];
        let rules = Plausibility {
            unix_seconds: pointers.iter().map(|p| p.to_string()).collect(),
            ..Plausibility::default()
        };
        let plan = rules.plan();
        let mut values = vec![Some(-1); plan.fields.len()];
        let mut read = vec![false; plan.tops.len()];
        read_fields(&item, &plan.tops, &mut read, &mut values);
        for (field, value) in plan.fields.iter().zip(&values) {
            assert_eq!(
                *value,
                item.pointer(field).and_then(Value::as_i64),
                "{field}"
            );
        }
        assert_eq!(values.iter().flatten().count(), 5, "{values:?}");
    }

    #[test]
    fn plausible_items_pass_with_nulls_and_absent_fields() {
        let items = [
            json!({"created_at": 1_763_990_200, "completed_at": 1_763_993_900,
                   "request_counts": {"total": 10, "completed": 7, "failed": 3}}),
            json!({"created_at": 1_763_990_200, "completed_at": null,
                   "request_counts": {"total": 0, "completed": 0, "failed": 0}}),
            json!({"created_at": "not an integer: the schema's to report"}),
        ];
        assert!(check(&items).is_empty(), "{:#?}", check(&items));
    }

    #[test]
    fn a_timestamp_in_another_unit_names_the_unit() {
        let v = check(&[json!({"created_at": 1_763_990_200_000_i64})]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].invariant, Invariant::Plausible);
        assert_eq!(v[0].pointer, "/data/0/created_at");
        assert_eq!(
            v[0].actual,
            "1763990200000 (as milliseconds: Mon, 24 Nov 2025 13:16:40 GMT)"
        );
        let v = check(&[json!({"created_at": 1_763_990_200_000_000_i64})]);
        assert!(v[0].actual.contains("as microseconds"), "{}", v[0].actual);
        let v = check(&[json!({"created_at": 0})]);
        assert_eq!(v[0].actual, "0 (a placeholder, not a time)");
        let v = check(&[json!({"created_at": -5})]);
        assert_eq!(v[0].actual, "-5");
        // The extremes a server could send: no overflow.
        let v = check(&[json!({"created_at": 1_763_990_200, "completed_at": i64::MIN})]);
        assert_eq!(v.len(), 2, "{v:#?}");
        assert_eq!(
            v[1].actual,
            format!("{} (9223372038618766008 s earlier)", i64::MIN)
        );
    }

    #[test]
    fn a_time_before_its_bound_and_parts_above_their_total_fail() {
        let v = check(&[
            json!({"created_at": 1_763_990_200}),
            json!({"created_at": 1_763_990_200, "completed_at": 1_763_990_100,
                   "request_counts": {"total": 10, "completed": 9, "failed": 2}}),
        ]);
        assert_eq!(v.len(), 2, "{v:#?}");
        assert_eq!(v[0].pointer, "/data/1/completed_at");
        assert_eq!(v[0].expected, ">= 1763990200 (data[1].created_at)");
        assert_eq!(v[0].actual, "1763990100 (100 s earlier)");
        assert_eq!(v[1].pointer, "/data/1/request_counts/total");
        assert_eq!(
            v[1].expected,
            ">= 11 (request_counts.completed + request_counts.failed = 9 + 2)"
        );
        assert_eq!(v[1].actual, "10");
    }
}
