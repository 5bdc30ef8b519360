// The gradpipe report page: draws the data embedded in #gradpipe-data with uPlot (inlined before this
// script) and, on a live page (`gradpipe serve`), redraws whenever the server sends new data.
// Plain browser JavaScript, no build step: it is inlined into the HTML as is.
(function () {
  'use strict';

  var COLORS = ['#2563eb', '#dc2626', '#059669', '#7c3aed', '#d97706', '#0891b2', '#db2777', '#4b5563'];
  var MARK = { clipped: '#f59e0b', skipped: '#7c3aed', nonFinite: '#b91c1c' };
  var charts = [];
  var lossLog = true;
  var lastData = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }

  function fmt(v) {
    if (v === undefined) return '—';
    if (v === null) return 'non-finite';
    if (Number.isInteger(v)) return String(v);
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

  // Log-scale charts cannot show zero, negative or non-finite values: they become gaps (null).
  function positive(values) {
    return values.map(function (v) { return typeof v === 'number' && v > 0 ? v : null; });
  }

  // The y at which markers for non-finite values are drawn: above everything finite in the chart.
  function ceilingOf(arrays, log) {
    var max = -Infinity;
    arrays.forEach(function (a) { a.forEach(function (v) { if (typeof v === 'number' && v > max && (!log || v > 0)) max = v; }); });
    if (max === -Infinity) return 1;
    return log ? max * 3 : max + Math.max(Math.abs(max) * 0.1, 1e-9);
  }

  function summaryTable(data) {
    var head = ['Run', 'Steps', 'Clipped', 'Skipped', 'Max norm', 'Final loss', 'First non-finite step', 'Files'];
    var rows = data.runs.map(function (r, i) {
      var s = r.summary;
      var cells = [
        [el('span', { class: 'swatch', style: 'background:' + COLORS[i % COLORS.length] }), r.run],
        [String(s.steps)],
        [(100 * s.clippedFraction).toFixed(1) + '% (' + s.clipped + ')'],
        [String(s.skipped)],
        [fmt(s.maxNorm === null ? undefined : s.maxNorm)],
        [fmt(s.finalLoss)],
        [s.firstNonFiniteStep === undefined ? '—' : String(s.firstNonFiniteStep)],
        [r.files.join(', ')],
      ];
      var fields = ['run', 'steps', 'clipped', 'skipped', 'maxNorm', 'finalLoss', 'firstNonFiniteStep', 'files'];
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
    charts.forEach(function (o) { if (o !== u) o.setScale('x', { min: u.scales.x.min, max: u.scales.x.max }); });
    ready = true;
  }
  var cursor = { drag: { x: true, y: false }, sync: { key: 'gradpipe-steps' } };

  function markerSeries(label, color, size) {
    return { label: label, stroke: color, fill: color, width: 0, paths: function () { return null; },
      points: { show: true, size: size, stroke: color, fill: color }, spanGaps: false };
  }

  function normChart(data, width) {
    var tables = [];
    var series = [{ label: 'step' }];
    var all = [];
    data.runs.forEach(function (r) { all.push(r.norms.before, r.norms.after, r.norms.threshold); });
    var ceiling = ceilingOf(all, true);
    data.runs.forEach(function (r, i) {
      var n = r.norms;
      var c = COLORS[i % COLORS.length];
      var before = positive(n.before);
      var marks = function (flags, onCeilingToo) {
        return n.step.map(function (_, k) {
          if (!flags[k]) return null;
          return before[k] !== null ? before[k] : onCeilingToo ? ceiling : null;
        });
      };
      tables.push([n.step, before, positive(n.after), positive(n.threshold),
        marks(n.clipped, false), marks(n.skipped, true), n.nonFinite.map(function (f) { return f ? ceiling : null; })]);
      series.push(
        { label: r.run + ' · before', stroke: c, width: 1, alpha: 0.45 },
        { label: r.run + ' · after', stroke: c, width: 1.75 },
        { label: r.run + ' · threshold', stroke: c, width: 1, dash: [6, 4] },
        markerSeries(r.run + ' · clipped', MARK.clipped, 5),
        markerSeries(r.run + ' · skipped', MARK.skipped, 8),
        markerSeries(r.run + ' · non-finite', MARK.nonFinite, 9));
    });
    // Align the runs on one x axis. Nulls (gaps: non-finite values) are kept; steps one run lacks become
    // undefined, which uPlot spans over.
    var joined = uPlot.join(tables, tables.map(function (t) { return t.map(function () { return 1; }); }));
    return new uPlot({
      width: width, height: 340, title: 'Gradient norm per step (log scale)',
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ label: 'step' }, { label: 'global L2 norm', values: ticks, size: 60 }],
      series: series, cursor: cursor, hooks: { setScale: [syncX] },
    }, joined, document.getElementById('norm-chart'));
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
    var ceiling = ceilingOf(data.runs.map(function (r) { return r.loss.value; }), log);
    var tables = [];
    var series = [{ label: 'step' }];
    data.runs.forEach(function (r, i) {
      if (r.loss.step.length === 0) return;
      var c = COLORS[i % COLORS.length];
      tables.push([r.loss.step, log ? positive(r.loss.value) : r.loss.value,
        r.loss.nonFinite.map(function (f) { return f ? ceiling : null; })]);
      series.push({ label: r.run + ' · loss', stroke: c, width: 1.5 }, markerSeries(r.run + ' · non-finite', MARK.nonFinite, 9));
    });
    var joined = uPlot.join(tables, tables.map(function (t) { return t.map(function () { return 1; }); }));
    return new uPlot({
      width: width, height: 260, title: 'Loss' + (log ? ' (log scale)' : ''),
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      axes: [{ label: 'step' }, { label: 'loss', values: ticks, size: 60 }],
      series: series, cursor: cursor, hooks: { setScale: [syncX] },
    }, joined, target);
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
        ' steps). Each bucket is drawn as its minimum and maximum, so spikes stay visible; a marker means at least one step of its bucket was ' +
        'clipped, skipped or non-finite. The summary table is computed from every step.';
    } else {
      note.hidden = true;
    }
    var summary = document.getElementById('summary');
    summary.replaceChildren(data.runs.length ? summaryTable(data) : el('p', { class: 'empty', text: 'No steps logged yet.' }));
    document.getElementById('norm-chart').replaceChildren();
    document.getElementById('loss-chart').replaceChildren();
    var width = Math.max(480, document.getElementById('charts').clientWidth - 8);
    if (data.runs.length === 0) return;
    charts.push(normChart(data, width));
    var loss = lossChart(data, width);
    if (loss) charts.push(loss);
    if (zoom) charts.forEach(function (u) { u.setScale('x', zoom); });
    ready = true;
    window.gradpipeCharts = charts; // for the browser's devtools and the tests
  }

  function start() {
    var data = JSON.parse(document.getElementById('gradpipe-data').textContent);
    document.getElementById('loss-log').addEventListener('change', function (e) {
      lossLog = e.target.checked;
      if (lastData) render(lastData);
    });
    render(data);
    window.addEventListener('resize', function () {
      var width = Math.max(480, document.getElementById('charts').clientWidth - 8);
      charts.forEach(function (u) { u.setSize({ width: width, height: u.height }); });
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
