// flowc console, live updates without reloading: the agents' workspace
// and the admins' queues page. The page works without this file (reload
// to see changes). With it, the page listens to its event stream (the
// data-events of its element that has one: server-sent events from
// /ui/workspace/events or /ui/queues/events) and, on each "change",
// fetches the page again and swaps its live parts ([data-live] with an
// id), leaving the forms, and what is typed in them, alone.
"use strict";
(function () {
  var root = document.querySelector("[data-events]");
  if (!root || !root.dataset.events || !window.EventSource) return;
  var live = document.getElementById("ws-live");
  var busy = false, again = false;
  function say(text) { if (live) live.textContent = text; }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (res) {
      if (res.status === 403 || res.status === 404) {
        return res.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var why = doc.querySelector("main [role=alert]");
          say("This conversation changed: " + (why ? why.textContent : res.status) + " ");
          var back = document.createElement("a");
          back.href = "/ui/workspace";
          back.textContent = "Back to my queue";
          live.appendChild(back);
          root.querySelectorAll("form").forEach(function (f) { f.hidden = true; });
          stream.close();
        });
      }
      if (!res.ok) throw new Error(String(res.status));
      return res.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) el.replaceWith(document.importNode(fresh, true));
        });
        say("Updated at " + new Date().toLocaleTimeString() + ".");
      });
    }).catch(function () {
      say("Could not fetch the update; reload the page.");
    }).finally(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }
  var stream = new EventSource(root.dataset.events);
  stream.addEventListener("change", refresh);
  stream.addEventListener("open", function () { root.dataset.connected = "true"; });
  stream.addEventListener("error", function () {
    if (stream.readyState === EventSource.CLOSED) say("Live updates stopped (signed out?); reload the page.");
  });
})();
