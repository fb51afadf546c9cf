//! The experimental lockstep engine (`kernel_simd::lockstep`) against the exported SIMD and
//! parallel kernels, at several slot counts and block lengths, on one scene (`cargo run
//! --release -p mandel-harness --example lockstep [scene] [--json FILE]`, or `just lockstep`).
//! Speedups are against `simd-f64x8`. `parallel-lockstep` runs the `x5k8` routine on every core
//! of rayon's pool, cut as `parallel-simd` is, for the side-by-side with the C peer on threads.

use kernel_parallel::Parallel;
use kernel_simd::{f64x8, lockstep};
use mandel_core::{Grid, MandelKernel};
use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants, StudyArgs};

fn lockstep_rows(grid: &Grid<f64>, rows: std::ops::Range<u32>, out: &mut [u32]) {
    lockstep::compute_rows::<f64x8, 5, 8>(grid, rows, out)
}

fn main() -> Result<(), String> {
    let args = StudyArgs::parse("classic")?;
    let mut kernels = kernel_simd::lockstep_sweep();
    kernels.push(Box::new(Parallel::simd()));
    kernels.push(Box::new(Parallel::new(
        "parallel-lockstep",
        "simd-f64x8-lockstep-x5k8's rows on every core of rayon's pool, stolen in small tasks",
        lockstep_rows,
    )) as Box<dyn MandelKernel>);
    let contestants: Vec<Contestant> =
        kernels.into_iter().map(|kernel| Contestant { crate_name: "kernel-simd".into(), kernel }).collect();
    let report = race_variants(args.scene, &contestants, "simd-f64x8")?;
    print(&report);
    args.write_json(&report)
}
