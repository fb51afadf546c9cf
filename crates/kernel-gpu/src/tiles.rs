//! How a frame is cut into dispatches: what one storage binding can hold, what one dispatch can
//! address, how many iterations one invocation may run before a driver stops its loop, and how
//! much work one dispatch may do before an OS watchdog would kill it.

/// The workgroup of the `first` dispatch, which covers a tile: invocations along x and y. The
/// shader is generated with it, and dispatches are sized by it, so the two cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Invocations along x (a row of pixels).
    pub x: u32,
    /// Invocations along y.
    pub y: u32,
}

impl Shape {
    /// 16x16: square blocks of pixels.
    pub const SQUARE: Shape = Shape { x: 16, y: 16 };
    /// 64x1: runs of a row.
    pub const ROW_64: Shape = Shape { x: 64, y: 1 };
    /// 256x1: longer runs of a row.
    pub const ROW_256: Shape = Shape { x: 256, y: 1 };

    /// `16x16`.
    pub fn name(self) -> String {
        format!("{}x{}", self.x, self.y)
    }
}

// ANCHOR: shape
/// The shape the kernels use: 16x16, chosen with `just gpu-shape` (the book's GPU chapter has
/// the tables). On lavapipe the classic frame took the same time in all three shapes, and a
/// strip 4 rows high was faster in 16x16 blocks, although three quarters of their invocations
/// fall outside it (the chapter discusses why). Resumed orbits no longer make tiles a few rows
/// high at large `max_iter`, which is what once made rows look attractive.
pub const TILE_SHAPE: Shape = Shape::SQUARE;
// ANCHOR_END: shape

/// The workgroup of the `resume` dispatches, which cover a list of live pixels (one dimension).
pub const LIST_WORKGROUP: u32 = 64;

/// The most iterations one invocation runs in one dispatch: an orbit longer than this is
/// resumed by the next dispatch from its saved state. llvmpipe stops every shader loop after
/// 65,535 iterations; chunks well under that keep each dispatch short on any driver.
/// 4,096, chosen with `just gpu-chunk` (the book's GPU chapter has the table): on lavapipe,
/// chunks of 1,024 were slower on long orbits (each dispatch has a fixed cost), and 16,384 or
/// 32,768 no faster than 4,096, while they would cut a frame into more tiles (a dispatch's
/// budget is pixels times chunk).
pub const CHUNK: u32 = 4096;

/// The most pixels one tile holds whatever the device allows: 16 Mi counts, 64 MiB for the
/// output binding and as much again for its read-back copy.
pub const MAX_TILE_PIXELS: u64 = 1 << 24;

/// The most pixel-iterations one dispatch (and one submission) may need if every pixel ran its
/// whole chunk: about 4.3 G, some milliseconds on a data-centre GPU in f32 (more in f64 on GPUs
/// with few f64 units), and about 3 s on lavapipe on two cores. Windows resets a GPU that does
/// not answer within two seconds; a frame is cut, and its chunks grouped into submissions, so
/// that none needs more than this.
pub const MAX_ITERATIONS_PER_DISPATCH: u64 = 1 << 32;

/// The limits a tile must respect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileLimits {
    /// Most pixels in one tile (one `u32` count each in a storage binding).
    pub max_pixels: u64,
    /// Most workgroups along one dimension of a dispatch.
    pub max_workgroups: u32,
    /// Most pixel-iterations one dispatch may need at worst (every pixel running its chunk).
    pub max_iterations: u64,
    /// Most iterations one invocation runs in one dispatch ([`CHUNK`]).
    pub chunk: u32,
}

impl TileLimits {
    /// The tighter of two sets of limits, field by field.
    pub fn within(self, other: TileLimits) -> TileLimits {
        TileLimits {
            max_pixels: self.max_pixels.min(other.max_pixels),
            max_workgroups: self.max_workgroups.min(other.max_workgroups),
            max_iterations: self.max_iterations.min(other.max_iterations),
            chunk: self.chunk.min(other.chunk),
        }
    }

    /// The limits for a device whose storage bindings and buffers hold at most these many
    /// bytes and whose dispatches have at most `max_workgroups` workgroups per dimension.
    pub fn for_device(max_binding_bytes: u64, max_buffer_bytes: u64, max_workgroups: u32) -> TileLimits {
        TileLimits {
            max_pixels: (max_binding_bytes.min(max_buffer_bytes) / 4).clamp(1, MAX_TILE_PIXELS),
            max_workgroups: max_workgroups.max(1),
            max_iterations: MAX_ITERATIONS_PER_DISPATCH,
            chunk: CHUNK,
        }
    }

    /// The iterations one invocation runs in one dispatch, for frames of `max_iter` (at least 1).
    pub fn chunk_for(&self, max_iter: u32) -> u32 {
        self.chunk.min(max_iter).max(1)
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
/// then as many rows as the limits allow. A dispatch runs at most one chunk of iterations per
/// pixel, so the work budget limits pixels times chunk, not pixels times `max_iter`. A tile
/// has at least one pixel.
pub fn tile_size(width: u32, height: u32, max_iter: u32, limits: &TileLimits, shape: Shape) -> (u32, u32) {
    let across = u64::from(limits.max_workgroups) * u64::from(shape.x);
    let down = u64::from(limits.max_workgroups) * u64::from(shape.y);
    let by_work = limits.max_iterations / u64::from(limits.chunk_for(max_iter));
    let pixels = by_work.min(limits.max_pixels).max(1);
    let columns = u64::from(width).min(across).min(pixels).max(1);
    let rows = u64::from(height).min(down).min(pixels / columns).max(1);
    (columns as u32, rows as u32)
}
// ANCHOR_END: tile-size

/// Every tile of a `width` x `height` frame, row by row of tiles, covering each pixel once.
pub fn tiles(
    width: u32,
    height: u32,
    max_iter: u32,
    limits: &TileLimits,
    shape: Shape,
) -> impl Iterator<Item = Tile> {
    let (columns, rows) = tile_size(width, height, max_iter, limits, shape);
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

    fn covered_once(width: u32, height: u32, max_iter: u32, limits: &TileLimits, shape: Shape) -> usize {
        let mut seen = vec![0u8; width as usize * height as usize];
        let mut count = 0;
        for tile in tiles(width, height, max_iter, limits, shape) {
            count += 1;
            assert!(tile.width >= 1 && tile.height >= 1, "{tile:?}");
            assert!(u64::from(tile.width) * u64::from(tile.height) <= limits.max_pixels, "{tile:?}");
            let (across, down) = (limits.max_workgroups * shape.x, limits.max_workgroups * shape.y);
            assert!(tile.width <= across && tile.height <= down, "{tile:?} exceeds one dispatch");
            let worst =
                u64::from(tile.width) * u64::from(tile.height) * u64::from(limits.chunk_for(max_iter));
            assert!(worst <= limits.max_iterations.max(u64::from(limits.chunk_for(max_iter))), "{tile:?}");
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
        for shape in [Shape::SQUARE, Shape::ROW_64, Shape::ROW_256] {
            assert_eq!(tile_size(1000, 1000, 1000, &lavapipe(), shape), (1000, 1000));
            assert_eq!(covered_once(1000, 1000, 1000, &lavapipe(), shape), 1);
            assert_eq!(covered_once(37, 23, 3, &lavapipe(), shape), 1);
        }
    }

    #[test]
    fn big_frames_are_cut_to_the_binding_and_the_dispatch() {
        // A strip 2^30 pixels wide, and a square frame of 2^30 pixels...
        let limits = lavapipe();
        let (columns, rows) = tile_size(1 << 30, 1, 10, &limits, Shape::SQUARE);
        assert_eq!((columns, rows), (65_535 * 16, 1), "no wider than one dispatch can address");
        let (columns, rows) = tile_size(1 << 30, 1, 10, &limits, Shape::ROW_64);
        assert_eq!((columns, rows), (65_535 * 64, 1), "as wide as 64-wide workgroups reach");
        let (columns, rows) = tile_size(32_768, 32_768, 10, &limits, Shape::SQUARE);
        assert_eq!((columns, rows), (32_768, 512), "16 Mi pixels, whole rows");
        // A column 2^20 pixels high: rows of workgroups 1 high address 65,535 rows at most.
        assert_eq!(tile_size(1, 1 << 20, 10, &limits, Shape::ROW_64), (1, 65_535));
        // ...and small limits on small frames exercise the same code paths.
        let tiny = TileLimits { max_pixels: 100, max_workgroups: 2, max_iterations: u64::MAX, chunk: CHUNK };
        assert_eq!(covered_once(101, 47, 10, &tiny, Shape::SQUARE), 4 * 16, "tiles of 32 x 3");
        assert_eq!(covered_once(7, 300, 10, &tiny, Shape::SQUARE), 300 / 14 + 1);
        assert_eq!(covered_once(7, 300, 10, &tiny, Shape::ROW_64), 300 / 2, "2 rows: 1-high workgroups");
    }

    #[test]
    fn the_work_budget_limits_pixels_times_chunk_not_pixels_times_max_iter() {
        let limits = lavapipe();
        // 1000 x 1000 at max_iter 10^6 or u32::MAX: chunks of 4,096 iterations, so a dispatch
        // holds 2^32 / 4,096 = 2^20 pixels (1,048 whole rows) whatever max_iter is.
        assert_eq!(tile_size(1000, 1000, 1_000_000, &limits, Shape::SQUARE), (1000, 1000));
        assert_eq!(tile_size(4000, 4000, u32::MAX, &limits, Shape::SQUARE), (4000, 262));
        assert_eq!(covered_once(4000, 600, u32::MAX, &limits, Shape::ROW_64), 3);
        // Below one chunk, max_iter itself is the worst case: 2^32 / 1000 pixels.
        assert_eq!(tile_size(8000, 8000, 1000, &limits, Shape::SQUARE), (8000, 536));
        // A budget smaller than one chunk still gets one pixel per dispatch.
        let starved = TileLimits { max_iterations: 10, ..limits };
        assert_eq!(tile_size(19, 5, u32::MAX, &starved, Shape::SQUARE), (1, 1));
    }
}
