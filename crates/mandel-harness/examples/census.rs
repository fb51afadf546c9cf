//! What the algorithmic rung's certificates decide: for each scene (and the classic frame at
//! `max_iter` 10,000), how many pixels each certificate proved, how many interior pixels were
//! iterated to the end, and how much of the frame's work was run
//! (`cargo run --release -p mandel-harness --example census [-- --json FILE]`, or `just census`).

use std::path::PathBuf;

use mandel_core::{pixel_iterations, Frame, Scene, SCENES};
use mandel_harness::variants::{write_json, CensusRow, CensusStudy};

fn main() {
    let mut args = std::env::args().skip(1);
    let json = match (args.next().as_deref(), args.next(), args.next()) {
        (None, _, _) => None,
        (Some("--json"), Some(file), None) => Some(PathBuf::from(file)),
        _ => {
            eprintln!("census: usage: census [--json FILE]");
            std::process::exit(2);
        }
    };
    let mut frames: Vec<(&Scene, u32)> = SCENES.iter().map(|scene| (scene, scene.max_iter())).collect();
    let classic = Scene::by_name("classic").expect("the classic scene exists");
    frames.push((classic, 10_000));
    println!(
        "{:<9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>15} {:>14} {:>8}",
        "scene",
        "max_iter",
        "pixels",
        "interior",
        "cardioid",
        "bulb",
        "cycle",
        "ball",
        "iterated",
        "work",
        "run",
        "fewer"
    );
    let mut rows = Vec::new();
    for (scene, max_iter) in frames {
        let frame = Frame::new(scene.viewport(), max_iter);
        let mut out = vec![0; frame.pixel_count()];
        let census = match kernel_interior::census_f64(&frame, &mut out) {
            Ok(census) => census,
            Err(err) => {
                eprintln!("census: {}: {err}", scene.name());
                std::process::exit(1);
            }
        };
        let interior = out.iter().filter(|&&n| n == max_iter).count() as u64;
        let work = pixel_iterations(&out, max_iter);
        let row = CensusRow {
            scene: scene.name().into(),
            max_iter,
            pixels: out.len() as u64,
            interior,
            cardioid: census.cardioid,
            bulb: census.bulb,
            cycled: census.cycled,
            orbit: census.orbit,
            undecided: interior - census.cardioid - census.bulb - census.cycled - census.orbit,
            work,
            run: work - census.skipped,
        };
        println!(
            "{:<9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>15} {:>14} {:>7.2}x",
            row.scene,
            row.max_iter,
            row.pixels,
            row.interior,
            row.cardioid,
            row.bulb,
            row.cycled,
            row.orbit,
            row.undecided,
            row.work,
            row.run,
            row.work as f64 / row.run as f64
        );
        rows.push(row);
    }
    if let Some(path) = json {
        if let Err(err) = write_json(&path, &CensusStudy::new(rows)) {
            eprintln!("census: {err}");
            std::process::exit(1);
        }
    }
}
