//! The race engine: verify each kernel against the reference, then time it honestly.
//!
//! For every contestant, in order:
//! 1. **Verify.** One call into a buffer filled with a sentinel; its counts are compared with
//!    the reference of the kernel's precision (and, for f32, with the f64 reference too). An
//!    exact kernel that differs anywhere, or an inexact one beyond [`INEXACT_TOLERANCE`], is
//!    [`Status::Wrong`] and is never timed or ranked. That first call is timed on its own: it
//!    is where thread pools are built and GPU pipelines compiled.
//! 2. **Warm up** until the plan's warm-up time has passed (the first call counts), so caches,
//!    clocks and lazy initialisation settle before anything is recorded.
//! 3. **Time** runs until both the plan's minimum runs and minimum time are reached, or its
//!    maximum runs; the same buffer is reused, so no run pays for an allocation.
//! 4. **Re-check** the last run against the reference: a racy kernel shows.
//!
//! The engine knows nothing of terminals or files: it reports through [`Event`]s and stops
//! early, between runs, when its `stop` flag is raised (Ctrl-C).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mandel_core::{
    pixel_iterations, reference_counts, Availability, Frame, KernelError, MandelKernel, Precision,
    INEXACT_TOLERANCE,
};
use serde::{Deserialize, Serialize};

use crate::stats::Summary;

// ANCHOR: noisy-spread
/// When a kernel's MAD exceeds this fraction of its median, the race warns that the machine is
/// noisy: differences between kernels smaller than that are not to be trusted.
pub const NOISY_SPREAD: f64 = 0.05;
// ANCHOR_END: noisy-spread

/// The value a buffer holds before the verifying call: no count can equal it unless
/// `max_iter == u32::MAX`, and then an unwritten pixel still shows as differing somewhere else.
const SENTINEL: u32 = u32::MAX;

/// How long and how often to time each kernel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RacePlan {
    /// Keep calling (untimed) until this much time has passed since the first call.
    #[serde(with = "seconds")]
    pub warmup: Duration,
    /// Time at least this many runs...
    pub min_runs: usize,
    /// ...and keep going until this much time has been spent timing...
    #[serde(with = "seconds")]
    pub min_time: Duration,
    /// ...but never more than this many runs.
    pub max_runs: usize,
}

impl RacePlan {
    /// The default: a quarter-second warm-up, then at least 5 runs and 1 s, at most 100 runs.
    pub const STANDARD: RacePlan = RacePlan {
        warmup: Duration::from_millis(250),
        min_runs: 5,
        min_time: Duration::from_secs(1),
        max_runs: 100,
    };

    /// `--quick`: enough runs for a median, for CI and impatient people.
    pub const QUICK: RacePlan = RacePlan {
        warmup: Duration::from_millis(20),
        min_runs: 3,
        min_time: Duration::from_millis(100),
        max_runs: 20,
    };

    /// Whether `runs` taking `spent` in all are enough.
    fn enough(&self, runs: usize, spent: Duration) -> bool {
        runs >= self.max_runs || (runs >= self.min_runs && spent >= self.min_time)
    }

    /// How many runs the plan will take if each lasts about `typical`.
    fn expected_runs(&self, typical: Duration) -> usize {
        let for_time = if typical.is_zero() {
            self.max_runs
        } else {
            (self.min_time.as_secs_f64() / typical.as_secs_f64()).ceil() as usize
        };
        for_time.clamp(self.min_runs, self.max_runs.max(self.min_runs))
    }
}

/// A kernel entered in the race, with the crate it came from.
pub struct Contestant {
    /// The kernel crate (`kernel-hoisted`), or `mandel-core` for the references.
    pub crate_name: String,
    /// The kernel.
    pub kernel: Box<dyn MandelKernel>,
}

/// What the race concluded about a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Output checked against the reference and within the kernel's promise; timed and ranked.
    Verified,
    /// Output differs from the reference more than the kernel promised: not timed, not ranked.
    Wrong,
    /// The kernel returned an error or panicked.
    Failed,
    /// The kernel cannot run here, or cannot represent this frame in its precision.
    Skipped,
    /// The race was interrupted before this kernel's turn.
    Interrupted,
}

/// Everything measured about one kernel. Every field is always present in the JSON export
/// (`null` where it does not apply), so a consumer needs no guessing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelResult {
    /// The kernel's name.
    pub name: String,
    /// The crate that exports it.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Its one-line lesson.
    pub description: String,
    /// `f64` or `f32`.
    #[serde(with = "precision")]
    pub precision: Precision,
    /// Whether it promises bit-exact output.
    pub exact: bool,
    /// Whether it skips iterations it proves cannot change a count, so that its `giter_per_s`
    /// is effective (absent from files written before the algorithmic rung: false).
    #[serde(default)]
    pub skips_work: bool,
    /// The accelerator it runs on, if not the CPU.
    pub device: Option<String>,
    /// The verdict.
    pub status: Status,
    /// Why it was wrong, failed or skipped.
    pub reason: Option<String>,
    /// Pixels that differ from the reference of its own precision.
    pub mismatched_pixels: Option<u64>,
    /// For f32 kernels: pixels that differ from the f64 reference (the price of f32).
    pub mismatched_vs_f64: Option<u64>,
    /// The work its own output represents (f32 escapes differ slightly from f64's).
    pub pixel_iterations: Option<u64>,
    /// The first call, alone: set-up (thread pools, GPU pipelines) plus one frame.
    pub first_call_s: Option<f64>,
    /// Untimed calls after the first, until the warm-up time had passed.
    pub warmup_runs: usize,
    /// Every timed run, in order.
    pub samples_s: Vec<f64>,
    /// Timed runs.
    pub runs: usize,
    /// Median run: the number the race ranks by.
    pub median_s: Option<f64>,
    /// Median absolute deviation of the runs.
    pub mad_s: Option<f64>,
    /// First quartile of the runs.
    pub q1_s: Option<f64>,
    /// Third quartile of the runs.
    pub q3_s: Option<f64>,
    /// Fastest run.
    pub min_s: Option<f64>,
    /// Slowest run.
    pub max_s: Option<f64>,
    /// Pixel-iterations per second at the median, in billions.
    pub giter_per_s: Option<f64>,
    /// Baseline median divided by this median.
    pub speedup: Option<f64>,
    /// 1 for the fastest verified kernel; `None` if not ranked.
    pub rank: Option<usize>,
    /// Whether the spread exceeded [`NOISY_SPREAD`].
    pub noisy: bool,
}

impl KernelResult {
    fn new(contestant: &Contestant, status: Status, reason: Option<String>) -> KernelResult {
        let kernel = &contestant.kernel;
        KernelResult {
            name: kernel.name().to_string(),
            crate_name: contestant.crate_name.clone(),
            description: kernel.description().to_string(),
            precision: kernel.precision(),
            exact: kernel.is_exact(),
            skips_work: kernel.skips_work(),
            device: kernel.device(),
            status,
            reason,
            mismatched_pixels: None,
            mismatched_vs_f64: None,
            pixel_iterations: None,
            first_call_s: None,
            warmup_runs: 0,
            samples_s: Vec::new(),
            runs: 0,
            median_s: None,
            mad_s: None,
            q1_s: None,
            q3_s: None,
            min_s: None,
            max_s: None,
            giter_per_s: None,
            speedup: None,
            rank: None,
            noisy: false,
        }
    }

    /// The summary of its timed runs, if it has any.
    pub fn summary(&self) -> Option<Summary> {
        Summary::of(&self.samples_s)
    }

    /// Whether it was verified and timed, so it can be ranked.
    pub fn is_ranked(&self) -> bool {
        self.status == Status::Verified && self.median_s.is_some()
    }

    fn fail(mut self, status: Status, reason: String) -> KernelResult {
        self.status = status;
        self.reason = Some(reason);
        self
    }
}

/// Progress, for whoever is watching (a progress bar, or nobody).
#[derive(Debug)]
pub enum Event<'a> {
    /// Computing the reference counts of a precision.
    Reference(Precision),
    /// The first, verifying call of a kernel.
    Verifying(&'a str),
    /// Untimed calls.
    WarmingUp(&'a str),
    /// A timed run finished.
    Timed {
        /// The kernel.
        kernel: &'a str,
        /// Timed runs so far.
        runs: usize,
        /// The runs the plan will probably take at this pace.
        expected_runs: usize,
        /// The mean run so far.
        mean: Duration,
    },
    /// A kernel is done.
    Finished(&'a KernelResult),
}

/// The reference counts a race compares against, computed once per race.
#[derive(Debug)]
pub struct References {
    f64: Vec<u32>,
    f32: Option<Vec<u32>>,
    /// The frame's work according to the f64 reference: the header's pixel-iterations.
    pub pixel_iterations: u64,
}

impl References {
    /// Computes the f64 reference, and the f32 one when `with_f32` and the frame allows it.
    /// Fails only if the f64 reference cannot compute the frame.
    pub fn compute(
        frame: &Frame,
        with_f32: bool,
        observe: &mut dyn FnMut(Event<'_>),
    ) -> Result<References, KernelError> {
        observe(Event::Reference(Precision::F64));
        let f64 = reference_counts(frame, Precision::F64)?;
        let f32 = if with_f32 && frame.check_precision(Precision::F32).is_ok() {
            observe(Event::Reference(Precision::F32));
            Some(reference_counts(frame, Precision::F32)?)
        } else {
            None
        };
        Ok(References { pixel_iterations: pixel_iterations(&f64, frame.max_iter()), f64, f32 })
    }

    fn of(&self, precision: Precision) -> Option<&[u32]> {
        match precision {
            Precision::F64 => Some(&self.f64),
            Precision::F32 => self.f32.as_deref(),
        }
    }
}

/// What [`race`] returns.
#[derive(Debug)]
pub struct Outcome {
    /// The frame's work according to the f64 reference.
    pub pixel_iterations: u64,
    /// One result per contestant, in the order given.
    pub results: Vec<KernelResult>,
    /// Whether `stop` was raised before the end.
    pub interrupted: bool,
}

/// Races `contestants` on `frame` under `plan`, in the order given, then ranks them and
/// computes speedups over the kernel named `baseline` (none if it was not verified and timed).
pub fn race(
    contestants: &[Contestant],
    frame: &Frame,
    references: &References,
    plan: &RacePlan,
    baseline: &str,
    stop: &AtomicBool,
    observe: &mut dyn FnMut(Event<'_>),
) -> Outcome {
    let mut results = Vec::with_capacity(contestants.len());
    for contestant in contestants {
        let result = if stop.load(Ordering::Relaxed) {
            KernelResult::new(contestant, Status::Interrupted, Some("the race was interrupted".into()))
        } else {
            race_one(contestant, frame, plan, references, stop, observe)
        };
        observe(Event::Finished(&result));
        results.push(result);
    }
    rank(&mut results, baseline);
    Outcome {
        pixel_iterations: references.pixel_iterations,
        results,
        interrupted: stop.load(Ordering::Relaxed),
    }
}

/// Verifies, warms up and times one kernel.
fn race_one(
    contestant: &Contestant,
    frame: &Frame,
    plan: &RacePlan,
    references: &References,
    stop: &AtomicBool,
    observe: &mut dyn FnMut(Event<'_>),
) -> KernelResult {
    let kernel = contestant.kernel.as_ref();
    let name = kernel.name();
    let mut result = KernelResult::new(contestant, Status::Verified, None);
    if let Availability::Unavailable(reason) = kernel.availability() {
        return result.fail(Status::Skipped, reason);
    }
    if let Err(e) = frame.check_precision(kernel.precision()) {
        return result.fail(Status::Skipped, e.to_string());
    }
    let Some(reference) = references.of(kernel.precision()) else {
        return result.fail(Status::Skipped, "no reference in this precision for this frame".into());
    };

    observe(Event::Verifying(name));
    // ANCHOR: first-call
    let mut out = Vec::new();
    if out.try_reserve_exact(frame.pixel_count()).is_err() {
        let mib = (frame.pixel_count() * 4) >> 20;
        return result.fail(Status::Failed, format!("cannot allocate {mib} MiB for its output"));
    }
    out.resize(frame.pixel_count(), SENTINEL);
    let started = Instant::now();
    // A program that times itself (a Python row) gives its first run's time with the counts.
    let self_timed = match kernel.timed_runs(frame, 1, &mut out) {
        None => call(kernel, frame, &mut out).map(|()| None),
        Some(timed) => timed.map(Some).map_err(|e| e.to_string()),
    };
    let self_timed = match self_timed {
        Ok(times) => times,
        Err(reason) => return result.fail(Status::Failed, reason),
    };
    result.first_call_s = Some(started.elapsed().as_secs_f64());
    // ANCHOR_END: first-call
    // ANCHOR: verify
    let differing = count_differences(&out, reference);
    let first_output = fingerprint(&out);
    result.mismatched_pixels = Some(differing);
    if kernel.precision() == Precision::F32 {
        result.mismatched_vs_f64 = Some(count_differences(&out, &references.f64));
    }
    result.pixel_iterations = Some(pixel_iterations(&out, frame.max_iter()));
    let allowed = if kernel.is_exact() { 0.0 } else { INEXACT_TOLERANCE * out.len() as f64 };
    if differing as f64 > allowed {
        let promise = if kernel.is_exact() {
            "it promises bit-exact output".to_string()
        } else {
            format!("more than the {}% an inexact kernel may", INEXACT_TOLERANCE * 100.0)
        };
        let pixels = if differing == 1 { "pixel differs" } else { "pixels differ" };
        return result.fail(Status::Wrong, format!("{differing} {pixels} from the reference; {promise}"));
    }
    // ANCHOR_END: verify

    if let Some(first) = self_timed {
        if let Err(reason) = time_self_timed(kernel, frame, first, &mut out, &mut result, observe) {
            return result.fail(Status::Failed, reason);
        }
    } else if let Err(reason) =
        warm_up_and_time(kernel, frame, plan, stop, &mut out, &mut result, started, observe)
    {
        return result.fail(Status::Failed, reason);
    }
    // The last run must write what the first did. A fingerprint, not a copy: a frame can be
    // gigabytes.
    if fingerprint(&out) != first_output {
        let last_differing = count_differences(&out, reference);
        result.samples_s.clear();
        return result.fail(
            Status::Wrong,
            format!(
                "not deterministic: the last run's output differs from the first's (which differed \
                 from the reference on {differing} pixels, the last on {last_differing})"
            ),
        );
    }
    if let Some(summary) = result.summary() {
        result.runs = summary.runs;
        result.median_s = Some(summary.median_s);
        result.mad_s = Some(summary.mad_s);
        result.q1_s = Some(summary.q1_s);
        result.q3_s = Some(summary.q3_s);
        result.min_s = Some(summary.min_s);
        result.max_s = Some(summary.max_s);
        result.noisy = summary.relative_spread() > NOISY_SPREAD;
        result.giter_per_s =
            result.pixel_iterations.map(|work| work as f64 / summary.median_s.max(f64::MIN_POSITIVE) / 1e9);
    }
    result
}

// ANCHOR: warm-up-and-time
/// Calls the kernel untimed until the plan's warm-up has passed since `started` (its first
/// call), then times runs until the plan has enough.
#[allow(clippy::too_many_arguments)]
fn warm_up_and_time(
    kernel: &dyn MandelKernel,
    frame: &Frame,
    plan: &RacePlan,
    stop: &AtomicBool,
    out: &mut [u32],
    result: &mut KernelResult,
    started: Instant,
    observe: &mut dyn FnMut(Event<'_>),
) -> Result<(), String> {
    let name = kernel.name();
    observe(Event::WarmingUp(name));
    while started.elapsed() < plan.warmup && !stop.load(Ordering::Relaxed) {
        call(kernel, frame, out)?;
        result.warmup_runs += 1;
    }

    let mut spent = Duration::ZERO;
    while !plan.enough(result.samples_s.len(), spent) && !stop.load(Ordering::Relaxed) {
        let run_started = Instant::now();
        let outcome = call(kernel, frame, out);
        let elapsed = run_started.elapsed();
        if let Err(reason) = outcome {
            let run = result.samples_s.len() + 1;
            return Err(format!("timed run {run}: {reason}"));
        }
        spent += elapsed;
        result.samples_s.push(elapsed.as_secs_f64());
        let runs = result.samples_s.len();
        // The mean so far, not the median: it costs nothing per run, where sorting every run
        // would make a million tiny runs quadratic.
        let mean = spent / runs as u32;
        observe(Event::Timed { kernel: name, runs, expected_runs: plan.expected_runs(mean), mean });
    }
    Ok(())
}
// ANCHOR_END: warm-up-and-time

/// A Python row runs again while its runs fit in this much time: a pure-Python row that takes
/// a minute per frame runs once.
pub const SELF_TIMED_BUDGET: Duration = Duration::from_secs(10);

/// Times a kernel that times itself: its first run's time, then (in one more call, so one more
/// start-up) as many runs as the plan's minimum that fit in [`SELF_TIMED_BUDGET`].
fn time_self_timed(
    kernel: &dyn MandelKernel,
    frame: &Frame,
    first: Vec<f64>,
    out: &mut [u32],
    result: &mut KernelResult,
    observe: &mut dyn FnMut(Event<'_>),
) -> Result<(), String> {
    let name = kernel.name();
    let each = first.iter().copied().fold(0.0, f64::max);
    result.samples_s = first;
    let affordable = (SELF_TIMED_BUDGET.as_secs_f64() / each.max(1e-9)).floor() as usize;
    let more = affordable.min(SELF_TIMED_MIN_RUNS.saturating_sub(result.samples_s.len()));
    if more > 0 {
        observe(Event::Timed {
            kernel: name,
            runs: result.samples_s.len(),
            expected_runs: result.samples_s.len() + more,
            mean: Duration::from_secs_f64(each),
        });
        match kernel.timed_runs(frame, more, out) {
            Some(Ok(times)) => result.samples_s.extend(times),
            Some(Err(e)) => return Err(format!("timed runs: {e}")),
            None => return Err("it timed itself once and then no more".into()),
        }
    }
    Ok(())
}

/// Runs a self-timed row aims for, within the budget.
const SELF_TIMED_MIN_RUNS: usize = 3;

/// One call of the kernel; an error or a panic becomes a one-line reason.
fn call(kernel: &dyn MandelKernel, frame: &Frame, out: &mut [u32]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| kernel.compute(frame, out))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(format!("panicked: {message}"))
        }
    }
}

/// A 64-bit hash of a frame's counts, to tell whether two runs wrote the same thing.
fn fingerprint(counts: &[u32]) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    counts.hash(&mut hasher);
    hasher.finish()
}

fn count_differences(a: &[u32], b: &[u32]) -> u64 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as u64 + a.len().abs_diff(b.len()) as u64
}

/// Ranks the verified, timed kernels by median (1 = fastest) and sets each one's speedup over
/// the baseline's median.
fn rank(results: &mut [KernelResult], baseline: &str) {
    let baseline_median =
        results.iter().find(|r| r.name == baseline && r.is_ranked()).and_then(|r| r.median_s);
    let mut ranked: Vec<(usize, f64)> =
        results.iter().enumerate().filter_map(|(k, r)| Some((k, r.median_s?))).collect();
    ranked.retain(|&(k, _)| results[k].is_ranked());
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (position, (k, median)) in ranked.into_iter().enumerate() {
        let result = &mut results[k];
        result.rank = Some(position + 1);
        result.speedup = baseline_median.map(|base| base / median);
    }
}

/// Serialises a `Precision` as `"f64"` or `"f32"`.
pub(crate) mod precision {
    use mandel_core::Precision;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(precision: &Precision, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(precision.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Precision, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            "f64" => Ok(Precision::F64),
            "f32" => Ok(Precision::F32),
            other => Err(serde::de::Error::custom(format!("unknown precision `{other}`"))),
        }
    }
}

/// Serialises a `Duration` as seconds (a float), so the JSON reads like the rest.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(duration.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let seconds = f64::deserialize(deserializer)?;
        Duration::try_from_secs_f64(seconds).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_stops_at_min_runs_and_min_time_or_at_max_runs() {
        let plan =
            RacePlan { warmup: Duration::ZERO, min_runs: 3, min_time: Duration::from_secs(1), max_runs: 10 };
        assert!(!plan.enough(2, Duration::from_secs(5)));
        assert!(!plan.enough(5, Duration::from_millis(500)));
        assert!(plan.enough(3, Duration::from_secs(1)));
        assert!(plan.enough(10, Duration::from_millis(1)));
        assert_eq!(plan.expected_runs(Duration::from_millis(250)), 4);
        assert_eq!(plan.expected_runs(Duration::from_secs(2)), 3);
        assert_eq!(plan.expected_runs(Duration::from_micros(1)), 10);
        assert_eq!(plan.expected_runs(Duration::ZERO), 10);
    }
}
