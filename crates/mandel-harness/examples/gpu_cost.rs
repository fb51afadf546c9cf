//! What bit-exactness costs on this GPU: `gpu-f32` and `gpu-f64` raced against the same shader
//! with plain arithmetic, which the driver may fuse and reorder (`just gpu-cost [scene]
//! [--json FILE]`).
//!
//! The plain kernels declare themselves inexact: the race shows how many pixels they get wrong.

use kernel_gpu::{GpuF32, GpuF64};
use mandel_core::MandelKernel;
use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants, StudyArgs};

fn main() -> Result<(), String> {
    let args = StudyArgs::parse("classic")?;
    let kernels: [Box<dyn MandelKernel>; 4] = [
        Box::new(GpuF32::new()),
        Box::new(GpuF32::plain()),
        Box::new(GpuF64::new()),
        Box::new(GpuF64::plain()),
    ];
    let contestants: Vec<Contestant> =
        kernels.into_iter().map(|kernel| Contestant { crate_name: "kernel-gpu".into(), kernel }).collect();
    let report = race_variants(args.scene, &contestants, "gpu-f32")?;
    print(&report);
    args.write_json(&report)
}
