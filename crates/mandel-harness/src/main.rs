//! `mandel`: list the discovered kernels and render frames with any of them.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use mandel_core::{pixel_iterations, throughput, Availability, Frame, Scene, Viewport, SCENES};
use mandel_harness::output::PendingFile;
use mandel_harness::registry::{all_kernels, find_kernel};

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
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct RenderArgs {
    /// The kernel to use (see `mandel list`); `reference` and `reference-f32` are the contract itself.
    #[arg(long, short, default_value = DEFAULT_KERNEL)]
    kernel: String,
    /// A named scene (default: classic); --size and --max-iter override its own.
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
    /// Write the escape counts here as a NumPy .npy array (uint32, shape (height, width)).
    #[arg(long, value_name = "FILE.npy")]
    counts: Option<PathBuf>,
    /// Write a coloured picture here (PNG; the interior is black).
    #[arg(long, value_name = "FILE.png")]
    image: Option<PathBuf>,
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
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
    writeln!(out)?;
    let width = SCENES.iter().map(|s| s.name().len()).max().unwrap_or(0).max("SCENE".len());
    writeln!(out, "{:width$}  DESCRIPTION", "SCENE")?;
    for scene in SCENES {
        writeln!(out, "{:width$}  {}", scene.name(), scene.description())?;
    }
    Ok(())
}

/// The frame the arguments ask for: a scene's, with any of its parts overridden.
fn frame_from(args: &RenderArgs) -> Result<(String, Frame), String> {
    let (label, bounds, size, max_iter) = match (&args.scene, args.bounds) {
        (_, Some(Bounds(bounds))) => ("custom bounds".to_string(), bounds, (1000, 1000), 1000),
        (scene, None) => {
            let name = scene.as_deref().unwrap_or("classic");
            let scene = Scene::by_name(name)
                .ok_or_else(|| format!("unknown scene `{name}`; the scenes are: {}", Scene::names()))?;
            (format!("scene {}", scene.name()), scene.bounds(), scene.size(), scene.max_iter())
        }
    };
    let Size(width, height) = args.size.unwrap_or(Size(size.0, size.1));
    let [x_min, x_max, y_min, y_max] = bounds;
    let viewport =
        Viewport::from_bounds(x_min, x_max, y_min, y_max, width, height).map_err(|e| e.to_string())?;
    Ok((label, Frame::new(viewport, args.max_iter.unwrap_or(max_iter))))
}

/// Computes the frame, writes every output to a temporary file, then renames them all into place.
/// A report line that cannot be printed (say, stdout is a closed pipe) does not fail the run.
fn render(args: RenderArgs, out: &mut impl Write) -> Result<(), String> {
    let kernel = find_kernel(&args.kernel).map_err(|e| e.to_string())?;
    if let Availability::Unavailable(reason) = kernel.availability() {
        return Err(format!("kernel `{}` is unavailable here: {reason}", kernel.name()));
    }
    let (label, frame) = frame_from(&args)?;
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

/// `205785865` → `205,785,865`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, digit) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
