//! Racing a family of variants of one idea on one scene, for the examples that choose a
//! parameter by measurement (`just sweep`, `just grain`, `just gpu-cost`, `just exercise`): the
//! race's engine, plan and table without its command line, and the studies' JSON exports that
//! the book's tables are generated from.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use mandel_core::{Frame, Precision, Scene};
use serde::{Deserialize, Serialize};

use crate::output::PendingFile;
use crate::provenance::Provenance;
use crate::race::{race, Contestant, RacePlan, References};
use crate::report::{self, FrameInfo, Order, RaceReport, SCHEMA_VERSION};

/// An example's command line: `[SCENE] [--json FILE]`.
#[derive(Debug)]
pub struct StudyArgs {
    /// The scene to measure.
    pub scene: &'static Scene,
    /// Where to write the study's JSON (the source of the book's tables), if anywhere.
    pub json: Option<PathBuf>,
}

impl StudyArgs {
    /// Parses the process's arguments; the scene defaults to `default`.
    pub fn parse(default: &str) -> Result<StudyArgs, String> {
        StudyArgs::parse_from(std::env::args().skip(1), default)
    }

    /// Parses `args` (without the program name).
    pub fn parse_from(args: impl IntoIterator<Item = String>, default: &str) -> Result<StudyArgs, String> {
        let (mut scene, mut json) = (None, None);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--json" => {
                    let path = args.next().ok_or("--json needs a file name")?;
                    json = Some(PathBuf::from(path));
                }
                flag if flag.starts_with('-') => {
                    return Err(format!("unknown option {flag:?}; usage: [SCENE] [--json FILE]"))
                }
                name if scene.is_none() => scene = Some(name.to_string()),
                extra => return Err(format!("unexpected argument {extra:?}; usage: [SCENE] [--json FILE]")),
            }
        }
        let name = scene.unwrap_or_else(|| default.into());
        let scene = Scene::by_name(&name)
            .ok_or_else(|| format!("unknown scene {name:?}; known: {}", Scene::names()))?;
        Ok(StudyArgs { scene, json })
    }

    /// Writes `study` as pretty JSON to `--json`'s file (if one was given), whole or not at all.
    pub fn write_json<T: Serialize>(&self, study: &T) -> Result<(), String> {
        let Some(path) = &self.json else { return Ok(()) };
        write_json(path, study)?;
        println!("wrote {}", path.display());
        Ok(())
    }
}

/// Writes `value` as pretty JSON to `path`; the file appears only when complete.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())? + "\n";
    let file = PendingFile::create(path).map_err(|e| e.to_string())?;
    file.write_bytes(text.as_bytes()).and_then(|written| written.commit()).map_err(|e| e.to_string())
}

/// Verifies and times `contestants` on `scene` with the standard plan, speedups over `baseline`.
pub fn race_variants(
    scene: &Scene,
    contestants: &[Contestant],
    baseline: &str,
) -> Result<RaceReport, String> {
    race_variants_on(scene.name(), &scene.frame(), contestants, baseline)
}

/// The same on any frame, called `name` in the report (for studies of frames that are not
/// scenes, such as `just gpu-chunk`'s long orbits).
pub fn race_variants_on(
    name: &str,
    frame: &Frame,
    contestants: &[Contestant],
    baseline: &str,
) -> Result<RaceReport, String> {
    let frame = frame.clone();
    let with_f32 = contestants.iter().any(|c| c.kernel.precision() == Precision::F32);
    let references = References::compute(&frame, with_f32, &mut |_| {}).map_err(|e| e.to_string())?;
    let plan = RacePlan::STANDARD;
    let outcome =
        race(contestants, &frame, &references, &plan, baseline, &AtomicBool::new(false), &mut |_| {});
    let mut devices: Vec<String> = contestants.iter().filter_map(|c| c.kernel.device()).collect();
    devices.dedup();
    let frame_info = FrameInfo::new(name, &frame, references.pixel_iterations);
    Ok(RaceReport::new(frame_info, plan, baseline, outcome, Provenance::collect(devices)))
}

/// The race's header and table, on stdout.
pub fn print(report: &RaceReport) {
    println!("{}\n", report::header(&report.provenance, &report.frame, &report.plan));
    print!("{}", report::table(report, Order::Rung));
}

/// `just grain`'s study: how uneven a scene's work is, what contiguous bands would cap the
/// speedup at, and the race of task sizes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrainStudy {
    /// Always `"grain"`: tells this file from a race.
    pub kind: String,
    /// The layout's version.
    pub schema: u32,
    /// Share of the frame's pixel-iterations carried by its busiest fifth of pixels (0 to 1).
    pub busiest_fifth_share: f64,
    /// For each thread count, the best speedup one contiguous band per thread could reach.
    pub band_caps: Vec<BandCap>,
    /// `parallel-simd` with tasks of several sizes, against `simd-f64x8`; its provenance and
    /// frame are the study's.
    pub race: RaceReport,
}

/// The speedup cap of contiguous bands at one thread count.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BandCap {
    /// Threads, one band each.
    pub threads: usize,
    /// The frame's work over the heaviest band's.
    pub cap: f64,
}

impl GrainStudy {
    /// A grain study from its parts.
    pub fn new(busiest_fifth_share: f64, band_caps: Vec<BandCap>, race: RaceReport) -> GrainStudy {
        GrainStudy { kind: "grain".into(), schema: SCHEMA_VERSION, busiest_fifth_share, band_caps, race }
    }
}

/// `just ceiling`'s study: the bare untested step's rate by vector type and vectors in flight.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CeilingStudy {
    /// Always `"ceiling"`.
    pub kind: String,
    /// The layout's version.
    pub schema: u32,
    /// Where and how it was measured (one thread).
    pub provenance: Provenance,
    /// Steps timed per measurement.
    pub steps: u64,
    /// One rate per vector type and number in flight.
    pub rates: Vec<CeilingRate>,
}

/// One measurement of the ceiling.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CeilingRate {
    /// The vector type (`f64x8`).
    pub vector: String,
    /// Independent vectors stepped in turn.
    pub in_flight: usize,
    /// Pixel-iterations per second, in billions.
    pub giter_per_s: f64,
}

impl CeilingStudy {
    /// A ceiling study from its rates, with this process's provenance.
    pub fn new(steps: u64, rates: Vec<CeilingRate>) -> CeilingStudy {
        CeilingStudy {
            kind: "ceiling".into(),
            schema: SCHEMA_VERSION,
            provenance: Provenance::collect_for_pool(Vec::new(), 1),
            steps,
            rates,
        }
    }
}

/// `just census`'s study: what the algorithmic rung's certificates decided on each frame.
/// Counts, not timings: the same on every machine for a given build of the kernels.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CensusStudy {
    /// Always `"census"`.
    pub kind: String,
    /// The layout's version.
    pub schema: u32,
    /// Where it was run.
    pub provenance: Provenance,
    /// One row per frame.
    pub rows: Vec<CensusRow>,
}

/// The census of one frame (`interior-simd`, f64).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CensusRow {
    /// The scene.
    pub scene: String,
    /// Its iteration limit (the scene's own, or another).
    pub max_iter: u32,
    /// Pixels in the frame.
    pub pixels: u64,
    /// Pixels that never escape (count `max_iter`).
    pub interior: u64,
    /// Proved by the main cardioid's disc.
    pub cardioid: u64,
    /// Proved by the period-2 bulb's discs.
    pub bulb: u64,
    /// Proved by an exact cycle.
    pub cycled: u64,
    /// Proved by a ball around a cycle found from the orbit (0 in censuses made before it).
    #[serde(default)]
    pub orbit: u64,
    /// Interior pixels iterated all the way to `max_iter`.
    pub undecided: u64,
    /// The frame's pixel-iterations (the race's unit of work).
    pub work: u64,
    /// Pixel-iterations the kernel ran (the work less what the certificates skipped).
    pub run: u64,
}

impl CensusStudy {
    /// A census from its rows, with this process's provenance.
    pub fn new(rows: Vec<CensusRow>) -> CensusStudy {
        CensusStudy {
            kind: "census".into(),
            schema: SCHEMA_VERSION,
            provenance: Provenance::collect_for_pool(Vec::new(), 1),
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<StudyArgs, String> {
        StudyArgs::parse_from(args.iter().map(|a| a.to_string()), "classic")
    }

    #[test]
    fn study_arguments_are_a_scene_and_an_optional_json_file() {
        let plain = parse(&[]).unwrap();
        assert_eq!((plain.scene.name(), plain.json), ("classic", None));
        let both = parse(&["--json", "g.json", "seahorse"]).unwrap();
        assert_eq!((both.scene.name(), both.json), ("seahorse", Some(PathBuf::from("g.json"))));
        assert!(parse(&["nowhere"]).unwrap_err().contains("unknown scene \"nowhere\""));
        assert!(parse(&["--json"]).unwrap_err().contains("needs a file name"));
        assert!(parse(&["--csv", "x"]).unwrap_err().contains("unknown option"));
        assert!(parse(&["quick", "deep"]).unwrap_err().contains("unexpected argument"));
    }
}
