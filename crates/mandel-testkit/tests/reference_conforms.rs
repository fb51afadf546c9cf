//! The kit's generated tests, run on the reference itself in both precisions: they must pass.
use mandel_core::ReferenceKernel;

mandel_testkit::conformance!(
    reference_f64 => ReferenceKernel::<f64>::new(),
    reference_f32 => ReferenceKernel::<f32>::new(),
);
