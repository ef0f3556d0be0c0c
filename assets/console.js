// 舆情值班台: the only script. Countdowns tick every second, counted from the server's own
// clock (data-now) so that a phone whose clock is wrong still shows the statutory time
// left; server-sent events (/events) tell the page the store changed, and the page's live
// part is fetched again and swapped in. Without this script every page still works.
(function () {
  "use strict";
  var offset = 0; // server time minus this browser's time, in seconds

  function readNow(root) {
    var el = root.querySelector("[data-now]");
    if (el) {
      offset = parseInt(el.getAttribute("data-now"), 10) - Date.now() / 1000;
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function text(left) {
    var s = Math.abs(left), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60), sec = s % 60;
    var clock = d > 0 ? d + "天 " + pad(h) + ":" + pad(m) + ":" + pad(sec) : h + ":" + pad(m) + ":" + pad(sec);
    return (left < 0 ? "已超时 " : "剩余 ") + clock;
  }

  function tick() {
    var now = Math.floor(Date.now() / 1000 + offset);
    var all = document.querySelectorAll(".countdown[data-due]");
    for (var i = 0; i < all.length; i++) {
      var left = parseInt(all[i].getAttribute("data-due"), 10) - now;
      all[i].textContent = text(left);
      all[i].classList.remove("ok", "soon", "overdue");
      all[i].classList.add(left < 0 ? "overdue" : left < 3600 ? "soon" : "ok");
    }
  }

  function refresh() {
    if (!document.querySelector("[data-live]")) { return; }
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var before = document.querySelectorAll("[data-incident]").length;
        var parts = document.querySelectorAll("[data-live]");
        for (var i = 0; i < parts.length; i++) {
          var fresh = parts[i].id && doc.getElementById(parts[i].id);
          if (fresh) { parts[i].replaceWith(document.adoptNode(fresh)); }
        }
        readNow(document);
        tick();
        if (document.querySelectorAll("[data-incident]").length > before) { announce(); }
      })
      .catch(function () { /* the next event tries again */ });
  }

  function announce() {
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification("舆情值班台", { body: "有新的舆情事件" }); } catch (e) { /* ignore */ }
    }
  }

  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    readNow(document);
    tick();
    setInterval(tick, 1000);
    if (document.querySelector("[data-live]") && window.EventSource) {
      var es = new EventSource("/events");
      es.addEventListener("change", refresh);
      document.documentElement.setAttribute("data-events", "on");
    }
  });
})();
