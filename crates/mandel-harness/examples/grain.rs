//! The grain of the parallel rung: how uneven a scene's work is, what contiguous bands would
//! cap each thread count at, and `parallel-simd` raced with tasks of several sizes
//! (`cargo run --release -p mandel-harness --example grain [scene] [--json FILE]`, or `just grain`).
//!
//! Speedups are against `simd-f64x8`, the single-threaded routine every variant runs per task.

use kernel_parallel::{Parallel, Split};
use mandel_core::{pixel_iterations, reference_counts, MandelKernel, Precision};
use mandel_harness::race::Contestant;
use mandel_harness::report::thousands;
use mandel_harness::variants::{print, race_variants, BandCap, GrainStudy, StudyArgs};

/// Pixels per task raced: one row (any width rounds up to a row), then growing tasks.
const TASK_PIXELS: [usize; 7] = [1, 1_024, 4_096, 16_384, 65_536, 262_144, 1 << 20];

/// Thread counts whose band caps are computed.
const THREADS: [usize; 5] = [2, 4, 8, 16, 64];

fn main() -> Result<(), String> {
    let args = StudyArgs::parse("classic")?;
    let scene = args.scene;
    let frame = scene.frame();

    // Work per row and per pixel, from the reference's counts (the contract's pixel-iterations).
    let counts = reference_counts(&frame, Precision::F64).map_err(|e| e.to_string())?;
    let width = frame.width() as usize;
    let work = |counts: &[u32]| pixel_iterations(counts, frame.max_iter());
    let row_work: Vec<u64> = counts.chunks(width).map(work).collect();
    let total: u64 = row_work.iter().sum();
    let mut pixel_work: Vec<u64> = counts.iter().map(std::slice::from_ref).map(work).collect();
    pixel_work.sort_unstable_by(|a, b| b.cmp(a));
    let busiest: u64 = pixel_work[..pixel_work.len() / 5].iter().sum();
    let busiest_fifth_share = busiest as f64 / total as f64;
    println!(
        "scene {}: {} pixel-iterations; the busiest 20% of pixels carry {:.1}% of them",
        scene.name(),
        thousands(total),
        100.0 * busiest_fifth_share
    );
    println!("contiguous bands, one per thread, cap the speedup at the total over the heaviest band:");
    let band_caps: Vec<BandCap> = THREADS
        .into_iter()
        .map(|threads| {
            let rows_per_band = row_work.len().div_ceil(threads);
            let heaviest =
                row_work.chunks(rows_per_band).map(|band| band.iter().sum::<u64>()).max().unwrap_or(1);
            BandCap { threads, cap: total as f64 / heaviest.max(1) as f64 }
        })
        .collect();
    for BandCap { threads, cap } in &band_caps {
        println!("  {threads:>3} threads: at most {cap:.2}× (ideal {threads}×)");
    }
    println!();

    let mut kernels: Vec<Box<dyn MandelKernel>> = vec![Box::new(kernel_simd::SimdF64x8::new())];
    kernels.push(Box::new(Parallel::simd().with_split(Split::Bands)));
    for pixels_per_task in TASK_PIXELS {
        kernels.push(Box::new(Parallel::simd().with_split(Split::Stealing { pixels_per_task })));
    }
    let contestants: Vec<Contestant> = kernels
        .into_iter()
        .map(|kernel| {
            let crate_name = if kernel.uses_threads() { "kernel-parallel" } else { "kernel-simd" };
            Contestant { crate_name: crate_name.into(), kernel }
        })
        .collect();
    let race = race_variants(scene, &contestants, "simd-f64x8")?;
    print(&race);
    println!("(-pxN: tasks of N pixels rounded up to whole rows of {width}; -bands: one band per thread)");
    args.write_json(&GrainStudy::new(busiest_fifth_share, band_caps, race))
}
