//! Page invariants: what must hold of one list response on its own.

use serde_json::Value;

use crate::contract::{Contract, Direction, EmptyPageIds, pointer};
use crate::schema::excerpt;
use crate::violation::{Invariant, Violation};

/// What one list page is held to, besides its schema.
#[derive(Debug, Clone, Copy)]
pub struct PageRules<'a> {
    /// The most items the page may hold.
    pub limit: u64,
    pub contract: &'a Contract,
    /// The order the page's items must come in: the one the request asked for (`order=asc`),
    /// else the contract's default.
    pub direction: Direction,
    /// The filters the request applied: each item's field (a pointer) must equal the value.
    pub filters: &'a [(String, String)],
}

impl<'a> PageRules<'a> {
    /// The rules of a request with no `order` and no filter.
    pub fn new(limit: u64, contract: &'a Contract) -> Self {
        PageRules {
            limit,
            contract,
            direction: contract.order,
            filters: &[],
        }
    }
}

/// Checks one parsed list page. Parts the schema already rejects (a `data` that is not an
/// array, an id that is not a string) are skipped here rather than reported twice; a field
/// the contract's envelope lacks (no `first_id`) switches off the invariants about it.
pub fn check_page(body: &Value, rules: &PageRules, selected: &[Invariant]) -> Vec<Violation> {
    let mut out = Vec::new();
    let contract = rules.contract;
    let envelope = &contract.envelope;
    let Some(items) = envelope.items(body) else {
        return out;
    };
    let on = |p: Invariant| selected.contains(&p);
    let limit = rules.limit;

    if on(Invariant::PageSize) && items.len() as u64 > limit {
        out.push(Violation::new(
            Invariant::PageSize,
            envelope.data.as_str(),
            format!("at most {limit} items"),
            format!("{} items", items.len()),
        ));
    }

    let ends = [
        (Invariant::FirstId, envelope.first_id(), 0),
        (
            Invariant::LastId,
            envelope.last_id(),
            items.len().saturating_sub(1),
        ),
    ];
    if items.is_empty() {
        if on(Invariant::EmptyPage) {
            let wanted = contract.empty_page_ids;
            for key in ends.iter().filter_map(|e| e.1) {
                let Some(v) = pointer(body, key) else {
                    continue;
                };
                if Some(v) != wanted.value().as_ref() {
                    let expected = match wanted {
                        EmptyPageIds::Null => "null (the page is empty)".to_owned(),
                        EmptyPageIds::EmptyString => {
                            "\"\" (the page is empty; the contract's empty_page_ids = \"\")"
                                .to_owned()
                        }
                        EmptyPageIds::Absent => {
                            "no such field (the page is empty; the contract's empty_page_ids = \"absent\")"
                                .to_owned()
                        }
                    };
                    let mut actual = excerpt(v);
                    if wanted == EmptyPageIds::Null && v.as_str() == Some("") {
                        actual.push_str(
                            " (a server that sends \"\" on an empty page says so with empty_page_ids = \"\" in contract.toml)",
                        );
                    }
                    out.push(Violation::new(Invariant::EmptyPage, key, expected, actual));
                }
            }
            if envelope.has_more(body) == Some(true) {
                out.push(Violation::new(
                    Invariant::EmptyPage,
                    envelope.has_more.as_str(),
                    "false (an empty page with has_more: true strands every client)",
                    "true",
                ));
            }
        }
    } else {
        let id = &contract.id_field;
        for (inv, key, index) in ends {
            let Some(key) = key else { continue };
            let Some(item_id) = items[index].get(id).filter(|v| v.is_string()) else {
                continue;
            };
            let Some(given) = pointer(body, key) else {
                continue;
            };
            if on(inv) && given != item_id {
                out.push(Violation::new(
                    inv,
                    key,
                    format!("{} (data[{index}].{id})", excerpt(item_id)),
                    format!("{}{}", excerpt(given), follows(contract, inv)),
                ));
            }
        }
    }

    if on(Invariant::Order) {
        check_order(items, rules, &mut out);
    }
    if on(Invariant::Filter) {
        check_filters(items, rules, &mut out);
    }
    if on(Invariant::Plausible) {
        super::plausible::check_items(items, &contract.plausible, &mut out);
    }
    out
}

/// When `last_id` and the last item's id differ, which one a walk follows: a client of the
/// other kind pages differently from the harness.
fn follows(contract: &Contract, invariant: Invariant) -> String {
    if invariant != Invariant::LastId {
        return String::new();
    }
    format!(" ({})", contract.cursor_source.consequence())
}

fn check_order(items: &[Value], rules: &PageRules, out: &mut Vec<Violation>) {
    let contract = rules.contract;
    let key = &contract.order_key;
    let direction = rules.direction;
    let mut prev: Option<(usize, i64)> = None;
    for (i, item) in items.iter().enumerate() {
        // A missing key, or one not of the contract's kind, is the schema's to report;
        // ordering resumes after it.
        let Some(k) = item.get(key).and_then(|v| contract.order_value(v)) else {
            prev = None;
            continue;
        };
        if let Some((pi, pk)) = prev
            && !direction.allows(pk, k)
        {
            out.push(Violation::new(
                Invariant::Order,
                format!("/data/{i}/{key}"),
                format!(
                    "{} {} (data[{pi}].{key}; {} order)",
                    direction.bound_symbol(),
                    contract.show_key(pk),
                    direction.name()
                ),
                contract.show_key(k),
            ));
        }
        prev = Some((i, k));
    }
}

/// Every item of a filtered page matches each filter the request applied.
fn check_filters(items: &[Value], rules: &PageRules, out: &mut Vec<Violation>) {
    for (field, value) in rules.filters {
        for (i, item) in items.iter().enumerate() {
            let got = pointer(item, field);
            if got.and_then(Value::as_str) != Some(value.as_str()) {
                let id = item
                    .get(&rules.contract.id_field)
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                out.push(Violation::new(
                    Invariant::Filter,
                    format!("/data/{i}{field}"),
                    format!(
                        "{} (the request filters on it)",
                        excerpt(&Value::from(value.as_str()))
                    ),
                    format!(
                        "{} ({id} leaked through the filter)",
                        got.map_or_else(|| "absent".to_owned(), excerpt)
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::contract::Direction;

    fn contract() -> Contract {
        crate::contract::list_batches()
    }

    fn page(ids_and_times: &[(&str, i64)], has_more: bool) -> Value {
        let data: Vec<Value> = ids_and_times
            .iter()
            .map(|(id, t)| json!({"id": id, "created_at": t}))
            .collect();
        json!({
            "object": "list",
            "first_id": ids_and_times.first().map(|p| p.0),
            "last_id": ids_and_times.last().map(|p| p.0),
            "has_more": has_more,
            "data": data,
        })
    }

    fn names(v: &[Violation]) -> Vec<(&'static str, &str)> {
        v.iter()
            .map(|v| (v.invariant.name(), v.pointer.as_str()))
            .collect()
    }

    #[test]
    fn conforming_pages_pass() {
        let c = contract();
        let ok = page(&[("c", 30), ("b", 30), ("a", 10)], true);
        assert!(check_page(&ok, &PageRules::new(3, &c), &Invariant::PAGE).is_empty());
        let empty = page(&[], false);
        assert!(check_page(&empty, &PageRules::new(20, &c), &Invariant::PAGE).is_empty());
    }

    #[test]
    fn an_empty_page_carries_the_ids_the_contract_says() {
        let empty_as = |ids: Option<Value>| {
            let mut body = page(&[], false);
            let map = body.as_object_mut().unwrap();
            match ids {
                Some(v) => {
                    map.insert("first_id".into(), v.clone());
                    map.insert("last_id".into(), v);
                }
                None => {
                    map.remove("first_id");
                    map.remove("last_id");
                }
            }
            body
        };
        let (null, blank, absent) = (
            empty_as(Some(Value::Null)),
            empty_as(Some(json!(""))),
            empty_as(None),
        );
        for (ids, passes, fails) in [
            (EmptyPageIds::Null, vec![&null, &absent], &blank),
            (EmptyPageIds::EmptyString, vec![&blank, &absent], &null),
            (EmptyPageIds::Absent, vec![&absent], &blank),
        ] {
            let c = Contract {
                empty_page_ids: ids,
                ..contract()
            };
            for body in passes {
                let v = check_page(body, &PageRules::new(20, &c), &Invariant::PAGE);
                assert!(v.is_empty(), "{ids:?} {body}: {v:?}");
            }
            let v = check_page(fails, &PageRules::new(20, &c), &Invariant::PAGE);
            assert_eq!(
                names(&v),
                [("empty_page", "/first_id"), ("empty_page", "/last_id")],
                "{ids:?}"
            );
        }
        // The default names the parameter that accepts `""`.
        let v = check_page(&blank, &PageRules::new(20, &contract()), &Invariant::PAGE);
        assert_eq!(v[0].expected, "null (the page is empty)");
        assert!(
            v[0].actual.starts_with(
                "\"\" (a server that sends \"\" on an empty page says so with empty_page_ids = \"\""
            ),
            "{}",
            v[0].actual
        );
        let c = Contract {
            empty_page_ids: EmptyPageIds::Absent,
            ..contract()
        };
        let v = check_page(&null, &PageRules::new(20, &c), &Invariant::PAGE);
        assert_eq!(v.len(), 2, "null is a value, not absence");
    }

    #[test]
    fn each_page_invariant_fails_named_and_located() {
        let c = contract();
        let mut body = page(&[("c", 10), ("b", 20), ("a", 5)], true);
        body["first_id"] = json!("x");
        body["last_id"] = json!("y");
        let v = check_page(&body, &PageRules::new(2, &c), &Invariant::PAGE);
        assert_eq!(
            names(&v),
            [
                ("page_size", "/data"),
                ("first_id", "/first_id"),
                ("last_id", "/last_id"),
                ("order", "/data/1/created_at"),
            ]
        );
        assert_eq!(v[3].expected, "<= 10 (data[0].created_at; desc order)");
        assert_eq!(v[3].actual, "20");

        let mut empty = page(&[], true);
        empty["first_id"] = json!("x");
        let v = check_page(&empty, &PageRules::new(20, &c), &Invariant::PAGE);
        assert_eq!(
            names(&v),
            [("empty_page", "/first_id"), ("empty_page", "/has_more")]
        );
    }

    #[test]
    fn only_selected_invariants_run() {
        let c = contract();
        let body = page(&[("a", 1), ("b", 2)], false);
        assert!(check_page(&body, &PageRules::new(1, &c), &[Invariant::FirstId]).is_empty());
        assert_eq!(
            names(&check_page(
                &body,
                &PageRules::new(1, &c),
                &[Invariant::PageSize]
            )),
            [("page_size", "/data")]
        );
    }

    #[test]
    fn ascending_contract_flips_the_order_rule() {
        let mut c = contract();
        c.order = Direction::Asc;
        let body = page(&[("a", 1), ("b", 2)], false);
        assert!(check_page(&body, &PageRules::new(20, &c), &Invariant::PAGE).is_empty());
        let body = page(&[("b", 2), ("a", 1)], false);
        assert_eq!(
            names(&check_page(
                &body,
                &PageRules::new(20, &c),
                &Invariant::PAGE
            )),
            [("order", "/data/1/created_at")]
        );
    }

    #[test]
    fn rfc3339_keys_are_compared_as_instants() {
        let c = Contract {
            order_key_kind: crate::contract::KeyKind::Rfc3339,
            ..contract()
        };
        // The same instant in another offset ties; a later one out of order is named.
        let body = json!({"data": [
            {"id": "c", "created_at": "2025-03-02T10:15:42.5Z"},
            {"id": "b", "created_at": "2025-03-02T11:15:42.5+01:00"},
            {"id": "a", "created_at": "2025-03-02T10:15:43Z"},
        ], "first_id": "c", "last_id": "a", "has_more": false});
        let v = check_page(&body, &PageRules::new(20, &c), &Invariant::PAGE);
        assert_eq!(names(&v), [("order", "/data/2/created_at")]);
        assert_eq!(
            v[0].expected,
            "<= 2025-03-02T10:15:42.500Z (data[1].created_at; desc order)"
        );
        assert_eq!(v[0].actual, "2025-03-02T10:15:43Z");
        // Unix seconds where RFC 3339 is due: the schema's to report, not the order's.
        let ints = page(&[("b", 2), ("a", 1)], false);
        assert!(check_page(&ints, &PageRules::new(20, &c), &Invariant::PAGE).is_empty());
    }

    #[test]
    fn a_filtered_page_names_the_item_that_leaked() {
        let c = contract();
        let filters = [("/purpose".to_owned(), "batch".to_owned())];
        let rules = PageRules {
            filters: &filters,
            ..PageRules::new(20, &c)
        };
        let body = json!({"data": [
            {"id": "b", "created_at": 2, "purpose": "batch"},
            {"id": "a", "created_at": 1, "purpose": "fine-tune"},
        ], "first_id": "b", "last_id": "a", "has_more": false});
        let v = check_page(&body, &rules, &Invariant::PAGE);
        assert_eq!(names(&v), [("filter", "/data/1/purpose")]);
        assert_eq!(v[0].actual, "\"fine-tune\" (a leaked through the filter)");
        assert!(check_page(&body, &PageRules::new(20, &c), &Invariant::PAGE).is_empty());
    }

    #[test]
    fn fields_the_scheme_lacks_switch_their_invariants_off() {
        let mut c = contract();
        c.envelope.first_id = String::new();
        c.envelope.data = "/items".into();
        let body = json!({"items": [{"id": "b", "created_at": 2}, {"id": "a", "created_at": 1}],
            "first_id": "zzz", "last_id": "a", "has_more": false});
        assert!(check_page(&body, &PageRules::new(20, &c), &Invariant::PAGE).is_empty());
        let empty = json!({"items": [], "first_id": "zzz", "last_id": "y", "has_more": false});
        let v = check_page(&empty, &PageRules::new(20, &c), &Invariant::PAGE);
        assert_eq!(names(&v), [("empty_page", "/last_id")]);
    }
}
