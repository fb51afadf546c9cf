//! The SIMD kernels against the reference of their precision: the whole conformance kit, one line each.
mandel_testkit::conformance!(
    f64x8 => kernel_simd::SimdF64x8::default(),
    f64x4 => kernel_simd::SimdF64x4::default(),
    f32x16 => kernel_simd::SimdF32x16::default(),
);

// The experimental lockstep engine (issue 17's study) passes the same kit.
mandel_testkit::conformance!(
    lockstep_f64x8 => kernel_simd::Lockstep::<kernel_simd::f64x8, 5, 8>::default(),
    lockstep_f32x16 => kernel_simd::Lockstep::<kernel_simd::f32x16, 5, 8>::default(),
);
