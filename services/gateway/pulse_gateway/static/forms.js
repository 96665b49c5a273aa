/* Pulse dashboard, part 2: behaviour of the triage table and the forms (no inline script: CSP).
 * - [data-select-all="<class>"] ticks every checkbox of that class; [data-count-of="<class>"]
 *   says how many are ticked.
 * - [data-add-row="<template id>"] appends a copy of a <template> to [data-rows]; [data-remove-row]
 *   removes its row (influencer handles).
 * - [data-copy="<element id>"] copies that element's text (secrets shown once). */
(function () {
  "use strict";

  function updateCounts(root) {
    root.querySelectorAll("[data-count-of]").forEach(function (el) {
      var cls = el.getAttribute("data-count-of");
      var n = root.querySelectorAll("input." + cls + ":checked").length;
      el.textContent = n === 0 ? "No alert selected" : n + (n === 1 ? " alert selected" : " alerts selected");
    });
    root.querySelectorAll("[data-select-all]").forEach(function (all) {
      var boxes = root.querySelectorAll("input." + all.getAttribute("data-select-all"));
      var ticked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || !target.matches) return;
    if (target.matches("[data-select-all]")) {
      var cls = target.getAttribute("data-select-all");
      document.querySelectorAll("input." + cls).forEach(function (b) { b.checked = target.checked; });
    }
    if (target.type === "checkbox") updateCounts(document);
  });

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var tpl = document.getElementById(add.getAttribute("data-add-row"));
      var rows = document.querySelector("[data-rows]");
      if (tpl && rows) {
        var copy = tpl.content.cloneNode(true);
        rows.appendChild(copy);
        var fields = rows.querySelectorAll("select, input");
        if (fields.length) fields[fields.length - 3 >= 0 ? fields.length - 3 : 0].focus();
      }
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest(".handle-row-form");
      if (row) row.remove();
      return;
    }
    var copyButton = event.target.closest("[data-copy]");
    if (copyButton) {
      var source = document.getElementById(copyButton.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          copyButton.textContent = "Copied";
        }, function () { copyButton.textContent = "Select and copy"; });
      }
    }
  });

  document.addEventListener("htmx:afterSettle", function () { updateCounts(document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { updateCounts(document); });
  } else {
    updateCounts(document);
  }
})();
