//! `mandel render`: one frame with one kernel, into a `.npy` of counts and/or a PNG.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use mandel_core::{pixel_iterations, throughput, Availability};

use super::{FrameArgs, DEFAULT_KERNEL};
use crate::output::PendingFile;
use crate::registry::find_kernel;
use crate::report::thousands;

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
}

/// Computes the frame, writes every output to a temporary file, then renames them all into place.
/// A report line that cannot be printed (say, stdout is a closed pipe) does not fail the run.
pub fn render(args: RenderArgs, out: &mut impl Write) -> Result<(), String> {
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
