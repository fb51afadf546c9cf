//! How a frame is cut into dispatches: what one storage binding can hold, what one dispatch can
//! address, and how much work one dispatch may do before an OS watchdog would kill it.

/// Invocations per workgroup along x and along y (the shader's `@workgroup_size(16, 16, 1)`:
/// 256, the most every WebGPU device allows).
pub const WORKGROUP: u32 = 16;

/// The most pixels one tile holds whatever the device allows: 16 Mi counts, 64 MiB for the
/// output binding and as much again for its read-back copy.
pub const MAX_TILE_PIXELS: u64 = 1 << 24;

/// The most pixel-iterations one dispatch may need if every pixel ran to `max_iter`: about
/// 4.3 G, some tens of milliseconds on a data-centre GPU in f32 (more in f64 on GPUs with few
/// f64 units), and about 3 s on lavapipe on two cores. Windows resets a GPU that does not
/// answer within two seconds; a frame is cut so that no dispatch needs more than this.
pub const MAX_ITERATIONS_PER_DISPATCH: u64 = 1 << 32;

/// The limits a tile must respect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileLimits {
    /// Most pixels in one tile (one `u32` count each in a storage binding).
    pub max_pixels: u64,
    /// Most workgroups along one dimension of a dispatch.
    pub max_workgroups: u32,
    /// Most pixel-iterations one dispatch may need at worst (every pixel running to `max_iter`).
    pub max_iterations: u64,
}

impl TileLimits {
    /// The tighter of two sets of limits, field by field.
    pub fn within(self, other: TileLimits) -> TileLimits {
        TileLimits {
            max_pixels: self.max_pixels.min(other.max_pixels),
            max_workgroups: self.max_workgroups.min(other.max_workgroups),
            max_iterations: self.max_iterations.min(other.max_iterations),
        }
    }

    /// The limits for a device whose storage bindings and buffers hold at most these many
    /// bytes and whose dispatches have at most `max_workgroups` workgroups per dimension.
    pub fn for_device(max_binding_bytes: u64, max_buffer_bytes: u64, max_workgroups: u32) -> TileLimits {
        TileLimits {
            max_pixels: (max_binding_bytes.min(max_buffer_bytes) / 4).clamp(1, MAX_TILE_PIXELS),
            max_workgroups: max_workgroups.max(1),
            max_iterations: MAX_ITERATIONS_PER_DISPATCH,
        }
    }
}

/// A rectangle of a frame computed by one dispatch; `y` counts rows from the frame's first row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// First column.
    pub x: u32,
    /// First row, relative to the frame's first row.
    pub y: u32,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

// ANCHOR: tile-size
/// The largest tile, `(columns, rows)`, for a frame of `width` x `height` at `max_iter`: as
/// wide as the frame where possible (so that a tile's counts are whole rows of the output),
/// then as many rows as the limits allow. A tile has at least one pixel: one pixel whose
/// `max_iter` alone exceeds the budget is still one dispatch (iterations are not split).
pub fn tile_size(width: u32, height: u32, max_iter: u32, limits: &TileLimits) -> (u32, u32) {
    let side = u64::from(limits.max_workgroups) * u64::from(WORKGROUP);
    let by_work = limits.max_iterations / u64::from(max_iter.max(1));
    let pixels = by_work.min(limits.max_pixels).max(1);
    let columns = u64::from(width).min(side).min(pixels).max(1);
    let rows = u64::from(height).min(side).min(pixels / columns).max(1);
    (columns as u32, rows as u32)
}
// ANCHOR_END: tile-size

/// Every tile of a `width` x `height` frame, row by row of tiles, covering each pixel once.
pub fn tiles(width: u32, height: u32, max_iter: u32, limits: &TileLimits) -> impl Iterator<Item = Tile> {
    let (columns, rows) = tile_size(width, height, max_iter, limits);
    (0..height).step_by(rows as usize).flat_map(move |y| {
        (0..width).step_by(columns as usize).map(move |x| Tile {
            x,
            y,
            width: columns.min(width - x),
            height: rows.min(height - y),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lavapipe's limits: 128 MiB bindings, 65,535 workgroups per dimension.
    fn lavapipe() -> TileLimits {
        TileLimits::for_device(128 << 20, u64::from(u32::MAX), 65_535)
    }

    fn covered_once(width: u32, height: u32, max_iter: u32, limits: &TileLimits) -> usize {
        let mut seen = vec![0u8; width as usize * height as usize];
        let mut count = 0;
        for tile in tiles(width, height, max_iter, limits) {
            count += 1;
            assert!(tile.width >= 1 && tile.height >= 1, "{tile:?}");
            assert!(u64::from(tile.width) * u64::from(tile.height) <= limits.max_pixels, "{tile:?}");
            let side = limits.max_workgroups * WORKGROUP;
            assert!(tile.width <= side && tile.height <= side, "{tile:?} exceeds one dispatch");
            for y in tile.y..tile.y + tile.height {
                for x in tile.x..tile.x + tile.width {
                    seen[y as usize * width as usize + x as usize] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "every pixel in exactly one tile");
        count
    }

    #[test]
    fn ordinary_frames_are_one_dispatch() {
        assert_eq!(tile_size(1000, 1000, 1000, &lavapipe()), (1000, 1000));
        assert_eq!(covered_once(1000, 1000, 1000, &lavapipe()), 1);
        assert_eq!(covered_once(37, 23, 3, &lavapipe()), 1);
    }

    #[test]
    fn big_frames_are_cut_to_the_binding_and_the_dispatch() {
        // A strip 2^30 pixels wide, and a square frame of 2^30 pixels...
        let limits = lavapipe();
        let (columns, rows) = tile_size(1 << 30, 1, 10, &limits);
        assert_eq!((columns, rows), (65_535 * 16, 1), "no wider than one dispatch can address");
        let (columns, rows) = tile_size(32_768, 32_768, 10, &limits);
        assert_eq!((columns, rows), (32_768, 512), "16 Mi pixels, whole rows");
        // ...and small limits on small frames exercise the same code paths.
        let tiny = TileLimits { max_pixels: 100, max_workgroups: 2, max_iterations: u64::MAX };
        assert_eq!(covered_once(101, 47, 10, &tiny), 4 * 16, "tiles of 32 x 3");
        assert_eq!(covered_once(7, 300, 10, &tiny), 300 / 14 + 1);
    }

    #[test]
    fn long_dispatches_are_split_by_their_worst_case_work() {
        let limits = lavapipe();
        // 1000 x 1000 at max_iter 10^6: at most 4,294 pixels (4 rows) per dispatch.
        assert_eq!(tile_size(1000, 1000, 1_000_000, &limits), (1000, 4));
        // At an absurd max_iter, one pixel per dispatch: the worst case of each is max_iter.
        assert_eq!(tile_size(1000, 1000, u32::MAX, &limits), (1, 1));
        assert_eq!(covered_once(19, 5, u32::MAX, &limits), 95);
    }
}
