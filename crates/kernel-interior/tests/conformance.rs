//! The interior kernels against the reference of their precision: the whole conformance kit.
mandel_testkit::conformance!(
    interior_simd => kernel_interior::InteriorSimd::new(),
    interior_simd_f32 => kernel_interior::InteriorSimdF32::new(),
    interior_parallel => kernel_interior::interior_parallel(),
    interior_parallel_f32 => kernel_interior::interior_parallel_f32(),
);
