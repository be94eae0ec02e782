// The feedback page tells the server the student has opened it (page views write nothing).
// A release can be withdrawn only until then, so this is sent once, as soon as the page loads.
(function () {
  "use strict";
  var form = document.getElementById("seen-form");
  if (!form) return;
  var data = new FormData(form);
  var sent = navigator.sendBeacon && navigator.sendBeacon(form.action, data);
  if (!sent) {
    window.fetch(form.action, { method: "POST", body: data, credentials: "same-origin", keepalive: true });
  }
})();
