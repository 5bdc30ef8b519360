// The gradpipe report page: draws the data embedded in #gradpipe-data with uPlot (inlined before this
// script) and, on a live page (`gradpipe serve`), redraws whenever the server sends new data.
// Plain browser JavaScript, no build step: it is inlined into the HTML as is.
(function () {
  'use strict';

  // One colour per run (twelve before they repeat). The event colours below are kept out of this list.
  var COLORS = ['#2563eb', '#dc2626', '#059669', '#c026d3', '#0891b2', '#db2777', '#4b5563', '#65a30d',
    '#1e3a8a', '#a16207', '#0f766e', '#0369a1'];
  var MARK = { clipped: '#f59e0b', skipped: '#7c3aed', nonFinite: '#7f1d1d', spike: '#111827' };
  // The event strip above a chart: one lane per run, LANE css px tall, with a bar BAR px thick.
  var LANE = 11;
  var BAR = 6;
  var charts = [];
  var lossLog = true;
  var lastData = null;
  var hidden = {}; // run name → true while the reader has hidden it (kept across live updates)
  // Where every chart's plot area starts (css px from its left edge), the same for all so that one step is at the
  // same x everywhere: room for the run names of the event strips plus the y axis (64 px), or for the layer names.
  var plotLeft = 64;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }

  function colorOf(i) { return COLORS[i % COLORS.length]; }

  // Every number on the page: 6 significant digits, exponent form (3.38352e37) when very large or small.
  // Non-finite numbers arrive spelled out, as in the log ("NaN", "Infinity", "-Infinity"); null is an older log's
  // non-finite number, whose kind is not known.
  function fmt(v) {
    if (v === undefined) return '—';
    if (v === null) return 'non-finite';
    if (typeof v === 'string') return v === '-Infinity' ? '−Infinity' : v;
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) {
      var parts = v.toExponential(5).split('e');
      return String(Number(parts[0])) + 'e' + Number(parts[1]);
    }
    return String(Number(v.toPrecision(6)));
  }

  // Axis labels: plain numbers in the usual range, 1e-5 style outside it (uPlot would round tiny ones to 0).
  function tick(v) {
    if (v === null || v === undefined) return '';
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(0).replace('e+', 'e');
    return String(Number(v.toPrecision(4)));
  }
  function ticks(u, splits) { return splits.map(tick); }

  // Log scales. uPlot's own log axis draws no ticks at all once the range passes about 1e17, and the norms of an
  // exploding run reach 1e38. So a "log" chart plots log10 of each value on a linear scale, and labels the axis
  // with 10^y: whole decades (every k-th one, so labels never crowd), with 2 and 5 (and 3, 7) added when the
  // range is only a few decades.
  // Zero, negative and non-finite values have no logarithm: they become gaps (null) in the lines.
  function log10s(values) {
    return values.map(function (v) { return typeof v === 'number' && v > 0 ? Math.log10(v) : null; });
  }
  function pow10(y) {
    return Number.isInteger(y) ? Number('1e' + y) : Math.pow(10, y); // '1e-7' is exact, 10 ** -7 is not
  }
  // At least one decade tall, with a little room above and below so lines at the extremes stay clear of the edges.
  function logRange(u, min, max) {
    if (min == null || max == null) return [0, 1];
    var mid = (min + max) / 2;
    var half = Math.max(max - min, 1) / 2;
    var pad = 0.04 * half * 2;
    return [mid - half - pad, mid + half + pad];
  }
  function logSplits(u, axisIdx, min, max) {
    var heightPx = u.bbox && u.bbox.height ? u.bbox.height / (window.devicePixelRatio || 1) : 200;
    var room = Math.max(2, Math.floor(heightPx / 22));
    var every = Math.max(1, Math.ceil((max - min) / room));
    var mults = (max - min) * 5 <= room ? [1, 2, 3, 5, 7] : (max - min) * 3 <= room ? [1, 2, 5] : [1];
    var splits = [];
    for (var e = Math.ceil(min / every) * every - every; e <= max; e += every) {
      mults.forEach(function (m) {
        var y = e + Math.log10(m);
        if (y >= min - 1e-9 && y <= max + 1e-9) splits.push(y);
      });
    }
    return splits;
  }
  function logTicks(u, splits) { return splits.map(function (y) { return tick(pow10(y)); }); }
  function allSplits(u, splits) { return splits; }
  function logAxis(label) {
    return { label: label, values: logTicks, splits: logSplits, filter: allSplits, size: 64 };
  }

  // "2 NaN, 1 +Infinity": non-finite counts by kind.
  function kinds(c) {
    var parts = [];
    if (c.nan) parts.push(c.nan + ' NaN');
    if (c.infinity) parts.push(c.infinity + ' +Infinity');
    if (c.negInfinity) parts.push(c.negInfinity + ' −Infinity');
    if (c.unknown) parts.push(c.unknown + ' NaN or ±Infinity (older log)');
    return parts.join(', ');
  }
  var FIELD_NAMES = { normBefore: 'norm', normAfter: 'norm after clipping', loss: 'loss' };
  function nonFiniteText(s) {
    if (!s.firstNonFinite) return '—';
    var f = s.firstNonFinite;
    var parts = ['first: ' + FIELD_NAMES[f.field] + ' ' + fmt(f.value)];
    var n = kinds(s.nonFiniteNorms);
    var l = kinds(s.nonFiniteLosses);
    if (n) parts.push('norms: ' + n);
    if (l) parts.push('losses: ' + l);
    return parts.join(' · ');
  }
  function layersText(s) {
    if (!s.layers.length) return '—';
    var flagged = s.layers.filter(function (l) { return l.flag !== 'ok'; }).length;
    return s.layers.length + (flagged ? ' (' + flagged + ' flagged)' : ' (all ok)');
  }

  function summaryTable(data) {
    var head = ['Run', 'Steps', 'Clipped', 'Skipped', 'Max norm', 'Final loss', 'Spikes (loss / norm)', 'First non-finite step', 'Non-finite', 'Layers', 'Files'];
    var rows = data.runs.map(function (r, i) {
      var s = r.summary;
      var cells = [
        [el('span', { class: 'swatch', style: 'background:' + colorOf(i) }), r.run],
        [String(s.steps)], // counts stay exact: 1000000 steps, not 1e6
        [(100 * s.clippedFraction).toFixed(1) + '% (' + s.clipped + ')'],
        [String(s.skipped)],
        [fmt(s.maxNorm === null ? undefined : s.maxNorm)],
        [fmt(s.finalLoss)],
        [s.lossSpikes + ' / ' + s.normSpikes],
        [s.firstNonFiniteStep === undefined ? '—' : String(s.firstNonFiniteStep)],
        [nonFiniteText(s)],
        [layersText(s)],
        [r.files.join(', ')],
      ];
      var fields = ['run', 'steps', 'clipped', 'skipped', 'maxNorm', 'finalLoss', 'spikes', 'firstNonFiniteStep', 'nonFinite', 'layers', 'files'];
      return el('tr', { 'data-run': r.run }, cells.map(function (c, j) { return el('td', { 'data-field': fields[j] }, c); }));
    });
    return el('table', { class: 'summary' }, [
      el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', {}, rows),
    ]);
  }

  // Zooming one chart zooms the other to the same steps (once both are drawn), and the cursors move together.
  var ready = false;
  function syncX(u, key) {
    if (key !== 'x' || !ready) return;
    ready = false;
    charts.concat(layerCharts).forEach(function (o) { if (o !== u) o.setScale('x', { min: u.scales.x.min, max: u.scales.x.max }); });
    ready = true;
  }
  // No horizontal crosshair: it looked like one more dashed threshold line.
  var cursor = { y: false, drag: { x: true, y: false }, sync: { key: 'gradpipe-steps' } };

  // The event strip: drawn on the chart's canvas in the space its top padding leaves above the plot. Each lane
  // is one run; a bar marks its flagged steps (contiguous steps merge into one bar, so a run clipped on every
  // step is one thin amber bar, not a band of dots over the lines).
  function stripHeight(lanes) { return lanes.length === 0 ? 10 : lanes.length * LANE + 6; }

  // Extra room left of the y axis so the lane labels (run names) fit; the same on both charts, so their x axes
  // line up. The y axis and its title take about 94 css px already.
  function gutterFor(data) {
    var ctx = document.createElement('canvas').getContext('2d');
    ctx.font = '10px system-ui, sans-serif';
    var widest = data.runs.reduce(function (w, r) { return Math.max(w, ctx.measureText(r.run).width); }, 0);
    return Math.min(160, Math.max(0, Math.ceil(widest + 18 - 94)));
  }

  function drawStrip(lanes) {
    return function (u) {
      var ctx = u.ctx;
      var px = window.devicePixelRatio || 1;
      var left = u.bbox.left;
      var right = u.bbox.left + u.bbox.width;
      var top = u.bbox.top - stripHeight(lanes) * px;
      var xmin = u.scales.x.min;
      var xmax = u.scales.x.max;
      ctx.save();
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.font = (10 * px) + 'px system-ui, sans-serif';
      lanes.forEach(function (lane, n) {
        var y = top + n * LANE * px;
        var mid = y + (LANE * px) / 2;
        var off = hidden[lane.run] === true;
        // Lane label in the y-axis gutter: a swatch in the run's colour and its name, cut to fit.
        ctx.globalAlpha = off ? 0.35 : 1;
        ctx.fillStyle = lane.color;
        ctx.fillRect(left - 10 * px, mid - 3 * px, 6 * px, 6 * px);
        ctx.fillStyle = '#374151';
        var name = lane.run;
        var room = left - 16 * px;
        while (name.length > 1 && ctx.measureText(name).width > room) name = name.slice(0, -2) + '…';
        ctx.fillText(name, left - 14 * px, mid);
        ctx.fillStyle = '#f3f4f6';
        ctx.fillRect(left, mid - (BAR * px) / 2, right - left, BAR * px);
        if (off) return;
        lane.marks.forEach(function (m) {
          var s = m.steps;
          var k = 0;
          if (m.tick) {
            // Spikes are single steps: a tick across the whole lane at each spike's own step, never a bar.
            ctx.fillStyle = m.color;
            for (k = 0; k < s.length; k++) {
              if (!m.flags[k]) continue;
              var x = u.valToPos(s[k], 'x', true);
              if (x >= left && x <= right) ctx.fillRect(x - px, mid - (LANE * px) / 2 + px, 2 * px, (LANE - 2) * px);
            }
            return;
          }
          while (k < s.length) {
            if (!m.flags[k]) { k++; continue; }
            var from = k;
            while (k + 1 < s.length && m.flags[k + 1]) k++;
            // A bar reaches halfway to the neighbouring points, so it is centred on its steps and consecutive
            // flagged points (or a downsampled bucket's two points) join up.
            var x0 = from > 0 ? (s[from - 1] + s[from]) / 2 : s[from] - (from + 1 < s.length ? (s[from + 1] - s[from]) / 2 : 0.5);
            var x1 = k + 1 < s.length ? (s[k] + s[k + 1]) / 2 : s[k] + (k > 0 ? (s[k] - s[k - 1]) / 2 : 0.5);
            k++;
            if (x1 < xmin || x0 > xmax) continue;
            var a = Math.max(left, u.valToPos(x0, 'x', true));
            var b = Math.min(right, u.valToPos(x1, 'x', true));
            ctx.fillStyle = m.color;
            var h = m.thick ? BAR * px : (BAR - 2) * px;
            ctx.fillRect(a, mid - h / 2, Math.max(b - a, 2 * px), h);
          }
        });
      });
      ctx.restore();
    };
  }

  // Hides/shows a run's series on every chart. `seriesOf` (kept on each chart) lists each run's series indexes.
  function applyHidden() {
    charts.forEach(function (u) {
      u.batch(function () {
        Object.keys(u.gradpipeSeriesOf).forEach(function (run) {
          var show = hidden[run] !== true;
          u.gradpipeSeriesOf[run].forEach(function (idx) { if (u.series[idx].show !== show) u.setSeries(idx, { show: show }); });
        });
      });
      u.redraw(false);
    });
    document.querySelectorAll('#legend [data-run]').forEach(function (b) {
      var off = hidden[b.getAttribute('data-run')] === true;
      b.classList.toggle('off', off);
      b.setAttribute('aria-pressed', String(!off));
    });
  }

  // The legend: one button per run (click: hide or show all of its series; the y axes rescale to what is shown)
  // with its values at the cursor.
  function legend(data) {
    var box = document.getElementById('legend');
    box.replaceChildren();
    data.runs.forEach(function (r, i) {
      var b = el('button', { type: 'button', class: 'run', 'data-run': r.run, 'aria-pressed': 'true', title: 'show / hide ' + r.run }, [
        el('span', { class: 'swatch', style: 'background:' + colorOf(i) }),
        el('span', { class: 'name', text: r.run }),
        el('span', { class: 'val', 'data-val': 'norm' }),
        el('span', { class: 'val', 'data-val': 'loss' }),
      ]);
      b.addEventListener('click', function () {
        if (hidden[r.run]) delete hidden[r.run];
        else hidden[r.run] = true;
        applyHidden();
      });
      box.appendChild(b);
    });
  }

  // Writes each run's values at the cursor step into its legend button (or clears them when the cursor leaves).
  function showValues(kind, describe) {
    return function (u) {
      var idx = u.cursor.idx;
      var step = idx == null ? null : u.data[0][idx];
      if (kind === 'norm') document.getElementById('cursor-step').textContent = step == null ? '' : 'step ' + step;
      Object.keys(u.gradpipeSeriesOf).forEach(function (run) {
        var node = document.querySelector('#legend [data-run="' + CSS.escape(run) + '"] [data-val="' + kind + '"]');
        if (node) node.textContent = idx == null ? '' : describe(u, u.gradpipeSeriesOf[run], idx);
      });
    };
  }
  function valueAt(u, s, idx, log) {
    var v = u.data[s][idx];
    return v == null ? '–' : fmt(log ? pow10(v) : v);
  }

  function normChart(data, width) {
    var tables = [];
    var series = [{ label: 'step' }];
    var seriesOf = {};
    var lanes = [];
    data.runs.forEach(function (r, i) {
      var n = r.norms;
      var c = colorOf(i);
      tables.push([n.step, log10s(n.before), log10s(n.after), log10s(n.threshold)]);
      var first = series.length;
      seriesOf[r.run] = [first, first + 1, first + 2];
      var show = hidden[r.run] !== true;
      series.push(
        { label: r.run + ' · before', stroke: c, width: 1, alpha: 0.4, show: show },
        { label: r.run + ' · after', stroke: c, width: 1.75, show: show },
        { label: r.run + ' · threshold', stroke: c, width: 1, dash: [6, 4], alpha: 0.8, show: show });
      lanes.push({ run: r.run, color: c, marks: [
        { steps: n.step, flags: n.clipped, color: MARK.clipped },
        { steps: n.step, flags: n.nonFinite, color: MARK.nonFinite, thick: true },
        { steps: n.step, flags: n.skipped, color: MARK.skipped, thick: true },
        { steps: n.step, flags: n.spike, color: MARK.spike, tick: true },
      ] });
    });
    // Align the runs on one x axis. Nulls (gaps: non-finite values) are kept; steps one run lacks become
    // undefined, which uPlot spans over.
    var joined = uPlot.join(tables, tables.map(function (t) { return t.map(function () { return 1; }); }));
    var u = new uPlot({
      width: width, height: 340 + stripHeight(lanes), title: 'Gradient norm per step (log scale)',
      padding: [stripHeight(lanes), 16, 0, plotLeft - 64],
      legend: { show: false },
      scales: { x: { time: false }, y: { range: logRange } },
      axes: [{ label: 'step' }, logAxis('global L2 norm')],
      series: series, cursor: cursor,
      hooks: {
        setScale: [syncX],
        draw: [drawStrip(lanes)],
        setCursor: [showValues('norm', function (u, s, idx) { return 'norm ' + valueAt(u, s[0], idx, true) + ' → ' + valueAt(u, s[1], idx, true); })],
      },
    }, joined, document.getElementById('norm-chart'));
    u.gradpipeSeriesOf = seriesOf;
    return u;
  }

  function lossChart(data, width) {
    var target = document.getElementById('loss-chart');
    var withLoss = data.runs.filter(function (r) { return r.loss.step.length > 0; });
    if (withLoss.length === 0) {
      target.appendChild(el('p', { class: 'empty', text: 'No loss in these logs (pass loss to pipe.step, or recorder.log({ step, loss })).' }));
      return null;
    }
    var canLog = data.runs.every(function (r) { return r.loss.value.every(function (v) { return v === null || v > 0; }); });
    var log = lossLog && canLog;
    var tables = [];
    var series = [{ label: 'step' }];
    var seriesOf = {};
    var lanes = [];
    data.runs.forEach(function (r, i) {
      if (r.loss.step.length === 0) return;
      var c = colorOf(i);
      tables.push([r.loss.step, log ? log10s(r.loss.value) : r.loss.value]);
      seriesOf[r.run] = [series.length];
      series.push({ label: r.run + ' · loss', stroke: c, width: 1.5, show: hidden[r.run] !== true });
      // Only runs with a non-finite loss or a loss spike get a lane here: nine empty lanes would only be noise.
      var marked = function (flags) { return flags.some(function (f) { return f === 1; }); };
      if (marked(r.loss.nonFinite) || marked(r.loss.spike)) {
        lanes.push({ run: r.run, color: c, marks: [
          { steps: r.loss.step, flags: r.loss.nonFinite, color: MARK.nonFinite, thick: true },
          { steps: r.loss.step, flags: r.loss.spike, color: MARK.spike, tick: true },
        ] });
      }
    });
    var joined = uPlot.join(tables, tables.map(function (t) { return t.map(function () { return 1; }); }));
    var u = new uPlot({
      width: width, height: 260 + stripHeight(lanes), title: 'Loss' + (log ? ' (log scale)' : ''),
      padding: [stripHeight(lanes), 16, 0, plotLeft - 64],
      legend: { show: false },
      scales: { x: { time: false }, y: log ? { range: logRange } : {} },
      axes: [{ label: 'step' }, log ? logAxis('loss') : { label: 'loss', values: ticks, size: 64 }],
      series: series, cursor: cursor,
      hooks: {
        setScale: [syncX],
        draw: [drawStrip(lanes)],
        setCursor: [showValues('loss', function (u, s, idx) { return 'loss ' + valueAt(u, s[0], idx, log); })],
      },
    }, joined, target);
    u.gradpipeSeriesOf = seriesOf;
    return u;
  }


  // ---- Per-layer health: a heatmap of layers × steps, lines for the layers the reader picks, and a table ----
  var layerCharts = [];
  var layerRun = null; // the run the per-layer section shows (kept across live updates)
  var picks = {}; // run → { layer name: true } for the layers drawn as lines (kept across live updates)
  var LAYER_COLORS = ['#1d4ed8', '#b91c1c', '#047857', '#7e22ce', '#c2410c', '#0e7490', '#be185d', '#4d7c0f', '#334155', '#a16207'];
  // viridis (matplotlib's), ten stops: perceptually even, readable in grey and by most colour-blind readers.
  var VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
  var CELL = { nonFinite: '#ff1f5b', zero: '#9ca3af' };
  var FLAG_TEXT = { vanishing: 'vanishing', exploding: 'exploding', ok: 'ok' };

  function layerColor(i) { return LAYER_COLORS[i % LAYER_COLORS.length]; }
  function viridis(t) {
    var x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    var i = Math.min(VIRIDIS.length - 2, Math.floor(x));
    var f = x - i;
    var a = VIRIDIS[i];
    var b = VIRIDIS[i + 1];
    return 'rgb(' + [0, 1, 2].map(function (c) { return Math.round(a[c] + f * (b[c] - a[c])); }).join(',') + ')';
  }

  // Without a choice yet: the flagged layers (up to six); with fewer than two, also the layers with the smallest and
  // the largest recent median, so the lines show the spread.
  function defaultPicks(run) {
    var h = run.summary.layers;
    var chosen = {};
    h.filter(function (l) { return l.flag !== 'ok'; }).slice(0, 6).forEach(function (l) { chosen[l.name] = true; });
    if (Object.keys(chosen).length < 2) {
      var ranked = h.filter(function (l) { return typeof l.median === 'number'; }).sort(function (a, b) { return a.median - b.median; });
      if (ranked.length) {
        chosen[ranked[0].name] = true;
        chosen[ranked[ranked.length - 1].name] = true;
      } else if (h.length) {
        chosen[h[0].name] = true;
      }
    }
    return chosen;
  }

  function layerLabel(run, i) {
    var h = run.summary.layers[i];
    var name = run.layers.layers[i].name;
    return h && h.flag !== 'ok' ? name + ' · ' + FLAG_TEXT[h.flag] : name;
  }

  // Room for the layer names left of both per-layer charts (the same on both, so their x axes line up).
  function layerGutter(run) {
    var ctx = document.createElement('canvas').getContext('2d');
    ctx.font = '12px system-ui, sans-serif';
    var widest = run.layers.layers.reduce(function (w, l, i) { return Math.max(w, ctx.measureText(layerLabel(run, i)).width); }, 0);
    return Math.min(300, Math.max(90, Math.ceil(widest + 24)));
  }

  // The cells' colour range: log10 of the smallest and largest geometric mean (at least one decade wide).
  function cellRange(run) {
    var lo = Infinity;
    var hi = -Infinity;
    run.layers.layers.forEach(function (l) {
      l.mean.forEach(function (v) {
        if (typeof v === 'number' && v > 0) {
          var g = Math.log10(v);
          if (g < lo) lo = g;
          if (g > hi) hi = g;
        }
      });
    });
    if (lo === Infinity) return [0, 1];
    if (hi - lo < 1) {
      var mid = (hi + lo) / 2;
      return [mid - 0.5, mid + 0.5];
    }
    return [lo, hi];
  }

  function bucketAt(L, step) {
    var lo = 0;
    var hi = L.from.length - 1;
    if (hi < 0 || step < L.from[0]) return -1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (L.from[mid] <= step) lo = mid;
      else hi = mid - 1;
    }
    return step <= L.to[lo] + 0.999 || lo === L.from.length - 1 ? lo : -1;
  }

  function heatmap(run, width, gutter) {
    var L = run.layers;
    var n = L.layers.length;
    var K = L.from.length;
    var range = cellRange(run);
    var rowPx = Math.max(14, Math.min(30, Math.floor(360 / n)));
    // The x data: every bucket's first step and the last step, so the x range is the other charts' range.
    var xs = L.to[K - 1] > L.from[K - 1] ? L.from.concat([L.to[K - 1]]) : L.from.slice();
    var none = xs.map(function () { return null; });
    var rows = [];
    for (var r = 0; r < n; r++) rows.push(r);
    var drawCells = function (u) {
      var ctx = u.ctx;
      var b = u.bbox;
      ctx.save();
      ctx.beginPath();
      ctx.rect(b.left, b.top, b.width, b.height);
      ctx.clip();
      var xmin = u.scales.x.min;
      var xmax = u.scales.x.max;
      L.layers.forEach(function (l, i) {
        var row = n - 1 - i; // the first layer on top
        var y0 = u.valToPos(row + 0.5, 'y', true);
        var y1 = u.valToPos(row - 0.5, 'y', true);
        for (var k = 0; k < K; k++) {
          // A cell reaches half a step beyond its bucket's first and last step: centred on the steps it stands for.
          var start = L.from[k] - 0.5;
          var end = (k + 1 < K ? L.from[k + 1] : L.to[k] + 1) - 0.5;
          if (end < xmin || start > xmax) continue;
          var colour = null;
          if (l.nonFinite[k]) colour = CELL.nonFinite;
          else if (typeof l.mean[k] === 'number') colour = viridis((Math.log10(l.mean[k]) - range[0]) / (range[1] - range[0]));
          else if (l.zero[k]) colour = CELL.zero;
          if (!colour) continue;
          var x0 = u.valToPos(start, 'x', true);
          var x1 = u.valToPos(end, 'x', true);
          ctx.fillStyle = colour;
          // Neighbouring cells overlap by a pixel fraction so no seams show between them.
          ctx.fillRect(x0, y0, Math.max(x1 - x0 + 0.5, 1), y1 - y0 + 0.5);
        }
      });
      ctx.restore();
    };
    var hovered = false; // the cursor follows the other charts too: describe a cell only while the mouse is here
    var readout = function (u) {
      var node = document.getElementById('layer-readout');
      if (!hovered) return;
      if (u.cursor.left == null || u.cursor.left < 0) { node.textContent = ''; return; }
      var step = u.posToVal(u.cursor.left, 'x');
      var row = Math.round(u.posToVal(u.cursor.top, 'y'));
      var i = n - 1 - row;
      var k = bucketAt(L, step);
      if (i < 0 || i >= n || k < 0) { node.textContent = ''; return; }
      var l = L.layers[i];
      var steps = L.from[k] === L.to[k] ? 'step ' + L.from[k] : 'steps ' + L.from[k] + '–' + L.to[k];
      var what = l.nonFinite[k] ? 'a non-finite norm (NaN or ±Infinity)' : typeof l.mean[k] === 'number' ? 'norm ' + fmt(l.mean[k]) + (L.bucketSize > 1 ? ' (geometric mean)' : '') : l.zero[k] ? 'norm 0' : 'no norm logged';
      node.textContent = l.name + ', ' + steps + ': ' + what + ' · click to ' + (picks[run.run][l.name] ? 'remove its line' : 'draw its line');
    };
    var target = document.getElementById('layer-heatmap');
    var u = new uPlot({
      width: width, height: n * rowPx + 70, title: 'Gradient norm per layer and step (log colour scale)',
      padding: [6, 16, 0, plotLeft - gutter],
      legend: { show: false },
      scales: { x: { time: false }, y: { range: [-0.5, n - 0.5] } },
      axes: [
        { label: 'step' },
        { label: 'layer', size: gutter, gap: 4, splits: function () { return rows; }, filter: allSplits, values: function (u, splits) { return splits.map(function (row) { return layerLabel(run, n - 1 - row); }); }, grid: { show: false }, ticks: { show: false } },
      ],
      series: [{ label: 'step' }, { label: 'cells', stroke: 'transparent', points: { show: false } }],
      cursor: cursor,
      hooks: { setScale: [syncX], draw: [drawCells], setCursor: [readout] },
    }, [xs, none], target);
    // A click (not a drag, which zooms) on a row draws or removes that layer's line.
    var down = null;
    u.over.addEventListener('mouseenter', function () { hovered = true; });
    u.over.addEventListener('mouseleave', function () { hovered = false; document.getElementById('layer-readout').textContent = ''; });
    u.over.addEventListener('mousedown', function (e) { down = [e.clientX, e.clientY]; });
    u.over.addEventListener('click', function (e) {
      if (!down || Math.abs(e.clientX - down[0]) > 3 || Math.abs(e.clientY - down[1]) > 3) return;
      var row = Math.round(u.posToVal(e.offsetY, 'y'));
      var i = n - 1 - row;
      if (i >= 0 && i < n) togglePick(run, L.layers[i].name);
    });
    colourScale(range);
    return u;
  }

  // The colour key under the heatmap: the viridis bar labelled in decades, then the special cells.
  function colourScale(range) {
    var box = document.getElementById('layer-scale');
    var px = window.devicePixelRatio || 1;
    var w = 260;
    var canvas = el('canvas', { width: String(w * px), height: String(12 * px), style: 'width:' + w + 'px;height:12px', 'aria-hidden': 'true' });
    var ctx = canvas.getContext('2d');
    for (var x = 0; x < w * px; x++) {
      ctx.fillStyle = viridis(x / (w * px - 1));
      ctx.fillRect(x, 0, 1, 12 * px);
    }
    // Decades (every k-th one over a wide range); over a narrow range also 2 and 5 times each, like the log axes.
    var ticks = [];
    var span = range[1] - range[0];
    var every = Math.max(1, Math.ceil(span / 6));
    var mults = span <= 2 ? [1, 2, 5] : [1];
    for (var e = Math.floor(range[0] / every) * every; e <= range[1] + 1e-9; e += every) {
      mults.forEach(function (m) {
        var t = e + Math.log10(m);
        if (t >= range[0] - 1e-9 && t <= range[1] + 1e-9) ticks.push(t);
      });
    }
    var labels = el('div', { class: 'scale-labels', style: 'width:' + w + 'px' }, ticks.map(function (t) {
      return el('span', { style: 'left:' + ((t - range[0]) / (range[1] - range[0])) * 100 + '%', text: tick(pow10(t)) });
    }));
    box.replaceChildren(
      el('span', { class: 'scale-bar' }, [canvas, labels]),
      el('span', {}, [el('i', { class: 'cell', style: 'background:' + CELL.nonFinite }), 'non-finite (NaN or ±Infinity)']),
      el('span', {}, [el('i', { class: 'cell', style: 'background:' + CELL.zero }), 'zero']),
      el('span', {}, [el('i', { class: 'cell empty-cell' }), 'not logged']));
  }

  function layerLines(run, width, gutter) {
    var L = run.layers;
    var table = [L.step];
    var series = [{ label: 'step' }];
    L.layers.forEach(function (l, i) {
      table.push(log10s(l.line));
      series.push({ label: l.name, stroke: layerColor(i), width: 1.5, show: picks[run.run][l.name] === true });
    });
    var readout = function (u) {
      var idx = u.cursor.idx;
      var node = document.getElementById('layer-readout');
      if (idx == null) { node.textContent = ''; return; }
      var parts = [];
      L.layers.forEach(function (l, i) { if (picks[run.run][l.name]) parts.push(l.name + ' ' + valueAt(u, i + 1, idx, true)); });
      node.textContent = 'step ' + u.data[0][idx] + ': ' + (parts.length ? parts.join(' · ') : 'no layer picked');
    };
    var axis = logAxis('L2 norm');
    axis.size = gutter;
    var u = new uPlot({
      width: width, height: 280, title: 'Gradient norm of the picked layers (log scale)',
      padding: [10, 16, 0, plotLeft - gutter],
      legend: { show: false },
      scales: { x: { time: false }, y: { range: logRange } },
      axes: [{ label: 'step' }, axis],
      series: series, cursor: cursor,
      hooks: { setScale: [syncX], setCursor: [readout] },
    }, table, document.getElementById('layer-lines'));
    return u;
  }

  function healthTable(run) {
    var head = ['Line', 'Layer', 'Flag', 'Min', 'Median (last 100 steps)', 'Last', 'Steps', 'Why'];
    var rows = run.summary.layers.map(function (h, i) {
      var box = el('input', { type: 'checkbox', 'aria-label': 'draw the line of ' + h.name });
      box.checked = picks[run.run][h.name] === true;
      box.addEventListener('change', function () { togglePick(run, h.name); });
      var cells = [
        [box],
        [el('span', { class: 'swatch', style: 'background:' + layerColor(i) }), h.name],
        [el('span', { class: 'flag flag-' + h.flag, text: FLAG_TEXT[h.flag] })],
        [fmt(h.min === null ? undefined : h.min)],
        [fmt(h.median === null ? undefined : h.median)],
        [fmt(h.last)],
        [String(h.steps)],
        [h.reason || '—'],
      ];
      var fields = ['line', 'name', 'flag', 'min', 'median', 'last', 'steps', 'reason'];
      return el('tr', { 'data-layer': h.name, class: 'flag-row-' + h.flag }, cells.map(function (c, j) { return el('td', { 'data-field': fields[j] }, c); }));
    });
    return el('table', { class: 'summary layers' }, [
      el('thead', {}, [el('tr', {}, head.map(function (t) { return el('th', { text: t }); }))]),
      el('tbody', {}, rows),
    ]);
  }

  function togglePick(run, name) {
    var chosen = picks[run.run];
    if (chosen[name]) delete chosen[name];
    else chosen[name] = true;
    var lines = layerCharts[1];
    if (lines) {
      lines.batch(function () {
        run.layers.layers.forEach(function (l, i) {
          var show = chosen[l.name] === true;
          if (lines.series[i + 1].show !== show) lines.setSeries(i + 1, { show: show });
        });
      });
    }
    document.querySelectorAll('#layer-table tr[data-layer]').forEach(function (tr) {
      tr.querySelector('input').checked = chosen[tr.getAttribute('data-layer')] === true;
    });
  }

  function runsWithLayers(data) {
    return data.runs.filter(function (r) { return r.layers && r.layers.layers.length; });
  }

  // The run the per-layer section shows: the reader's choice while it is there, else the first with layers.
  function currentLayerRun(data) {
    var withLayers = runsWithLayers(data);
    if (!withLayers.some(function (r) { return r.run === layerRun; })) layerRun = withLayers.length ? withLayers[0].run : null;
    return withLayers.filter(function (r) { return r.run === layerRun; })[0] || null;
  }

  function layerSection(data, width) {
    layerCharts.forEach(function (u) { u.destroy(); });
    layerCharts = [];
    ['layer-heatmap', 'layer-lines', 'layer-table', 'layer-scale', 'layer-readout'].forEach(function (id) { document.getElementById(id).replaceChildren(); });
    var withLayers = runsWithLayers(data);
    var empty = document.getElementById('layer-empty');
    var body = document.getElementById('layer-body');
    empty.hidden = withLayers.length > 0;
    body.hidden = withLayers.length === 0;
    if (!withLayers.length) return;
    var run = currentLayerRun(data);
    var select = document.getElementById('layer-run');
    select.replaceChildren.apply(select, withLayers.map(function (r) {
      var option = el('option', { value: r.run, text: r.run });
      option.selected = r.run === layerRun;
      return option;
    }));
    document.getElementById('layer-run-label').hidden = withLayers.length < 2;
    picks[run.run] = picks[run.run] || defaultPicks(run);
    document.getElementById('layer-note').textContent = run.layers.bucketSize > 1
      ? 'Downsampled to buckets of ' + run.layers.bucketSize + ' steps: a cell is the geometric mean of its bucket, a line its minimum and maximum. The table uses every step.'
      : '';
    var gutter = layerGutter(run);
    layerCharts.push(heatmap(run, width, gutter));
    layerCharts.push(layerLines(run, width, gutter));
    document.getElementById('layer-table').appendChild(healthTable(run));
    window.gradpipeLayerCharts = layerCharts; // for the browser's devtools and the tests
  }

  // The x range the reader zoomed to (drag on a chart), or null: kept when a live update redraws the charts.
  function zoomOf(u) {
    var x = u.data[0];
    if (!x.length || u.scales.x.min == null) return null;
    return u.scales.x.min > x[0] || u.scales.x.max < x[x.length - 1] ? { min: u.scales.x.min, max: u.scales.x.max } : null;
  }

  function render(data) {
    lastData = data;
    ready = false;
    var zoom = charts.length ? zoomOf(charts[0]) : null;
    charts.forEach(function (u) { u.destroy(); });
    charts = [];
    document.title = data.title;
    document.getElementById('title').textContent = data.title;
    var totalSteps = data.runs.reduce(function (n, r) { return n + r.summary.steps; }, 0);
    document.getElementById('meta').textContent = data.runs.length + ' run' + (data.runs.length === 1 ? '' : 's') + ', ' + totalSteps + ' steps in all.';
    var note = document.getElementById('downsampled');
    if (data.bucketSize > 1) {
      note.hidden = false;
      note.textContent = 'Large log: the charts are downsampled to buckets of ' + data.bucketSize + ' steps (longest run: ' + data.maxSteps +
        ' steps). Each bucket is drawn as its minimum and maximum, so spikes stay visible; a mark in the event strip means at least one step of its bucket was ' +
        'clipped, skipped, non-finite or a spike. The summary table is computed from every step.';
    } else {
      note.hidden = true;
    }
    document.getElementById('spike-rule').textContent = 'spike: over ' + data.spikes.z + ' robust SDs above the median of the previous ' + data.spikes.window + ' values';
    var summary = document.getElementById('summary');
    summary.replaceChildren(data.runs.length ? summaryTable(data) : el('p', { class: 'empty', text: 'No steps logged yet.' }));
    document.getElementById('norm-chart').replaceChildren();
    document.getElementById('loss-chart').replaceChildren();
    legend(data);
    var width = Math.max(480, document.getElementById('charts').clientWidth - 8);
    var layered = currentLayerRun(data);
    plotLeft = Math.max(64 + gutterFor(data), layered ? layerGutter(layered) : 0);
    if (data.runs.length === 0) { layerSection(data, width); return; }
    charts.push(normChart(data, width));
    var loss = lossChart(data, width);
    if (loss) charts.push(loss);
    layerSection(data, width);
    if (zoom) charts.concat(layerCharts).forEach(function (u) { u.setScale('x', zoom); });
    applyHidden();
    ready = true;
    window.gradpipeCharts = charts; // for the browser's devtools and the tests
  }

  function start() {
    var data = JSON.parse(document.getElementById('gradpipe-data').textContent);
    document.getElementById('loss-log').addEventListener('change', function (e) {
      lossLog = e.target.checked;
      if (lastData) render(lastData);
    });
    document.getElementById('layer-run').addEventListener('change', function (e) {
      layerRun = e.target.value;
      if (lastData) render(lastData);
    });
    render(data);
    window.addEventListener('resize', function () {
      var width = Math.max(480, document.getElementById('charts').clientWidth - 8);
      charts.concat(layerCharts).forEach(function (u) { u.setSize({ width: width, height: u.height }); });
    });
    if (document.body.getAttribute('data-live') !== 'true') return;
    var badge = document.getElementById('live');
    var problem = document.getElementById('problem');
    var source = new EventSource('events');
    source.addEventListener('open', function () { badge.className = 'live'; badge.textContent = 'live'; });
    source.addEventListener('error', function () { badge.className = 'live off'; badge.textContent = 'reconnecting…'; });
    source.addEventListener('data', function (e) { problem.hidden = true; render(JSON.parse(e.data)); });
    source.addEventListener('problem', function (e) { problem.hidden = false; problem.textContent = e.data; });
  }

  start();
})();
