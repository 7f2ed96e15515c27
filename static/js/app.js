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
  // A region loaded by htmx may bring plotly.js itself (the chain page's customers tab):
  // its charts are drawn once the script has loaded (load events do not bubble: capture).
  document.addEventListener("load", function (evt) {
    if (evt.target.tagName === "SCRIPT" && /plotly/.test(evt.target.src)) drawCharts(document);
  }, true);

  // An error message at the top of the page; downloads.js uses it too.
  function showMessage(text) {
    var box = document.getElementById("messages");
    if (!box || !text) { return; }
    var message = document.createElement("div");
    message.className = "message error";
    message.setAttribute("role", "alert");
    message.textContent = text;
    box.replaceChildren(message);
    message.scrollIntoView({ block: "nearest" });
  }
  window.chainmapShowError = showMessage;

  // A failed htmx request swaps nothing: say so at the top of the page instead.
  function showError(kind) {
    var box = document.getElementById("messages");
    if (!box) { return; }
    showMessage(box.getAttribute("data-error-" + kind) || box.getAttribute("data-error-other"));
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
  // Tabs of the chain page (templates/chain/detail.html). Each tab is a link to ?tab=…, so
  // the page works without JavaScript; here they switch in place, by click or arrow keys.
  function tabOf(panel) {
    return document.querySelector('[role=tab][aria-controls="' + panel.id + '"]');
  }

  function showTab(tab, focus) {
    var list = tab.closest("[role=tablist]");
    list.querySelectorAll("[role=tab]").forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
    if (focus) tab.focus();
    var url = new URL(window.location.href);
    url.searchParams.set("tab", tab.dataset.tab);
    url.hash = "";
    history.replaceState(history.state, "", url);
    refreshStale(document.getElementById(tab.getAttribute("aria-controls")));
  }

  document.addEventListener("click", function (evt) {
    var tab = evt.target.closest && evt.target.closest("[role=tablist] [role=tab]");
    if (!tab || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.button !== 0) return;
    evt.preventDefault();
    showTab(tab, false);
  });

  document.addEventListener("keydown", function (evt) {
    var tab = evt.target.closest && evt.target.closest("[role=tablist] [role=tab]");
    if (!tab) return;
    var tabs = Array.from(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var i = tabs.indexOf(tab);
    var next = {
      ArrowRight: tabs[(i + 1) % tabs.length],
      ArrowLeft: tabs[(i - 1 + tabs.length) % tabs.length],
      Home: tabs[0],
      End: tabs[tabs.length - 1],
    }[evt.key];
    if (evt.key === " ") next = tab;
    if (!next) return;
    evt.preventDefault();
    showTab(next, true);
  });

  // A link to something in another tab (a white spot's card, a diagram box, a comment's
  // actor) opens that tab first.
  function revealTarget(id) {
    var el = id && document.getElementById(id);
    var panel = el && el.closest("[role=tabpanel]");
    if (panel && panel.hidden && tabOf(panel)) showTab(tabOf(panel), false);
    return el;
  }
  // Only the open tab's regions come with the page; the others load when their tab opens
  // (templates/chain/_region_later.html). What a link or button aims at may so not be
  // there yet: its tab (data-in-tab, or ?tab= in its href) opens first, and `then` runs
  // once the element has arrived.
  function tabFor(elt) {
    var name = elt.getAttribute("data-in-tab");
    var href = elt.getAttribute("href") || elt.getAttribute("xlink:href");
    if (!name && href) name = new URL(href, window.location.href).searchParams.get("tab");
    return name ? document.getElementById("tab-" + name) : null;
  }
  function whenPresent(id, then) {
    function check() {
      var el = document.getElementById(id);
      if (!el) return;
      document.body.removeEventListener("htmx:afterSettle", check);
      then(el);
    }
    document.body.addEventListener("htmx:afterSettle", check);
    // A region that fails to load shows its error; nothing should happen much later.
    setTimeout(function () { document.body.removeEventListener("htmx:afterSettle", check); }, 15000);
  }
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a[href*='#']");
    if (!link || link.closest("[role=tablist]")) return;
    var href = link.getAttribute("href") || link.getAttribute("xlink:href") || "";
    var url = new URL(href, window.location.href);
    if (url.pathname !== window.location.pathname || !url.hash) return;
    var id = decodeURIComponent(url.hash.slice(1));
    var el = revealTarget(id);
    // htmx handles the diagram's boxes for editors (it opens the form and shows it).
    if (evt.defaultPrevented) return;
    if (!el && tabFor(link)) {
      evt.preventDefault();
      showTab(tabFor(link), false);
      whenPresent(id, function (found) { found.scrollIntoView({ block: "start" }); });
      return;
    }
    if (!el) return;
    evt.preventDefault();
    el.scrollIntoView({ block: "start" });
  });
  // A button aimed at a region of a closed tab (a diagram box opens the actor's card on the
  // board, a review comment's "Create action" the form in the Actions tab): the tab opens,
  // and the click goes on once the target is there. Runs before htmx sees the click.
  document.addEventListener("click", function (evt) {
    var elt = evt.target.closest && evt.target.closest("[hx-get][hx-target^='#'], [hx-post][hx-target^='#']");
    if (!elt) return;
    var id = elt.getAttribute("hx-target").slice(1).split(/[\s.:\[]/)[0];
    if (!id || document.getElementById(id)) return;
    var tab = tabFor(elt);
    if (!tab) return;
    evt.preventDefault();
    evt.stopPropagation();
    showTab(tab, false);
    // (Not elt.click(): a diagram box is an SVG element, which has none.)
    whenPresent(id, function () {
      elt.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window }));
    });
  }, true);
  document.addEventListener("htmx:beforeSwap", function (evt) {
    // A form opened from another tab (a diagram box opens the actor's card on the board).
    var target = evt.detail.target;
    var elt = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    if (!target || !target.id || !elt || elt === target) return;
    // Not for what a hidden tab sends itself (an autosave finishing after a tab switch).
    var from = elt.closest && elt.closest("[role=tabpanel]");
    if (!from || !from.hidden) revealTarget(target.id);
  });

  // Regions in a hidden tab do not reload on every change: they are marked stale and
  // reload when their tab opens. Only reads wait; a write (an autosave) is never held back.
  // What the user clicks is never held back either.
  document.addEventListener("htmx:confirm", function (evt) {
    var elt = evt.detail.elt;
    var panel = elt.closest && elt.closest("[role=tabpanel]");
    if (!panel || !panel.hidden || evt.detail.verb !== "get") return;
    var by = evt.detail.triggeringEvent;
    if (by && (by.type === "click" || by.type === "submit")) return;
    evt.preventDefault();
    elt.setAttribute("data-stale", "");
  });
  function refreshStale(panel) {
    if (!panel) return;
    panel.querySelectorAll("[data-stale]").forEach(function (region) {
      region.removeAttribute("data-stale");
      htmx.ajax("GET", region.getAttribute("hx-get"), {
        source: region,
        target: region,
        swap: region.getAttribute("hx-swap") || "outerHTML",
      });
    });
  }

  // Moving an actor or a stage with its arrow buttons re-renders the board: focus goes back
  // to the same button of the moved item, so that pressing it again moves it on.
  var moved = null;
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("button[name=direction]");
    if (!button) return;
    var item = button.closest(".link-card, .stage");
    var tools = button.closest(".card-tools, .stage-tools");
    if (item && tools) moved = { id: item.id, tools: tools.className, value: button.value };
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    if (!moved) return;
    var item = document.getElementById(moved.id);
    // Another region may settle first: wait for the swap that brought the moved item.
    if (item && !evt.target.contains(item)) return;
    var selector = "." + moved.tools.split(" ")[0] + " button[name=direction]";
    var value = moved.value;
    moved = null;
    if (!item) return;
    var buttons = Array.from(item.querySelectorAll(selector)).filter(function (b) {
      return b.closest(".link-card, .stage") === item;
    });
    var target = buttons.find(function (b) { return b.value === value && !b.disabled; });
    target = target || buttons.find(function (b) { return !b.disabled; });
    if (target) target.focus();
  });
})();
