//! The WGSL shader in each precision, and what each precision asks of the device.

use mandel_core::Real;

use crate::tiles::{Shape, LIST_WORKGROUP};

/// The template both shaders are made from (`src/mandel.wgsl`).
const TEMPLATE: &str = include_str!("mandel.wgsl");

/// A float type the GPU kernels compute in: `f32` or `f64`.
pub trait GpuReal: Real + bytemuck::Pod + sealed::Sealed {
    /// The kernel's name.
    const KERNEL_NAME: &'static str;
    /// The name of its variant with plain arithmetic.
    const PLAIN_NAME: &'static str;
    /// The WGSL float type.
    const WGSL: &'static str;
    /// The WGSL unsigned integer of the same width, for the opaque identity.
    const BITS: &'static str;
    /// A zero of that integer that only exists at run time.
    const ZERO_BITS: &'static str;
    /// What the device must offer.
    const FEATURES: wgpu::Features;
    /// The same, for a person.
    const FEATURES_TEXT: &'static str;
    /// Which of the device's pipelines is this precision's.
    const SLOT: usize;
}

impl GpuReal for f32 {
    const KERNEL_NAME: &'static str = "gpu-f32";
    const PLAIN_NAME: &'static str = "gpu-f32-plain";
    const WGSL: &'static str = "f32";
    const BITS: &'static str = "u32";
    const ZERO_BITS: &'static str = "params.zero";
    const FEATURES: wgpu::Features = wgpu::Features::empty();
    const FEATURES_TEXT: &'static str = "nothing";
    const SLOT: usize = 0;
}

// ANCHOR: f64
impl GpuReal for f64 {
    const KERNEL_NAME: &'static str = "gpu-f64";
    const PLAIN_NAME: &'static str = "gpu-f64-plain";
    const WGSL: &'static str = "f64";
    const BITS: &'static str = "u64";
    const ZERO_BITS: &'static str = "u64(params.zero)";
    // 64-bit integers too: the opaque identity XORs an f64's bits as a u64.
    const FEATURES: wgpu::Features = wgpu::Features::SHADER_F64.union(wgpu::Features::SHADER_INT64);
    const FEATURES_TEXT: &'static str = "64-bit floats and integers (SHADER_F64, SHADER_INT64)";
    const SLOT: usize = 1;
}
// ANCHOR_END: f64

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// How the shader does its arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arithmetic {
    /// Every operation through the opaque identity: rounded on its own, bit-exact.
    Opaque,
    /// Plain WGSL arithmetic, which the driver may fuse and reorder: what exactness costs is
    /// the difference in time between the two.
    Plain,
}

// ANCHOR: source
/// The shader for `R`, whose `first` dispatch has workgroups of `shape`.
pub fn source<R: GpuReal>(arithmetic: Arithmetic, shape: Shape) -> String {
    let opaque = "return bitcast<{real}>(bitcast<{bits}>(x) ^ {zero});";
    let template = match arithmetic {
        Arithmetic::Opaque => TEMPLATE.to_string(),
        Arithmetic::Plain => {
            assert!(TEMPLATE.contains(opaque), "the template's opaque identity is `{opaque}`");
            TEMPLATE.replace(opaque, "return x;")
        }
    };
    template
        .replace("{real}", R::WGSL)
        .replace("{bits}", R::BITS)
        .replace("{zero}", R::ZERO_BITS)
        .replace("{tile_x}", &shape.x.to_string())
        .replace("{tile_y}", &shape.y.to_string())
        .replace("{list}", &LIST_WORKGROUP.to_string())
}
// ANCHOR_END: source

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shaders_parse_and_validate() {
        // naga, through wgpu, is the compiler every backend starts from.
        let f64_capabilities =
            wgpu::naga::valid::Capabilities::FLOAT64 | wgpu::naga::valid::Capabilities::SHADER_INT64;
        let shape = Shape::SQUARE;
        for (source, capabilities) in [
            (source::<f32>(Arithmetic::Opaque, shape), wgpu::naga::valid::Capabilities::empty()),
            (source::<f64>(Arithmetic::Opaque, Shape::ROW_256), f64_capabilities),
            (source::<f32>(Arithmetic::Plain, shape), wgpu::naga::valid::Capabilities::empty()),
            (source::<f64>(Arithmetic::Plain, shape), f64_capabilities),
        ] {
            for placeholder in ["{real}", "{bits}", "{zero}", "{tile_x}", "{tile_y}", "{list}"] {
                assert!(!source.contains(placeholder), "{placeholder} left in the shader");
            }
            let module = wgpu::naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&source)));
            wgpu::naga::valid::Validator::new(wgpu::naga::valid::ValidationFlags::all(), capabilities)
                .validate(&module)
                .unwrap_or_else(|e| panic!("{e:?}"));
        }
    }

    #[test]
    fn every_float_operation_of_the_step_is_opaque() {
        // The loop's arithmetic lines: each product, sum and difference is wrapped.
        let shape = Shape::SQUARE;
        let f64_opaque = source::<f64>(Arithmetic::Opaque, shape);
        assert!(f64_opaque.contains("bitcast<f64>(bitcast<u64>(x) ^ u64(params.zero))"), "{f64_opaque}");
        assert!(!source::<f32>(Arithmetic::Plain, shape).contains("bitcast"));
        let source = source::<f32>(Arithmetic::Opaque, shape);
        assert!(source.contains("bitcast<f32>(bitcast<u32>(x) ^ params.zero)"), "{source}");
        for line in ["opaque(zr * zi)", "opaque(opaque(p + p) + ci)", "opaque(opaque(zr2 - zi2) + cr)"] {
            assert!(source.contains(line), "{line}");
        }
        assert!(source.contains("opaque(zr * zr)") && source.contains("opaque(zi * zi)"));
        assert!(source.contains("opaque(zr2 + zi2) > 4.0"));
        // A resumed orbit's squares are recomputed through the identity too.
        assert!(
            source.contains("var zr2 = opaque(zr * zr);") && source.contains("var zi2 = opaque(zi * zi);")
        );
    }

    #[test]
    fn the_shapes_are_the_ones_asked_for() {
        let source = source::<f32>(Arithmetic::Opaque, Shape::ROW_256);
        assert!(source.contains("@workgroup_size(256, 1, 1)\nfn first"), "{source}");
        assert!(source.contains(&format!("@workgroup_size({LIST_WORKGROUP}, 1, 1)\nfn resume")));
    }
}
