//! Criterion benchmarks: one group per scene, one function per discovered kernel.
//!
//! `cargo bench -p mandel-benches -- classic/hoisted` (or `just bench classic/hoisted`).
//! Throughput is in elements = pixel-iterations, so criterion's `Gelem/s` is the race's
//! `G iter/s`. `cargo test -p mandel-benches --benches` runs each function once (CI does).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use mandel_benches::SceneCases;
use mandel_core::SCENES;

fn kernels(c: &mut Criterion) {
    for scene in SCENES {
        let mut cases = SceneCases::new(scene);
        for line in cases.skipped.iter().chain(&cases.not_built) {
            eprintln!("SKIPPED {}/{line}", scene.name());
        }
        let kernels = std::mem::take(&mut cases.kernels);
        let mut group = c.benchmark_group(scene.name());
        // A naive frame takes most of a second: a fixed number of iterations per sample keeps
        // ten samples to ten calls instead of criterion's 1+2+...+10.
        group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_millis(500));
        // Allocated once, outside the timed closure: the kernels write into the caller's buffer.
        let mut out = vec![0u32; cases.frame.pixel_count()];
        for kernel in &kernels {
            group.throughput(Throughput::Elements(cases.pixel_iterations(kernel.precision())));
            let mut verified = false;
            group.bench_function(kernel.name(), |b| {
                // Checked once, and only if this benchmark is not filtered out.
                if !verified {
                    if let Err(why) = cases.verify(kernel.as_ref()) {
                        panic!("{why}: fix it before timing it (`mandel race` shows the same)");
                    }
                    verified = true;
                }
                b.iter(|| black_box(kernel.compute(black_box(&cases.frame), black_box(&mut out)).is_ok()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
