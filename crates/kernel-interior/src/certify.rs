//! The certificates: trapping discs with a rounding margin, exact cycles (Brent), and balls
//! around cycles found from the orbit.
//!
//! Invariants kept here (the proof is in the crate docs):
//! - A disc `(w, t)` of a lane is used only if the inequality of the crate docs held, evaluated
//!   so that rounding can only make it stricter; otherwise its threshold `t` is `-1`, which no
//!   `|z - w|²` is at most.
//! - A cycle is claimed only on `==` of the whole state, compared with a state saved earlier
//!   by the same slot's vector.
//! - An orbit's ball proves a lane only if every ball of its chain was checked, rounded up, to
//!   lie within `SAFE_RADIUS` and the last one within the first; the period and the centre it
//!   starts from are guesses, and nothing else is taken from them.

use kernel_simd::engine::Certify;
use kernel_simd::Lanes;
use mandel_core::{Precision, Real};

/// Iterations a vector runs before its first check: most escaping pixels are gone by then,
/// so they never pay for a disc.
pub const FIRST_CHECK: u32 = 32;

/// Steps from one check of a vector to the next (a multiple of the engine's block; the engine
/// makes a check due at its next exit from the hot loop, see `engine::CHECK_WAIT`). On the
/// seahorse frame, where most checks find nothing, 64 beat 32 by about 10%. With the orbit's
/// ball finding the cycles that Brent found only with frequent checks, 128 beat 64: 0.965x the
/// time on seahorse, 0.977x on classic, 1.008x at `max_iter` 10,000 (paired on the two cores,
/// 20 to 24 pairs, AMD EPYC family 26), though the census counts fewer proofs (the lanes are
/// proved later); 256 was 1.05x and 1.07x the time of 128 on classic and at 10,000.
pub const CHECK_EVERY: u32 = 128;

/// The largest `|z|` a disc may reach: `|z| <= 1.99` passes the escape test (`|z|² <= 4`)
/// whatever the rounding of `zr² + zi²`.
pub const SAFE_RADIUS: f64 = 1.99;

/// The count at which a vector first tries the orbit's ball (then once per doubling of it).
pub const FIRST_BALL: u32 = 64;

/// The longest cycle the orbit's balls look for.
pub const MAX_PERIOD: u32 = 64;

/// The longest period the orbit's ball looks for after `done` iterations: a cycle shows only
/// after the orbit has run around it many times.
fn search(done: u32) -> u32 {
    (done / 16).clamp(1, MAX_PERIOD)
}

/// What one step of the orbit ball's search costs, in the engine's pixel-iterations: the
/// search is one dependency chain (about 10 cycles a step), the engine runs a pixel-iteration
/// in about 0.4 cycles (5 vectors of 8 lanes in flight). Tried on every vector without a disc,
/// the ball made seahorse valley 1.07x to 1.12x slower (its long-lived vectors are mostly slow
/// escapes, where the search finds nothing) while it made `max_iter` 10,000 0.78x; with the
/// cost model (`Certificates::ball_pays`) seahorse is unchanged (0.98–1.00x, the ball is
/// never tried there after the first few) and 10,000 keeps its 0.77x.
pub const BALL_STEP_COST: u64 = 25;

/// A deliberately wrong certificate, for the tests that must catch one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Flaw {
    /// The sound certificates of the crate docs.
    None,
    /// The real-number disc: no rounding margin, and a radius stretched by `tol` past what
    /// the inequality allows, accepted for any `c` whose `|multiplier| < 1 + tol`.
    Loose(f64),
    /// Periodicity checking with a tolerance (Fractint's "close enough") in place of the
    /// orbit's ball: a lane whose orbit comes back within `tol` of where it was, `p` steps on,
    /// is taken as periodic. Tried at every chance.
    CloseEnough(f64),
}

/// How many pixels each certificate decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Trapped in the main cardioid's disc.
    pub cardioid: u64,
    /// Trapped in the period-2 bulb's discs.
    pub bulb: u64,
    /// Found on an exact cycle.
    pub cycled: u64,
    /// Trapped in a ball around a cycle found from the orbit.
    pub orbit: u64,
    /// Iterations the certificates skipped (`max_iter` minus the iterations run, summed).
    pub skipped: u64,
}

/// Per-slot state: the lanes' discs (computed at the slot's first check) and Brent's save.
#[derive(Clone, Copy)]
pub struct Slot<L> {
    ready: bool,
    any_disc: bool,
    /// Discs around the cardioid's fixed point (then `w2 = w1`) or the bulb's 2-cycle.
    w1: (L, L),
    t1: L,
    w2: (L, L),
    t2: L,
    /// Which lanes have a cardioid disc (for the census).
    cardioid: u32,
    saved: (L, L),
    save_at: u32,
    /// The count at or after which the orbit's ball is next tried.
    ball_at: u32,
}

impl<L: Lanes> Default for Slot<L> {
    fn default() -> Self {
        let zero = L::splat(<L::Real as Real>::ZERO);
        Slot {
            ready: false,
            any_disc: false,
            w1: (zero, zero),
            t1: zero,
            w2: (zero, zero),
            t2: zero,
            cardioid: 0,
            saved: (zero, zero),
            save_at: FIRST_CHECK,
            ball_at: FIRST_BALL,
        }
    }
}

/// What a lane carries when it is packed into a new vector at a cap: its discs, so that
/// they are computed once per pixel. Brent's saved state is not carried; the new vector
/// saves afresh.
#[derive(Clone, Copy)]
pub struct Lane<R> {
    ready: bool,
    ball_at: u32,
    cardioid: bool,
    w1: (R, R),
    t1: R,
    w2: (R, R),
    t2: R,
}

impl<R: Real> Default for Lane<R> {
    fn default() -> Self {
        let zero = R::ZERO;
        Lane {
            ready: false,
            ball_at: FIRST_BALL,
            cardioid: false,
            w1: (zero, zero),
            t1: zero,
            w2: (zero, zero),
            t2: zero,
        }
    }
}

/// The certifier the engine runs: discs and cycles, with a census.
pub struct Certificates<L> {
    flaw: Flaw,
    max_iter: u32,
    /// What it decided so far.
    pub census: Census,
    /// Times the orbit's ball was tried.
    balls: u64,
    consts: Consts<L>,
}

#[derive(Clone, Copy)]
struct Consts<L> {
    /// Unit roundoff `u`.
    u: L,
    /// `1 + 1024u`: covers every `(1 + u)^n` of the bounds below.
    safe: L,
    /// `1 - 1024u`, for the membership threshold.
    shrink: L,
    /// Covers underflow: larger than the absolute error of every subnormal result of a step.
    tiny: L,
    /// Smallest radius used (so that `r²` is far from underflow).
    r_min: L,
}

impl<L: Lanes> Certificates<L> {
    /// A certifier for frames of `max_iter` iterations.
    pub fn new(max_iter: u32, flaw: Flaw) -> Self {
        let (u, tiny, r_min) = match <L::Real as Real>::PRECISION {
            Precision::F64 => (2f64.powi(-53), 2f64.powi(-1000), 2f64.powi(-400)),
            Precision::F32 => (2f64.powi(-24), 2f64.powi(-120), 2f64.powi(-40)),
        };
        let s = |x: f64| L::splat(<L::Real as Real>::from_f64(x));
        let consts = Consts {
            u: s(u),
            safe: s(1.0 + 1024.0 * u),
            shrink: s(1.0 - 1024.0 * u),
            tiny: s(tiny),
            r_min: s(r_min),
        };
        Certificates { flaw, max_iter, census: Census::default(), balls: 0, consts }
    }
}

fn s<L: Lanes>(x: f64) -> L {
    L::splat(<L::Real as Real>::from_f64(x))
}

/// The principal square root of `a + ib`, lane by lane (any accuracy will do: the discs'
/// inequality is checked with the rounded result).
fn csqrt<L: Lanes>(a: L, b: L) -> (L, L) {
    let zero = s::<L>(0.0);
    let half = s::<L>(0.5);
    let m = (a * a + b * b).sqrt();
    let re = ((m + a) * half).sqrt();
    let d = m - a;
    let d = d.le(zero).select(zero, d);
    let im = (d * half).sqrt();
    let im = b.le(zero).select(zero - im, im);
    (re, im)
}

impl<L: Lanes> Consts<L> {
    /// An upper bound on `|F(w) - v|` for the exact step `F(z) = z² + c`, floats `w`, `v`, `c`.
    fn residual(&self, w: (L, L), v: (L, L), c: (L, L)) -> L {
        let (wr, wi) = w;
        let m = wr * wr + wi * wi;
        let rr = ((wr * wr - wi * wi) + c.0) - v.0;
        let p = wr * wi;
        let ri = ((p + p) + c.1) - v.1;
        let err = self.u * (s::<L>(7.0) * m + s::<L>(2.0) * (c.0.abs() + c.1.abs()) + v.0.abs() + v.1.abs());
        rr.abs() + ri.abs() + err
    }

    /// An upper bound on the rounding error of one computed step at any `|z| <= rho`.
    fn delta(&self, rho: L, c: (L, L)) -> L {
        self.u * (s::<L>(5.0) * rho * rho + c.0.abs() + c.1.abs()) + self.tiny
    }

    /// The computed `F̂` maps the disc `|z - w| <= r` into `|z - v| <= r_out`: the left side of
    /// the inequality, rounded up (times `safe`), and `rho`, an upper bound on `|z|` in the disc.
    /// `aw` is `|w|`, rounded either way: `rho` and the spread use `aw * safe`.
    fn image(&self, w: (L, L), aw: L, v: (L, L), r: L, c: (L, L), margin: bool) -> (L, L) {
        let aw = aw * self.safe;
        let rho = (aw + r) * self.safe;
        let spread = r * (s::<L>(2.0) * aw + r);
        let lhs = if margin { spread + self.residual(w, v, c) + self.delta(rho, c) } else { spread };
        (lhs * self.safe, rho)
    }

    /// The membership threshold for a disc of radius `r` (rounded down), or `-1` where `ok` is
    /// not set or `r` is below `r_min`.
    fn threshold(&self, r: L, ok: L, margin: bool) -> L {
        let t = if margin { (r * r) * self.shrink - self.tiny } else { r * r };
        let ok = ok & self.r_min.le(r);
        ok.select(t, s::<L>(-1.0))
    }
}

impl<L: Lanes> Certificates<L> {
    /// Whether trying the orbit's ball on a vector after `done` iterations is likely to pay:
    /// the lanes it proved per try so far on this frame (starting from one per try, as if 16
    /// tries had found that), times the iterations a proof now skips, against what a try
    /// costs. A cost model, not a proof: it decides only where to look.
    fn ball_pays(&self, done: u32) -> bool {
        if matches!(self.flaw, Flaw::CloseEnough(_)) {
            return true;
        }
        let (won, tried) = (self.census.orbit + 16, self.balls + 16);
        won * u64::from(self.max_iter - done) >= tried * BALL_STEP_COST * (u64::from(search(done)) + 10)
    }

    /// Certificate 3 (see the crate docs): the lanes of `live` whose `z` is in a ball that the
    /// computed step maps into itself after `p` steps, `p` the lane's period as the orbit
    /// suggests it, the ball centred on a Newton step towards the cycle.
    #[inline(never)]
    fn orbit_ball(&self, z: (L, L), c: (L, L), live: u32, done: u32) -> u32 {
        let k = self.consts;
        let (zero, one, two, quarter) = (s::<L>(0.0), s::<L>(1.0), s::<L>(2.0), s::<L>(0.25));
        let step = |y: (L, L)| {
            let p = y.0 * y.1;
            ((y.0 * y.0 - y.1 * y.1) + c.0, (p + p) + c.1)
        };
        // The period: the first `j` whose `|F̂^j(z) - z|` is far smaller (4x in its square) than
        // any before it, with `(F^j)'(z)` along. Any answer will do: the ball below is the proof.
        let longest = search(done);
        let close = k.u.sqrt() * k.u.sqrt().sqrt();
        let (mut y, mut d) = (z, (one, zero));
        let mut best = s::<L>(f64::MAX);
        let (mut period, mut yp, mut dp) = (zero, z, d);
        // The longest period of a live lane: the last `j` at which one changed.
        let mut last = 0;
        for j in 1..=longest {
            d = (two * (y.0 * d.0 - y.1 * d.1), two * (y.0 * d.1 + y.1 * d.0));
            y = step(y);
            let (ex, ey) = (y.0 - z.0, y.1 - z.1);
            let dist = ex * ex + ey * ey;
            let better = dist.le(best * quarter);
            best = better.select(dist, best);
            period = better.select(s::<L>(f64::from(j)), period);
            yp = (better.select(y.0, yp.0), better.select(y.1, yp.1));
            dp = (better.select(d.0, dp.0), better.select(d.1, dp.1));
            if better.mask_bits() & live != 0 {
                last = j;
            }
            // Stop once every lane is back very close to where it started.
            if best.le(close).mask_bits() & live == live {
                break;
            }
        }
        if let Flaw::CloseEnough(tol) = self.flaw {
            return best.le(s::<L>(tol * tol)).mask_bits() & live;
        }
        // A ball can only map into itself where the cycle attracts: `|(F^p)'| < 1` near it.
        let gain = dp.0 * dp.0 + dp.1 * dp.1;
        let live = live & gain.le(one).mask_bits();
        if live == 0 {
            return 0;
        }
        // The centre: one Newton step for `F^p(w) = w` from `z`.
        let (nr, ni) = (yp.0 - z.0, yp.1 - z.1);
        let (mr, mi) = (dp.0 - one, dp.1);
        let m2 = mr * mr + mi * mi;
        let w = (z.0 - (nr * mr + ni * mi) / m2, z.1 - (ni * mr - nr * mi) / m2);
        let (gr, gi) = (z.0 - w.0, z.1 - w.1);
        let r = (gr * gr + gi * gi).sqrt() * two + k.u * s::<L>(1024.0);
        // A filter, not a proof: the ball holds only where `r` is small beside `1 - |(F^p)'|`
        // (for `p = 1` exactly that), so far from it the `p` steps below would be wasted.
        let live = live & r.le(one - gain.sqrt()).mask_bits();
        if live == 0 {
            return 0;
        }
        // The balls `B_j = D(c_j, ρ_j)`: `c_j` the computed orbit of `w`, `ρ_j` a bound on how
        // far the computed step takes any point of `B_{j-1}` from `c_j`.
        let (yes, no) = (zero.le(zero), zero.le(s::<L>(-1.0)));
        let safe_radius = s::<L>(SAFE_RADIUS);
        // Each ball that matters lies within `|z| <= SAFE_RADIUS` (checked below, or the lane
        // fails), so one step's rounding is at most `δ(SAFE_RADIUS)` in all of them.
        let delta2 = two * k.delta(safe_radius, c);
        let (mut cj, mut rho, mut ok) = (w, r, yes);
        let (mut cp, mut rp) = (w, r);
        for j in 1..=last {
            let jf = s::<L>(f64::from(j));
            let a = (cj.0 * cj.0 + cj.1 * cj.1).sqrt() * k.safe;
            let out = (a + rho) * k.safe;
            // `B_{j-1}` for `j <= p` must lie where the escape test cannot fire.
            let inside = jf.le(period).select(out.le(safe_radius), yes);
            ok = inside.select(ok, no);
            rho = (rho * (two * a + rho) + delta2) * k.safe;
            cj = step(cj);
            let at_p = jf.eq(period);
            cp = (at_p.select(cj.0, cp.0), at_p.select(cj.1, cp.1));
            rp = at_p.select(rho, rp);
        }
        // `B_p` inside `B_0`.
        let (er, ei) = (cp.0 - w.0, cp.1 - w.1);
        let e = (er * er + ei * ei).sqrt() * k.safe;
        let ok = ok & ((e + rp) * k.safe).le(r) & one.le(period);
        let t = k.threshold(r, ok, true);
        (gr * gr + gi * gi).le(t).mask_bits() & live
    }

    /// The discs of one slot's lanes.
    fn discs(&mut self, slot: &mut Slot<L>, c: (L, L)) {
        let k = self.consts;
        let (margin, loose) = match self.flaw {
            Flaw::Loose(tol) => (false, tol),
            Flaw::None | Flaw::CloseEnough(_) => (true, 0.0),
        };
        let (one, two, half) = (s::<L>(1.0), s::<L>(2.0), s::<L>(0.5));
        let safe_radius = s::<L>(SAFE_RADIUS);
        // Many vectors that get here hold no point of one component or of either (slow
        // escapes, other components): skip those discs by the classic real-number tests, with
        // slack. This is only a filter: a disc is used only where its own inequality holds, so
        // the filter can cost time (a lane kept out), never exactness. The flawed certificates
        // skip it.
        let (mut want1, mut want2) = (true, true);
        if margin {
            let (x, y) = c;
            let xq = x - s::<L>(0.25);
            let q = xq * xq + y * y;
            let slack = s::<L>(1e-3);
            let cardioid = (q * (q + xq)).le(s::<L>(0.25) * y * y + slack);
            let xb = x + one;
            let bulb = (xb * xb + y * y).le(s::<L>(0.0625) + slack);
            (want1, want2) = (cardioid.mask_bits() != 0, bulb.mask_bits() != 0);
        }
        let (yes, no) = (s::<L>(0.0).le(s::<L>(0.0)), s::<L>(0.0).le(s::<L>(-1.0)));
        let zero = s::<L>(0.0);
        let (mut w, mut t1, mut found) = ((zero, zero), s::<L>(-1.0), no);
        // Period 1: w = (1 - sqrt(1 - 4c)) / 2.
        if want1 {
            let (sr, si) = csqrt(one - s::<L>(4.0) * c.0, s::<L>(0.0) - s::<L>(4.0) * c.1);
            w = ((one - sr) * half, (s::<L>(0.0) - si) * half);
            let aw = (w.0 * w.0 + w.1 * w.1).sqrt();
            let lambda = two * aw;
            let gap = one - lambda;
            for f in [0.5, 0.75, 0.95] {
                let r = if loose > 0.0 { gap * s::<L>(f) + s::<L>(loose) } else { gap * s::<L>(f) };
                let (lhs, rho) = k.image(w, aw, w, r, c, margin);
                let ok = if loose > 0.0 {
                    lambda.le(s::<L>(1.0 + loose)) & s::<L>(0.0).le(r)
                } else {
                    lhs.le(r) & rho.le(safe_radius) & s::<L>(0.0).le(gap)
                };
                let t = k.threshold(r, ok, margin);
                found = t.le(s::<L>(-1.0)).select(found, yes);
                t1 = t.le(s::<L>(-1.0)).select(t1, t);
            }
        }
        let card = found.mask_bits();
        let (mut w1, mut w2, mut b1, mut b2, mut found2) =
            ((zero, zero), (zero, zero), s::<L>(-1.0), s::<L>(-1.0), no);
        // Period 2: w1, w2 = (-1 ± sqrt(-3 - 4c)) / 2, multiplier 4 w1 w2.
        if want2 {
            let (sr, si) = csqrt(s::<L>(-3.0) - s::<L>(4.0) * c.0, s::<L>(0.0) - s::<L>(4.0) * c.1);
            w1 = ((sr - one) * half, si * half);
            w2 = ((s::<L>(0.0) - one - sr) * half, (s::<L>(0.0) - si) * half);
            let a = two * (w1.0 * w1.0 + w1.1 * w1.1).sqrt();
            let b = two * (w2.0 * w2.0 + w2.1 * w2.1).sqrt();
            let mu = a * b;
            let scale = (one - mu) / (one + b + a * a);
            for f in [0.25, 0.5, 0.9] {
                let r1 = scale * s::<L>(f) + s::<L>(loose);
                let (lhs1, rho1) = k.image(w1, a * half, w2, r1, c, margin);
                let r2 = lhs1;
                let (lhs2, rho2) = k.image(w2, b * half, w1, r2, c, margin);
                let ok = if loose > 0.0 {
                    mu.le(s::<L>(1.0 + loose))
                } else {
                    lhs2.le(r1) & rho1.le(safe_radius) & rho2.le(safe_radius) & s::<L>(0.0).le(scale)
                };
                let ta = k.threshold(r1, ok, margin);
                let tb = k.threshold(r2, ok, margin);
                let fail = ta.le(s::<L>(-1.0)) | tb.le(s::<L>(-1.0));
                b1 = fail.select(b1, ta);
                b2 = fail.select(b2, tb);
                found2 = fail.select(found2, yes);
            }
        }
        // A lane is in at most one component; the cardioid's disc wins where both exist.
        let has1 = found;
        slot.w1 = (has1.select(w.0, w1.0), has1.select(w.1, w1.1));
        slot.t1 = has1.select(t1, b1);
        slot.w2 = (has1.select(w.0, w2.0), has1.select(w.1, w2.1));
        slot.t2 = has1.select(t1, b2);
        slot.cardioid = card;
        slot.any_disc = (card | found2.mask_bits()) != 0;
        slot.ready = true;
    }
}

impl<L: Lanes> Certify<L> for Certificates<L> {
    type Slot = Slot<L>;
    type Lane = Lane<L::Real>;

    fn lane(slot: &Slot<L>, k: usize) -> Lane<L::Real> {
        if !slot.ready {
            return Lane { ball_at: slot.ball_at, ..Lane::default() };
        }
        let none = <L::Real as Real>::from_f64(-1.0);
        let t = |t: L| if slot.any_disc { t.lane(k) } else { none };
        Lane {
            ready: true,
            ball_at: slot.ball_at,
            cardioid: slot.cardioid >> k & 1 == 1,
            w1: (slot.w1.0.lane(k), slot.w1.1.lane(k)),
            t1: t(slot.t1),
            w2: (slot.w2.0.lane(k), slot.w2.1.lane(k)),
            t2: t(slot.t2),
        }
    }

    fn pack(lanes: &[Lane<L::Real>]) -> Slot<L> {
        let ball_at = lanes.iter().map(|lane| lane.ball_at).min().unwrap_or(FIRST_BALL);
        let mut slot = Slot { ball_at, ..Slot::default() };
        if lanes.is_empty() || lanes.iter().any(|lane| !lane.ready) {
            return slot;
        }
        let zero = <L::Real as Real>::ZERO;
        let none = <L::Real as Real>::from_f64(-1.0);
        let get = |f: fn(&Lane<L::Real>) -> L::Real, missing| L::from_fn(|k| lanes.get(k).map_or(missing, f));
        slot.w1 = (get(|l| l.w1.0, zero), get(|l| l.w1.1, zero));
        slot.t1 = get(|l| l.t1, none);
        slot.w2 = (get(|l| l.w2.0, zero), get(|l| l.w2.1, zero));
        slot.t2 = get(|l| l.t2, none);
        slot.cardioid = lanes.iter().enumerate().fold(0, |bits, (k, l)| bits | u32::from(l.cardioid) << k);
        slot.any_disc = lanes.iter().any(|l| l.t1 > zero || l.t2 > zero);
        slot.ready = true;
        slot
    }

    // The same for every vector. Measured slower: checking old vectors every `done / 4`
    // steps (the lanes proved later cost more than the checks saved), and vectors with no
    // disc 4 times less often (Brent then compares only states 256 steps apart, and finds
    // far fewer cycles).
    fn every(_: &Slot<L>, _: u32) -> u32 {
        CHECK_EVERY
    }
    // Lanes proved at scattered times leave holes in their vectors; packing keeps the
    // engine's lanes busy with work that is left.
    const PACK: bool = true;

    // ANCHOR: check
    #[inline(never)]
    fn check(&mut self, slot: &mut Slot<L>, z: (L, L), c: (L, L), live: u32, done: u32) -> u32 {
        if done < FIRST_CHECK {
            return 0;
        }
        if !slot.ready {
            self.discs(slot, c);
        }
        let mut proved = 0;
        let mut trapped = 0;
        if slot.any_disc {
            let in_disc = |w: (L, L), t: L| {
                let (dr, di) = (z.0 - w.0, z.1 - w.1);
                (dr * dr + di * di).le(t).mask_bits()
            };
            trapped = (in_disc(slot.w1, slot.t1) | in_disc(slot.w2, slot.t2)) & live;
            proved |= trapped;
        }
        // Brent: the state saved at `save_at`'s predecessor; an exact repeat is a cycle.
        if slot.save_at > FIRST_CHECK {
            let cycled = (z.0.eq(slot.saved.0) & z.1.eq(slot.saved.1)).mask_bits() & live & !proved;
            proved |= cycled;
            self.census.cycled += u64::from(cycled.count_ones());
        }
        // Once per doubling of a lane's count, a ball around a cycle found from the orbit.
        // Only lanes without a disc: a lane near its disc's component converges to the cycle
        // the disc is around, and the ball would be no larger.
        let discless = if slot.any_disc {
            let none = s::<L>(-1.0);
            (slot.t1.le(none) & slot.t2.le(none)).mask_bits()
        } else {
            u32::MAX
        };
        if done >= slot.ball_at
            && live & !proved & discless != 0
            && !matches!(self.flaw, Flaw::Loose(_))
            && self.ball_pays(done)
        {
            slot.ball_at = done.saturating_mul(2);
            self.balls += 1;
            let orbit = self.orbit_ball(z, c, live & !proved & discless, done);
            proved |= orbit;
            self.census.orbit += u64::from(orbit.count_ones());
        }
        if done >= slot.save_at {
            slot.saved = z;
            slot.save_at = done.saturating_mul(2);
        }
        if proved != 0 {
            let card = trapped & slot.cardioid;
            self.census.cardioid += u64::from(card.count_ones());
            self.census.bulb += u64::from((trapped & !card).count_ones());
            self.census.skipped += u64::from(proved.count_ones()) * u64::from(self.max_iter - done);
        }
        proved
    }
    // ANCHOR_END: check
}
