//! Tiles for any scheduler: `mandel render --tile I/N` computes tile I of N of a frame (a band
//! of whole rows), writes its counts and, beside them, a sidecar that says what they are;
//! `mandel merge` checks the parts against each other and assembles the whole frame, bit for
//! bit what one render would have written. No MPI and no network: Slurm job arrays, `xargs -P`
//! or a shell loop on several machines hand out the tiles.
//!
//! Invariants:
//! - Tile `i` of `n` is the rows `i*h/n .. (i+1)*h/n` (0-based `i`), computed as a band of the
//!   whole frame, so every pixel keeps the whole frame's coordinates: a merged frame is the
//!   whole render, whoever computed each tile.
//! - A part is accepted only with its sidecar, and only if the sidecar's frame, kernel, tile
//!   count, rows and checksum agree with the other parts and with the counts it sits beside.

use std::path::{Path, PathBuf};

use mandel_core::{Frame, Viewport};
use serde::{Deserialize, Serialize};

/// `I/N`: tile `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileSpec {
    /// Which tile, from 1.
    pub index: u32,
    /// How many tiles.
    pub count: u32,
}

impl std::str::FromStr for TileSpec {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("expected I/N, tile I (from 1) of N, like 3/8; got `{text}`");
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let index: u32 = index.trim().parse().map_err(|_| usage())?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("tile {index}/{count}: I must be from 1 to N, and N at least 1"));
        }
        Ok(TileSpec { index, count })
    }
}

impl TileSpec {
    /// The global rows of this tile of a frame `height` rows high, or why there are none.
    pub fn rows(self, height: u32) -> Result<std::ops::Range<u32>, String> {
        if self.count > height {
            return Err(format!("{} tiles of a frame {height} rows high: use at most {height}", self.count));
        }
        let edge = |k: u32| (u64::from(k) * u64::from(height) / u64::from(self.count)) as u32;
        Ok(edge(self.index - 1)..edge(self.index))
    }
}

/// What a part's sidecar (`PART.json` beside `PART`) says about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    /// Always `"mandel-tile"`.
    pub kind: String,
    /// The layout's version.
    pub schema: u32,
    /// The kernel that computed it.
    pub kernel: String,
    /// Its precision, `f64` or `f32`.
    pub precision: String,
    /// The whole frame's `[x_min, x_max, y_min, y_max]`.
    pub bounds: [f64; 4],
    /// The whole frame's width.
    pub width: u32,
    /// The whole frame's height.
    pub height: u32,
    /// The whole frame's `max_iter`.
    pub max_iter: u32,
    /// Which tile, from 1.
    pub tile: u32,
    /// Of how many.
    pub tiles: u32,
    /// Its global rows, `[first, end)`.
    pub rows: [u32; 2],
    /// FNV-1a (64 bits) of its counts as little-endian bytes, in hex.
    pub checksum: String,
}

/// The version of the sidecar's layout.
pub const SIDECAR_SCHEMA: u32 = 1;

/// The sidecar's path for a part.
pub fn sidecar_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// FNV-1a over the counts' little-endian bytes: a part that changed after it was written is
/// refused (not a defence against anyone, a check against accidents).
pub fn checksum(counts: &[u32]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in counts.iter().flat_map(|count| count.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

impl Sidecar {
    /// The sidecar of tile `spec` of `frame` (a whole frame), computed by `kernel`.
    pub fn new(
        kernel: &str,
        precision: &str,
        frame: &Frame,
        spec: TileSpec,
        rows: std::ops::Range<u32>,
        counts: &[u32],
    ) -> Sidecar {
        let v = frame.viewport();
        Sidecar {
            kind: "mandel-tile".into(),
            schema: SIDECAR_SCHEMA,
            kernel: kernel.into(),
            precision: precision.into(),
            bounds: [v.x_min(), v.x_max(), v.y_min(), v.y_max()],
            width: v.width(),
            height: v.height(),
            max_iter: frame.max_iter(),
            tile: spec.index,
            tiles: spec.count,
            rows: [rows.start, rows.end],
            checksum: checksum(counts),
        }
    }

    /// The whole frame this part is a tile of.
    pub fn frame(&self) -> Result<Frame, String> {
        let [x_min, x_max, y_min, y_max] = self.bounds;
        let viewport = Viewport::from_bounds(x_min, x_max, y_min, y_max, self.width, self.height)
            .map_err(|e| e.to_string())?;
        Ok(Frame::new(viewport, self.max_iter))
    }

    /// Whether two parts are tiles of one render (same frame, kernel and tile count).
    fn same_render(&self, other: &Sidecar) -> bool {
        (
            &self.kernel,
            &self.precision,
            self.bounds.map(f64::to_bits),
            self.width,
            self.height,
            self.max_iter,
            self.tiles,
        ) == (
            &other.kernel,
            &other.precision,
            other.bounds.map(f64::to_bits),
            other.width,
            other.height,
            other.max_iter,
            other.tiles,
        )
    }
}

/// A part read back: its path, its sidecar and its counts.
pub struct Part {
    /// The `.npy` file.
    pub path: PathBuf,
    /// What its sidecar says.
    pub sidecar: Sidecar,
    /// Its counts, row-major.
    pub counts: Vec<u32>,
}

/// Reads a part and its sidecar; `Err` is one line naming the file.
pub fn read_part(path: &Path) -> Result<Part, String> {
    let name = path.display();
    let side = sidecar_path(path);
    let text = std::fs::read_to_string(&side).map_err(|_| {
        format!(
            "{name} has no {} beside it: parts are written by `mandel render --tile I/N --counts FILE`",
            side.display()
        )
    })?;
    let sidecar: Sidecar = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a tile's sidecar: {e}", side.display()))?;
    if sidecar.kind != "mandel-tile" || sidecar.schema != SIDECAR_SCHEMA {
        return Err(format!("{} is not a tile's sidecar of this version", side.display()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let array = npyz::NpyFile::new(&bytes[..]).map_err(|e| format!("{name} is not a .npy file: {e}"))?;
    let shape = array.shape().to_vec();
    let counts: Vec<u32> =
        array.into_vec().map_err(|e| format!("{name} does not hold uint32 counts: {e}"))?;
    let [first, end] = sidecar.rows;
    let rows = u64::from(end.saturating_sub(first));
    if shape != [rows, u64::from(sidecar.width)] || counts.len() as u64 != rows * u64::from(sidecar.width) {
        return Err(format!(
            "{name} holds counts of shape {shape:?}, but tile {} of {} is {rows} rows of {}",
            sidecar.tile, sidecar.tiles, sidecar.width
        ));
    }
    if checksum(&counts) != sidecar.checksum {
        return Err(format!(
            "{name} does not match the checksum in its sidecar: it changed after it was written"
        ));
    }
    Ok(Part { path: path.to_path_buf(), sidecar, counts })
}

/// Checks that `parts` are every tile of one render, once each, and assembles the whole
/// frame's counts.
pub fn merge(parts: &[Part]) -> Result<(Frame, Vec<u32>), String> {
    let Some(first) = parts.first() else { return Err("no parts to merge".into()) };
    let n = first.sidecar.tiles;
    let frame = first.sidecar.frame()?;
    let mut seen: Vec<Option<&Path>> = vec![None; n as usize];
    for part in parts {
        let s = &part.sidecar;
        if !s.same_render(&first.sidecar) {
            return Err(format!(
                "{} is not a tile of the same render as {} (frame, kernel or number of tiles differ)",
                part.path.display(),
                first.path.display()
            ));
        }
        let expected = TileSpec { index: s.tile, count: n }.rows(s.height);
        if s.tile == 0 || s.tile > n || expected.as_ref().map(|r| [r.start, r.end]) != Ok(s.rows) {
            return Err(format!(
                "{} claims to be tile {} of {n}, rows {:?}: that is not one",
                part.path.display(),
                s.tile,
                s.rows
            ));
        }
        let slot = &mut seen[s.tile as usize - 1];
        if let Some(earlier) = slot {
            return Err(format!(
                "tile {} of {n} is given twice: {} and {}",
                s.tile,
                earlier.display(),
                part.path.display()
            ));
        }
        *slot = Some(&part.path);
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, p)| p.is_none()).map(|(k, _)| (k + 1).to_string()).collect();
    if !missing.is_empty() {
        return Err(format!("tile {} of {n} is missing", missing.join(", ")));
    }
    let width = frame.width() as usize;
    let mut counts = vec![0; frame.pixel_count()];
    for part in parts {
        let start = part.sidecar.rows[0] as usize * width;
        counts[start..start + part.counts.len()].copy_from_slice(&part.counts);
    }
    Ok((frame, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_every_row_once_in_order() {
        for (height, n) in [(1000, 7), (5, 5), (3, 1), (1000, 1000)] {
            let mut next = 0;
            for index in 1..=n {
                let rows = TileSpec { index, count: n }.rows(height).unwrap();
                assert_eq!(rows.start, next);
                assert!(!rows.is_empty());
                next = rows.end;
            }
            assert_eq!(next, height);
        }
        assert!(TileSpec { index: 1, count: 6 }.rows(5).unwrap_err().contains("at most 5"));
        for bad in ["0/4", "5/4", "1/0", "x/2", "2", "-1/3"] {
            assert!(bad.parse::<TileSpec>().is_err(), "{bad}");
        }
        assert_eq!("3/8".parse::<TileSpec>(), Ok(TileSpec { index: 3, count: 8 }));
    }

    #[test]
    fn the_checksum_sees_one_changed_count() {
        assert_ne!(checksum(&[1, 2, 3]), checksum(&[1, 2, 4]));
        assert_eq!(checksum(&[]), "cbf29ce484222325");
    }
}
