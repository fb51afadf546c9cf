//! How many pixels each certificate decided, and how much work it skipped, on a named scene:
//! `cargo run --release -p kernel-interior --example census -- [scene] [max_iter]`.

use mandel_core::{Frame, Scene};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "classic".into());
    let Some(scene) = Scene::by_name(&name) else {
        eprintln!("census: unknown scene `{name}`; the scenes are: {}", Scene::names());
        std::process::exit(2);
    };
    let max_iter = match args.next().map(|text| text.parse::<u32>()) {
        None => scene.max_iter(),
        Some(Ok(n)) => n,
        Some(Err(err)) => {
            eprintln!("census: max_iter: {err}");
            std::process::exit(2);
        }
    };
    let frame = Frame::new(scene.viewport(), max_iter);
    let mut out = vec![0; frame.pixel_count()];
    let census = match kernel_interior::census_f64(&frame, &mut out) {
        Ok(census) => census,
        Err(err) => {
            eprintln!("census: {err}");
            std::process::exit(1);
        }
    };
    let work: u64 = out.iter().map(|&n| u64::from(n)).sum();
    let inside = out.iter().filter(|&&n| n == max_iter).count();
    let pixels = out.len();
    println!("scene {name}, {pixels} pixels, max_iter {max_iter}: {inside} never escape");
    println!("  trapped in the cardioid's disc  {:>9}", census.cardioid);
    println!("  trapped in the bulb's discs     {:>9}", census.bulb);
    println!("  found on an exact cycle         {:>9}", census.cycled);
    let undecided = inside as u64 - census.cardioid - census.bulb - census.cycled;
    println!("  iterated to max_iter            {undecided:>9}");
    let run = work - census.skipped;
    println!("  pixel-iterations: {work} in the frame, {run} run ({:.2}x fewer)", work as f64 / run as f64);
}
