//! Drift injected into answers: the item, envelope and transport faults that change what a
//! page says or how it goes on the wire, once paging has chosen its items.

use super::answer::Answer;
use serde_json::{Map, Value, json};

use super::examples::{self, set_pointer, take_pointer};
use super::fault::Fault;
use super::responder::Responder;

/// What `LastIdRaw` puts in front of every item's id.
const ROUTING_PREFIX: &str = "litellm_proxy:";

impl Responder {
    /// The item faults: fields renamed, retyped, nulled, re-enumerated or made implausible.
    pub(super) fn drift_item(&self, item: &mut Value, deep: bool) {
        let Some(b) = item.as_object_mut() else {
            return;
        };
        let get = |b: &serde_json::Map<String, Value>, key: &str| b.get(key).cloned();
        let key = self.config.order_key.as_str();
        if let Some(t) = get(b, key).filter(|_| self.has(Fault::CreatedAtAsString)) {
            b.insert(key.into(), t.to_string().into());
        }
        if self.has(Fault::LastIdRaw)
            && let Some(id) = b.get_mut(&self.config.id_field)
            && let Some(raw) = id.as_str()
        {
            *id = format!("{ROUTING_PREFIX}{raw}").into();
        }
        if self.has(Fault::IdRenamed) {
            let id = b.remove(&self.config.id_field).unwrap_or_default();
            b.insert("batch_id".into(), id);
        }
        if self.has(Fault::ItemObjectRenamed) {
            let renamed = match b.get("object").and_then(Value::as_str) {
                Some(object) if self.config.examples.is_some() => format!("{object}_job"),
                _ => "batch_job".to_owned(),
            };
            b.insert("object".into(), renamed.into());
        }
        if self.has(Fault::StatusRenamed) && get(b, "status").is_some_and(|s| s == "in_progress") {
            b.insert("status".into(), "running".into());
        }
        if self.has(Fault::DeepItemUnknownStatus) && deep {
            b.insert("status".into(), "archived".into());
        }
        if self.has(Fault::ErrorsAsString) && get(b, "errors").is_some_and(|e| e.is_object()) {
            b.insert("errors".into(), "invalid_json_line".into());
        }
        if self.has(Fault::InputFileIdNull) {
            b.insert("input_file_id".into(), Value::Null);
        }
        if let Some(counts) = b.get_mut("request_counts").and_then(Value::as_object_mut) {
            if self.has(Fault::RequestCountsAsStrings) {
                for v in counts.values_mut() {
                    *v = v.to_string().into();
                }
            }
            if self.has(Fault::CountsExceedTotal) {
                let count = |key: &str| counts.get(key).and_then(Value::as_i64).unwrap_or(0);
                let failed = count("total") - count("completed") + 1;
                counts.insert("failed".into(), failed.into());
            }
        }
        if self.has(Fault::MetadataValueNumber)
            && let Some(metadata) = b.get_mut("metadata").and_then(Value::as_object_mut)
        {
            for v in metadata.values_mut() {
                *v = 7.into();
            }
        }
        if self.has(Fault::TimesInMilliseconds) {
            for (key, v) in b.iter_mut() {
                if let Some(t) = v.as_i64().filter(|_| key.ends_with("_at")) {
                    *v = (t * 1000).into();
                }
            }
        }
        if self.has(Fault::TimesAsIntegers) {
            for v in b.values_mut() {
                let seconds = v
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.timestamp());
                if let Some(seconds) = seconds {
                    *v = seconds.into();
                }
            }
        }
        let created = get(b, "created_at").and_then(|t| t.as_i64());
        let completed = get(b, "completed_at").and_then(|t| t.as_i64());
        if let (Some(created), Some(_)) = (created, completed)
            && self.has(Fault::CompletedBeforeCreated)
        {
            b.insert("completed_at".into(), (created - 3_600).into());
        }
        if self.has(Fault::ExpiresAtZero) && b.contains_key("expires_at") {
            b.insert("expires_at".into(), 0.into());
        }
        if self.config.additive_fields {
            b.insert("priority".into(), "standard".into());
            b.insert(
                "output_expires_after".into(),
                json!({"anchor": "created_at", "seconds": 2_592_000}),
            );
        }
    }

    /// An id no item has, for `EmptyPageLies`.
    fn phantom_id(&self) -> String {
        match &self.config.examples {
            Some(examples) => {
                let first = examples.first().unwrap_or(&Value::Null);
                format!("{}phantom", examples::prefix(&self.config, first))
            }
            None => "batch_phantom".to_owned(),
        }
    }

    /// The list envelope around `data`, its parts where the contract's pointers say, or what a
    /// fault makes of it.
    pub(super) fn envelope(
        &self,
        data: Vec<Value>,
        first: Value,
        last: Value,
        has_more: bool,
        cursor: Option<&str>,
        token: Option<Value>,
    ) -> Value {
        if self.has(Fault::BareArray) {
            return Value::Array(data);
        }
        if self.has(Fault::CursorEnvelope) {
            let next = if has_more { last } else { Value::Null };
            return json!({"batches": data, "next_cursor": next});
        }
        let shape = &self.config.envelope;
        let empty = data.is_empty();
        let mut body = Value::Object(Map::new());
        if !self.config.envelope_object.is_empty() {
            body["object"] = self.config.envelope_object.clone().into();
        }
        set_pointer(&mut body, &shape.data, Value::Array(data));
        let ids = [shape.first_id(), shape.last_id()];
        for (pointer, id) in ids.into_iter().zip([first, last]) {
            if let Some(pointer) = pointer {
                set_pointer(&mut body, pointer, id);
            }
        }
        if empty {
            for pointer in ids.into_iter().flatten() {
                match self.config.empty_page_ids.value() {
                    Some(value) => set_pointer(&mut body, pointer, value),
                    None => {
                        take_pointer(&mut body, pointer);
                    }
                }
            }
        }
        set_pointer(&mut body, &shape.has_more, has_more.into());
        if let (Some(pointer), Some(token)) = (&self.config.next_token, token) {
            set_pointer(&mut body, pointer, token);
        }
        let set_ids = |body: &mut Value, id: &str| {
            for pointer in ids.into_iter().flatten() {
                set_pointer(body, pointer, id.into());
            }
        };
        if empty && self.has(Fault::EmptyPageLies) {
            set_pointer(&mut body, &shape.has_more, true.into());
            set_ids(&mut body, &self.phantom_id());
        }
        if let Some(cursor) = cursor.filter(|_| empty && self.has(Fault::EmptyPageStaleIds)) {
            set_ids(&mut body, cursor);
        }
        if empty && self.has(Fault::DataNullWhenEmpty) {
            set_pointer(&mut body, &shape.data, Value::Null);
        }
        if self.has(Fault::HasMoreNull) {
            set_pointer(&mut body, &shape.has_more, Value::Null);
        }
        if self.has(Fault::EnvelopeObjectRenamed) {
            body["object"] = "page".into();
        }
        if self.has(Fault::MissingHasMore) {
            take_pointer(&mut body, &shape.has_more);
        }
        if self.has(Fault::MissingFirstLastId) {
            for pointer in ids.into_iter().flatten() {
                take_pointer(&mut body, pointer);
            }
        }
        if self.has(Fault::DataRenamed) {
            let data = take_pointer(&mut body, &shape.data).unwrap_or_default();
            let parent = shape.data.rsplit_once('/').map_or("", |(p, _)| p);
            set_pointer(&mut body, &format!("{parent}/items"), data);
        }
        if self.config.additive_fields {
            body["total_count"] = Value::Null;
        }
        body
    }

    /// A page body as it goes on the wire, or what a transport fault makes of it.
    pub(super) fn wire(&self, body: &Value) -> Answer {
        let mut bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        if self.has(Fault::TruncatedBody) {
            bytes.truncate(bytes.len() / 2);
        }
        if self.has(Fault::TrailingGarbage) {
            bytes.extend_from_slice(b"\n<!-- served from cache -->\n");
        }
        if self.has(Fault::EmptyBody) {
            bytes.clear();
        }
        if self.has(Fault::HtmlPage) {
            return Answer::new(200).set_body_raw(
                "<html><body><h1>Gateway</h1><p>The upstream is warming up.</p></body></html>",
                "text/html",
            );
        }
        if self.has(Fault::NoContentType) {
            return Answer::new(200).set_body_bytes(bytes);
        }
        let mime = if self.has(Fault::TextContentType) {
            "text/plain"
        } else {
            "application/json"
        };
        Answer::new(200).set_body_raw(bytes, mime)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::mock::testing::{config, query, responder};

    /// The keys where two objects differ.
    fn differing(a: &Value, b: &Value) -> Vec<String> {
        let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
        let mut keys: Vec<String> = a
            .keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect();
        keys.dedup();
        keys
    }

    #[test]
    fn an_item_fault_changes_its_field_and_only_it() {
        let (good, items) = responder(config(3));
        let mut item = items[0].clone();
        good.drift_item(&mut item, false);
        assert_eq!(item, items[0], "no fault: the item as it is");
        let (bad, _) = responder(config(3).fault(Fault::CreatedAtAsString));
        let mut drifted = items[0].clone();
        bad.drift_item(&mut drifted, false);
        assert_eq!(differing(&items[0], &drifted), ["created_at"]);
        assert_eq!(drifted["created_at"], items[0]["created_at"].to_string());
        let (bad, _) = responder(config(3).fault(Fault::InputFileIdNull));
        let mut drifted = items[0].clone();
        bad.drift_item(&mut drifted, false);
        assert_eq!(differing(&items[0], &drifted), ["input_file_id"]);
        assert_eq!(drifted["input_file_id"], Value::Null);
    }

    #[test]
    fn an_envelope_fault_changes_its_part_and_only_it() {
        let (good, items) = responder(config(4));
        let page = good.page(&items, 2, &query(&[])).unwrap();
        assert_eq!(page["object"], "list");
        assert_eq!(page["has_more"], true);
        let envelope = |mock: &Responder| {
            mock.envelope(
                items[..2].to_vec(),
                items[0]["id"].clone(),
                items[1]["id"].clone(),
                true,
                None,
                None,
            )
        };
        assert_eq!(envelope(&good), page);
        let (bad, _) = responder(config(4).fault(Fault::MissingHasMore));
        let drifted = envelope(&bad);
        assert_eq!(differing(&page, &drifted), ["has_more"]);
        assert!(drifted.get("has_more").is_none());
        let (bad, _) = responder(config(4).fault(Fault::BareArray));
        assert_eq!(envelope(&bad), json!(items[..2]));
    }

    #[test]
    fn faults_combine_each_with_its_own_change() {
        let (bad, items) = responder(
            config(4)
                .fault(Fault::EnvelopeObjectRenamed)
                .fault(Fault::IdRenamed),
        );
        let page = bad.page(&items, 2, &query(&[])).unwrap();
        assert_eq!(page["object"], "page");
        assert!(page["data"][0].get("id").is_none());
        assert_eq!(page["data"][0]["batch_id"], items[0]["id"]);
    }
}
