// The numeric contract on the GPU, in {real}. Generated into an f32 and an f64 shader by
// kernel-gpu's `shader::source`: `{real}` is the float type, `{bits}` the unsigned integer of
// the same width, `{zero}` a zero of that integer read from the uniform at run time.
//
// Every product, sum and difference goes through `opaque`, an identity the compiler cannot see
// through (it XORs the bits with a value known only at run time), so no driver can fuse a
// multiply into an add or reassociate `(zr2 - zi2) + cr` into `(zr2 + cr) - zi2`: each
// operation is rounded on its own, as the CPU reference rounds it.

struct Params {
    width: u32,      // pixels across this tile
    height: u32,     // rows in this tile
    max_iter: u32,
    zero: u32,       // always 0; the shader must not know it
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cx: array<{real}>;        // per column, from Grid::cx
@group(0) @binding(2) var<storage, read> cy: array<{real}>;        // per row, from Grid::cy
@group(0) @binding(3) var<storage, read_write> counts: array<u32>; // row-major, width x height

// ANCHOR: opaque
fn opaque(x: {real}) -> {real} {
    return bitcast<{real}>(bitcast<{bits}>(x) ^ {zero});
}
// ANCHOR_END: opaque

// ANCHOR: invocation
@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.width || id.y >= params.height) {
        return;
    }
    let cr = cx[id.x];
    let ci = cy[id.y];
    var zr: {real} = 0.0;
    var zi: {real} = 0.0;
    var zr2: {real} = 0.0;
    var zi2: {real} = 0.0;
    var n: u32 = 0u;
    // ANCHOR_END: invocation
    // ANCHOR: loop
    loop {
        if (n >= params.max_iter) {
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
    counts[id.y * params.width + id.x] = n;
    // ANCHOR_END: loop
}
