//! Named scenes: stable frames shared by the tests, the race and the benches.

use crate::{Frame, Precision, Viewport};

/// A named, fixed frame. Only the constants in [`SCENES`] exist (the fields are private), and a
/// test proves each of them valid, so the accessors below cannot fail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scene {
    name: &'static str,
    description: &'static str,
    bounds: [f64; 4],
    width: u32,
    height: u32,
    max_iter: u32,
}

/// Every named scene, in the order they are listed.
pub const SCENES: &[Scene] = &[
    Scene {
        name: "classic",
        description: "The 2011 tutorial's frame: the whole set, 1000x1000, max_iter 1000",
        bounds: [-2.13, 0.77, -1.3, 1.3],
        width: 1000,
        height: 1000,
        max_iter: 1000,
    },
    Scene {
        name: "quick",
        description: "The classic bounds at 256x256, max_iter 256: seconds for CI and impatient people",
        bounds: [-2.13, 0.77, -1.3, 1.3],
        width: 256,
        height: 256,
        max_iter: 256,
    },
    Scene {
        name: "seahorse",
        description: "Seahorse valley, a boundary-heavy zoom: long, uneven escape times",
        bounds: [-0.7565, -0.7365, 0.0915, 0.1115],
        width: 640,
        height: 640,
        max_iter: 2000,
    },
    Scene {
        name: "deep",
        description: "A deep zoom, span 1e-12: only f64 can resolve it (f32 refuses)",
        bounds: [
            -0.743_643_887_037_651,
            -0.743_643_887_036_651,
            0.131_825_904_205_080,
            0.131_825_904_205_830,
        ],
        width: 400,
        height: 300,
        max_iter: 4000,
    },
];

impl Scene {
    /// Its id (`classic`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// One line: what it shows and why it is here.
    pub fn description(&self) -> &'static str {
        self.description
    }
    /// `[x_min, x_max, y_min, y_max]`.
    pub fn bounds(&self) -> [f64; 4] {
        self.bounds
    }
    /// `(width, height)` in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    /// The iteration limit.
    pub fn max_iter(&self) -> u32 {
        self.max_iter
    }

    /// The scene called `name`.
    pub fn by_name(name: &str) -> Option<&'static Scene> {
        SCENES.iter().find(|scene| scene.name == name)
    }

    /// All scene names, comma-separated (for error messages).
    pub fn names() -> String {
        SCENES.iter().map(|scene| scene.name).collect::<Vec<_>>().join(", ")
    }

    /// The scene's viewport.
    pub fn viewport(&self) -> Viewport {
        let [x_min, x_max, y_min, y_max] = self.bounds;
        Viewport::from_bounds(x_min, x_max, y_min, y_max, self.width, self.height)
            .expect("every named scene is a valid viewport (tested below)")
    }

    /// The whole frame of the scene.
    pub fn frame(&self) -> Frame {
        Frame::new(self.viewport(), self.max_iter)
    }

    /// Whether the scene can be computed in `precision` (the deep zoom cannot in f32).
    pub fn supports(&self, precision: Precision) -> bool {
        self.frame().check_precision(precision).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scene_is_valid_and_named_uniquely() {
        for (k, scene) in SCENES.iter().enumerate() {
            let [x_min, x_max, y_min, y_max] = scene.bounds;
            assert!(Viewport::from_bounds(x_min, x_max, y_min, y_max, scene.width, scene.height).is_ok());
            assert!(scene.supports(Precision::F64), "{}", scene.name);
            assert!(crate::is_valid_kernel_name(scene.name), "scene names are simple ids");
            assert!(SCENES[..k].iter().all(|other| other.name != scene.name));
            assert_eq!(Scene::by_name(scene.name), Some(scene));
        }
        assert_eq!(Scene::by_name("nope"), None);
    }

    #[test]
    fn deep_zoom_is_f64_only() {
        let deep = Scene::by_name("deep").unwrap();
        assert!(deep.supports(Precision::F64));
        assert!(!deep.supports(Precision::F32));
        assert!(Scene::by_name("classic").unwrap().supports(Precision::F32));
    }
}
