//! The progress display of a run: one line per suite on stderr (cases done of those it runs,
//! requests sent, the pace over the last seconds), drawn by indicatif, only where
//! [`Settings::shows_progress`](crate::settings::Settings::shows_progress) says.
//!
//! libtest-mimic prints each case's line on stdout, which on a terminal is the same screen:
//! so the display is cleared as each case ends (just before libtest prints its line) and drawn
//! again only once no case has ended for a moment, from one thread that owns the drawing.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// How often the display is redrawn.
const TICK: Duration = Duration::from_millis(200);
/// How long after a case ends the display stays cleared: libtest prints the case's line then.
const QUIET: Duration = Duration::from_millis(150);
/// The stretch the pace is measured over.
const PACE_OVER: Duration = Duration::from_secs(5);

/// One suite's line.
struct Suite {
    bar: ProgressBar,
    total: u64,
    done: AtomicU64,
    requests: Arc<AtomicU64>,
    /// `(when, requests)` samples over the last [`PACE_OVER`].
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

/// The run's progress display; [`Display::finish`] clears it.
pub struct Display {
    multi: MultiProgress,
    suites: BTreeMap<String, Suite>,
    /// When the display may be drawn again.
    quiet_until: Mutex<Instant>,
    started: AtomicBool,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl Display {
    /// A display of `suites` (name and cases the run will run), drawn on stderr.
    pub fn new(suites: &BTreeMap<String, u64>) -> Arc<Display> {
        // Hidden until the first case starts: nothing drawn among the lines before the run.
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
        let width = suites.keys().map(String::len).max().unwrap_or(0);
        let style = ProgressStyle::with_template(&format!(
            "{{prefix:<{width}}} [{{bar:20}}] {{pos}}/{{len}} case(s), {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let suites = suites
            .iter()
            .map(|(name, &total)| {
                let bar = multi.add(ProgressBar::new(total).with_style(style.clone()));
                bar.set_prefix(name.clone());
                bar.set_message("0 request(s)");
                let suite = Suite {
                    bar,
                    total,
                    done: AtomicU64::new(0),
                    requests: Arc::new(AtomicU64::new(0)),
                    samples: Mutex::default(),
                };
                (name.clone(), suite)
            })
            .collect();
        Arc::new(Display {
            multi,
            suites,
            quiet_until: Mutex::new(Instant::now()),
            started: AtomicBool::new(false),
            stop: Arc::new(AtomicBool::new(false)),
            ticker: Mutex::new(None),
        })
    }

    /// Where a case of `suite` counts its requests.
    pub fn tally(&self, suite: &str) -> Option<Arc<AtomicU64>> {
        self.suites.get(suite).map(|s| Arc::clone(&s.requests))
    }

    /// A case begins: the first starts the drawing (after libtest's `running N tests` line).
    pub fn case_started(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        self.multi
            .set_draw_target(ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 5));
        // Drawn at once, then by the ticker.
        self.draw();
        let display = Arc::clone(self);
        let stop = Arc::clone(&self.stop);
        let ticker = std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                display.draw();
                std::thread::sleep(TICK);
            }
        });
        *self.ticker.lock().unwrap_or_else(|e| e.into_inner()) = Some(ticker);
    }

    /// A case of `suite` ended: the display is cleared for libtest's line.
    pub fn case_done(&self, suite: &str) {
        if let Some(s) = self.suites.get(suite) {
            s.done.fetch_add(1, Ordering::SeqCst);
        }
        let mut quiet = self.quiet_until.lock().unwrap_or_else(|e| e.into_inner());
        *quiet = Instant::now() + QUIET;
        let _ = self.multi.clear();
    }

    /// Draws the lines, unless a case has just ended or every case has.
    fn draw(&self) {
        let quiet = self.quiet_until.lock().unwrap_or_else(|e| e.into_inner());
        let all_done = self
            .suites
            .values()
            .all(|s| s.done.load(Ordering::SeqCst) >= s.total);
        if Instant::now() < *quiet || all_done || self.stop.load(Ordering::SeqCst) {
            return;
        }
        let now = Instant::now();
        for suite in self.suites.values() {
            let requests = suite.requests.load(Ordering::Relaxed);
            let pace = {
                let mut samples = suite.samples.lock().unwrap_or_else(|e| e.into_inner());
                samples.push_back((now, requests));
                while samples.len() > 2 && now - samples[0].0 > PACE_OVER {
                    samples.pop_front();
                }
                pace(&samples)
            };
            // The message first: setting the position may draw, and it must not draw the
            // new count of cases beside the old count of requests.
            suite.bar.set_message(message(requests, pace));
            suite.bar.set_position(suite.done.load(Ordering::SeqCst));
        }
    }

    /// Stops drawing and clears the display.
    pub fn finish(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let ticker = self.ticker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(ticker) = ticker {
            let _ = ticker.join();
        }
        let _quiet = self.quiet_until.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.multi.clear();
    }
}

/// Requests a second over the samples (`None` until a stretch of time has passed).
fn pace(samples: &VecDeque<(Instant, u64)>) -> Option<f64> {
    let (first, last) = (samples.front()?, samples.back()?);
    let secs = (last.0 - first.0).as_secs_f64();
    (secs > 0.0).then(|| (last.1 - first.1) as f64 / secs)
}

/// `12 request(s), 9.8/s`.
fn message(requests: u64, pace: Option<f64>) -> String {
    match pace {
        Some(pace) => format!("{requests} request(s), {pace:.1}/s"),
        None => format!("{requests} request(s)"),
    }
}

/// stderr as indicatif's terminal, whether it is one or not (`--progress always`); ANSI
/// cursor moves.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, s: &str) -> std::io::Result<()> {
        std::io::stderr().lock().write_all(s.as_bytes())
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100)
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}A"))?;
        }
        Ok(())
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}B"))?;
        }
        Ok(())
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}C"))?;
        }
        Ok(())
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}D"))?;
        }
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_is_requests_a_second_over_the_samples() {
        let t = Instant::now();
        let samples: VecDeque<_> = [(t, 10), (t + Duration::from_secs(2), 30)].into();
        assert_eq!(pace(&samples), Some(10.0));
        assert_eq!(pace(&[(t, 3)].into()), None);
        assert_eq!(message(30, Some(9.84)), "30 request(s), 9.8/s");
        assert_eq!(message(0, None), "0 request(s)");
    }
}
