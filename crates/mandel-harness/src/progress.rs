//! Race progress on stderr: a spinner while a kernel verifies or warms up, a bar while it is
//! timed. indicatif hides all of it when stderr is not a terminal, so logs and pipes stay clean.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::race::{Event, Status};
use crate::report::{check, duration};

/// Shows [`Event`]s from the race engine.
pub struct Progress {
    bar: ProgressBar,
    spinner: ProgressStyle,
    runs: ProgressStyle,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    /// A progress display on stderr (hidden if stderr is not a terminal).
    pub fn new() -> Progress {
        let style = |template: &str| {
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
        };
        let spinner = style("{spinner} {prefix:.bold} {msg} [{elapsed}]");
        let bar =
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(spinner.clone());
        Progress { bar, spinner, runs: style("  {prefix:.bold} [{bar:30}] {pos}/{len} runs, {msg}") }
    }

    /// Updates the display for one event.
    pub fn observe(&self, event: Event<'_>) {
        match event {
            Event::Reference(precision) => {
                self.spin("reference", &format!("computing the {precision} counts"))
            }
            Event::Verifying(kernel) => self.spin(kernel, "verifying against the reference (first call)"),
            Event::WarmingUp(kernel) => self.spin(kernel, "warming up"),
            Event::Timed { kernel, runs, expected_runs, mean } => {
                if self.bar.length().is_none() {
                    self.bar.disable_steady_tick();
                    self.bar.set_style(self.runs.clone());
                    self.bar.set_prefix(kernel.to_string());
                }
                self.bar.set_length(expected_runs.max(runs) as u64);
                self.bar.set_position(runs as u64);
                self.bar.set_message(format!("mean {}", duration(mean.as_secs_f64())));
            }
            Event::Finished(result) => {
                let summary = match (result.status, result.median_s) {
                    (Status::Verified, Some(median)) => format!("{} ({})", duration(median), check(result)),
                    _ => check(result),
                };
                self.bar.println(format!("  {} {summary}", result.name));
                self.bar.unset_length();
                self.bar.set_position(0);
            }
        }
    }

    fn spin(&self, prefix: &str, message: &str) {
        self.bar.unset_length();
        self.bar.set_style(self.spinner.clone());
        self.bar.set_prefix(prefix.to_string());
        self.bar.set_message(message.to_string());
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    /// Runs `print` with the display hidden, so lines written to the terminal meanwhile are
    /// not mixed with it.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    /// Removes the display.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
