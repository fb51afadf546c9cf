//! The grain of the parallel rung: how uneven a scene's work is, what contiguous bands would
//! cap each thread count at, and `parallel-simd` raced with tasks of several sizes
//! (`cargo run --release -p mandel-harness --example grain [scene]`, or `just grain`).
//!
//! Speedups are against `simd-f64x8`, the single-threaded routine every variant runs per task.

use std::sync::atomic::AtomicBool;

use kernel_parallel::{Parallel, Split};
use mandel_core::{pixel_iterations, reference_counts, MandelKernel, Precision, Scene};
use mandel_harness::provenance::Provenance;
use mandel_harness::race::{race, Contestant, RacePlan, References};
use mandel_harness::report::{self, FrameInfo, Order, RaceReport};

/// Pixels per task raced: one row (any width rounds up to a row), then growing tasks.
const TASK_PIXELS: [usize; 7] = [1, 1_024, 4_096, 16_384, 65_536, 262_144, 1 << 20];

fn main() -> Result<(), String> {
    let scene_name = std::env::args().nth(1).unwrap_or_else(|| "classic".into());
    let scene = Scene::by_name(&scene_name)
        .ok_or_else(|| format!("unknown scene {scene_name:?}; known: {}", Scene::names()))?;
    let frame = scene.frame();
    let references = References::compute(&frame, false, &mut |_| {}).map_err(|e| e.to_string())?;

    // Work per row and per pixel, from the reference's counts (the contract's pixel-iterations).
    let counts = reference_counts(&frame, Precision::F64).map_err(|e| e.to_string())?;
    let width = frame.width() as usize;
    let work = |counts: &[u32]| pixel_iterations(counts, frame.max_iter());
    let row_work: Vec<u64> = counts.chunks(width).map(work).collect();
    let total: u64 = row_work.iter().sum();
    let mut pixel_work: Vec<u64> = counts.iter().map(std::slice::from_ref).map(work).collect();
    pixel_work.sort_unstable_by(|a, b| b.cmp(a));
    let busiest: u64 = pixel_work[..pixel_work.len() / 5].iter().sum();
    println!(
        "scene {}: {} pixel-iterations; the busiest 20% of pixels carry {:.1}% of them",
        scene.name(),
        report::thousands(total),
        100.0 * busiest as f64 / total as f64
    );
    println!("contiguous bands, one per thread, cap the speedup at the total over the heaviest band:");
    for threads in [2, 4, 8, 16, 64] {
        let rows_per_band = row_work.len().div_ceil(threads);
        let heaviest = row_work.chunks(rows_per_band).map(|band| band.iter().sum::<u64>()).max().unwrap_or(1);
        println!("  {threads:>3} threads: at most {:.2}× (ideal {threads}×)", total as f64 / heaviest as f64);
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
    let plan = RacePlan::STANDARD;
    let baseline = "simd-f64x8";
    let outcome =
        race(&contestants, &frame, &references, &plan, baseline, &AtomicBool::new(false), &mut |_| {});
    let frame_info = FrameInfo::new(scene.name(), &frame, references.pixel_iterations);
    let report = RaceReport::new(frame_info, plan, baseline, outcome, Provenance::collect(Vec::new()));
    println!("{}\n", report::header(&report.provenance, &report.frame, &report.plan));
    print!("{}", report::table(&report, Order::Rung));
    println!("(-pxN: tasks of N pixels rounded up to whole rows of {width}; -bands: one band per thread)");
    Ok(())
}
