// beforeafter review, a held case: the two photos side by side, where corresponding points are
// placed (mouse, finger or arrow keys), the decision, and (in the details disclosure) the fitted
// transform laid over the before photo with how well the points agree. No outside requests.
(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('review-data').textContent);
  const $ = (id) => document.getElementById(id);
  const query = new URLSearchParams(location.search);
  const say = (text) => { $('verdict').textContent = text; };

  async function post(path, body) {
    say('Saving, then updating the website…');
    const payload = Object.assign({ case: data.case, stamp: data.stamp }, body);
    let res;
    try {
      res = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Review-Token': data.token },
        body: JSON.stringify(payload),
      });
    } catch (e) {
      say('The app did not answer: is beforeafter review still running?');
      return;
    }
    const answer = await res.json().catch(() => ({ error: 'unreadable answer' }));
    if (res.status === 409) {
      say(answer.error + ' Reloading…');
      setTimeout(() => location.reload(), 1500);
      return;
    }
    if (!res.ok) {
      say(answer.error || 'Refused (' + res.status + ')');
      if (answer.confirm) {
        $('confirm-box').hidden = false;
        $('confirm').focus();
      }
      if (answer.refused) document.body.dataset.refused = String(Number(document.body.dataset.refused || 0) + 1);
      return;
    }
    data.stamp = answer.stamp;
    const why = answer.reasons && answer.reasons.length ? ' Why: ' + answer.reasons.join('; ') : '';
    say(answer.message + why);
    kept(answer.private, answer.withheld || []);
    document.body.dataset.outcome = answer.outcome;
  }

  // What case.toml keeps off the website, each with its undo.
  function kept(isPrivate, withheld) {
    $('private-note').hidden = !isPrivate;
    const list = $('withheld-list');
    list.textContent = '';
    for (const w of withheld) {
      const li = document.createElement('li');
      const name = document.createElement('strong');
      name.textContent = w.file;
      li.append('Photo ', name, ' is not on the website' + (w.reason ? ' (' + w.reason + '). ' : '. '));
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'unwithhold';
      b.textContent = 'Publish this photo again';
      b.addEventListener('click', () => post('/api/unwithhold', { file: w.file }));
      li.append(b);
      list.append(li);
    }
    $('nothing-kept').hidden = isPrivate || withheld.length > 0;
  }
  kept(data.private, data.withheld || []);
  $('publish-again').addEventListener('click', () => post('/api/publish-again', {}));

  // Photos held as possibly not belonging together are approved only with a confirmation.
  $('confirm-box').hidden = !data.mismatch;
  $('approve').addEventListener('click', () => post('/api/approve', { key: data.key, confirmed: $('confirm').checked }));
  $('private').addEventListener('click', () => post('/api/private', {}));

  const views = data.views || [];
  if (!views.length || views[0].stages.length < 2) {
    $('compare').hidden = true;
    $('points').hidden = true;
    $('approve').disabled = true;
    $('private').hidden = !data.key;
    return;
  }
  const vi = Math.max(0, views.findIndex((v) => v.view === query.get('v')));
  const view = views[vi];
  let si = view.stages.findIndex((s, i) => i > 0 && s.stage === query.get('s'));
  if (si < 1) si = 1;
  const before = view.stages[0];
  const later = view.stages[si];

  views.forEach((v, i) => v.stages.forEach((s, j) => {
    if (j === 0) return;
    const a = document.createElement('a');
    a.href = '/case?c=' + encodeURIComponent(data.case) + '&t=' + data.token +
      '&v=' + encodeURIComponent(v.view) + '&s=' + encodeURIComponent(s.stage);
    a.textContent = v.view + ': ' + s.stage;
    if (i === vi && j === si) a.setAttribute('aria-current', 'page');
    $('pairs').appendChild(a);
  }));
  $('later-caption').textContent = 'Later: ' + later.stage;
  const withhold = (photo) => post('/api/withhold', { file: photo.file, reason: $('withhold-reason').value });
  $('withhold-before').addEventListener('click', () => withhold(before));
  $('withhold-later').addEventListener('click', () => withhold(later));

  // The overlay: the later photo drawn through the transform onto the before photo's frame.
  const ov = $('overlay');
  const frame = ov.querySelector('.frame');
  const under = ov.querySelector('.under');
  const clip = ov.querySelector('.clip');
  const over = ov.querySelector('.over');
  const [bw, bh] = before.size;
  under.src = before.url;
  over.src = later.url;
  for (const [el, w, h] of [[under, bw, bh], [over, later.size[0], later.size[1]], [frame, bw, bh], [clip, bw, bh]]) {
    el.style.width = w + 'px';
    el.style.height = h + 'px';
  }
  let shown = later.matrix;

  // Matrices map pixel centres (integer coordinates); CSS maps pixel corners.
  function css(m) {
    const e = m[0][2] + 0.5 - 0.5 * (m[0][0] + m[0][1]);
    const f = m[1][2] + 0.5 - 0.5 * (m[1][0] + m[1][1]);
    return 'matrix(' + [m[0][0], m[1][0], m[0][1], m[1][1], e, f].join(',') + ')';
  }
  function layout() {
    const s = ov.clientWidth / bw;
    ov.style.height = bh * s + 'px';
    frame.style.transform = 'scale(' + s + ')';
  }
  function draw() {
    const mode = document.querySelector('input[name=mode]:checked').value;
    const amount = $('amount').value / 100;
    ov.className = 'overlay ' + mode;
    over.style.transform = css(shown);
    over.style.opacity = mode === 'onion' ? amount : 1;
    clip.style.width = (mode === 'slider' ? bw * amount : bw) + 'px';
    $('amount-label').hidden = mode === 'difference';
    $('amount-label').firstChild.textContent = mode === 'slider' ? 'Position ' : 'Opacity ';
  }
  document.querySelectorAll('input[name=mode]').forEach((r) => r.addEventListener('change', draw));
  $('more').addEventListener('toggle', layout);
  $('amount').addEventListener('input', draw);
  window.addEventListener('resize', layout);

  // Points: pts.before[i] and pts.later[i] are one pair, in full-resolution pixels.
  // Three pairs at least: two always fit exactly, so they would check nothing.
  const need = 3;
  $('need').textContent = need;
  const pts = { before: [], later: [] };
  const order = [];
  const panes = {};
  function at(p, ev) {
    const r = p.img.getBoundingClientRect();
    return [(ev.clientX - r.left) * p.size[0] / r.width - 0.5, (ev.clientY - r.top) * p.size[1] / r.height - 0.5];
  }
  for (const [name, photo] of [['before', before], ['later', later]]) {
    const pane = $('pane-' + name);
    const p = { img: pane.querySelector('img'), marks: pane.querySelector('.marks'), canvas: pane.querySelector('.canvas'), size: photo.size };
    p.img.src = photo.url;
    p.img.addEventListener('click', (ev) => {
      pts[name].push(at(p, ev));
      order.push(name);
      update();
    });
    panes[name] = p;
  }
  // Each photo fits its pane, whose height leaves the tools below it on the first screen.
  function fitPanes() {
    const first = $('pane-before');
    const top = first.getBoundingClientRect().top + window.scrollY;
    const tools = document.querySelector('.tools').offsetHeight;
    const h = Math.max(240, Math.min(window.innerHeight - top - tools - 12, 900));
    for (const p of Object.values(panes)) {
      const pane = p.canvas.parentElement;
      pane.style.height = h + 'px';
      const fit = Math.floor(Math.min(pane.clientWidth, (h - 2) * p.size[0] / p.size[1]));
      p.canvas.style.width = fit * Number($('zoom').value) + 'px';
    }
  }
  $('zoom').addEventListener('change', fitPanes);
  window.addEventListener('resize', fitPanes);
  $('undo').addEventListener('click', () => {
    const name = order.pop();
    if (name) pts[name].pop();
    update();
  });
  $('clear').addEventListener('click', () => {
    pts.before.length = 0;
    pts.later.length = 0;
    order.length = 0;
    update();
  });

  const pairs = () => Math.min(pts.before.length, pts.later.length);
  function place(mark, pt, p) {
    mark.style.left = (pt[0] + 0.5) / p.size[0] * 100 + '%';
    mark.style.top = (pt[1] + 0.5) / p.size[1] * 100 + '%';
  }
  function mark(name, i) {
    const p = panes[name];
    const pt = pts[name][i];
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'mark' + (i >= pairs() ? ' unpaired' : '');
    b.textContent = String(i + 1);
    b.setAttribute('aria-label', name + ' point ' + (i + 1) + ' at ' + pt[0].toFixed(1) + ', ' + pt[1].toFixed(1) + ': arrow keys move it');
    place(b, pt, p);
    b.addEventListener('keydown', (ev) => {
      const step = ev.shiftKey ? 10 : 1;
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[ev.key];
      if (!d) return;
      ev.preventDefault();
      pt[0] += d[0];
      pt[1] += d[1];
      update(name, i);
    });
    b.addEventListener('pointerdown', (ev) => {
      ev.preventDefault();
      b.setPointerCapture(ev.pointerId);
      const move = (e) => {
        const q = at(p, e);
        pt[0] = q[0];
        pt[1] = q[1];
        place(b, pt, p);
        preview();
      };
      b.addEventListener('pointermove', move);
      b.addEventListener('pointerup', () => {
        b.removeEventListener('pointermove', move);
        update(name, i);
      }, { once: true });
    });
    return b;
  }

  function similarity(src, dst) {
    const n = src.length;
    const mean = (a, k) => a.reduce((s, p) => s + p[k], 0) / n;
    const [sx, sy, dx, dy] = [mean(src, 0), mean(src, 1), mean(dst, 0), mean(dst, 1)];
    let a = 0, b = 0, q = 0;
    for (let i = 0; i < n; i++) {
      const [x, y] = [src[i][0] - sx, src[i][1] - sy];
      const [u, v] = [dst[i][0] - dx, dst[i][1] - dy];
      a += x * u + y * v;
      b += x * v - y * u;
      q += x * x + y * y;
    }
    if (q === 0) return null;
    a /= q;
    b /= q;
    return [[a, -b, dx - a * sx + b * sy], [b, a, dy - b * sx - a * sy]];
  }
  function affine(src, dst) {
    const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    const bx = [0, 0, 0];
    const by = [0, 0, 0];
    src.forEach((p, i) => {
      const v = [p[0], p[1], 1];
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) A[r][c] += v[r] * v[c];
        bx[r] += v[r] * dst[i][0];
        by[r] += v[r] * dst[i][1];
      }
    });
    const det = (m) => m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
      m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    const d = det(A);
    if (Math.abs(d) < 1e-9) return null;
    const solve = (b) => [0, 1, 2].map((k) => det(A.map((row, r) => row.map((x, c) => (c === k ? b[r] : x)))) / d);
    return [solve(bx), solve(by)];
  }
  function fit() {
    const n = pairs();
    if (n < need) return null;
    const src = pts.later.slice(0, n);
    const dst = pts.before.slice(0, n);
    const m = data.model === 'affine' ? affine(src, dst) : similarity(src, dst);
    if (!m) return null;
    let ss = 0;
    src.forEach((p, i) => {
      const x = m[0][0] * p[0] + m[0][1] * p[1] + m[0][2];
      const y = m[1][0] * p[0] + m[1][1] * p[1] + m[1][2];
      ss += (x - dst[i][0]) ** 2 + (y - dst[i][1]) ** 2;
    });
    return { m, rms: Math.sqrt(ss / n) };
  }
  function preview() {
    const f = fit();
    shown = f ? f.m : later.matrix;
    // The residual says how well the points agree with each other, not whether the photos
    // belong together (the check before saving does): engineer's detail, not the verdict.
    $('residual').textContent = f
      ? pairs() + ' pairs of points placed'
      : pairs() + ' of ' + need + ' pairs of points placed';
    $('residual-detail').textContent = f
      ? 'Points agree to within ' + Math.max(1, Math.ceil(f.rms)) + ' px of each other (' + f.rms.toFixed(2) + ' px root mean square).'
      : '';
    $('transform-note').textContent = f ? '(preview of your points)' : '(as the last run found it)';
    $('save').disabled = !f;
    $('approve').disabled = !!f;
    $('approve').title = f ? 'Clear your points to publish the photos as the run lined them up' : '';
    draw();
  }
  function update(focusName, focusIndex) {
    for (const name of ['before', 'later']) {
      panes[name].marks.textContent = '';
      pts[name].forEach((_, i) => panes[name].marks.appendChild(mark(name, i)));
    }
    preview();
    if (focusName) panes[focusName].marks.children[focusIndex].focus();
  }
  $('save').addEventListener('click', () => {
    const n = pairs();
    const landmarks = pts.before.slice(0, n).map((b, i) => [b[0], b[1], pts.later[i][0], pts.later[i][1]]);
    post('/api/landmarks', { view: view.view, stage: later.stage, landmarks });
  });
  layout();
  fitPanes();
  update();
})();
