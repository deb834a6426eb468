//! Which GET operations are paginated lists, and how: from an SDK generator's extension
//! (`x-speakeasy-pagination`, `x-fern-pagination`, `x-stainless-pagination-property`,
//! `x-ms-pageable`), else from the parameters and the response envelope. Every value found
//! says where it came from ([`Origin`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::overrides::OperationOverrides;
use super::schema::{Converter, deref};
use super::spec::Spec;

/// Where a value of an imported contract came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The spec says so in a schema or an extension (where).
    Declared(String),
    /// Read from a description's prose (the sentence): not machine-readable in the spec.
    Prose(String),
    /// Inferred from names and shapes (how).
    Inferred(String),
    /// From the overrides file.
    Overridden,
    /// Nothing said it: a guess the starter overrides file lists.
    Guessed(String),
}

impl Origin {
    /// How reports and comments name it.
    pub fn describe(&self) -> String {
        match self {
            Origin::Declared(w) => format!("declared: {w}"),
            Origin::Prose(w) => format!("read from prose: \"{w}\""),
            Origin::Inferred(w) => format!("inferred: {w}"),
            Origin::Overridden => "overridden (overrides file)".into(),
            Origin::Guessed(w) => format!("guessed: {w}"),
        }
    }

    pub fn is_guess(&self) -> bool {
        matches!(self, Origin::Guessed(_))
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub value: T,
    pub origin: Origin,
}

fn found<T>(value: T, origin: Origin) -> Found<T> {
    Found { value, origin }
}

/// A path parameter of a nested list and the list of its parents, when the spec has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentParam {
    pub name: String,
    /// The parent list's path (earlier parameters still as `{name}`), when the spec has a
    /// GET there.
    pub list: Option<String>,
}

/// A paginated list, as detected.
#[derive(Debug, Clone)]
pub struct Detected {
    pub operation_id: String,
    pub path: String,
    pub summary: String,
    /// How paging was recognised: an extension's name, or "parameters and envelope".
    pub scheme: String,
    pub limit_param: Found<String>,
    pub min_limit: Found<u64>,
    pub max_limit: Found<u64>,
    pub default_limit: Found<u64>,
    pub cursor_param: Found<String>,
    /// `last_item`, `last_id` or `token`.
    pub cursor_source: Found<String>,
    pub next_token: Option<String>,
    pub backward: Option<Found<String>>,
    pub data: Found<String>,
    pub has_more: Found<String>,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub id_field: Found<String>,
    pub order_key: Found<String>,
    /// `unix_seconds`, `rfc3339` or `integer`.
    pub order_key_kind: String,
    pub order: Found<String>,
    /// The order parameter: name, asc value, desc value.
    pub order_param: Option<(String, String, String)>,
    /// Filters: parameter, item field, values.
    pub filters: Vec<(String, String, Vec<String>)>,
    /// Query parameters that looked like filters but could not be used, and why.
    pub unused_filters: Vec<String>,
    /// `bearer`, `x-api-key`, or `None` for an operation without security.
    pub auth: Found<Option<String>>,
    pub headers: Vec<(String, String)>,
    pub parents: Vec<ParentParam>,
    /// The envelope object value when the schema fixes it (`"list"`), else `""` when the
    /// envelope has no `object` field.
    pub envelope_object: String,
    /// The converted response schema (root) and the components it reached.
    pub list_schema: Value,
    pub item_schema: Value,
    pub defs: BTreeMap<String, Value>,
    pub error_schema: Option<(Value, BTreeMap<String, Value>, String)>,
    /// Items from the spec's examples.
    pub examples: Vec<Value>,
    pub unresolved: Vec<String>,
}

/// A GET operation that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub operation_id: String,
    pub path: String,
    pub reason: String,
}

/// A GET operation of the document.
pub struct Operation<'a> {
    pub path: &'a str,
    pub op: &'a Value,
    pub id: String,
    /// Path-level and operation-level parameters, resolved (the operation's win).
    pub params: Vec<&'a Value>,
}

/// Every GET operation, in the document's order of paths.
pub fn operations(spec: &Spec) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    let Some(paths) = spec.doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item = spec.resolve(item);
        let Some(op) = item.get("get") else { continue };
        let mut params: Vec<&Value> = Vec::new();
        for p in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                item.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            )
        {
            let p = spec.resolve(p);
            let key = (p.get("name"), p.get("in"));
            if !params.iter().any(|q| (q.get("name"), q.get("in")) == key) {
                params.push(p);
            }
        }
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .map_or_else(|| format!("GET {path}"), str::to_owned);
        out.push(Operation {
            path,
            op,
            id,
            params,
        });
    }
    out
}

fn param<'a>(op: &Operation<'a>, names: &[&str], place: &str) -> Option<&'a Value> {
    names.iter().find_map(|n| {
        op.params
            .iter()
            .find(|p| {
                p.get("in").and_then(Value::as_str) == Some(place)
                    && p.get("name").and_then(Value::as_str) == Some(n)
            })
            .copied()
    })
}

fn name_of(p: &Value) -> String {
    p.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn description(v: &Value) -> &str {
    v.get("description").and_then(Value::as_str).unwrap_or("")
}

/// `name` as a JSON pointer token.
fn token(name: &str) -> String {
    format!("/{}", name.replace('~', "~0").replace('/', "~1"))
}

/// The properties of an object schema, following `$defs` references and merging `allOf`.
pub fn properties(defs: &BTreeMap<String, Value>, schema: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let schema = deref(defs, schema);
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        out.extend(props.clone());
    }
    for branch in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (k, v) in properties(defs, branch) {
            out.entry(k).or_insert(v);
        }
    }
    if out.is_empty() {
        // An item that is one of several kinds: the first kind's properties.
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|b| {
                b.iter()
                    .find(|b| deref(defs, b).get("type") != Some(&"null".into()))
            }) {
                return properties(defs, first);
            }
        }
    }
    out
}

/// The JSON type of a schema (not `null`), following references and nullable wrappers.
pub fn type_of(defs: &BTreeMap<String, Value>, schema: &Value) -> Option<String> {
    let schema = deref(defs, schema);
    match schema.get("type") {
        Some(Value::String(t)) => return Some(t.clone()),
        Some(Value::Array(ts)) => {
            return ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .map(str::to_owned);
        }
        _ => {}
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = type_of(defs, branch) {
                return Some(t);
            }
        }
    }
    if schema.get("properties").is_some() {
        return Some("object".into());
    }
    None
}

fn json_path_to_pointer(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix("$response.")
        .or_else(|| path.strip_prefix("$response"))
        .or_else(|| path.strip_prefix("$."))
        .or_else(|| path.strip_prefix('$'))
        .unwrap_or(path);
    let rest = rest.trim_start_matches('.');
    if rest.is_empty() || rest.contains(['[', '*', '?']) {
        return None;
    }
    Some(rest.split('.').map(token).collect())
}

/// What an extension names.
#[derive(Default)]
struct Named {
    scheme: String,
    cursor: Option<String>,
    limit: Option<String>,
    results: Option<String>,
    /// The next cursor: `last_item`, or an envelope pointer.
    next: Option<String>,
    backward: Option<String>,
}

/// The extension dialect's paging, if the operation declares one; `Err` skips it.
fn extension(spec: &Spec, op: &Operation<'_>) -> Result<Option<Named>, String> {
    if let Some(x) = op.op.get("x-speakeasy-pagination") {
        let kind = x.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "cursor" {
            return Err(format!(
                "x-speakeasy-pagination type `{kind}`: {} paging is not supported yet (cursor paging only)",
                if kind == "offsetLimit" {
                    "offset/limit"
                } else {
                    kind
                }
            ));
        }
        let mut n = Named {
            scheme: "x-speakeasy-pagination".into(),
            ..Named::default()
        };
        for input in x
            .get("inputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = input.get("name").and_then(Value::as_str).map(str::to_owned);
            match input.get("type").and_then(Value::as_str) {
                Some("cursor") => n.cursor = name,
                Some("limit") => n.limit = name,
                _ => {}
            }
        }
        let outputs = x.get("outputs");
        n.results = outputs
            .and_then(|o| o.get("results"))
            .and_then(Value::as_str)
            .and_then(json_path_to_pointer);
        n.next = outputs
            .and_then(|o| o.get("nextCursor"))
            .and_then(Value::as_str)
            .map(next_of);
        return Ok(Some(n));
    }
    if let Some(x) = op.op.get("x-fern-pagination") {
        if x.get("offset").is_some() {
            return Err("x-fern-pagination with `offset`: offset paging is not supported yet (cursor paging only)".into());
        }
        let request = |key: &str| {
            x.get(key)
                .and_then(Value::as_str)
                .map(|s| s.trim_start_matches("$request.").to_owned())
        };
        return Ok(Some(Named {
            scheme: "x-fern-pagination".into(),
            cursor: request("cursor"),
            limit: request("page_size").or_else(|| request("limit")),
            results: x
                .get("results")
                .and_then(Value::as_str)
                .and_then(json_path_to_pointer),
            next: x.get("next_cursor").and_then(Value::as_str).map(next_of),
            backward: None,
        }));
    }
    if let Some(x) = op.op.get("x-ms-pageable") {
        return Err(match x.get("nextLinkName") {
            Some(Value::String(name)) => format!(
                "x-ms-pageable: next-link paging (`{name}` holds a URL to follow) is not supported yet"
            ),
            _ => "not paginated: x-ms-pageable with nextLinkName null (the whole list comes in one page)".into(),
        });
    }
    // Stainless: the purpose is on the parameters and the envelope's properties.
    let purpose = |v: &Value| {
        spec.resolve(v)
            .get("x-stainless-pagination-property")
            .and_then(|x| x.get("purpose"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut n = Named {
        scheme: "x-stainless-pagination-property".into(),
        ..Named::default()
    };
    for p in &op.params {
        match purpose(p).as_deref() {
            Some("next_cursor_param") => n.cursor = Some(name_of(p)),
            Some("previous_cursor_param") => n.backward = Some(name_of(p)),
            Some("page_size_param" | "limit_param") => n.limit = Some(name_of(p)),
            Some(other @ ("offset_count_param" | "page_number_param")) => {
                return Err(format!(
                    "x-stainless-pagination-property `{other}`: offset and page-number paging are not supported yet"
                ));
            }
            _ => {}
        }
    }
    let raw_envelope = op_response_schema(spec, op.op).map(|s| spec.resolve(s));
    for (key, prop) in raw_envelope
        .and_then(|e| e.get("properties"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match purpose(prop).as_deref() {
            Some("items") => n.results = Some(token(key)),
            Some("next_cursor_field") => n.next = Some(token(key)),
            _ => {}
        }
    }
    if n.cursor.is_some() || n.results.is_some() {
        return Ok(Some(n));
    }
    Ok(None)
}

/// An extension's next-cursor expression: the last item's id, or a field of the envelope.
fn next_of(path: &str) -> String {
    let p = path
        .trim_start_matches("$response.")
        .trim_start_matches("$.");
    if p.contains("[-1]") || p.contains("length-1") || p.contains("[(@.length - 1)]") {
        "last_item".into()
    } else {
        json_path_to_pointer(path).unwrap_or_else(|| "last_item".into())
    }
}

/// The 200 JSON response schema of an operation.
pub fn op_response_schema<'a>(spec: &'a Spec, op: &'a Value) -> Option<&'a Value> {
    let responses = op.get("responses")?;
    let response = ["200", "2XX", "2xx", "201"]
        .iter()
        .find_map(|code| responses.get(*code))?;
    json_schema(spec, response)
}

fn json_schema<'a>(spec: &'a Spec, response: &'a Value) -> Option<&'a Value> {
    let content = spec.resolve(response).get("content")?.as_object()?;
    content
        .iter()
        .find(|(k, _)| k.contains("json"))
        .and_then(|(_, v)| v.get("schema"))
}

const CURSOR_NAMES: &[&str] = &[
    "after",
    "after_id",
    "starting_after",
    "cursor",
    "page_token",
    "pageToken",
    "next_token",
    "nextToken",
    "continuation_token",
    "continuationToken",
    "next_cursor",
    "page_after",
];
const BACKWARD_NAMES: &[&str] = &["before", "before_id", "ending_before", "page_before"];
const LIMIT_NAMES: &[&str] = &[
    "limit",
    "page_size",
    "pageSize",
    "per_page",
    "max_results",
    "maxResults",
    "size",
    "top",
    "first",
];
const DATA_NAMES: &[&str] = &["data", "items", "results", "value", "entries", "records"];
const NEXT_NAMES: &[&str] = &[
    "next_cursor",
    "next_page_token",
    "nextPageToken",
    "next_page",
    "next",
    "nextCursor",
    "cursor",
    "next_token",
    "nextToken",
    "continuation_token",
];
const HAS_MORE_NAMES: &[&str] = &["has_more", "hasMore", "has_next", "hasNext"];
const TIME_NAMES: &[&str] = &[
    "created_at",
    "created",
    "createdAt",
    "create_time",
    "created_time",
    "creation_time",
    "createTime",
    "timestamp",
    "inserted_at",
    "start_time",
    "startTime",
    "updated_at",
];

/// Detects the list of `op`, or says why it is not imported.
pub fn detect(
    spec: &Spec,
    op: &Operation<'_>,
    ov: &OperationOverrides,
    has_get: &dyn Fn(&str) -> bool,
) -> Result<Detected, String> {
    if let Some((_, query)) = op.path.split_once('?') {
        return Err(format!(
            "a path with a query string (`?{query}`) is not supported yet"
        ));
    }
    let raw = op_response_schema(spec, op.op).ok_or("not a list: no JSON 200 response")?;
    let mut conv = Converter::new(spec);
    let list_schema = conv.convert(raw);
    let defs = conv.defs.clone();
    let env_props = properties(&defs, &list_schema);
    let headers_of_200 = op
        .op
        .get("responses")
        .and_then(|r| r.get("200"))
        .map(|r| spec.resolve(r))
        .and_then(|r| r.get("headers"))
        .and_then(Value::as_object);
    let named = extension(spec, op)?;
    let scheme = named.as_ref().map_or_else(
        || "parameters and envelope".to_owned(),
        |n| n.scheme.clone(),
    );
    let ext = |w: &str| Origin::Declared(format!("{scheme} {w}"));

    // The item array.
    let data = match (&ov.data, named.as_ref().and_then(|n| n.results.clone())) {
        (Some(d), _) => found(d.clone(), Origin::Overridden),
        (None, Some(d)) => found(d, ext("results")),
        (None, None) => {
            let arrays: Vec<&String> = env_props
                .iter()
                .filter(|(_, v)| type_of(&defs, v).as_deref() == Some("array"))
                .map(|(k, _)| k)
                .collect();
            let pick = DATA_NAMES
                .iter()
                .find_map(|n| arrays.iter().find(|a| a.as_str() == *n))
                .or_else(|| (arrays.len() == 1).then(|| &arrays[0]));
            match pick {
                Some(k) => found(
                    token(k),
                    Origin::Inferred(format!("the envelope's array `{k}`")),
                ),
                None if type_of(&defs, &list_schema).as_deref() == Some("array") => {
                    return Err(
                        "not paginated: the 200 response is a bare array (no envelope, no cursor)"
                            .into(),
                    );
                }
                None => return Err("not a list: the 200 response has no item array".into()),
            }
        }
    };
    let item_schema = {
        let key = data.value.trim_start_matches('/');
        let mut schema = list_schema.clone();
        for part in key.split('/') {
            schema = properties(&defs, &schema)
                .get(part)
                .cloned()
                .unwrap_or(Value::Bool(true));
        }
        deref(&defs, &schema)
            .get("items")
            .cloned()
            .unwrap_or(Value::Bool(true))
    };
    let item_props = properties(&defs, &item_schema);

    // Paging styles not supported.
    let query_names: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .map(|p| name_of(p))
        .collect();
    // The envelope's next cursor, if it has one.
    let next_field = NEXT_NAMES
        .iter()
        .find(|n| {
            env_props
                .get(**n)
                .is_some_and(|v| type_of(&defs, v).as_deref() == Some("string"))
        })
        .map(|n| token(n));
    // A string `page` that the envelope's next cursor feeds is a cursor, not a page number.
    let string_page = param(op, &["page", "page_token"], "query").filter(|p| {
        next_field.is_some()
            && p.get("schema")
                .map(|s| spec.resolve(s))
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
                == Some("string")
    });
    let cursor = match (&ov.cursor_param, named.as_ref().and_then(|n| n.cursor.clone())) {
        (Some(c), _) => Some(found(c.clone(), Origin::Overridden)),
        (None, Some(c)) => Some(found(c, ext("cursor"))),
        (None, None) => param(op, CURSOR_NAMES, "query")
            .map(|p| found(name_of(p), Origin::Inferred(format!("the query parameter `{}`", name_of(p)))))
            .or_else(|| {
                string_page.map(|p| {
                    found(name_of(p), Origin::Inferred(format!("`{}` is a string the envelope's `{}` feeds: a cursor, not a page number", name_of(p), next_field.as_deref().unwrap_or("").trim_start_matches('/'))))
                })
            }),
    };
    let Some(cursor_param) = cursor else {
        if headers_of_200.is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("link"))) {
            return Err(
                "Link-header paging (RFC 8288 `Link: rel=next`) is not supported yet".into(),
            );
        }
        if let Some(p) = query_names
            .iter()
            .find(|n| ["page", "page_number", "pageNumber", "page_num"].contains(&n.as_str()))
        {
            return Err(format!("page-number paging (`{p}`) is not supported yet"));
        }
        if let Some(p) = query_names
            .iter()
            .find(|n| ["offset", "skip", "start"].contains(&n.as_str()))
        {
            return Err(format!("offset paging (`{p}`) is not supported yet"));
        }
        return Err("not paginated: no cursor parameter (an item array returned whole)".into());
    };

    let has_more = match &ov.has_more {
        Some(h) => found(h.clone(), Origin::Overridden),
        None => match HAS_MORE_NAMES.iter().find(|n| env_props.contains_key(**n)) {
            Some(n) => found(
                token(n),
                Origin::Declared(format!("the envelope's boolean `{n}`")),
            ),
            None => {
                return Err(format!(
                    "no `has_more` in the envelope: a list whose end is told only by a missing next token (cursor `{}`) is not supported yet",
                    cursor_param.value
                ));
            }
        },
    };
    let has = |name: &str| env_props.contains_key(name);
    let first_id = ov
        .first_id
        .clone()
        .or_else(|| has("first_id").then(|| "/first_id".into()))
        .filter(|s| !s.is_empty());
    let last_id = ov
        .last_id
        .clone()
        .or_else(|| has("last_id").then(|| "/last_id".into()))
        .filter(|s| !s.is_empty());

    let id_field = match &ov.id_field {
        Some(i) => found(i.clone(), Origin::Overridden),
        None if item_props.contains_key("id") => found(
            "id".into(),
            Origin::Declared("the item's `id` property".into()),
        ),
        None => match ["name", "uuid", "key"]
            .iter()
            .find(|n| item_props.contains_key(**n))
        {
            Some(n) => found(
                (*n).to_owned(),
                Origin::Inferred(format!("the item's `{n}` property")),
            ),
            None => found(
                "id".into(),
                Origin::Guessed("the item schema names no id".into()),
            ),
        },
    };

    let id_like = ["after", "after_id", "starting_after", "page_after"]
        .contains(&cursor_param.value.as_str());
    let (cursor_source, next_token) = match (
        &ov.cursor_source,
        named.as_ref().and_then(|n| n.next.clone()),
    ) {
        (Some(s), _) => (
            found(s.clone(), Origin::Overridden),
            ov.next_token.clone().or(next_field.clone()),
        ),
        (None, Some(n)) if n == "last_item" => (
            found("last_item".into(), ext("next cursor: the last item's id")),
            None,
        ),
        (None, Some(n)) if Some(&n) == last_id.as_ref() => {
            (found("last_id".into(), ext("next cursor: last_id")), None)
        }
        (None, Some(n)) => (
            found("token".into(), ext(&format!("next cursor at `{n}`"))),
            Some(n),
        ),
        (None, None) if next_field.is_some() => {
            let f = next_field.clone().unwrap_or_default();
            (
                found(
                    "token".into(),
                    Origin::Inferred(format!(
                        "the envelope's next cursor `{f}` is what `{}` takes",
                        cursor_param.value
                    )),
                ),
                Some(f),
            )
        }
        (None, None) if id_like => (
            found(
                "last_item".into(),
                Origin::Inferred(format!(
                    "`{}` names an item: data[-1].{}",
                    cursor_param.value, id_field.value
                )),
            ),
            None,
        ),
        (None, None) => match &next_field {
            Some(f) => (
                found(
                    "token".into(),
                    Origin::Inferred(format!("the envelope's next token `{f}`")),
                ),
                Some(f.clone()),
            ),
            None => (
                found(
                    "last_item".into(),
                    Origin::Guessed(format!(
                        "no next token in the envelope: `{}` takes the last item's id",
                        cursor_param.value
                    )),
                ),
                None,
            ),
        },
    };
    let next_token = ov.next_token.clone().or(next_token);

    let backward = match (
        &ov.backward_param,
        named.as_ref().and_then(|n| n.backward.clone()),
    ) {
        (Some(b), _) if b.is_empty() => None,
        (Some(b), _) => Some(found(b.clone(), Origin::Overridden)),
        (None, Some(b)) => Some(found(b, ext("previous cursor"))),
        (None, None) if cursor_source.value != "token" => {
            param(op, BACKWARD_NAMES, "query").map(|p| {
                found(
                    name_of(p),
                    Origin::Inferred(format!("the query parameter `{}`", name_of(p))),
                )
            })
        }
        (None, None) => None,
    };

    // The limit.
    let limit_name = match (
        &ov.limit_param,
        named.as_ref().and_then(|n| n.limit.clone()),
    ) {
        (Some(l), _) => found(l.clone(), Origin::Overridden),
        (None, Some(l)) => found(l, ext("limit")),
        (None, None) => match param(op, LIMIT_NAMES, "query") {
            Some(p) => found(
                name_of(p),
                Origin::Inferred(format!("the query parameter `{}`", name_of(p))),
            ),
            None => found(
                "limit".into(),
                Origin::Guessed("the operation has no limit parameter".into()),
            ),
        },
    };
    let limit_param = param(op, &[limit_name.value.as_str()], "query");
    let limit_schema = limit_param
        .and_then(|p| p.get("schema"))
        .map(|s| spec.resolve(s));
    let limit_prose = limit_param.map(description).unwrap_or("");
    let (prose_min, prose_max, prose_default, sentence) = prose_limits(limit_prose);
    let bound =
        |key: &str, ov: Option<u64>, prose: Option<u64>, guess: u64, what: &str| -> Found<u64> {
            if let Some(v) = ov {
                return found(v, Origin::Overridden);
            }
            if let Some(v) = limit_schema
                .and_then(|s| s.get(key))
                .and_then(Value::as_u64)
            {
                return found(
                    v,
                    Origin::Declared(format!("`{}` schema {key}", limit_name.value)),
                );
            }
            if let Some(v) = prose {
                return found(v, Origin::Prose(sentence.clone()));
            }
            found(guess, Origin::Guessed(format!("the spec gives no {what}")))
        };
    let min_limit = bound("minimum", ov.min_limit, prose_min, 1, "minimum");
    let max_limit = bound("maximum", ov.max_limit, prose_max, 100, "maximum");
    let mut default_limit = bound(
        "default",
        ov.default_limit,
        prose_default,
        max_limit.value.min(20),
        "default",
    );
    if default_limit.value > max_limit.value {
        default_limit = found(
            max_limit.value,
            Origin::Guessed("the default exceeds the maximum; taken as the maximum".into()),
        );
    }

    // Order.
    let order_p = param(op, &["order", "sort_order", "direction"], "query");
    let order_param = order_p.and_then(|p| {
        let schema = p.get("schema").map(|s| spec.resolve(s))?;
        let values: Vec<String> = schema
            .get("enum")?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let asc = values
            .iter()
            .find(|v| v.to_ascii_lowercase().starts_with("asc"))?
            .clone();
        let desc = values
            .iter()
            .find(|v| v.to_ascii_lowercase().starts_with("desc"))?
            .clone();
        Some((name_of(p), asc, desc))
    });
    let order = match (&ov.order, order_p, &order_param) {
        (Some(o), _, _) => found(o.clone(), Origin::Overridden),
        (None, Some(p), Some((_, asc, desc))) => {
            let schema = p.get("schema").map(|s| spec.resolve(s));
            match schema
                .and_then(|s| s.get("default"))
                .and_then(Value::as_str)
            {
                Some(d) if d == asc => found(
                    "asc".into(),
                    Origin::Declared(format!("`{}` default", name_of(p))),
                ),
                Some(d) if d == desc => found(
                    "desc".into(),
                    Origin::Declared(format!("`{}` default", name_of(p))),
                ),
                _ => match prose_default_word(description(p), asc, desc) {
                    Some((d, s)) => found(d, Origin::Prose(s)),
                    None => found(
                        "desc".into(),
                        Origin::Guessed(format!("`{}` has no default", name_of(p))),
                    ),
                },
            }
        }
        _ => found(
            "desc".into(),
            Origin::Guessed("no order parameter: newest first assumed".into()),
        ),
    };
    let (order_key, order_key_kind) = match &ov.order_key {
        Some(k) => (
            found(k.clone(), Origin::Overridden),
            ov.order_key_kind
                .clone()
                .unwrap_or_else(|| key_kind(&defs, item_props.get(k))),
        ),
        None => match TIME_NAMES.iter().find(|n| {
            item_props.get(**n).is_some_and(|v| {
                matches!(
                    key_kind(&defs, Some(v)).as_str(),
                    "unix_seconds" | "rfc3339"
                )
            })
        }) {
            Some(n) => (
                found(
                    (*n).to_owned(),
                    Origin::Inferred(format!("the item's time `{n}`")),
                ),
                key_kind(&defs, item_props.get(*n)),
            ),
            None => (
                found(
                    "created_at".into(),
                    Origin::Guessed("the item has no creation time".into()),
                ),
                "unix_seconds".into(),
            ),
        },
    };
    let order_key_kind = ov.order_key_kind.clone().unwrap_or(order_key_kind);

    // Filters: query parameters that name an item field, with values to filter on.
    let paging: Vec<&str> = [
        Some(cursor_param.value.as_str()),
        Some(limit_name.value.as_str()),
        backward.as_ref().map(|b| b.value.as_str()),
        order_param.as_ref().map(|o| o.0.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut filters = Vec::new();
    let mut unused_filters = Vec::new();
    for p in op
        .params
        .iter()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
    {
        let name = name_of(p);
        if paging.contains(&name.as_str()) || ov.no_filters {
            continue;
        }
        let Some(field) = item_props.get(&name) else {
            continue;
        };
        let schema = p
            .get("schema")
            .map(|s| spec.resolve(s))
            .unwrap_or(&Value::Null);
        if schema
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "string")
        {
            continue;
        }
        let enum_of = |s: &Value| -> Vec<String> {
            s.get("enum")
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        // The parameter's values that an item can hold (`any` is no item's value).
        let item_values = enum_of(deref(&defs, field));
        let mut values = enum_of(schema);
        if !item_values.is_empty() {
            if values.is_empty() {
                values = item_values;
            } else {
                values.retain(|v| item_values.contains(v));
            }
        }
        if values.is_empty() {
            unused_filters.push(format!(
                "`{name}` (a free string: no values to filter on; give them in the overrides file)"
            ));
            continue;
        }
        filters.push((name.clone(), token(&name), values));
    }
    for f in &ov.filters {
        filters.retain(|(p, _, _)| *p != f.param);
        filters.push((f.param.clone(), f.field.clone(), f.values.clone()));
    }

    // Auth.
    let auth = match &ov.auth {
        Some(a) if a == "none" => found(None, Origin::Overridden),
        Some(a) => found(Some(a.clone()), Origin::Overridden),
        None => auth_of(spec, op.op),
    };
    let headers: Vec<(String, String)> = op
        .params
        .iter()
        .filter(|p| {
            p.get("in").and_then(Value::as_str) == Some("header")
                && p.get("required") == Some(&Value::Bool(true))
        })
        .filter_map(|p| {
            let schema = p.get("schema").map(|s| spec.resolve(s))?;
            let value = schema
                .get("enum")
                .and_then(|e| e.get(0))
                .or_else(|| schema.get("default"))
                .or_else(|| p.get("example"))
                .or_else(|| schema.get("example"))?;
            Some((
                name_of(p),
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned),
            ))
        })
        .chain(ov.headers.clone())
        .collect();

    // Nested: each path parameter, and its parent list.
    let mut parents = Vec::new();
    let mut rest = op.path;
    let mut prefix = String::new();
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = rest[start + 1..start + len].to_owned();
        let before = format!("{prefix}{}", &rest[..start]);
        let list = before.trim_end_matches('/').to_owned();
        parents.push(ParentParam {
            name,
            list: has_get(&list).then_some(list),
        });
        prefix = format!("{before}{}", &rest[start..start + len + 1]);
        rest = &rest[start + len + 1..];
    }

    let envelope_object = match env_props.get("object").map(|o| deref(&defs, o)) {
        None => String::new(),
        Some(o) => o
            .get("const")
            .or_else(|| o.get("enum").and_then(|e| e.get(0)))
            .or_else(|| o.get("default"))
            .and_then(Value::as_str)
            .unwrap_or("list")
            .to_owned(),
    };

    let examples = examples_of(spec, op.op, &data.value);
    let error_schema = error_schema(spec, op.op);
    let mut unresolved = conv.unresolved.clone();
    unresolved.dedup();
    Ok(Detected {
        operation_id: op.id.clone(),
        path: op.path.to_owned(),
        summary: op
            .op
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or(op.id.as_str())
            .to_owned(),
        scheme,
        limit_param: limit_name,
        min_limit,
        max_limit,
        default_limit,
        cursor_param,
        cursor_source,
        next_token,
        backward,
        data,
        has_more,
        first_id,
        last_id,
        id_field,
        order_key,
        order_key_kind,
        order,
        order_param,
        filters,
        unused_filters,
        auth,
        headers,
        parents,
        envelope_object,
        list_schema,
        item_schema,
        defs,
        error_schema,
        examples,
        unresolved,
    })
}

fn key_kind(defs: &BTreeMap<String, Value>, schema: Option<&Value>) -> String {
    let Some(schema) = schema else {
        return "unix_seconds".into();
    };
    let s = deref(defs, schema);
    match type_of(defs, schema).as_deref() {
        Some("integer") => "unix_seconds".into(),
        Some("string") if s.get("format").and_then(Value::as_str) == Some("date-time") => {
            "rfc3339".into()
        }
        Some("string") => "string".into(),
        _ => "other".into(),
    }
}

/// The scheme the operation's security (or the document's) asks for.
fn auth_of(spec: &Spec, op: &Value) -> Found<Option<String>> {
    let (requirements, whose) = match op.get("security") {
        Some(s) => (s, "the operation's security"),
        None => match spec.doc.get("security") {
            Some(s) => (s, "the document's security"),
            None => {
                return found(
                    Some("bearer".into()),
                    Origin::Guessed("the spec declares no security".into()),
                );
            }
        },
    };
    let names: Vec<&String> = requirements
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys())
        .collect();
    if names.is_empty() {
        return found(None, Origin::Declared(format!("{whose} is empty: no auth")));
    }
    for name in &names {
        let Some(scheme) = spec
            .doc
            .pointer(&format!("/components/securitySchemes/{name}"))
            .map(|s| spec.resolve(s))
        else {
            continue;
        };
        let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("");
        let http = scheme
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let header = scheme
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let at = format!("securitySchemes.{name}");
        if (kind == "http" && http == "bearer") || kind == "oauth2" || kind == "openIdConnect" {
            return found(
                Some("bearer".into()),
                Origin::Declared(
                    format!("{at} ({kind} {http})")
                        .replace("  ", " ")
                        .replace(" )", ")"),
                ),
            );
        }
        if kind == "apiKey" && scheme.get("in").and_then(Value::as_str) == Some("header") {
            if header == "x-api-key" {
                return found(
                    Some("x-api-key".into()),
                    Origin::Declared(format!("{at} (apiKey header x-api-key)")),
                );
            }
            if header == "authorization" {
                return found(
                    Some("bearer".into()),
                    Origin::Declared(format!("{at} (apiKey header Authorization)")),
                );
            }
        }
    }
    found(
        Some("bearer".into()),
        Origin::Guessed(format!(
            "security scheme(s) {} are neither bearer nor an x-api-key header",
            names
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    )
}

/// Items from the spec's examples: the 200 response's example (its array at `data`), else
/// the item schema's own example.
fn examples_of(spec: &Spec, op: &Value, data: &str) -> Vec<Value> {
    let Some(response) = op
        .get("responses")
        .and_then(|r| r.get("200"))
        .map(|r| spec.resolve(r))
    else {
        return Vec::new();
    };
    let Some(media) = response
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.iter().find(|(k, _)| k.contains("json")).map(|(_, v)| v))
    else {
        return Vec::new();
    };
    let mut bodies: Vec<&Value> = media.get("example").into_iter().collect();
    for e in media
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(_, e)| spec.resolve(e))
    {
        bodies.extend(e.get("value"));
    }
    bodies
        .into_iter()
        .filter_map(|b| b.pointer(data).and_then(Value::as_array))
        .flatten()
        .filter(|v| v.is_object())
        .cloned()
        .collect()
}

/// The operation's error schema (a 4XX or default JSON response), converted, and where it
/// came from.
fn error_schema(spec: &Spec, op: &Value) -> Option<(Value, BTreeMap<String, Value>, String)> {
    let responses = op.get("responses").and_then(Value::as_object);
    let declared = responses.and_then(|responses| {
        let (code, response) = responses
            .iter()
            .find(|(code, _)| code.starts_with('4'))
            .or_else(|| responses.iter().find(|(code, _)| *code == "default"))?;
        Some((
            json_schema(spec, response)?.clone(),
            format!("the {code} response"),
        ))
    });
    // No error response on the operation: the document's error component, by its usual names.
    let (schema, whence) = declared.or_else(|| {
        ["ErrorResponse", "Error", "ApiError", "ErrorObject"]
            .iter()
            .find(|name| spec.doc.pointer(&format!("/components/schemas/{name}")).is_some())
            .map(|name| {
                (
                    serde_json::json!({ "$ref": format!("#/components/schemas/{name}") }),
                    format!("the component `{name}` (inferred: the operation declares no error response)"),
                )
            })
    })?;
    let mut conv = Converter::new(spec);
    let root = conv.convert(&schema);
    Some((root, conv.defs, whence))
}

/// Limits read from a description: (min, max, default, the sentence).
pub fn prose_limits(text: &str) -> (Option<u64>, Option<u64>, Option<u64>, String) {
    let mut min = None;
    let mut max = None;
    let mut default = None;
    let mut sentences = Vec::new();
    for sentence in text
        .split(['.', '\n', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let lower = sentence.to_ascii_lowercase();
        let numbers = numbers_in(&lower);
        let mut used = false;
        if let Some(at) = ["between", "from", "range"]
            .iter()
            .find_map(|w| lower.find(w))
        {
            let after: Vec<(usize, u64)> =
                numbers.iter().copied().filter(|(i, _)| *i > at).collect();
            if after.len() >= 2 && min.is_none() {
                min = Some(after[0].1);
                max = Some(after[1].1);
                used = true;
            }
        }
        for w in ["maximum", "max", "at most", "up to"] {
            if max.is_none()
                && let Some(at) = lower.find(w)
                && let Some((_, n)) = numbers.iter().find(|(i, _)| *i > at)
            {
                max = Some(*n);
                used = true;
            }
        }
        // The first default (later ones are for other settings: "`1h`: default 24").
        if default.is_none()
            && let Some(at) = lower.find("default")
            && let Some((_, n)) = numbers.iter().find(|(i, _)| *i > at)
        {
            default = Some(*n);
            used = true;
        }
        if used {
            sentences.push(sentence.to_owned());
        }
    }
    (min, max, default, sentences.join(". "))
}

fn numbers_in(text: &str) -> Vec<(usize, u64)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'.')
        {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b',') {
                i += 1;
            }
            if let Ok(n) = text[start..i]
                .trim_end_matches(',')
                .replace(',', "")
                .parse()
            {
                out.push((start, n));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The default order word in a description ("`desc` for descending order", "default: asc").
fn prose_default_word(text: &str, asc: &str, desc: &str) -> Option<(String, String)> {
    for sentence in text.split(['.', '\n']) {
        let lower = sentence.to_ascii_lowercase();
        if let Some(at) = lower.find("default") {
            let rest = &lower[at..];
            let a = rest.find(&asc.to_ascii_lowercase());
            let d = rest.find(&desc.to_ascii_lowercase());
            let pick = match (a, d) {
                (Some(a), Some(d)) => Some(if a < d { "asc" } else { "desc" }),
                (Some(_), None) => Some("asc"),
                (None, Some(_)) => Some("desc"),
                _ => None,
            };
            if let Some(p) = pick {
                return Some((p.to_owned(), sentence.trim().to_owned()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_read_from_prose() {
        let (min, max, default, sentence) = prose_limits(
            "A limit on the number of objects to be returned. Limit can range between 1 and 100, and the default is 20.",
        );
        assert_eq!((min, max, default), (Some(1), Some(100), Some(20)));
        assert!(sentence.contains("between 1 and 100"), "{sentence}");
        let (min, max, default, _) = prose_limits("Page size, at most 1,000 (defaults to 50)");
        assert_eq!((min, max, default), (None, Some(1000), Some(50)));
        // Several settings: the first one's.
        let (_, max, default, _) =
            prose_limits("- `1d`: default: 7, max: 31.\n- `1h`: default: 24, max: 168.");
        assert_eq!((max, default), (Some(31), Some(7)));
        assert_eq!(prose_limits("How many."), (None, None, None, String::new()));
    }

    #[test]
    fn the_default_order_is_read_from_prose() {
        assert_eq!(
            prose_default_word(
                "Sort order. Defaults to `asc`, or `desc` for newest first.",
                "asc",
                "desc"
            )
            .map(|p| p.0),
            Some("asc".into())
        );
        assert_eq!(prose_default_word("Sort order.", "asc", "desc"), None);
    }
}
