//! Where the cases are sent: the base URL, the key and how it is sent, extra headers; and
//! the parsers of the settings that make one.

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use url::Url;

use crate::case::AuthMode;
use crate::contract::AuthStyle;
use crate::redact::Secret;

/// Where the cases are sent.
#[derive(Debug, Clone)]
pub struct Target {
    /// The base URL; may carry a path prefix (`https://host/gateway`).
    pub base: Url,
    pub key: Secret,
    pub auth: AuthStyle,
    /// `--auth none`: no credential is sent with any request (the auth cases do not run).
    pub no_auth: bool,
    /// Sent with every request (`--header`, `CONTRACT_HEADERS`); a case's own headers win.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// A key that no real server has issued, for the wrong-key cases.
pub const WRONG_KEY: &str = "lc-wrong-key-0000000000000000";

impl Target {
    /// `base` joined with the contract's `path` and the query, keeping any path prefix.
    pub fn endpoint(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// A target at `base` that sends `key` in the `auth` style, and no other header.
    pub fn new(base: Url, key: Secret, auth: AuthStyle) -> Self {
        Target {
            base,
            key,
            auth,
            no_auth: false,
            headers: Vec::new(),
        }
    }

    /// The auth header for a case's auth mode, if any.
    pub fn auth_header(&self, mode: AuthMode) -> Option<(HeaderName, HeaderValue)> {
        if self.no_auth {
            return None;
        }
        let key = match mode {
            AuthMode::None => return None,
            AuthMode::Valid => self.key.expose(),
            AuthMode::Wrong => WRONG_KEY,
        };
        let (name, value) = match self.auth {
            AuthStyle::XApiKey => (HeaderName::from_static("x-api-key"), key.to_owned()),
            AuthStyle::Bearer => (AUTHORIZATION, format!("Bearer {key}")),
        };
        let mut value = HeaderValue::from_str(&value).ok()?;
        value.set_sensitive(true);
        Some((name, value))
    }
}

/// Parses a base URL from configuration, saying what is wrong with a bad one. A URL that
/// carries a user or password is refused (it would be sent as Basic auth and printed), and
/// no message shows the password.
pub fn parse_base_url(text: &str) -> Result<Url, String> {
    let shown = without_userinfo(text);
    let url = Url::parse(text.trim()).map_err(|e| format!("`{shown}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{shown}` is not an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{shown}` carries a user or password (`user:password@`): remove it, and put the \
             credential in CONTRACT_API_KEY (sent only as the auth header, masked everywhere)"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{shown}` carries a query or fragment (give the base only, e.g. https://staging.example.com/gateway)"
        ));
    }
    Ok(url)
}

/// `text` with anything between `://` and the last `@` of the authority replaced by `***`.
fn without_userinfo(text: &str) -> String {
    let text = text.trim();
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let authority_end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    match text[start..authority_end].rfind('@') {
        Some(at) => format!("{}***@{}", &text[..start], &text[start + at + 1..]),
        None => text.to_owned(),
    }
}

/// Parses a header given as `Name: value`; the value is marked sensitive (never logged by
/// the client). `from` names where it came from, for the message; no message shows the value.
pub fn parse_header(text: &str, from: &str) -> Result<(HeaderName, HeaderValue), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!(
            "{from}: a header without a `:` (write it as `Name: value`; what was given is not \
             shown, as it may be a secret)"
        ));
    };
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        format!("{from}: a header name that is not a token (write it as `Name: value`; it is not shown, as it may be a secret)")
    })?;
    if let Some(at) = crate::redact::unsendable_at(value.trim()) {
        return Err(format!(
            "{from}: the value of `{name}` holds a character a header cannot carry (a line \
             break, a control or non-ASCII character) at character {at}"
        ));
    }
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
        format!("{from}: the value of `{name}` holds a character a header cannot carry")
    })?;
    value.set_sensitive(true);
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(base: &str) -> Target {
        Target::new(
            parse_base_url(base).unwrap(),
            Secret::new("k"),
            AuthStyle::XApiKey,
        )
    }

    #[test]
    fn endpoint_keeps_the_path_prefix() {
        for base in ["http://h:1/gw", "http://h:1/gw/"] {
            let url = target(base).endpoint("/v1/batches", &[("limit", "7")]);
            assert_eq!(url.as_str(), "http://h:1/gw/v1/batches?limit=7");
        }
        let url = target("http://h:1").endpoint("/v1/batches", &[]);
        assert_eq!(url.as_str(), "http://h:1/v1/batches");
    }

    #[test]
    fn endpoint_encodes_query_values() {
        let url = target("http://h").endpoint("/v1/batches", &[("after", "a b&c")]);
        assert_eq!(url.query(), Some("after=a+b%26c"));
    }

    #[test]
    fn base_url_with_query_is_refused() {
        assert!(parse_base_url("http://h/?x=1").is_err());
        assert!(parse_base_url("ftp://h/").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn userinfo_is_refused_and_never_shown() {
        for base in [
            "http://user:pw-canary-1@h/",
            "https://pw-canary-1@h:8443/gw",
            "http://user:pw-canary-1@h/?x",
            "ftp://user:pw-canary-1@h/",
            "http://user:pw-canary-1@h with space/",
        ] {
            let e = parse_base_url(base).unwrap_err();
            assert!(!e.contains("pw-canary-1"), "{e}");
            assert!(e.contains("***@"), "{e}");
        }
        let e = parse_base_url("http://u:p@h/").unwrap_err();
        assert!(e.contains("CONTRACT_API_KEY"), "{e}");
    }

    #[test]
    fn a_bad_header_names_its_setting_never_its_value() {
        let e = parse_header("Bearer sk-canary-hdr", "--header").unwrap_err();
        assert!(e.starts_with("--header: a header without a `:`"), "{e}");
        assert!(!e.contains("sk-canary-hdr"), "{e}");
        let e = parse_header("X-Token: sk-canary\nhdr", "--header").unwrap_err();
        assert!(
            e.contains("at character 10") && !e.contains("sk-canary"),
            "{e}"
        );
        let e = parse_header("X-Token: sk-caÿnary", "--header").unwrap_err();
        assert!(e.contains("at character 6"), "{e}");
        assert!(parse_header("X-Token: a b", "--header").is_ok());
    }
}
