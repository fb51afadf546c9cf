//! Output files: escape counts as NumPy `.npy`, pictures as PNG, race exports; all written
//! atomically.
//!
//! A [`PendingFile`] is a temporary file created beside its destination before any work is
//! done (so a missing directory fails in milliseconds, not after a long render), and renamed
//! into place only when completely written: a failed run leaves no partial file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use npyz::WriterBuilder;
use tempfile::NamedTempFile;

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {reason}")]
pub struct OutputError {
    /// The destination.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

/// The temporary files of every [`PendingFile`] not yet committed or dropped: what a signal
/// handler must remove before the process exits (an exit runs no destructors).
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary file not yet committed: for a handler of Ctrl-C or SIGTERM, which
/// then exits. Returns how many it removed.
pub fn remove_pending() -> usize {
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    let removed = pending.iter().filter(|path| std::fs::remove_file(path).is_ok()).count();
    pending.clear();
    removed
}

/// A temporary file's place in [`PENDING`], given up when it is renamed or deleted.
#[derive(Debug)]
struct Registration(PathBuf);

impl Drop for Registration {
    fn drop(&mut self) {
        PENDING.lock().unwrap_or_else(|e| e.into_inner()).retain(|path| *path != self.0);
    }
}

/// A file that appears at its path only once completely written.
#[derive(Debug)]
pub struct PendingFile {
    path: PathBuf,
    temp: NamedTempFile,
    registration: Registration,
}

impl PendingFile {
    /// Creates the temporary file in the destination's directory.
    pub fn create(path: &Path) -> Result<Self, OutputError> {
        let error = |reason: String| OutputError { path: path.display().to_string(), reason };
        if path.is_dir() {
            return Err(error("it is a directory".into()));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(error(format!("the directory {} does not exist", dir.display())));
        }
        let temp =
            tempfile::Builder::new().prefix(".mandel-").suffix(".partial").tempfile_in(dir).map_err(|e| {
                // tempfile appends ` at path <temporary name>`; the person asked for `path`, and
                // the temporary file is what could not be created in its directory.
                let message = e.to_string();
                let reason = message.split(" at path ").next().unwrap_or(&message);
                error(format!("cannot create a file in {} ({reason})", dir.display()))
            })?;
        let registration = Registration(temp.path().to_path_buf());
        PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(registration.0.clone());
        Ok(PendingFile { path: path.to_path_buf(), temp, registration })
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `counts` (row-major, `height` rows of `width`) as a little-endian `uint32`
    /// array of shape `(height, width)`, which `numpy.load` reads.
    pub fn write_npy(self, counts: &[u32], width: u32, height: u32) -> Result<WrittenFile, OutputError> {
        self.write_with(|file| {
            let mut writer = npyz::WriteOptions::new()
                .dtype(npyz::DType::Plain("<u4".parse().expect("a valid numpy type string")))
                .shape(&[u64::from(height), u64::from(width)])
                .writer(file)
                .begin_nd()?;
            writer.extend(counts.iter().copied())?;
            writer.finish()
        })
    }

    /// Writes `counts` as an RGB PNG: the interior (`max_iter`) black, escaped pixels coloured
    /// by [`escape_colour`].
    pub fn write_png(
        self,
        counts: &[u32],
        width: u32,
        height: u32,
        max_iter: u32,
    ) -> Result<WrittenFile, OutputError> {
        self.write_with(|file| {
            let mut encoder = png::Encoder::new(file, width, height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
            let mut stream = writer.stream_writer().map_err(std::io::Error::other)?;
            // One row of RGB at a time: a large frame needs no second full-size buffer.
            let mut rgb = Vec::with_capacity(width as usize * 3);
            for row in counts.chunks_exact(width as usize) {
                rgb.clear();
                rgb.extend(row.iter().flat_map(|&count| escape_colour(count, max_iter)));
                stream.write_all(&rgb)?;
            }
            stream.finish().map_err(std::io::Error::other)?;
            writer.finish().map_err(std::io::Error::other)
        })
    }

    /// Writes `bytes` as they are (the race's JSON, CSV, markdown and SVG exports).
    pub fn write_bytes(self, bytes: &[u8]) -> Result<WrittenFile, OutputError> {
        self.write_with(|file| file.write_all(bytes))
    }

    fn write_with(
        self,
        write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> Result<WrittenFile, OutputError> {
        let path = self.path.display().to_string();
        let error = |reason: String| OutputError { path: path.clone(), reason };
        let file = self.temp.as_file().try_clone().map_err(|e| error(e.to_string()))?;
        let mut buffered = BufWriter::new(file);
        write(&mut buffered).and_then(|()| buffered.flush()).map_err(|e| error(e.to_string()))?;
        drop(buffered);
        self.temp.as_file().sync_all().map_err(|e| error(e.to_string()))?;
        #[cfg(unix)]
        {
            // Temporary files are private (0600); a picture or array is an ordinary file.
            use std::os::unix::fs::PermissionsExt;
            let _ = self.temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        Ok(WrittenFile(self))
    }
}

/// A completely written temporary file, not yet at its destination. Write every output of a
/// run first, then [`commit`](WrittenFile::commit) them all: a run that fails half-way leaves
/// none of its files behind. Dropping it deletes the temporary file.
#[derive(Debug)]
pub struct WrittenFile(PendingFile);

impl WrittenFile {
    /// The destination.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// Renames the file into place (atomic within one file system).
    pub fn commit(self) -> Result<(), OutputError> {
        let PendingFile { path, temp, registration } = self.0;
        let committed = temp
            .persist(&path)
            .map(drop)
            .map_err(|e| OutputError { path: path.display().to_string(), reason: e.error.to_string() });
        drop(registration);
        committed
    }
}

/// Commits every file of a run, in order, and returns one `wrote PATH: WHAT` line for each.
pub fn commit_all(written: Vec<(WrittenFile, String)>) -> Result<Vec<String>, OutputError> {
    let mut lines = Vec::with_capacity(written.len());
    for (file, what) in written {
        let path = file.path().display().to_string();
        file.commit()?;
        lines.push(format!("wrote {path}: {what}"));
    }
    Ok(lines)
}

/// The colour of a pixel: black for the interior; otherwise the perceptually uniform
/// "inferno" map of `ln(1 + count) / ln(1 + max_iter)`, which spreads the many low counts
/// near the set's outside over most of the map's range.
pub fn escape_colour(count: u32, max_iter: u32) -> [u8; 3] {
    if count >= max_iter {
        return [0, 0, 0];
    }
    let t = (f64::from(count) + 1.0).ln() / (f64::from(max_iter) + 1.0).ln();
    // Start above inferno's black end so the outside never looks like the interior.
    let colour = colorous::INFERNO.eval_continuous(0.12 + 0.88 * t);
    [colour.r, colour.g, colour.b]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_with_shape_height_width() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.npy");
        let counts: Vec<u32> = (0..6).map(|k| k * 1000 + 7).collect();
        let written = PendingFile::create(&path).unwrap().write_npy(&counts, 3, 2).unwrap();
        assert!(!path.exists(), "nothing at the destination before the commit");
        written.commit().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        assert_eq!(npy.shape(), &[2, 3]);
        assert_eq!(npy.dtype().descr(), "'<u4'");
        assert_eq!(npy.into_vec::<u32>().unwrap(), counts);
        // Nothing but the file itself is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn png_has_the_frame_size_and_a_black_interior() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        PendingFile::create(&path).unwrap().write_png(&[0, 5, 10, 10], 2, 2, 10).unwrap().commit().unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (2, 2));
        assert_eq!(&pixels[6..12], &[0, 0, 0, 0, 0, 0]);
        assert_ne!(&pixels[0..3], &[0, 0, 0]);
        assert_ne!(&pixels[0..3], &pixels[3..6], "different counts, different colours");
    }

    #[test]
    fn a_missing_directory_fails_before_any_work_and_an_unfinished_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let err = PendingFile::create(&dir.path().join("no/such/dir/c.npy")).unwrap_err();
        assert!(err.to_string().starts_with("cannot write"), "{err}");
        let err = PendingFile::create(dir.path()).unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
        let pending = PendingFile::create(&dir.path().join("c.npy")).unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Written but never committed (a later output failed): deleted too.
        let written =
            PendingFile::create(&dir.path().join("c.npy")).unwrap().write_npy(&[1, 2], 2, 1).unwrap();
        drop(written);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
