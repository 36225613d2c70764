// Progress widget: polls a job's JSON status until it is done or failed.
(function () {
  "use strict";
  function poll(widget) {
    var url = widget.getAttribute("data-job-status-url");
    var part = function (role) { return widget.querySelector('[data-role="' + role + '"]'); };
    function update(s) {
      part("status").textContent = s.status_label;
      part("message").textContent = s.message || "";
      part("bar").value = s.progress;
      part("bar").textContent = s.progress + "%";
      if (s.error) {
        part("error").textContent = s.error;
        part("error").classList.remove("d-none");
      }
      if (s.status === "done") {
        part("done").classList.remove("d-none");
      }
      return s.finished;
    }
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s && update(s)) {
            if (s.status === "done" && !part("result")) { window.location.reload(); }
            return;
          }
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    tick();
  }
  document.querySelectorAll("[data-job-status-url]").forEach(poll);
})();
