//! A request budget the mock enforces (`serve --budget 600/min`): a token bucket that
//! refills at the budget's pace and holds two seconds of it (providers enforce a minute's
//! budget over shorter spans: "60 requests a minute may be enforced as one a second"), a 429
//! past it, and the budget advertised in the headers of one provider's dialect, or none.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::answer::Answer;

/// The headers a budget is advertised in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetHeaders {
    /// `x-ratelimit-limit-requests` / `-remaining-requests` / `-reset-requests` (`1.5s`).
    Openai,
    /// `anthropic-ratelimit-requests-limit` / `-remaining` / `-reset` (RFC 3339).
    Anthropic,
    /// `RateLimit-Policy: "default";q=600;w=60` and `RateLimit: "default";r=…;t=…`.
    Ietf,
    /// None: the budget is enforced, never said.
    None,
}

impl FromStr for BudgetHeaders {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(BudgetHeaders::Openai),
            "anthropic" => Ok(BudgetHeaders::Anthropic),
            "ietf" => Ok(BudgetHeaders::Ietf),
            "none" => Ok(BudgetHeaders::None),
            other => Err(format!(
                "`{other}` is not a dialect: give openai, anthropic, ietf or none"
            )),
        }
    }
}

/// Headers to add to an answer.
type Headers = Vec<(&'static str, String)>;

/// A budget of requests a minute, enforced and (unless [`BudgetHeaders::None`]) advertised.
/// Clones share one bucket.
#[derive(Debug, Clone)]
pub struct RateBudget {
    pub per_minute: u32,
    pub headers: BudgetHeaders,
    bucket: Arc<Mutex<Bucket>>,
}

/// What a budget saw: requests answered and refused (429), and the span from the first
/// request to the last.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetStats {
    pub answered: u64,
    pub refused: u64,
    pub span: Duration,
}

impl BudgetStats {
    /// Requests a second from the first to the last, refused ones included.
    pub fn rate(&self) -> f64 {
        let n = self.answered + self.refused;
        if n < 2 || self.span.is_zero() {
            return 0.0;
        }
        (n - 1) as f64 / self.span.as_secs_f64()
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Option<Instant>,
    first: Option<Instant>,
    last: Option<Instant>,
    answered: u64,
    refused: u64,
}

/// `600/min`, optionally with the headers it is advertised in (`600/min:anthropic`; default
/// OpenAI's).
pub fn parse_budget(text: &str) -> Result<(u32, BudgetHeaders), String> {
    let (budget, headers) = text.split_once(':').unwrap_or((text, "openai"));
    Ok((parse_per_minute(budget)?, headers.parse()?))
}

/// `600/min`, `10/s`, `36000/h`, or a bare number a minute: the budget in requests a minute.
pub fn parse_per_minute(text: &str) -> Result<u32, String> {
    let (n, per) = text.trim().split_once('/').unwrap_or((text.trim(), "min"));
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a budget: give N/min, N/s or N/h"))?;
    let scale = match per.trim() {
        "s" | "sec" | "second" => 60.0,
        "m" | "min" | "minute" => 1.0,
        "h" | "hour" => 1.0 / 60.0,
        _ => return Err(format!("`{text}` is not a budget: give N/min, N/s or N/h")),
    };
    let per_minute = n * scale;
    if !(1.0..=6_000_000.0).contains(&per_minute) {
        return Err(format!(
            "`{text}` is out of range: 1 to 6,000,000 requests a minute"
        ));
    }
    Ok(per_minute.round() as u32)
}

impl RateBudget {
    pub fn new(per_minute: u32, headers: BudgetHeaders) -> Self {
        let per_minute = per_minute.max(1);
        let budget = RateBudget {
            per_minute,
            headers,
            bucket: Arc::new(Mutex::new(Bucket {
                tokens: 0.0,
                at: None,
                first: None,
                last: None,
                answered: 0,
                refused: 0,
            })),
        };
        budget.lock().tokens = budget.capacity();
        budget
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Requests a second the bucket refills at.
    fn per_sec(&self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }

    /// Two seconds of the budget, and at least two requests.
    fn capacity(&self) -> f64 {
        (2.0 * self.per_sec()).max(2.0)
    }

    pub fn stats(&self) -> BudgetStats {
        let bucket = self.lock();
        BudgetStats {
            answered: bucket.answered,
            refused: bucket.refused,
            span: match (bucket.first, bucket.last) {
                (Some(first), Some(last)) => last - first,
                _ => Duration::ZERO,
            },
        }
    }

    /// Takes a request out of the budget: the headers to add to the answer, or, when it is
    /// spent, to the 429 that answers instead (with `Retry-After`).
    pub(super) fn take(&self) -> Result<Headers, Headers> {
        let now = Instant::now();
        let capacity = self.capacity();
        let per_sec = self.per_sec();
        let mut bucket = self.lock();
        if let Some(at) = bucket.at {
            bucket.tokens = (bucket.tokens + (now - at).as_secs_f64() * per_sec).min(capacity);
        }
        bucket.at = Some(now);
        bucket.first.get_or_insert(now);
        bucket.last = Some(now);
        let spent = bucket.tokens < 1.0;
        if spent {
            bucket.refused += 1;
        } else {
            bucket.tokens -= 1.0;
            bucket.answered += 1;
        }
        let remaining = bucket.tokens.floor();
        let reset = (capacity - bucket.tokens) / per_sec;
        let mut headers = self.advertised(remaining, reset);
        if spent {
            let wait = (1.0 - bucket.tokens) / per_sec;
            headers.push(("retry-after", format!("{:.3}", wait.max(0.001))));
            Err(headers)
        } else {
            Ok(headers)
        }
    }

    /// The budget in the dialect's headers: `remaining` requests left, whole again in `reset`
    /// seconds.
    fn advertised(&self, remaining: f64, reset: f64) -> Headers {
        let limit = self.per_minute.to_string();
        let remaining = format!("{remaining:.0}");
        match self.headers {
            BudgetHeaders::Openai => vec![
                ("x-ratelimit-limit-requests", limit),
                ("x-ratelimit-remaining-requests", remaining),
                ("x-ratelimit-reset-requests", go_duration(reset)),
            ],
            BudgetHeaders::Anthropic => {
                let at = chrono::DateTime::<chrono::Utc>::from(
                    SystemTime::now() + Duration::from_secs_f64(reset),
                );
                vec![
                    ("anthropic-ratelimit-requests-limit", limit),
                    ("anthropic-ratelimit-requests-remaining", remaining),
                    (
                        "anthropic-ratelimit-requests-reset",
                        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    ),
                ]
            }
            BudgetHeaders::Ietf => vec![
                ("ratelimit-policy", format!("\"default\";q={limit};w=60")),
                (
                    "ratelimit",
                    format!("\"default\";r={remaining};t={}", reset.ceil()),
                ),
            ],
            BudgetHeaders::None => Vec::new(),
        }
    }
}

/// Seconds as Go prints a duration, as OpenAI sends them: `250ms`, `1.5s`, `6m0s`.
fn go_duration(secs: f64) -> String {
    if secs < 1.0 {
        return format!("{:.0}ms", (secs * 1000.0).ceil());
    }
    let minutes = (secs / 60.0).floor();
    let rest = format!("{:.3}", secs - minutes * 60.0);
    let rest = rest.trim_end_matches('0').trim_end_matches('.');
    if minutes > 0.0 {
        format!("{minutes:.0}m{rest}s")
    } else {
        format!("{rest}s")
    }
}

impl Answer {
    /// With the headers a budget adds.
    pub(super) fn with_headers(self, headers: Headers) -> Self {
        headers.into_iter().fold(self, |answer, (name, value)| {
            answer.insert_header(name, &value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_per_minute() {
        assert_eq!(parse_per_minute("600/min"), Ok(600));
        assert_eq!(parse_per_minute("10/s"), Ok(600));
        assert_eq!(parse_per_minute("3600/h"), Ok(60));
        assert_eq!(parse_per_minute("1200"), Ok(1200));
        assert!(parse_per_minute("lots/min").is_err());
        assert!(parse_per_minute("5/fortnight").is_err());
        assert!(parse_per_minute("0/min").is_err());
        assert!(parse_per_minute("1e12/s").is_err());
        assert_eq!(parse_budget("600/min"), Ok((600, BudgetHeaders::Openai)));
        assert_eq!(
            parse_budget("1200/min:IETF"),
            Ok((1200, BudgetHeaders::Ietf))
        );
        assert!(parse_budget("600/min:github").is_err());
    }

    #[test]
    fn go_durations_read_as_openai_writes_them() {
        assert_eq!(go_duration(0.25), "250ms");
        assert_eq!(go_duration(1.5), "1.5s");
        assert_eq!(go_duration(360.0), "6m0s");
    }

    #[test]
    fn the_bucket_answers_its_burst_then_refuses_advertising_what_is_left() {
        let budget = RateBudget::new(60, BudgetHeaders::Openai);
        // 60 a minute: a bucket of two.
        let first = budget.take().unwrap();
        assert!(first.contains(&("x-ratelimit-remaining-requests", "1".to_owned())));
        budget.take().unwrap();
        let refused = budget.take().unwrap_err();
        assert!(refused.iter().any(|(name, _)| *name == "retry-after"));
        assert!(refused.contains(&("x-ratelimit-limit-requests", "60".to_owned())));
        let stats = budget.stats();
        assert_eq!((stats.answered, stats.refused), (2, 1));
        assert!(
            RateBudget::new(60, BudgetHeaders::None)
                .take()
                .unwrap()
                .is_empty()
        );
    }
}
