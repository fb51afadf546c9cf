// The numeric contract on the GPU. Generated into an f32 and an f64 shader by kernel-gpu's
// `shader::source`: `{real}` is the float type the arithmetic runs in, `{bits}` the unsigned
// integer of the same width, `{zero}` a zero of that integer read from the uniform at run time,
// `{narrow}` empty or `round32` (f32 computed on the f64 units, below), and `{tile_x}`,
// `{tile_y}`, `{list}` the workgroup shapes.
//
// Every product, sum and difference goes through `opaque`, an identity the compiler cannot see
// through (it XORs the bits with a value known only at run time), so no driver can fuse a
// multiply into an add or reassociate `(zr2 - zi2) + cr` into `(zr2 + cr) - zi2`: each
// operation is rounded on its own, as the CPU reference rounds it.
//
// No invocation runs more than `params.chunk` iterations: drivers stop long loops (llvmpipe
// after 65,535 iterations) and operating systems reset GPUs whose dispatches run too long. A
// pixel still iterating after its chunk keeps its state (z and its count) and joins a list of
// live pixels; the next dispatch resumes exactly those, and nothing else.
//   `first`   every pixel of the tile, from z = 0; the live ones go to list 0.
//   `prepare` one invocation: sizes the next `resume` dispatch from the live count, for
//             `dispatch_workgroups_indirect`, and empties the list `resume` will fill.
//   `resume`  the pixels of one list, from their saved state; the still-live go to the other.
// The host alternates `prepare` and `resume` until no pixel is live.

struct Params {
    width: u32,      // pixels across this tile
    height: u32,     // rows in this tile
    max_iter: u32,
    zero: u32,       // always 0; the shader must not know it
    chunk: u32,      // the most iterations one invocation runs
    max_groups: u32, // the most workgroups along one dimension of a dispatch
    reads: u32,      // the list `resume` reads (0 or 1); it appends to the other
    pad: u32,
}

// The live counts of the two lists.
struct Control {
    live: array<atomic<u32>, 2>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cx: array<{real}>;         // per column, from Grid::cx
@group(0) @binding(2) var<storage, read> cy: array<{real}>;         // per row, from Grid::cy
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;  // row-major, width x height
@group(0) @binding(4) var<storage, read_write> state: array<vec2<{real}>>; // z of live pixels
@group(0) @binding(5) var<storage, read_write> lists: array<u32>;   // two lists of pixel indices
@group(0) @binding(6) var<storage, read_write> control: Control;
@group(0) @binding(7) var<storage, read_write> next: array<u32, 3>; // `resume`'s workgroups

// ANCHOR: opaque
fn opaque(x: {real}) -> {real} {
    return {narrow}(bitcast<{real}>(bitcast<{bits}>(x) ^ {zero}));
}
// ANCHOR_END: opaque
{round32}

// ANCHOR: step
// Pixel `k` from iteration `n0` and state `z0`, for at most `params.chunk` iterations: writes
// its count, and if its orbit is still live, keeps z and appends `k` to the list `to`. A resumed
// orbit recomputes the squares of the saved z, which are bit for bit the ones its last
// iteration tested: the rest is the uninterrupted loop.
fn iterate(k: u32, cr: {real}, ci: {real}, z0: vec2<{real}>, n0: u32, to: u32) {
    var zr = z0.x;
    var zi = z0.y;
    var zr2 = opaque(zr * zr);
    var zi2 = opaque(zi * zi);
    var n = n0;
    let end = n + min(params.chunk, params.max_iter - n);
    loop {
        if (n >= end) {
            break;
        }
        let p = opaque(zr * zi);
        zi = opaque(opaque(p + p) + ci);
        zr = opaque(opaque(zr2 - zi2) + cr);
        zr2 = opaque(zr * zr);
        zi2 = opaque(zi * zi);
        if (opaque(zr2 + zi2) > 4.0) {
            break;
        }
        n = n + 1u;
    }
    counts[k] = n;
    // Escaped (n < end), or at max_iter: done. Otherwise live: keep the state.
    if (n == end && n < params.max_iter) {
        state[k] = vec2<{real}>(zr, zi);
        let capacity = arrayLength(&lists) / 2u;
        lists[to * capacity + atomicAdd(&control.live[to], 1u)] = k;
    }
}
// ANCHOR_END: step

// ANCHOR: first
@compute @workgroup_size({tile_x}, {tile_y}, 1)
fn first(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.width || id.y >= params.height) {
        return;
    }
    let zero = vec2<{real}>(0.0, 0.0);
    iterate(id.y * params.width + id.x, cx[id.x], cy[id.y], zero, 0u, 0u);
}
// ANCHOR_END: first

// ANCHOR: resume
@compute @workgroup_size(1, 1, 1)
fn prepare() {
    let live = atomicLoad(&control.live[params.reads]);
    let groups = (live + {list}u - 1u) / {list}u;
    let across = min(groups, params.max_groups);
    next[0] = across;
    next[1] = select(0u, (groups + across - 1u) / max(across, 1u), groups > 0u);
    next[2] = 1u;
    atomicStore(&control.live[1u - params.reads], 0u);
}

@compute @workgroup_size({list}, 1, 1)
fn resume(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = (group.y * groups.x + group.x) * {list}u + local;
    if (i >= atomicLoad(&control.live[params.reads])) {
        return;
    }
    let capacity = arrayLength(&lists) / 2u;
    let k = lists[params.reads * capacity + i];
    iterate(k, cx[k % params.width], cy[k / params.width], state[k], counts[k], 1u - params.reads);
}
// ANCHOR_END: resume
