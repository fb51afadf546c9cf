//! Golden numbers of the contract: if these change, the contract changed.

use mandel_core::{pixel_iterations, reference_counts, Precision, Scene};

fn work(scene: &str, precision: Precision) -> u64 {
    let scene = Scene::by_name(scene).unwrap();
    let counts = reference_counts(&scene.frame(), precision).unwrap();
    pixel_iterations(&counts, scene.max_iter())
}

/// The tutorial's frame (x in [-2.13, 0.77], y in [-1.3, 1.3], 1000x1000, max_iter 1000):
/// 205,785,865 pixel-iterations in f64, the figure the project's measurements were made on.
#[test]
fn classic_f64_is_205_785_865_pixel_iterations() {
    assert_eq!(work("classic", Precision::F64), 205_785_865);
}

/// The same frame in f32 (pinned so that a change to the f32 path is seen).
#[test]
fn classic_f32_is_205_790_117_pixel_iterations() {
    assert_eq!(work("classic", Precision::F32), 205_790_117);
}
