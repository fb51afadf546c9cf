//! scratch
use mandel_core::{Frame, Scene};
fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "classic".into());
    let kname = args.next().unwrap_or_else(|| "interior-simd".into());
    let n: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(50);
    let scene = Scene::by_name(&name).unwrap();
    let mi: u32 = args.next().map(|s| s.parse().unwrap()).unwrap_or(scene.max_iter());
    let frame = Frame::new(scene.viewport(), mi);
    let mut out = vec![0; frame.pixel_count()];
    let ks = kernel_interior::kernels();
    let simd = kernel_simd::kernels();
    let par = kernel_parallel::kernels();
    let k = ks.iter().chain(simd.iter()).chain(par.iter()).find(|k| k.name() == kname).unwrap();
    let mut times = vec![];
    for _ in 0..n {
        let t = std::time::Instant::now();
        k.compute(&frame, &mut out).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }

    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{kname} {name}: median {:.2} ms min {:.2}", times[n / 2], times[0]);
}
