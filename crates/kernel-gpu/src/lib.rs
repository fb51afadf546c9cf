//! Rung 5, GPU: a WGSL compute shader through wgpu, one invocation per pixel, bit-exact in f32
//! and in f64.
//!
//! The tutorial's pyCUDA step, done portably: wgpu runs on Vulkan (and Metal or DX12 with this
//! crate's features), and on Mesa's lavapipe, a software Vulkan driver, on machines with no GPU.
//!
//! # Why it is bit-exact, and what that costs
//! A plain WGSL Mandelbrot is not: drivers may fuse a multiply into an add, or reassociate
//! `(zr*zr - zi*zi) + cr` into `(zr*zr + cr) - zi*zi`, and WGSL has no way to forbid either.
//! lavapipe does the second: a plain shader differs from the reference on thousands of pixels
//! of the classic frame in f32 (docs/gpu.md has the measured count). So every product, sum and difference passes through `opaque`, an
//! identity the compiler cannot see through: the value's bits XORed with a zero that the shader
//! reads from a uniform at run time. Nothing can be fused or moved across it, so each operation
//! is rounded on its own, exactly as the contract says. `just gpu-cost` races it against the
//! same shader with plain arithmetic; docs/gpu.md has what it measured. The other route seen
//! to work, SPIR-V decorated `NoContraction`, needs wgpu's `unsafe` passthrough, Vulkan only,
//! and this workspace forbids `unsafe`.
//!
//! The identity cannot stop a device that flushes subnormal numbers to zero (NVIDIA's Vulkan
//! driver does in f32; lavapipe does not), nor one that mishandles infinity. So each precision
//! is tried once per process on small probe frames of exactly those kinds. Where the f32 shader
//! differs and the device has exact 64-bit floats and integers, `gpu-f32` computes in f64 and
//! rounds every result to f32 in the shader ([`Carrier::F64`], `round32.wgsl`), probed the same
//! way. Where nothing passes, the kernel declares itself inexact, its device line says why, and
//! the race shows how many pixels differ.
//!
//! # Shape of a call
//! One device per adapter (`device.rs`), created on first use and shared; one set of pipelines
//! per shader variant, compiled once; per kernel, buffers sized for the largest tile so far,
//! reused. Coordinates come from [`Grid::cx`] and [`Grid::cy`] on the CPU (a column and a row
//! of them per tile, uploaded), so the GPU never evaluates `x_min + i*dx` itself. A frame larger
//! than one binding or one dispatch, or whose worst-case work could trip an OS GPU watchdog, is
//! cut into [`tiles`], each computed, waited for and read back into the caller's slice.
//!
//! # Any `max_iter`: resumable dispatches
//! No invocation runs more than [`tiles::CHUNK`] iterations in one dispatch: llvmpipe stops
//! every shader loop after 65,535 iterations, and an OS watchdog resets a GPU whose dispatch
//! runs too long. A pixel whose orbit outlives its chunk saves z (its count is already in the
//! output) and joins a list of live pixels; the next dispatch, sized on the GPU from the list's
//! length (`dispatch_workgroups_indirect`), resumes exactly those pixels from their saved state,
//! and appends the ones still live to a second list, and so on until no pixel is live. Finished
//! pixels are never dispatched again, and the live ones are packed into full workgroups however
//! scattered they are in the frame. Resuming changes no count: the state is z itself, and the
//! squares the next iteration needs are recomputed from it with the same rounded operations
//! that produced them (the shader's `iterate` says so where it does it). A frame whose
//! `max_iter` fits in one chunk is one dispatch per tile, as before, and keeps no state.

mod device;
mod shader;
pub mod tiles;

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

use mandel_core::{
    reference_counts, Availability, Frame, Grid, KernelError, MandelKernel, Precision, Viewport,
};

pub use shader::{Arithmetic, Carrier, GpuReal};
use tiles::{Shape, Tile, TileLimits, TILE_SHAPE};

/// The most `prepare` + `resume` steps one submission holds: between submissions the host
/// reads how many pixels are live. Fewer steps are submitted at first (the count doubles from
/// one), when the live pixels' worst-case work would exceed the dispatch budget
/// ([`tiles::MAX_ITERATIONS_PER_DISPATCH`]), or when no orbit could need more.
const MAX_STEPS: u64 = 64;

/// The GPU kernel in precision `R`: `gpu-f32` or `gpu-f64`.
pub struct Gpu<R: GpuReal> {
    name: Cow<'static, str>,
    arithmetic: Arithmetic,
    shape: Shape,
    /// `None`: the one the probe chose for this device.
    carrier: Option<Carrier>,
    /// `None`: the device's own limits.
    limits: Option<TileLimits>,
    buffers: Mutex<Option<Buffers<R>>>,
    precision: PhantomData<R>,
}

/// The f32 kernel.
pub type GpuF32 = Gpu<f32>;
/// The f64 kernel (where an adapter offers 64-bit floats).
pub type GpuF64 = Gpu<f64>;

/// The kernels this crate exports (discovered by the harness).
pub fn kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![Box::new(GpuF32::new()), Box::new(GpuF64::new())]
}

impl<R: GpuReal> Default for Gpu<R> {
    fn default() -> Self {
        Gpu::new()
    }
}

impl<R: GpuReal> Gpu<R> {
    /// The kernel, tiling frames by the device's limits.
    pub fn new() -> Self {
        Gpu {
            name: Cow::Borrowed(R::KERNEL_NAME),
            arithmetic: Arithmetic::Opaque,
            shape: TILE_SHAPE,
            carrier: None,
            limits: None,
            buffers: Mutex::new(None),
            precision: PhantomData,
        }
    }

    /// `gpu-f32-plain`, `gpu-f64-plain`: the same shader with plain arithmetic, which the
    /// driver may fuse and reorder. Not exact; it exists to measure what exactness costs
    /// (`just gpu-cost`), and is not among the kernels the race discovers.
    pub fn plain() -> Self {
        Gpu {
            name: Cow::Borrowed(R::PLAIN_NAME),
            arithmetic: Arithmetic::Plain,
            carrier: Some(Carrier::Native),
            ..Gpu::new()
        }
    }

    /// The kernel computing in `carrier` whatever the probe chose (`gpu-f32-on-f64`: f32's
    /// rounding on the f64 units, which the tests run on every device that has them).
    pub fn with_carrier(carrier: Carrier) -> Self {
        let name = match carrier {
            Carrier::Native => Cow::Owned(format!("{}-native", R::KERNEL_NAME)),
            Carrier::F64 => Cow::Owned(format!("{}-on-f64", R::KERNEL_NAME)),
        };
        Gpu { name, carrier: Some(carrier), ..Gpu::new() }
    }

    /// The kernel with smaller tiles or chunks than the device needs: how the tests cover
    /// tiling and resumed orbits without frames of gigabytes or orbits of millions.
    pub fn with_tile_limits(limits: TileLimits) -> Self {
        Gpu { limits: Some(limits), ..Gpu::new() }
    }

    /// `gpu-f32-16x16`: the kernel with another workgroup shape for its `first` dispatch, to
    /// measure which is better (`just gpu-shape`); exact, not discovered.
    pub fn with_shape(shape: Shape) -> Self {
        Gpu { name: Cow::Owned(format!("{}-{}", R::KERNEL_NAME, shape.name())), shape, ..Gpu::new() }
    }

    /// `gpu-f32-chunk-1024`: the kernel with another chunk, to measure which is better
    /// (`just gpu-shape`); exact, not discovered.
    pub fn with_chunk(chunk: u32) -> Self {
        let limits =
            TileLimits { chunk, max_pixels: u64::MAX, max_workgroups: u32::MAX, max_iterations: u64::MAX };
        Gpu { name: Cow::Owned(format!("{}-chunk-{chunk}", R::KERNEL_NAME)), ..Gpu::with_tile_limits(limits) }
    }

    fn unavailable(&self, reason: String) -> KernelError {
        KernelError::Unavailable { kernel: self.name().into(), reason }
    }

    /// The device for this precision, if there is one (and offers the f64 carrier if asked).
    fn ready(&self) -> Result<&'static device::Gpu, KernelError> {
        let gpu = device::gpu_for::<R>().map_err(|reason| self.unavailable(reason))?;
        if self.carrier == Some(Carrier::F64) {
            gpu.supports::<f64>().map_err(|reason| self.unavailable(reason))?;
        }
        Ok(gpu)
    }

    fn buffers(&self) -> MutexGuard<'_, Option<Buffers<R>>> {
        // A panic while the lock was held leaves buffers of unknown state: start afresh.
        self.buffers.lock().unwrap_or_else(|poisoned| {
            let mut buffers = poisoned.into_inner();
            *buffers = None;
            buffers
        })
    }
}

impl<R: GpuReal> MandelKernel for Gpu<R> {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        match (self.arithmetic, R::PRECISION) {
            (Arithmetic::Opaque, Precision::F32) => "A WGSL compute shader via wgpu, one pixel per invocation, every operation through an opaque identity so no driver can fuse or reorder it",
            (Arithmetic::Opaque, Precision::F64) => "The same shader in f64, on an adapter that offers 64-bit floats",
            (Arithmetic::Plain, _) => "The GPU shader with plain arithmetic, which the driver may fuse and reorder: not exact",
        }
    }
    fn precision(&self) -> Precision {
        R::PRECISION
    }
    fn is_exact(&self) -> bool {
        // Where the device is missing, the kernel does not run, and promises what it would.
        self.arithmetic == Arithmetic::Opaque
            && self.ready().map_or(true, |gpu| {
                let probe = probe::<R>(gpu);
                // A carrier forced other than the one the probe chose is the probe's to judge
                // only when it is the native one: the f64 carrier is exact by construction
                // where it runs (and the kit checks it).
                match self.carrier {
                    Some(Carrier::F64) => true,
                    Some(Carrier::Native) => probe.carrier == Carrier::Native && probe.exact.is_ok(),
                    None => probe.exact.is_ok(),
                }
            })
    }
    fn availability(&self) -> Availability {
        match self.ready() {
            Ok(_) => Availability::Ready,
            Err(KernelError::Unavailable { reason, .. }) => Availability::Unavailable(reason),
            Err(other) => Availability::Unavailable(other.to_string()),
        }
    }
    fn device(&self) -> Option<String> {
        let gpu = self.ready().ok()?;
        let probe = probe::<R>(gpu);
        let mut verdict = String::new();
        if self.arithmetic == Arithmetic::Opaque {
            if let Err(why) = &probe.exact {
                verdict = format!("; not exact here: {why}");
            } else if let (None, Some(note)) = (self.carrier, &probe.note) {
                verdict = format!("; {note}");
            }
        }
        Some(format!(
            "{}; device set up in {:.0} ms, the {} shader compiled and self-checked in {:.0} ms{verdict}",
            gpu.describe(),
            gpu.set_up.as_secs_f64() * 1e3,
            R::WGSL,
            probe.took.as_secs_f64() * 1e3
        ))
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        let grid = Grid::<R>::checked(frame, out)?;
        let gpu = self.ready()?;
        let carrier = self.carrier.unwrap_or_else(|| probe::<R>(gpu).carrier);
        let pipelines =
            gpu.pipelines::<R>(self.arithmetic, self.shape, carrier).map_err(KernelError::Device)?;
        let device_limits = TileLimits::for_device(
            gpu.limits.max_storage_buffer_binding_size,
            gpu.limits.max_buffer_size,
            gpu.limits.max_compute_workgroups_per_dimension,
        );
        let limits = self.limits.map_or(device_limits, |asked| asked.within(device_limits));
        let height = grid.rows().len() as u32;
        let (columns, rows) = tiles::tile_size(grid.width(), height, grid.max_iter(), &limits, self.shape);
        // Only orbits longer than one chunk are resumed: shorter frames keep no state.
        let resumable = grid.max_iter() > limits.chunk_for(grid.max_iter());
        let capacity = if resumable { columns * rows } else { 0 };
        let mut guard = self.buffers();
        if guard.as_ref().is_none_or(|b| !b.fits(columns, rows, capacity, carrier)) {
            *guard = None; // free the old ones before asking for more
            *guard = Some(
                Buffers::new(gpu, &pipelines, columns, rows, capacity, carrier)
                    .map_err(KernelError::Device)?,
            );
        }
        let buffers = guard.as_mut().expect("just made");
        for tile in tiles::tiles(grid.width(), height, grid.max_iter(), &limits, self.shape) {
            if let Err(error) = buffers.run(gpu, &pipelines, &grid, tile, &limits, self.shape, out) {
                // A failed dispatch may leave the read-back buffer mapped: start afresh next time.
                *guard = None;
                return Err(KernelError::Device(error));
            }
        }
        Ok(())
    }
}

/// What the probe frames show for `R` on this device, tried once per precision on frames where
/// drivers are known to differ: orbits through subnormal numbers (which many GPUs flush to zero,
/// and the opaque identity cannot prevent) and squares that overflow to infinity. Where the
/// native shader differs and the device has exact 64-bit floats and integers, an f32 kernel
/// computes in f64 with every result rounded to f32 (`round32.wgsl`), probed the same way; where
/// nothing passes, the kernel declares itself inexact and the race shows by how much. Also how
/// long compiling and probing took: the one-off cost the race's first call no longer sees.
fn probe<R: GpuReal>(gpu: &'static device::Gpu) -> device::Probe {
    let probe_in = |carrier: Carrier| -> Result<(), String> {
        let kernel = Gpu::<R>::with_carrier(carrier);
        // ANCHOR: probe-frames
        let (tiny, huge) = match R::PRECISION {
            Precision::F32 => (1e-40, 1e38),
            Precision::F64 => (1e-310, 1e307),
        };
        for (bounds, max_iter) in [([-2.0, -1.9, -tiny, tiny], 3000), ([-huge, huge, -huge, huge], 10)] {
            let [x_min, x_max, y_min, y_max] = bounds;
            let viewport =
                Viewport::from_bounds(x_min, x_max, y_min, y_max, 4, 4).map_err(|e| e.to_string())?;
            let frame = Frame::new(viewport, max_iter);
            let expected = reference_counts(&frame, R::PRECISION).map_err(|e| e.to_string())?;
            let mut counts = vec![0; frame.pixel_count()];
            kernel.compute(&frame, &mut counts).map_err(|e| e.to_string())?;
            let differing = counts.iter().zip(&expected).filter(|(a, b)| a != b).count();
            if differing > 0 {
                return Err(format!("{differing} of 16 pixels differ on the probe frame {frame}"));
            }
        }
        // ANCHOR_END: probe-frames
        Ok(())
    };
    gpu.exactness[R::SLOT]
        .get_or_init(|| {
            let started = std::time::Instant::now();
            let native = probe_in(Carrier::Native);
            let (carrier, exact, note) = match native {
                Ok(()) => (Carrier::Native, Ok(()), None),
                Err(why) if R::PRECISION == Precision::F32 && gpu.supports::<f64>().is_ok() => {
                    match probe_in(Carrier::F64) {
                        Ok(()) => (
                            Carrier::F64,
                            Ok(()),
                            Some(format!(
                            "f32 rounded on the f64 units, exactly: the f32 shader is not exact here ({why})"
                        )),
                        ),
                        Err(_) => (Carrier::Native, Err(why), None),
                    }
                }
                Err(why) => (Carrier::Native, Err(why), None),
            };
            device::Probe { carrier, exact, note, took: started.elapsed() }
        })
        .clone()
}

/// The uniform block of the shader (`struct Params`).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    width: u32,
    height: u32,
    max_iter: u32,
    /// Always 0: the opaque identity's key, which the shader compiler must not know.
    zero: u32,
    /// The most iterations one invocation runs.
    chunk: u32,
    /// The most workgroups along one dimension of a dispatch.
    max_groups: u32,
    /// The list of live pixels `resume` reads (0 or 1); it appends to the other.
    reads: u32,
    pad: u32,
}

/// One kernel's device buffers and their bind groups, for tiles of up to `columns` x `rows`,
/// and up to `capacity` live pixels (0 when no orbit outlives its first chunk).
struct Buffers<R> {
    columns: u32,
    rows: u32,
    capacity: u32,
    /// Two `Params`, reading list 0 and list 1, `stride` bytes apart.
    params: wgpu::Buffer,
    stride: u64,
    cx: wgpu::Buffer,
    cy: wgpu::Buffer,
    counts: wgpu::Buffer,
    /// The live counts of the two lists (`struct Control`).
    control: wgpu::Buffer,
    /// The control counts and the counts, copied for the CPU to read.
    read_back: wgpu::Buffer,
    /// `first` and `resume` bind groups, by the list `resume` reads.
    main: [wgpu::BindGroup; 2],
    /// `prepare` bind groups, likewise.
    prepare: [wgpu::BindGroup; 2],
    /// The workgroups of the next `resume` dispatch, written by `prepare`.
    next: wgpu::Buffer,
    /// What the shader computes in (the coordinates' and the state's type).
    carrier: Carrier,
    /// Host copies of a tile's coordinates, in the carrier's bytes, kept to avoid allocating
    /// per call.
    cx_host: Vec<u8>,
    cy_host: Vec<u8>,
    precision: PhantomData<R>,
}

/// Bytes before the counts in the read-back buffer: the two live counts.
const CONTROL_BYTES: u64 = 8;

impl<R: GpuReal> Buffers<R> {
    fn new(
        gpu: &device::Gpu,
        pipelines: &device::Pipelines,
        columns: u32,
        rows: u32,
        capacity: u32,
        carrier: Carrier,
    ) -> Result<Self, String> {
        let errors = gpu.capture_errors();
        let make = |label: &str, bytes: u64, usage: wgpu::BufferUsages| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                // Rounded up so that every copy and mapping is aligned.
                size: bytes.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT.max(wgpu::MAP_ALIGNMENT)),
                usage,
                mapped_at_creation: false,
            })
        };
        let real = carrier.size::<R>();
        let pixels = u64::from(columns) * u64::from(rows);
        // Bindings may not be empty: without resumed orbits, one unused slot.
        let slots = u64::from(capacity.max(1));
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let stride = (size_of::<Params>() as u64)
            .next_multiple_of(u64::from(gpu.limits.min_uniform_buffer_offset_alignment));
        let params = make("params", stride * 2, wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST);
        let cx = make("cx", u64::from(columns) * real, storage);
        let cy = make("cy", u64::from(rows) * real, storage);
        let counts = make("counts", pixels * 4, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
        let state = make("state", slots * 2 * real, wgpu::BufferUsages::STORAGE);
        let lists = make("lists", slots * 2 * 4, wgpu::BufferUsages::STORAGE);
        let control = make("control", CONTROL_BYTES, storage | wgpu::BufferUsages::COPY_SRC);
        let next = make("next", 12, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::INDIRECT);
        let read_back = make(
            "read-back",
            CONTROL_BYTES + pixels * 4,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let params_for = |reads: u64| {
            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &params,
                offset: reads * stride,
                size: wgpu::BufferSize::new(size_of::<Params>() as u64),
            })
        };
        let entry = |binding, resource| wgpu::BindGroupEntry { binding, resource };
        let main = [0, 1].map(|reads| {
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(R::KERNEL_NAME),
                layout: &pipelines.main,
                entries: &[
                    entry(0, params_for(reads)),
                    entry(1, cx.as_entire_binding()),
                    entry(2, cy.as_entire_binding()),
                    entry(3, counts.as_entire_binding()),
                    entry(4, state.as_entire_binding()),
                    entry(5, lists.as_entire_binding()),
                    entry(6, control.as_entire_binding()),
                ],
            })
        });
        let prepare = [0, 1].map(|reads| {
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(R::KERNEL_NAME),
                layout: &pipelines.control,
                entries: &[
                    entry(0, params_for(reads)),
                    entry(6, control.as_entire_binding()),
                    entry(7, next.as_entire_binding()),
                ],
            })
        });
        errors.check().map_err(|e| format!("cannot allocate buffers for tiles of {columns}x{rows}: {e}"))?;
        Ok(Buffers {
            columns,
            rows,
            capacity,
            params,
            stride,
            cx,
            cy,
            counts,
            control,
            read_back,
            main,
            prepare,
            next,
            carrier,
            cx_host: Vec::with_capacity(columns as usize * real as usize),
            cy_host: Vec::with_capacity(rows as usize * real as usize),
            precision: PhantomData,
        })
    }

    fn fits(&self, columns: u32, rows: u32, capacity: u32, carrier: Carrier) -> bool {
        columns <= self.columns && rows <= self.rows && capacity <= self.capacity && carrier == self.carrier
    }

    /// Computes one tile, in as many submissions as its orbits need, and copies its counts into
    /// `out` (the whole frame's buffer).
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        gpu: &device::Gpu,
        pipelines: &device::Pipelines,
        grid: &Grid<R>,
        tile: Tile,
        limits: &TileLimits,
        shape: Shape,
        out: &mut [u32],
    ) -> Result<(), String> {
        let first_row = grid.rows().start + tile.y;
        let carrier = self.carrier;
        self.cx_host.clear();
        for i in tile.x..tile.x + tile.width {
            push_real(&mut self.cx_host, grid.cx(i), carrier);
        }
        self.cy_host.clear();
        for j in first_row..first_row + tile.height {
            push_real(&mut self.cy_host, grid.cy(j), carrier);
        }
        let max_iter = grid.max_iter();
        let chunk = limits.chunk_for(max_iter);
        let params = |reads| Params {
            width: tile.width,
            height: tile.height,
            max_iter,
            zero: 0,
            chunk,
            max_groups: gpu.limits.max_compute_workgroups_per_dimension,
            reads,
            pad: 0,
        };
        gpu.queue.write_buffer(&self.params, 0, bytemuck::bytes_of(&params(0)));
        gpu.queue.write_buffer(&self.params, self.stride, bytemuck::bytes_of(&params(1)));
        gpu.queue.write_buffer(&self.cx, 0, &self.cx_host);
        gpu.queue.write_buffer(&self.cy, 0, &self.cy_host);
        gpu.queue.write_buffer(&self.control, 0, &[0; CONTROL_BYTES as usize]);

        let pixels = u64::from(tile.width) * u64::from(tile.height);
        // Steps after `first` that the longest orbit could need: ceil(max_iter / chunk) - 1.
        let mut remaining = u64::from(max_iter.saturating_sub(1) / chunk);
        // How many steps one submission may hold while `live` pixels may each run a chunk.
        let budget =
            |live: u64| (limits.max_iterations / (live * u64::from(chunk)).max(1)).clamp(1, MAX_STEPS);
        // The list the live pixels are in: `first` appends to list 0.
        let mut current = 0;
        // ANCHOR: submissions
        // The first submission: every pixel, and one step if an orbit could outlive its chunk.
        // Later ones double the steps while pixels stay live, up to what the dispatch budget
        // allows for them and what the longest orbit could still need: a step after the last
        // live pixel finished costs a dispatch of nothing.
        let mut steps = remaining.min(1);
        let mut first = true;
        loop {
            let live = self.submit(gpu, pipelines, tile, shape, first, steps, &mut current)?;
            remaining -= steps;
            if live == 0 {
                break;
            }
            if remaining == 0 {
                return Err(format!("{live} pixels still live after max_iter iterations (a bug)"));
            }
            first = false;
            steps = (steps * 2).clamp(1, budget(live)).min(remaining);
        }
        // ANCHOR_END: submissions
        let bytes = pixels * 4;
        let view =
            self.read_back.slice(..CONTROL_BYTES + bytes).get_mapped_range().map_err(|e| e.to_string())?;
        copy_tile(&view[CONTROL_BYTES as usize..], tile, grid.width(), out);
        drop(view);
        self.read_back.unmap();
        Ok(())
    }

    /// One submission: the `first` dispatch if `first`, then `steps` pairs of `prepare` and
    /// `resume`; waits for it and returns how many pixels are still live, with the read-back
    /// buffer mapped when none is. `current` follows the list that holds the live pixels.
    #[allow(clippy::too_many_arguments)]
    fn submit(
        &mut self,
        gpu: &device::Gpu,
        pipelines: &device::Pipelines,
        tile: Tile,
        shape: Shape,
        first: bool,
        steps: u64,
        current: &mut usize,
    ) -> Result<u64, String> {
        let bytes = u64::from(tile.width) * u64::from(tile.height) * 4;
        // ANCHOR: dispatch
        let errors = gpu.capture_errors();
        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            if first {
                // Bind group 1 reads list 1 and appends to list 0; `first` reads no list.
                pass.set_pipeline(&pipelines.first);
                pass.set_bind_group(0, &self.main[1], &[]);
                pass.dispatch_workgroups(tile.width.div_ceil(shape.x), tile.height.div_ceil(shape.y), 1);
                *current = 0;
            }
            for _ in 0..steps {
                pass.set_pipeline(&pipelines.prepare);
                pass.set_bind_group(0, &self.prepare[*current], &[]);
                pass.dispatch_workgroups(1, 1, 1);
                pass.set_pipeline(&pipelines.resume);
                pass.set_bind_group(0, &self.main[*current], &[]);
                pass.dispatch_workgroups_indirect(&self.next, 0);
                *current = 1 - *current;
            }
        }
        encoder.copy_buffer_to_buffer(&self.control, 0, &self.read_back, 0, CONTROL_BYTES);
        encoder.copy_buffer_to_buffer(&self.counts, 0, &self.read_back, CONTROL_BYTES, bytes);
        let submission = gpu.queue.submit([encoder.finish()]);
        // ANCHOR_END: dispatch

        let (sender, receiver) = std::sync::mpsc::channel();
        self.read_back.slice(..CONTROL_BYTES + bytes).map_async(wgpu::MapMode::Read, move |mapped| {
            let _ = sender.send(mapped);
        });
        let polled =
            gpu.device.poll(wgpu::PollType::Wait { submission_index: Some(submission), timeout: None });
        // What went wrong in the submission says more than the failed wait that follows it.
        errors.check()?;
        polled.map_err(|e| format!("waiting for the GPU: {}", device::one_line(&e.to_string())))?;
        let mapped = match receiver.try_recv() {
            Ok(mapped) => mapped,
            // The mapping may complete on a later poll than the submission.
            Err(_) => {
                gpu.device
                    .poll(wgpu::PollType::wait_indefinitely())
                    .map_err(|e| format!("waiting for the read-back: {e}"))?;
                receiver.recv().map_err(|_| "the read-back was dropped".to_string())?
            }
        };
        mapped.map_err(|e| format!("reading the counts back: {e}"))?;
        let live = {
            let view = self.read_back.slice(..CONTROL_BYTES).get_mapped_range().map_err(|e| e.to_string())?;
            let word = &view[*current * 4..*current * 4 + 4];
            u64::from(u32::from_ne_bytes([word[0], word[1], word[2], word[3]]))
        };
        if live > 0 {
            self.read_back.unmap();
        }
        Ok(live)
    }
}

/// Appends `value` in the carrier's native-endian bytes: as it is, or widened to f64 (exactly).
fn push_real<R: GpuReal>(out: &mut Vec<u8>, value: R, carrier: Carrier) {
    match carrier {
        Carrier::Native => out.extend_from_slice(bytemuck::bytes_of(&value)),
        Carrier::F64 => out.extend_from_slice(&value.widen().to_ne_bytes()),
    }
}

/// Copies a tile's counts (`tile.width` per row, native-endian `u32`s) into the frame's buffer.
fn copy_tile(bytes: &[u8], tile: Tile, frame_width: u32, out: &mut [u32]) {
    let tile_width = tile.width as usize;
    let rows = bytes.chunks_exact(tile_width * 4).take(tile.height as usize);
    for (row, y) in rows.zip(tile.y as usize..) {
        let start = y * frame_width as usize + tile.x as usize;
        let target = &mut out[start..start + tile_width];
        match bytemuck::try_cast_slice::<u8, u32>(row) {
            Ok(counts) => target.copy_from_slice(counts),
            // Mapped memory is aligned in practice; this is for when it is not.
            Err(_) => {
                for (count, word) in target.iter_mut().zip(row.chunks_exact(4)) {
                    *count = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandel_core::Viewport;

    /// The only test in this binary that touches the device, since it destroys it: what a
    /// driver reset or an unplugged GPU looks like to the kernel.
    #[test]
    fn a_lost_device_is_an_error_not_a_panic() {
        let kernel = GpuF32::new();
        let gpu = match kernel.ready() {
            Ok(gpu) => gpu,
            Err(e) => {
                eprintln!("SKIPPED: no device to lose: {e}");
                assert!(!mandel_testkit::require_all(), "{e}");
                return;
            }
        };
        let frame = Frame::new(Viewport::from_bounds(-2.0, 1.0, -1.0, 1.0, 64, 64).unwrap(), 100);
        let mut out = vec![0; frame.pixel_count()];
        kernel.compute(&frame, &mut out).expect("a working device computes");
        gpu.device.destroy();
        for attempt in ["first", "second"] {
            match kernel.compute(&frame, &mut out) {
                Err(KernelError::Device(message)) => {
                    assert!(!message.contains('\n'), "one line: {message}");
                    eprintln!("{attempt} call after the loss: {message}");
                }
                other => panic!("{attempt} call after the loss gave {other:?}"),
            }
        }
    }
}
