//! 2x3 affine matrix helpers: composition, inversion, landmark fits, resolution rescaling and
//! decomposition into the similarity parameters that review checks use.

use super::{Matrix, Model};

/// The identity transform.
#[must_use]
pub fn identity() -> Matrix {
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
}

/// Apply `m` to point `p`.
#[must_use]
pub fn apply(m: &Matrix, p: [f64; 2]) -> [f64; 2] {
    [
        m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
        m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
    ]
}

/// `a` after `b`: `apply(compose(a, b), p) == apply(a, apply(b, p))`.
#[must_use]
pub fn compose(a: &Matrix, b: &Matrix) -> Matrix {
    let mut out = [[0.0; 3]; 2];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = a[r][0] * b[0][c] + a[r][1] * b[1][c];
        }
        row[2] += a[r][2];
    }
    out
}

/// Inverse transform, `None` when singular or not finite.
#[must_use]
pub fn invert(m: &Matrix) -> Option<Matrix> {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    let (a, b, c, d) = (m[1][1] / det, -m[0][1] / det, -m[1][0] / det, m[0][0] / det);
    let tx = -(a * m[0][2] + b * m[1][2]);
    let ty = -(c * m[0][2] + d * m[1][2]);
    Some([[a, b, tx], [c, d, ty]])
}

/// Pure translation.
#[must_use]
pub fn translation(tx: f64, ty: f64) -> Matrix {
    [[1.0, 0.0, tx], [0.0, 1.0, ty]]
}

/// Similarity about the origin: scale `s`, rotation `deg` (counter-clockwise on screen means
/// negative here because y points down; we keep the plain maths convention of the matrix).
#[must_use]
pub fn similarity(scale: f64, deg: f64, tx: f64, ty: f64) -> Matrix {
    let (s, c) = deg.to_radians().sin_cos();
    [[scale * c, -scale * s, tx], [scale * s, scale * c, ty]]
}

/// The matrix mapping pixel centres of an image resampled by `scale` (new = old * scale),
/// `x_new = (x_old + 0.5) * s - 0.5`, per axis.
#[must_use]
pub fn resample_map(scale: [f64; 2]) -> Matrix {
    [
        [scale[0], 0.0, 0.5 * scale[0] - 0.5],
        [0.0, scale[1], 0.5 * scale[1] - 0.5],
    ]
}

/// Bring a moving->fixed matrix estimated on resized images back to the original images:
/// `M_full = S_fixed^-1 . M_work . S_moving`, where `S` maps original pixel centres to resized
/// ones and `*_scale` is resized size / original size.
#[must_use]
pub fn rescale(m: &Matrix, moving_scale: f64, fixed_scale: f64) -> Matrix {
    rescale_xy(m, [moving_scale; 2], [fixed_scale; 2])
}

/// [`rescale`] with separate x/y scales (rounded resize sizes make them differ slightly).
#[must_use]
pub fn rescale_xy(m: &Matrix, moving_scale: [f64; 2], fixed_scale: [f64; 2]) -> Matrix {
    let s_moving = resample_map(moving_scale);
    let s_fixed_inv = resample_map([1.0 / fixed_scale[0], 1.0 / fixed_scale[1]]);
    // S^-1 for x_new = (x_old + .5) s - .5 is x_old = (x_new + .5)/s - .5: same form with 1/s.
    compose(&s_fixed_inv, &compose(m, &s_moving))
}

/// Similarity decomposition of a (possibly affine) matrix: (scale, rotation in degrees).
/// Scale is sqrt(|det|); rotation is that of the closest similarity.
#[must_use]
pub fn scale_rotation(m: &Matrix) -> (f64, f64) {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let rot = (m[1][0] - m[0][1]).atan2(m[0][0] + m[1][1]).to_degrees();
    (det.abs().sqrt(), rot)
}

/// Least-squares fit of `model` to (moving, fixed) point pairs.
pub fn fit_landmarks(pairs: &[([f64; 2], [f64; 2])], model: Model) -> Result<Matrix, String> {
    let need = match model {
        Model::Similarity => 2,
        Model::Affine => 3,
    };
    if pairs.len() < need {
        return Err(format!(
            "{need} landmark pairs needed for a {model:?} fit, got {}",
            pairs.len()
        ));
    }
    if pairs.iter().any(|(a, b)| {
        !(a[0].is_finite() && a[1].is_finite() && b[0].is_finite() && b[1].is_finite())
    }) {
        return Err("landmark coordinates must be finite".into());
    }
    match model {
        Model::Similarity => fit_similarity(pairs),
        Model::Affine => fit_affine(pairs),
    }
}

fn centroids(pairs: &[([f64; 2], [f64; 2])]) -> ([f64; 2], [f64; 2]) {
    let n = pairs.len() as f64;
    let mut cm = [0.0; 2];
    let mut cf = [0.0; 2];
    for (m, f) in pairs {
        for k in 0..2 {
            cm[k] += m[k] / n;
            cf[k] += f[k] / n;
        }
    }
    (cm, cf)
}

fn fit_similarity(pairs: &[([f64; 2], [f64; 2])]) -> Result<Matrix, String> {
    // Centred closed form: a = sum(x.x' + y.y')/sum|p|^2, b = sum(x.y' - y.x')/sum|p|^2.
    let (cm, cf) = centroids(pairs);
    let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
    for (m, f) in pairs {
        let (x, y) = (m[0] - cm[0], m[1] - cm[1]);
        let (u, v) = (f[0] - cf[0], f[1] - cf[1]);
        num_a += x * u + y * v;
        num_b += x * v - y * u;
        den += x * x + y * y;
    }
    let spread = pairs
        .iter()
        .map(|(_, f)| (f[0] - cf[0]).hypot(f[1] - cf[1]))
        .sum::<f64>();
    if den < 1e-12 || spread < 1e-9 {
        return Err("landmarks coincide: cannot determine rotation and scale".into());
    }
    let (a, b) = (num_a / den, num_b / den);
    let tx = cf[0] - (a * cm[0] - b * cm[1]);
    let ty = cf[1] - (b * cm[0] + a * cm[1]);
    Ok([[a, -b, tx], [b, a, ty]])
}

fn fit_affine(pairs: &[([f64; 2], [f64; 2])]) -> Result<Matrix, String> {
    let (cm, cf) = centroids(pairs);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    let mut rhs = [[0.0; 2]; 2];
    for (m, f) in pairs {
        let (x, y) = (m[0] - cm[0], m[1] - cm[1]);
        let (u, v) = (f[0] - cf[0], f[1] - cf[1]);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
        rhs[0][0] += x * u;
        rhs[0][1] += y * u;
        rhs[1][0] += x * v;
        rhs[1][1] += y * v;
    }
    let det = sxx * syy - sxy * sxy;
    if det.abs() <= 1e-9 * (sxx * syy).max(1e-300) || det.abs() < 1e-12 {
        return Err(
            "landmarks are collinear: an affine fit needs three non-collinear points".into(),
        );
    }
    let mut m = [[0.0; 3]; 2];
    for r in 0..2 {
        m[r][0] = (rhs[r][0] * syy - rhs[r][1] * sxy) / det;
        m[r][1] = (rhs[r][1] * sxx - rhs[r][0] * sxy) / det;
        m[r][2] = cf[r] - m[r][0] * cm[0] - m[r][1] * cm[1];
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &Matrix, b: &Matrix, tol: f64) -> bool {
        (0..2).all(|r| (0..3).all(|c| (a[r][c] - b[r][c]).abs() < tol))
    }

    #[test]
    fn invert_compose_roundtrip() {
        let m = similarity(1.2, 10.0, 5.0, -3.0);
        let inv = invert(&m).unwrap();
        assert!(close(&compose(&m, &inv), &identity(), 1e-12));
        let p = apply(&compose(&m, &translation(1.0, 2.0)), [3.0, 4.0]);
        assert!((p[0] - apply(&m, [4.0, 6.0])[0]).abs() < 1e-12);
    }

    #[test]
    fn rescale_identity_for_equal_scales() {
        let m = rescale(&identity(), 0.25, 0.25);
        assert!(close(&m, &identity(), 1e-12));
        // A half-size image: full pixel centre 0.5 is half pixel 0 (x_w = (0.5+.5)*.5-.5 = 0).
        let s = resample_map([0.5, 0.5]);
        assert!(apply(&s, [0.5, 0.5])[0].abs() < 1e-12);
    }

    #[test]
    fn landmark_fits_recover_transform() {
        let truth = similarity(0.9, -7.0, 12.0, 30.0);
        let pts: Vec<_> = [[0.0, 0.0], [100.0, 10.0], [40.0, 90.0]]
            .iter()
            .map(|&p| (p, apply(&truth, p)))
            .collect();
        assert!(close(
            &fit_landmarks(&pts, Model::Similarity).unwrap(),
            &truth,
            1e-9
        ));
        assert!(close(
            &fit_landmarks(&pts, Model::Affine).unwrap(),
            &truth,
            1e-9
        ));
        let line = [
            ([0.0, 0.0], [1.0, 1.0]),
            ([1.0, 1.0], [2.0, 2.0]),
            ([2.0, 2.0], [3.0, 3.0]),
        ];
        assert!(fit_landmarks(&line, Model::Affine).is_err());
        assert!(fit_landmarks(&line[..1], Model::Similarity).is_err());
    }
}
