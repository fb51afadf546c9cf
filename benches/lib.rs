//! What the criterion benches time: for a scene, every discovered kernel that can run it,
//! verified once against the reference, so a benchmark never times a wrong answer.

use mandel_core::{
    pixel_iterations, reference_counts, Availability, Frame, MandelKernel, Precision, Scene,
    INEXACT_TOLERANCE,
};
use mandel_harness::registry::discovered_kernels;

/// One kernel to time on one scene.
pub struct Case {
    /// The kernel.
    pub kernel: Box<dyn MandelKernel>,
    /// The work of its own output: criterion's throughput, in elements (pixel-iterations).
    pub pixel_iterations: u64,
}

/// A scene's frame, the kernels to time on it, and why others are left out.
pub struct SceneCases {
    /// The frame of the scene.
    pub frame: Frame,
    /// Verified kernels, in rung order.
    pub cases: Vec<Case>,
    /// One line per kernel left out (unavailable, unsupported precision, wrong).
    pub skipped: Vec<String>,
}

/// Every discovered kernel that can run `scene`, each checked once against the reference.
pub fn scene_cases(scene: &Scene) -> SceneCases {
    let frame = scene.frame();
    let mut references: Vec<(Precision, Vec<u32>)> = Vec::new();
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for (_, kernel) in discovered_kernels() {
        let name = kernel.name().to_string();
        if let Availability::Unavailable(reason) = kernel.availability() {
            skipped.push(format!("{name}: unavailable: {reason}"));
            continue;
        }
        let precision = kernel.precision();
        if !scene.supports(precision) {
            skipped.push(format!("{name}: {precision} cannot resolve scene {}", scene.name()));
            continue;
        }
        if !references.iter().any(|(p, _)| *p == precision) {
            match reference_counts(&frame, precision) {
                Ok(counts) => references.push((precision, counts)),
                Err(e) => {
                    skipped.push(format!("{name}: no reference: {e}"));
                    continue;
                }
            }
        }
        let reference = &references.iter().find(|(p, _)| *p == precision).expect("computed above").1;
        let mut out = vec![0; frame.pixel_count()];
        if let Err(e) = kernel.compute(&frame, &mut out) {
            skipped.push(format!("{name}: failed: {e}"));
            continue;
        }
        let differing = out.iter().zip(reference).filter(|(a, b)| a != b).count();
        let allowed = if kernel.is_exact() { 0.0 } else { INEXACT_TOLERANCE * out.len() as f64 };
        if differing as f64 > allowed {
            skipped.push(format!("{name}: WRONG: {differing} pixels differ from the reference"));
            continue;
        }
        cases.push(Case { pixel_iterations: pixel_iterations(&out, frame.max_iter()), kernel });
    }
    SceneCases { frame, cases, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_discovered_kernel_is_a_case_of_the_quick_scene() {
        let scene = Scene::by_name("quick").unwrap();
        let cases = scene_cases(scene);
        assert!(cases.skipped.is_empty(), "{:?}", cases.skipped);
        let names: Vec<&str> = cases.cases.iter().map(|c| c.kernel.name()).collect();
        let discovered: Vec<String> =
            discovered_kernels().iter().map(|(_, k)| k.name().to_string()).collect();
        assert_eq!(names, discovered);
        let work = pixel_iterations(&reference_counts(&cases.frame, Precision::F64).unwrap(), 256);
        for case in cases.cases.iter().filter(|c| c.kernel.precision() == Precision::F64) {
            assert_eq!(case.pixel_iterations, work, "{}", case.kernel.name());
        }
    }

    #[test]
    fn f32_kernels_are_left_out_of_scenes_f32_cannot_resolve() {
        let cases = scene_cases(Scene::by_name("deep").unwrap());
        assert!(cases.cases.iter().all(|c| c.kernel.precision() == Precision::F64));
        let f32_kernels =
            discovered_kernels().iter().filter(|(_, k)| k.precision() == Precision::F32).count();
        assert_eq!(cases.skipped.len(), f32_kernels, "{:?}", cases.skipped);
    }
}
