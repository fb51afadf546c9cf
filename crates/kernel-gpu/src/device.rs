//! The GPU devices this process uses, created on first use and shared by every GPU kernel: the
//! preferred adapter's, and, where that one lacks 64-bit floats, another adapter's for `gpu-f64`.
//! Each holds its compiled pipelines, one set per shader variant.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::shader::{Arithmetic, Carrier, GpuReal};
use crate::tiles::Shape;

/// What to tell a person whose machine has no adapter.
const INSTALL_HINT: &str = "install a Vulkan driver (Debian/Ubuntu: `apt install mesa-vulkan-drivers \
                            libvulkan1` gives lavapipe, a software one)";

/// A device, its queue, what it is, and its pipelines.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub features: wgpu::Features,
    pub limits: wgpu::Limits,
    /// Instance, adapter and device creation together.
    pub set_up: Duration,
    /// Errors wgpu reported outside any error scope (they would otherwise panic).
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// By shader variant, compiled on first use.
    pipelines: Mutex<HashMap<Variant, Result<Arc<Pipelines>, String>>>,
    /// By precision: what the probe frames showed here (compiled and run on first use).
    pub exactness: [OnceLock<Probe>; 2],
}

/// What the probe frames showed for a precision on a device.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The float type the exact kernel computes in here.
    pub carrier: Carrier,
    /// `Ok` if the opaque shader matched the reference on every probe frame in `carrier`;
    /// `Err` says how the native one did not.
    pub exact: Result<(), String>,
    /// Why the carrier is not the native one, if it is not.
    pub note: Option<String>,
    /// How long compiling and probing took.
    pub took: Duration,
}

/// Which shader: its precision, its arithmetic and the shape of its `first` workgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Variant {
    /// [`GpuReal::SLOT`].
    pub precision: usize,
    /// Opaque (exact) or plain.
    pub arithmetic: Arithmetic,
    /// The `first` dispatch's workgroup.
    pub shape: Shape,
    /// The float type it computes in.
    pub carrier: Carrier,
}

/// A compiled Mandelbrot shader: its three entry points and the layouts of their bindings.
pub struct Pipelines {
    /// Every pixel of a tile, from z = 0.
    pub first: wgpu::ComputePipeline,
    /// Sizes the next `resume` dispatch from the live count.
    pub prepare: wgpu::ComputePipeline,
    /// The live pixels of a list, from their saved state.
    pub resume: wgpu::ComputePipeline,
    /// The bindings of `first` and `resume`.
    pub main: wgpu::BindGroupLayout,
    /// The bindings of `prepare`.
    pub control: wgpu::BindGroupLayout,
}

/// The adapters: the preferred one's device, and another for 64-bit floats if it lacks them.
struct Devices {
    preferred: Result<Gpu, String>,
    with_f64: OnceLock<Result<Gpu, String>>,
}

static DEVICES: OnceLock<Devices> = OnceLock::new();

// ANCHOR: backends
/// Vulkan first: wgpu's GL fallback has no 64-bit floats. Metal and DX12 join only when the
/// crate is built with their features.
const BACKENDS: wgpu::Backends =
    wgpu::Backends::VULKAN.union(wgpu::Backends::METAL).union(wgpu::Backends::DX12);
// ANCHOR_END: backends

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: BACKENDS,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

fn devices() -> &'static Devices {
    DEVICES.get_or_init(|| {
        let started = Instant::now();
        let preferred = pollster::block_on(async {
            let adapter = instance()
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::HighPerformance,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("no GPU adapter ({e}); {INSTALL_HINT}"))?;
            Gpu::create(adapter, started).await
        });
        Devices { preferred, with_f64: OnceLock::new() }
    })
}

/// The device kernels in precision `R` run on, created on the first call (`Err` says why there
/// is none, and what to do): the preferred adapter's if it offers what `R` needs, else the
/// first other adapter that does (lavapipe, say, beside a GPU without 64-bit floats).
pub fn gpu_for<R: GpuReal>() -> Result<&'static Gpu, String> {
    let devices = devices();
    let preferred = devices.preferred.as_ref().map_err(Clone::clone)?;
    let Err(lacks) = preferred.supports::<R>() else {
        return Ok(preferred);
    };
    // Only f64 asks for features; every adapter runs f32.
    devices
        .with_f64
        .get_or_init(|| {
            let started = Instant::now();
            pollster::block_on(async {
                let mut adapters = instance().enumerate_adapters(BACKENDS).await;
                let offered: Vec<_> = adapters.iter().map(|a| (a.get_info(), a.features())).collect();
                let Some(chosen) = choose(&preferred.info, &offered, R::FEATURES) else {
                    return Err(format!("{lacks}, and no other adapter does"));
                };
                Gpu::create(adapters.swap_remove(chosen), started).await
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Which of `offered` adapters to use for kernels that need `features`, when the preferred one
/// lacks them: the first other adapter that has them, a GPU before a software one.
fn choose(
    preferred: &wgpu::AdapterInfo,
    offered: &[(wgpu::AdapterInfo, wgpu::Features)],
    features: wgpu::Features,
) -> Option<usize> {
    let rank = |info: &wgpu::AdapterInfo| match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => 2,
        wgpu::DeviceType::Cpu => 3,
    };
    offered
        .iter()
        .enumerate()
        .filter(|(_, (info, has))| has.contains(features) && info != preferred)
        .min_by_key(|(_, (info, _))| rank(info))
        .map(|(index, _)| index)
}

impl Gpu {
    async fn create(adapter: wgpu::Adapter, started: Instant) -> Result<Gpu, String> {
        let info = adapter.get_info();
        let offered = adapter.limits();
        let wanted = wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("mandel"),
                required_features: adapter.features() & wanted,
                // Everything the adapter offers (its largest bindings, for fewer tiles); asking
                // for WebGPU's defaults instead would refuse an adapter below them.
                required_limits: offered,
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| format!("adapter {} refused a device: {e}", info.name))?;
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(error.to_string());
        }));
        Ok(Gpu {
            features: device.features(),
            limits: device.limits(),
            device,
            queue,
            info,
            set_up: started.elapsed(),
            uncaptured,
            pipelines: Mutex::default(),
            exactness: Default::default(),
        })
    }

    /// `llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, llvmpipe Mesa 22.3.6, software)`.
    pub fn describe(&self) -> String {
        let info = &self.info;
        let driver = [info.driver.as_str(), info.driver_info.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let kind = match info.device_type {
            wgpu::DeviceType::Cpu => ", software: runs on the CPU",
            wgpu::DeviceType::IntegratedGpu => ", integrated",
            _ => "",
        };
        format!("{} ({:?}, {driver}{kind})", info.name, info.backend)
    }

    /// Whether the device can run kernels in `R`, and if not, why.
    pub fn supports<R: GpuReal>(&self) -> Result<(), String> {
        if self.features.contains(R::FEATURES) {
            Ok(())
        } else {
            Err(format!("{} does not offer {}", self.info.name, R::FEATURES_TEXT))
        }
    }

    /// The pipelines of the shader in `R` with `arithmetic` and `shape`, computing in `carrier`,
    /// compiled on first use.
    pub fn pipelines<R: GpuReal>(
        &self,
        arithmetic: Arithmetic,
        shape: Shape,
        carrier: Carrier,
    ) -> Result<Arc<Pipelines>, String> {
        let variant = Variant { precision: R::SLOT, arithmetic, shape, carrier };
        let mut pipelines = self.pipelines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pipelines.entry(variant).or_insert_with(|| self.compile::<R>(variant).map(Arc::new)).clone()
    }

    fn compile<R: GpuReal>(&self, variant: Variant) -> Result<Pipelines, String> {
        self.supports::<R>()?;
        if variant.carrier == Carrier::F64 {
            self.supports::<f64>()?;
        }
        let errors = self.capture_errors();
        let source = crate::shader::source::<R>(variant.arithmetic, variant.shape, variant.carrier);
        let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(R::KERNEL_NAME),
            source: wgpu::ShaderSource::Wgsl(Cow::Owned(source)),
        });
        let buffer = |binding, ty| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None },
            count: None,
        };
        let read_only = wgpu::BufferBindingType::Storage { read_only: true };
        let read_write = wgpu::BufferBindingType::Storage { read_only: false };
        let uniform = wgpu::BufferBindingType::Uniform;
        let layout = |entries: &[wgpu::BindGroupLayoutEntry]| {
            self.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(R::KERNEL_NAME),
                entries,
            })
        };
        // The binding numbers are the shader's (`mandel.wgsl`).
        let main = layout(&[
            buffer(0, uniform),
            buffer(1, read_only),
            buffer(2, read_only),
            buffer(3, read_write),
            buffer(4, read_write),
            buffer(5, read_write),
            buffer(6, read_write),
        ]);
        let control = layout(&[buffer(0, uniform), buffer(6, read_write), buffer(7, read_write)]);
        let pipeline = |bindings: &wgpu::BindGroupLayout, entry_point: &str| {
            let layout = self.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(R::KERNEL_NAME),
                bind_group_layouts: &[Some(bindings)],
                immediate_size: 0,
            });
            self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry_point),
                layout: Some(&layout),
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let pipelines = Pipelines {
            first: pipeline(&main, "first"),
            prepare: pipeline(&control, "prepare"),
            resume: pipeline(&main, "resume"),
            main,
            control,
        };
        errors.check().map_err(|e| format!("the {} shader does not compile: {e}", R::KERNEL_NAME))?;
        Ok(pipelines)
    }

    /// Collects the device's errors from now until [`Capture::check`]: validation errors and
    /// running out of memory, in the scopes of this thread, and anything uncaptured.
    pub fn capture_errors(&self) -> Capture<'_> {
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        Capture { gpu: self, scopes: Some((validation, out_of_memory)) }
    }
}

/// Error scopes opened by [`Gpu::capture_errors`], innermost first. wgpu panics when scopes are
/// popped out of order, so they are popped by [`Capture::check`] or, on an early return, by
/// `Drop`, always innermost first.
pub struct Capture<'a> {
    gpu: &'a Gpu,
    scopes: Option<(wgpu::ErrorScopeGuard, wgpu::ErrorScopeGuard)>,
}

impl Drop for Capture<'_> {
    fn drop(&mut self) {
        if let Some((validation, out_of_memory)) = self.scopes.take() {
            drop(validation);
            drop(out_of_memory);
        }
    }
}

impl Capture<'_> {
    /// Closes the scopes: `Err` with the first error reported in them (or uncaptured meanwhile),
    /// on one line.
    pub fn check(mut self) -> Result<(), String> {
        let (validation, out_of_memory) = self.scopes.take().expect("checked once");
        let validation = pollster::block_on(validation.pop());
        let out_of_memory = pollster::block_on(out_of_memory.pop());
        if let Some(error) = validation.or(out_of_memory) {
            return Err(one_line(&error.to_string()));
        }
        let mut uncaptured = self.gpu.uncaptured.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let first = uncaptured.drain(..).next();
        first.map_or(Ok(()), |error| Err(one_line(&error)))
    }
}

/// wgpu's multi-line error reports ("Validation Error\n\nCaused by:\n  ...") as one line.
pub fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    fn adapter(name: &str, device_type: wgpu::DeviceType) -> wgpu::AdapterInfo {
        wgpu::AdapterInfo { name: name.into(), ..wgpu::AdapterInfo::new(device_type, wgpu::Backend::Vulkan) }
    }

    #[test]
    fn f64_goes_to_another_adapter_that_has_it_a_gpu_before_software() {
        use wgpu::{DeviceType, Features};
        let f64 = Features::SHADER_F64 | Features::SHADER_INT64;
        let laptop = adapter("Integrated GPU without f64", DeviceType::IntegratedGpu);
        let lavapipe = adapter("llvmpipe", DeviceType::Cpu);
        let discrete = adapter("Discrete GPU", DeviceType::DiscreteGpu);
        let offered = [(laptop.clone(), Features::empty()), (lavapipe.clone(), f64), (discrete.clone(), f64)];
        assert_eq!(super::choose(&laptop, &offered, f64), Some(2), "the discrete GPU");
        assert_eq!(super::choose(&laptop, &offered[..2], f64), Some(1), "lavapipe, when it is the only one");
        assert_eq!(super::choose(&laptop, &offered[..1], f64), None, "none has it");
        // The preferred adapter itself is never the fallback.
        assert_eq!(super::choose(&lavapipe, &offered[1..2], f64), None);
    }

    #[test]
    fn wgpu_reports_become_one_line() {
        let report = "Validation Error\n\nCaused by:\n  In a dispatch\n    size 100000 > 65535\n";
        assert_eq!(super::one_line(report), "Validation Error Caused by: In a dispatch size 100000 > 65535");
    }
}
