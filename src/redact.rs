//! Secrets and their masking: a key or a secret value never appears in anything printed or
//! written, in any form a server or an encoder may have turned it into. Plain data and text,
//! no I/O: reports and checks use it without the HTTP client.
//!
//! A [`Redactor`] compiles, once, one pattern that matches every secret as is, percent-encoded
//! (`%20` or `+` for a space, upper- or lowercase hex, any mix of encoded and plain
//! characters), JSON-escaped (`\"`, `\\`, `\/`, `\uXXXX`), and base64 (standard and URL-safe,
//! with or without padding, and the part of it that is the same whatever the secret's offset
//! in a longer encoded text: all 3 alignments).
//!
//! Text that is cut (an excerpt of a body, a value, a window around a parse error) is masked
//! whole first, then cut ([`mask_known`]), so a cut never leaves a piece of a secret.

use std::fmt;
use std::sync::RwLock;

use regex::Regex;

/// A value that must never be printed. `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Whether `value` can be sent in a header as it is: visible ASCII and spaces inside, no
/// line break, control or non-ASCII character. `None`: it can; else the 1-based position of
/// the first character that cannot (never the character itself: it may be part of a secret).
pub fn unsendable_at(value: &str) -> Option<usize> {
    value
        .chars()
        .position(|c| !(c == ' ' || c.is_ascii_graphic()))
        .map(|i| i + 1)
}

/// Replaces every secret, in every form, with `***` in text about to be printed.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
    /// Every form of every secret, longest first; `None`: nothing to mask.
    pattern: Option<Regex>,
}

/// Base64 forms shorter than this are not masked on their own (they would match ordinary
/// text); the secret itself and its other forms always are.
const MIN_BASE64_FORM: usize = 6;

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let mut secrets: Vec<Secret> = secrets.into_iter().filter(|s| !s.0.is_empty()).collect();
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        secrets.dedup();
        let pattern = build_pattern(&secrets);
        Redactor { secrets, pattern }
    }

    /// The secrets masked.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    pub fn redact(&self, text: &str) -> String {
        match &self.pattern {
            Some(p) => p.replace_all(text, "***").into_owned(),
            None => text.to_owned(),
        }
    }

    /// This redactor's secrets and `other`'s.
    pub fn merged(&self, other: &Redactor) -> Redactor {
        Redactor::new(self.secrets.iter().chain(&other.secrets).cloned())
    }
}

/// The secrets of every run this process has started: what excerpts are masked with before
/// they are cut. Only ever grows (masking another run's key as well is harmless).
static KNOWN: RwLock<Option<Redactor>> = RwLock::new(None);

/// Adds `redactor`'s secrets to those masked by [`mask_known`].
pub fn register(redactor: &Redactor) {
    if redactor.secrets.is_empty() {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    let merged = match known.as_ref() {
        Some(k) if redactor.secrets.iter().all(|s| k.secrets.contains(s)) => return,
        Some(k) => k.merged(redactor),
        None => redactor.clone(),
    };
    *known = Some(merged);
}

/// `text` with every secret registered by a run masked: what an excerpt is cut from.
pub fn mask_known(text: &str) -> String {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    match known.as_ref() {
        Some(r) => r.redact(text),
        None => text.to_owned(),
    }
}

/// How many bytes the longest form of a registered secret may take (12 a character: a
/// 4-byte character percent-encoded): an excerpt masks this much beyond its cut.
pub fn known_margin() -> usize {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    known.as_ref().map_or(0, |r| {
        r.secrets
            .iter()
            .map(|s| 12 * s.expose().chars().count())
            .max()
            .unwrap_or(0)
    })
}

/// One pattern matching every form of every secret.
fn build_pattern(secrets: &[Secret]) -> Option<Regex> {
    let mut forms: Vec<String> = Vec::new();
    for s in secrets {
        // Base64 forms first where longer: an alternation takes the first branch that matches.
        let mut b64: Vec<String> = base64_forms(s.expose().as_bytes())
            .into_iter()
            .filter(|f| f.len() >= MIN_BASE64_FORM)
            .collect();
        b64.sort_by_key(|f| std::cmp::Reverse(f.len()));
        b64.dedup();
        forms.push(char_pattern(s.expose()));
        forms.extend(b64.iter().map(|f| regex::escape(f)));
    }
    if forms.is_empty() {
        return None;
    }
    // The secrets are few and short, so the pattern stays far under the size limit; one that
    // does not compile masks nothing rather than stopping the run, so it is checked in tests.
    regex::RegexBuilder::new(&forms.join("|"))
        .size_limit(64 << 20)
        .build()
        .ok()
}

/// The secret with each character in any of its forms: itself, percent-encoded (either hex
/// case; `+` for a space), JSON-escaped.
fn char_pattern(secret: &str) -> String {
    let mut out = String::from("(?:");
    for c in secret.chars() {
        let mut alts = vec![regex::escape(&c.to_string())];
        let mut buf = [0u8; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        alts.push(bytes.iter().map(|b| percent_class(*b)).collect());
        if c == ' ' {
            alts.push(r"\+".to_owned());
        }
        // JSON escapes, once or nested (a JSON text inside a JSON string): any run of
        // backslashes before the character.
        match c {
            '"' => alts.push(r#"\\+""#.to_owned()),
            '\\' => alts.push(r"\\\\+".to_owned()),
            '/' => alts.push(r"\\+/".to_owned()),
            '\n' => alts.push(r"\\n".to_owned()),
            '\r' => alts.push(r"\\r".to_owned()),
            '\t' => alts.push(r"\\t".to_owned()),
            _ => {}
        }
        let mut units = [0u16; 2];
        let unicode: String = c
            .encode_utf16(&mut units)
            .iter()
            .map(|u| format!(r"\\u{}", hex_class(&format!("{u:04x}"))))
            .collect();
        alts.push(unicode);
        out.push_str(&format!("(?:{})", alts.join("|")));
    }
    out.push(')');
    out
}

/// `%XX` for `byte`, either hex case.
fn percent_class(byte: u8) -> String {
    format!("%{}", hex_class(&format!("{byte:02x}")))
}

/// Hex digits matching either case.
fn hex_class(hex: &str) -> String {
    hex.chars()
        .map(|d| {
            if d.is_ascii_alphabetic() {
                format!("[{}{}]", d.to_ascii_lowercase(), d.to_ascii_uppercase())
            } else {
                d.to_string()
            }
        })
        .collect()
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes`, without padding.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The base64 forms of `secret`: whole (with and without padding), and for each of the 3
/// offsets it may sit at in a longer encoded text, the characters that depend on it alone.
fn base64_forms(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for alphabet in [STANDARD, URL_SAFE] {
        let whole = base64(secret, alphabet);
        let padding = "=".repeat((4 - whole.len() % 4) % 4);
        forms.push(format!("{whole}{padding}"));
        forms.push(whole);
        for k in 0..3usize {
            let mut padded = vec![0u8; k];
            padded.extend_from_slice(secret);
            let encoded = base64(&padded, alphabet);
            // Character i holds bits [6i, 6i + 6): the secret's alone when they fall in
            // [8k, 8(k + n)).
            let first = (8 * k).div_ceil(6);
            let end = (8 * (k + secret.len())) / 6;
            if end > first {
                forms.push(encoded[first..end].to_owned());
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_masks_every_occurrence_and_debug_hides_secrets() {
        let r = Redactor::new([Secret::new("sk-canary"), Secret::new("")]);
        assert_eq!(r.redact("a sk-canary b sk-canary"), "a *** b ***");
        assert_eq!(format!("{:?}", Secret::new("sk-canary")), "***");
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    const KEY: &str = "sk-te st\"/\\+=ké";

    fn redactor() -> Redactor {
        Redactor::new([Secret::new(KEY)])
    }

    #[test]
    fn percent_and_json_forms_are_masked() {
        let r = redactor();
        let form: String = url::form_urlencoded::byte_serialize(KEY.as_bytes()).collect();
        // The key has no capital letter: only the hex digits change case.
        let lower = form.to_ascii_lowercase();
        let json = serde_json::to_string(KEY).unwrap();
        let ascii_json = "sk-te st\\\"\\/\\\\+=k\\u00e9";
        let pct20 = "sk-te%20st%22%2F%5c%2B%3Dk%C3%A9";
        for form in [
            form.as_str(),
            &lower,
            &json[1..json.len() - 1],
            ascii_json,
            pct20,
        ] {
            assert_eq!(r.redact(&format!("<{form}>")), "<***>", "{form}");
        }
    }

    #[test]
    fn base64_forms_are_masked_at_every_offset() {
        let r = redactor();
        for alphabet in [STANDARD, URL_SAFE] {
            for prefix in ["", "a", "ab", "abc", "abcd"] {
                for suffix in ["", "x", "xy", "xyz"] {
                    let plain = format!("{prefix}{KEY}{suffix}");
                    let encoded = base64(plain.as_bytes(), alphabet);
                    let masked = r.redact(&encoded);
                    assert!(masked.contains("***"), "{prefix}|{suffix}: {masked}");
                    // What is left is the prefix's and suffix's own characters, and at most one
                    // character each side shared with the secret.
                    let around = base64(prefix.as_bytes(), alphabet).len()
                        + base64(suffix.as_bytes(), alphabet).len();
                    assert!(
                        masked.len() <= around + 2 + 3,
                        "{prefix}|{suffix}: {masked}"
                    );
                }
            }
        }
    }

    #[test]
    fn known_secrets_are_masked_before_a_cut() {
        register(&Redactor::new([Secret::new("sk-known-canary-1")]));
        assert_eq!(mask_known("x sk-known-canary-1 y"), "x *** y");
    }

    #[test]
    fn many_long_secrets_still_compile() {
        let secrets: Vec<Secret> = (0..20)
            .map(|i| Secret::new(format!("{i}{}", "\u{e9}x/\"".repeat(64))))
            .collect();
        let r = Redactor::new(secrets);
        assert!(r.pattern.is_some());
    }
}
