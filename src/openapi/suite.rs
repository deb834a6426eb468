//! A detected list as a suite's files: `contract.toml`, the case files, the mock's items
//! and two standalone schemas (the list and the error body).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::detect::{Detected, Found, Origin};
use super::mock_items;
use super::schema::deref;

/// A nested list's path parameter, and its parent list when the document has one: the list's
/// path, its item array (a JSON pointer) and its items' id field.
pub type ParentOf = (String, Option<(String, String, String)>);

/// One suite's files, by their place under the output folder (`cases/NAME/contract.toml`,
/// `schemas/NAME.list.json`).
#[derive(Debug, Clone)]
pub struct SuiteFiles {
    pub name: String,
    pub operation_id: String,
    pub path: String,
    pub files: Vec<(String, String)>,
    /// What the report says about it, one line each: values and where they came from.
    pub provenance: Vec<String>,
    /// Values nothing said: `key = value` and why, for the starter overrides file.
    pub guesses: Vec<(String, String)>,
    pub cases: usize,
}

/// `operationId` in snake_case, as a folder name.
pub fn suite_name(operation_id: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in operation_id.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() { "list".into() } else { out }
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn note<T>(
    key: &str,
    f: &Found<T>,
    provenance: &mut Vec<String>,
    guesses: &mut Vec<(String, String)>,
    shown: String,
) {
    provenance.push(format!("{key} = {shown} ({})", f.origin.describe()));
    if let Origin::Guessed(why) = &f.origin {
        guesses.push((format!("{key} = {shown}"), why.clone()));
    }
}

/// The mock's error bodies, in each style.
fn error_samples() -> [(&'static str, Value); 2] {
    [
        (
            "openai",
            json!({"error": {"message": "Invalid 'limit'.", "type": "invalid_request_error", "param": null, "code": null}}),
        ),
        (
            "anthropic",
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": "limit: invalid"}, "request_id": "req_0123456789abcdef01234567"}),
        ),
    ]
}

/// The suite's files for a detected list, or why its schemas cannot be used.
pub fn suite_files(d: &Detected, name: &str, parents: &[ParentOf]) -> Result<SuiteFiles, String> {
    let mut provenance = Vec::new();
    let mut guesses = Vec::new();
    let list_file = format!("{name}.list.json");
    let error_file = format!("{name}.error.json");

    // Schemas.
    let mut list_root = d.list_schema.clone();
    let mut defs = d.defs.clone();
    // first_id/last_id are null on an empty page whatever the spec types them.
    for key in ["first_id", "last_id"] {
        let envelope = match list_root
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            Some(def) => defs.get_mut(def),
            None => Some(&mut list_root),
        };
        if let Some(prop) = envelope
            .and_then(|e| e.get_mut("properties"))
            .and_then(|p| p.get_mut(key))
            && prop.get("type") == Some(&json!("string"))
        {
            prop["type"] = json!(["string", "null"]);
            provenance.push(format!("{key}: string or null (the spec types it a string; servers send null on an empty page)"));
        }
    }
    let list_doc = document(
        list_root,
        &defs,
        &format!("{} response", d.summary),
        &format!(
            "The 200 body of GET {} (operation {}), imported from the OpenAPI document.",
            d.path, d.operation_id
        ),
    );
    let item_doc = document(d.item_schema.clone(), &defs, "item", "");
    let (error_doc, error_style) = match &d.error_schema {
        Some((root, edefs, whence)) => {
            let doc = document(
                root.clone(),
                edefs,
                "Error response",
                &format!(
                    "The error body: {whence} of GET {} in the OpenAPI document.",
                    d.path
                ),
            );
            let fits = jsonschema::validator_for(&doc).ok().and_then(|v| {
                error_samples()
                    .into_iter()
                    .find(|(_, s)| v.is_valid(s))
                    .map(|(style, _)| style)
            });
            match fits {
                Some(style) => {
                    provenance.push(format!(
                        "error body: {whence} (the mock answers in the {style} style)"
                    ));
                    (doc, style)
                }
                None => {
                    provenance.push(format!("error body: {whence} fits neither error envelope the mock makes; the error schema is any JSON object (guessed)"));
                    guesses.push((
                        "error schema".into(),
                        format!(
                            "{whence} fits neither the OpenAI nor the Anthropic error envelope"
                        ),
                    ));
                    (permissive_error(), "openai")
                }
            }
        }
        None => {
            provenance.push(
                "error body: any JSON object (guessed: the spec has no error response)".into(),
            );
            guesses.push((
                "error schema".into(),
                "the spec has no 4XX or default response".into(),
            ));
            (permissive_error(), "openai")
        }
    };

    for (what, doc) in [("response", &list_doc), ("error", &error_doc)] {
        if let Err(e) = jsonschema::meta::validate(doc) {
            return Err(format!(
                "a schema that cannot be converted: the {what} schema is no valid JSON Schema 2020-12 ({})",
                e.to_string().chars().take(160).collect::<String>()
            ));
        }
        if let Err(e) = jsonschema::validator_for(doc) {
            return Err(format!(
                "a schema that cannot be converted: the {what} schema does not compile ({})",
                e.to_string().chars().take(160).collect::<String>()
            ));
        }
    }

    // The mock's items.
    let forced: Vec<(String, Value)> = d
        .filters
        .iter()
        .filter_map(|(_, field, values)| Some((field.clone(), json!(values.first()?))))
        .collect();
    let item_def = deref(&defs, &d.item_schema).clone();
    let (items, items_why) = mock_items::items(&d.examples, &item_doc, &defs, &item_def, &forced);
    provenance.push(format!("mock items: {items_why}"));

    // contract.toml
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# Imported from the OpenAPI document: GET {} (operationId {}), paging recognised from {}.",
        d.path, d.operation_id, d.scheme
    );
    let _ = writeln!(
        c,
        "# Each value says where it came from; values marked `guessed` are listed in the starter overrides file."
    );
    let _ = writeln!(
        c,
        "description = {}",
        quote(&format!(
            "{}: GET {} (imported from OpenAPI, {})",
            d.summary, d.path, d.scheme
        ))
    );
    let _ = writeln!(c, "path = {}", quote(&d.path));
    match &d.auth.value {
        Some(a) => {
            let _ = writeln!(c, "# auth: {}", d.auth.origin.describe());
            let _ = writeln!(c, "auth = {}", quote(a));
        }
        None => {
            let _ = writeln!(
                c,
                "# auth: {} (no auth cases; run with --no-auth)",
                d.auth.origin.describe()
            );
        }
    }
    note(
        "auth",
        &d.auth,
        &mut provenance,
        &mut guesses,
        d.auth.value.clone().unwrap_or_else(|| "none".into()),
    );
    for (k, f) in [
        ("min_limit", &d.min_limit),
        ("default_limit", &d.default_limit),
        ("max_limit", &d.max_limit),
    ] {
        let _ = writeln!(c, "# {k}: {}", f.origin.describe());
        let _ = writeln!(c, "{k} = {}", f.value);
        note(k, f, &mut provenance, &mut guesses, f.value.to_string());
    }
    for (k, f) in [
        ("limit_param", &d.limit_param),
        ("cursor_param", &d.cursor_param),
        ("cursor_source", &d.cursor_source),
        ("id_field", &d.id_field),
        ("order_key", &d.order_key),
        ("order", &d.order),
    ] {
        let _ = writeln!(c, "# {k}: {}", f.origin.describe());
        let _ = writeln!(c, "{k} = {}", quote(&f.value));
        note(k, f, &mut provenance, &mut guesses, quote(&f.value));
    }
    let kind = match d.order_key_kind.as_str() {
        k @ ("unix_seconds" | "rfc3339" | "integer") => k,
        _ => "unix_seconds",
    };
    let _ = writeln!(c, "order_key_kind = {}", quote(kind));
    if let Some(t) = &d.next_token {
        let _ = writeln!(c, "next_token = {}", quote(t));
        provenance.push(format!("next_token = {t}"));
    }
    if !d.headers.is_empty() {
        let _ = writeln!(c, "# Required header parameters of the operation.");
        let _ = writeln!(c, "[headers]");
        for (k, v) in &d.headers {
            let _ = writeln!(c, "{} = {}", quote(k), quote(v));
        }
    }
    let _ = writeln!(c, "\n[envelope]");
    let _ = writeln!(c, "# data: {}", d.data.origin.describe());
    let _ = writeln!(c, "data = {}", quote(&d.data.value));
    let _ = writeln!(c, "# has_more: {}", d.has_more.origin.describe());
    let _ = writeln!(c, "has_more = {}", quote(&d.has_more.value));
    let _ = writeln!(
        c,
        "first_id = {}",
        quote(d.first_id.as_deref().unwrap_or(""))
    );
    let _ = writeln!(c, "last_id = {}", quote(d.last_id.as_deref().unwrap_or("")));
    provenance.push(format!(
        "envelope: data {} ({}), has_more {}, first_id {}, last_id {}",
        d.data.value,
        d.data.origin.describe(),
        d.has_more.value,
        d.first_id.as_deref().unwrap_or("none"),
        d.last_id.as_deref().unwrap_or("none")
    ));
    if let Some(b) = &d.backward {
        let _ = writeln!(
            c,
            "\n# backward: {}; a backward page holds the items just before the cursor, in list order (inferred)",
            b.origin.describe()
        );
        let _ = writeln!(
            c,
            "[backward]\nparam = {}\npage_order = \"list\"",
            quote(&b.value)
        );
        provenance.push(format!("backward = {} ({})", b.value, b.origin.describe()));
    }
    if let Some((p, asc, desc)) = &d.order_param {
        let _ = writeln!(
            c,
            "\n# The `{p}` parameter's enum.\n[order_param]\nname = {}\nasc = {}\ndesc = {}",
            quote(p),
            quote(asc),
            quote(desc)
        );
        provenance.push(format!(
            "order parameter `{p}`: {asc} / {desc} (declared: its enum)"
        ));
    }
    for (param, field, values) in &d.filters {
        let _ = writeln!(
            c,
            "\n# Filter: the query parameter `{param}` names the item field {field}; values from the enum of the parameter or of the item field.\n[[filters]]\nparam = {}\nfield = {}\nvalues = [{}]",
            quote(param),
            quote(field),
            values
                .iter()
                .map(|v| quote(v))
                .collect::<Vec<_>>()
                .join(", ")
        );
        provenance.push(format!("filter `{param}` on {field} ({} value(s); inferred: the parameter names an item field, values declared in an enum)", values.len()));
    }
    for u in &d.unused_filters {
        provenance.push(format!("filter not used: {u}"));
    }
    for (param, parent) in parents {
        let _ = writeln!(
            c,
            "\n# The path parameter `{param}`: {}.",
            match parent {
                Some((list, _, _)) => format!(
                    "the first item of the parent list GET {list} unless --path-param {param}=VALUE gives it"
                ),
                None => format!(
                    "give it with --path-param {param}=VALUE (the spec has no list to find it in)"
                ),
            }
        );
        let _ = writeln!(c, "[[parents]]\nparam = {}", quote(param));
        if let Some((list, data, id)) = parent {
            let _ = writeln!(
                c,
                "list = {}\ndata = {}\nid_field = {}",
                quote(list),
                quote(data),
                quote(id)
            );
        }
        provenance.push(format!(
            "path parameter `{param}`: {}",
            match parent {
                Some((list, _, _)) => format!("walked from GET {list}"),
                None => "given with --path-param".into(),
            }
        ));
    }
    let _ = writeln!(
        c,
        "\n[schemas]\nlist = {}\nerror = {}",
        quote(&list_file),
        quote(&error_file)
    );
    let id_prefix = items
        .first()
        .and_then(|i| i.get(&d.id_field.value))
        .and_then(Value::as_str)
        // A made-up id (`item_0001`) says nothing: the suite's last word does.
        .filter(|id| *id != "item_0001")
        .and_then(|id| {
            let cut = id.find(['_', '-'])?;
            Some(id[..=cut].to_owned())
        })
        .unwrap_or_else(|| format!("{}_", name.split('_').next_back().unwrap_or("item")));
    let _ = writeln!(
        c,
        "\n# What the reference mock serves: {items_why}.\n[mock]\nexamples = \"mock-items.json\"\nid_prefix = {}\nenvelope_object = {}\nerror_style = {}",
        quote(&id_prefix),
        quote(&d.envelope_object),
        quote(error_style)
    );

    // Cases.
    let cases = cases(d);
    let dir = format!("cases/{name}");
    let mut files = vec![(format!("{dir}/contract.toml"), c)];
    files.extend(
        cases
            .iter()
            .map(|(n, text)| (format!("{dir}/{n}.toml"), text.clone())),
    );
    files.push((
        format!("{dir}/mock-items.json"),
        pretty(&Value::Array(items)),
    ));
    files.push((format!("schemas/{list_file}"), pretty(&list_doc)));
    files.push((format!("schemas/{error_file}"), pretty(&error_doc)));
    Ok(SuiteFiles {
        name: name.to_owned(),
        operation_id: d.operation_id.clone(),
        path: d.path.clone(),
        files,
        provenance,
        guesses,
        cases: cases.len(),
    })
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn permissive_error() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Error response",
        "description": "Any JSON object: the OpenAPI document has no error schema the importer could use (see the import report).",
        "type": "object"
    })
}

fn document(root: Value, defs: &BTreeMap<String, Value>, title: &str, description: &str) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    doc.insert("title".into(), title.into());
    if !description.is_empty() {
        doc.insert("description".into(), description.into());
    }
    match root {
        Value::Object(map) => doc.extend(map),
        Value::Bool(true) => {}
        other => {
            doc.insert("allOf".into(), json!([other]));
        }
    }
    if !defs.is_empty() {
        doc.insert("$defs".into(), json!(defs));
    }
    Value::Object(doc)
}

/// The standard cases for what the list supports, each with where its rule came from.
fn cases(d: &Detected) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let (min, max, default) = (d.min_limit.value, d.max_limit.value, d.default_limit.value);
    let lim = &d.limit_param.value;
    let from = |f: &Origin| f.describe();
    let limits = format!(
        "{min}-{max} ({}; {})",
        from(&d.min_limit.origin),
        from(&d.max_limit.origin)
    );
    let page = |query: String, accept: &str, description: String| {
        let mut text = format!("description = {}\n", quote(&description));
        if !query.is_empty() {
            let _ = write!(text, "\n[request]\nquery = {{ {query} }}\n");
        }
        text.push_str(accept);
        text
    };
    let ok = "\n[[accept]]\nstatus = 200\nschema = \"list\"\n";
    let invalid = "\n[[accept]]\nstatus = 400\nschema = \"error\"\n\n[[accept]]\nstatus = 422\nschema = \"error\"\n";
    let key = |k: &str| {
        if k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            k.to_owned()
        } else {
            quote(k)
        }
    };
    let lk = key(lim);
    out.push(("default_page".into(), page(String::new(), ok, format!("The first page with no parameters: at most the default limit ({default}; {}) items, in the default order ({}; {}).", from(&d.default_limit.origin), d.order.value, from(&d.order.origin)))));
    if min <= 1 {
        out.push((
            "limit_1".into(),
            page(
                format!("{lk} = 1"),
                ok,
                format!(
                    "{lim}=1, the smallest useful limit in the range {limits}: at most one item."
                ),
            ),
        ));
    }
    if min <= 7 && max >= 7 {
        out.push(("limit_7".into(), page(format!("{lk} = 7"), ok, format!("A short limit (7, a prime that divides no usual page size) in the range {limits}: at most 7 items."))));
    }
    out.push((
        "limit_max".into(),
        page(
            format!("{lk} = {max}"),
            ok,
            format!(
                "{lim}={max}, the maximum ({}): accepted, at most {max} items.",
                from(&d.max_limit.origin)
            ),
        ),
    ));
    out.push((
        "limit_above_max".into(),
        page(
            format!("{lk} = {}", max + 1),
            invalid,
            format!(
                "{lim}={} is above the maximum {max} ({}): a 400 or 422 with the error body.",
                max + 1,
                from(&d.max_limit.origin)
            ),
        ),
    ));
    if min >= 1 {
        out.push((
            "limit_zero".into(),
            page(
                format!("{lk} = 0"),
                invalid,
                format!(
                    "{lim}=0 is below the minimum {min} ({}): a 400 or 422 with the error body.",
                    from(&d.min_limit.origin)
                ),
            ),
        ));
    }
    out.push((
        "limit_negative".into(),
        page(
            format!("{lk} = -1"),
            invalid,
            format!("{lim}=-1 is below the range {limits}: a 400 or 422 with the error body."),
        ),
    ));
    out.push(("limit_not_integer".into(), page(format!("{lk} = \"abc\""), invalid, format!("{lim}=abc is not an integer (the parameter is an integer): a 400 or 422 with the error body; a 200 or a 5xx is drift."))));
    let cursor = format!(
        "the cursor `{}` ({}), next cursor from {} ({})",
        d.cursor_param.value,
        from(&d.cursor_param.origin),
        d.cursor_source.value,
        from(&d.cursor_source.origin)
    );
    let walk = |limit: String, why: String| {
        format!("description = {}\n\n[walk]\nlimit = {limit}\n", quote(&why))
    };
    out.push(("walk_default".into(), walk("\"default\"".into(), format!("Walk the whole listing with no limit sent, following {cursor}: every page conforms, no id twice, in order, has_more ({}) true until the end.", from(&d.has_more.origin)))));
    if min <= 1 {
        out.push(("walk_limit_1".into(), walk("1".into(), format!("Walk one item per page following {cursor}: every boundary between two items is a page boundary."))));
    }
    if min <= 7 && max >= 7 {
        out.push(("walk_limit_7".into(), walk("7".into(), "Walk 7 items per page (a prime), so page boundaries fall where other walks have none.".into())));
    }
    out.push(("walk_max".into(), walk("\"max\"".into(), format!("Walk at the maximum limit, {max} ({}): the fewest requests, and the reference the cross-walk compares the others with.", from(&d.max_limit.origin)))));
    let mut limits_list: Vec<String> = Vec::new();
    if min <= 1 {
        limits_list.push("1".into());
    }
    if min <= 7 && max >= 7 {
        limits_list.push("7".into());
    }
    limits_list.extend(["\"default\"".into(), "\"max\"".into()]);
    out.push(("cross_walk".into(), format!("description = {}\n\n[cross_walk]\nlimits = [{}]\n", quote("Walks at several limits list the same items in the same order, and a smaller limit's first page is a prefix of a larger one's (cursor paging, inferred): a difference is an item skipped or repeated at a page boundary."), limits_list.join(", "))));
    let unknown = "\n[[accept]]\nstatus = 400\nschema = \"error\"\n\n[[accept]]\nstatus = 404\nschema = \"error\"\n\n[[accept]]\nstatus = 422\nschema = \"error\"\n\n[[accept]]\nstatus = 200\nschema = \"list\"\n";
    let ck = key(&d.cursor_param.value);
    out.push(("unknown_cursor".into(), page(format!("{ck} = \"lc_does_not_exist_000000000000\""), unknown, format!("A `{}` value that names nothing (the spec does not say what happens): 400, 404 or 422 with the error body, or 200 with a list page; never a 5xx.", d.cursor_param.value))));
    if let Some(b) = &d.backward {
        out.push(("backward_walk".into(), format!("description = {}\n\n[backward_walk]\nlimit = {}\n", quote(&format!("From the end of the forward listing back to its head with {}=<first id> ({}; the page is the items just before the cursor, in list order: inferred): the pages joined give the forward listing exactly.", b.value, from(&b.origin))), if max >= 7 { 7 } else { max })));
        let bk = key(&b.value);
        out.push(("unknown_before".into(), page(format!("{bk} = \"lc_does_not_exist_000000000000\""), unknown, format!("A `{}` value that names nothing: 400, 404 or 422 with the error body, or 200 with a list page; never a 5xx.", b.value))));
    }
    if let Some((p, asc, _)) = &d.order_param {
        let pk = key(p);
        out.push(("order_asc".into(), page(format!("{lk} = {}, {pk} = {}", 7.min(max), quote(asc)), ok, format!("{p}={asc} (declared: the parameter's enum): the first page in ascending {} order.", d.order_key.value))));
        out.push(("order_walk".into(), format!("description = {}\n\n[order_walk]\nlimit = {}\n", quote(&format!("Walk with both values of `{p}` (declared: its enum), ordered by {} ({}): one listing is the other reversed, and the cursor walk works in both orders.", d.order_key.value, from(&d.order_key.origin))), 7.min(max))));
    }
    for (param, field, values) in &d.filters {
        let Some(value) = values.first() else {
            continue;
        };
        let slug = super::suite::suite_name(param);
        out.push((format!("filter_walk_{slug}"), format!("description = {}\n\n[filter_walk]\nparam = {}\nvalue = {}\nlimit = {}\n", quote(&format!("Walk with {param}={value} against the unfiltered walk (the query parameter names the item field {field}: inferred): the filtered walk lists exactly the unfiltered listing's matching items, in the same order.")), quote(param), quote(value), 7.min(max))));
        out.push((format!("filter_{slug}"), page(format!("{} = {}, {lk} = {}", key(param), quote(value), 7.min(max)), ok, format!("{param}={value}: a page whose every item has {field} == {value}; another value on the page is a leaked filter."))));
    }
    if let Some(_auth) = &d.auth.value {
        let whence = from(&d.auth.origin);
        out.push(("missing_key".into(), format!("description = {}\n\n[request]\nauth = \"none\"\n\n[[accept]]\nstatus = 401\nschema = \"error\"\n", quote(&format!("No credential at all ({whence}): 401 with the error body, never data.")))));
        out.push(("wrong_key".into(), format!("description = {}\n\n[request]\nauth = \"wrong\"\n\n[[accept]]\nstatus = 401\nschema = \"error\"\n", quote(&format!("A credential the server never issued ({whence}): 401 with the error body, never data.")))));
    }
    for (header, _) in &d.headers {
        out.push((format!("missing_header_{}", suite_name(header)), format!("description = {}\n\n[request]\nomit_headers = [{}]\n\n[[accept]]\nstatus = 400\nschema = \"error\"\n\n[[accept]]\nstatus = 422\nschema = \"error\"\n", quote(&format!("The required header `{header}` left out (declared: a required header parameter): a 400 or 422 with the error body.")), quote(header))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_are_named_from_the_operation_id() {
        assert_eq!(suite_name("listBatches"), "list_batches");
        assert_eq!(
            suite_name("ListVectorStoreFiles"),
            "list_vector_store_files"
        );
        assert_eq!(suite_name("list-things.v2"), "list_things_v2");
        assert_eq!(suite_name("GET /x/{id}"), "get_x_id");
    }
}
