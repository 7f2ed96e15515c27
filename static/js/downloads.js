// Downloads that take a while (the chain's PDF report and PNG diagram are built within a
// time limit, chain/exports.py): the link says "Preparing the PDF…" until the file has
// arrived, and when the server could not build it, its reason shows at the top of the page.
// A link opts in with data-preparing="<label while building>"; its nearest
// [data-download-failed] says what to show when the connection fails. Without JavaScript
// the link downloads as before. A file of its own: the Content-Security-Policy forbids
// inline script.
(function () {
  "use strict";

  function fileName(response, link) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : link.getAttribute("download") || "download";
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = name;
    anchor.hidden = true;
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    // Revoked later: some browsers read the blob only after the click has returned.
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function showError(text) {
    window.chainmapShowError(text); // static/js/app.js, loaded before this file
  }

  // The server's sentence from its error page (templates/chain/export_failed.html).
  function reason(html, fallback) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var sentence = page.querySelector("[data-export-error]");
    return sentence ? sentence.textContent.trim() : fallback;
  }

  document.addEventListener("click", function (evt) {
    var link = evt.target.closest ? evt.target.closest("a[data-preparing]") : null;
    if (!link || evt.defaultPrevented || evt.button !== 0) { return; }
    if (evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.altKey) { return; }
    evt.preventDefault();
    if (link.getAttribute("aria-busy") === "true") { return; } // already on its way
    var holder = link.closest("[data-download-failed]");
    var failed = holder ? holder.getAttribute("data-download-failed") : "";
    var label = link.textContent;
    link.setAttribute("aria-busy", "true");
    link.classList.add("preparing");
    link.textContent = link.getAttribute("data-preparing");
    fetch(link.href, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (html) { showError(reason(html, failed)); });
        }
        return response.blob().then(function (blob) { save(blob, fileName(response, link)); });
      })
      .catch(function () { showError(failed); })
      .finally(function () {
        link.textContent = label;
        link.classList.remove("preparing");
        link.removeAttribute("aria-busy");
      });
  });
})();
