/*! Action Directory embed loader, v1. Paste-in tag and parameters: docs/partners.md */
(function () {
  "use strict";
  // Each <script src=".../embed/v1/widget.js" data-country="RU" ...> becomes one widget: a
  // sandboxed frame of the embed page, placed where the tag is. Several on one page are
  // independent: each run of this file looks after its own tag and its own frame.
  var script = document.currentScript;
  if (!script || !script.src) return;

  var PARAMETERS = ["country", "kind", "topic", "lang", "limit", "theme"];
  var SANDBOX = "allow-scripts allow-popups allow-popups-to-escape-sandbox";
  var DEFAULT_HEIGHT = 360;
  var MIN_HEIGHT = 60;
  var MAX_HEIGHT = 20000;

  // The embed page lives beside this file, wherever it is served from.
  var page = new URL("listings", script.src);
  // Only the tag's own data-* values are sent: nothing about the page it sits in.
  for (var i = 0; i < PARAMETERS.length; i++) {
    var value = script.getAttribute("data-" + PARAMETERS[i]);
    if (value) page.searchParams.set(PARAMETERS[i], value);
  }

  var frame = document.createElement("iframe");
  frame.src = page.href;
  frame.title = script.getAttribute("data-title") || "Ways to help (Action Directory)";
  frame.setAttribute("sandbox", SANDBOX);
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.setAttribute("loading", "lazy");
  frame.height = String(DEFAULT_HEIGHT);
  frame.width = "100%";
  frame.style.display = "block";
  frame.style.width = "100%";
  frame.style.border = "0";

  // Link first: a plain link to the embed page just before the tag works without this
  // file; it stays until the frame has shown it runs, then the frame takes its place.
  var link = script.previousElementSibling;
  if (!link || link.tagName !== "A" || link.href.indexOf(new URL("listings", script.src).href) !== 0) link = null;
  script.parentNode.insertBefore(frame, script);

  window.addEventListener("message", function (event) {
    // Only this frame's own messages. Its page runs sandboxed without allow-same-origin, so
    // the browser gives it an opaque origin, which messages carry as exactly "null"; the
    // source check is what tells this frame from any other.
    if (event.source !== frame.contentWindow || event.origin !== "null") return;
    var data = event.data;
    if (!data || data.type !== "actiondir:height" || typeof data.height !== "number" || !isFinite(data.height)) return;
    frame.height = String(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(data.height))));
    if (typeof data.title === "string" && data.title && !script.getAttribute("data-title")) {
      frame.title = data.title.slice(0, 200);
    }
    if (link) {
      link.style.display = "none";
      link = null;
    }
  });
})();
