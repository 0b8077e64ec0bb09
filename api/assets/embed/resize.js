(function () {
  "use strict";
  // Tells the page that framed this one how tall it is, and its title, whenever either
  // changes. Only a number and a title, nothing read from the page around it (this document
  // cannot read it: it runs sandboxed, with an opaque origin). Sent to any origin because it
  // is not told which page framed it: that page's loader checks the message came from its
  // own frame (event.source) before it uses it.
  if (window.parent === window) return;
  var last = -1;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "actiondir:height", height: height, title: document.title }, "*");
  }
  new ResizeObserver(report).observe(document.documentElement);
  report();
})();
