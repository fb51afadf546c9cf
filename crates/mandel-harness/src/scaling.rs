//! Scaling: the kernels that use rayon's threads raced on pools of several sizes, one after the
//! other, with each kernel's speedup and parallel efficiency against its run on the smallest
//! pool (one thread, normally).
//!
//! Efficiency is `speedup / (threads / smallest pool)`: 100% means every added thread did as
//! much as the first. Below 100% is the cost of imbalance, shared caches and memory bandwidth,
//! and of threads that share a core (SMT, or more threads than cores).

use std::fmt::Write as _;

use mandel_core::Precision;
use serde::{Deserialize, Serialize};

use crate::exports::{Format, Publishable};
use crate::provenance::Provenance;
use crate::race::{KernelResult, RacePlan, Status, NOISY_SPREAD};
use crate::report::{aligned, caption, check, duration, plural, spread, FrameInfo, Order, SCHEMA_VERSION};

/// A scaling run: the source of truth for a scaling table (its JSON export is exactly this).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingReport {
    /// `"scaling"`: what this JSON is (a race's JSON has `kernels` where this has `races`).
    pub kind: String,
    /// The JSON layout's version (the race's [`SCHEMA_VERSION`]).
    pub schema: u32,
    /// The machine and the build.
    pub provenance: Provenance,
    /// What was computed.
    pub frame: FrameInfo,
    /// How long and how often each kernel was timed on each pool.
    pub plan: RacePlan,
    /// Whether Ctrl-C cut it short.
    pub interrupted: bool,
    /// One race per pool size, smallest first, with every sample.
    pub races: Vec<PoolRace>,
    /// The table: one row per kernel and pool size, kernel by kernel.
    pub rows: Vec<ScalingRow>,
}

/// The race on one pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolRace {
    /// Threads in the pool.
    pub threads: usize,
    /// One result per kernel, in rung order.
    pub kernels: Vec<KernelResult>,
}

/// One kernel on one pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingRow {
    /// The kernel.
    pub kernel: String,
    /// Its precision.
    #[serde(with = "crate::race::precision")]
    pub precision: Precision,
    /// Threads in the pool.
    pub threads: usize,
    /// How it went.
    pub status: Status,
    /// Median time per frame.
    pub median_s: Option<f64>,
    /// Its median absolute deviation.
    pub mad_s: Option<f64>,
    /// Pixel-iterations per second, in billions.
    pub giter_per_s: Option<f64>,
    /// The kernel's median on the smallest pool over this one.
    pub speedup: Option<f64>,
    /// `speedup / (threads / smallest pool)`.
    pub efficiency: Option<f64>,
}

impl ScalingReport {
    /// Assembles the report from one race per pool (smallest pool first).
    pub fn new(
        frame: FrameInfo,
        plan: RacePlan,
        provenance: Provenance,
        races: Vec<PoolRace>,
        interrupted: bool,
    ) -> ScalingReport {
        let mut rows = Vec::new();
        if let Some(smallest) = races.first() {
            for on_smallest in &smallest.kernels {
                let smallest_median = on_smallest.median_s.filter(|_| on_smallest.status == Status::Verified);
                for race in &races {
                    let Some(k) = race.kernels.iter().find(|k| k.name == on_smallest.name) else { continue };
                    let speedup = smallest_median
                        .zip(k.median_s)
                        .map(|(smallest, median)| smallest / median.max(f64::MIN_POSITIVE));
                    let scale = race.threads as f64 / smallest.threads as f64;
                    rows.push(ScalingRow {
                        kernel: k.name.clone(),
                        precision: k.precision,
                        threads: race.threads,
                        status: k.status,
                        median_s: k.median_s,
                        mad_s: k.mad_s,
                        giter_per_s: k.giter_per_s,
                        speedup,
                        efficiency: speedup.map(|s| s / scale),
                    });
                }
            }
        }
        ScalingReport {
            kind: "scaling".into(),
            schema: SCHEMA_VERSION,
            provenance,
            frame,
            plan,
            interrupted,
            races,
            rows,
        }
    }

    /// The pool sizes raced, smallest first.
    pub fn pools(&self) -> Vec<usize> {
        self.races.iter().map(|race| race.threads).collect()
    }

    fn result(&self, row: &ScalingRow) -> Option<&KernelResult> {
        let race = self.races.iter().find(|race| race.threads == row.threads)?;
        race.kernels.iter().find(|k| k.name == row.kernel)
    }

    fn speedup_head(&self) -> String {
        let smallest = self.races.first().map_or(1, |race| race.threads);
        format!("vs {}", plural(smallest as u64, "thread", "threads"))
    }

    /// The cells of one row: threads, median, spread, G iter/s, speedup, efficiency, check.
    fn cells(&self, row: &ScalingRow) -> Vec<String> {
        let result = self.result(row);
        vec![
            row.threads.to_string(),
            row.median_s.map_or("—".into(), duration),
            result.map_or("—".into(), spread),
            row.giter_per_s.map_or("—".into(), |g| format!("{g:.2}")),
            row.speedup.map_or("—".into(), |s| format!("{s:.2}×")),
            row.efficiency.map_or("—".into(), |e| format!("{:.0}%", e * 100.0)),
            result.map_or("—".into(), check),
        ]
    }
}

impl Publishable for ScalingReport {
    fn table(&self, _order: Order) -> String {
        let speedup_head = self.speedup_head();
        let head = ["kernel", "threads", "median", "± MAD", "G iter/s", &speedup_head, "efficiency", "check"];
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| std::iter::once(row.kernel.clone()).chain(self.cells(row)).collect())
            .collect();
        aligned(&head, &rows, |column| (1..head.len() - 1).contains(&column))
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let cores = self.provenance.logical_cores;
        if let Some(&largest) = self.pools().iter().max() {
            if largest > cores {
                notes.push(format!(
                    "note: pools larger than this machine's {} share cores; their efficiency \
                     measures the sharing, not the kernel.",
                    plural(cores as u64, "logical core", "logical cores")
                ));
            }
        }
        for race in &self.races {
            for k in race.kernels.iter().filter(|k| k.noisy) {
                let relative = k.mad_s.zip(k.median_s).map_or(0.0, |(mad, median)| mad / median);
                notes.push(format!(
                    "warning: {} on {} varied by {:.1}% (MAD/median, more than {}%): rerun before \
                     trusting small differences.",
                    k.name,
                    plural(race.threads as u64, "thread", "threads"),
                    relative * 100.0,
                    NOISY_SPREAD * 100.0
                ));
            }
        }
        if self.interrupted {
            notes.push("interrupted: these are the results measured before Ctrl-C.".into());
        }
        notes
    }

    fn render(&self, format: Format, _order: Order) -> Result<String, String> {
        match format {
            Format::Json => {
                serde_json::to_string_pretty(self).map(|json| json + "\n").map_err(|e| e.to_string())
            }
            Format::Markdown => Ok(self.markdown()),
            Format::Csv | Format::Chart => {
                Err("a scaling run exports JSON and markdown only; race one pool size for CSV or a chart"
                    .into())
            }
        }
    }

    fn broken(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for race in &self.races {
            for k in race.kernels.iter().filter(|k| matches!(k.status, Status::Wrong | Status::Failed)) {
                names.push(format!("{} on {}", k.name, plural(race.threads as u64, "thread", "threads")));
            }
        }
        names
    }

    fn interrupted(&self) -> bool {
        self.interrupted
    }

    fn measured(&self) -> bool {
        self.races.iter().flat_map(|race| &race.kernels).any(|k| !k.samples_s.is_empty())
    }
}

impl ScalingReport {
    /// A markdown table to paste into docs, with a caption line carrying the provenance.
    pub fn markdown(&self) -> String {
        let p = &self.provenance;
        let f = &self.frame;
        let pools: Vec<String> = self.pools().iter().map(usize::to_string).collect();
        let machine = format!(
            "{}, pools of {} threads",
            plural(p.logical_cores as u64, "logical core", "logical cores"),
            pools.join(", ")
        );
        let mut out = caption(p, f, &machine);
        let _ = writeln!(
            out,
            "| kernel | threads | median | ± MAD | G iter/s | {} | efficiency | check |",
            self.speedup_head()
        );
        out.push_str("|:--|--:|--:|--:|--:|--:|--:|:--|\n");
        for row in &self.rows {
            let cells = self.cells(row);
            let last = cells.len() - 1;
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                row.kernel,
                cells[..last].join(" | "),
                cells[last].replace('|', "\\|")
            );
        }
        out
    }
}

/// `1, 2, 4, …` up to `cores`, and `cores` itself: the default pool sizes of `--scaling`.
pub fn default_pools(cores: usize) -> Vec<usize> {
    let mut pools: Vec<usize> =
        std::iter::successors(Some(1usize), |n| n.checked_mul(2)).take_while(|&n| n < cores).collect();
    pools.push(cores.max(1));
    pools
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pools_double_up_to_the_core_count() {
        assert_eq!(default_pools(1), [1]);
        assert_eq!(default_pools(2), [1, 2]);
        assert_eq!(default_pools(6), [1, 2, 4, 6]);
        assert_eq!(default_pools(64), [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(default_pools(0), [1]);
    }
}
