// ANCHOR: round32
// f32 arithmetic on the f64 units, for devices that flush f32's subnormal numbers to zero
// (their f64 units do not). The shader then runs in f64 and `opaque` passes every result
// through `round32`: the f64 result rounded to the nearest f32 value, ties to even, subnormals
// and overflow included, held exactly in an f64. For +, - and * of two f32 values, rounding to
// 53 bits and then to 24 gives what rounding to 24 once gives (53 >= 2*24 + 2), so each result
// is the correctly rounded f32 one, as the contract says.
fn hide(x: f64) -> f64 {
    return bitcast<f64>(bitcast<u64>(x) ^ u64(params.zero));
}

fn round32(x: f64) -> f64 {
    let bits = bitcast<u64>(x);
    let sign = bits & 0x8000000000000000lu;
    let magnitude = bits & 0x7ffffffffffffffflu;
    if (magnitude >= 0x7ff0000000000000lu) {
        return x; // infinity or NaN
    }
    if (magnitude < 0x3810000000000000lu) {
        // Below 2^-126, f32's values are the multiples of 2^-149. Adding 2^-97 of x's sign puts
        // x in a binade where f64's spacing is 2^-149: the sum rounds x to one of them, ties to
        // even, and the difference is exact.
        let shift = bitcast<f64>(sign | 0x39e0000000000000lu);
        return hide(hide(x + shift) - shift);
    }
    // Keep 24 of the 53 significant bits, ties to even; a carry moves into the exponent, and
    // past f32's largest finite value (0x47efffffe0000000) the result is infinity.
    let rounded = (bits + 0x0ffffffflu + ((bits >> 29u) & 1lu)) & ~0x1ffffffflu;
    if ((rounded & 0x7ffffffffffffffflu) > 0x47efffffe0000000lu) {
        return bitcast<f64>(sign | 0x7ff0000000000000lu);
    }
    return bitcast<f64>(rounded);
}
// ANCHOR_END: round32
