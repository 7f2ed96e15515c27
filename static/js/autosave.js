// Worksheet autosave (textarea[data-autosave]): an answer is saved a moment after typing
// stops and when the field is left; one save at a time per field, and never an unchanged
// text again. A save that fails keeps the text in the field, says so next to it, and is
// tried again after growing pauses; leaving the page sends whatever is not saved yet.
//
// The field names its save URL, question, actor (data-link), the id of its hidden version
// input (data-version) and of its status element (data-status), and the notices in the
// page's language (data-retrying, data-refused). The server answers with the status
// fragment of chain/_saved.html and the new version (see chain.views.answer_save).
(function () {
  "use strict";

  var DELAY = 600; // ms after the last keystroke
  var RETRY_FIRST = 1000; // ms before the first retry; doubles with every failure
  var RETRY_MAX = 30000;

  var states = new WeakMap();
  // Fields typed in, also those an htmx swap has taken out of the page meanwhile.
  var typedIn = new Set();

  function isAutosave(el) {
    return el instanceof HTMLTextAreaElement && el.hasAttribute("data-autosave") && !el.readOnly;
  }

  function stateOf(field) {
    var state = states.get(field);
    if (!state) {
      // saved: the text the server has; refused: a text it refused (sent again only changed).
      state = { saved: field.defaultValue, refused: null, sending: null, timer: null, retry: null, failures: 0 };
      states.set(field, state);
    }
    return state;
  }

  function unsaved(field) {
    var state = stateOf(field);
    return field.value !== state.saved && field.value !== state.refused;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function showStatus(field, nodes) {
    var status = byId(field.dataset.status);
    if (status) status.replaceChildren.apply(status, nodes);
  }

  function notice(field, text) {
    var span = document.createElement("span");
    span.className = "save-error conflict-note";
    span.setAttribute("role", "alert");
    span.textContent = text;
    showStatus(field, [span]);
  }

  // Events the server asks for (HX-Trigger), e.g. `answers-changed`: the summary reloads.
  function triggerEvents(header) {
    if (!header) return;
    var names;
    try {
      names = Object.keys(JSON.parse(header));
    } catch (error) {
      names = header.split(",");
    }
    names.forEach(function (name) {
      name = name.trim();
      if (name) document.body.dispatchEvent(new CustomEvent(name, { bubbles: true }));
    });
  }

  function send(field, text, options) {
    var body = new URLSearchParams();
    body.append("question", field.dataset.question);
    if (field.dataset.link) body.append("link", field.dataset.link);
    var version = byId(field.dataset.version);
    // Without a version the save is not checked against somebody else's: only when the
    // page is left while an earlier save of the same field is still on its way, which
    // would otherwise make the newer text look like a conflict with the older.
    if (version && !options.unchecked) body.append("version", version.value);
    body.append("text", text);
    return fetch(field.dataset.autosave, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: !!options.leaving,
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
    });
  }

  function save(field, options) {
    options = options || {};
    var state = stateOf(field);
    clearTimeout(state.timer);
    state.timer = null;
    if (state.sending !== null) {
      if (options.leaving && field.value !== state.sending) {
        send(field, field.value, { leaving: true, unchecked: true });
      }
      return; // saved again once the save on its way is answered
    }
    if (!unsaved(field)) return;
    clearTimeout(state.retry);
    state.retry = null;
    var text = field.value;
    state.sending = text;
    send(field, text, options).then(
      function (response) {
        return response.text().then(function (html) {
          answered(field, text, response, html);
        });
      },
      function () {
        failed(field);
      }
    );
  }

  function answered(field, text, response, html) {
    var state = stateOf(field);
    state.sending = null;
    if (response.status >= 500) {
      failed(field);
      return;
    }
    state.failures = 0;
    if (!response.ok) {
      // Refused for good (the actor was removed, no right to edit, ...): retrying is no use.
      state.refused = text;
      var plain = response.status === 400 && html.length < 500 && html.indexOf("<") === -1;
      notice(field, plain ? html : field.dataset.refused);
      return;
    }
    var fragment = document.createElement("template");
    fragment.innerHTML = html;
    var version = fragment.content.querySelector("input[name=version]");
    if (version) {
      var mine = byId(field.dataset.version);
      if (mine) mine.value = version.value;
      version.remove();
    }
    if (fragment.content.querySelector(".save-error")) {
      state.refused = text; // too long: the note says so, typing on tries again
    } else {
      // Saved, or somebody else's newer answer kept (.conflict-note): their text stays
      // on the server and the user's in the field; typing on saves it over theirs.
      state.saved = text;
      state.refused = null;
      triggerEvents(response.headers.get("HX-Trigger"));
    }
    showStatus(field, Array.from(fragment.content.childNodes));
    if (unsaved(field)) {
      state.timer = setTimeout(function () {
        save(field);
      }, DELAY);
    } else {
      typedIn.delete(field);
    }
  }

  function failed(field) {
    var state = stateOf(field);
    state.sending = null;
    state.failures += 1;
    notice(field, field.dataset.retrying);
    var pause = Math.min(RETRY_MAX, RETRY_FIRST * Math.pow(2, state.failures - 1));
    clearTimeout(state.retry);
    state.retry = setTimeout(function () {
      state.retry = null;
      save(field);
    }, pause);
  }

  document.addEventListener("input", function (evt) {
    var field = evt.target;
    if (!isAutosave(field)) return;
    var state = stateOf(field);
    typedIn.add(field);
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      save(field);
    }, DELAY);
  });

  // Leaving the field (clicking a button, another field) saves at once.
  document.addEventListener("change", function (evt) {
    if (isAutosave(evt.target)) save(evt.target);
  });

  // A region about to be replaced saves its fields first, so no typed text goes with it.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (!target) return;
    typedIn.forEach(function (field) {
      if (target.contains(field) && unsaved(field)) save(field);
    });
  });

  function saveAllBeforeLeaving() {
    typedIn.forEach(function (field) {
      if (unsaved(field)) save(field, { leaving: true });
    });
  }

  // The page goes away (reload, link, closed tab) or out of sight (a phone switching apps).
  window.addEventListener("pagehide", saveAllBeforeLeaving);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveAllBeforeLeaving();
  });
  // A save that failed and still waits for its retry: the browser asks before leaving.
  window.addEventListener("beforeunload", function (evt) {
    var failing = false;
    typedIn.forEach(function (field) {
      if (stateOf(field).retry !== null && unsaved(field)) failing = true;
    });
    saveAllBeforeLeaving();
    if (failing) evt.preventDefault();
  });
})();
