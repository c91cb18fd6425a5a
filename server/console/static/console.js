// flowc console: the pages work without this file. It moves the
// keyboard focus to a source line when a graph node or a diagnostic
// links to it, so a screen reader reads the line.
"use strict";
function focusLine() {
  var id = decodeURIComponent(location.hash.slice(1));
  if (!/^L[0-9]+$/.test(id)) return;
  var line = document.getElementById(id);
  if (!line) return;
  line.setAttribute("tabindex", "-1");
  line.focus();
}
window.addEventListener("hashchange", focusLine);
document.addEventListener("DOMContentLoaded", focusLine);
