// Drag and drop for stages and actors, charts, and confirmation for plain (non-htmx) forms.
// Everything lives here rather than inline: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  function post(el, url, values) {
    // The CSRF header comes from hx-headers on <body>, inherited through `source`.
    htmx.ajax("POST", url, { source: el, target: "#board", swap: "outerHTML", values: values });
  }

  function pks(container, selector) {
    return Array.from(container.querySelectorAll(selector)).map(function (el) {
      return el.dataset.pk;
    });
  }

  function initSortables(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-sortable-stages]").forEach(function (el) {
      if (el._sortable) return;
      el._sortable = Sortable.create(el, {
        handle: ".stage-handle",
        draggable: ".stage",
        animation: 120,
        onEnd: function (evt) {
          if (evt.oldIndex === evt.newIndex) return;
          post(el, el.dataset.url, { stage: pks(el, ":scope > .stage") });
        },
      });
    });
    root.querySelectorAll("[data-sortable-links]").forEach(function (el) {
      if (el._sortable) return;
      el._sortable = Sortable.create(el, {
        group: "links",
        draggable: ".link-card",
        filter: "input, textarea, select, button, .contacts",
        preventOnFilter: false,
        animation: 120,
        onEnd: function (evt) {
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
          var to = evt.to;
          post(to, to.dataset.url, { stage: to.dataset.stage, link: pks(to, ":scope > .link-card") });
        },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initSortables(document);
  });
  document.addEventListener("htmx:load", function (evt) {
    initSortables(evt.detail.elt.parentElement || document);
  });

  // Hovering or focusing a box in the diagram highlights its influences.
  function light(evt, on) {
    var box = evt.target.closest && evt.target.closest("svg.diagram .box");
    if (!box) return;
    var pk = box.dataset.link;
    box.ownerSVGElement
      .querySelectorAll('.influence[data-from="' + pk + '"], .influence[data-to="' + pk + '"]')
      .forEach(function (path) { path.classList.toggle("lit", on); });
  }
  document.addEventListener("mouseover", function (evt) { light(evt, true); });
  document.addEventListener("mouseout", function (evt) { light(evt, false); });
  document.addEventListener("focusin", function (evt) { light(evt, true); });
  document.addEventListener("focusout", function (evt) { light(evt, false); });

  // Plotly charts: the figure comes as JSON in a non-executed <script type="application/json">
  // (templates/customers/_chart.html), because the CSP allows no inline script.
  function drawCharts(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-figure]").forEach(function (div) {
      if (div._drawn) return;
      var data = document.getElementById(div.dataset.figure);
      if (!data) return;
      div._drawn = true;
      var figure = JSON.parse(data.textContent);
      var config = Object.assign({ responsive: true }, figure.config || {});
      Plotly.newPlot(div, figure.data, figure.layout || {}, config).then(function () {
        // A point of the portfolio chart opens its customer: the URL is its customdata.
        if (!div.hasAttribute("data-link-points")) return;
        div.on("plotly_click", function (evt) {
          var url = evt.points[0] && evt.points[0].customdata;
          if (url) window.location.href = url;
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:load", function (evt) { drawCharts(evt.detail.elt); });

  // A failed htmx request swaps nothing: say so at the top of the page instead.
  function showError(kind) {
    var box = document.getElementById("messages");
    if (!box) { return; }
    var text = box.getAttribute("data-error-" + kind) || box.getAttribute("data-error-other");
    var message = document.createElement("div");
    message.className = "message error";
    message.setAttribute("role", "alert");
    message.textContent = text;
    box.replaceChildren(message);
    message.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    showError(status === 403 || status === 404 ? String(status) : status >= 500 ? "server" : "other");
  });
  document.addEventListener("htmx:sendError", function () { showError("network"); });

  // Plain forms (no htmx) ask before deleting; htmx forms use hx-confirm instead.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset.confirm && !form.hasAttribute("hx-post") && !window.confirm(form.dataset.confirm)) {
      evt.preventDefault();
    }
  });
})();
