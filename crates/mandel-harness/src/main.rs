//! `mandel`: list the discovered kernels, render frames with any of them, and race them.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use mandel_core::{pixel_iterations, throughput, Availability, Frame, Precision, Scene, Viewport, SCENES};
use mandel_harness::exports::{publish, Exports, Format, Verdict};
use mandel_harness::output::PendingFile;
use mandel_harness::progress::Progress;
use mandel_harness::provenance::Provenance;
use mandel_harness::race::{race, Contestant, RacePlan, References};
use mandel_harness::registry::{all_kernels, find_kernel, kernels_with_crates, select, Selection};
use mandel_harness::report::{self, thousands, FrameInfo, Order, RaceReport};
use mandel_harness::scaling::{default_pools, PoolRace, ScalingReport};

/// The kernel `render` uses when none is named.
const DEFAULT_KERNEL: &str = "hoisted";

/// Mandelbrot kernels from naive to GPU, each proven against the reference.
#[derive(Parser)]
#[command(name = "mandel", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every kernel (description, precision, exactness, availability here) and every scene.
    List,
    /// Compute one frame with one kernel; write its counts (.npy) and/or a picture (.png).
    Render(RenderArgs),
    /// Verify every kernel against the reference, then time them: median, spread, speedup.
    Race(Box<RaceArgs>),
}

/// What to compute: a scene, or bounds, with optional overrides.
#[derive(Args)]
struct FrameArgs {
    /// A named scene (see `mandel list`); --size and --max-iter override its own.
    #[arg(long, conflicts_with = "bounds")]
    scene: Option<String>,
    /// The rectangle to compute instead of a scene's.
    #[arg(long, value_name = "X_MIN,X_MAX,Y_MIN,Y_MAX", allow_hyphen_values = true)]
    bounds: Option<Bounds>,
    /// Pixels, as WIDTHxHEIGHT (default: the scene's, or 1000x1000 with --bounds).
    #[arg(long, value_name = "WxH")]
    size: Option<Size>,
    /// Iteration limit (default: the scene's, or 1000 with --bounds).
    #[arg(long, value_name = "N")]
    max_iter: Option<u32>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct RenderArgs {
    /// The kernel to use (see `mandel list`); `reference` and `reference-f32` are the contract itself.
    #[arg(long, short, default_value = DEFAULT_KERNEL)]
    kernel: String,
    /// The frame (default: the classic scene).
    #[command(flatten)]
    frame: FrameArgs,
    /// Write the escape counts here as a NumPy .npy array (uint32, shape (height, width)).
    #[arg(long, value_name = "FILE.npy")]
    counts: Option<PathBuf>,
    /// Write a coloured picture here (PNG; the interior is black).
    #[arg(long, value_name = "FILE.png")]
    image: Option<PathBuf>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct RaceArgs {
    /// Race only kernels whose name contains one of these (e.g. `simd`).
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
    /// Race these kernels (exact names, comma-separated; the references may be named too).
    #[arg(long, short, value_delimiter = ',', value_name = "A,B")]
    kernels: Vec<String>,
    /// Leave these kernels out (exact names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    skip: Vec<String>,
    /// Print the kernels that would race, and stop.
    #[arg(long)]
    list: bool,
    /// Speedups are relative to this kernel, which races too.
    #[arg(long, default_value = "naive", value_name = "NAME")]
    baseline: String,
    /// The frame (default: the classic scene; `quick` with --quick).
    #[command(flatten)]
    frame: FrameArgs,
    /// A small scene and few runs: seconds, for CI and impatient people.
    #[arg(long)]
    quick: bool,
    /// Threads in rayon's pool, which parallel kernels use (default: RAYON_NUM_THREADS, or
    /// every logical core). Several (`--threads 1,2,4`) race the kernels that use threads on a
    /// pool of each size in turn and report their speedup and parallel efficiency.
    #[arg(long, value_name = "N[,N...]", value_delimiter = ',')]
    threads: Vec<usize>,
    /// Scaling: `--threads 1,2,4,…` up to this machine's logical cores. A scaling run has no
    /// baseline (each kernel is compared with itself on the smallest pool) and keeps rung order.
    #[arg(long, conflicts_with = "threads")]
    scaling: bool,
    /// Time at least this many runs per kernel (default 5; 3 with --quick).
    #[arg(long, value_name = "N")]
    min_runs: Option<usize>,
    /// Keep timing each kernel for at least this many seconds (default 1; 0.1 with --quick).
    #[arg(long, value_name = "SECONDS")]
    min_time: Option<f64>,
    /// Never time more than this many runs per kernel (default 100; 20 with --quick).
    #[arg(long, value_name = "N")]
    max_runs: Option<usize>,
    /// Untimed warm-up per kernel, in seconds, counting its first call (default 0.25; 0.02 with
    /// --quick).
    #[arg(long, value_name = "SECONDS")]
    warmup: Option<f64>,
    /// Order of the table.
    #[arg(long, value_enum, default_value_t = Order::Rung)]
    sort: Order,
    /// Write every sample and the provenance as JSON (the source of truth for docs and charts).
    #[arg(long, value_name = "FILE.json")]
    json: Option<PathBuf>,
    /// Write the table as markdown, with a provenance caption.
    #[arg(long, value_name = "FILE.md")]
    markdown: Option<PathBuf>,
    /// Write one CSV row per kernel.
    #[arg(long, value_name = "FILE.csv")]
    csv: Option<PathBuf>,
    /// Draw the speedups as a bar chart (SVG, log axis).
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
}

/// `X_MIN,X_MAX,Y_MIN,Y_MAX`.
#[derive(Clone, Copy, Debug)]
struct Bounds([f64; 4]);

impl FromStr for Bounds {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let values: Vec<f64> = text
            .split(',')
            .map(|part| part.trim().parse::<f64>().map_err(|_| format!("`{}` is not a number", part.trim())))
            .collect::<Result<_, _>>()?;
        let values: [f64; 4] =
            values.try_into().map_err(|_| "expected four numbers: X_MIN,X_MAX,Y_MIN,Y_MAX".to_string())?;
        Ok(Bounds(values))
    }
}

/// `WIDTHxHEIGHT`.
#[derive(Clone, Copy, Debug)]
struct Size(u32, u32);

impl FromStr for Size {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (width, height) = text.split_once(['x', 'X']).ok_or("expected WIDTHxHEIGHT, like 1000x1000")?;
        let parse = |part: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{part}` is not a whole number from 0 to {}", u32::MAX))
        };
        Ok(Size(parse(width)?, parse(height)?))
    }
}

fn main() -> ExitCode {
    // Mesa's device-select Vulkan layer prints "XDG_RUNTIME_DIR is invalid" on every start of a
    // GPU kernel outside a desktop session; wgpu chooses among the adapters itself, so the layer
    // is not needed. Set here, first, while the process has a single thread.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    let mut out = io::stdout().lock();
    let result = match cli.command {
        // A reader that stops early (`mandel list | head -1`) is not an error.
        Command::List => match list(&mut out) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.to_string()),
            _ => Ok(()),
        },
        Command::Render(args) => render(args, &mut out),
        Command::Race(args) => return race_command(*args, &mut out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// A runtime error: one line on stderr, exit status 1.
fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Help and version go out as clap writes them; a usage error becomes one line.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return if err.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
    }
    let rendered = err.render().to_string();
    let line = rendered
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty() && !line.starts_with("Usage:") && !line.starts_with("For more information")
        })
        .collect::<Vec<_>>()
        .join("; ");
    eprintln!("{line} (see `mandel --help`)");
    ExitCode::from(2)
}

fn list(out: &mut impl Write) -> io::Result<()> {
    let kernels = all_kernels();
    let width = kernels.iter().map(|k| k.name().len()).max().unwrap_or(0).max("KERNEL".len());
    writeln!(out, "{:width$}  PRECISION  EXACT  AVAILABLE  DESCRIPTION", "KERNEL")?;
    for kernel in &kernels {
        let available = match kernel.availability() {
            Availability::Ready => "yes".to_string(),
            Availability::Unavailable(reason) => format!("no ({reason})"),
        };
        writeln!(
            out,
            "{:width$}  {:9}  {:5}  {:9}  {}",
            kernel.name(),
            kernel.precision().as_str(),
            if kernel.is_exact() { "yes" } else { "no" },
            available,
            kernel.description()
        )?;
    }
    // Which accelerator each kernel that has one runs on (the GPU kernels: adapter, backend, driver).
    let mut devices: Vec<(String, Vec<&str>)> = Vec::new();
    for kernel in &kernels {
        let Some(device) = kernel.device() else { continue };
        match devices.iter_mut().find(|(known, _)| *known == device) {
            Some((_, users)) => users.push(kernel.name()),
            None => devices.push((device, vec![kernel.name()])),
        }
    }
    if !devices.is_empty() {
        writeln!(out)?;
        writeln!(out, "DEVICE")?;
        for (device, users) in devices {
            writeln!(out, "{} on {device}", users.join(", "))?;
        }
    }
    writeln!(out)?;
    let width = SCENES.iter().map(|s| s.name().len()).max().unwrap_or(0).max("SCENE".len());
    writeln!(out, "{:width$}  DESCRIPTION", "SCENE")?;
    for scene in SCENES {
        writeln!(out, "{:width$}  {}", scene.name(), scene.description())?;
    }
    Ok(())
}

impl FrameArgs {
    /// The frame asked for, and the name of its scene (`custom` for --bounds): a scene's
    /// (`default_scene` if none is named), with any of its parts overridden.
    fn frame(&self, default_scene: &str) -> Result<(String, Frame), String> {
        let (name, bounds, size, max_iter) = match (&self.scene, self.bounds) {
            (_, Some(Bounds(bounds))) => ("custom".to_string(), bounds, (1000, 1000), 1000),
            (scene, None) => {
                let name = scene.as_deref().unwrap_or(default_scene);
                let scene = Scene::by_name(name)
                    .ok_or_else(|| format!("unknown scene `{name}`; the scenes are: {}", Scene::names()))?;
                (scene.name().to_string(), scene.bounds(), scene.size(), scene.max_iter())
            }
        };
        let Size(width, height) = self.size.unwrap_or(Size(size.0, size.1));
        let [x_min, x_max, y_min, y_max] = bounds;
        let viewport =
            Viewport::from_bounds(x_min, x_max, y_min, y_max, width, height).map_err(|e| e.to_string())?;
        Ok((name, Frame::new(viewport, self.max_iter.unwrap_or(max_iter))))
    }
}

/// Computes the frame, writes every output to a temporary file, then renames them all into place.
/// A report line that cannot be printed (say, stdout is a closed pipe) does not fail the run.
fn render(args: RenderArgs, out: &mut impl Write) -> Result<(), String> {
    let kernel = find_kernel(&args.kernel).map_err(|e| e.to_string())?;
    if let Availability::Unavailable(reason) = kernel.availability() {
        return Err(format!("kernel `{}` is unavailable here: {reason}", kernel.name()));
    }
    let (scene, frame) = args.frame.frame("classic")?;
    let label = if scene == "custom" { "custom bounds".to_string() } else { format!("scene {scene}") };
    frame.check_precision(kernel.precision()).map_err(|e| e.to_string())?;
    // Output files are opened before the work, so a bad path fails at once; they appear only
    // when complete.
    let counts_file =
        args.counts.as_deref().map(PendingFile::create).transpose().map_err(|e| e.to_string())?;
    let image_file = args.image.as_deref().map(PendingFile::create).transpose().map_err(|e| e.to_string())?;

    let mut counts = Vec::new();
    counts.try_reserve_exact(frame.pixel_count()).map_err(|_| {
        format!("cannot allocate {} MiB for the counts of this frame", (frame.pixel_count() * 4) >> 20)
    })?;
    counts.resize(frame.pixel_count(), 0);
    let started = Instant::now();
    kernel.compute(&frame, &mut counts).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();

    let work = pixel_iterations(&counts, frame.max_iter());
    let (width, height) = (frame.width(), frame.viewport().height());
    let mut written = Vec::new();
    if let Some(file) = counts_file {
        written.push((
            file.write_npy(&counts, width, height).map_err(|e| e.to_string())?,
            format!("escape counts, uint32, shape ({height}, {width})"),
        ));
    }
    if let Some(file) = image_file {
        written.push((
            file.write_png(&counts, width, height, frame.max_iter()).map_err(|e| e.to_string())?,
            format!("{width}x{height} PNG"),
        ));
    }
    let mut report = format!(
        "{} on {label}: {frame}\n{} pixel-iterations in {seconds:.3} s",
        kernel.name(),
        thousands(work)
    );
    if seconds > 0.0 {
        report += &format!(" ({:.2} G iter/s)", throughput(work, seconds) / 1e9);
    }
    for (file, what) in written {
        let path = file.path().display().to_string();
        file.commit().map_err(|e| e.to_string())?;
        report += &format!("\nwrote {path}: {what}");
    }
    let _ = writeln!(out, "{report}");
    Ok(())
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
fn race_command(args: RaceArgs, out: &mut impl Write) -> ExitCode {
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
    let chosen = select(kernels_with_crates(), |k| k.name(), &selection).map_err(|e| e.to_string())?;
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
    let mut observe = |event: mandel_harness::race::Event<'_>| progress.observe(event);
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
