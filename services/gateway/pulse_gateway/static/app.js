/* Pulse dashboard behaviour: no inline script is allowed (CSP), so everything lives here.
 * - [data-width] / [data-left] set bar widths and marker positions (no inline styles).
 * - Charts start from the JSON in their data-series attribute.
 * - The campaign page listens to /api/stream and refreshes its fragments through htmx.
 * - The campaign list enables "Compare" for 2–3 selected campaigns. */
(function () {
  "use strict";

  var chartModes = {}; // chart id -> "cumulative" | "daily", kept across live refreshes
  var charts = {};

  function applyGeometry(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = el.getAttribute("data-width") + "%";
    });
    root.querySelectorAll("[data-left]").forEach(function (el) {
      el.style.left = el.getAttribute("data-left") + "%";
    });
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function compact(value) {
    if (value == null) return "";
    var abs = Math.abs(value);
    if (abs >= 1e9) return (value / 1e9).toFixed(1).replace(/\.0$/, "") + "B";
    if (abs >= 1e6) return (value / 1e6).toFixed(1).replace(/\.0$/, "") + "M";
    if (abs >= 1e3) return (value / 1e3).toFixed(1).replace(/\.0$/, "") + "K";
    return String(Math.round(value));
  }

  function dayLabel(seconds) {
    return new Date(seconds * 1000).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  // A thumbnail the proxy could not fetch becomes the platform's placeholder.
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (!img || img.tagName !== "IMG" || !img.closest(".post-thumb")) return;
    var holder = document.createElement("span");
    holder.className = "thumb-placeholder " + (img.getAttribute("data-placeholder") || "platform-bg-other");
    holder.textContent = img.getAttribute("data-label") || "";
    holder.setAttribute("aria-hidden", "true");
    img.replaceWith(holder);
  }, true);

  function buildChart(el) {
    var id = el.id;
    var series = el.getAttribute("data-series");
    if (!series || typeof uPlot === "undefined") return;
    var data = JSON.parse(series);
    var mode = chartModes[id] || "cumulative";
    var xs = data.dates.map(function (d) { return Date.parse(d + "T00:00:00Z") / 1000; });
    var views = mode === "daily" ? data.views_delta : data.views_cum;
    var engagement = mode === "daily" ? data.engagement_delta : data.engagement_cum;
    var bars = mode === "daily" && uPlot.paths && uPlot.paths.bars;
    var viewsColor = cssVar("--views") || "#4f46e5";
    var engColor = cssVar("--engagement") || "#0ea5a4";
    var grid = { stroke: "#eef0f3", width: 1 };
    var axisFont = "12px system-ui, sans-serif";
    var opts = {
      width: Math.max(el.clientWidth, 280),
      height: 260,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, v: { auto: true }, e: { auto: true } },
      axes: [
        { stroke: "#667085", grid: grid, font: axisFont, ticks: { show: false }, space: 56,
          incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400],
          values: function (u, vals) { return vals.map(dayLabel); } },
        { scale: "v", stroke: viewsColor, grid: grid, font: axisFont, size: 56,
          values: function (u, vals) { return vals.map(compact); } },
        { scale: "e", side: 1, stroke: engColor, grid: { show: false }, font: axisFont, size: 56,
          values: function (u, vals) { return vals.map(compact); } }
      ],
      series: [
        {},
        { label: "Views", scale: "v", stroke: viewsColor, width: 2,
          fill: bars ? viewsColor + "cc" : viewsColor + "14",
          paths: bars ? uPlot.paths.bars({ size: [0.4, 40], align: -1 }) : undefined,
          points: { show: false } },
        { label: "Engagement", scale: "e", stroke: engColor, width: 2,
          fill: bars ? engColor + "cc" : undefined,
          paths: bars ? uPlot.paths.bars({ size: [0.4, 40], align: 1 }) : undefined,
          points: { show: false } }
      ]
    };
    if (charts[id]) { charts[id].destroy(); }
    el.textContent = "";
    charts[id] = new uPlot(opts, [xs, views, engagement], el);
    el.setAttribute("data-mode", mode);
    var card = el.closest(".card");
    if (card) {
      card.querySelectorAll("[data-chart-mode]").forEach(function (btn) {
        btn.setAttribute("aria-pressed", String(btn.getAttribute("data-chart-mode") === mode));
      });
    }
  }

  function initCharts(root) {
    root.querySelectorAll("[data-chart]").forEach(buildChart);
  }

  function initCompare(root) {
    var form = document.getElementById("compare-form");
    if (!form) return;
    var boxes = form.querySelectorAll(".compare-check");
    var checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    var button = document.getElementById("compare-button");
    var hint = document.getElementById("compare-hint");
    var bar = document.getElementById("compare-bar");
    var ready = checked >= 2 && checked <= 3;
    if (button) button.disabled = !ready;
    if (bar) bar.setAttribute("data-state", ready ? "ready" : "idle");
    if (hint) {
      hint.textContent = checked === 0 ? "Select 2–3 campaigns to compare them side by side."
        : checked > 3 ? checked + " selected: compare takes at most 3."
        : checked + " selected" + (ready ? "" : ": select one more.");
    }
  }

  // Live updates: the campaign page refreshes its fragments when its numbers or alerts change.
  var pending = {};
  function refresh(url, target) {
    if (pending[target]) return;
    pending[target] = setTimeout(function () {
      pending[target] = null;
      if (!document.getElementById(target)) return;
      htmx.ajax("GET", url, { target: "#" + target, swap: "outerHTML" });
    }, 150);
  }

  function connectStream() {
    var status = document.getElementById("live-status");
    if (!status || typeof EventSource === "undefined") return;
    var page = document.getElementById("campaign-page");
    var source = new EventSource("/api/stream");
    source.addEventListener("open", function () { status.setAttribute("data-state", "open"); });
    source.addEventListener("error", function () { status.setAttribute("data-state", "error"); });
    // The server ended the stream because the sign-in ended: reconnecting would only fail.
    source.addEventListener("closed", function () {
      source.close();
      status.setAttribute("data-state", "error");
    });
    if (!page) return;
    var campaignId = page.getAttribute("data-campaign-id");
    // Whatever changed between rendering the page and (re)connecting was never streamed to it:
    // a new post's first sample often lands in that gap, so catch up once the stream is open.
    source.addEventListener("open", function () {
      refresh(page.getAttribute("data-numbers-url"), "campaign-numbers");
      refresh(page.getAttribute("data-alerts-url"), "campaign-alerts");
    });
    source.addEventListener("kpi.updated", function (event) {
      var message = JSON.parse(event.data);
      var campaign = (message.data || {}).campaign || {};
      if (campaign.campaign_id === campaignId) {
        refresh(page.getAttribute("data-numbers-url"), "campaign-numbers");
      }
    });
    ["alert.raised", "alert.resolved"].forEach(function (type) {
      source.addEventListener(type, function (event) {
        var message = JSON.parse(event.data);
        if ((message.data || {}).campaign_id === campaignId) {
          refresh(page.getAttribute("data-alerts-url"), "campaign-alerts");
        }
      });
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  document.addEventListener("click", function (event) {
    var modeButton = event.target.closest("[data-chart-mode]");
    if (modeButton) {
      var chart = modeButton.closest(".card").querySelector("[data-chart]");
      if (chart) {
        chartModes[chart.id] = modeButton.getAttribute("data-chart-mode");
        buildChart(chart);
      }
      return;
    }
    var toggle = event.target.closest(".nav-toggle-button");
    if (toggle) {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", String(open));
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("nav-open")) {
      document.body.classList.remove("nav-open");
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("compare-check")) initCompare(document);
  });

  // Filters leave empty fields out of the URL they push: /campaigns?q=trail, not ?q=trail&status=.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (name) {
      if (params[name] === "") delete params[name];
    });
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    applyGeometry(document);
    initCharts(document);
    initCompare(document);
    var numbers = document.getElementById("campaign-numbers");
    if (numbers && event.detail.elt && event.detail.elt.id === "campaign-numbers") {
      numbers.querySelectorAll(".kpi-value").forEach(function (el) {
        el.classList.add("flash");
        setTimeout(function () { el.classList.remove("flash"); }, 900);
      });
    }
  });

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(charts).forEach(function (id) {
        var el = document.getElementById(id);
        if (el && charts[id]) charts[id].setSize({ width: Math.max(el.clientWidth, 280), height: 260 });
      });
    }, 150);
  });

  function start() {
    applyGeometry(document);
    initCharts(document);
    initCompare(document);
    connectStream();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
