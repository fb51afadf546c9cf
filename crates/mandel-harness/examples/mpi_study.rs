//! What distribution costs: the MPI rung against the parallel rung on the same machine
//! (`just mpi-study [scaling|large|transfer] [--json FILE]`; needs the `mpi` feature and the
//! `mandel` binary built with it, which the recipe builds first).
//!
//! - `scaling` (the default): the classic frame; `parallel-simd` on every core, `mpi-simd` on
//!   1, 2 and 4 ranks of one thread (4 oversubscribes a 2-core machine, and says so), then
//!   `parallel-simd` again while the three MPI jobs wait for their next frame: what idle ranks
//!   cost the other kernels of a race.
//! - `large`: the classic bounds at 8000x8000 (64 times the work, 256 MB of counts).
//! - `transfer`: the same size at `max_iter` 0, no iteration at all: what remains is making
//!   the counts and bringing them to the harness, the gather alone.

use kernel_mpi::{Config, MpiSimd};
use kernel_parallel::Parallel;
use mandel_core::{Frame, MandelKernel, Scene, Viewport};
use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants_on, write_json};

fn mpi(ranks: u32) -> Box<dyn MandelKernel> {
    let config = Config::from_env().map(|config| Config { ranks, threads: Some(1), ..config });
    Box::new(MpiSimd::with_config(config).named(format!("mpi-simd-r{ranks}")))
}

fn main() -> Result<(), String> {
    let (mut study, mut json) = ("scaling".to_string(), None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = Some(args.next().ok_or("--json needs a file name")?),
            "scaling" | "large" | "transfer" => study = arg,
            other => {
                return Err(format!(
                    "unexpected argument {other:?}; usage: [scaling|large|transfer] [--json FILE]"
                ))
            }
        }
    }
    let [x_min, x_max, y_min, y_max] = Scene::by_name("classic").expect("a scene").bounds();
    let sized = |size: u32, max_iter: u32| -> Result<Frame, String> {
        let viewport =
            Viewport::from_bounds(x_min, x_max, y_min, y_max, size, size).map_err(|e| e.to_string())?;
        Ok(Frame::new(viewport, max_iter))
    };
    let (name, frame, kernels): (&str, Frame, Vec<Box<dyn MandelKernel>>) = match study.as_str() {
        "scaling" => {
            let after = Parallel::shared(
                "parallel-simd-beside-mpi",
                "parallel-simd again, while the MPI jobs of this race wait for their next frame",
                kernel_simd::compute_rows_f64,
                kernel_simd::compute_queue_f64,
            );
            (
                "classic",
                sized(1000, 1000)?,
                vec![Box::new(Parallel::simd()), mpi(1), mpi(2), mpi(4), Box::new(after)],
            )
        }
        "large" => ("classic-8000", sized(8000, 1000)?, vec![Box::new(Parallel::simd()), mpi(2)]),
        _ => ("transfer-8000", sized(8000, 0)?, vec![Box::new(Parallel::simd()), mpi(2)]),
    };
    let contestants: Vec<Contestant> =
        kernels.into_iter().map(|kernel| Contestant { crate_name: "kernel-mpi".into(), kernel }).collect();
    let report = race_variants_on(name, &frame, &contestants, "parallel-simd")?;
    print(&report);
    if let Some(path) = json {
        write_json(std::path::Path::new(&path), &report)?;
        println!("wrote {path}");
    }
    Ok(())
}
