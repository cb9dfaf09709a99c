/* The progress of a product import (templates/bulk/products_progress.html): poll its JSON every
   2 seconds and move the bar without reloading; reload once the import has finished.
   Without this script the page refreshes itself (a <noscript> meta refresh). */
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box || !window.fetch) {
    return;
  }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-import-text]");
  var template = box.getAttribute("data-msg-running") || "{done}/{total}";

  function show(data) {
    bar.max = Math.max(1, data.total);
    bar.value = data.done;
    text.textContent = template.replace("{done}", data.done).replace("{total}", data.total);
  }

  function poll() {
    fetch(box.getAttribute("data-url"), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        if (data.status !== "running") {
          window.location.reload();
          return;
        }
        show(data);
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 2000);
})();
