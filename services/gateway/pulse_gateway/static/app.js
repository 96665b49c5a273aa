/* Pulse dashboard behaviour: no inline script is allowed (CSP), so everything lives here.
 * - [data-width] / [data-left] set bar widths and marker positions (no inline styles).
 * - Charts start from the JSON in their data-series attribute.
 * - The campaign page listens to /api/stream and refreshes its fragments through htmx.
 * - The campaign list enables "Compare" for 2–3 selected campaigns. */
(function () {
  "use strict";

  var chartState = {}; // chart id -> {metric, mode}, kept across live refreshes
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

  // 1.25M, not 1.3M: two decimals at most, trailing zeros dropped (the server's fmt_compact).
  function compact(value) {
    if (value == null) return "";
    var abs = Math.abs(value);
    var units = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][0]) {
        return (value / units[i][0]).toFixed(2).replace(/\.?0+$/, "") + units[i][1];
      }
    }
    return String(Math.round(value));
  }

  function full(value) {
    return value == null ? "n/a" : Math.round(value).toLocaleString("en-US");
  }

  // The smallest round number (x 10^k) at or above value: the top of an axis from 0, whose
  // quarters read as round numbers too.
  function niceCeiling(value) {
    if (!(value > 0)) return 1;
    var exponent = Math.floor(Math.log10(value));
    var steps = [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10];
    for (var i = 0; i < steps.length; i++) {
      var candidate = steps[i] * Math.pow(10, exponent);
      if (candidate >= value) return candidate;
    }
    return Math.pow(10, exponent + 1);
  }

  function dayLabel(seconds) {
    return new Date(seconds * 1000).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  // An image that could not load leaves what is beneath it: a post's platform tile, a
  // person's initial (a replacement is built where the markup has none).
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (!img || img.tagName !== "IMG" || !img.closest(".post-thumb")) return;
    if (!img.previousElementSibling && img.getAttribute("data-placeholder")) {
      var holder = document.createElement("span");
      holder.className = "thumb-placeholder " + img.getAttribute("data-placeholder");
      holder.textContent = img.getAttribute("data-label") || "";
      holder.setAttribute("aria-hidden", "true");
      img.before(holder);
    }
    img.remove();
  }, true);

  var DAY = 86400;
  var CAPTIONS = {
    cumulative: { views: "Total views to date, per day.", engagement: "Total engagement to date, per day." },
    daily: { views: "New views each day.", engagement: "New engagement each day." }
  };

  function chartControls(el) {
    return el.closest(".chart-card, .post-history") || el.parentNode;
  }

  // A tooltip with the hovered day's date and value, kept inside the chart.
  function tooltipPlugin(tip, metric, mode) {
    var noun = metric === "views" ? "views" : "engagement";
    function place(u) {
      var i = u.cursor.idx;
      if (i == null || u.cursor.left < 0) { tip.hidden = true; return; }
      var value = u.data[1][i];
      var guess = value == null && u.data[2] ? u.data[2][i] : null;
      var sofar = null;
      if (guess != null) {
        // A projected day: the projection, and the total measured so far beside it.
        for (var j = i; j >= 0 && sofar == null; j--) sofar = u.data[1][j];
        value = guess;
      }
      tip.textContent = "";
      var day = document.createElement("strong");
      day.textContent = new Date(u.data[0][i] * 1000).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
      var line = document.createElement("span");
      line.textContent = (guess != null ? "projected: " : "") + (mode === "daily" ? "+" + full(value) + " new " : full(value) + " ") + noun;
      if (sofar != null) line.textContent += " (" + full(sofar) + " " + noun + " so far)";
      tip.appendChild(day);
      tip.appendChild(line);
      tip.hidden = false;
      var x = u.valToPos(u.data[0][i], "x") + u.over.offsetLeft;
      var y = u.valToPos(value || 0, "y") + u.over.offsetTop;
      var width = tip.offsetWidth;
      var left = Math.min(Math.max(x - width / 2, 0), u.root.offsetWidth - width);
      tip.style.left = left + "px";
      tip.style.top = Math.max(y - tip.offsetHeight - 12, 0) + "px";
    }
    return { hooks: { setCursor: [place] } };
  }

  // "Last 7 days: 1.2M new views, +12.5% vs the 7 days before", from the daily series.
  function periodSummary(controls, data, state) {
    var out = controls.querySelector("[data-period-summary]");
    if (!out) return;
    var days = state.period;
    if (!days) { out.hidden = true; return; }
    var deltas = data[state.metric + "_delta"] || [];
    var sum = function (list) { return list.reduce(function (a, b) { return a + (b || 0); }, 0); };
    var now = sum(deltas.slice(-days));
    var noun = state.metric === "views" ? "views" : "engagement";
    var text = "Last " + days + " days: " + full(now) + " new " + noun;
    if (deltas.length >= 2 * days) {
      var before = sum(deltas.slice(-2 * days, -days));
      text += before > 0
        ? ", " + (now >= before ? "+" : "") + (100 * (now - before) / before).toFixed(1) + "% vs the " + days + " days before"
        : ", none in the " + days + " days before";
    } else {
      text += " (the campaign is younger than two such periods: nothing to compare with)";
    }
    out.textContent = text;
    out.hidden = false;
  }

  function buildChart(el) {
    var id = el.id;
    var series = el.getAttribute("data-series");
    if (!series || typeof uPlot === "undefined") return;
    var data = JSON.parse(series);
    var state = chartState[id] || (chartState[id] = { metric: "views", mode: "cumulative", period: 0 });
    var daily = state.mode === "daily";
    var xs = data.dates.map(function (d) { return Date.parse(d + "T00:00:00Z") / 1000; });
    var key = state.metric + (daily ? "_delta" : "_cum");
    var values = data[key] || [];
    var controls = chartControls(el);
    var periodSelect = controls.querySelector("[data-chart-period]");
    if (periodSelect) periodSelect.value = String(state.period || 0);
    periodSummary(controls, data, state);
    if (state.period > 0 && xs.length > state.period) {
      xs = xs.slice(-state.period);
      values = values.slice(-state.period);
    }
    // The delivery forecast's path (views to date): a dashed line from today to the end date.
    var measuredDays = xs.length;
    var projected = null;
    var path = data.projection;
    if (path && path.dates && path.dates.length && state.metric === "views" && !daily) {
      var byDay = {};
      path.dates.forEach(function (d, i) { byDay[Date.parse(d + "T00:00:00Z") / 1000] = path.views_cum[i]; });
      projected = xs.map(function (x) { return byDay[x] == null ? null : byDay[x]; });
      var last = xs.length ? xs[xs.length - 1] : -Infinity;
      Object.keys(byDay).map(Number).sort(function (a, b) { return a - b; }).forEach(function (x) {
        if (x > last) { xs.push(x); values.push(null); projected.push(byDay[x]); }
      });
      // Start the dashed line at the last measured day, so it reads as a continuation.
      var lastMeasured = values.length - 1;
      while (lastMeasured >= 0 && values[lastMeasured] == null) lastMeasured -= 1;
      if (lastMeasured >= 0 && projected[lastMeasured] == null) projected[lastMeasured] = values[lastMeasured];
      values = values.slice();
    }
    var color = cssVar(state.metric === "views" ? "--views" : "--engagement") || "#4f46e5";
    var grid = { stroke: "#eef0f3", width: 1 };
    var axisFont = "12px system-ui, sans-serif";
    var top = niceCeiling(Math.max.apply(null, values.concat(projected || [], [0])) * 1.05);
    var bars = daily && uPlot.paths && uPlot.paths.bars;
    var opts = {
      width: Math.max(el.clientWidth, 260),
      height: 260,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 8 } },
      scales: {
        // Half a day of room on both sides, so the first and last bars are drawn whole.
        x: { time: true, range: function (u, min, max) { return [min - DAY / 2, max + DAY / 2]; } },
        y: { range: function () { return [0, top]; } }
      },
      axes: [
        { stroke: "#475467", grid: grid, font: axisFont, ticks: { show: false }, space: 56,
          incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY],
          values: function (u, vals) { return vals.map(dayLabel); } },
        { scale: "y", stroke: "#475467", grid: grid, font: axisFont, size: 60,
          splits: function () { return [0, top / 4, top / 2, (3 * top) / 4, top]; },
          values: function (u, vals) { return vals.map(compact); } }
      ],
      series: [
        {},
        { label: state.metric === "views" ? "Views" : "Engagement", scale: "y", stroke: color, width: 2,
          fill: bars ? color + "cc" : color + "1a",
          paths: bars ? uPlot.paths.bars({ size: [0.7, 48] }) : undefined,
          points: { show: false } }
      ],
      plugins: []
    };
    if (projected) {
      opts.series.push({ label: "Projected", scale: "y", stroke: cssVar("--forecast") || "#b45309",
        width: 2, dash: [6, 5], spanGaps: false, points: { show: false } });
    }
    if (charts[id]) { charts[id].destroy(); }
    el.textContent = "";
    var tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.setAttribute("aria-hidden", "true"); // it follows the pointer; the chart has its own label
    tip.hidden = true;
    opts.plugins.push(tooltipPlugin(tip, state.metric, state.mode));
    charts[id] = new uPlot(opts, projected ? [xs, values, projected] : [xs, values], el);
    charts[id].root.appendChild(tip);
    el.setAttribute("data-mode", state.mode);
    el.setAttribute("data-days", String(measuredDays)); // measured days; the projection is extra
    el.setAttribute("data-metric", state.metric);
    el.setAttribute("data-projected", projected ? "true" : "false");
    el.setAttribute("data-axis-max", String(top));
    controls.querySelectorAll("[data-chart-mode]").forEach(function (btn) {
      btn.setAttribute("aria-pressed", String(btn.getAttribute("data-chart-mode") === state.mode));
    });
    controls.querySelectorAll("[data-chart-metric]").forEach(function (btn) {
      btn.setAttribute("aria-pressed", String(btn.getAttribute("data-chart-metric") === state.metric));
    });
    var caption = controls.querySelector("[data-chart-caption]");
    if (caption) caption.textContent = CAPTIONS[state.mode][state.metric] + (el.closest(".chart-card") ? " Hover a day for its numbers." : "");
  }

  // "updated 3 min ago", kept true while the page stays open; the exact moment in the viewer's
  // own time zone on hover. A live refresh of the numbers brings their new as-of time.
  function ago(seconds) {
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 2 * 86400) return Math.floor(seconds / 3600) + " h ago";
    return Math.floor(seconds / 86400) + " days ago";
  }

  function tickFreshness() {
    var numbers = document.getElementById("campaign-numbers");
    var fresh = document.querySelector("[data-fresh]");
    if (!fresh) return;
    var asOf = numbers && numbers.getAttribute("data-as-of");
    if (asOf && asOf !== fresh.getAttribute("datetime")) fresh.setAttribute("datetime", asOf);
    var moment = new Date(fresh.getAttribute("datetime"));
    if (isNaN(moment.getTime())) return;
    fresh.textContent = ago(Math.max(0, (Date.now() - moment.getTime()) / 1000));
    fresh.title = moment.toLocaleString(undefined, {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  }

  // Sortable columns: a header with data-sort becomes a button; rows sort by each cell's
  // data-sort-value, else its first number (or its text). The order survives live refreshes.
  var sortState = {}; // table id -> {column, dir}

  function cellValue(cell, kind) {
    var raw = cell.hasAttribute("data-sort-value") ? cell.getAttribute("data-sort-value") : (cell.textContent || "").trim();
    if (kind !== "number") return raw.toLowerCase();
    var match = raw.replace(/,/g, "").match(/-?\d+(\.\d+)?/);
    return match ? parseFloat(match[0]) : -Infinity; // n/a sorts last when descending
  }

  function sortTable(table, column, dir) {
    var head = table.querySelectorAll("thead th")[column];
    var kind = head.getAttribute("data-sort");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a.cells[column], kind), y = cellValue(b.cells[column], kind);
      return (x < y ? -1 : x > y ? 1 : 0) * (dir === "asc" ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("thead th[data-sort]").forEach(function (th) {
      th.removeAttribute("aria-sort");
    });
    head.setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending");
  }

  function initSorting(root) {
    root.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th[data-sort]").forEach(function (th, i) {
        if (th.querySelector(".sort-btn")) return;
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-btn";
        button.textContent = th.textContent.trim();
        th.setAttribute("data-label", button.textContent);
        th.textContent = "";
        th.appendChild(button);
      });
      var state = sortState[table.id];
      if (state) sortTable(table, state.column, state.dir);
    });
  }

  function sortClicked(button) {
    var th = button.closest("th");
    var table = th.closest("table");
    var column = Array.prototype.indexOf.call(th.parentNode.children, th);
    var current = sortState[table.id];
    var numeric = th.getAttribute("data-sort") === "number";
    var dir = current && current.column === column ? (current.dir === "asc" ? "desc" : "asc") : (numeric ? "desc" : "asc");
    sortState[table.id] = { column: column, dir: dir };
    sortTable(table, column, dir);
  }

  // "Export CSV" of a list as it stands (filters and order included), built in the browser.
  function csvField(text) {
    var value = text.replace(/\s+/g, " ").trim();
    if (/^[=+\-@]/.test(value)) value = "'" + value; // never a formula in a spreadsheet
    return /[",\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
  }

  function exportTable(button) {
    var table = document.getElementById(button.getAttribute("data-export-table"));
    if (!table) return;
    // Every named column but the tick boxes; a cell exports its first line (the figure, not
    // the note under it).
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.classList.contains("col-select") ? "" : (th.getAttribute("data-label") || th.textContent || "").trim();
    });
    var keep = heads.map(function (name) { return name !== ""; });
    var lines = [heads.filter(function (_, i) { return keep[i]; }).map(csvField).join(",")];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var cells = Array.prototype.filter.call(row.cells, function (_, i) { return keep[i]; });
      lines.push(cells.map(function (cell) {
        var text = (cell.innerText || cell.textContent || "").trim();
        return csvField(text.split("\n")[0]);
      }).join(","));
    });
    var blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = (button.getAttribute("data-export-name") || "export") + ".csv";
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
  }

  // On a phone every table reads as a stack of cards (pulse.css): each cell carries its
  // column's name, taken from the header once, so the markup keeps a single source.
  function labelCells(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) return;
      var names = Array.prototype.map.call(heads, function (th) {
        var named = th.getAttribute("data-label");
        if (named != null) return named;
        var link = th.querySelector("a");
        return ((link || th).textContent || "").trim().split("\n")[0].trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (names[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[i]);
        });
      });
    });
  }

  // Compare: each campaign's delivery by campaign day, on one axis from 0.
  var PACE_COLORS = ["#4f46e5", "#0d7f7e", "#b45309"];

  function buildPacing(el) {
    var data = JSON.parse(el.getAttribute("data-pacing"));
    if (typeof uPlot === "undefined" || !data.days.length) return;
    var pct = data.unit === "pct";
    var all = [0];
    data.series.forEach(function (values) { values.forEach(function (v) { if (v != null) all.push(v); }); });
    var top = niceCeiling(Math.max.apply(null, all) * 1.05);
    var format = pct ? function (v) { return v == null ? "n/a" : v.toFixed(1).replace(/\.0$/, "") + "%"; } : compact;
    var tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.hidden = true;
    var opts = {
      width: Math.max(el.clientWidth, 260),
      height: 260,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 8 } },
      scales: { x: { time: false }, y: { range: function () { return [0, top]; } } },
      axes: [
        { stroke: "#475467", grid: { stroke: "#eef0f3", width: 1 }, font: "12px system-ui, sans-serif",
          values: function (u, vals) { return vals.map(function (v) { return "day " + v; }); } },
        { stroke: "#475467", grid: { stroke: "#eef0f3", width: 1 }, font: "12px system-ui, sans-serif", size: 60,
          splits: function () { return [0, top / 4, top / 2, (3 * top) / 4, top]; },
          values: function (u, vals) { return vals.map(format); } }
      ],
      series: [{}].concat(data.series.map(function (_, i) {
        return { label: data.names[i], stroke: PACE_COLORS[i % 3], width: 2, spanGaps: true, points: { show: false } };
      })),
      plugins: [{ hooks: { setCursor: [function (u) {
        var i = u.cursor.idx;
        if (i == null || u.cursor.left < 0) { tip.hidden = true; return; }
        tip.textContent = "";
        var head = document.createElement("strong");
        head.textContent = "Campaign day " + u.data[0][i];
        tip.appendChild(head);
        data.names.forEach(function (name, s) {
          var line = document.createElement("span");
          line.textContent = name + ": " + format(u.data[s + 1][i]);
          tip.appendChild(line);
        });
        tip.hidden = false;
        var x = u.valToPos(u.data[0][i], "x") + u.over.offsetLeft;
        tip.style.left = Math.min(Math.max(x - tip.offsetWidth / 2, 0), u.root.offsetWidth - tip.offsetWidth) + "px";
        tip.style.top = "0px";
      }] } }]
    };
    el.textContent = "";
    var chart = new uPlot(opts, [data.days].concat(data.series), el);
    chart.root.appendChild(tip);
    charts[el.id] = chart;
  }

  function initCharts(root) {
    root.querySelectorAll("[data-chart]").forEach(buildChart);
    root.querySelectorAll("[data-pacing]").forEach(function (el) { if (!charts[el.id]) buildPacing(el); });
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

  // Live updates. A stream event names what changed (a campaign's numbers or its alerts) and
  // its version; the page refetches only that fragment, and not when it already shows that
  // version. The numbers fragment carries its own (data-version: the document's as_of in µs).
  // The alerts panel has none (it lists open alerts; a resolved one leaves nothing to date it),
  // so the version it was last asked for stands in. One fetch per fragment at a time: events
  // that arrive meanwhile are folded into one more fetch when it lands, with no fixed delay.
  var wanted = {}; // fragment id -> the newest version an event announced for it
  var asked = {}; // fragment id -> the version wanted when it was last requested
  var busy = {};
  var retries = {};
  var RETRY_MS = [300, 1000, 3000];
  function refresh(url, target) {
    if (busy[target] || !document.getElementById(target)) return;
    busy[target] = true;
    asked[target] = wanted[target] || 0;
    var guard = null;
    var done = function () {
      if (!busy[target]) return;
      clearTimeout(guard);
      busy[target] = false;
      refreshed(url, target);
    };
    guard = setTimeout(done, 15000); // a request htmx dropped must not block the next one
    htmx.ajax("GET", url, { target: "#" + target, swap: "outerHTML" }).then(done, done);
  }

  function shownVersion(target) {
    var el = document.getElementById(target);
    var own = el && el.getAttribute("data-version");
    return own != null && own !== "" ? Number(own) : asked[target] || 0;
  }

  function announced(url, target, version) {
    if (!(version > shownVersion(target))) return; // a replay, a duplicate or already shown
    if (!(wanted[target] >= version)) wanted[target] = version;
    refresh(url, target);
  }

  function refreshed(url, target) {
    if (!(wanted[target] > shownVersion(target))) { retries[target] = 0; return; }
    if (wanted[target] > asked[target]) { refresh(url, target); return; } // announced meanwhile
    // Asked for it and not shown: the replica behind the balancer does not hold it yet (it
    // reads its table every few seconds), so ask again a few times.
    var n = retries[target] || 0;
    if (n >= RETRY_MS.length) return;
    retries[target] = n + 1;
    setTimeout(function () { refresh(url, target); }, RETRY_MS[n]);
  }

  // The open-alert count beside "Alerts" in the navigation, kept current by the stream.
  var alertCountTimer = null;
  function refreshAlertCount() {
    var badge = document.getElementById("nav-alert-count");
    if (!badge || typeof fetch === "undefined") return;
    fetch("/api/alerts?status=open&limit=500", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (body) {
        if (!body) return;
        var count = body.items.length;
        badge.textContent = count >= 500 && body.next_cursor ? "500+" : String(count);
        badge.hidden = count === 0;
        badge.setAttribute("aria-label", count + " open");
      })
      .catch(function () { badge.hidden = true; });
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
    ["alert.raised", "alert.resolved"].forEach(function (type) {
      source.addEventListener(type, function () {
        clearTimeout(alertCountTimer);
        alertCountTimer = setTimeout(refreshAlertCount, 300);
      });
    });
    if (!page) return;
    var campaignId = page.getAttribute("data-campaign-id");
    // Whatever changed between rendering the page and (re)connecting was never streamed to it:
    // a new post's first sample often lands in that gap, so catch up once the stream is open.
    source.addEventListener("open", function () {
      refresh(page.getAttribute("data-numbers-url"), "campaign-numbers");
      refresh(page.getAttribute("data-tags-url"), "campaign-tags");
      refresh(page.getAttribute("data-alerts-url"), "campaign-alerts");
    });
    // What each notice refreshes: new numbers also move the hashtag tables (the same recompute
    // rolls them up), fetched beside the numbers so neither waits for the other.
    var fragments = {
      numbers: [["campaign-numbers", "data-numbers-url"], ["campaign-tags", "data-tags-url"]],
      alerts: [["campaign-alerts", "data-alerts-url"]]
    };
    ["kpi.updated", "alert.raised", "alert.resolved"].forEach(function (type) {
      source.addEventListener(type, function (event) {
        var message = JSON.parse(event.data);
        var targets = fragments[message.type];
        if (!targets || message.campaign_id !== campaignId) return;
        targets.forEach(function (pair) {
          announced(page.getAttribute(pair[1]), pair[0], Number(message.version));
        });
      });
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  document.addEventListener("click", function (event) {
    var groupToggle = event.target.closest("[data-toggle-group]");
    if (groupToggle) {
      var open = groupToggle.getAttribute("aria-expanded") !== "true";
      document.querySelectorAll('tr.alert-member[data-group="' + groupToggle.getAttribute("data-toggle-group") + '"]').forEach(function (row) {
        row.hidden = !open;
      });
      groupToggle.setAttribute("aria-expanded", String(open));
      return;
    }
    var sortButton = event.target.closest(".sort-btn");
    if (sortButton) { sortClicked(sortButton); return; }
    var exportButton = event.target.closest("[data-export-table]");
    if (exportButton) { exportTable(exportButton); return; }
    var control = event.target.closest("[data-chart-mode], [data-chart-metric]");
    if (control) {
      var chart = control.closest(".chart-card, .post-history").querySelector("[data-chart]");
      if (chart) {
        var state = chartState[chart.id] || (chartState[chart.id] = { metric: "views", mode: "cumulative", period: 0 });
        if (control.hasAttribute("data-chart-mode")) state.mode = control.getAttribute("data-chart-mode");
        else state.metric = control.getAttribute("data-chart-metric");
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
    if (event.target.hasAttribute && event.target.hasAttribute("data-chart-period")) {
      var chartEl = event.target.closest(".chart-card").querySelector("[data-chart]");
      if (chartEl) {
        var st = chartState[chartEl.id] || (chartState[chartEl.id] = { metric: "views", mode: "cumulative", period: 0 });
        st.period = parseInt(event.target.value, 10) || 0;
        buildChart(chartEl);
      }
      return;
    }
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
    initSorting(document);
    labelCells(document);
    tickFreshness();
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
        if (el && charts[id]) charts[id].setSize({ width: Math.max(el.clientWidth, 260), height: 260 });
      });
    }, 150);
  });

  function start() {
    applyGeometry(document);
    initSorting(document);
    labelCells(document);
    tickFreshness();
    setInterval(tickFreshness, 15000);
    refreshAlertCount();
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
