//! How many iterations one GPU invocation should run per dispatch: `gpu-f32` and `gpu-f64`
//! (whose chunk is `kernel_gpu::tiles::CHUNK`) raced against chunks of 1,024 to 32,768 on a
//! frame of long orbits (`just gpu-chunk [FRAME] [--json FILE]`).
//!
//! The frames are not scenes, since every kernel's conformance tests compute every scene:
//! - `minibrot` (the default): 96x96 around the period-3 minibrot near c = -1.7549 at max_iter
//!   100,000, a third of its pixels interior and the rest escaping early, so most of its
//!   dispatches resume a scattered minority of the pixels;
//! - `slow-escapes`: five pixels just right of c = 1/4 at max_iter 300,000, escaping after
//!   76,192 to 104,717 iterations, where the cost is the dispatches themselves.

use kernel_gpu::tiles::CHUNK;
use kernel_gpu::{GpuF32, GpuF64};
use mandel_core::{Frame, MandelKernel, Viewport};
use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants_on, write_json};

const CHUNKS: [u32; 4] = [1024, 4096, 16_384, 32_768];

fn main() -> Result<(), String> {
    let (mut name, mut json) = ("minibrot".to_string(), None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = Some(args.next().ok_or("--json needs a file name")?),
            "minibrot" | "slow-escapes" => name = arg,
            other => {
                return Err(format!(
                    "unexpected argument {other:?}; usage: [minibrot|slow-escapes] [--json FILE]"
                ))
            }
        }
    }
    let (bounds, (width, height), max_iter) = match name.as_str() {
        "minibrot" => ([-1.7749, -1.7349, -0.02, 0.02], (96, 96), 100_000),
        _ => ([0.2500000009, 0.2500000019, -1e-10, 0.0], (5, 1), 300_000),
    };
    let [x_min, x_max, y_min, y_max] = bounds;
    let viewport =
        Viewport::from_bounds(x_min, x_max, y_min, y_max, width, height).map_err(|e| e.to_string())?;
    let frame = Frame::new(viewport, max_iter);

    // In chunk order, the kernels' own chunk among them (not first: the first kernel of a race
    // on lavapipe was seen to time a few slow runs that the others did not).
    let mut kernels: Vec<Box<dyn MandelKernel>> = Vec::new();
    // The f32 kernels cannot represent slow-escapes' bounds.
    let with_f32 = frame.check_precision(mandel_core::Precision::F32).is_ok();
    for chunk in CHUNKS.into_iter().filter(|_| with_f32) {
        kernels.push(if chunk == CHUNK {
            Box::new(GpuF32::new())
        } else {
            Box::new(GpuF32::with_chunk(chunk))
        });
    }
    for chunk in CHUNKS {
        kernels.push(if chunk == CHUNK {
            Box::new(GpuF64::new())
        } else {
            Box::new(GpuF64::with_chunk(chunk))
        });
    }
    let baseline = if with_f32 { "gpu-f32" } else { "gpu-f64" };
    let contestants: Vec<Contestant> =
        kernels.into_iter().map(|kernel| Contestant { crate_name: "kernel-gpu".into(), kernel }).collect();
    println!("gpu-f32 and gpu-f64 run chunks of {CHUNK} iterations\n");
    let report = race_variants_on(&name, &frame, &contestants, baseline)?;
    print(&report);
    match json {
        Some(path) => {
            write_json(std::path::Path::new(&path), &report)?;
            println!("wrote {path}");
            Ok(())
        }
        None => Ok(()),
    }
}
