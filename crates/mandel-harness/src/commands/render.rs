//! `mandel render`: one frame (or one tile of it) with one kernel, into a `.npy` of counts
//! and/or a PNG.
//!
//! Files appear only when complete: they are written to temporary files beside their
//! destinations, which Ctrl-C and SIGTERM remove before the process exits (status 130). On a
//! terminal the frame is computed in bands of rows, with a progress bar on stderr; elsewhere in
//! one call. Bands keep the whole frame's coordinates, so the counts are the same either way.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mandel_core::{pixel_iterations, throughput, Availability, Frame, MandelKernel};

use super::{FrameArgs, DEFAULT_KERNEL};
use crate::output::{self, PendingFile};
use crate::registry::find_kernel;
use crate::report::thousands;
use crate::tiles::{sidecar_path, Sidecar, TileSpec};

// The subcommand's help is the doc comment of its `Command` variant.
#[allow(missing_docs)]
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct RenderArgs {
    /// The kernel to use (see `mandel list`); `reference` and `reference-f32` are the contract itself.
    #[arg(long, short, default_value = DEFAULT_KERNEL)]
    pub kernel: String,
    /// The frame (default: the classic scene).
    #[command(flatten)]
    pub frame: FrameArgs,
    /// Write the escape counts here as a NumPy .npy array (uint32, shape (height, width)).
    #[arg(long, value_name = "FILE.npy")]
    pub counts: Option<PathBuf>,
    /// Write a coloured picture here (PNG; the interior is black).
    #[arg(long, value_name = "FILE.png")]
    pub image: Option<PathBuf>,
    /// Compute only tile I of N (bands of whole rows, I from 1), for `mandel merge`: needs
    /// --counts, and writes what the part is beside it (FILE.npy.json).
    #[arg(long, value_name = "I/N")]
    pub tile: Option<TileSpec>,
}

/// Bands a frame is cut into for the progress bar (on a terminal only).
const PROGRESS_BANDS: u32 = 64;

/// Computes the frame, writes every output to a temporary file, then renames them all into place.
/// A report line that cannot be printed (say, stdout is a closed pipe) does not fail the run.
pub fn render(args: RenderArgs, out: &mut impl Write) -> Result<(), String> {
    let kernel = find_kernel(&args.kernel).map_err(|e| e.to_string())?;
    if let Availability::Unavailable(reason) = kernel.availability() {
        return Err(format!("kernel `{}` is unavailable here: {reason}", kernel.name()));
    }
    let (scene, whole) = args.frame.frame("classic")?;
    let label = if scene == "custom" { "custom bounds".to_string() } else { format!("scene {scene}") };
    whole.check_precision(kernel.precision()).map_err(|e| e.to_string())?;
    if let Some(image) = &args.image {
        if !is_png(image) {
            return Err(format!("--image {}: only PNG is written; name the file .png", image.display()));
        }
    }
    let (frame, tile) = match args.tile {
        None => (whole.clone(), None),
        Some(spec) => {
            if args.counts.is_none() {
                return Err("--tile needs --counts FILE.npy: the part `mandel merge` assembles".into());
            }
            let rows = spec.rows(whole.viewport().height())?;
            (whole.band(rows.clone()).map_err(|e| e.to_string())?, Some((spec, rows)))
        }
    };
    // Output files are opened before the work, so a bad path fails at once; they appear only
    // when complete, and an interrupt removes them.
    interrupt_removes_pending_files();
    let counts_file =
        args.counts.as_deref().map(PendingFile::create).transpose().map_err(|e| e.to_string())?;
    let sidecar_file = match (&tile, &args.counts) {
        (Some(_), Some(path)) => Some(PendingFile::create(&sidecar_path(path)).map_err(|e| e.to_string())?),
        _ => None,
    };
    let image_file = args.image.as_deref().map(PendingFile::create).transpose().map_err(|e| e.to_string())?;

    let mut counts = Vec::new();
    counts.try_reserve_exact(frame.pixel_count()).map_err(|_| {
        format!("cannot allocate {} MiB for the counts of this frame", (frame.pixel_count() * 4) >> 20)
    })?;
    counts.resize(frame.pixel_count(), 0);
    let started = Instant::now();
    compute_with_progress(kernel.as_ref(), &frame, &mut counts)?;
    let seconds = started.elapsed().as_secs_f64();

    let work = pixel_iterations(&counts, frame.max_iter());
    let width = frame.width();
    let height = frame.rows().len() as u32;
    let mut written = Vec::new();
    if let Some(file) = counts_file {
        written.push((
            file.write_npy(&counts, width, height).map_err(|e| e.to_string())?,
            format!("escape counts, uint32, shape ({height}, {width})"),
        ));
    }
    if let (Some(file), Some((spec, rows))) = (sidecar_file, &tile) {
        let sidecar =
            Sidecar::new(kernel.name(), kernel.precision().as_str(), &whole, *spec, rows.clone(), &counts);
        let text = serde_json::to_string_pretty(&sidecar).map_err(|e| e.to_string())? + "\n";
        written.push((
            file.write_bytes(text.as_bytes()).map_err(|e| e.to_string())?,
            format!("what tile {} of {} is, for `mandel merge`", spec.index, spec.count),
        ));
    }
    if let Some(file) = image_file {
        written.push((
            file.write_png(&counts, width, height, frame.max_iter()).map_err(|e| e.to_string())?,
            format!("{width}x{height} PNG"),
        ));
    }
    let what = match &tile {
        Some((spec, rows)) => {
            format!("tile {} of {} (rows {}..{}) of {label}", spec.index, spec.count, rows.start, rows.end)
        }
        None => label,
    };
    let mut report = format!(
        "{} on {what}: {whole}\n{} pixel-iterations in {seconds:.3} s",
        kernel.name(),
        thousands(work)
    );
    if seconds > 0.0 {
        report += &format!(" ({:.2} G iter/s)", throughput(work, seconds) / 1e9);
    }
    if written.is_empty() {
        report += "\nnothing written: give --counts FILE.npy and/or --image FILE.png to keep the result";
    }
    for line in output::commit_all(written).map_err(|e| e.to_string())? {
        report += &format!("\n{line}");
    }
    let _ = writeln!(out, "{report}");
    Ok(())
}

/// Ctrl-C and SIGTERM remove every file not yet complete, say so in one line, and exit 130.
fn interrupt_removes_pending_files() {
    let _ = ctrlc::set_handler(|| {
        output::remove_pending();
        eprintln!("\ninterrupted: the render was stopped and no file was written");
        std::process::exit(130);
    });
}

/// Computes `frame` into `out`: in bands of rows with a progress bar when stderr is a terminal,
/// in one call otherwise (bands cost a call each, and keep the whole frame's coordinates).
fn compute_with_progress(kernel: &dyn MandelKernel, frame: &Frame, out: &mut [u32]) -> Result<(), String> {
    let rows = frame.rows();
    if !std::io::stderr().is_terminal() || rows.len() < 2 {
        return kernel.compute(frame, out).map_err(|e| e.to_string());
    }
    let bar = ProgressBar::with_draw_target(Some(rows.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("  {prefix:.bold} [{bar:30}] {pos}/{len} rows [{elapsed}]")
    {
        bar.set_style(style);
    }
    bar.set_prefix(kernel.name().to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let per_band = (rows.len() as u32).div_ceil(PROGRESS_BANDS).max(1);
    let width = frame.width() as usize;
    let mut done = 0;
    for band in frame.bands(per_band) {
        let slots = &mut out[done * width..(done + band.rows().len()) * width];
        let computed = kernel.compute(&band, slots).map_err(|e| e.to_string());
        if computed.is_err() {
            bar.finish_and_clear();
            return computed;
        }
        done += band.rows().len();
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Whether a path ends in `.png` (any case): the only picture `render` and `merge` write.
pub fn is_png(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("png"))
}
