//! How much work a frame was: pixel-iterations, the unit of every throughput in this project.

/// The work of a frame: per pixel, `count + 1` if it escaped (it ran that many iterations)
/// or `max_iter` if it did not (count `== max_iter`).
pub fn pixel_iterations(counts: &[u32], max_iter: u32) -> u64 {
    counts
        .iter()
        .map(|&count| if count < max_iter { u64::from(count) + 1 } else { u64::from(max_iter) })
        .sum()
}

/// Pixel-iterations per second.
pub fn throughput(pixel_iterations: u64, seconds: f64) -> f64 {
    pixel_iterations as f64 / seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_pixels_count_their_iterations_and_the_interior_counts_max_iter() {
        assert_eq!(pixel_iterations(&[0, 1, 9, 10], 10), 1 + 2 + 10 + 10);
        assert_eq!(pixel_iterations(&[0, 0], 0), 0);
        assert_eq!(pixel_iterations(&[], 10), 0);
        assert_eq!(pixel_iterations(&[u32::MAX; 2], u32::MAX), 2 * u64::from(u32::MAX));
        assert_eq!(throughput(1_000_000_000, 0.5), 2e9);
    }
}
