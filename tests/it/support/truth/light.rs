//! Light changes between two phone shots, applied to the after photo of a truth pair. `Linear`
//! is the model the tone fit assumes (a gain in linear light, one gamma on encoded values); the
//! others are the ordinary changes it cannot represent (issue 30): a contrast curve on encoded
//! values, white balance applied to encoded values, a black-level lift (flare), highlights
//! clipped by a brighter exposure, and a vignette. The truth (the after photo under the
//! before's light) is the same whatever the light, so only the fit's skill changes.

use beforeafter::synth::Rng;
use beforeafter::tone::srgb_encode;

/// Which kind of light change an after photo was shot under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LightKind {
    Linear,
    Contrast,
    WhiteBalance,
    Flare,
    Clipped,
    Vignette,
    Mixed,
}

impl LightKind {
    pub const ALL: [LightKind; 7] = [
        LightKind::Linear,
        LightKind::Contrast,
        LightKind::WhiteBalance,
        LightKind::Flare,
        LightKind::Clipped,
        LightKind::Vignette,
        LightKind::Mixed,
    ];

    /// A word for case folder names.
    #[must_use]
    pub fn short(self) -> &'static str {
        match self {
            LightKind::Linear => "linear",
            LightKind::Contrast => "contrast",
            LightKind::WhiteBalance => "wb",
            LightKind::Flare => "flare",
            LightKind::Clipped => "clipped",
            LightKind::Vignette => "vignette",
            LightKind::Mixed => "mixed",
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            LightKind::Linear => "linear gain + gamma (the fit's own model)",
            LightKind::Contrast => "contrast curve on encoded values",
            LightKind::WhiteBalance => "white balance on encoded values (±20%)",
            LightKind::Flare => "black-level lift (flare)",
            LightKind::Clipped => "brighter exposure, clipped highlights",
            LightKind::Vignette => "vignette",
            LightKind::Mixed => "all of them, milder",
        }
    }
}

/// A global change of light (and, for a vignette, one that varies over the frame).
#[derive(Clone, Copy, Debug)]
pub struct Light {
    pub kind: LightKind,
    /// Per-channel gain in linear light.
    pub gain: [f64; 3],
    /// Gamma on encoded values.
    pub gamma: f64,
    /// Per-channel gain on encoded values (a camera's white balance after its tone curve).
    pub encoded_gain: [f64; 3],
    /// S-curve strength on encoded values: > 0 adds mid-tone contrast, < 0 removes it.
    pub contrast: f64,
    /// Black-level lift, as a share of full scale.
    pub flare: f64,
    /// Linear light lost in the corners.
    pub vignette: f64,
}

impl Light {
    /// Today's model only.
    #[must_use]
    pub fn linear(gain: [f64; 3], gamma: f64) -> Light {
        Light {
            kind: LightKind::Linear,
            gain,
            gamma,
            encoded_gain: [1.0; 3],
            contrast: 0.0,
            flare: 0.0,
            vignette: 0.0,
        }
    }

    /// `base` (a spec's linear light) turned into a change of `kind`, drawn from `seed`.
    #[must_use]
    pub fn of_kind(base: Light, kind: LightKind, seed: u64) -> Light {
        let mut rng = Rng::new(seed ^ 0x11_6417);
        let mild = |g: f64| g.powf(0.4);
        let mut l = Light {
            kind,
            gain: base.gain.map(mild),
            gamma: 1.0,
            ..base
        };
        let sign = |rng: &mut Rng| if rng.range(0.0, 1.0) < 0.5 { -1.0 } else { 1.0 };
        match kind {
            LightKind::Linear => return base,
            LightKind::Contrast => l.contrast = sign(&mut rng) * rng.range(0.35, 0.7),
            LightKind::WhiteBalance => {
                l.encoded_gain = std::array::from_fn(|_| rng.range(0.8, 1.2));
            }
            LightKind::Flare => l.flare = rng.range(0.03, 0.09),
            LightKind::Clipped => {
                l.gain = [rng.range(1.5, 1.9); 3].map(|g| g * rng.range(0.95, 1.05))
            }
            LightKind::Vignette => l.vignette = rng.range(0.2, 0.4),
            LightKind::Mixed => {
                l.contrast = sign(&mut rng) * rng.range(0.15, 0.35);
                l.encoded_gain = std::array::from_fn(|_| rng.range(0.9, 1.1));
                l.flare = rng.range(0.01, 0.04);
                l.vignette = rng.range(0.05, 0.15);
                l.gamma = base.gamma.powf(0.5);
            }
        }
        l
    }

    /// Linear value `v` of channel `k` at `at` (fractions of the frame) as the camera encodes
    /// it, in [0, 1].
    #[must_use]
    pub fn encode(&self, v: f64, k: usize, at: [f64; 2]) -> f64 {
        let r2 = ((at[0] - 0.5).powi(2) + (at[1] - 0.5).powi(2)) * 2.0;
        let lin = v * self.gain[k] * (1.0 - self.vignette * r2);
        let mut e = srgb_encode(lin.clamp(0.0, 1.0)).powf(self.gamma);
        e = (e * self.encoded_gain[k]).min(1.0);
        // Monotone while |contrast| < 1: slope 1 - contrast * cos(2πe).
        let tau = std::f64::consts::TAU;
        e -= self.contrast * (tau * e).sin() / tau;
        e = self.flare + (1.0 - self.flare) * e;
        e.clamp(0.0, 1.0)
    }
}
