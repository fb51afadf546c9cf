//! The WGSL shader in each precision, and what each precision asks of the device.

use mandel_core::Real;

use crate::tiles::{Shape, LIST_WORKGROUP};

/// The template both shaders are made from (`src/mandel.wgsl`).
const TEMPLATE: &str = include_str!("mandel.wgsl");

/// f32's rounding on the f64 units (`src/round32.wgsl`).
const ROUND32: &str = include_str!("round32.wgsl");

/// The float type the shader computes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// The kernel's own precision.
    Native,
    /// f64, with every result rounded to f32 (`round32`): f32 kernels on devices that flush
    /// f32 subnormals to zero but have exact 64-bit floats and integers.
    F64,
}

impl Carrier {
    /// Bytes of one real in this carrier for a kernel in `R`.
    pub fn size<R: GpuReal>(self) -> u64 {
        match self {
            Carrier::Native => size_of::<R>() as u64,
            Carrier::F64 => 8,
        }
    }
}

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
    /// The value as an f64 (exactly: every f32 is an f64).
    fn widen(self) -> f64;
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
    fn widen(self) -> f64 {
        f64::from(self)
    }
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
    fn widen(self) -> f64 {
        self
    }
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
/// The shader for `R`, whose `first` dispatch has workgroups of `shape`, computing in `carrier`.
pub fn source<R: GpuReal>(arithmetic: Arithmetic, shape: Shape, carrier: Carrier) -> String {
    let opaque = "return {narrow}(bitcast<{real}>(bitcast<{bits}>(x) ^ {zero}));";
    let template = match arithmetic {
        Arithmetic::Opaque => TEMPLATE.to_string(),
        Arithmetic::Plain => {
            assert!(TEMPLATE.contains(opaque), "the template's opaque identity is `{opaque}`");
            TEMPLATE.replace(opaque, "return x;")
        }
    };
    let (real, bits, zero, narrow, round32) = match carrier {
        Carrier::Native => (R::WGSL, R::BITS, R::ZERO_BITS, "", ""),
        Carrier::F64 => {
            (<f64 as GpuReal>::WGSL, <f64 as GpuReal>::BITS, <f64 as GpuReal>::ZERO_BITS, "round32", ROUND32)
        }
    };
    template
        .replace("{round32}", round32)
        .replace("{narrow}", narrow)
        .replace("{real}", real)
        .replace("{bits}", bits)
        .replace("{zero}", zero)
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
        let native = Carrier::Native;
        for (source, capabilities) in [
            (source::<f32>(Arithmetic::Opaque, shape, native), wgpu::naga::valid::Capabilities::empty()),
            (source::<f64>(Arithmetic::Opaque, Shape::ROW_256, native), f64_capabilities),
            (source::<f32>(Arithmetic::Plain, shape, native), wgpu::naga::valid::Capabilities::empty()),
            (source::<f64>(Arithmetic::Plain, shape, native), f64_capabilities),
            (source::<f32>(Arithmetic::Opaque, shape, Carrier::F64), f64_capabilities),
        ] {
            for placeholder in
                ["{real}", "{bits}", "{zero}", "{tile_x}", "{tile_y}", "{list}", "{narrow}", "{round32}"]
            {
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
        let (shape, native) = (Shape::SQUARE, Carrier::Native);
        let f64_opaque = source::<f64>(Arithmetic::Opaque, shape, native);
        assert!(
            f64_opaque.contains("return (bitcast<f64>(bitcast<u64>(x) ^ u64(params.zero)));"),
            "{f64_opaque}"
        );
        assert!(!source::<f32>(Arithmetic::Plain, shape, native).contains("bitcast"));
        // f32 on the f64 units: every result rounded to f32, and no f32 arithmetic left.
        let on_f64 = source::<f32>(Arithmetic::Opaque, shape, Carrier::F64);
        assert!(
            on_f64.contains("return round32(bitcast<f64>(bitcast<u64>(x) ^ u64(params.zero)));"),
            "{on_f64}"
        );
        assert!(!on_f64.contains("<f32>") && !on_f64.contains(": f32"), "{on_f64}");
        let source = source::<f32>(Arithmetic::Opaque, shape, native);
        assert!(source.contains("return (bitcast<f32>(bitcast<u32>(x) ^ params.zero));"), "{source}");
        assert!(!source.contains("fn round32"));
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
        let source = source::<f32>(Arithmetic::Opaque, Shape::ROW_256, Carrier::Native);
        assert!(source.contains("@workgroup_size(256, 1, 1)\nfn first"), "{source}");
        assert!(source.contains(&format!("@workgroup_size({LIST_WORKGROUP}, 1, 1)\nfn resume")));
    }
}
