//! Criterion benchmarks: one group per scene, one function per discovered kernel.
//!
//! `cargo bench -p mandel-benches -- classic/hoisted` (or `just bench classic/hoisted`).
//! Throughput is in elements = pixel-iterations, so criterion's `Gelem/s` is the race's
//! `G iter/s`. `cargo test -p mandel-benches --benches` runs each function once (CI does).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use mandel_benches::scene_cases;
use mandel_core::SCENES;

fn kernels(c: &mut Criterion) {
    for scene in SCENES {
        let scene_cases = scene_cases(scene);
        for line in &scene_cases.skipped {
            eprintln!("SKIPPED {}/{line}", scene.name());
        }
        let frame = &scene_cases.frame;
        let mut group = c.benchmark_group(scene.name());
        // A naive frame takes most of a second: a fixed number of iterations per sample keeps
        // ten samples to ten calls instead of criterion's 1+2+...+10.
        group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_millis(500));
        // Allocated once, outside the timed closure: the kernels write into the caller's buffer.
        let mut out = vec![0u32; frame.pixel_count()];
        for case in &scene_cases.cases {
            group.throughput(Throughput::Elements(case.pixel_iterations));
            group.bench_function(case.kernel.name(), |b| {
                b.iter(|| black_box(case.kernel.compute(black_box(frame), black_box(&mut out)).is_ok()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
