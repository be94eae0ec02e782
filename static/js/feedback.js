// Crisis Classroom: the student's feedback page. The DIRT response autosaves a couple of
// seconds after typing stops (revision check: 409 if another tab changed it) and keeps a
// copy in localStorage until the server has it. Without this file the Save and Submit
// buttons are ordinary POSTs.
(function () {
  "use strict";

  var IDLE_MS = 2000;
  var form = document.getElementById("dirt-form");
  if (!form) return;
  var box = form.querySelector("textarea[name=text]");
  var baseInput = form.querySelector("input[name=base_revision]");
  var statusEl = document.getElementById("dirt-status");
  var conflictEl = document.getElementById("dirt-conflict");
  var url = form.getAttribute("data-autosave-url");
  var key = form.getAttribute("data-key");
  var savedText = box.value;
  var timer = null;
  var inFlight = null;
  var blocked = false;

  function setStatus(text) { statusEl.textContent = text; }

  function keepLocal() {
    try {
      window.localStorage.setItem(key, JSON.stringify({ text: box.value, base: baseInput.value }));
    } catch (error) {
      // ignore: the server save still runs
    }
  }

  function clearLocalIf(text) {
    try {
      var local = JSON.parse(window.localStorage.getItem(key) || "null");
      if (local && local.text === text) window.localStorage.removeItem(key);
    } catch (error) {
      // ignore
    }
  }

  function save() {
    if (timer) { window.clearTimeout(timer); timer = null; }
    if (blocked || box.value === savedText) return Promise.resolve(null);
    if (inFlight) return inFlight.then(save);
    var text = box.value;
    var body = new URLSearchParams();
    body.set("text", text);
    body.set("base_revision", baseInput.value);
    setStatus("Saving…");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    inFlight = window
      .fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token, Accept: "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") === -1) {
          setStatus("Not saved — your session has ended; your text is kept on this device");
          return null;
        }
        return response.json().then(function (data) {
          if (response.ok) {
            baseInput.value = String(data.revision);
            savedText = text;
            clearLocalIf(text);
            setStatus("Saved " + data.saved_at_display);
          } else if (response.status === 409) {
            blocked = true;
            conflictEl.hidden = false;
            setStatus(data.submitted ? "Already submitted" : "Not saved — changed in another tab");
          } else {
            setStatus("Not saved — " + (data.error || "the server refused the save"));
          }
        });
      })
      .catch(function () { setStatus("Offline — kept on this device"); })
      .then(function () { inFlight = null; });
    return inFlight;
  }

  try {
    var local = JSON.parse(window.localStorage.getItem(key) || "null");
    if (local && local.base === baseInput.value && local.text !== box.value) {
      box.value = local.text;
      setStatus("Unsaved text restored from this device — saving…");
      timer = window.setTimeout(save, 500);
    }
  } catch (error) {
    // ignore
  }

  box.addEventListener("input", function () {
    keepLocal();
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(save, IDLE_MS);
  });
  box.addEventListener("blur", function () { save(); });
  form.addEventListener("submit", function () {
    if (timer) window.clearTimeout(timer);
    // The POST carries the text; the server's answer replaces the page.
    savedText = box.value;
  });
})();
