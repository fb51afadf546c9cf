//! The interleaving sweep: every SIMD vector type with 1, 2, 4, 6 and 8 vectors in flight,
//! raced on one scene (`cargo run --release -p mandel-harness --example interleave [scene]`).
//!
//! Speedups are against `simd-f64x8-x1`, one vector in flight: how much of the core a single
//! dependency chain leaves idle.

use std::sync::atomic::AtomicBool;

use mandel_core::{Frame, Precision, Scene};
use mandel_harness::provenance::Provenance;
use mandel_harness::race::{race, Contestant, RacePlan, References};
use mandel_harness::report::{self, FrameInfo, Order, RaceReport};

fn main() -> Result<(), String> {
    let scene_name = std::env::args().nth(1).unwrap_or_else(|| "classic".into());
    let scene = Scene::by_name(&scene_name)
        .ok_or_else(|| format!("unknown scene {scene_name:?}; known: {}", Scene::names()))?;
    let frame: Frame = scene.frame();
    let contestants: Vec<Contestant> = kernel_simd::interleave_sweep()
        .into_iter()
        .map(|kernel| Contestant { crate_name: "kernel-simd".into(), kernel })
        .collect();
    let with_f32 = contestants.iter().any(|c| c.kernel.precision() == Precision::F32);
    let references = References::compute(&frame, with_f32, &mut |_| {}).map_err(|e| e.to_string())?;
    let plan = RacePlan::STANDARD;
    let baseline = "simd-f64x8-x1";
    let outcome =
        race(&contestants, &frame, &references, &plan, baseline, &AtomicBool::new(false), &mut |_| {});
    let frame_info = FrameInfo::new(scene.name(), &frame, references.pixel_iterations);
    let report = RaceReport::new(frame_info, plan, baseline, outcome, Provenance::collect(Vec::new()));
    println!("{}\n", report::header(&report.provenance, &report.frame, &report.plan));
    print!("{}", report::table(&report, Order::Rung));
    Ok(())
}
