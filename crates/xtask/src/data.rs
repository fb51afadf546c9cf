//! The book's measured data: the JSON files under `docs/race/` (a race, a scaling run, a study),
//! the facts each one offers to the prose, and the tables it renders.
//!
//! Every figure in the docs is computed here from a file that carries its provenance; nothing
//! is typed by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use mandel_harness::race::{KernelResult, Status};
use mandel_harness::report::{self, caption, duration, spread, thousands, Order, RaceReport};
use mandel_harness::scaling::ScalingReport;
use mandel_harness::variants::{CeilingStudy, CensusStudy, GrainStudy};

/// One measured file, by what it holds.
#[derive(Debug)]
pub enum Data {
    /// A race (`cargo race --json`, `just sweep`, `just gpu-cost`, `just exercise`).
    Race(RaceReport),
    /// A scaling run (`cargo race --scaling --json`).
    Scaling(ScalingReport),
    /// `just grain`'s study.
    Grain(GrainStudy),
    /// `just ceiling`'s study.
    Ceiling(CeilingStudy),
    /// `just census`'s study (counts, not timings).
    Census(CensusStudy),
}

impl Data {
    /// Reads and checks `path`: a file from a debug build, an interrupted run or a run with a
    /// wrong kernel cannot be quoted.
    pub fn load(path: &Path) -> Result<Data, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("race").to_string();
        let parsed = match kind.as_str() {
            "race" => serde_json::from_value(value).map(Data::Race),
            "scaling" => serde_json::from_value(value).map(Data::Scaling),
            "grain" => serde_json::from_value(value).map(Data::Grain),
            "ceiling" => serde_json::from_value(value).map(Data::Ceiling),
            "census" => serde_json::from_value(value).map(Data::Census),
            other => return Err(format!("{}: unknown kind {other:?}", path.display())),
        };
        let data = parsed.map_err(|e| format!("{} is not a {kind} file: {e}", path.display()))?;
        data.check().map_err(|why| format!("{}: {why}", path.display()))?;
        Ok(data)
    }

    /// Whether these numbers may be published.
    fn check(&self) -> Result<(), String> {
        let (provenance, interrupted, kernels): (_, bool, Vec<&KernelResult>) = match self {
            Data::Race(r) => (&r.provenance, r.interrupted, r.kernels.iter().collect()),
            Data::Scaling(s) => {
                (&s.provenance, s.interrupted, s.races.iter().flat_map(|race| &race.kernels).collect())
            }
            Data::Grain(g) => (&g.race.provenance, g.race.interrupted, g.race.kernels.iter().collect()),
            Data::Ceiling(c) => (&c.provenance, false, Vec::new()),
            Data::Census(c) => (&c.provenance, false, Vec::new()),
        };
        if provenance.debug_assertions || !provenance.profile.starts_with("release") {
            return Err(format!(
                "measured with a {} build; only release timings are published",
                provenance.profile
            ));
        }
        if interrupted {
            return Err("the run was interrupted (Ctrl-C); measure it again".into());
        }
        if let Some(k) = kernels.iter().find(|k| matches!(k.status, Status::Wrong | Status::Failed)) {
            return Err(format!("kernel {} was {:?}: its numbers cannot be quoted", k.name, k.status));
        }
        Ok(())
    }

    /// Every fact this file offers, by key (see docs/README.md for the keys).
    pub fn facts(&self) -> BTreeMap<String, String> {
        let mut facts = BTreeMap::new();
        match self {
            Data::Race(race) => race_facts(race, &mut facts),
            Data::Scaling(scaling) => {
                provenance_facts(&scaling.provenance, &scaling.frame, &mut facts);
                for row in &scaling.rows {
                    let key = |what: &str| format!("{}.t{}.{what}", row.kernel, row.threads);
                    if let Some(median) = row.median_s {
                        facts.insert(key("median"), duration(median));
                    }
                    if let Some(g) = row.giter_per_s {
                        facts.insert(key("gips"), format!("{g:.2}"));
                    }
                    if let Some(s) = row.speedup {
                        facts.insert(key("speedup"), times(s));
                    }
                    if let Some(e) = row.efficiency {
                        facts.insert(key("efficiency"), format!("{:.0}%", e * 100.0));
                    }
                }
            }
            Data::Grain(grain) => {
                race_facts(&grain.race, &mut facts);
                facts.insert("busiest_fifth".into(), format!("{:.1}%", grain.busiest_fifth_share * 100.0));
                for cap in &grain.band_caps {
                    facts.insert(format!("cap.{}", cap.threads), times(cap.cap));
                }
            }
            Data::Ceiling(ceiling) => {
                machine_facts(&ceiling.provenance, &mut facts);
                let mut best: BTreeMap<&str, f64> = BTreeMap::new();
                for rate in &ceiling.rates {
                    facts.insert(
                        format!("{}.{}", rate.vector, rate.in_flight),
                        format!("{:.2}", rate.giter_per_s),
                    );
                    let top = best.entry(&rate.vector).or_insert(0.0);
                    *top = top.max(rate.giter_per_s);
                }
                for (vector, rate) in best {
                    facts.insert(format!("{vector}.best"), format!("{rate:.2}"));
                }
            }
            Data::Census(census) => {
                machine_facts(&census.provenance, &mut facts);
                for row in &census.rows {
                    let key = |what: &str| format!("{}.{}.{what}", row.scene, row.max_iter);
                    for (what, n) in [
                        ("pixels", row.pixels),
                        ("interior", row.interior),
                        ("cardioid", row.cardioid),
                        ("bulb", row.bulb),
                        ("cycled", row.cycled),
                        ("orbit", row.orbit),
                        ("undecided", row.undecided),
                        ("work", row.work),
                        ("run", row.run),
                    ] {
                        facts.insert(key(what), thousands(n));
                    }
                    let inside = row.interior * u64::from(row.max_iter);
                    facts.insert(key("interior_pixels_share"), percent(row.interior, row.pixels));
                    facts.insert(key("interior_work_share"), percent(inside, row.work));
                    facts.insert(key("decided_share"), percent(row.interior - row.undecided, row.interior));
                    facts.insert(key("fewer"), times(row.work as f64 / row.run as f64));
                }
            }
        }
        facts
    }

    /// The markdown table (with its provenance caption) that `options` ask for.
    pub fn table(&self, options: &BTreeMap<String, String>) -> Result<String, String> {
        let allowed: &[&str] = match self {
            Data::Race(_) | Data::Scaling(_) => &["kernels"],
            Data::Grain(_) => &["part", "kernels"],
            Data::Ceiling(_) | Data::Census(_) => &[],
        };
        if let Some(unknown) = options.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("unknown option {unknown:?} (this file takes: {})", allowed.join(", ")));
        }
        let kernels: Option<Vec<&str>> = options.get("kernels").map(|list| list.split(',').collect());
        match self {
            Data::Race(race) => Ok(report::markdown(&select(race, kernels.as_deref())?, Order::Rung)),
            Data::Scaling(scaling) => {
                let mut chosen = scaling.clone();
                if let Some(names) = kernels.as_deref() {
                    check_names(names, scaling.rows.iter().map(|r| r.kernel.as_str()))?;
                    chosen.rows = names
                        .iter()
                        .flat_map(|name| scaling.rows.iter().filter(move |r| r.kernel == *name))
                        .cloned()
                        .collect();
                }
                Ok(chosen.markdown())
            }
            Data::Grain(grain) => match options.get("part").map(String::as_str) {
                Some("caps") => Ok(caps_table(grain)),
                Some("race") => Ok(report::markdown(&select(&grain.race, kernels.as_deref())?, Order::Rung)),
                _ => Err("a grain table needs part=caps or part=race".into()),
            },
            Data::Ceiling(ceiling) => Ok(ceiling_table(ceiling)),
            Data::Census(census) => Ok(census_table(census)),
        }
    }
}

/// `19.6%`.
fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// `1.98×`.
fn times(ratio: f64) -> String {
    format!("{ratio:.2}×")
}

/// Where and how a file was measured: `cpu`, `threads`, `date`, `commit`, `rustc`, `simd`, `device`.
fn machine_facts(p: &mandel_harness::provenance::Provenance, facts: &mut BTreeMap<String, String>) {
    facts.insert("cpu".into(), p.cpu_named());
    facts.insert("threads".into(), p.threads.to_string());
    facts.insert("date".into(), p.date.clone());
    facts.insert("commit".into(), p.commit.clone());
    facts.insert("rustc".into(), p.rustc.clone());
    facts.insert("simd".into(), p.widest_simd().into());
    facts.insert("device".into(), if p.devices.is_empty() { "none".into() } else { p.devices.join("; ") });
}

/// The machine's facts and the frame's: `scene`, `scene.size`, `scene.max_iter`, `scene.pixel_iterations`.
fn provenance_facts(
    p: &mandel_harness::provenance::Provenance,
    f: &mandel_harness::report::FrameInfo,
    facts: &mut BTreeMap<String, String>,
) {
    machine_facts(p, facts);
    facts.insert("scene".into(), f.scene.clone());
    facts.insert("scene.size".into(), format!("{}x{}", f.width, f.height));
    facts.insert("scene.max_iter".into(), thousands(u64::from(f.max_iter)));
    facts.insert("scene.pixel_iterations".into(), thousands(f.pixel_iterations));
}

fn race_facts(race: &RaceReport, facts: &mut BTreeMap<String, String>) {
    provenance_facts(&race.provenance, &race.frame, facts);
    facts.insert("baseline".into(), race.baseline.clone());
    for k in &race.kernels {
        let key = |what: &str| format!("{}.{what}", k.name);
        if let Some(median) = k.median_s {
            facts.insert(key("median"), duration(median));
            facts.insert(key("mad"), spread(k));
            facts.insert(key("runs"), k.runs.to_string());
        }
        if let Some(g) = k.giter_per_s {
            facts.insert(key("gips"), format!("{g:.2}"));
        }
        if let Some(s) = k.speedup {
            facts.insert(key("speedup"), times(s));
        }
        if let Some(first) = k.first_call_s {
            facts.insert(key("first_call"), duration(first));
        }
        if let Some(n) = k.mismatched_vs_f64 {
            facts.insert(key("differ_f64"), thousands(n));
        }
        if let Some(n) = k.mismatched_pixels {
            facts.insert(key("mismatched"), thousands(n));
        }
        for other in &race.kernels {
            if let (Some(mine), Some(theirs)) = (k.median_s, other.median_s) {
                if other.name != k.name && mine > 0.0 && theirs > 0.0 {
                    facts.insert(format!("{}.vs.{}", k.name, other.name), times(theirs / mine));
                    // Rounded first, so that a tiny negative cost reads `+0%`, not `-0%`.
                    let percent = ((mine / theirs - 1.0) * 100.0).round() + 0.0;
                    facts.insert(format!("{}.cost.{}", k.name, other.name), format!("{percent:+.0}%"));
                }
            }
        }
    }
}

/// `names` all appear in `known`.
fn check_names<'a>(names: &[&str], known: impl Iterator<Item = &'a str> + Clone) -> Result<(), String> {
    match names.iter().find(|name| !known.clone().any(|k| k == **name)) {
        Some(missing) => {
            let mut all: Vec<&str> = known.collect();
            all.dedup();
            Err(format!("no kernel {missing:?} in this file (it has: {})", all.join(", ")))
        }
        None => Ok(()),
    }
}

/// The race with only `names`, in that order.
fn select(race: &RaceReport, names: Option<&[&str]>) -> Result<RaceReport, String> {
    let mut chosen = race.clone();
    if let Some(names) = names {
        check_names(names, race.kernels.iter().map(|k| k.name.as_str()))?;
        chosen.kernels =
            names.iter().filter_map(|name| race.kernels.iter().find(|k| k.name == *name)).cloned().collect();
    }
    Ok(chosen)
}

fn caps_table(grain: &GrainStudy) -> String {
    let race = &grain.race;
    let mut out = caption(&race.provenance, &race.frame, "from the f64 reference's counts");
    out.push_str("| threads | contiguous bands reach at most | ideal |\n|--:|--:|--:|\n");
    for cap in &grain.band_caps {
        let _ = writeln!(out, "| {} | {} | {}× |", cap.threads, times(cap.cap), cap.threads);
    }
    out
}

fn ceiling_table(ceiling: &CeilingStudy) -> String {
    let p = &ceiling.provenance;
    let mut out = format!(
        "*G pixel-iterations/s of the bare step, one thread, by vectors in flight; {}, SIMD up to {}; {}; commit {}; {}.*\n\n",
        p.cpu_named(),
        p.widest_simd(),
        p.rustc,
        p.commit,
        p.date
    );
    let mut counts: Vec<usize> = ceiling.rates.iter().map(|r| r.in_flight).collect();
    counts.sort_unstable();
    counts.dedup();
    let mut vectors: Vec<&str> = ceiling.rates.iter().map(|r| r.vector.as_str()).collect();
    vectors.dedup();
    let heads: Vec<String> = counts.iter().map(usize::to_string).collect();
    let _ = writeln!(out, "| type | {} |", heads.join(" | "));
    let _ = writeln!(out, "|:--|{}", "--:|".repeat(counts.len()));
    for vector in vectors {
        let cells: Vec<String> = counts
            .iter()
            .map(|n| {
                ceiling
                    .rates
                    .iter()
                    .find(|r| r.vector == vector && r.in_flight == *n)
                    .map_or("—".into(), |r| format!("{:.2}", r.giter_per_s))
            })
            .collect();
        let _ = writeln!(out, "| {vector} | {} |", cells.join(" | "));
    }
    out
}

fn census_table(census: &CensusStudy) -> String {
    let p = &census.provenance;
    let mut out = format!(
        "*What `interior-simd`'s certificates decided (f64; counts, the same on any machine); {}; commit {}; {}.*\n\n",
        p.rustc, p.commit, p.date
    );
    let _ = writeln!(
        out,
        "| scene | max_iter | interior pixels | cardioid disc | bulb discs | exact cycle | orbit's ball | iterated to max_iter | pixel-iterations run | fewer |"
    );
    let _ = writeln!(out, "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for row in &census.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} of {} | {} |",
            row.scene,
            thousands(u64::from(row.max_iter)),
            thousands(row.interior),
            thousands(row.cardioid),
            thousands(row.bulb),
            thousands(row.cycled),
            thousands(row.orbit),
            thousands(row.undecided),
            thousands(row.run),
            thousands(row.work),
            times(row.work as f64 / row.run as f64)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(name: &str) -> Data {
        Data::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/race").join(name)).unwrap()
    }

    #[test]
    fn facts_are_computed_from_the_samples_not_copied() {
        let Data::Race(race) = committed("classic.json") else { panic!("classic.json is a race") };
        let median = |name: &str| race.kernels.iter().find(|k| k.name == name).unwrap().median_s.unwrap();
        let facts = committed("classic.json").facts();
        assert_eq!(facts["hoisted.vs.naive"], times(median("naive") / median("hoisted")));
        assert_eq!(facts["hoisted.median"], duration(median("hoisted")));
        assert!(facts["naive.cost.hoisted"].starts_with('+'), "{}", facts["naive.cost.hoisted"]);
        assert_eq!(facts["scene.size"], "1000x1000");
    }

    #[test]
    fn tables_keep_the_asked_rows_in_order_and_name_unknown_ones() {
        let data = committed("classic.json");
        let ask = |kernels: &str| data.table(&BTreeMap::from([("kernels".to_string(), kernels.to_string())]));
        let table = ask("hoisted,naive").unwrap();
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].starts_with("| `hoisted`") && rows[1].starts_with("| `naive`"), "{table}");
        assert!(table.starts_with("*Scene `classic`"), "every table carries its provenance: {table}");
        assert!(ask("hoisted,nope").unwrap_err().contains("no kernel \"nope\""));
        let bad = data.table(&BTreeMap::from([("part".to_string(), "caps".to_string())])).unwrap_err();
        assert!(bad.contains("unknown option \"part\""), "{bad}");
    }

    #[test]
    fn unpublishable_runs_are_refused() {
        let Data::Race(mut race) = committed("classic.json") else { panic!("classic.json is a race") };
        race.interrupted = true;
        assert!(Data::Race(race.clone()).check().unwrap_err().contains("interrupted"));
        race.interrupted = false;
        race.provenance.debug_assertions = true;
        assert!(Data::Race(race.clone()).check().unwrap_err().contains("only release timings"));
        race.provenance.debug_assertions = false;
        race.kernels[0].status = Status::Wrong;
        assert!(Data::Race(race).check().unwrap_err().contains("cannot be quoted"));
    }
}
