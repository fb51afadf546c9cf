//! Which workgroup shape the GPU kernels' `first` dispatch should use: `gpu-f32` and `gpu-f64`
//! (whose shape is `kernel_gpu::tiles::TILE_SHAPE`) raced against the same shader in 16x16
//! blocks, 64x1 and 256x1 rows (`just gpu-shape [SCENE|strip] [--json FILE]`).
//!
//! `strip` is the classic frame's bounds at 4000x4 pixels, max_iter 1000: a frame a few rows
//! high, where 16x16 blocks leave most of their invocations outside the frame.

use kernel_gpu::tiles::{Shape, TILE_SHAPE};
use kernel_gpu::{GpuF32, GpuF64};
use mandel_core::{Frame, MandelKernel, Scene, Viewport};
use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants_on, StudyArgs};

fn main() -> Result<(), String> {
    let mut strip = false;
    let args = StudyArgs::parse_from(
        std::env::args().skip(1).filter(|arg| {
            strip |= arg == "strip";
            arg != "strip"
        }),
        "classic",
    )?;
    let (name, frame) = if strip {
        let [x_min, x_max, y_min, y_max] = Scene::by_name("classic").expect("a scene").bounds();
        let viewport =
            Viewport::from_bounds(x_min, x_max, y_min, y_max, 4000, 4).map_err(|e| e.to_string())?;
        ("strip", Frame::new(viewport, 1000))
    } else {
        (args.scene.name(), args.scene.frame())
    };
    let others =
        [Shape::SQUARE, Shape::ROW_64, Shape::ROW_256].into_iter().filter(|&shape| shape != TILE_SHAPE);
    let mut kernels: Vec<Box<dyn MandelKernel>> = vec![Box::new(GpuF32::new())];
    kernels.extend(others.clone().map(|shape| Box::new(GpuF32::with_shape(shape)) as Box<dyn MandelKernel>));
    kernels.push(Box::new(GpuF64::new()));
    kernels.extend(others.map(|shape| Box::new(GpuF64::with_shape(shape)) as Box<dyn MandelKernel>));
    let contestants: Vec<Contestant> =
        kernels.into_iter().map(|kernel| Contestant { crate_name: "kernel-gpu".into(), kernel }).collect();
    println!("gpu-f32 and gpu-f64 use workgroups of {} in their first dispatch\n", TILE_SHAPE.name());
    let report = race_variants_on(name, &frame, &contestants, "gpu-f32")?;
    print(&report);
    args.write_json(&report)
}
