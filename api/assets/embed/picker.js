(function () {
  "use strict";
  // The picker: builds the paste-in tag from the form, shows it, and shows it working (the
  // preview runs the very tag a partner copies). The form is never submitted.
  var form = document.getElementById("picker");
  var snippet = document.getElementById("snippet");
  var preview = document.getElementById("preview");
  var copy = document.getElementById("copy");
  var copied = document.getElementById("copied");
  var NAMES = ["country", "lang", "kind", "theme", "limit"];
  var loader = new URL("/embed/v1/widget.js", location.href).href;
  var page = new URL("/embed/v1/listings", location.href);

  function chosen() {
    var values = [];
    for (var i = 0; i < NAMES.length; i++) {
      var field = form.elements.namedItem(NAMES[i]);
      if (field && field.value && field.value !== field.getAttribute("data-default")) values.push([NAMES[i], field.value]);
    }
    return values;
  }

  function attribute(value) {
    return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function render() {
    var values = chosen();
    var href = new URL(page.href);
    var data = "";
    for (var i = 0; i < values.length; i++) {
      href.searchParams.set(values[i][0], values[i][1]);
      data += " data-" + values[i][0] + '="' + attribute(values[i][1]) + '"';
    }
    var text = form.elements.namedItem("link_text").value || "Ways to help";
    snippet.textContent =
      '<a href="' + attribute(href.href) + '" target="_blank" rel="noopener noreferrer">' + attribute(text) + "</a>\n" +
      '<script src="' + attribute(loader) + '"' + data + ' referrerpolicy="no-referrer" async></' + "script>";

    // The same tag, live.
    var link = document.createElement("a");
    link.href = href.href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = text;
    var script = document.createElement("script");
    script.src = loader;
    for (var j = 0; j < values.length; j++) script.setAttribute("data-" + values[j][0], values[j][1]);
    script.referrerPolicy = "no-referrer";
    script.async = true;
    preview.replaceChildren(link, script);
    copied.textContent = "";
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); render(); });
  form.addEventListener("change", render);
  form.addEventListener("input", render);
  copy.addEventListener("click", function () {
    var done = function () { copied.textContent = "Copied."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(snippet.textContent).then(done, function () { copied.textContent = "Select the code and copy it."; });
    } else {
      var range = document.createRange();
      range.selectNodeContents(snippet);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copied.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
    }
  });
  copy.hidden = false;
  render();
})();
