//! The request budget a server advertises in its response headers, and the pace it allows:
//! OpenAI's `x-ratelimit-*-requests`, Anthropic's `anthropic-ratelimit-requests-*`, and the
//! IETF fields (`RateLimit` / `RateLimit-Policy` of the current drafts, `RateLimit-Limit` /
//! `-Remaining` / `-Reset` and `RateLimit: limit=…, remaining=…, reset=…` of older ones).
//! Pure: headers in, numbers out. A value that does not parse, is negative or not finite is
//! left out; an absurd one is capped, so no server can make a run hammer it or hang.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

/// The fastest pace a server's headers alone can set, in requests a second: a conformance run
/// never needs more, and a server advertising 1e12 a minute gets this.
pub const MAX_SERVER_RATE: f64 = 100.0;
/// The longest a run holds all its requests for a budget's reset, however far off the server
/// says it is (a 1-hour reset is waited 60 s, and then the server is asked again).
pub const MAX_HOLD: Duration = Duration::from_secs(60);
/// The share of a budget a run spends: the rest covers clocks, requests the headers have not
/// seen yet, and a fixed window's edge.
pub const BUDGET_SHARE: f64 = 0.97;

/// Largest count, window or reset believed; past them a value is capped.
const MAX_COUNT: f64 = 1e9;
const MAX_SECS: f64 = 366.0 * 86_400.0;

/// Which headers a budget was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dialect {
    /// `x-ratelimit-limit-requests` (a minute), `-remaining-requests`, `-reset-requests`
    /// (a duration, `6m0s`: until the budget is whole again).
    #[serde(rename = "x-ratelimit-*")]
    Openai,
    /// `anthropic-ratelimit-requests-limit` (a minute), `-remaining`, `-reset` (an RFC 3339
    /// time when the budget is whole again).
    #[serde(rename = "anthropic-ratelimit-requests-*")]
    Anthropic,
    /// `RateLimit-Policy: "name";q=100;w=60` and `RateLimit: "name";r=50;t=30`.
    #[serde(rename = "RateLimit-Policy")]
    Ietf,
    /// `RateLimit-Limit` / `-Remaining` / `-Reset`, or `RateLimit: limit=…, remaining=…,
    /// reset=…` (older drafts); the window from `w=` when given.
    #[serde(rename = "RateLimit-Limit")]
    IetfOlder,
}

impl Dialect {
    /// The header family, as reports name it.
    pub fn headers(self) -> &'static str {
        match self {
            Dialect::Openai => "x-ratelimit-*",
            Dialect::Anthropic => "anthropic-ratelimit-requests-*",
            Dialect::Ietf => "RateLimit-Policy",
            Dialect::IetfOlder => "RateLimit-Limit",
        }
    }
}

/// One request budget as a response advertised it. Every part may be missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub dialect: Dialect,
    /// Requests allowed a window.
    pub limit: Option<f64>,
    /// The window, in seconds.
    pub window: Option<f64>,
    /// Requests left.
    pub remaining: Option<f64>,
    /// Seconds until the budget is whole again (reset, or replenished).
    pub reset: Option<f64>,
}

/// What a budget asks of the run: a pace (requests a second), and a pause before any more
/// requests start.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Advice {
    pub rate: Option<f64>,
    pub hold: Option<Duration>,
}

impl Budget {
    /// The pace the budget sustains: `limit / window`, capped.
    pub fn sustained(&self) -> Option<f64> {
        match (self.limit, self.window) {
            (Some(limit), Some(window)) if window > 0.0 => Some((limit / window).min(1e12)),
            _ => None,
        }
    }

    /// The pace this budget allows, `unseen` requests having started since the request that
    /// brought it (the server had not counted them yet): the remaining budget spread over the
    /// time until it resets, never above `limit / window`, and [`BUDGET_SHARE`] of that. When
    /// nothing is left, starts wait for the reset (at most [`MAX_HOLD`]).
    pub fn advise(&self, unseen: f64) -> Advice {
        let sustained = self.sustained();
        let (rate, hold) = match (self.remaining, self.reset) {
            (Some(remaining), reset) if remaining - unseen < 1.0 => {
                let wait = self
                    .refill(1.0 - (remaining - unseen))
                    .or(reset.filter(|t| *t > 0.0))
                    .or(sustained.map(|s| 1.0 / s))
                    .unwrap_or(1.0);
                (
                    sustained,
                    Some(Duration::from_secs_f64(wait.min(MAX_HOLD.as_secs_f64()))),
                )
            }
            (Some(remaining), Some(reset)) if reset > 0.0 => {
                let spread = (remaining - unseen) / reset;
                (Some(sustained.map_or(spread, |s| s.min(spread))), None)
            }
            _ => (sustained, None),
        };
        Advice {
            rate: rate.map(|r| (r * BUDGET_SHARE).clamp(min_rate(), MAX_SERVER_RATE)),
            hold,
        }
    }

    /// Seconds until `short` more requests are back, for the dialects whose budget is a token
    /// bucket refilled without pause and whose reset is when it is whole again (OpenAI's and
    /// Anthropic's): each request spent comes back `reset / (limit - remaining)` after the one
    /// before, and never sooner than the budget's own pace allows; never later than the reset.
    /// `None` for the IETF fields, whose reset ends a window.
    fn refill(&self, short: f64) -> Option<f64> {
        if !matches!(self.dialect, Dialect::Openai | Dialect::Anthropic) {
            return None;
        }
        let (limit, remaining, reset) = (self.limit?, self.remaining?, self.reset?);
        let spent = limit - remaining;
        if spent < 1.0 || reset <= 0.0 {
            return None;
        }
        let each = (reset / spent).max(self.sustained().map_or(0.0, |s| 1.0 / s));
        Some((each * short.max(1.0)).min(reset))
    }
}

/// The slowest pace a budget sets: one request each [`MAX_HOLD`].
fn min_rate() -> f64 {
    1.0 / MAX_HOLD.as_secs_f64()
}

/// The budgets `headers` advertise (none: the server said nothing of its limits). `now` reads
/// Anthropic's reset times.
pub fn read(headers: &HeaderMap, now: SystemTime) -> Vec<Budget> {
    let text = |name: &str| {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let mut budgets = Vec::new();
    let openai = Budget {
        dialect: Dialect::Openai,
        limit: text("x-ratelimit-limit-requests").and_then(|v| count(&v)),
        window: Some(60.0),
        remaining: text("x-ratelimit-remaining-requests").and_then(|v| count(&v)),
        reset: text("x-ratelimit-reset-requests").and_then(|v| go_duration(&v)),
    };
    if openai.limit.is_some() || openai.remaining.is_some() {
        budgets.push(openai);
    }
    let anthropic = Budget {
        dialect: Dialect::Anthropic,
        limit: text("anthropic-ratelimit-requests-limit").and_then(|v| count(&v)),
        window: Some(60.0),
        remaining: text("anthropic-ratelimit-requests-remaining").and_then(|v| count(&v)),
        reset: text("anthropic-ratelimit-requests-reset").and_then(|v| rfc3339_from(&v, now)),
    };
    if anthropic.limit.is_some() || anthropic.remaining.is_some() {
        budgets.push(anthropic);
    }
    let policy = text("ratelimit-policy");
    let state = text("ratelimit");
    if let Some(policy) = policy
        .as_deref()
        .filter(|p| p.trim_start().starts_with('"'))
    {
        budgets.extend(ietf(policy, state.as_deref().unwrap_or("")));
    } else {
        budgets.extend(ietf_older(
            text("ratelimit-limit").as_deref(),
            text("ratelimit-remaining").as_deref(),
            text("ratelimit-reset").as_deref(),
            state.as_deref(),
            policy.as_deref(),
        ));
    }
    budgets
}

/// A count: a non-negative finite number, capped.
fn count(text: &str) -> Option<f64> {
    text.trim().parse().ok().and_then(capped_count)
}

fn capped_count(n: f64) -> Option<f64> {
    (n.is_finite() && n >= 0.0).then_some(n.min(MAX_COUNT))
}

/// Seconds: a non-negative finite number, capped.
fn seconds(n: f64) -> Option<f64> {
    (n.is_finite() && n >= 0.0).then_some(n.min(MAX_SECS))
}

/// A Go-style duration (`6m0s`, `1.5s`, `250ms`, `1h2m3s`), or plain seconds.
fn go_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<f64>() {
        return seconds(n);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * scale;
    }
    seconds(total)
}

/// Seconds from `now` until an RFC 3339 time (0 when it has passed).
fn rfc3339_from(text: &str, now: SystemTime) -> Option<f64> {
    let at = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    let now = chrono::DateTime::<chrono::Utc>::from(now);
    let millis = (at.with_timezone(&chrono::Utc) - now).num_milliseconds();
    seconds(millis.max(0) as f64 / 1000.0)
}

/// The members of a structured-field list, `"name";a=1;b=2, …`: each name and its
/// parameters.
fn members(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    text.split(',')
        .filter_map(|member| {
            let mut parts = member.split(';').map(str::trim);
            let name = parts.next()?.trim_matches('"').to_owned();
            let params = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((
                        k.trim().to_ascii_lowercase(),
                        v.trim().trim_matches('"').to_owned(),
                    ))
                })
                .collect();
            Some((name, params))
        })
        .collect()
}

fn param(params: &[(String, String)], key: &str) -> Option<f64> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// The current drafts: each policy of `RateLimit-Policy` (`q`, `w`), with what `RateLimit`
/// says is left of the policy of the same name (`r`, `t`).
fn ietf(policy: &str, state: &str) -> Vec<Budget> {
    let states = members(state);
    members(policy)
        .into_iter()
        .map(|(name, params)| {
            let left = states.iter().find(|(n, _)| *n == name).map(|(_, p)| p);
            Budget {
                dialect: Dialect::Ietf,
                limit: param(&params, "q").and_then(capped_count),
                // The drafts' default window is one second when `w` is left out.
                window: param(&params, "w").and_then(seconds).or(Some(1.0)),
                remaining: left.and_then(|p| param(p, "r")).and_then(capped_count),
                reset: left.and_then(|p| param(p, "t")).and_then(seconds),
            }
        })
        .filter(|b| b.limit.is_some() || b.remaining.is_some())
        .collect()
}

/// The older drafts: `RateLimit-Limit: 100` (or `100, 100;w=60`), `RateLimit-Remaining`,
/// `RateLimit-Reset` (seconds), or all three in `RateLimit: limit=100, remaining=50,
/// reset=30`; the window from a `w=` in the limit or in `RateLimit-Policy: 100;w=60`.
fn ietf_older(
    limit: Option<&str>,
    remaining: Option<&str>,
    reset: Option<&str>,
    combined: Option<&str>,
    policy: Option<&str>,
) -> Option<Budget> {
    let combined: Vec<(String, String)> = combined
        .map(|c| {
            c.split(',')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let field = |own: Option<&str>, key: &str| {
        own.map(str::to_owned).or_else(|| {
            combined
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        })
    };
    let limit_text = field(limit, "limit");
    let first = |t: &str| t.split([',', ';']).next().unwrap_or("").to_owned();
    let window = [limit_text.as_deref(), policy]
        .into_iter()
        .flatten()
        .flat_map(members)
        .find_map(|(_, params)| param(&params, "w"))
        .and_then(seconds);
    let budget = Budget {
        dialect: Dialect::IetfOlder,
        limit: limit_text.as_deref().map(first).and_then(|t| count(&t)),
        window,
        remaining: field(remaining, "remaining").and_then(|t| count(&first(&t))),
        reset: field(reset, "reset")
            .and_then(|t| first(&t).trim().parse().ok())
            .and_then(seconds),
    };
    (budget.limit.is_some() || budget.remaining.is_some()).then_some(budget)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn one(pairs: &[(&str, &str)]) -> Budget {
        let budgets = read(&headers(pairs), now());
        assert_eq!(budgets.len(), 1, "{budgets:?}");
        budgets[0]
    }

    #[test]
    fn openai_headers_read_as_a_minute_budget_with_a_go_duration_reset() {
        let b = one(&[
            ("x-ratelimit-limit-requests", "600"),
            ("x-ratelimit-remaining-requests", "599"),
            ("x-ratelimit-reset-requests", "100ms"),
            // Token budgets are not requests: left alone.
            ("x-ratelimit-limit-tokens", "150000"),
        ]);
        assert_eq!(b.dialect, Dialect::Openai);
        assert_eq!(
            (b.limit, b.window, b.remaining),
            (Some(600.0), Some(60.0), Some(599.0))
        );
        assert!((b.reset.unwrap() - 0.1).abs() < 1e-9);
        assert_eq!(b.sustained(), Some(10.0));
        for (text, secs) in [
            ("6m0s", 360.0),
            ("1s", 1.0),
            ("1.5s", 1.5),
            ("1h2m3s", 3723.0),
        ] {
            assert!((go_duration(text).unwrap() - secs).abs() < 1e-9, "{text}");
        }
        assert!((go_duration("250us").unwrap() - 0.00025).abs() < 1e-12);
        assert_eq!(go_duration("2"), Some(2.0));
        for junk in ["", "s", "5x", "-1s", "1..2s", "soon", "NaN", "inf"] {
            assert_eq!(go_duration(junk), None, "{junk}");
        }
    }

    #[test]
    fn anthropic_headers_read_with_an_rfc3339_reset() {
        let b = one(&[
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "49"),
            (
                "anthropic-ratelimit-requests-reset",
                "2023-11-14T22:13:21.5Z",
            ),
        ]);
        assert_eq!(b.dialect, Dialect::Anthropic);
        assert_eq!((b.limit, b.remaining), (Some(50.0), Some(49.0)));
        // now is 2023-11-14T22:13:20Z.
        assert!((b.reset.unwrap() - 1.5).abs() < 1e-9, "{b:?}");
        let past = one(&[
            ("anthropic-ratelimit-requests-limit", "50"),
            (
                "anthropic-ratelimit-requests-reset",
                "2000-01-01T00:00:00+01:00",
            ),
        ]);
        assert_eq!(past.reset, Some(0.0));
        let junk = one(&[
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-reset", "tomorrow"),
        ]);
        assert_eq!(junk.reset, None);
    }

    #[test]
    fn ietf_policy_and_state_read_by_policy_name() {
        let budgets = read(
            &headers(&[
                (
                    "RateLimit-Policy",
                    r#""burst";q=100;w=60, "daily";q=1000;w=86400"#,
                ),
                ("RateLimit", r#""daily";r=900;t=3000, "burst";r=50;t=30"#),
            ]),
            now(),
        );
        assert_eq!(budgets.len(), 2);
        assert_eq!(
            budgets[0],
            Budget {
                dialect: Dialect::Ietf,
                limit: Some(100.0),
                window: Some(60.0),
                remaining: Some(50.0),
                reset: Some(30.0),
            }
        );
        assert_eq!(
            (budgets[1].limit, budgets[1].remaining),
            (Some(1000.0), Some(900.0))
        );
        // No `w`: one second, the drafts' default.
        let b = one(&[("RateLimit-Policy", r#""default";q=5"#)]);
        assert_eq!((b.sustained(), b.remaining), (Some(5.0), None));
    }

    #[test]
    fn older_ietf_fields_read_alone_or_combined() {
        let b = one(&[
            ("RateLimit-Limit", "100, 100;w=60"),
            ("RateLimit-Remaining", "50"),
            ("RateLimit-Reset", "30"),
        ]);
        assert_eq!(
            b,
            Budget {
                dialect: Dialect::IetfOlder,
                limit: Some(100.0),
                window: Some(60.0),
                remaining: Some(50.0),
                reset: Some(30.0),
            }
        );
        let b = one(&[("RateLimit", "limit=100, remaining=50, reset=30")]);
        assert_eq!(
            (b.limit, b.window, b.remaining, b.reset),
            (Some(100.0), None, Some(50.0), Some(30.0))
        );
        let b = one(&[("RateLimit-Limit", "10"), ("RateLimit-Policy", "10;w=1")]);
        assert_eq!(b.sustained(), Some(10.0));
    }

    #[test]
    fn no_headers_or_junk_advertise_nothing() {
        assert!(read(&HeaderMap::new(), now()).is_empty());
        for (name, value) in [
            ("x-ratelimit-limit-requests", "lots"),
            ("x-ratelimit-limit-requests", "-5"),
            ("x-ratelimit-limit-requests", "NaN"),
            ("anthropic-ratelimit-requests-limit", "inf"),
            ("RateLimit-Policy", r#""p";q=x;w=y"#),
            ("RateLimit", "garbage"),
            ("RateLimit", r#""p";r=;t=;;;,,,"#),
            ("RateLimit-Limit", ""),
        ] {
            assert!(
                read(&headers(&[(name, value)]), now()).is_empty(),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn absurd_values_are_capped_and_the_pace_stays_sane() {
        let b = one(&[
            ("x-ratelimit-limit-requests", "1e12"),
            ("x-ratelimit-remaining-requests", "1e300"),
            ("x-ratelimit-reset-requests", "876000h"),
        ]);
        assert_eq!(b.limit, Some(MAX_COUNT));
        assert_eq!(b.reset, Some(MAX_SECS));
        // A billion left, whole again in a year: spread over the year, about 30 a second.
        assert!(b.advise(0.0).rate.unwrap() < MAX_SERVER_RATE);
        let b = one(&[
            ("x-ratelimit-limit-requests", "1e12"),
            ("x-ratelimit-remaining-requests", "1e300"),
            ("x-ratelimit-reset-requests", "1s"),
        ]);
        assert_eq!(b.advise(0.0).rate, Some(MAX_SERVER_RATE));
        // Nothing left for an hour: held for MAX_HOLD at most, then asked again.
        let b = one(&[
            ("RateLimit-Policy", r#""p";q=600;w=3600"#),
            ("RateLimit", r#""p";r=0;t=3600"#),
        ]);
        assert_eq!(b.advise(0.0).hold, Some(MAX_HOLD));
        // A bucket of 600 whole again in an hour: one back each 6 s.
        let b = one(&[
            ("x-ratelimit-limit-requests", "600"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "1h"),
        ]);
        assert_eq!(b.advise(0.0).hold, Some(Duration::from_secs(6)));
        // One request an hour: as slow as one each MAX_HOLD, no slower.
        let b = one(&[("RateLimit-Policy", r#""p";q=1;w=3600"#)]);
        assert_eq!(b.advise(0.0).rate, Some(1.0 / 60.0));
        // A zero window says nothing of a pace.
        let b = one(&[("RateLimit-Policy", r#""p";q=10;w=0"#)]);
        assert_eq!(b.advise(0.0), Advice::default());
    }

    #[test]
    fn the_pace_spreads_the_remaining_budget_and_holds_when_it_is_spent() {
        let budget = |remaining, reset| Budget {
            dialect: Dialect::Openai,
            limit: Some(600.0),
            window: Some(60.0),
            remaining: Some(remaining),
            reset: Some(reset),
        };
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
        // Plenty left: the budget's own pace, less the share kept back.
        assert!(close(
            budget(590.0, 1.0).advise(0.0).rate,
            10.0 * BUDGET_SHARE
        ));
        assert!(close(
            budget(600.0, 0.0).advise(0.0).rate,
            10.0 * BUDGET_SHARE
        ));
        // 30 left for 6 s: 5 a second; 10 of them already sent: 20 for 6 s.
        assert!(close(
            budget(30.0, 6.0).advise(0.0).rate,
            5.0 * BUDGET_SHARE
        ));
        assert!(close(
            budget(30.0, 6.0).advise(10.0).rate,
            20.0 / 6.0 * BUDGET_SHARE
        ));
        // Spent (or spent by the requests in flight): hold until one is back, which OpenAI's
        // and Anthropic's buckets say: 597 spent come back over 2.5 s, but at 10 a second a
        // request comes back each 0.1 s.
        let spent = budget(3.0, 2.5).advise(3.0);
        assert_eq!(spent.hold, Some(Duration::from_millis(100)));
        assert!(close(spent.rate, 10.0 * BUDGET_SHARE));
        // Two short: two back.
        assert_eq!(
            budget(3.0, 2.5).advise(4.0).hold,
            Some(Duration::from_millis(200))
        );
        // A bucket of 600 spent over 60 s, whole again in 60 s: one back each 0.1 s.
        assert_eq!(
            budget(0.0, 60.0).advise(0.0).hold,
            Some(Duration::from_millis(100))
        );
        // Never later than the reset.
        assert_eq!(
            budget(599.5, 0.05).advise(599.0).hold,
            Some(Duration::from_millis(50))
        );
        // The IETF fields' reset ends a window: hold until it.
        let window = Budget {
            dialect: Dialect::Ietf,
            ..budget(0.0, 2.5)
        };
        assert_eq!(window.advise(0.0).hold, Some(Duration::from_millis(2500)));
        // Remaining and reset without a limit: spread alone.
        let b = Budget {
            limit: None,
            window: None,
            ..budget(40.0, 2.0)
        };
        assert!(close(b.advise(0.0).rate, 20.0 * BUDGET_SHARE));
    }
}
