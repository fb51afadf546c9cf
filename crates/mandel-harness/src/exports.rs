//! The race's exports: JSON, markdown, CSV and the SVG chart. Destinations are checked before
//! the race (a bad path fails in milliseconds, not after minutes of timing), each file is written
//! to a temporary file and renamed into place, and one export that cannot be produced (a chart
//! without speedups) does not cost the others.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::chart::speedup_chart;
use crate::output::PendingFile;
use crate::report::{self, Order, RaceReport};

/// One kind of export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Every sample and the provenance: the source of truth for docs and charts.
    Json,
    /// The table with a provenance caption.
    Markdown,
    /// One row per kernel.
    Csv,
    /// A bar chart of the speedups.
    Chart,
}

impl Format {
    fn describe(self) -> &'static str {
        match self {
            Format::Json => "JSON: every sample and the provenance",
            Format::Markdown => "markdown table",
            Format::Csv => "CSV, one row per kernel",
            Format::Chart => "SVG bar chart of the speedups",
        }
    }
}

/// What a race command publishes: a single race ([`RaceReport`]) or a scaling run
/// (`ScalingReport`). [`publish`] prints and exports either the same way.
pub trait Publishable {
    /// The table for a terminal.
    fn table(&self, order: Order) -> String;
    /// Warnings and notes for under the table.
    fn notes(&self) -> Vec<String>;
    /// The text of one export, or why this report has no such export.
    fn render(&self, format: Format, order: Order) -> Result<String, String>;
    /// The names of kernels that were wrong or failed.
    fn broken(&self) -> Vec<String>;
    /// Whether Ctrl-C cut it short.
    fn interrupted(&self) -> bool;
    /// Whether any kernel was timed at all.
    fn measured(&self) -> bool;
}

impl Publishable for RaceReport {
    fn table(&self, order: Order) -> String {
        report::table(self, order)
    }
    fn notes(&self) -> Vec<String> {
        report::notes(self)
    }
    fn render(&self, format: Format, order: Order) -> Result<String, String> {
        match format {
            Format::Json => {
                serde_json::to_string_pretty(self).map(|json| json + "\n").map_err(|e| e.to_string())
            }
            Format::Markdown => Ok(report::markdown(self, order)),
            Format::Csv => report::csv(self, order),
            Format::Chart => speedup_chart(self),
        }
    }
    fn broken(&self) -> Vec<String> {
        RaceReport::broken(self).iter().map(|k| k.name.clone()).collect()
    }
    fn interrupted(&self) -> bool {
        self.interrupted
    }
    fn measured(&self) -> bool {
        self.kernels.iter().any(|k| !k.samples_s.is_empty())
    }
}

/// The exports a race was asked for, with checked destinations.
#[derive(Debug, Default)]
pub struct Exports {
    targets: Vec<(PathBuf, Format)>,
}

/// What [`Exports::write`] did.
#[derive(Debug, Default)]
pub struct Written {
    /// `wrote PATH: what` for each file now in place.
    pub lines: Vec<String>,
    /// One line per export that could not be produced.
    pub errors: Vec<String>,
}

impl Exports {
    /// Checks every destination now: its directory exists and takes a file, and no two exports
    /// share a path (the second would silently replace the first).
    pub fn new(targets: impl IntoIterator<Item = (Option<PathBuf>, Format)>) -> Result<Exports, String> {
        let targets: Vec<(PathBuf, Format)> =
            targets.into_iter().filter_map(|(path, format)| Some((path?, format))).collect();
        let mut seen: Vec<PathBuf> = Vec::new();
        for (path, _) in &targets {
            // Creating (and dropping) the temporary file proves the directory writable now.
            drop(PendingFile::create(path).map_err(|e| e.to_string())?);
            let same = absolute(path);
            if seen.contains(&same) {
                return Err(format!("{} is given for two exports; each needs its own file", path.display()));
            }
            seen.push(same);
        }
        Ok(Exports { targets })
    }

    /// Whether any export was asked for.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Whether the chart was asked for.
    pub fn wants_chart(&self) -> bool {
        self.wants(Format::Chart)
    }

    /// Whether an export in `format` was asked for.
    pub fn wants(&self, format: Format) -> bool {
        self.targets.iter().any(|(_, f)| *f == format)
    }

    /// Writes every export that can be produced, then renames them into place.
    pub fn write(&self, report: &dyn Publishable, order: Order) -> Written {
        let mut written = Written::default();
        let mut ready = Vec::new();
        for (path, format) in &self.targets {
            let file = report
                .render(*format, order)
                .and_then(|text| {
                    PendingFile::create(path)
                        .and_then(|pending| pending.write_bytes(text.as_bytes()))
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| format!("{}: {e}", path.display()));
            match file {
                Ok(file) => ready.push((file, format.describe())),
                Err(e) => written.errors.push(e),
            }
        }
        for (file, what) in ready {
            let path = file.path().display().to_string();
            match file.commit() {
                Ok(()) => written.lines.push(format!("wrote {path}: {what}")),
                Err(e) => written.errors.push(e.to_string()),
            }
        }
        written
    }
}

/// How a race ended, for the exit status.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything raced and was exported.
    Clean,
    /// A kernel was wrong or failed, or an export could not be written: one line saying which.
    Broken(String),
    /// Ctrl-C cut the race short; what was measured is printed and exported.
    Interrupted,
}

/// Prints the table and its notes to `out`, writes the exports, and says how the race ended.
/// Exports are skipped only when nothing at all was timed (an interrupted race must not replace
/// a good file with an empty one).
pub fn publish(report: &dyn Publishable, exports: &Exports, order: Order, out: &mut dyn Write) -> Verdict {
    let _ = write!(out, "{}", report.table(order));
    let notes = report.notes();
    if !notes.is_empty() {
        let _ = writeln!(out);
    }
    for note in notes {
        let _ = writeln!(out, "{note}");
    }
    let mut problems = Vec::new();
    if report.interrupted() && !report.measured() {
        if !exports.is_empty() {
            let _ = writeln!(out, "no export written: nothing was timed before the interruption");
        }
    } else {
        let written = exports.write(report, order);
        for line in written.lines {
            let _ = writeln!(out, "{line}");
        }
        problems.extend(written.errors.into_iter().map(|e| format!("cannot write {e}")));
    }
    let broken = report.broken();
    if !broken.is_empty() {
        problems.insert(0, format!("wrong or failed: {}", broken.join(", ")));
    }
    match (problems.is_empty(), report.interrupted()) {
        (false, _) => Verdict::Broken(problems.join("; ")),
        (true, true) => Verdict::Interrupted,
        (true, false) => Verdict::Clean,
    }
}

/// `path` made absolute through its (existing) directory, for comparing destinations.
fn absolute(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.join(path.file_name().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_checked_before_the_race_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| Some(dir.path().join(name));
        let exports = Exports::new([(at("r.json"), Format::Json), (None, Format::Csv)]).unwrap();
        assert!(!exports.is_empty() && !exports.wants_chart());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary file stays");

        let err = Exports::new([(at("no/such/r.json"), Format::Json)]).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        let twice = dir.path().join(".").join("r.out");
        let err = Exports::new([(at("r.out"), Format::Json), (Some(twice), Format::Csv)]).unwrap_err();
        assert!(err.contains("two exports"), "{err}");
    }
}
