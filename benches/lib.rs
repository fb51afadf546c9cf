//! What the criterion benches time: for a scene, every discovered kernel that can run it, and
//! the check each must pass before it is timed, so a benchmark never times a wrong answer.

use mandel_core::{
    pixel_iterations, reference_counts, Availability, Frame, MandelKernel, Precision, Scene,
    INEXACT_TOLERANCE,
};
use mandel_harness::registry::{discovered_kernels, left_out_of_this_build};

/// A scene's frame, its reference counts, the kernels that can run it, and why others cannot.
pub struct SceneCases {
    /// The frame of the scene.
    pub frame: Frame,
    /// Kernels that are available and can represent the frame, in rung order.
    pub kernels: Vec<Box<dyn MandelKernel>>,
    /// One line per kernel left out (unavailable, or its precision cannot resolve the scene).
    pub skipped: Vec<String>,
    /// One line per kernel whose crate this build leaves out (an optional rung without its
    /// feature): not a fault of the machine, so kept apart from `skipped`.
    pub not_built: Vec<String>,
    references: Vec<(Precision, Vec<u32>)>,
}

impl SceneCases {
    /// Every discovered kernel that can run `scene`, and the references they are checked against.
    /// Cheap to call for a scene whose benchmarks are filtered out: no kernel runs here.
    pub fn new(scene: &Scene) -> SceneCases {
        let frame = scene.frame();
        let mut kernels = Vec::new();
        let mut skipped = Vec::new();
        let mut not_built = Vec::new();
        for (crate_name, kernel) in discovered_kernels() {
            let name = kernel.name();
            if let Some(why) = left_out_of_this_build(crate_name) {
                not_built.push(format!("{name}: {why}"));
            } else if let Availability::Unavailable(reason) = kernel.availability() {
                skipped.push(format!("{name}: unavailable: {reason}"));
            } else if !scene.supports(kernel.precision()) {
                skipped.push(format!("{name}: {} cannot resolve scene {}", kernel.precision(), scene.name()));
            } else {
                kernels.push(kernel);
            }
        }
        SceneCases { frame, kernels, skipped, not_built, references: Vec::new() }
    }

    /// The work of the reference in `precision` (computed on first use): the throughput, in
    /// elements, of a kernel of that precision.
    pub fn pixel_iterations(&mut self, precision: Precision) -> u64 {
        let max_iter = self.frame.max_iter();
        pixel_iterations(self.reference(precision), max_iter)
    }

    /// Runs `kernel` once and compares it with the reference: `Err` says what is wrong.
    pub fn verify(&mut self, kernel: &dyn MandelKernel) -> Result<(), String> {
        let mut out = vec![0; self.frame.pixel_count()];
        kernel.compute(&self.frame, &mut out).map_err(|e| format!("{} failed: {e}", kernel.name()))?;
        let reference = self.reference(kernel.precision());
        let differing = out.iter().zip(reference).filter(|(a, b)| a != b).count();
        let allowed = if kernel.is_exact() { 0.0 } else { INEXACT_TOLERANCE * out.len() as f64 };
        if differing as f64 > allowed {
            return Err(format!("{} is WRONG: {differing} pixels differ from the reference", kernel.name()));
        }
        Ok(())
    }

    fn reference(&mut self, precision: Precision) -> &[u32] {
        let k = match self.references.iter().position(|(p, _)| *p == precision) {
            Some(k) => k,
            None => {
                // Scenes are valid in every precision they support (a mandel-core test says so).
                let counts = reference_counts(&self.frame, precision).expect("a scene's reference computes");
                self.references.push((precision, counts));
                self.references.len() - 1
            }
        };
        &self.references[k].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_discovered_kernel_is_benched_on_the_quick_scene_and_passes_its_check() {
        let mut cases = SceneCases::new(Scene::by_name("quick").unwrap());
        assert!(cases.skipped.is_empty(), "{:?}", cases.skipped);
        let discovered: Vec<String> = discovered_kernels()
            .iter()
            .filter(|(crate_name, _)| left_out_of_this_build(crate_name).is_none())
            .map(|(_, k)| k.name().to_string())
            .collect();
        let names: Vec<String> = cases.kernels.iter().map(|k| k.name().to_string()).collect();
        assert_eq!(names, discovered);
        let kernels = std::mem::take(&mut cases.kernels);
        for kernel in &kernels {
            cases.verify(kernel.as_ref()).unwrap();
        }
        assert_eq!(cases.pixel_iterations(Precision::F64), 3_700_864, "the quick scene's f64 work");
    }

    #[test]
    fn a_wrong_kernel_fails_its_check() {
        let mut cases = SceneCases::new(Scene::by_name("quick").unwrap());
        let wrong = mandel_testkit::FnKernel {
            name: "wrong",
            description: "counts everything as interior",
            precision: Precision::F64,
            exact: true,
            unavailable: None,
            compute: Box::new(|frame, out| {
                out.fill(frame.max_iter());
                Ok(())
            }),
        };
        let err = cases.verify(&wrong).unwrap_err();
        assert!(err.contains("wrong is WRONG"), "{err}");
    }

    #[test]
    fn f32_kernels_are_left_out_of_scenes_f32_cannot_resolve() {
        let cases = SceneCases::new(Scene::by_name("deep").unwrap());
        assert!(cases.kernels.iter().all(|k| k.precision() == Precision::F64));
        let f32_kernels = discovered_kernels()
            .iter()
            .filter(|(crate_name, k)| {
                k.precision() == Precision::F32 && left_out_of_this_build(crate_name).is_none()
            })
            .count();
        assert_eq!(cases.skipped.len(), f32_kernels, "{:?}", cases.skipped);
    }
}
