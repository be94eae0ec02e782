// Crisis Classroom: the essay writing page.
//
// The page works without this file (Save draft and Submit… are ordinary POST forms). With
// it: a live word count, autosave a couple of seconds after typing stops, on leaving the
// box and on leaving the page, a copy of every unsaved change in localStorage until the
// server confirms that exact text, a clear message when another tab changed the essay,
// tabs for the sources on narrow screens, and the countdown of a timed essay.
(function () {
  "use strict";

  var IDLE_MS = 2000;
  var RETRY_MS = 15000;

  // --- Tabs on narrow screens (sources beside the essay on wide ones: CSS only) ---------
  var layout = document.getElementById("writing-layout");
  if (layout) {
    var tabs = layout.querySelectorAll('[role="tab"]');
    var selectTab = function (tab) {
      tabs.forEach(function (other) {
        var selected = other === tab;
        other.setAttribute("aria-selected", selected ? "true" : "false");
        other.classList.toggle("active", selected);
        other.tabIndex = selected ? 0 : -1;
        var pane = document.getElementById(other.getAttribute("aria-controls"));
        if (pane) pane.classList.toggle("is-active", selected);
      });
    };
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { selectTab(tab); });
      tab.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        var next = tabs[(index + step + tabs.length) % tabs.length];
        selectTab(next);
        next.focus();
      });
    });
    layout.classList.add("tabs-ready");
  }

  var form = document.getElementById("essay-form");
  if (!form) return;

  var box = form.querySelector("textarea[name=text]");
  var baseInput = form.querySelector("input[name=base_revision]");
  var statusEl = document.getElementById("save-status");
  var countEl = document.getElementById("word-count-number");
  var pluralEl = document.getElementById("word-count-plural");
  var conflictEl = document.getElementById("conflict-dialog");
  var sessionEl = document.getElementById("session-alert");
  var restoredEl = document.getElementById("restored-alert");
  var autosaveUrl = form.getAttribute("data-autosave-url");
  var storageKey = "essay:" + form.getAttribute("data-user") + ":" + form.getAttribute("data-assignment");

  var revision = parseInt(baseInput.value, 10) || 0;
  var savedText = box.value; // what the server holds at `revision`
  var inFlight = null; // the running save's promise
  var idleTimer = null;
  var retryTimer = null;
  var blocked = false; // a conflict or a closed essay: wait for the student
  // While the page is being left, a save's answer may arrive after the next page has read
  // the server's (older) text: keep the local copy so that page can reconcile from it.
  var leaving = false;
  var submitting = false;

  // Mirrors count_words() in classroom/models.py: runs of non-space holding a letter or digit.
  function countWords(text) {
    var count = 0;
    text.split(/\s+/).forEach(function (token) {
      if (/[\p{L}\p{N}]/u.test(token)) count += 1;
    });
    return count;
  }

  function showCount() {
    var words = countWords(box.value);
    countEl.textContent = String(words);
    pluralEl.textContent = words === 1 ? "" : "s";
  }

  function setStatus(text) {
    statusEl.textContent = text;
  }

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- The local copy ---------------------------------------------------------------
  function readLocal() {
    try {
      var raw = window.localStorage.getItem(storageKey);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function keepLocal() {
    try {
      window.localStorage.setItem(
        storageKey,
        JSON.stringify({ text: box.value, base: revision, at: Date.now() })
      );
    } catch (error) {
      // Storage full or disabled: the server save still runs.
    }
  }

  function clearLocalIf(text) {
    if (leaving) return;
    var local = readLocal();
    if (local && local.text === text) {
      try {
        window.localStorage.removeItem(storageKey);
      } catch (error) {
        // ignore
      }
    }
  }

  // --- Saving -----------------------------------------------------------------------
  function setRevision(value) {
    revision = value;
    baseInput.value = String(value);
  }

  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      save();
    }, RETRY_MS);
  }

  function closeEssay(message) {
    blocked = true;
    box.readOnly = true;
    setStatus(message);
  }

  function showConflict(data) {
    blocked = true;
    conflictEl.hidden = false;
    document.getElementById("conflict-other-text").textContent = data.text;
    conflictEl.dataset.revision = String(data.revision);
    conflictEl.dataset.text = data.text;
    setStatus("Not saved — this essay was changed in another tab or device");
    document.getElementById("conflict-keep").focus();
  }

  // Typing went on during the save: the local copy now builds on the new revision.
  function afterSave() {
    if (box.value !== savedText) {
      keepLocal();
      schedule();
    }
  }

  function handleResponse(response, sentText) {
    var type = response.headers.get("Content-Type") || "";
    if (response.redirected || type.indexOf("application/json") === -1) {
      // Sent to the login page: the session has ended. The local copy stays.
      sessionEl.hidden = false;
      setStatus("Not saved — your session has ended; your text is kept on this device");
      return null;
    }
    return response.json().then(function (data) {
      if (response.ok) {
        setRevision(data.revision);
        savedText = sentText;
        clearLocalIf(sentText);
        sessionEl.hidden = true;
        setStatus("Saved " + data.saved_at_display);
        afterSave();
      } else if (response.status === 409 && data.state && ["not_started", "draft", "returned"].indexOf(data.state) === -1) {
        closeEssay("Already submitted — this essay can no longer be changed here. Reload the page to see it.");
      } else if (response.status === 409 && data.text === sentText) {
        // The server already has this exact text (e.g. a save sent while the page was
        // closing landed after the reload): not a real conflict, just catch up.
        setRevision(data.revision);
        savedText = sentText;
        clearLocalIf(sentText);
        setStatus("Saved " + new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }));
        afterSave();
      } else if (response.status === 409) {
        showConflict(data);
      } else {
        setStatus("Not saved — " + (data.error || "the server refused the save"));
      }
      return data;
    });
  }

  function save(options) {
    options = options || {};
    if (idleTimer) {
      window.clearTimeout(idleTimer);
      idleTimer = null;
    }
    if (blocked) return Promise.resolve(null);
    if (inFlight) {
      // Save again once the running save is done (its revision is the new base).
      return inFlight.then(function () { return save(options); });
    }
    var text = box.value;
    if (text === savedText) return Promise.resolve(null);
    keepLocal();
    var body = new URLSearchParams();
    body.set("text", text);
    body.set("base_revision", String(revision));
    setStatus("Saving…");
    inFlight = window
      .fetch(autosaveUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        // Browsers cap a keepalive request's body at 64 KB; a longer essay is still in localStorage.
        keepalive: Boolean(options.keepalive) && body.toString().length < 60000,
      })
      .then(function (response) {
        return handleResponse(response, text);
      })
      .catch(function () {
        setStatus("Offline — kept on this device");
        scheduleRetry();
        return null;
      })
      .then(function (result) {
        inFlight = null;
        return result;
      });
    return inFlight;
  }

  function schedule() {
    if (idleTimer) window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(save, IDLE_MS);
  }

  box.addEventListener("input", function () {
    showCount();
    keepLocal(); // even while a conflict waits for an answer
    if (!blocked) schedule();
  });
  box.addEventListener("blur", function () { save(); });
  document.addEventListener("visibilitychange", function () {
    leaving = document.visibilityState === "hidden";
    if (leaving) save({ keepalive: true });
  });
  window.addEventListener("pagehide", function () {
    leaving = true;
    if (!submitting) save({ keepalive: true });
  });
  window.addEventListener("pageshow", function () {
    leaving = false;
  });
  window.addEventListener("online", function () { save(); });

  // --- Conflict choices ---------------------------------------------------------------
  document.getElementById("conflict-keep").addEventListener("click", function () {
    // Save this tab's text over the other version, knowingly.
    setRevision(parseInt(conflictEl.dataset.revision, 10));
    savedText = conflictEl.dataset.text;
    conflictEl.hidden = true;
    blocked = false;
    save();
    box.focus();
  });
  document.getElementById("conflict-other").addEventListener("click", function () {
    setRevision(parseInt(conflictEl.dataset.revision, 10));
    savedText = conflictEl.dataset.text;
    box.value = savedText;
    try {
      window.localStorage.removeItem(storageKey);
    } catch (error) {
      // ignore
    }
    conflictEl.hidden = true;
    blocked = false;
    showCount();
    setStatus("Using the other version");
    box.focus();
  });

  // --- The form's own buttons: save first, so the POST is based on the latest version ---
  form.addEventListener("submit", function (event) {
    if (form.dataset.ready === "1") return;
    event.preventDefault();
    var submitter = event.submitter;
    save().then(function () {
      if (blocked) return;
      form.dataset.ready = "1";
      submitting = true;
      // With nothing left to save the promise settles while this submit event is still
      // being dispatched, and Chromium ignores requestSubmit() then: go on the next task.
      window.setTimeout(function () {
        if (form.requestSubmit) {
          form.requestSubmit(submitter);
        } else {
          form.submit();
        }
      }, 0);
    });
  });

  // --- On load: put back text that never reached the server --------------------------
  var local = readLocal();
  if (local && typeof local.text === "string" && local.text !== savedText) {
    box.value = local.text;
    if (typeof local.base === "number") setRevision(local.base);
    restoredEl.hidden = false;
    showCount();
    save();
  } else if (local) {
    clearLocalIf(savedText);
  }

  // --- Timed essays ----------------------------------------------------------------------
  var countdown = document.getElementById("countdown");
  if (countdown) {
    var clockEl = document.getElementById("countdown-clock");
    var announceEl = document.getElementById("countdown-announce");
    var skew = Date.parse(countdown.getAttribute("data-server-now")) - Date.now();
    var deadline = Date.parse(countdown.getAttribute("data-deadline"));
    var announced = {};
    var finished = false;
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - (Date.now() + skew)) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      clockEl.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      [10, 5, 1].forEach(function (mark) {
        // Announce each mark once, as it is crossed (not when the page opens past it).
        if (!announced[mark] && left <= mark * 60 && left > mark * 60 - 5) {
          announced[mark] = true;
          announceEl.textContent = mark + " minute" + (mark === 1 ? "" : "s") + " left.";
        }
      });
      if (left === 0 && !finished) {
        finished = true;
        setStatus("Time is up — submitting your essay…");
        box.readOnly = true;
        save().then(function () {
          submitting = true;
          document.getElementById("auto-submit-form").submit();
        });
        return;
      }
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  showCount();
})();
