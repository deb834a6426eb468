//! A deterministic listing of batches: every status, every nullable field both set and
//! null, some optional fields absent, and runs of equal `created_at`.

use serde_json::{Map, Value, json};

/// The statuses of the contract's enum, in the order items cycle through them.
pub const STATUSES: [&str; 8] = [
    "completed",
    "in_progress",
    "validating",
    "failed",
    "finalizing",
    "expired",
    "cancelling",
    "cancelled",
];

/// The newest `created_at` of a generated listing (2025-11-24T13:16:40Z).
pub const NEWEST: i64 = 1_763_990_200;

/// splitmix64: a tiny, well-known generator, good enough for test data.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `count` batches, newest first (ties keep their generated order), the same for the same seed.
pub fn generate(count: usize, seed: u64) -> Vec<Value> {
    let mut rng = Rng(seed);
    let mut created = NEWEST;
    (0..count)
        .map(|i| {
            if i > 0 && rng.below(5) != 0 {
                // One item in five shares its predecessor's timestamp.
                created -= 1 + rng.below(900) as i64;
            }
            batch(i, created, &mut rng)
        })
        .collect()
}

/// Moves every timestamp of `batch` (`created_at` and the `*_at` fields) by `seconds`, so a
/// batch made for another time stays consistent with itself.
pub fn shift_times(batch: &mut Value, seconds: i64) {
    let Some(fields) = batch.as_object_mut() else {
        return;
    };
    for (key, value) in fields.iter_mut() {
        if let Some(t) = value.as_i64().filter(|_| key.ends_with("_at")) {
            *value = (t + seconds).into();
        }
    }
}

/// The fields of a batch that may be `null`.
pub const NULLABLE: [&str; 14] = [
    "errors",
    "output_file_id",
    "error_file_id",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
    "metadata",
    "model",
    "usage",
];

/// Sets every nullable field of `batch` to `null`, present or not.
pub fn null_every_nullable(batch: &mut Value) {
    if let Some(fields) = batch.as_object_mut() {
        for key in NULLABLE {
            fields.insert(key.to_owned(), Value::Null);
        }
    }
}

fn batch(i: usize, created: i64, rng: &mut Rng) -> Value {
    let status = STATUSES[i % STATUSES.len()];
    let id = format!("batch_{:016x}{:04x}", rng.next(), i);
    let at = |offset: i64| Value::from(created + offset);
    let null = Value::Null;
    let reached = |states: &[&str]| states.contains(&status);

    let total = 1 + rng.below(500) as i64;
    let (completed, failed) = match status {
        "completed" if i.is_multiple_of(5) => (0, total), // every request failed: no output file
        "completed" => {
            let f = rng.below(total as u64 / 10 + 1) as i64;
            (total - f, f)
        }
        "validating" | "failed" => (0, 0),
        _ => {
            let done = rng.below(total as u64) as i64;
            (done, rng.below((total - done) as u64 / 4 + 1) as i64)
        }
    };
    let errors = if status == "failed" {
        json!({"object": "list", "data": [{
            "code": "invalid_json_line",
            "message": format!("Line {} is not valid JSON.", 1 + i % 40),
            "param": null,
            "line": 1 + i % 40,
        }]})
    } else {
        null.clone()
    };
    let metadata = match i % 3 {
        0 => null.clone(),
        1 => json!({}),
        _ => json!({"project": format!("project-{}", i % 7), "owner": "contract-tests"}),
    };

    let mut b = Map::new();
    b.insert("id".into(), id.into());
    b.insert("object".into(), "batch".into());
    b.insert(
        "endpoint".into(),
        [
            "/v1/chat/completions",
            "/v1/embeddings",
            "/v1/completions",
            "/v1/responses",
            "/v1/moderations",
        ][i % 5]
            .into(),
    );
    b.insert("errors".into(), errors);
    b.insert("input_file_id".into(), format!("file-in{:06}", i).into());
    b.insert("completion_window".into(), "24h".into());
    b.insert("status".into(), status.into());
    let has_output = status == "completed" && completed > 0;
    b.insert(
        "output_file_id".into(),
        if has_output {
            format!("file-out{:06}", i).into()
        } else {
            null.clone()
        },
    );
    b.insert(
        "error_file_id".into(),
        if failed > 0 {
            format!("file-err{:06}", i).into()
        } else {
            null.clone()
        },
    );
    b.insert("created_at".into(), created.into());
    let started = [
        "in_progress",
        "finalizing",
        "completed",
        "expired",
        "cancelling",
        "cancelled",
    ];
    b.insert(
        "in_progress_at".into(),
        if reached(&started) {
            at(60)
        } else {
            null.clone()
        },
    );
    b.insert("expires_at".into(), at(86_400));
    b.insert(
        "finalizing_at".into(),
        if reached(&["finalizing", "completed"]) {
            at(3_600)
        } else {
            null.clone()
        },
    );
    b.insert(
        "completed_at".into(),
        if reached(&["completed"]) {
            at(3_700)
        } else {
            null.clone()
        },
    );
    b.insert(
        "failed_at".into(),
        if reached(&["failed"]) {
            at(30)
        } else {
            null.clone()
        },
    );
    b.insert(
        "expired_at".into(),
        if reached(&["expired"]) {
            at(86_400)
        } else {
            null.clone()
        },
    );
    // Some servers leave out the cancel timestamps they never set: "a field may also be absent".
    if !i.is_multiple_of(11) || reached(&["cancelling", "cancelled"]) {
        b.insert(
            "cancelling_at".into(),
            if reached(&["cancelling", "cancelled"]) {
                at(1_800)
            } else {
                null.clone()
            },
        );
        b.insert(
            "cancelled_at".into(),
            if reached(&["cancelled"]) {
                at(1_900)
            } else {
                null.clone()
            },
        );
    }
    b.insert(
        "request_counts".into(),
        json!({"total": total, "completed": completed, "failed": failed}),
    );
    b.insert("metadata".into(), metadata);
    if i.is_multiple_of(4) {
        b.insert("model".into(), "gpt-4o-mini-2024-07-18".into());
    }
    if i.is_multiple_of(6) && has_output {
        b.insert(
            "usage".into(),
            json!({"input_tokens": completed * 90, "output_tokens": completed * 40}),
        );
    }
    Value::Object(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_unique_and_newest_first_with_ties() {
        let a = generate(300, 7);
        assert_eq!(a, generate(300, 7));
        assert_ne!(a, generate(300, 8));
        let ids: std::collections::HashSet<_> =
            a.iter().map(|b| b["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 300);
        let times: Vec<i64> = a
            .iter()
            .map(|b| b["created_at"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
        assert!(
            times.windows(2).any(|w| w[0] == w[1]),
            "equal timestamps present"
        );
    }

    #[test]
    fn covers_every_status_and_nullable_shape() {
        let a = generate(250, 1);
        for s in STATUSES {
            assert!(a.iter().any(|b| b["status"] == s), "{s}");
        }
        for field in [
            "errors",
            "output_file_id",
            "error_file_id",
            "metadata",
            "completed_at",
        ] {
            assert!(
                a.iter().any(|b| b[field].is_null()),
                "{field} null somewhere"
            );
            assert!(
                a.iter().any(|b| !b[field].is_null()),
                "{field} set somewhere"
            );
        }
        assert!(
            a.iter().any(|b| b.get("cancelled_at").is_none()),
            "an absent optional field"
        );
        assert!(
            a.iter()
                .any(|b| b["status"] == "completed" && b["output_file_id"].is_null()),
            "a completed batch whose requests all failed"
        );
    }
}
