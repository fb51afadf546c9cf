//! Golden numbers of the contract: if these change, the contract changed.

use mandel_core::{pixel_iterations, reference_counts, Precision, Scene};

fn work(scene: &str, precision: Precision) -> u64 {
    let scene = Scene::by_name(scene).unwrap();
    let counts = reference_counts(&scene.frame(), precision).unwrap();
    pixel_iterations(&counts, scene.max_iter)
}

/// The tutorial's frame, as in `../shared/notes/measurements.md`.
#[test]
fn classic_f64_is_205_785_865_pixel_iterations() {
    assert_eq!(work("classic", Precision::F64), 205_785_865);
}
