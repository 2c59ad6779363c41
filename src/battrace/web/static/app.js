/* battrace dashboard: draws the charts from the page's JSON (vendored ECharts, SVG renderer),
   and runs the code scanner of the public lookup page. No network access beyond this site. */
(function () {
  "use strict";
  var PALETTE = ["#1f6feb", "#2da44e", "#bf8700", "#8250df", "#cf222e", "#0a7ea4", "#6e7781",
    "#e16f24", "#1b7c83", "#a475f9", "#4d2d00", "#fa4549"];

  var STAGE_COLORS = ["#1f6feb", "#2da44e", "#bf8700", "#8250df", "#0a7ea4", "#6e7781"];

  /* Tooltip formatters return HTML, which ECharts inserts as it is: every piece of text from
     the data (an enterprise's name) goes through escapeHtml. */
  var HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function escapeHtml(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) { return HTML_ESCAPES[c]; });
  }

  function chartData() {
    var el = document.getElementById("chart-data");
    return el ? JSON.parse(el.textContent) : {};
  }

  function baseOption(d) {
    return {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: "axis", confine: true },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: d.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true }
    };
  }

  function draw(el, kind, d) {
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var opt;
    if (kind === "sankey") {
      opt = sankey(d);
    } else if (kind === "bar-stack-h") {
      opt = baseOption(d);
      opt.tooltip.axisPointer = { type: "shadow" };
      opt.xAxis = { type: "value" };
      opt.yAxis = { type: "category", data: d.categories, inverse: true };
      opt.series = d.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "all", data: s.data };
      });
    } else {
      opt = baseOption(d);
      opt.xAxis = { type: "category", data: d.categories };
      opt.yAxis = { type: "value" };
      var line = kind === "line-stack";
      opt.series = d.series.map(function (s) {
        return { name: s.name, type: line ? "line" : "bar", stack: line ? "all" : undefined,
          areaStyle: line ? {} : undefined, symbol: "none", data: s.data };
      });
    }
    chart.setOption(opt);
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", "1");
  }

  function sankey(d) {
    var nodes = d.nodes.map(function (n) {
      return { name: n.name, depth: n.depth, label_: n.label, stage: n.stage,
        itemStyle: n.unqualified ? { color: "#cf222e", borderColor: "#82071e" } : { color: STAGE_COLORS[n.depth % STAGE_COLORS.length] } };
    });
    var byName = {};
    nodes.forEach(function (n) { byName[n.name] = n; });
    var links = d.links.map(function (l) {
      return { source: l.source, target: l.target, value: l.value, flagged: l.flagged,
        lineStyle: l.flagged ? { color: "#cf222e", opacity: 0.65 } : { color: "source", opacity: 0.25 } };
    });
    return {
      animation: false,
      tooltip: {
        trigger: "item", confine: true,
        formatter: function (p) {
          var txt;
          if (p.dataType === "edge") {
            var s = byName[p.data.source], t = byName[p.data.target];
            txt = (s ? s.label_ : p.data.source) + " → " + (t ? t.label_ : p.data.target) + ": " + p.data.value;
            if (p.data.flagged) txt += " (" + d.flaggedLabel + ": " + p.data.flagged + ")";
          } else {
            txt = p.data.stage + " · " + p.data.label_ + ": " + p.value;
          }
          return escapeHtml(txt);
        }
      },
      series: [{
        type: "sankey", left: 8, right: 120, top: 8, bottom: 8, nodeGap: 4, nodeWidth: 12,
        layoutIterations: 16, draggable: false, emphasis: { focus: "adjacency" },
        label: { fontSize: 10, formatter: function (p) { return p.data.label_; } },
        data: nodes, links: links
      }]
    };
  }

  function drawAll() {
    var els = document.querySelectorAll("[data-chart]");
    if (!els.length) return;
    if (!window.echarts) { return; }
    var data = chartData();
    els.forEach(function (el) {
      var d = data[el.getAttribute("data-chart")];
      if (d) draw(el, el.getAttribute("data-kind"), d);
    });
    document.body.setAttribute("data-charts-ready", "1");
  }

  /* ------------------------------------------------------------ scanning labels */
  function scanner() {
    var button = document.getElementById("scan-button");
    if (!button) return;
    var input = document.getElementById("code-input");
    var form = document.getElementById("lookup-form");
    var note = document.getElementById("scan-unsupported");
    var photo = document.getElementById("photo-input");
    var photoLabel = document.getElementById("photo-label");
    if (!("BarcodeDetector" in window)) { note.hidden = false; return; }
    var detector;
    try { detector = new window.BarcodeDetector({ formats: ["qr_code", "data_matrix"] }); }
    catch (e) { note.hidden = false; return; }

    function use(raw) {
      var text = String(raw || "").trim();
      var m = text.match(/\/b\/([0-9A-Za-z]+)\s*$/);
      input.value = (m ? m[1] : text).toUpperCase();
      form.submit();
    }
    photoLabel.hidden = false;
    photo.addEventListener("change", function () {
      if (!photo.files || !photo.files[0] || !window.createImageBitmap) return;
      window.createImageBitmap(photo.files[0]).then(function (img) {
        return detector.detect(img);
      }).then(function (codes) {
        if (codes.length) use(codes[0].rawValue); else note.hidden = false;
      }).catch(function () { note.hidden = false; });
    });
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    button.hidden = false;
    var video = document.getElementById("scan-video");
    var stream = null;
    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null; video.hidden = true; button.textContent = button.getAttribute("data-scan");
    }
    function tick() {
      if (!stream) return;
      detector.detect(video).then(function (codes) {
        if (codes.length) { stop(); use(codes[0].rawValue); } else { window.setTimeout(tick, 250); }
      }).catch(function () { window.setTimeout(tick, 500); });
    }
    button.addEventListener("click", function () {
      if (stream) { stop(); return; }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
        stream = s; video.srcObject = s; video.hidden = false;
        button.textContent = button.getAttribute("data-stop");
        return video.play();
      }).then(tick).catch(function () { stop(); note.hidden = false; });
    });
  }

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }
  ready(function () { drawAll(); scanner(); });
})();
