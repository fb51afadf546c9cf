//! A finished race as data (the JSON export is exactly [`RaceReport`]) and as text: the
//! terminal table, a markdown table for docs, and CSV for spreadsheets.

use std::fmt::Write as _;

use mandel_core::{Frame, Precision};
use serde::{Deserialize, Serialize};

use crate::provenance::Provenance;
use crate::race::{KernelResult, Outcome, RacePlan, Status, NOISY_SPREAD};

/// The version of the JSON layout below; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a race produced: the source of truth for docs and charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaceReport {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The machine and the build.
    pub provenance: Provenance,
    /// What was computed.
    pub frame: FrameInfo,
    /// How long and how often each kernel was timed.
    pub plan: RacePlan,
    /// The kernel speedups are relative to.
    pub baseline: String,
    /// Whether Ctrl-C cut the race short (kernels after that point are `interrupted`).
    pub interrupted: bool,
    /// One entry per kernel, in rung order.
    pub kernels: Vec<KernelResult>,
}

/// The frame raced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameInfo {
    /// The scene's name, or `custom`.
    pub scene: String,
    /// Left edge.
    pub x_min: f64,
    /// Right edge.
    pub x_max: f64,
    /// Bottom edge.
    pub y_min: f64,
    /// Top edge.
    pub y_max: f64,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// The iteration limit.
    pub max_iter: u32,
    /// The frame's work according to the f64 reference.
    pub pixel_iterations: u64,
}

impl FrameInfo {
    /// Describes `frame`, called `scene` (or `custom`), whose f64 work is `pixel_iterations`.
    pub fn new(scene: &str, frame: &Frame, pixel_iterations: u64) -> FrameInfo {
        let viewport = frame.viewport();
        FrameInfo {
            scene: scene.to_string(),
            x_min: viewport.x_min(),
            x_max: viewport.x_max(),
            y_min: viewport.y_min(),
            y_max: viewport.y_max(),
            width: viewport.width(),
            height: viewport.height(),
            max_iter: frame.max_iter(),
            pixel_iterations,
        }
    }
}

impl RaceReport {
    /// Assembles the report of a race.
    pub fn new(
        frame: FrameInfo,
        plan: RacePlan,
        baseline: &str,
        outcome: Outcome,
        provenance: Provenance,
    ) -> RaceReport {
        RaceReport {
            schema: SCHEMA_VERSION,
            provenance,
            frame,
            plan,
            baseline: baseline.to_string(),
            interrupted: outcome.interrupted,
            kernels: outcome.results,
        }
    }

    /// The kernels in the order asked for.
    pub fn ordered(&self, order: Order) -> Vec<&KernelResult> {
        let mut kernels: Vec<&KernelResult> = self.kernels.iter().collect();
        if order == Order::Time {
            // Ranked kernels fastest first; the rest keep their rung order after them.
            kernels.sort_by_key(|k| k.rank.unwrap_or(usize::MAX));
        }
        kernels
    }

    /// Kernels whose verdict should fail the command: wrong or failed.
    pub fn broken(&self) -> Vec<&KernelResult> {
        self.kernels.iter().filter(|k| matches!(k.status, Status::Wrong | Status::Failed)).collect()
    }
}

/// How the table is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// Rung order: the references, then naive, hoisted, simd, parallel, gpu.
    Rung,
    /// Fastest first.
    Time,
}

/// The lines above the table that make its numbers interpretable.
pub fn header(p: &Provenance, f: &FrameInfo, plan: &RacePlan) -> String {
    header_for_pools(p, f, plan, &[p.threads])
}

/// [`header`] for a race run on rayon pools of each of these sizes in turn (a scaling run).
pub fn header_for_pools(p: &Provenance, f: &FrameInfo, plan: &RacePlan, pools: &[usize]) -> String {
    let pools_text = match pools {
        [threads] => format!("rayon pool of {}", plural(*threads as u64, "thread", "threads")),
        _ => {
            let sizes: Vec<String> = pools.iter().map(usize::to_string).collect();
            format!("rayon pools of {} threads, one after the other", sizes.join(", "))
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mandel race: {} x [{:?}, {:?}] y [{:?}, {:?}] {}x{} max_iter {}",
        if f.scene == "custom" { "custom frame".to_string() } else { format!("scene {}", f.scene) },
        f.x_min,
        f.x_max,
        f.y_min,
        f.y_max,
        f.width,
        f.height,
        f.max_iter
    );
    let _ = writeln!(out, "  work     {} pixel-iterations (f64 reference)", thousands(f.pixel_iterations));
    let _ = writeln!(
        out,
        "  cpu      {}, {}; {pools_text}",
        p.cpu_named(),
        plural(p.logical_cores as u64, "logical core", "logical cores"),
    );
    let compiled = if p.compiled_features.is_empty() { "none".into() } else { p.compiled_features.join(" ") };
    let unused = p.unused_cpu_features();
    let cpu_has = if unused.is_empty() {
        "the CPU supports all of them, and none more".to_string()
    } else {
        format!("the CPU also supports {}, unused by this build!", unused.join(" "))
    };
    let _ = writeln!(out, "  simd     compiled for {compiled}; {cpu_has}");
    let flags = if p.rustflags.trim().is_empty() { "no rustflags".into() } else { p.rustflags.clone() };
    let _ = writeln!(out, "  build    {}, {flags}; {}; commit {}", p.profile, p.rustc, p.commit);
    let devices = if p.devices.is_empty() { "none raced".to_string() } else { p.devices.join("; ") };
    let _ = writeln!(out, "  devices  {devices}");
    let _ = write!(
        out,
        "  timing   warm-up {}, then at least {} and {}, at most {}; median ± MAD",
        duration(plan.warmup.as_secs_f64()),
        plural(plan.min_runs as u64, "run", "runs"),
        duration(plan.min_time.as_secs_f64()),
        plural(plan.max_runs as u64, "run", "runs")
    );
    out
}

/// The results table for a terminal, with aligned columns.
pub fn table(report: &RaceReport, order: Order) -> String {
    let with_first_call = report.kernels.iter().any(|k| k.device.is_some());
    let mut head = vec!["kernel", "precision", "median", "± MAD", "min", "runs", "G iter/s"];
    let speedup_head = format!("vs {}", report.baseline);
    head.push(&speedup_head);
    if with_first_call {
        head.push("first call");
    }
    head.push("check");
    let numbers = 2..head.len() - 1;
    let right_aligned = move |column: usize| numbers.contains(&column);
    let rows: Vec<Vec<String>> = report
        .ordered(order)
        .into_iter()
        .map(|k| {
            let mut row = vec![
                k.name.clone(),
                k.precision.as_str().to_string(),
                k.median_s.map_or("—".into(), duration),
                spread(k),
                k.min_s.map_or("—".into(), duration),
                if k.runs > 0 { k.runs.to_string() } else { "—".into() },
                k.giter_per_s.map_or("—".into(), |g| format!("{g:.2}")),
                k.speedup.map_or("—".into(), |s| format!("{s:.2}×")),
            ];
            if with_first_call {
                row.push(k.first_call_s.map_or("—".into(), duration));
            }
            row.push(check(k));
            row
        })
        .collect();
    aligned(&head, &rows, right_aligned)
}

/// A terminal table: `head` over `rows`, columns padded to their widest cell, the columns for
/// which `right_aligned` holds padded on the left (numbers), the last one never padded.
pub fn aligned(head: &[&str], rows: &[Vec<String>], right_aligned: impl Fn(usize) -> bool) -> String {
    let widths: Vec<usize> = (0..head.len())
        .map(|c| {
            rows.iter().map(|r| r[c].chars().count()).chain([head[c].chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = widths[c] - cell.chars().count();
                if right_aligned(c) {
                    format!("{}{cell}", " ".repeat(pad))
                } else if c + 1 == cells.len() {
                    cell.to_string()
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(head.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Warnings and notes that belong under the table.
pub fn notes(report: &RaceReport) -> Vec<String> {
    let mut notes = Vec::new();
    let p = &report.provenance;
    if p.debug_assertions {
        notes.push(
            "warning: this is a debug build; its timings say little. Use `cargo race` or `just race`.".into(),
        );
    }
    if !p.unused_cpu_features().is_empty() {
        notes.push(format!(
            "warning: the binary was not compiled for {} although this CPU has them; SIMD kernels run on \
             narrower instructions. The workspace's .cargo/config.toml asks for target-cpu=native; a \
             RUSTFLAGS variable overrides it.",
            p.unused_cpu_features().join(" ")
        ));
    }
    for k in report.kernels.iter().filter(|k| k.noisy) {
        let relative = k.mad_s.zip(k.median_s).map_or(0.0, |(mad, median)| mad / median);
        notes.push(format!(
            "warning: {} varied by {:.1}% (MAD/median, more than {}%): the machine is busy or its clock \
             is changing; rerun before trusting small differences.",
            k.name,
            relative * 100.0,
            NOISY_SPREAD * 100.0
        ));
    }
    let skipping: Vec<&str> = report
        .kernels
        .iter()
        .filter(|k| k.skips_work && k.median_s.is_some())
        .map(|k| k.name.as_str())
        .collect();
    if !skipping.is_empty() {
        notes.push(format!(
            "note: {} skip iterations they prove cannot change a count: their G iter/s is effective, the \
             frame's pixel-iterations over their time, not iterations they ran.",
            skipping.join(", ")
        ));
    }
    if !report.kernels.iter().any(|k| k.name == report.baseline && k.speedup.is_some()) {
        notes.push(format!(
            "note: no speedups: the baseline `{}` was not verified and timed in this race.",
            report.baseline
        ));
    }
    if report.interrupted {
        notes.push("interrupted: these are the results measured before Ctrl-C.".into());
    }
    notes
}

/// The italic line above a markdown table: the frame and its work, the machine (`threads` says
/// how it was used), the build, the commit and the date.
pub fn caption(p: &Provenance, f: &FrameInfo, threads: &str) -> String {
    let gpu =
        if p.devices.is_empty() { String::new() } else { format!("; devices: {}", p.devices.join("; ")) };
    format!(
        "*{} {}x{}, max_iter {}, {} pixel-iterations; {}, {threads}, SIMD up to {}{gpu}; {}; commit {}; {}.*\n\n",
        if f.scene == "custom" { "Custom frame".to_string() } else { format!("Scene `{}`:", f.scene) },
        f.width,
        f.height,
        f.max_iter,
        thousands(f.pixel_iterations),
        p.cpu_named(),
        p.widest_simd(),
        p.rustc,
        p.commit,
        p.date
    )
}

/// A markdown table to paste into docs, with a caption line carrying the provenance.
pub fn markdown(report: &RaceReport, order: Order) -> String {
    let p = &report.provenance;
    let f = &report.frame;
    let mut out = caption(p, f, &format!("{} threads", p.threads));
    // The first call (pipelines compiled, buffers made) matters where a kernel has a device.
    let with_first_call = report.kernels.iter().any(|k| k.device.is_some());
    let first_call_head = if with_first_call { " first call |" } else { "" };
    let _ = writeln!(
        out,
        "| kernel | precision | median | ± MAD | G iter/s | vs {} |{first_call_head} check |",
        report.baseline
    );
    out.push_str(if with_first_call {
        "|:--|:--|--:|--:|--:|--:|--:|:--|\n"
    } else {
        "|:--|:--|--:|--:|--:|--:|:--|\n"
    });
    for k in report.ordered(order) {
        let first_call = if with_first_call {
            format!(" {} |", k.first_call_s.map_or("—".into(), duration))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |{first_call} {} |",
            k.name,
            k.precision.as_str(),
            k.median_s.map_or("—".into(), duration),
            spread(k),
            k.giter_per_s.map_or("—".into(), |g| format!("{g:.2}")),
            k.speedup.map_or("—".into(), |s| format!("{s:.2}×")),
            check(k).replace('|', "\\|")
        );
    }
    out
}

/// One CSV row per kernel (the samples are in the JSON).
#[derive(Serialize)]
struct CsvRow<'a> {
    name: &'a str,
    #[serde(rename = "crate")]
    crate_name: &'a str,
    precision: &'a str,
    exact: bool,
    status: Status,
    mismatched_pixels: Option<u64>,
    mismatched_vs_f64: Option<u64>,
    pixel_iterations: Option<u64>,
    runs: usize,
    median_s: Option<f64>,
    mad_s: Option<f64>,
    min_s: Option<f64>,
    q1_s: Option<f64>,
    q3_s: Option<f64>,
    max_s: Option<f64>,
    first_call_s: Option<f64>,
    giter_per_s: Option<f64>,
    speedup: Option<f64>,
    rank: Option<usize>,
}

/// The results as CSV, one row per kernel, with a header row.
pub fn csv(report: &RaceReport, order: Order) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for k in report.ordered(order) {
        writer
            .serialize(CsvRow {
                name: &k.name,
                crate_name: &k.crate_name,
                precision: k.precision.as_str(),
                exact: k.exact,
                status: k.status,
                mismatched_pixels: k.mismatched_pixels,
                mismatched_vs_f64: k.mismatched_vs_f64,
                pixel_iterations: k.pixel_iterations,
                runs: k.runs,
                median_s: k.median_s,
                mad_s: k.mad_s,
                min_s: k.min_s,
                q1_s: k.q1_s,
                q3_s: k.q3_s,
                max_s: k.max_s,
                first_call_s: k.first_call_s,
                giter_per_s: k.giter_per_s,
                speedup: k.speedup,
                rank: k.rank,
            })
            .map_err(|e| e.to_string())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// The check column: the verdict in a few words.
pub fn check(k: &KernelResult) -> String {
    let versus_f64 = match (k.precision, k.mismatched_vs_f64) {
        (Precision::F32, Some(n)) => format!("; {} from f64", plural(n, "px differs", "px differ")),
        _ => String::new(),
    };
    let reason = k.reason.as_deref().unwrap_or("");
    match k.status {
        Status::Verified if k.exact => format!("exact{versus_f64}"),
        Status::Verified => {
            format!(
                "inexact: {}{versus_f64}",
                plural(k.mismatched_pixels.unwrap_or(0), "px differs", "px differ")
            )
        }
        Status::Wrong => format!("WRONG, not ranked: {reason}"),
        Status::Failed => format!("FAILED: {reason}"),
        Status::Skipped => format!("skipped: {reason}"),
        Status::Interrupted => "not raced (interrupted)".into(),
    }
}

/// The `± MAD` column: the spread as a percentage of the median, `!` when noisy.
pub fn spread(k: &KernelResult) -> String {
    match (k.mad_s, k.median_s) {
        (Some(mad), Some(median)) if median > 0.0 => {
            let percent = mad / median * 100.0;
            let digits = if percent < 1.0 { 2 } else { 1 };
            format!("{percent:.digits$}%{}", if k.noisy { " !" } else { "" })
        }
        _ => "—".into(),
    }
}

/// `1 thread`, `2 threads`, `1,000 px differ`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Seconds in the unit that suits them: `1.234 s`, `714.2 ms`, `85.3 µs`, `95.0 ns`.
pub fn duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else if seconds >= 1e-6 {
        format!("{:.1} µs", seconds * 1e6)
    } else {
        format!("{:.1} ns", seconds * 1e9)
    }
}

/// `205785865` → `205,785,865`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, digit) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_a_person_wrote_them() {
        assert_eq!(thousands(205_785_865), "205,785,865");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(duration(0.7142), "714.2 ms");
        assert_eq!(duration(1.2345), "1.234 s");
        assert_eq!(duration(0.0000853), "85.3 µs");
        assert_eq!(duration(0.000000095), "95.0 ns");
        assert_eq!(plural(1, "thread", "threads"), "1 thread");
        assert_eq!(plural(1234, "px differs", "px differ"), "1,234 px differ");
    }
}
