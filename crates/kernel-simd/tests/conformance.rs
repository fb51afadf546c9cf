//! The SIMD kernels against the reference of their precision: the whole conformance kit, one line each.
mandel_testkit::conformance!(
    f64x8 => kernel_simd::SimdF64x8::default(),
    f64x4 => kernel_simd::SimdF64x4::default(),
    f32x16 => kernel_simd::SimdF32x16::default(),
);

// The engine at its extremes: a block of one step (a test after every step, every escape
// replayed) and of the longest block (replays of 32 steps), with one vector in flight and many.
mandel_testkit::conformance!(
    f64x8_k1 => kernel_simd::Simd::<kernel_simd::f64x8, 5, 1>::default(),
    f64x8_k32 => kernel_simd::Simd::<kernel_simd::f64x8, 5, 32>::default(),
    f64x8_x1 => kernel_simd::Simd::<kernel_simd::f64x8, 1>::default(),
    f32x16_x8_k3 => kernel_simd::Simd::<kernel_simd::f32x16, 8, 3>::default(),
);
