//! The `mandel` command line: the arguments of every subcommand, and the dispatch to the module
//! that runs it. `src/main.rs` parses the arguments and calls [`run`]; each subcommand is a
//! module of its own (`list`, `render`, `merge`, `race`).

pub mod list;
pub mod merge;
pub mod race;
pub mod render;

use std::process::ExitCode;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};
use mandel_core::{Frame, Scene, Viewport};

/// The kernel `render` uses when none is named.
pub const DEFAULT_KERNEL: &str = "hoisted";

/// Mandelbrot kernels from naive to GPU, each proven against the reference.
#[derive(Parser)]
#[command(name = "mandel", version, arg_required_else_help = true)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands (their doc comments are their help).
#[derive(Subcommand)]
pub enum Command {
    /// List every kernel (description, precision, exactness, availability here) and every scene.
    List,
    /// Compute one frame with one kernel; write its counts (.npy) and/or a picture (.png).
    Render(render::RenderArgs),
    /// Verify every kernel against the reference, then time them: median, spread, speedup.
    Race(Box<race::RaceArgs>),
    /// Assemble the tiles of a frame (`render --tile I/N`) into the whole frame's counts or picture.
    Merge(merge::MergeArgs),
    /// The program every rank of the MPI rung's job runs (started by `mpirun`, not by hand).
    #[command(hide = true)]
    MpiWorker,
}

/// What to compute: a scene, or bounds, with optional overrides.
#[derive(Args)]
pub struct FrameArgs {
    /// A named scene (see `mandel list`); --size and --max-iter override its own.
    #[arg(long, conflicts_with = "bounds")]
    pub scene: Option<String>,
    /// The rectangle to compute instead of a scene's.
    #[arg(long, value_name = "X_MIN,X_MAX,Y_MIN,Y_MAX", allow_hyphen_values = true)]
    pub bounds: Option<Bounds>,
    /// Pixels, as WIDTHxHEIGHT (default: the scene's, or 1000x1000 with --bounds).
    #[arg(long, value_name = "WxH")]
    pub size: Option<Size>,
    /// Iteration limit (default: the scene's, or 1000 with --bounds).
    #[arg(long, value_name = "N")]
    pub max_iter: Option<u32>,
}

/// `X_MIN,X_MAX,Y_MIN,Y_MAX`.
#[derive(Clone, Copy, Debug)]
pub struct Bounds(pub [f64; 4]);

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
pub struct Size(pub u32, pub u32);

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

impl FrameArgs {
    /// The frame asked for, and the name of its scene (`custom` for --bounds): a scene's
    /// (`default_scene` if none is named), with any of its parts overridden.
    pub fn frame(&self, default_scene: &str) -> Result<(String, Frame), String> {
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

/// Runs the subcommand `cli` asks for.
pub fn run(cli: Cli) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let result = match cli.command {
        // A reader that stops early (`mandel list | head -1`) is not an error.
        Command::List => match list::list(&mut out) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
            _ => Ok(()),
        },
        Command::Render(args) => render::render(args, &mut out),
        Command::Merge(args) => merge::merge(args, &mut out),
        Command::Race(args) => return race::race_command(*args, &mut out),
        Command::MpiWorker => return mpi_worker(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

#[cfg(feature = "mpi")]
fn mpi_worker() -> ExitCode {
    kernel_mpi::worker::main()
}

#[cfg(not(feature = "mpi"))]
fn mpi_worker() -> ExitCode {
    fail(&format!("this mandel was built without MPI: {}", kernel_mpi::INSTALL_HINT))
}

/// A runtime error: one line on stderr, exit status 1.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Help and version go out as clap writes them; a usage error becomes one line.
pub fn usage_error(err: clap::Error) -> ExitCode {
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
