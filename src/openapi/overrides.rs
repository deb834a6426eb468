//! The overrides file: one table per operation (`[operations.listBatches]`) with the values
//! the importer could not read from the spec, or read wrong.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default)]
    pub operations: BTreeMap<String, OperationOverrides>,
}

/// A filter given by hand.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FilterOverride {
    pub param: String,
    /// A JSON pointer into an item (`/purpose`).
    pub field: String,
    pub values: Vec<String>,
}

/// One operation's table: every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationOverrides {
    /// Leave this operation out.
    #[serde(default)]
    pub skip: bool,
    /// The suite's folder name (default: the operationId in snake_case).
    pub suite: Option<String>,
    pub min_limit: Option<u64>,
    pub max_limit: Option<u64>,
    pub default_limit: Option<u64>,
    pub limit_param: Option<String>,
    pub cursor_param: Option<String>,
    /// `last_item`, `last_id` or `token`.
    pub cursor_source: Option<String>,
    pub next_token: Option<String>,
    /// `""`: no backward paging.
    pub backward_param: Option<String>,
    pub data: Option<String>,
    pub has_more: Option<String>,
    /// `""`: no first_id.
    pub first_id: Option<String>,
    /// `""`: no last_id.
    pub last_id: Option<String>,
    pub id_field: Option<String>,
    pub order_key: Option<String>,
    /// `unix_seconds`, `rfc3339` or `integer`.
    pub order_key_kind: Option<String>,
    /// `asc` or `desc`: the order when none is asked for.
    pub order: Option<String>,
    /// `bearer`, `x-api-key` or `none`.
    pub auth: Option<String>,
    /// Headers every request must carry.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Use no filter the importer found.
    #[serde(default)]
    pub no_filters: bool,
    #[serde(default)]
    pub filters: Vec<FilterOverride>,
}

impl Overrides {
    /// Reads the file's text; `origin` names it in the error.
    pub fn parse(text: &str, origin: &str) -> Result<Overrides, String> {
        let overrides: Overrides = toml::from_str(text).map_err(|e| {
            format!("{origin}: not a valid overrides file: {e} (one table per operation: [operations.OPERATION_ID])")
        })?;
        for (id, op) in &overrides.operations {
            for (key, value) in [
                ("cursor_source", &op.cursor_source),
                ("order", &op.order),
                ("auth", &op.auth),
                ("order_key_kind", &op.order_key_kind),
            ] {
                let allowed: &[&str] = match key {
                    "cursor_source" => &["last_item", "last_id", "token"],
                    "order" => &["asc", "desc"],
                    "auth" => &["bearer", "x-api-key", "none"],
                    _ => &["unix_seconds", "rfc3339", "integer"],
                };
                if let Some(v) = value
                    && !allowed.contains(&v.as_str())
                {
                    return Err(format!(
                        "{origin}: [operations.{id}] {key} = \"{v}\": give one of {}",
                        allowed.join(", ")
                    ));
                }
            }
        }
        Ok(overrides)
    }

    /// The table of `operation`, or an empty one.
    pub fn of(&self, operation: &str) -> OperationOverrides {
        self.operations.get(operation).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_the_file_table_and_key() {
        let ok = Overrides::parse(
            "[operations.listThings]\nmax_limit = 50\norder = \"asc\"\n",
            "o.toml",
        )
        .unwrap();
        assert_eq!(ok.of("listThings").max_limit, Some(50));
        assert!(ok.of("other").max_limit.is_none());
        let bad =
            Overrides::parse("[operations.listThings]\norder = \"up\"\n", "o.toml").unwrap_err();
        assert!(
            bad.contains("o.toml")
                && bad.contains("[operations.listThings] order")
                && bad.contains("asc, desc"),
            "{bad}"
        );
        let unknown = Overrides::parse("[operations.x]\nmaxlimit = 5\n", "o.toml").unwrap_err();
        assert!(unknown.contains("maxlimit"), "{unknown}");
    }
}
