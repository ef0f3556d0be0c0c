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

  // Optional: a short tone and a desktop notification for a new incident, once the duty
  // officer turned them on (browsers allow sound and notifications only after a click).
  var audio = null;

  function alertsOn() {
    try { return window.localStorage.getItem("yuqing-alerts") === "on"; } catch (e) { return false; }
  }

  function beep() {
    if (!audio) { return; }
    var osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain); gain.connect(audio.destination);
    osc.start(); osc.stop(audio.currentTime + 0.6);
  }

  function announce() {
    if (!alertsOn()) { return; }
    beep();
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification("舆情值班台", { body: "有新的舆情事件" }); } catch (e) { /* ignore */ }
    }
  }

  function setupAlerts() {
    var button = document.getElementById("alerts-on");
    if (!button) { return; }
    button.hidden = false;
    function show() { button.textContent = alertsOn() ? "新事件提醒已开启（点击关闭）" : "开启新事件提醒（声音和桌面通知）"; }
    show();
    button.addEventListener("click", function () {
      var on = !alertsOn();
      try { window.localStorage.setItem("yuqing-alerts", on ? "on" : "off"); } catch (e) { /* ignore */ }
      if (on) {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx && !audio) { audio = new Ctx(); }
        if (window.Notification && Notification.permission === "default") { Notification.requestPermission(); }
        beep();
      }
      show();
    });
    // Turned on in an earlier visit: the tone needs this page's first click to be allowed.
    document.addEventListener("click", function unlock() {
      document.removeEventListener("click", unlock);
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (alertsOn() && Ctx && !audio) { audio = new Ctx(); }
    });
  }

  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    readNow(document);
    tick();
    setInterval(tick, 1000);
    setupAlerts();
    if (document.querySelector("[data-live]") && window.EventSource) {
      var es = new EventSource("/events");
      es.addEventListener("change", refresh);
      document.documentElement.setAttribute("data-events", "on");
    }
  });
})();
