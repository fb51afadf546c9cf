//! The one GPU device this process uses, created on first use and shared by every GPU kernel,
//! with one compiled pipeline per precision.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::shader::{Arithmetic, GpuReal};

/// What to tell a person whose machine has no adapter.
const INSTALL_HINT: &str = "install a Vulkan driver (Debian/Ubuntu: `apt install mesa-vulkan-drivers \
                            libvulkan1` gives lavapipe, a software one)";

/// The device, its queue, what it is, and its pipelines.
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
    /// By precision, then arithmetic (opaque, plain).
    pipelines: [OnceLock<Result<Pipeline, String>>; 4],
    /// By precision: whether the opaque shader matched the reference on the probe frames here
    /// (`Err` says how it did not), and how long compiling it and probing took.
    pub exactness: [OnceLock<(Result<(), String>, Duration)>; 2],
}

/// A compiled Mandelbrot shader and the layout of its bindings.
pub struct Pipeline {
    pub pipeline: wgpu::ComputePipeline,
    pub bindings: wgpu::BindGroupLayout,
}

static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();

/// The shared device, created on the first call (`Err` says why there is none, and what to do).
pub fn gpu() -> Result<&'static Gpu, String> {
    GPU.get_or_init(|| pollster::block_on(Gpu::create())).as_ref().map_err(Clone::clone)
}

impl Gpu {
    async fn create() -> Result<Gpu, String> {
        let started = Instant::now();
        // ANCHOR: backends
        // Vulkan first: wgpu's GL fallback has no 64-bit floats. Metal and DX12 join only when
        // the crate is built with their features.
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        // ANCHOR_END: backends
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("no GPU adapter ({e}); {INSTALL_HINT}"))?;
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
            pipelines: Default::default(),
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

    /// The pipeline for `R` and `arithmetic`, compiled on first use.
    pub fn pipeline<R: GpuReal>(&self, arithmetic: Arithmetic) -> Result<&Pipeline, String> {
        let slot = R::SLOT * 2 + usize::from(arithmetic == Arithmetic::Plain);
        self.pipelines[slot].get_or_init(|| self.compile::<R>(arithmetic)).as_ref().map_err(Clone::clone)
    }

    fn compile<R: GpuReal>(&self, arithmetic: Arithmetic) -> Result<Pipeline, String> {
        self.supports::<R>()?;
        let errors = self.capture_errors();
        let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(R::KERNEL_NAME),
            source: wgpu::ShaderSource::Wgsl(Cow::Owned(crate::shader::source::<R>(arithmetic))),
        });
        let buffer = |binding, ty| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None },
            count: None,
        };
        let read_only = wgpu::BufferBindingType::Storage { read_only: true };
        let bindings = self.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(R::KERNEL_NAME),
            entries: &[
                buffer(0, wgpu::BufferBindingType::Uniform),
                buffer(1, read_only),
                buffer(2, read_only),
                buffer(3, wgpu::BufferBindingType::Storage { read_only: false }),
            ],
        });
        let layout = self.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(R::KERNEL_NAME),
            bind_group_layouts: &[Some(&bindings)],
            immediate_size: 0,
        });
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(R::KERNEL_NAME),
            layout: Some(&layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        errors.check().map_err(|e| format!("the {} shader does not compile: {e}", R::KERNEL_NAME))?;
        Ok(Pipeline { pipeline, bindings })
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
    #[test]
    fn wgpu_reports_become_one_line() {
        let report = "Validation Error\n\nCaused by:\n  In a dispatch\n    size 100000 > 65535\n";
        assert_eq!(super::one_line(report), "Validation Error Caused by: In a dispatch size 100000 > 65535");
    }
}
