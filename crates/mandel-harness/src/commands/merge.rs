//! `mandel merge`: the tiles of a frame (`mandel render --tile I/N`), each checked against its
//! sidecar and against the others, assembled into the whole frame's counts and/or picture,
//! bit for bit what one render would have written.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::render::is_png;
use crate::output::{self, PendingFile};
use crate::tiles::{merge as merge_parts, read_part};

// The subcommand's help is the doc comment of its `Command` variant.
#[allow(missing_docs)]
#[derive(Args)]
pub struct MergeArgs {
    /// The parts: the .npy files `mandel render --tile I/N --counts FILE` wrote (each with its
    /// FILE.npy.json beside it), in any order.
    #[arg(value_name = "PART.npy", required = true)]
    pub parts: Vec<PathBuf>,
    /// Write the whole frame's escape counts here (.npy).
    #[arg(long, value_name = "FILE.npy")]
    pub counts: Option<PathBuf>,
    /// Write the whole frame's picture here (PNG).
    #[arg(long, value_name = "FILE.png")]
    pub image: Option<PathBuf>,
}

/// Reads and checks every part, then writes the whole frame; nothing is written if any part is
/// refused.
pub fn merge(args: MergeArgs, out: &mut impl Write) -> Result<(), String> {
    if args.counts.is_none() && args.image.is_none() {
        return Err("nothing to write: give --counts FILE.npy and/or --image FILE.png".into());
    }
    if let Some(image) = args.image.as_deref().filter(|path| !is_png(path)) {
        return Err(format!("--image {}: only PNG is written; name the file .png", image.display()));
    }
    let counts_file =
        args.counts.as_deref().map(PendingFile::create).transpose().map_err(|e| e.to_string())?;
    let image_file = args.image.as_deref().map(PendingFile::create).transpose().map_err(|e| e.to_string())?;
    let parts = args.parts.iter().map(|path| read_part(path)).collect::<Result<Vec<_>, _>>()?;
    let (frame, counts) = merge_parts(&parts)?;
    let (width, height) = (frame.width(), frame.viewport().height());
    let mut written = Vec::new();
    if let Some(file) = counts_file {
        written.push((
            file.write_npy(&counts, width, height).map_err(|e| e.to_string())?,
            format!("escape counts, uint32, shape ({height}, {width})"),
        ));
    }
    if let Some(file) = image_file {
        written.push((
            file.write_png(&counts, width, height, frame.max_iter()).map_err(|e| e.to_string())?,
            format!("{width}x{height} PNG"),
        ));
    }
    let sidecar = &parts[0].sidecar;
    let mut report = format!("merged {} tiles of {frame}, computed by {}", sidecar.tiles, sidecar.kernel);
    for line in output::commit_all(written).map_err(|e| e.to_string())? {
        report += &format!("\n{line}");
    }
    let _ = writeln!(out, "{report}");
    Ok(())
}
