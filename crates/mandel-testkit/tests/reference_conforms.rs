//! The kit's generated tests on the reference itself, in both precisions: they must pass.
//!
//! Comparing the reference with itself cannot fail, so this proves the macro expands and runs;
//! the checks that test something real here are the band, buffer, limit and metadata checks
//! and the f32 refusal of the deep scene. `wrong_kernels.rs` proves the kit catches mistakes.
use mandel_core::ReferenceKernel;

mandel_testkit::conformance!(
    reference_f64 => ReferenceKernel::<f64>::new(),
    reference_f32 => ReferenceKernel::<f32>::new(),
);
