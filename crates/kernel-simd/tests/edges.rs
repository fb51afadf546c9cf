//! What the conformance kit does not aim at: every interleave of every vector type, the places
//! where the deferred test could go wrong (escapes near `c = -2`, overflow inside a block,
//! limits that are not a multiple of the block), and the public row routines.

use mandel_core::{reference, Frame, MandelKernel, Precision, Scene, Viewport};

/// The first pixels where `kernel` differs from the reference of its precision, if any.
fn differences(kernel: &dyn MandelKernel, frame: &Frame) -> Result<(), String> {
    let mut expected = vec![0; frame.pixel_count()];
    match kernel.precision() {
        Precision::F64 => reference::<f64>(frame, &mut expected),
        Precision::F32 => reference::<f32>(frame, &mut expected),
    }
    .map_err(|e| format!("reference: {e}"))?;
    let mut got = vec![u32::MAX - 7; frame.pixel_count()];
    kernel.compute(frame, &mut got).map_err(|e| format!("{}: {e}", kernel.name()))?;
    let width = frame.width() as usize;
    let wrong: Vec<String> = (0..got.len())
        .filter(|&p| got[p] != expected[p])
        .take(8)
        .map(|p| format!("({}, {}): {} vs {}", p % width, p / width, got[p], expected[p]))
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{} on {frame}: {}", kernel.name(), wrong.join(", ")))
    }
}

fn check_every_variant(frames: &[Frame]) {
    let mut failures = Vec::new();
    for kernel in kernel_simd::interleave_sweep() {
        for frame in frames {
            if frame.check_precision(kernel.precision()).is_ok() {
                if let Err(failure) = differences(kernel.as_ref(), frame) {
                    failures.push(failure);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn frame(bounds: [f64; 4], width: u32, height: u32, max_iter: u32) -> Frame {
    let [x_min, x_max, y_min, y_max] = bounds;
    Frame::new(Viewport::from_bounds(x_min, x_max, y_min, y_max, width, height).unwrap(), max_iter)
}

#[test]
fn every_interleave_is_exact_on_the_quick_scene_and_odd_shapes() {
    let quick = Scene::by_name("quick").unwrap().frame();
    // Widths around every vector width, limits that end mid-block and on a block edge.
    let classic = Scene::by_name("classic").unwrap().bounds();
    let mut frames = vec![quick];
    for width in [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 100] {
        for max_iter in [1, 15, 16, 17, 37, 300] {
            frames.push(frame(classic, width, 9, max_iter));
        }
    }
    check_every_variant(&frames);
}

#[test]
fn limits_around_the_young_pass_and_heights_around_its_chunks_are_exact() {
    // The young pass tests every step up to `YOUNG` iterations and takes rows `CHUNK` at a
    // time; what it sets aside runs on in blocks. Limits just below, at and past its end, and
    // frames a row short of, at and past a chunk (or two), on the whole set and on seahorse
    // valley (most vectors outlive the young pass there).
    use kernel_simd::engine::{CHUNK, YOUNG};
    let classic = Scene::by_name("classic").unwrap().bounds();
    let seahorse = Scene::by_name("seahorse").unwrap().bounds();
    let mut frames = Vec::new();
    for max_iter in [YOUNG - 1, YOUNG, YOUNG + 1, YOUNG + 7, 2 * YOUNG + 5] {
        for height in [CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3] {
            frames.push(frame(classic, 23, height, max_iter));
            frames.push(frame(seahorse, 19, height, max_iter * 8));
        }
    }
    check_every_variant(&frames);
}

#[test]
fn every_interleave_is_exact_on_the_boundary() {
    // Seahorse valley at a smaller size: long, uneven escape times, so slots refill at
    // different ages and blocks are replayed often.
    let seahorse = Scene::by_name("seahorse").unwrap();
    let [x_min, x_max, y_min, y_max] = seahorse.bounds();
    check_every_variant(&[frame([x_min, x_max, y_min, y_max], 97, 61, seahorse.max_iter())]);
}

#[test]
fn escapes_at_the_ulp_scale_near_minus_two_are_exact() {
    // c = -2 is the one point where an escaped orbit could hover at |z| = 2; frames a few
    // hundred ulps wide around it, in each precision, put that to the test.
    let mut frames = Vec::new();
    for (ulp, precision) in
        [(f64::EPSILON * 2.0, Precision::F64), (f32::EPSILON as f64 * 2.0, Precision::F32)]
    {
        for half in [40.0, 400.0] {
            let span = half * ulp;
            let f = frame([-2.0 - span, -2.0 + span, -span, span], 81, 81, 3000);
            assert!(f.check_precision(precision).is_ok(), "{f} must be resolvable in {precision}");
            frames.push(f);
        }
    }
    check_every_variant(&frames);
}

#[test]
fn orbits_that_overflow_inside_an_untested_block_are_counted_exactly() {
    // Far outside, everything escapes at once; just outside the set, orbits survive past the
    // young phase, then escape and overflow to infinity and NaN within one untested block.
    let frames = [
        frame([-1e300, 1e300, -1e300, 1e300], 33, 7, 100),
        frame([0.2501, 0.2601, -0.005, 0.005], 37, 11, 5000),
        frame([-0.7501, -0.7499, 0.0999, 0.1001], 45, 9, 5000),
    ];
    check_every_variant(&frames);
}

#[test]
fn the_public_row_routines_match_the_kernels() {
    let frame = Scene::by_name("quick").unwrap().frame();
    let grid64 = frame.grid::<f64>().unwrap();
    let grid32 = frame.grid::<f32>().unwrap();
    let width = frame.width() as usize;
    let mut whole64 = vec![0; frame.pixel_count()];
    let mut whole32 = vec![0; frame.pixel_count()];
    kernel_simd::SimdF64x8::default().compute(&frame, &mut whole64).unwrap();
    kernel_simd::SimdF32x16::default().compute(&frame, &mut whole32).unwrap();
    for rows in [0..1, 7..8, 100..133, 255..256, 0..256] {
        let span = rows.start as usize * width..rows.end as usize * width;
        let mut part = vec![0; span.len()];
        kernel_simd::compute_rows_f64(&grid64, rows.clone(), &mut part);
        assert_eq!(part, whole64[span.clone()], "f64 rows {rows:?}");
        kernel_simd::compute_rows_f32(&grid32, rows.clone(), &mut part);
        assert_eq!(part, whole32[span], "f32 rows {rows:?}");
    }
}

#[test]
fn engines_sharing_one_queue_fill_the_frame_as_one_engine_does() {
    let frame = Scene::by_name("quick").unwrap().frame();
    let band = frame.band(37..201).unwrap();
    for frame in [frame, band] {
        let mut whole64 = vec![0; frame.pixel_count()];
        let mut whole32 = vec![0; frame.pixel_count()];
        kernel_simd::SimdF64x8::default().compute(&frame, &mut whole64).unwrap();
        kernel_simd::SimdF32x16::default().compute(&frame, &mut whole32).unwrap();
        for threads in [1, 3] {
            let mut shared = vec![u32::MAX; frame.pixel_count()];
            let grid = frame.grid::<f64>().unwrap();
            let queue = kernel_simd::RowQueue::new(frame.width(), frame.rows(), &mut shared);
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| kernel_simd::compute_queue_f64(&grid, &queue));
                }
            });
            assert_eq!(shared, whole64, "f64, {threads} engines, rows {:?}", frame.rows());
            let grid = frame.grid::<f32>().unwrap();
            let queue = kernel_simd::RowQueue::new(frame.width(), frame.rows(), &mut shared);
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| kernel_simd::compute_queue_f32(&grid, &queue));
                }
            });
            assert_eq!(shared, whole32, "f32, {threads} engines, rows {:?}", frame.rows());
        }
    }
}

#[test]
#[should_panic(expected = "is not a row of the grid")]
fn an_engine_refuses_a_queue_of_rows_outside_its_grid() {
    let frame = Scene::by_name("quick").unwrap().frame();
    let grid = frame.band(0..10).unwrap().grid::<f64>().unwrap();
    let mut out = vec![0; 256 * 10];
    let queue = kernel_simd::RowQueue::new(256, 100..110, &mut out);
    kernel_simd::compute_queue_f64(&grid, &queue);
}

#[test]
#[should_panic(expected = "need 256 counts")]
fn a_row_routine_refuses_a_short_buffer() {
    let grid = Scene::by_name("quick").unwrap().frame().grid::<f64>().unwrap();
    kernel_simd::compute_rows_f64(&grid, 3..4, &mut [0; 255]);
}

#[test]
#[should_panic(expected = "not within the grid's rows")]
fn a_row_routine_refuses_rows_outside_the_grid() {
    let grid = Scene::by_name("quick").unwrap().frame().grid::<f32>().unwrap();
    kernel_simd::compute_rows_f32(&grid, 255..257, &mut [0; 512]);
}

#[test]
fn the_sweep_names_each_variant_once_and_exports_the_chosen_ones() {
    let sweep: Vec<String> = kernel_simd::interleave_sweep().iter().map(|k| k.name().to_string()).collect();
    let mut unique = sweep.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), sweep.len(), "{sweep:?}");
    assert_eq!(sweep.len(), 24, "3 vector types x 7 interleaves, and 3 more blocks for f64x8: {sweep:?}");
    for kernel in kernel_simd::kernels() {
        assert!(sweep.iter().any(|name| name == kernel.name()), "{} is not in the sweep", kernel.name());
    }
}
