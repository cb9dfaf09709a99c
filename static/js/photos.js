/* Chợ HTX — photo uploads and the order of a product's photos.

   Progressive enhancement: every form on these pages works without this script (one photo per
   upload, the server shrinks it; "Lên"/"Xuống" buttons to reorder). With it:
   - form[data-upload]: choose several photos; each is shrunk in the browser (longest side at most
     2048 px, JPEG quality 0.85) and sent one after the other, with a progress bar — much less to
     send over a slow mobile link than a 12-megapixel original;
   - [data-photo-manager]: drag the ⠿ handle (mouse, finger or pen: Pointer Events, since the
     HTML drag-and-drop API does not work on touch screens) or focus it and use the arrow keys;
     the new order is saved at once.
   Texts come from data-msg-* attributes, translated on the server. */
(function () {
  "use strict";

  var MAX_SIDE = 2048;
  var QUALITY = 0.85;
  /* A file this small and this narrow is sent as it is: re-encoding would only lose quality. */
  var SMALL_BYTES = 1.5 * 1024 * 1024;
  var ACCEPTED = /^image\/(jpeg|png|webp)$/;

  function text(element, key, values) {
    var template = element.getAttribute("data-msg-" + key) || "";
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  function csrfToken(scope) {
    var input = (scope || document).querySelector('input[name="csrf_token"]') ||
      document.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  /* ------------------------------------------------------------------ shrinking */

  function decode(file) {
    if (window.createImageBitmap) {
      /* "from-image" applies the EXIF orientation: the canvas copy has no EXIF left. */
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return createImageBitmap(file);
      });
    }
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function (error) { URL.revokeObjectURL(url); reject(error); };
      img.src = url;
    });
  }

  function toBlob(canvas) {
    return new Promise(function (resolve) {
      canvas.toBlob(resolve, "image/jpeg", QUALITY);
    });
  }

  /* A smaller JPEG of `file`, or `file` itself when it is small already or cannot be read here
     (the server then decides, and explains a refusal). */
  function shrink(file) {
    if (!ACCEPTED.test(file.type)) {
      return Promise.resolve(file);
    }
    return decode(file).then(function (picture) {
      var width = picture.naturalWidth || picture.width;
      var height = picture.naturalHeight || picture.height;
      var longest = Math.max(width, height);
      if (longest <= MAX_SIDE && file.size <= SMALL_BYTES) {
        if (picture.close) { picture.close(); }
        return file;
      }
      var scale = Math.min(1, MAX_SIDE / longest);
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      var context = canvas.getContext("2d");
      /* JPEG has no transparency: put transparent parts of a PNG on white, not black. */
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = "high";
      context.drawImage(picture, 0, 0, canvas.width, canvas.height);
      if (picture.close) { picture.close(); }
      return toBlob(canvas).then(function (blob) {
        canvas.width = canvas.height = 0;
        if (!blob || (blob.size >= file.size && longest <= MAX_SIDE)) {
          return file;
        }
        var name = (file.name || "anh").replace(/\.[^.]*$/, "") + ".jpg";
        try {
          return new File([blob], name, { type: "image/jpeg" });
        } catch (error) {
          blob.name = name;
          return blob;
        }
      });
    }).catch(function () {
      return file;
    });
  }

  /* ------------------------------------------------------------------ sending */

  function send(url, data, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", data.get("csrf_token") || "");
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (event) {
          if (event.lengthComputable) { onProgress(event.loaded / event.total); }
        };
      }
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (error) { body = null; }
        resolve({ status: xhr.status, body: body });
      };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () {
        resolve({ status: 0, body: null });
      };
      xhr.send(data);
    });
  }

  function problem(element, answer) {
    if (answer.body && answer.body.message) { return answer.body.message; }
    if (answer.status === 0) { return text(element, "network"); }
    return text(element, "failed", { code: answer.status });
  }

  /* Replace the part of the page that lists the photos with a fresh copy from the server. */
  function refresh(selector) {
    return fetch(window.location.pathname + window.location.search, {
      headers: { Accept: "text/html" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(selector);
      var current = document.querySelector(selector);
      if (fresh && current) {
        current.innerHTML = fresh.innerHTML;
        document.dispatchEvent(new CustomEvent("photos:refreshed"));
      }
    });
  }

  /* Load `url`; one that differs from this page only by its #fragment would not reload. */
  function go(url) {
    var target = new URL(url, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      here.hash = target.hash;
      here.reload();
    } else {
      here.assign(target.href);
    }
  }

  /* ------------------------------------------------------------------ uploads */

  function enhanceUpload(form) {
    var input = form.querySelector('input[type="file"]');
    if (!input || !window.FormData || !window.XMLHttpRequest) { return; }
    var box = form.querySelector("[data-upload-progress]");
    var bar = box && box.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var error = form.querySelector("[data-upload-error]");
    var button = form.querySelector('button[type="submit"], button:not([type])');
    var busy = false;

    function room() { return parseInt(form.getAttribute("data-room") || "1", 10); }
    if (room() > 1) { input.multiple = true; }

    function say(message) { if (status) { status.textContent = message; } }
    function fail(message) {
      if (!error) { return; }
      var line = document.createElement("span");
      line.className = "upload-problem";
      line.textContent = message;
      error.appendChild(line);
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
    }
    function clearErrors() {
      if (!error) { return; }
      error.textContent = "";
      error.hidden = true;
      input.removeAttribute("aria-invalid");
    }
    function progress(value) {
      if (!bar) { return; }
      if (value === null) { bar.removeAttribute("value"); } else { bar.value = value; }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) { return; }
      var files = Array.prototype.slice.call(input.files || []);
      clearErrors();
      if (!files.length) {
        fail(text(form, "choose"));
        input.focus();
        return;
      }
      var total = files.length;
      if (total > room()) {
        fail(text(form, "no-room", { n: room() }));
        files = files.slice(0, room());
      }
      busy = true;
      if (button) { button.disabled = true; }
      if (box) { box.hidden = false; }
      progress(0);
      var sent = 0;
      var last = null;

      var chain = Promise.resolve();
      files.forEach(function (file, index) {
        chain = chain.then(function () {
          var values = { n: index + 1, total: files.length };
          say(text(form, "preparing", values));
          progress(null);
          return shrink(file).then(function (small) {
            say(text(form, "uploading", values));
            progress((index / files.length) * 100);
            var data = new FormData();
            data.append("csrf_token", csrfToken(form));
            data.append("photo", small, small.name || file.name || "anh.jpg");
            return send(form.action, data, function (fraction) {
              progress(((index + fraction) / files.length) * 100);
            });
          }).then(function (answer) {
            if (answer.status >= 200 && answer.status < 300 && answer.body && answer.body.ok) {
              sent += 1;
              last = answer.body;
            } else {
              fail((file.name ? file.name + ": " : "") + problem(form, answer));
            }
          });
        });
      });

      chain.then(function () {
        progress(100);
        say(text(form, "done", { n: sent, total: files.length }));
        if (!sent) { return null; }
        if (last && last.redirect && !form.hasAttribute("data-refresh")) {
          go(last.redirect);
          return null;
        }
        if (last && typeof last.room === "number") {
          form.setAttribute("data-room", String(last.room));
          input.multiple = last.room > 1;
        }
        return refresh(form.getAttribute("data-refresh"));
      }).catch(function () {
        fail(text(form, "network"));
      }).then(function () {
        busy = false;
        if (button) { button.disabled = false; }
        input.value = "";
      });
    });
  }

  /* ------------------------------------------------------------------ order */

  function enhanceOrder(manager) {
    var orderStatus = document.querySelector("[data-order-status]");
    var saving = Promise.resolve();
    var keyTimer = null;
    var drag = null;

    function list() { return manager.querySelector("[data-photo-list]"); }
    function items() {
      var root = list();
      return root ? Array.prototype.slice.call(root.querySelectorAll(":scope > [data-image-id]")) : [];
    }
    function ids() {
      return items().map(function (item) { return item.getAttribute("data-image-id"); });
    }
    var quiet = null;
    function say(message) {
      if (!orderStatus) { return; }
      orderStatus.textContent = message;
      window.clearTimeout(quiet);
      quiet = window.setTimeout(function () { orderStatus.textContent = ""; }, 5000);
    }

    function prepare() {
      manager.querySelectorAll("[data-drag-handle]").forEach(function (handle) {
        handle.hidden = false;
      });
    }

    manager.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-confirm-remove]") : null;
      if (button && !window.confirm(text(manager, "confirm-remove"))) { event.preventDefault(); }
    });

    function renumber() {
      items().forEach(function (item, index) {
        item.querySelectorAll("[data-photo-number]").forEach(function (span) {
          span.textContent = String(index + 1);
        });
      });
    }

    function save() {
      var order = ids();
      saving = saving.then(function () {
        var data = new FormData();
        data.append("csrf_token", csrfToken(manager));
        order.forEach(function (id) { data.append("order", id); });
        return send(manager.getAttribute("data-order-url"), data).then(function (answer) {
          if (answer.status >= 200 && answer.status < 300) {
            say(text(manager, "order-saved"));
            return null;
          }
          say(answer.body && answer.body.message ? answer.body.message : text(manager, "order-failed"));
          return refresh("[data-photo-region]");
        });
      });
      return saving;
    }

    /* ---- pointer: mouse, touch and pen alike */

    function place() {
      var item = drag.item;
      item.style.transform = "";
      var hits = document.elementsFromPoint(drag.x, drag.y);
      for (var i = 0; i < hits.length; i += 1) {
        var other = hits[i].closest ? hits[i].closest("[data-image-id]") : null;
        if (other && other !== item && other.parentNode === item.parentNode) {
          var all = items();
          if (all.indexOf(other) > all.indexOf(item)) {
            other.parentNode.insertBefore(item, other.nextSibling);
          } else {
            other.parentNode.insertBefore(item, other);
          }
          break;
        }
      }
      var rect = item.getBoundingClientRect();
      item.style.transform = "translate(" + (drag.x - drag.dx - rect.left) + "px, " +
        (drag.y - drag.dy - rect.top) + "px)";
    }

    function autoscroll() {
      if (!drag) { return; }
      var edge = 56;
      var step = 0;
      if (drag.y < edge) { step = -Math.ceil((edge - drag.y) / 4); }
      else if (drag.y > window.innerHeight - edge) {
        step = Math.ceil((drag.y - (window.innerHeight - edge)) / 4);
      }
      if (step) {
        window.scrollBy(0, step);
        place();
      }
      drag.frame = window.requestAnimationFrame(autoscroll);
    }

    function onMove(event) {
      if (!drag || event.pointerId !== drag.pointerId) { return; }
      event.preventDefault();
      drag.x = event.clientX;
      drag.y = event.clientY;
      place();
    }

    function onEnd(event) {
      if (!drag || event.pointerId !== drag.pointerId) { return; }
      var finished = drag;
      drag = null;
      window.cancelAnimationFrame(finished.frame);
      finished.handle.removeEventListener("pointermove", onMove);
      finished.handle.removeEventListener("pointerup", onEnd);
      finished.handle.removeEventListener("pointercancel", onEnd);
      finished.item.style.transform = "";
      finished.item.classList.remove("is-dragging");
      document.documentElement.classList.remove("is-sorting");
      if (ids().join() !== finished.before) {
        renumber();
        save();
      }
    }

    manager.addEventListener("pointerdown", function (event) {
      var handle = event.target.closest ? event.target.closest("[data-drag-handle]") : null;
      if (!handle || drag || (event.pointerType === "mouse" && event.button !== 0)) { return; }
      var item = handle.closest("[data-image-id]");
      if (!item) { return; }
      event.preventDefault();
      var rect = item.getBoundingClientRect();
      drag = {
        item: item,
        handle: handle,
        pointerId: event.pointerId,
        dx: event.clientX - rect.left,
        dy: event.clientY - rect.top,
        x: event.clientX,
        y: event.clientY,
        before: ids().join(),
        frame: 0
      };
      try { handle.setPointerCapture(event.pointerId); } catch (error) { /* already released */ }
      handle.addEventListener("pointermove", onMove);
      handle.addEventListener("pointerup", onEnd);
      handle.addEventListener("pointercancel", onEnd);
      item.classList.add("is-dragging");
      document.documentElement.classList.add("is-sorting");
      drag.frame = window.requestAnimationFrame(autoscroll);
    });

    /* ---- keyboard: arrow keys on a focused handle */

    manager.addEventListener("keydown", function (event) {
      var handle = event.target.closest ? event.target.closest("[data-drag-handle]") : null;
      if (!handle) { return; }
      var item = handle.closest("[data-image-id]");
      var all = items();
      var index = all.indexOf(item);
      var target = null;
      if (event.key === "ArrowUp" || event.key === "ArrowLeft") { target = index - 1; }
      else if (event.key === "ArrowDown" || event.key === "ArrowRight") { target = index + 1; }
      else if (event.key === "Home") { target = 0; }
      else if (event.key === "End") { target = all.length - 1; }
      else { return; }
      event.preventDefault();
      if (target < 0 || target >= all.length || target === index) { return; }
      if (target < index) {
        item.parentNode.insertBefore(item, all[target]);
      } else {
        item.parentNode.insertBefore(item, all[target].nextSibling);
      }
      handle.focus();
      renumber();
      say(text(manager, "moved", { position: target + 1, total: all.length }));
      /* Several presses in a row are saved once. */
      window.clearTimeout(keyTimer);
      keyTimer = window.setTimeout(save, 500);
    });

    document.addEventListener("photos:refreshed", prepare);
    prepare();
  }

  /* ------------------------------------------------------------------ start */

  document.querySelectorAll("form[data-upload]").forEach(enhanceUpload);
  document.querySelectorAll("[data-photo-manager]").forEach(enhanceOrder);
})();
