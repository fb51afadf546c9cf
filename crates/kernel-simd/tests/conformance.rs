//! The SIMD kernels against the reference of their precision: the whole conformance kit, one line each.
mandel_testkit::conformance!(
    f64x8 => kernel_simd::SimdF64x8::default(),
    f64x4 => kernel_simd::SimdF64x4::default(),
    f32x16 => kernel_simd::SimdF32x16::default(),
);
