//! What bit-exactness costs on this GPU: `gpu-f32` and `gpu-f64` raced against the same shader
//! with plain arithmetic, which the driver may fuse and reorder (`just gpu-cost [scene]`).
//!
//! The plain kernels declare themselves inexact: the race shows how many pixels they get wrong.

use std::sync::atomic::AtomicBool;

use kernel_gpu::{GpuF32, GpuF64};
use mandel_core::{MandelKernel, Precision, Scene};
use mandel_harness::provenance::Provenance;
use mandel_harness::race::{race, Contestant, RacePlan, References};
use mandel_harness::report::{self, FrameInfo, Order, RaceReport};

fn main() -> Result<(), String> {
    let scene_name = std::env::args().nth(1).unwrap_or_else(|| "classic".into());
    let scene = Scene::by_name(&scene_name)
        .ok_or_else(|| format!("unknown scene {scene_name:?}; known: {}", Scene::names()))?;
    let frame = scene.frame();
    let kernels: Vec<Box<dyn MandelKernel>> = vec![
        Box::new(GpuF32::new()),
        Box::new(GpuF32::plain()),
        Box::new(GpuF64::new()),
        Box::new(GpuF64::plain()),
    ];
    let devices: Vec<String> = kernels.iter().filter_map(|k| k.device()).take(1).collect();
    let contestants: Vec<Contestant> =
        kernels.into_iter().map(|kernel| Contestant { crate_name: "kernel-gpu".into(), kernel }).collect();
    let with_f32 = contestants.iter().any(|c| c.kernel.precision() == Precision::F32);
    let references = References::compute(&frame, with_f32, &mut |_| {}).map_err(|e| e.to_string())?;
    let plan = RacePlan::STANDARD;
    let baseline = "gpu-f32";
    let outcome =
        race(&contestants, &frame, &references, &plan, baseline, &AtomicBool::new(false), &mut |_| {});
    let frame_info = FrameInfo::new(scene.name(), &frame, references.pixel_iterations);
    let report = RaceReport::new(frame_info, plan, baseline, outcome, Provenance::collect(devices));
    println!("{}\n", report::header(&report.provenance, &report.frame, &report.plan));
    print!("{}", report::table(&report, Order::Rung));
    Ok(())
}
