/* Chợ HTX — count clicks on a cooperative's call and Zalo links (shop/reports/contacts.py).
   The links are ordinary tel: and Zalo links: without this script they work the same and are
   simply not counted. The page may include the script more than once (one per contact list);
   it listens once, on the document. */
(function () {
  "use strict";

  if (window.choHtxContactCount || !navigator.sendBeacon || !window.FormData) { return; }
  window.choHtxContactCount = true;

  function send(event) {
    var link = event.target.closest ? event.target.closest("a[data-contact]") : null;
    var list = link && link.closest("[data-count-url]");
    if (!list) { return; }
    if (event.type === "auxclick" && event.button !== 1) { return; }
    var body = new FormData();
    body.append("csrf_token", list.getAttribute("data-csrf") || "");
    body.append("tag", list.getAttribute("data-count") || "");
    try {
      navigator.sendBeacon(list.getAttribute("data-count-url"), body);
    } catch (error) {
      /* Counting must never get in the way of the call. */
    }
  }

  document.addEventListener("click", send);
  document.addEventListener("auxclick", send);
})();
