//! The schemas folder: every `*.json` file is parsed, checked against its meta-schema and
//! compiled once per run; `$ref`s between files resolve locally and never over the network.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use jsonschema::{Retrieve, Uri, Validator};
use serde_json::Value;

use crate::violation::{Invariant, Violation};

/// A schema file that cannot be used. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read schemas from {}: {source} (point CONTRACT_SCHEMAS_DIR / --schemas at the folder holding the *.json schemas)", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not valid JSON: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: not a valid JSON Schema: at {pointer}: {message} (fix the schema; it is checked against its `$schema` meta-schema)", path.display())]
    Meta {
        path: PathBuf,
        pointer: String,
        message: String,
    },
    #[error("{}: schema does not compile: {message}", path.display())]
    Compile { path: PathBuf, message: String },
    #[error("no *.json schemas in {}", dir.display())]
    Empty { dir: PathBuf },
    #[error("{}: `schemas.{role}` names `{file}`, which is not in {}", contract.display(), dir.display())]
    Missing {
        contract: PathBuf,
        role: &'static str,
        file: String,
        dir: PathBuf,
    },
}

/// The schemas folder, served by URI to `$ref`s; anything else is refused, never fetched.
#[derive(Clone)]
struct LocalSchemas(BTreeMap<String, Value>);

impl Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0.get(uri.as_str()).cloned().ok_or_else(|| {
            let name = uri.as_str().rsplit('/').next().unwrap_or(uri.as_str());
            format!("`$ref` to {uri}: no such schema file (`{name}`) in the schemas folder, and remote references are not fetched").into()
        })
    }
}

/// The most shapes (one per instance location a schema declares) built for one file: real
/// schemas have a few hundred; a hostile one stops here, its deeper locations open.
pub const SHAPE_BUDGET: u32 = 20_000;

/// Every schema of the folder, compiled.
pub struct SchemaSet {
    dir: PathBuf,
    validators: BTreeMap<String, Validator>,
    /// Each schema with `additionalProperties: false` wherever it lists `properties` and
    /// leaves the rest open: passing it means valid and nothing undeclared. A file whose
    /// strict form does not compile has none (its pages take the two checks one by one).
    strict: BTreeMap<String, Validator>,
    /// The documents by file name, for building shapes.
    docs: BTreeMap<String, Value>,
    /// What each file declares, for [`SchemaSet::undeclared`]: built once at load, so a page
    /// without additive drift costs a lookup per key and no allocation.
    shapes: BTreeMap<String, Shape>,
}

/// The properties a schema declares at one instance location, with `$ref`s followed and the
/// branches of `anyOf`/`oneOf`/`allOf` merged.
#[derive(Debug, Default)]
struct Shape {
    /// Keys are free here: no `properties`, or `additionalProperties`/`patternProperties`
    /// open them (as `metadata` does).
    open: bool,
    /// Sorted by name, as serde_json's maps iterate, so an object is matched in one pass.
    properties: Vec<(String, Shape)>,
    /// The shape of an array's items, when the schema says.
    items: Option<Box<Shape>>,
}

/// One step from the root of an instance: a key or an array position.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("dir", &self.dir)
            .field("schemas", &self.validators.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SchemaSet {
    /// Loads, meta-checks and compiles every `*.json` in `dir`. All problems are returned.
    pub fn load(dir: &Path) -> Result<SchemaSet, Vec<SchemaError>> {
        let io = |source| {
            vec![SchemaError::Io {
                path: dir.to_owned(),
                source,
            }]
        };
        let paths: Vec<PathBuf> = crate::files::files_below(dir, false)
            .map_err(io)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        if paths.is_empty() {
            return Err(vec![SchemaError::Empty {
                dir: dir.to_owned(),
            }]);
        }

        let mut errors = Vec::new();
        let mut docs = Vec::new();
        for path in paths {
            match read_schema(&path) {
                Ok(doc) => docs.push((path, doc)),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let name = |path: &Path| {
            path.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        };
        let mut validators = BTreeMap::new();
        for (path, built) in compile(&docs) {
            match built {
                Ok(v) => {
                    validators.insert(name(&path), v);
                }
                Err(message) => errors.push(SchemaError::Compile { path, message }),
            }
        }
        if errors.is_empty() {
            let mut set = SchemaSet {
                dir: dir.to_owned(),
                validators,
                strict: BTreeMap::new(),
                docs: docs.iter().map(|(p, doc)| (name(p), doc.clone())).collect(),
                shapes: BTreeMap::new(),
            };
            set.shapes = set
                .docs
                .iter()
                .map(|(file, doc)| {
                    let mut budget = SHAPE_BUDGET;
                    let shape = set.shape(&[(file, doc)], &mut Vec::new(), &mut budget);
                    (file.clone(), shape)
                })
                .collect();
            // Closing objects is exact only for schemas that do not negate or choose between
            // subschemas (under `not`, `if` or `oneOf` a closed subschema loosens the whole),
            // and whose `anyOf`/`allOf` branches each list properties or take no object (a
            // branch that takes any object would let keys through that `undeclared` names).
            if docs.iter().all(|(_, doc)| closes_exactly(doc)) && set.branches_list_properties() {
                let closed: Vec<(PathBuf, Value)> = docs
                    .into_iter()
                    .map(|(path, mut doc)| {
                        close_objects(&mut doc);
                        (path, doc)
                    })
                    .collect();
                set.strict = compile(&closed)
                    .into_iter()
                    .filter_map(|(path, built)| Some((name(&path), built.ok()?)))
                    .collect();
            }
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// The folder the schemas came from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a schema file of that name was loaded.
    pub fn contains(&self, file: &str) -> bool {
        self.validators.contains_key(file)
    }

    /// Whether `instance` is valid against `file` and has no property the schema does not
    /// declare (see [`SchemaSet::undeclared`]). `false` says nothing: check each apart.
    pub fn conforms_strictly(&self, file: &str, instance: &Value) -> bool {
        self.strict.get(file).is_some_and(|v| v.is_valid(instance))
    }

    /// Validates `instance` against the schema `file`, one violation per error.
    ///
    /// # Panics
    /// If `file` was not loaded: callers check contracts against [`SchemaSet::contains`] at start.
    pub fn validate(&self, file: &str, instance: &Value) -> Vec<Violation> {
        let validator = self
            .validators
            .get(file)
            .unwrap_or_else(|| panic!("schema {file} was checked at start but is not loaded"));
        // Nearly every page conforms: the yes/no pass is several times cheaper than
        // collecting errors, which only a page that fails pays for.
        if validator.is_valid(instance) {
            return Vec::new();
        }
        let mut found = Vec::new();
        for e in validator.iter_errors(instance) {
            push_error(file, &e, None, &mut found);
        }
        found
    }
}

/// Adds the violation(s) of one validation error to `out`. A failed `anyOf`/`oneOf` says only
/// "not valid under any of the schemas"; the errors of its closest branch say why, each at
/// its own place, so those are reported instead (`branch`: the keyword and branch that led
/// here, for the expected text).
fn push_error(
    file: &str,
    e: &jsonschema::ValidationError<'_>,
    branch: Option<&str>,
    out: &mut Vec<Violation>,
) {
    use jsonschema::error::ValidationErrorKind;
    let (keyword, context) = match e.kind() {
        ValidationErrorKind::AnyOf { context } => ("anyOf", context),
        ValidationErrorKind::OneOfNotValid { context } => ("oneOf", context),
        _ => ("", &Vec::new()),
    };
    if let Some((index, errors)) = closest_branch(context) {
        let place = format!(
            "the closest `{keyword}` branch ({} of {}) at {}",
            index + 1,
            context.len(),
            keyword_location(file, e)
        );
        for inner in errors {
            push_error(file, inner, Some(&place), out);
        }
        return;
    }
    let (mut expected, actual) = describe(e);
    if let Some(place) = branch {
        expected = format!("{expected} (in {place})");
    }
    let mut v = Violation::new(
        Invariant::Schema,
        e.instance_path().as_str(),
        expected,
        actual,
    );
    v.schema_path = Some(keyword_location(file, e));
    out.push(v);
}

/// The branch that came closest to matching: its errors reach deepest into the instance
/// (it matched the most before failing), and then it has the fewest errors.
fn closest_branch<'e, 'a>(
    branches: &'e [Vec<jsonschema::ValidationError<'a>>],
) -> Option<(usize, &'e [jsonschema::ValidationError<'a>])> {
    let depth = |errors: &[jsonschema::ValidationError<'_>]| {
        errors
            .iter()
            .map(|e| e.instance_path().as_str().matches('/').count())
            .max()
            .unwrap_or(0)
    };
    branches
        .iter()
        .enumerate()
        .filter(|(_, errors)| !errors.is_empty())
        // The first of equals wins: `max_by` keeps the last, so look from the end.
        .rev()
        .max_by(|(_, a), (_, b)| depth(a).cmp(&depth(b)).then_with(|| b.len().cmp(&a.len())))
        .map(|(i, errors)| (i, errors.as_slice()))
}

impl SchemaSet {
    /// The properties of `instance` that the schema `file` does not declare: additive drift,
    /// which the schemas allow. Each as its path with array positions written `[]`
    /// (`data[].priority`) and the JSON pointer of its first occurrence; one per path.
    ///
    /// The schema is followed through `properties`, `items`, `$ref` (to a file of the folder
    /// or within one) and the branches of `anyOf`/`oneOf`/`allOf`: a property any branch
    /// declares is known. An object whose schema declares no `properties`, or opens them
    /// with `additionalProperties`/`patternProperties` (as `metadata` does), is not looked
    /// into: its keys are free.
    pub fn undeclared(&self, file: &str, instance: &Value) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = Vec::new();
        if let Some(shape) = self.shapes.get(file) {
            let mut steps = Vec::new();
            undeclared_in(shape, instance, &mut steps, &mut found, &mut HashSet::new());
        }
        found
    }

    /// What `nodes` declare together at one instance location. A schema that refers back to
    /// itself (a `$ref` cycle) counts as open below the first round: its keys are not looked
    /// into twice, and a recursive schema cannot blow the shape up.
    ///
    /// `budget` bounds the shapes built for one file ([`SHAPE_BUDGET`]): a schema whose
    /// properties fan out through shared definitions cannot grow without end; past it, what
    /// is left counts as open (nothing there is called undeclared).
    fn shape<'s>(
        &'s self,
        nodes: &[(&'s str, &'s Value)],
        visiting: &mut Vec<&'s Value>,
        budget: &mut u32,
    ) -> Shape {
        let ids: Vec<&Value> = nodes.iter().map(|(_, n)| *n).collect();
        if *budget == 0
            || ids
                .iter()
                .any(|id| visiting.iter().any(|v| std::ptr::eq(*v, *id)))
        {
            return Shape {
                open: true,
                ..Shape::default()
            };
        }
        *budget -= 1;
        let mut applicable = Vec::new();
        let mut seen = HashSet::new();
        for (file, node) in nodes {
            self.applicable(file, node, 0, &mut applicable, &mut seen);
        }
        let open = applicable.iter().any(|(_, n)| {
            n.get("patternProperties").is_some()
                || n.get("additionalProperties")
                    .is_some_and(|a| a != &Value::Bool(false))
        });
        let mut declared: BTreeMap<&str, Vec<(&str, &Value)>> = BTreeMap::new();
        for (file, node) in &applicable {
            for (key, schema) in node
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                declared.entry(key).or_default().push((file, schema));
            }
        }
        let has_properties = applicable
            .iter()
            .any(|(_, n)| n.get("properties").is_some());
        let items: Vec<(&str, &Value)> = applicable
            .iter()
            .filter_map(|(f, n)| n.get("items").map(|s| (*f, s)))
            .collect();
        visiting.extend(&ids);
        let shape = Shape {
            open: open || !has_properties,
            properties: declared
                .into_iter()
                .map(|(key, nodes)| (key.to_owned(), self.shape(&nodes, visiting, budget)))
                .collect(),
            items: (!items.is_empty()).then(|| Box::new(self.shape(&items, visiting, budget))),
        };
        visiting.truncate(visiting.len() - ids.len());
        shape
    }

    /// Whether every branch of every `anyOf`/`allOf` in the folder either lists `properties`
    /// or takes no objects at all (`{"type": "null"}`), `$ref`s followed.
    fn branches_list_properties(&self) -> bool {
        fn branches<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
            match node {
                Value::Object(map) => {
                    for (keyword, value) in map {
                        if let ("anyOf" | "allOf", Value::Array(list)) = (keyword.as_str(), value) {
                            out.extend(list);
                        }
                        if !matches!(keyword.as_str(), "const" | "enum" | "default" | "examples") {
                            branches(value, out);
                        }
                    }
                }
                Value::Array(list) => list.iter().for_each(|v| branches(v, out)),
                _ => {}
            }
        }
        self.docs.iter().all(|(file, doc)| {
            let mut found = Vec::new();
            branches(doc, &mut found);
            found.into_iter().all(|branch| {
                let mut nodes = Vec::new();
                self.applicable(file, branch, 0, &mut nodes, &mut HashSet::new());
                let lists = nodes.iter().any(|(_, n)| n.get("properties").is_some());
                let no_objects = nodes.iter().any(|(_, n)| {
                    n.get("const").is_some()
                        || n.get("enum").is_some()
                        || match n.get("type") {
                            Some(Value::String(t)) => t != "object",
                            Some(Value::Array(ts)) => !ts.iter().any(|t| t == "object"),
                            _ => false,
                        }
                });
                lists || no_objects
            })
        })
    }

    /// `node` and every schema it brings in at the same instance location, through `$ref`
    /// and the branches of `anyOf`/`oneOf`/`allOf`, each with the file it sits in.
    fn applicable<'s>(
        &'s self,
        file: &'s str,
        node: &'s Value,
        depth: u32,
        out: &mut Vec<(&'s str, &'s Value)>,
        seen: &mut HashSet<*const Value>,
    ) {
        // Deep enough for any real schema; stops a `$ref` cycle. Each node is brought in once:
        // a schema whose branches refer back to it (`anyOf` of four `$ref: "#"`) is linear in
        // its size, not four to the power of the depth.
        if depth > 32 || !node.is_object() || !seen.insert(std::ptr::from_ref(node)) {
            return;
        }
        out.push((file, node));
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
            let (file, doc) = if target.is_empty() {
                (file, self.docs.get(file))
            } else {
                let name = target.rsplit('/').next().unwrap_or(target);
                self.docs
                    .get_key_value(name)
                    .map_or((file, None), |(k, d)| (k.as_str(), Some(d)))
            };
            if let Some(resolved) = doc.and_then(|d| d.pointer(fragment)) {
                self.applicable(file, resolved, depth + 1, out, seen);
            }
        }
        for keyword in ["anyOf", "oneOf", "allOf"] {
            for branch in node
                .get(keyword)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.applicable(file, branch, depth + 1, out, seen);
            }
        }
    }
}

/// Collects the keys of `instance` that `shape` does not declare, one per path (`paths`: those
/// found, so a page is judged in time linear in its size). Strings are built only for what is
/// found.
fn undeclared_in<'a>(
    shape: &Shape,
    instance: &'a Value,
    steps: &mut Vec<Step<'a>>,
    found: &mut Vec<(String, String)>,
    paths: &mut HashSet<String>,
) {
    match instance {
        Value::Object(map) if !shape.open => {
            let declared = &shape.properties;
            // Both sides are sorted by key: one pass, with a search for a key out of order.
            let mut next = 0;
            for (key, value) in map {
                while next < declared.len() && declared[next].0.as_str() < key.as_str() {
                    next += 1;
                }
                let child = match declared.get(next) {
                    Some((name, child)) if name == key => Some(child),
                    _ => declared
                        .binary_search_by(|(name, _)| name.as_str().cmp(key))
                        .ok()
                        .map(|at| &declared[at].1),
                };
                match child {
                    // Nothing is undeclared inside a string, number, boolean or null.
                    Some(child) if value.is_object() || value.is_array() => {
                        steps.push(Step::Key(key));
                        undeclared_in(child, value, steps, found, paths);
                        steps.pop();
                    }
                    Some(_) => {}
                    None => {
                        steps.push(Step::Key(key));
                        let (path, pointer) = describe_steps(steps);
                        steps.pop();
                        if paths.insert(path.clone()) {
                            found.push((path, pointer));
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(child) = &shape.items {
                for (i, item) in items.iter().enumerate() {
                    steps.push(Step::Index(i));
                    undeclared_in(child, item, steps, found, paths);
                    steps.pop();
                }
            }
        }
        _ => {}
    }
}

/// Compiles each document, its `$ref`s resolved among the documents only: every file is known
/// by its own file URI, so a relative `$ref` such as `batch.json` resolves to its sibling,
/// served from memory, and nothing is ever fetched.
fn compile(docs: &[(PathBuf, Value)]) -> Vec<(PathBuf, Result<Validator, String>)> {
    let local = LocalSchemas(
        docs.iter()
            .map(|(p, doc)| (file_uri(p), doc.clone()))
            .collect(),
    );
    docs.iter()
        .map(|(path, doc)| {
            // `format` is asserted, not only annotated: an RFC 3339 time given as any string
            // (or a date without its time) is drift.
            let built = jsonschema::options()
                .should_validate_formats(true)
                .with_retriever(local.clone())
                .with_base_uri(file_uri(path))
                .build(doc)
                .map_err(|e| e.to_string());
            (path.clone(), built)
        })
        .collect()
}

/// Whether closing the objects of `schema` only adds constraints: no subschema is negated or
/// chosen between (`not`, `if`/`then`/`else`, `oneOf`), and no keyword looks at what other
/// subschemas evaluated (`unevaluated*`, `dependentSchemas`, `contains`, dynamic refs).
fn closes_exactly(schema: &Value) -> bool {
    const LOOSENED: [&str; 12] = [
        "not",
        "if",
        "then",
        "else",
        "oneOf",
        "contains",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentSchemas",
        "dependencies",
        "$dynamicRef",
        "$recursiveRef",
    ];
    match schema {
        Value::Object(map) => map
            .iter()
            .all(|(keyword, value)| match (keyword.as_str(), value) {
                ("const" | "enum" | "default" | "examples", _) => true,
                (k, _) if LOOSENED.contains(&k) => false,
                (
                    "properties" | "patternProperties" | "$defs" | "definitions",
                    Value::Object(named),
                ) => named.values().all(closes_exactly),
                (_, value) => closes_exactly(value),
            }),
        Value::Array(items) => items.iter().all(closes_exactly),
        _ => true,
    }
}

/// Adds `additionalProperties: false` to every schema object that lists `properties` and
/// says nothing of other keys. For a schema that [`closes_exactly`], only constraints are
/// added, so an instance valid against the result is valid against the original. Values that are data, not schemas (`const`, `enum`,
/// `default`, `examples`), are left as they are; maps of names to schemas (`properties`,
/// `$defs`, ...) are followed into each schema, whatever the names.
pub(crate) fn close_objects(node: &mut Value) {
    match node {
        Value::Object(schema) => {
            let open = [
                "additionalProperties",
                "patternProperties",
                "unevaluatedProperties",
            ]
            .iter()
            .any(|k| schema.contains_key(*k));
            if schema.get("properties").is_some_and(Value::is_object) && !open {
                schema.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (keyword, value) in schema.iter_mut() {
                match (keyword.as_str(), value) {
                    ("const" | "enum" | "default" | "examples", _) => {}
                    (
                        "properties" | "patternProperties" | "$defs" | "definitions"
                        | "dependentSchemas",
                        Value::Object(named),
                    ) => named.values_mut().for_each(close_objects),
                    (_, value) => close_objects(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// The path (`data[].priority`) and the JSON pointer (`/data/0/priority`) of `steps`.
fn describe_steps(steps: &[Step<'_>]) -> (String, String) {
    let mut path = String::new();
    let mut pointer = String::new();
    for step in steps {
        match step {
            Step::Key(key) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Step::Index(i) => {
                path.push_str("[]");
                pointer.push('/');
                pointer.push_str(&i.to_string());
            }
        }
    }
    (path, pointer)
}

/// What the schema wanted and what it got, in the words of the failing keyword.
fn describe(e: &jsonschema::ValidationError<'_>) -> (String, String) {
    use jsonschema::error::ValidationErrorKind;
    if let ValidationErrorKind::Required { property } = e.kind() {
        let present: Vec<&str> = e
            .instance()
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        return (
            format!("required property {property}"),
            format!("absent (present: {})", present.join(", ")),
        );
    }
    // The masked message speaks of "value" instead of repeating the instance.
    let message = e.masked().to_string();
    let expected = message
        .strip_prefix("value is not ")
        .map_or_else(|| message.clone(), str::to_owned);
    (expected, excerpt(e.instance()))
}

/// Where the failing keyword is written, as `file.json#/pointer`: the file that holds it
/// (after following `$ref`s across files), not the file validation started from.
fn keyword_location(file: &str, e: &jsonschema::ValidationError<'_>) -> String {
    if let Some(uri) = e.absolute_keyword_location() {
        let text = uri.as_str();
        let (resource, fragment) = text.split_once('#').unwrap_or((text, ""));
        let name = resource.rsplit('/').next().unwrap_or(resource);
        return format!("{name}#{fragment}");
    }
    format!("{file}#{}", e.schema_path())
}

fn read_schema(path: &Path) -> Result<Value, SchemaError> {
    let text = crate::files::read_to_string(path).map_err(|source| SchemaError::Io {
        path: path.to_owned(),
        source,
    })?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| SchemaError::Json {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let meta = jsonschema::meta::validator_for(&doc).map_err(|e| SchemaError::Meta {
        path: path.to_owned(),
        pointer: "/$schema".into(),
        message: e.to_string(),
    })?;
    if let Some(e) = meta.iter_errors(&doc).next() {
        let pointer = e.instance_path().to_string();
        return Err(SchemaError::Meta {
            path: path.to_owned(),
            pointer: if pointer.is_empty() {
                "/".into()
            } else {
                pointer
            },
            message: e.to_string(),
        });
    }
    Ok(doc)
}

fn file_uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    url::Url::from_file_path(&abs)
        .map(String::from)
        .unwrap_or_else(|()| format!("file:///{}", abs.display()))
}

/// Compact JSON of a value, cut to a readable length; secrets are masked before the cut.
pub fn excerpt(value: &Value) -> String {
    const MAX: usize = 120;
    let text = crate::redact::mask_known(&value.to_string());
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A schemas folder holding `s.json` = `schema`.
    fn load(schema: Value) -> SchemaSet {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.json"), schema.to_string()).unwrap();
        SchemaSet::load(dir.path()).unwrap()
    }

    #[test]
    fn no_strict_pass_where_closing_would_loosen_the_schema() {
        // Closed, the `if` would fail on any batch with other keys, and `then` never apply.
        let set = load(json!({
            "properties": {"status": {}, "completed_at": {}},
            "if": {"properties": {"status": {"const": "completed"}}},
            "then": {"properties": {"completed_at": {"type": "integer"}}},
        }));
        let bad = json!({"status": "completed", "completed_at": null});
        assert!(!set.conforms_strictly("s.json", &bad));
        assert!(!set.validate("s.json", &bad).is_empty());
        // A branch that takes any object: the strict form would pass what `undeclared` names.
        let set = load(json!({
            "properties": {"usage": {"anyOf": [
                {"properties": {"tokens": {}}},
                {"type": "object"},
            ]}},
        }));
        let extra = json!({"usage": {"tokens": 1, "cached": 2}});
        assert!(!set.conforms_strictly("s.json", &extra));
        assert_eq!(set.undeclared("s.json", &extra).len(), 1);
        // The shipped kind of schema keeps its fast path.
        let set = load(json!({
            "properties": {"errors": {"anyOf": [
                {"type": "null"},
                {"properties": {"data": {}}},
            ]}},
        }));
        assert!(set.conforms_strictly("s.json", &json!({"errors": {"data": []}})));
        assert!(!set.conforms_strictly("s.json", &json!({"errors": {"data": [], "x": 1}})));
    }

    #[test]
    fn formats_are_asserted() {
        let set =
            load(json!({"properties": {"created_at": {"type": "string", "format": "date-time"}}}));
        assert!(
            set.validate(
                "s.json",
                &json!({"created_at": "2024-08-20T18:37:24.100435Z"})
            )
            .is_empty()
        );
        let v = set.validate("s.json", &json!({"created_at": "2024-08-20"}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].pointer, "/created_at");
        assert!(!set.conforms_strictly("s.json", &json!({"created_at": "yesterday"})));
    }

    #[test]
    fn a_failed_any_of_reports_the_closest_branch_at_its_own_place() {
        let set = SchemaSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")).unwrap();
        let mut items = crate::mock::dataset::generate(5, 7);
        // llama-stack's batch: an errors object without its `object`, and null counts.
        items[3]["errors"] = json!({"object": null, "data": []});
        items[3]["request_counts"] = Value::Null;
        let page = json!({"object": "list", "data": items, "first_id": items[0]["id"],
            "last_id": items[4]["id"], "has_more": false});
        let found: Vec<(String, String, String)> = set
            .validate("batch-list.json", &page)
            .into_iter()
            .map(|v| (v.pointer, v.expected, v.actual))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/data/3/errors/object".to_owned(),
                    "\"list\" was expected (in the closest `anyOf` branch (2 of 2) at batch.json#/properties/errors/anyOf)".to_owned(),
                    "null".to_owned()
                ),
                (
                    "/data/3/request_counts".to_owned(),
                    "of type \"object\"".to_owned(),
                    "null".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_recursive_schema_is_looked_into_once_per_round() {
        // Three self-references: unfolding them 16 levels deep would be 3^16 shapes.
        let set = load(json!({
            "$defs": {"node": {"properties": {
                "a": {"$ref": "#/$defs/node"},
                "b": {"$ref": "#/$defs/node"},
                "c": {"items": {"$ref": "#/$defs/node"}},
            }}},
            "$ref": "#/$defs/node",
        }));
        let found = set.undeclared(
            "s.json",
            &json!({"a": {"new": 1, "a": {"deep": 1}}, "x": 2}),
        );
        // The first round of `a` is looked into; the same `$ref` again is taken as open.
        assert_eq!(
            found,
            [
                ("a.new".to_owned(), "/a/new".to_owned()),
                ("x".to_owned(), "/x".to_owned())
            ]
        );
    }
}
