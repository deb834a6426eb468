//! Page invariants: what must hold of one list response on its own.

use serde_json::Value;

use crate::contract::Contract;
use crate::schema::excerpt;
use crate::violation::{Invariant, PageInvariant, Violation};

/// Checks one parsed list page. Parts the schema already rejects (a `data` that is not an
/// array, an id that is not a string) are skipped here rather than reported twice.
pub fn check_page(
    body: &Value,
    limit: u64,
    contract: &Contract,
    selected: &[PageInvariant],
) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(items) = body.get("data").and_then(Value::as_array) else {
        return out;
    };
    let on = |p: PageInvariant| selected.contains(&p);

    if on(PageInvariant::PageSize) && items.len() as u64 > limit {
        out.push(Violation::new(
            Invariant::PageSize,
            "/data",
            format!("at most {limit} items"),
            format!("{} items", items.len()),
        ));
    }

    if items.is_empty() {
        if on(PageInvariant::EmptyPage) {
            for key in ["first_id", "last_id"] {
                if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
                    out.push(Violation::new(
                        Invariant::EmptyPage,
                        format!("/{key}"),
                        "null (the page is empty)",
                        excerpt(v),
                    ));
                }
            }
            if body.get("has_more") == Some(&Value::Bool(true)) {
                out.push(Violation::new(
                    Invariant::EmptyPage,
                    "/has_more",
                    "false (an empty page with has_more: true strands every client)",
                    "true",
                ));
            }
        }
    } else {
        let id = &contract.id_field;
        let ends = [
            (PageInvariant::FirstId, Invariant::FirstId, "first_id", 0),
            (
                PageInvariant::LastId,
                Invariant::LastId,
                "last_id",
                items.len() - 1,
            ),
        ];
        for (page_inv, inv, key, index) in ends {
            let Some(item_id) = items[index].get(id).filter(|v| v.is_string()) else {
                continue;
            };
            let Some(given) = body.get(key) else { continue };
            if on(page_inv) && given != item_id {
                out.push(Violation::new(
                    inv,
                    format!("/{key}"),
                    format!("{} (data[{index}].{id})", excerpt(item_id)),
                    excerpt(given),
                ));
            }
        }
    }

    if on(PageInvariant::Order) {
        check_order(items, contract, &mut out);
    }
    if on(PageInvariant::Plausible) {
        super::plausible::check_items(items, &contract.plausible, &mut out);
    }
    out
}

fn check_order(items: &[Value], contract: &Contract, out: &mut Vec<Violation>) {
    let key = &contract.order_key;
    let mut prev: Option<(usize, i64)> = None;
    for (i, item) in items.iter().enumerate() {
        // A missing or non-integer key is the schema's to report; ordering resumes after it.
        let Some(k) = item.get(key).and_then(Value::as_i64) else {
            prev = None;
            continue;
        };
        if let Some((pi, pk)) = prev {
            if !contract.order.allows(pk, k) {
                out.push(Violation::new(
                    Invariant::Order,
                    format!("/data/{i}/{key}"),
                    format!(
                        "{} {pk} (data[{pi}].{key}; {} order)",
                        contract.order.bound_symbol(),
                        contract.order.name()
                    ),
                    k.to_string(),
                ));
            }
        }
        prev = Some((i, k));
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
        assert!(check_page(&ok, 3, &c, &PageInvariant::ALL).is_empty());
        let empty = page(&[], false);
        assert!(check_page(&empty, 20, &c, &PageInvariant::ALL).is_empty());
    }

    #[test]
    fn each_page_invariant_fails_named_and_located() {
        let c = contract();
        let mut body = page(&[("c", 10), ("b", 20), ("a", 5)], true);
        body["first_id"] = json!("x");
        body["last_id"] = json!("y");
        let v = check_page(&body, 2, &c, &PageInvariant::ALL);
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
        let v = check_page(&empty, 20, &c, &PageInvariant::ALL);
        assert_eq!(
            names(&v),
            [("empty_page", "/first_id"), ("empty_page", "/has_more")]
        );
    }

    #[test]
    fn only_selected_invariants_run() {
        let c = contract();
        let body = page(&[("a", 1), ("b", 2)], false);
        assert!(check_page(&body, 1, &c, &[PageInvariant::FirstId]).is_empty());
        assert_eq!(
            names(&check_page(&body, 1, &c, &[PageInvariant::PageSize])),
            [("page_size", "/data")]
        );
    }

    #[test]
    fn ascending_contract_flips_the_order_rule() {
        let mut c = contract();
        c.order = Direction::Asc;
        let body = page(&[("a", 1), ("b", 2)], false);
        assert!(check_page(&body, 20, &c, &PageInvariant::ALL).is_empty());
        let body = page(&[("b", 2), ("a", 1)], false);
        assert_eq!(
            names(&check_page(&body, 20, &c, &PageInvariant::ALL)),
            [("order", "/data/1/created_at")]
        );
    }
}
