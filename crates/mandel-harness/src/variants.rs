//! Racing a family of variants of one idea on one scene, for the examples that choose a
//! parameter by measurement (`just sweep`, `just grain`, `just gpu-cost`): the race's engine,
//! plan and table, without its command line.

use std::sync::atomic::AtomicBool;

use mandel_core::{Precision, Scene};

use crate::provenance::Provenance;
use crate::race::{race, Contestant, RacePlan, References};
use crate::report::{self, FrameInfo, Order, RaceReport};

/// The scene named by the first command-line argument, or `default`.
pub fn scene_from_args(default: &str) -> Result<&'static Scene, String> {
    let name = std::env::args().nth(1).unwrap_or_else(|| default.into());
    Scene::by_name(&name).ok_or_else(|| format!("unknown scene {name:?}; known: {}", Scene::names()))
}

/// Verifies and times `contestants` on `scene` with the standard plan, speedups over `baseline`.
pub fn race_variants(
    scene: &Scene,
    contestants: &[Contestant],
    baseline: &str,
) -> Result<RaceReport, String> {
    let frame = scene.frame();
    let with_f32 = contestants.iter().any(|c| c.kernel.precision() == Precision::F32);
    let references = References::compute(&frame, with_f32, &mut |_| {}).map_err(|e| e.to_string())?;
    let plan = RacePlan::STANDARD;
    let outcome =
        race(contestants, &frame, &references, &plan, baseline, &AtomicBool::new(false), &mut |_| {});
    let mut devices: Vec<String> = contestants.iter().filter_map(|c| c.kernel.device()).collect();
    devices.dedup();
    let frame_info = FrameInfo::new(scene.name(), &frame, references.pixel_iterations);
    Ok(RaceReport::new(frame_info, plan, baseline, outcome, Provenance::collect(devices)))
}

/// The race's header and table, on stdout.
pub fn print(report: &RaceReport) {
    println!("{}\n", report::header(&report.provenance, &report.frame, &report.plan));
    print!("{}", report::table(report, Order::Rung));
}
