//! The kit tests itself: deliberately wrong kernels must be rejected, and the right check must
//! be the one that rejects them. A kit that passes everything proves nothing.

use std::panic::RefUnwindSafe;

use mandel_core::{escape_count, reference, Frame, Grid, KernelError, Precision, Real};
use mandel_testkit::{
    check_all, check_awkward_shapes, check_bad_buffers, check_bands, check_every_pixel_written,
    check_iteration_limits, check_long_orbits, check_metadata, check_named, check_random_frames,
    check_scenes, run, skip_line, FnKernel, Outcome, LOOP_CAP,
};

/// Every test kernel here is one of these, varied by struct update (`TestKernel { exact: false, ..k }`).
type TestKernel = FnKernel;

/// A kernel that computes with `compute` as it is, checking nothing for it.
fn raw(
    name: &'static str,
    precision: Precision,
    compute: impl Fn(&Frame, &mut [u32]) -> Result<(), KernelError> + Send + Sync + RefUnwindSafe + 'static,
) -> TestKernel {
    TestKernel {
        name,
        description: "a deliberately wrong kernel",
        precision,
        exact: true,
        unavailable: None,
        compute: Box::new(compute),
    }
}

/// A kernel that checks its grid and buffer as a real one does, then gets the counts wrong with `f`.
fn wrong_in<R: Real>(name: &'static str, f: fn(&Grid<R>, &Frame, &mut [u32])) -> TestKernel {
    raw(name, R::PRECISION, move |frame, out| {
        let grid = Grid::<R>::checked(frame, out)?;
        f(&grid, frame, out);
        Ok(())
    })
}

fn wrong(name: &'static str, f: fn(&Grid<f64>, &Frame, &mut [u32])) -> TestKernel {
    wrong_in::<f64>(name, f)
}

/// Row-major loop over the grid with a per-pixel function of (i, j).
fn each_pixel<R: Real>(grid: &Grid<R>, out: &mut [u32], mut f: impl FnMut(u32, u32) -> u32) {
    let width = grid.width() as usize;
    for (k, j) in grid.rows().enumerate() {
        for i in 0..grid.width() {
            out[k * width + i as usize] = f(i, j);
        }
    }
}

fn off_by_one(grid: &Grid<f64>, _: &Frame, out: &mut [u32]) {
    let max_iter = grid.max_iter();
    each_pixel(grid, out, |i, j| {
        let n = escape_count(grid.cx(i), grid.cy(j), max_iter);
        if n < max_iter {
            n + 1
        } else {
            n
        }
    });
}

/// Writes pixel (i, j) at column-major position: axes swapped in memory.
fn swapped_axes(grid: &Grid<f64>, _: &Frame, out: &mut [u32]) {
    let rows = grid.rows().len();
    for (k, j) in grid.rows().enumerate() {
        for i in 0..grid.width() {
            out[i as usize * rows + k] = escape_count(grid.cx(i), grid.cy(j), grid.max_iter());
        }
    }
}

/// Row 0 at the bottom. The classic frame is symmetric about the real axis, so only the other
/// scenes and random frames can catch this.
fn upside_down(grid: &Grid<f64>, frame: &Frame, out: &mut [u32]) {
    let y_min = frame.viewport().y_min();
    each_pixel(grid, out, |i, j| escape_count(grid.cx(i), y_min + f64::from(j) * grid.dy(), grid.max_iter()));
}

/// The tutorial's `x += step`: accumulated coordinates drift from the contract's.
fn accumulated(grid: &Grid<f64>, _: &Frame, out: &mut [u32]) {
    let width = grid.width() as usize;
    for (row, j) in out.chunks_exact_mut(width).zip(grid.rows()) {
        let mut x = grid.x_min();
        for pixel in row {
            *pixel = escape_count(x, grid.cy(j), grid.max_iter());
            x += grid.dx();
        }
    }
}

/// Each band re-based at its own top row: right for whole frames, wrong for bands.
fn rebased_band<R: Real>(grid: &Grid<R>, frame: &Frame, out: &mut [u32]) {
    let top = grid.cy(frame.rows().start);
    let first = frame.rows().start;
    each_pixel(grid, out, |i, j| {
        escape_count(grid.cx(i), top - R::from_u32(j - first) * grid.dy(), grid.max_iter())
    });
}

/// Forgets the last pixel of every frame: computes into scratch space, copies one too few.
fn untouched_pixel(_: &Grid<f64>, frame: &Frame, out: &mut [u32]) {
    let mut scratch = vec![0; out.len()];
    reference::<f64>(frame, &mut scratch).unwrap();
    let last = out.len() - 1;
    out[..last].copy_from_slice(&scratch[..last]);
}

/// Changes a few pixels of large frames by one, as an inexact (e.g. FMA-using) kernel would.
fn slightly_off(_: &Grid<f64>, frame: &Frame, out: &mut [u32]) {
    reference::<f64>(frame, out).unwrap();
    for count in out.iter_mut().step_by(997).skip(1) {
        if *count > 0 {
            *count -= 1;
        }
    }
}

/// The reference's loop on hardware that flushes subnormal results to zero, as GPUs may.
fn flush_to_zero<R: Real>(grid: &Grid<R>, _: &Frame, out: &mut [u32]) {
    let flush = |x: R| if x > R::ZERO - R::MIN_POSITIVE && x < R::MIN_POSITIVE { R::ZERO } else { x };
    let max_iter = grid.max_iter();
    each_pixel(grid, out, |i, j| {
        let (cr, ci) = (flush(grid.cx(i)), flush(grid.cy(j)));
        let (mut zr, mut zi, mut zr2, mut zi2) = (R::ZERO, R::ZERO, R::ZERO, R::ZERO);
        for n in 0..max_iter {
            let p = flush(zr * zi);
            zi = flush(flush(p + p) + ci);
            zr = flush(flush(zr2 - zi2) + cr);
            zr2 = flush(zr * zr);
            zi2 = flush(zi * zi);
            if flush(zr2 + zi2) > R::FOUR {
                return n;
            }
        }
        max_iter
    });
}

fn assert_rejected(outcome: Outcome, kernel: &str, by: &str) {
    match outcome {
        Ok(()) => panic!("the `{by}` check accepted the wrong kernel `{kernel}`"),
        Err(failure) => {
            assert!(failure.0.contains(kernel), "the report names the kernel: {failure}");
            eprintln!("rejected as it should be: {failure}");
        }
    }
}

#[test]
fn off_by_one_count_is_rejected() {
    let k = wrong("off-by-one", off_by_one);
    assert_rejected(check_scenes(&k), "off-by-one", "scenes");
    assert_rejected(check_awkward_shapes(&k), "off-by-one", "awkward_shapes");
}

#[test]
fn flushing_subnormals_to_zero_is_rejected_in_both_precisions() {
    let k = wrong_in::<f64>("flush-to-zero", flush_to_zero);
    assert_rejected(check_awkward_shapes(&k), "flush-to-zero", "awkward_shapes");
    let k = wrong_in::<f32>("flush-to-zero-f32", flush_to_zero);
    assert_rejected(check_awkward_shapes(&k), "flush-to-zero-f32", "awkward_shapes");
}

#[test]
fn swapped_axes_are_rejected() {
    let k = wrong("swapped-axes", swapped_axes);
    assert_rejected(check_scenes(&k), "swapped-axes", "scenes");
    assert_rejected(check_awkward_shapes(&k), "swapped-axes", "awkward_shapes");
}

#[test]
fn upside_down_is_rejected_even_though_the_classic_frame_is_symmetric() {
    let k = wrong("upside-down", upside_down);
    assert_rejected(check_scenes(&k), "upside-down", "scenes");
    assert_rejected(check_random_frames(&k), "upside-down", "random_frames");
}

#[test]
fn accumulated_coordinates_are_rejected() {
    let k = wrong("accumulated", accumulated);
    assert_rejected(check_scenes(&k), "accumulated", "scenes");
    assert_rejected(check_random_frames(&k), "accumulated", "random_frames");
}

#[test]
fn a_rebased_band_is_rejected_by_the_band_check() {
    let k = wrong("rebased-band", rebased_band::<f64>);
    // Whole frames are right, so only the band check can see it.
    assert_eq!(check_scenes(&k), Ok(()));
    assert_rejected(check_bands(&k), "rebased-band", "bands");
    let k32 = wrong_in::<f32>("rebased-band-f32", rebased_band);
    assert_eq!(check_scenes(&k32), Ok(()));
    assert_rejected(check_bands(&k32), "rebased-band-f32", "bands");
}

#[test]
fn an_untouched_pixel_is_rejected() {
    let k = wrong("untouched-pixel", untouched_pixel);
    let failure = check_every_pixel_written(&k).unwrap_err();
    assert!(failure.0.contains("unwritten"), "{failure}");
    assert_rejected(check_awkward_shapes(&k), "untouched-pixel", "awkward_shapes");
}

#[test]
fn a_kernel_that_ignores_the_buffer_length_is_rejected() {
    // Indexes the buffer without checking its length.
    let sloppy = raw("sloppy", Precision::F64, |frame, out| {
        let grid = frame.grid::<f64>()?;
        each_pixel(&grid, out, |i, j| escape_count(grid.cx(i), grid.cy(j), grid.max_iter()));
        Ok(())
    });
    assert_rejected(check_bad_buffers(&sloppy), "sloppy", "bad_buffers");
}

#[test]
fn an_f32_kernel_that_computes_an_unrepresentable_scene_is_rejected() {
    // Claims f32 but computes in f64 without checking the f32 grid.
    let pretender = raw("pretender", Precision::F32, reference::<f64>);
    assert_rejected(check_scenes(&pretender), "pretender", "scenes");
}

#[test]
fn small_differences_fail_an_exact_kernel_and_pass_an_inexact_one() {
    let exact = wrong("slightly-off", slightly_off);
    assert_rejected(check_scenes(&exact), "slightly-off", "scenes");
    let inexact = TestKernel { exact: false, ..wrong("slightly-off", slightly_off) };
    assert_eq!(check_scenes(&inexact), Ok(()));
}

/// Changes every twentieth pixel by one: 5% of a frame, five times what an inexact kernel may differ.
fn often_off(_: &Grid<f64>, frame: &Frame, out: &mut [u32]) {
    reference::<f64>(frame, out).unwrap();
    for count in out.iter_mut().step_by(20) {
        *count = if *count > 0 { *count - 1 } else { 1 };
    }
}

#[test]
fn an_inexact_kernel_over_tolerance_is_told_the_tolerance_and_its_share() {
    let k = TestKernel { exact: false, ..wrong("often-off", often_off) };
    let failure = check_scenes(&k).expect_err("5% of the pixels differ: over the 1% tolerance");
    assert!(
        failure.0.contains("tolerance of 1% of the pixels"),
        "the message states the tolerance: {failure}"
    );
    assert!(failure.0.contains("with 5.000% differing"), "the message states the observed share: {failure}");
}

#[test]
fn bad_names_and_descriptions_are_rejected() {
    fn described(name: &'static str, description: &'static str) -> TestKernel {
        TestKernel { description, ..raw(name, Precision::F64, reference::<f64>) }
    }
    assert_eq!(check_metadata(&described("fine-name", "One line.")), Ok(()));
    assert!(check_metadata(&described("Bad_Name", "One line.")).unwrap_err().0.contains("kebab-case"));
    assert!(check_metadata(&described("fine-name", "  ")).unwrap_err().0.contains("description"));
    assert!(check_metadata(&described("fine-name", "two\nlines")).unwrap_err().0.contains("description"));
    assert!(check_all(&described("Bad_Name", "One line.")).is_err());
}

/// The 2011 tutorial's quirk: points that never escape get 0.
fn interior_zero(grid: &Grid<f64>, _: &Frame, out: &mut [u32]) {
    let max_iter = grid.max_iter();
    each_pixel(grid, out, |i, j| match escape_count(grid.cx(i), grid.cy(j), max_iter) {
        n if n == max_iter => 0,
        n => n,
    });
}

#[test]
fn the_tutorials_interior_of_zero_is_rejected() {
    let k = wrong("interior-zero", interior_zero);
    assert_rejected(check_iteration_limits(&k), "interior-zero", "iteration_limits");
    assert_rejected(check_scenes(&k), "interior-zero", "scenes");
}

/// Counts one iteration too many on every pixel: `0..=max_iter` instead of `0..max_iter`.
fn one_iteration_too_many(grid: &Grid<f64>, _: &Frame, out: &mut [u32]) {
    each_pixel(grid, out, |i, j| {
        let limit = grid.max_iter().checked_add(1).expect("max_iter + 1 overflows");
        escape_count(grid.cx(i), grid.cy(j), limit).min(grid.max_iter())
    });
}

#[test]
fn a_kernel_that_overflows_at_the_largest_max_iter_is_rejected() {
    let k = wrong("too-many", one_iteration_too_many);
    let outcome = std::panic::catch_unwind(|| check_iteration_limits(&k));
    assert!(!matches!(outcome, Ok(Ok(()))), "iteration_limits accepted a kernel that overflows max_iter");
}

/// llvmpipe's bug, on the CPU: every loop stops after 65,535 iterations, so a slow escape or an
/// interior pixel gets 65,535 however large `max_iter` is.
fn capped_loop<R: Real>(grid: &Grid<R>, _: &Frame, out: &mut [u32]) {
    each_pixel(grid, out, |i, j| escape_count(grid.cx(i), grid.cy(j), grid.max_iter().min(LOOP_CAP)));
}

#[test]
fn a_loop_capped_at_65535_iterations_is_rejected_by_the_long_orbit_check_alone() {
    for kernel in [wrong_in::<f64>("capped", capped_loop), wrong_in::<f32>("capped-f32", capped_loop)] {
        // Every other check uses max_iter of a few thousand at most, and passes it...
        assert_eq!(check_iteration_limits(&kernel), Ok(()));
        assert_eq!(check_awkward_shapes(&kernel), Ok(()));
        assert_eq!(check_bands(&kernel), Ok(()));
        // ...so only orbits longer than the cap can see it, in both precisions.
        assert_rejected(check_long_orbits(&kernel), kernel.name, "long_orbits");
    }
    // The reference passes, in both precisions: the frames still hold what they are there for.
    for reference in mandel_core::reference_kernels() {
        assert_eq!(check_long_orbits(&*reference), Ok(()));
    }
}

/// Keeps its count in 16 bits, as a shader with a `u16` counter (or a packed state) would.
fn sixteen_bit_count(grid: &Grid<f64>, _: &Frame, out: &mut [u32]) {
    each_pixel(grid, out, |i, j| escape_count(grid.cx(i), grid.cy(j), grid.max_iter()) & 0xffff);
}

#[test]
fn a_sixteen_bit_count_is_rejected_by_the_long_orbit_check() {
    let kernel = wrong("sixteen-bits", sixteen_bit_count);
    assert_eq!(check_iteration_limits(&kernel), Ok(()));
    assert_rejected(check_long_orbits(&kernel), "sixteen-bits", "long_orbits");
}

#[test]
fn an_unavailable_kernel_is_skipped_loudly_or_fails_when_all_are_required() {
    let missing = TestKernel {
        description: "needs a device that is not here",
        unavailable: Some("no Vulkan driver: install mesa-vulkan-drivers"),
        ..raw("gpu-missing", Precision::F32, |_, _| {
            Err(KernelError::Unavailable { kernel: "gpu-missing".into(), reason: "no device".into() })
        })
    };
    let line = skip_line(&missing, "scenes", false).expect("skipped");
    assert!(
        line.starts_with("SKIPPED") && line.contains("gpu-missing") && line.contains("mesa-vulkan-drivers")
    );
    let required = std::panic::catch_unwind(|| skip_line(&missing, "scenes", true));
    assert!(required.is_err(), "MANDEL_REQUIRE_ALL turns the skip into a failure");
    let ready = wrong("ready", off_by_one);
    assert_eq!(skip_line(&ready, "scenes", true), None);
    // What a kernel says of itself is checked even without its device.
    assert!(!check_named("metadata").unwrap().needs_device);
    run(&missing, check_named("metadata").unwrap());
    assert!(check_named("scenes").unwrap().needs_device);
}
