// Light progressive enhancement; every page reads and works without it.
// 1. Policy editor: validate as you type (POSTs the YAML, shows the server's verdict).
// 2. Countdowns: tick every second from data-left (seconds left when the server rendered it;
//    the server's clock may be a replay clock, so the browser's own date is not used).
(function () {
  "use strict";
  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }
  document.querySelectorAll("textarea[data-validate]").forEach(function (area) {
    var target = document.getElementById(area.getAttribute("data-target"));
    var form = area.form;
    var check = debounce(function () {
      var body = new URLSearchParams();
      body.set("source", area.value);
      body.set("csrf", form.querySelector("input[name=csrf]").value);
      fetch(area.getAttribute("data-validate"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" }
      }).then(function (r) { return r.text(); })
        .then(function (html) { target.innerHTML = html; })
        .catch(function () { /* the server checks again on submit */ });
    }, 400);
    area.addEventListener("input", check);
  });
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  var clocks = document.querySelectorAll("[data-left]");
  var loaded = performance.now();
  if (clocks.length) {
    var tick = function () {
      clocks.forEach(function (el) {
        var left = Math.floor(Number(el.getAttribute("data-left")) -
          (performance.now() - loaded) / 1000);
        if (left <= 0) { return; }
        var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600),
            m = Math.floor(left % 3600 / 60), s = left % 60;
        var fmt = new Intl.NumberFormat(document.documentElement.lang);
        el.textContent = fmt.format(d) + " " + el.getAttribute("data-days") + " " +
          fmt.format(h) + ":" + pad(m) + ":" + pad(s);
      });
    };
    tick();
    setInterval(tick, 1000);
  }
})();
