//! Drawing primitives of a scene (hair-strand segments and round dots) and
//! the uniform grid that finds the few primitives near a scene point, so the
//! per-pixel cost stays small even with tens of thousands of strands.

/// Optical blur of the simulated lens, in scene units (frame widths). Keeps
/// edges slightly soft at every resolution, as in a real photo.
pub(crate) const LENS_BLUR: f64 = 0.000_25;

/// How far beyond its own extent each primitive is registered in the grid.
/// A pixel footprint up to twice this is served by a single grid cell; only
/// very small renders need to gather from neighbouring cells.
pub(crate) const GRID_MARGIN: f32 = 0.000_6;

/// Effective filter width for a pixel footprint: the box pixel convolved
/// with the lens blur.
pub(crate) fn filter_width(footprint: f64) -> f32 {
    (footprint * footprint + LENS_BLUR * LENS_BLUR).sqrt() as f32
}

/// One straight piece of a hair strand. Consecutive segments of a strand
/// share `strand`, so coverage is the max over them (no darkening at joints).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seg {
    pub a: [f32; 2],
    pub d: [f32; 2],
    pub inv_len2: f32,
    pub half_width: f32,
    pub strand: u32,
    pub colour: [f32; 3],
    pub alpha: f32,
}

impl Seg {
    pub fn new(a: [f64; 2], b: [f64; 2], half_width: f64, strand: u32) -> Seg {
        let d = [(b[0] - a[0]) as f32, (b[1] - a[1]) as f32];
        let len2 = d[0] * d[0] + d[1] * d[1];
        Seg {
            a: [a[0] as f32, a[1] as f32],
            d,
            inv_len2: if len2 > 0.0 { 1.0 / len2 } else { 0.0 },
            half_width: half_width as f32,
            strand,
            colour: [0.0; 3],
            alpha: 1.0,
        }
    }

    pub fn bbox(&self) -> [f32; 4] {
        let r = self.half_width + GRID_MARGIN;
        let b = [self.a[0] + self.d[0], self.a[1] + self.d[1]];
        [
            self.a[0].min(b[0]) - r,
            self.a[1].min(b[1]) - r,
            self.a[0].max(b[0]) + r,
            self.a[1].max(b[1]) + r,
        ]
    }

    /// Fraction of a pixel (box filter of width `fw`, applied across the
    /// strand) covered by the strand: exact for a straight edge-on profile,
    /// and it conserves ink when the strand is thinner than a pixel.
    #[inline]
    pub fn coverage(&self, p: [f32; 2], fw: f32) -> f32 {
        let px = p[0] - self.a[0];
        let py = p[1] - self.a[1];
        let t = ((px * self.d[0] + py * self.d[1]) * self.inv_len2).clamp(0.0, 1.0);
        let ex = px - t * self.d[0];
        let ey = py - t * self.d[1];
        let d2 = ex * ex + ey * ey;
        let reach = self.half_width + 0.5 * fw;
        if d2 >= reach * reach {
            return 0.0;
        }
        let d = d2.sqrt();
        let hi = (d + 0.5 * fw).min(self.half_width);
        let lo = (d - 0.5 * fw).max(-self.half_width);
        ((hi - lo) / fw).clamp(0.0, 1.0)
    }
}

/// A soft round dot: follicle openings and micropigmentation deposits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dot {
    pub c: [f32; 2],
    pub r: f32,
    pub soft: f32,
    pub colour: [f32; 3],
    pub alpha: f32,
    /// Treatment dots are shown when `rank < shot.density`; follicle dots
    /// have a negative rank so they are always shown.
    pub rank: f32,
}

impl Dot {
    pub fn bbox(&self) -> [f32; 4] {
        let r = self.r + self.soft + GRID_MARGIN;
        [self.c[0] - r, self.c[1] - r, self.c[0] + r, self.c[1] + r]
    }

    /// Pixel coverage: the dot widened by the filter, with its peak lowered
    /// so the integrated ink stays the same when it is below pixel size.
    #[inline]
    pub fn coverage(&self, p: [f32; 2], fw: f32) -> f32 {
        let dx = p[0] - self.c[0];
        let dy = p[1] - self.c[1];
        let d2 = dx * dx + dy * dy;
        let soft = self.soft.max(fw);
        let re = (self.r * self.r + 0.25 * fw * fw).sqrt();
        let reach = re + 0.5 * soft;
        if d2 >= reach * reach {
            return 0.0;
        }
        let peak = (self.r * self.r) / (re * re);
        peak * ((re - d2.sqrt()) / soft + 0.5).clamp(0.0, 1.0)
    }
}

/// Compressed uniform grid (CSR layout) of primitive indices. Within a cell
/// indices are ascending, which fixes the compositing order.
pub(crate) struct Grid {
    x0: f32,
    y0: f32,
    inv_cell: f32,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Grid {
    /// `bounds` = [x0, y0, x1, y1]; primitives outside are clipped to it.
    pub fn build(bounds: [f64; 4], cell: f64, boxes: &[[f32; 4]]) -> Grid {
        let nx = ((bounds[2] - bounds[0]) / cell).ceil().max(1.0) as usize;
        let ny = ((bounds[3] - bounds[1]) / cell).ceil().max(1.0) as usize;
        let mut grid = Grid {
            x0: bounds[0] as f32,
            y0: bounds[1] as f32,
            inv_cell: (1.0 / cell) as f32,
            nx,
            ny,
            start: vec![0; nx * ny + 1],
            items: Vec::new(),
        };
        // Two passes (count, then fill) keep the build allocation-light.
        let mut counts = vec![0u32; nx * ny];
        for b in boxes {
            let (cx0, cy0, cx1, cy1) = grid.cell_range(*b);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    counts[cy * nx + cx] += 1;
                }
            }
        }
        let mut acc = 0u32;
        for (i, n) in counts.iter().enumerate() {
            grid.start[i] = acc;
            acc += n;
        }
        grid.start[nx * ny] = acc;
        grid.items = vec![0; acc as usize];
        let mut fill = grid.start.clone();
        for (i, b) in boxes.iter().enumerate() {
            let (cx0, cy0, cx1, cy1) = grid.cell_range(*b);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    let k = cy * nx + cx;
                    grid.items[fill[k] as usize] = i as u32;
                    fill[k] += 1;
                }
            }
        }
        grid
    }

    fn cell_range(&self, b: [f32; 4]) -> (usize, usize, usize, usize) {
        let (cx0, cy0) = self.cell_of(b[0], b[1]);
        let (cx1, cy1) = self.cell_of(b[2], b[3]);
        (cx0, cy0, cx1, cy1)
    }

    #[inline]
    fn cell_of(&self, x: f32, y: f32) -> (usize, usize) {
        let cx = ((x - self.x0) * self.inv_cell).max(0.0) as usize;
        let cy = ((y - self.y0) * self.inv_cell).max(0.0) as usize;
        (cx.min(self.nx - 1), cy.min(self.ny - 1))
    }

    /// Indices registered in the cell containing `p` (empty outside bounds).
    #[inline]
    pub fn at(&self, p: [f32; 2]) -> &[u32] {
        let fx = (p[0] - self.x0) * self.inv_cell;
        let fy = (p[1] - self.y0) * self.inv_cell;
        if fx < 0.0 || fy < 0.0 || fx >= self.nx as f32 || fy >= self.ny as f32 {
            return &[];
        }
        let k = fy as usize * self.nx + fx as usize;
        &self.items[self.start[k] as usize..self.start[k + 1] as usize]
    }

    /// Sorted, de-duplicated indices of all cells within `r` of `p` (for
    /// footprints larger than the registration margin).
    pub fn gather(&self, p: [f32; 2], r: f32, out: &mut Vec<u32>) {
        out.clear();
        let (cx0, cy0, cx1, cy1) = self.cell_range([p[0] - r, p[1] - r, p[0] + r, p[1] + r]);
        for cy in cy0..=cy1 {
            for cx in cx0..=cx1 {
                let k = cy * self.nx + cx;
                out.extend_from_slice(
                    &self.items[self.start[k] as usize..self.start[k + 1] as usize],
                );
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}
