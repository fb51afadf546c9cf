//! `mandel race`: select, verify, time, rank, print, export; on rayon's global pool or on a pool
//! of each size (`--threads 1,2,4`, `--scaling`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use mandel_core::{Availability, Precision};

use super::{fail, FrameArgs};
use crate::exports::{publish, Exports, Format, Verdict};
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::race::{race, Contestant, RacePlan, References};
use crate::registry::{kernels_with_crates, select, Selection};
use crate::report::{self, FrameInfo, Order, RaceReport};
use crate::scaling::{default_pools, PoolRace, ScalingReport};

// The subcommand's help is the doc comment of its `Command` variant.
#[allow(missing_docs)]
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct RaceArgs {
    /// Race only kernels whose name contains one of these (e.g. `simd`).
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Race these kernels (exact names, comma-separated; the references may be named too).
    #[arg(long, short, value_delimiter = ',', value_name = "A,B")]
    pub kernels: Vec<String>,
    /// Leave these kernels out (exact names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub skip: Vec<String>,
    /// Print the kernels that would race, and stop.
    #[arg(long)]
    pub list: bool,
    /// Speedups are relative to this kernel, which races too.
    #[arg(long, default_value = "naive", value_name = "NAME")]
    pub baseline: String,
    /// The frame (default: the classic scene; `quick` with --quick).
    #[command(flatten)]
    pub frame: FrameArgs,
    /// A small scene and few runs: seconds, for CI and impatient people.
    #[arg(long)]
    pub quick: bool,
    /// Threads in rayon's pool, which parallel kernels use (default: RAYON_NUM_THREADS, or
    /// every logical core). Several (`--threads 1,2,4`) race the kernels that use threads on a
    /// pool of each size in turn and report their speedup and parallel efficiency.
    #[arg(long, value_name = "N[,N...]", value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Scaling: `--threads 1,2,4,…` up to this machine's logical cores. A scaling run has no
    /// baseline (each kernel is compared with itself on the smallest pool) and keeps rung order.
    #[arg(long, conflicts_with = "threads")]
    pub scaling: bool,
    /// Time at least this many runs per kernel (default 5; 3 with --quick).
    #[arg(long, value_name = "N")]
    pub min_runs: Option<usize>,
    /// Keep timing each kernel for at least this many seconds (default 1; 0.1 with --quick).
    #[arg(long, value_name = "SECONDS")]
    pub min_time: Option<f64>,
    /// Never time more than this many runs per kernel (default 100; 20 with --quick).
    #[arg(long, value_name = "N")]
    pub max_runs: Option<usize>,
    /// Untimed warm-up per kernel, in seconds, counting its first call (default 0.25; 0.02 with
    /// --quick).
    #[arg(long, value_name = "SECONDS")]
    pub warmup: Option<f64>,
    /// Order of the table.
    #[arg(long, value_enum, default_value_t = Order::Rung)]
    pub sort: Order,
    /// Write every sample and the provenance as JSON (the source of truth for docs and charts).
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
    /// Write the table as markdown, with a provenance caption.
    #[arg(long, value_name = "FILE.md")]
    pub markdown: Option<PathBuf>,
    /// Write one CSV row per kernel.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
    /// Draw the speedups as a bar chart (SVG, log axis).
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    /// Ranks of the MPI rung's job (sets MANDEL_MPI_RANKS; default 2, or the hostfile's slots).
    #[arg(long, value_name = "N")]
    pub mpi_ranks: Option<u32>,
    /// Hosts of the MPI rung's job, an `mpirun --hostfile` (sets MANDEL_MPI_HOSTFILE).
    #[arg(long, value_name = "FILE")]
    pub mpi_hostfile: Option<PathBuf>,
    /// Race the 2011 tutorial's Python programs too (python-pure, python-hoisted, python-numpy),
    /// run by this interpreter (default: the `python3` on PATH). They time themselves, start-up
    /// excluded, and run at most a few times each.
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "python3")]
    pub python: Option<PathBuf>,
}

/// The plan the arguments ask for: the standard or quick one, with any part overridden.
fn plan_from(args: &RaceArgs) -> Result<RacePlan, String> {
    let base = if args.quick { RacePlan::QUICK } else { RacePlan::STANDARD };
    let seconds = |value: Option<f64>, flag: &str, default: Duration| match value {
        None => Ok(default),
        Some(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        Some(s) => Err(format!("--{flag} must be between 0 and 86400 seconds, not {s}")),
    };
    let plan = RacePlan {
        warmup: seconds(args.warmup, "warmup", base.warmup)?,
        // An explicit --max-runs below the default minimum lowers the minimum with it.
        min_runs: args.min_runs.unwrap_or(base.min_runs.min(args.max_runs.unwrap_or(usize::MAX))),
        min_time: seconds(args.min_time, "min-time", base.min_time)?,
        max_runs: args.max_runs.unwrap_or(base.max_runs.max(args.min_runs.unwrap_or(0))),
    };
    if plan.min_runs == 0 {
        return Err("--min-runs must be at least 1: a median needs a run".into());
    }
    if plan.max_runs < plan.min_runs {
        return Err(format!("--max-runs ({}) is less than --min-runs ({})", plan.max_runs, plan.min_runs));
    }
    Ok(plan)
}

/// `mandel race`: select, verify, time, rank, print, export. Exit status: 0; 1 when a kernel is
/// wrong or failed (after printing everything) or the input is refused after parsing (an unknown
/// kernel, an export path that cannot be written); 2 when clap refuses the arguments themselves;
/// 130 after Ctrl-C.
pub fn race_command(args: RaceArgs, out: &mut impl Write) -> ExitCode {
    match run_race(args, out) {
        Ok(code) => code,
        Err(message) => fail(&message),
    }
}

/// The most threads `--threads` (or `RAYON_NUM_THREADS`) may ask for: beyond this, spawning
/// them exhausts the process's memory map long before it helps.
const MAX_THREADS: usize = 1024;

/// The pools a race runs on: rayon's global one, or one of each size for a scaling run.
enum Pools {
    /// The global pool, of this many threads if asked for (`None`: rayon's default).
    Global(Option<usize>),
    /// A pool of each size, smallest first, each racing the kernels that use threads.
    Scaling(Vec<usize>),
}

fn pools_from(args: &RaceArgs) -> Result<Pools, String> {
    if args.scaling {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
        if cores == 1 {
            return Err("--scaling needs more than one logical core; this machine has one".into());
        }
        return Ok(Pools::Scaling(default_pools(cores)));
    }
    if let Some(n) = args.threads.iter().find(|n| !(1..=MAX_THREADS).contains(*n)) {
        return Err(format!("--threads must be from 1 to {MAX_THREADS}, not {n}"));
    }
    let mut threads = args.threads.clone();
    threads.sort_unstable();
    threads.dedup();
    match threads[..] {
        [] => {
            // rayon would try to start this many threads with the global pool, and abort.
            let from_env =
                std::env::var("RAYON_NUM_THREADS").ok().and_then(|n| n.trim().parse::<usize>().ok());
            match from_env {
                Some(n) if n > MAX_THREADS => {
                    Err(format!("RAYON_NUM_THREADS must be at most {MAX_THREADS}, not {n}"))
                }
                _ => Ok(Pools::Global(None)),
            }
        }
        [n] => Ok(Pools::Global(Some(n))),
        _ => Ok(Pools::Scaling(threads)),
    }
}

fn run_race(args: RaceArgs, out: &mut impl Write) -> Result<ExitCode, String> {
    // The MPI rung reads its configuration when the kernels are made, below; this is the only
    // thread yet.
    if let Some(ranks) = args.mpi_ranks {
        std::env::set_var(kernel_mpi::ENV_RANKS, ranks.to_string());
    }
    if let Some(hostfile) = &args.mpi_hostfile {
        std::env::set_var(kernel_mpi::ENV_HOSTFILE, hostfile);
    }
    let pools = pools_from(&args)?;
    if let Pools::Global(Some(threads)) = pools {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| format!("cannot build a pool of {threads} threads: {e}"))?;
    }
    let (scene, frame) = args.frame.frame(if args.quick { "quick" } else { "classic" })?;
    let plan = plan_from(&args)?;
    let scaling = matches!(pools, Pools::Scaling(_));
    let selection = Selection {
        names: args.kernels.clone(),
        filters: args.filters.clone(),
        skip: args.skip.clone(),
        // A scaling run compares each kernel with itself on the smallest pool: no baseline.
        baseline: if scaling { String::new() } else { args.baseline.clone() },
    };
    let mut entered = Vec::new();
    if let Some(python) = &args.python {
        // Where the tutorial started: before every Rust rung.
        for row in crate::python::rows(python) {
            entered.push(("python/tutorial", Box::new(row) as Box<dyn mandel_core::MandelKernel>));
        }
    }
    entered.extend(kernels_with_crates());
    let chosen = select(entered, |k| k.name(), &selection).map_err(|e| {
        let asked_for_python =
            args.kernels.iter().chain(&args.filters).any(|name| name.starts_with("python"));
        if args.python.is_none() && asked_for_python {
            format!(
                "{e}; the tutorial's Python rows (python-pure, python-hoisted, python-numpy) need --python"
            )
        } else {
            e.to_string()
        }
    })?;
    let baseline_added = chosen.baseline_added;
    let mut contestants: Vec<Contestant> = chosen
        .kernels
        .into_iter()
        .map(|(crate_name, kernel)| Contestant { crate_name: crate_name.to_string(), kernel })
        .collect();
    if let Pools::Scaling(_) = pools {
        // Only kernels that use the pool scale with it; the others would take the same time
        // on every pool.
        contestants.retain(|c| c.kernel.uses_threads());
        if contestants.is_empty() {
            return Err(
                "a scaling run races the kernels that use threads (parallel-*), and none is selected".into(),
            );
        }
    }
    if args.list {
        for c in &contestants {
            let k = &c.kernel;
            let availability = match k.availability() {
                Availability::Ready => "ready".to_string(),
                Availability::Unavailable(reason) => format!("unavailable: {reason}"),
            };
            let role = if k.name() == args.baseline { ", baseline" } else { "" };
            let _ = writeln!(
                out,
                "{} ({}, {}, {}{role}; {availability})",
                k.name(),
                c.crate_name,
                k.precision(),
                if k.is_exact() { "exact" } else { "inexact" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let exports = Exports::new([
        (args.json.clone(), Format::Json),
        (args.markdown.clone(), Format::Markdown),
        (args.csv.clone(), Format::Csv),
        (args.chart.clone(), Format::Chart),
    ])?;
    if let Pools::Scaling(_) = pools {
        if exports.wants(Format::Csv) || exports.wants(Format::Chart) {
            return Err("a scaling run exports --json and --markdown only, not --csv or --chart".into());
        }
    } else if exports.wants_chart() {
        // The chart draws speedups over the baseline: find out now, not after the race, if
        // the baseline cannot be timed.
        let baseline = contestants.iter().find(|c| c.kernel.name() == args.baseline).map(|c| &c.kernel);
        let Some(baseline) = baseline else {
            return Err(format!("--chart draws speedups over `{}`, which --skip leaves out", args.baseline));
        };
        if let Availability::Unavailable(reason) = baseline.availability() {
            return Err(format!(
                "--chart needs the baseline `{}`, which cannot run here: {reason}",
                args.baseline
            ));
        }
        frame.check_precision(baseline.precision()).map_err(|e| {
            format!("--chart needs the baseline `{}`, which cannot run this frame: {e}", args.baseline)
        })?;
    }

    // Ctrl-C (or a termination signal) stops the race between runs and keeps what was
    // measured; a second one quits at once (no export has a file open until the race is over).
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: finishing the current run, then printing the results so far (Ctrl-C again quits)"
        );
    });

    let progress = Progress::new();
    let mut observe = |event: crate::race::Event<'_>| progress.observe(event);
    let with_f32 = contestants.iter().any(|c| c.kernel.precision() == Precision::F32);
    let references = References::compute(&frame, with_f32, &mut observe).map_err(|e| e.to_string())?;
    if stop.load(Ordering::SeqCst) {
        progress.finish();
        eprintln!("interrupted before any kernel raced: nothing to report, no file written");
        return Ok(ExitCode::from(130));
    }
    let mut devices: Vec<String> = contestants.iter().filter_map(|c| c.kernel.device()).collect();
    devices.dedup();
    let provenance = match &pools {
        // The global pool is never used in a scaling run: do not start it.
        Pools::Scaling(sizes) => {
            Provenance::collect_for_pool(devices, sizes.iter().copied().max().unwrap_or(1))
        }
        Pools::Global(_) => Provenance::collect(devices),
    };
    let frame_info = FrameInfo::new(&scene, &frame, references.pixel_iterations);

    let verdict = match pools {
        Pools::Global(_) => {
            progress.suspend(|| {
                let _ = writeln!(out, "{}", report::header(&provenance, &frame_info, &plan));
                if baseline_added {
                    let _ = writeln!(
                        out,
                        "  baseline {} races too: speedups are measured against it",
                        args.baseline
                    );
                }
                let _ = writeln!(out);
                let _ = out.flush();
            });
            let outcome = race(&contestants, &frame, &references, &plan, &args.baseline, &stop, &mut observe);
            progress.finish();
            let report = RaceReport::new(frame_info, plan, &args.baseline, outcome, provenance);
            publish(&report, &exports, args.sort, out)
        }
        Pools::Scaling(pools) => {
            progress.suspend(|| {
                let _ =
                    writeln!(out, "{}", report::header_for_pools(&provenance, &frame_info, &plan, &pools));
                let names: Vec<&str> = contestants.iter().map(|c| c.kernel.name()).collect();
                let _ = writeln!(
                    out,
                    "  scaling  {}, each on every pool: speedup and efficiency against its run on {}\n",
                    names.join(", "),
                    report::plural(pools[0] as u64, "thread", "threads")
                );
                let _ = out.flush();
            });
            let mut races = Vec::new();
            for &threads in &pools {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(|e| format!("cannot build a pool of {threads} threads: {e}"))?;
                // The whole race runs inside the pool, so every kernel's parallel work uses it.
                let outcome =
                    pool.install(|| race(&contestants, &frame, &references, &plan, "", &stop, &mut observe));
                races.push(PoolRace { threads, kernels: outcome.results });
            }
            progress.finish();
            let report = ScalingReport::new(frame_info, plan, provenance, races, stop.load(Ordering::SeqCst));
            publish(&report, &exports, args.sort, out)
        }
    };
    let _ = out.flush();
    match verdict {
        Verdict::Broken(message) => Err(message),
        Verdict::Interrupted => Ok(ExitCode::from(130)),
        Verdict::Clean => Ok(ExitCode::SUCCESS),
    }
}
