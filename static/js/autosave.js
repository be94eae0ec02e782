// Crisis Classroom: the one autosave used by every editor (the essay, the mark form, the
// DIRT response). Load it before the page's own script, which calls
//
//   var saver = window.CrisisAutosave.attach(form, {key: "essay:1:2", status: element, ...});
//
// The form posts its fields plus `base_revision` to its data-autosave-url, which answers
// JSON: 200 {"status": "saved", "revision", "saved_at_display", ...}, 409 {"status":
// "conflict", "revision", "editable", "text"}, 400 {"status": "invalid", "error", "errors"}.
// What this file promises:
// - a save a couple of seconds after typing stops, on leaving a field, when the connection
//   comes back, and when the page is hidden or closed (with keepalive, so it outlives the tab);
// - a copy of the form in localStorage until the server acknowledges that exact content;
//   on the next visit a copy made on the revision the server still has is saved at once,
//   one made on an older revision is put back for the user to check: never lost, never
//   silently written over another version;
// - a network failure, a timeout or any server error is retried with back-off until it
//   saves; only a real 401/403 or a redirect to the login page means the session ended;
// - stop() ends it for good (e.g. the page locked the form): no more saves, the local copy
//   removed, and Log out no longer waits for it;
// - Log out (a form with data-logout) first makes sure the server has every local copy this
//   user left on the device, then removes them, so the next person on a shared computer finds
//   nothing; a copy the server cannot take yet stays, and the user is asked before leaving.
(function () {
  "use strict";

  var IDLE_MS = 2000;
  var FIRST_RETRY_MS = 2000;
  var MAX_RETRY_MS = 30000;
  var TIMEOUT_MS = 20000;
  // Browsers refuse keepalive bodies over 64 KB; a longer one stays in localStorage.
  var KEEPALIVE_BYTES = 60000;
  var NOT_POSTED = ["csrfmiddlewaretoken", "base_revision", "action"];
  var MESSAGES = {
    saving: "Saving…",
    retrying: "Not saved yet — retrying",
    session: "Your session has ended — log in again to save; your text is kept on this device",
    conflict: "Not saved — this was changed in another tab or device",
    closed: "This can no longer be changed here. Your text is kept on this device.",
    restoredSaving: "Unsaved text restored from this device — saving…",
    restoredCheck: "Text restored from this device. It differs from the last saved version: check it, then choose which to keep.",
    other: "Using the other version",
    refusedHttp: "Not saved — the server refused the save (error {code}). Your text is kept on this device.",
    logoutUnsaved: "Some of your work has not reached the server yet (are you offline?). If you log out now it stays only on this computer, until you log in here again. Log out anyway?",
  };
  var attached = []; // every editor on this page, for Log out

  function clockNow() {
    return new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  function same(a, b) {
    return a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
  }

  function attach(form, options) {
    options = options || {};
    var messages = Object.assign({}, MESSAGES, options.messages || {});
    var url = options.url || form.getAttribute("data-autosave-url");
    var key = options.key;
    var statusEl = options.status || null;
    var alerts = document.querySelector('[data-autosave-alerts="' + form.id + '"]');
    var part = function (name) { return alerts ? alerts.querySelector("[data-autosave-" + name + "]") : null; };
    var conflictEl = part("conflict");
    var sessionEl = part("session");
    var restoredEl = part("restored");
    var baseInput = form.querySelector("input[name=base_revision]");
    var enabled = options.enabled !== false;
    var onChange = options.onChange || function () {};

    var revision = parseInt(baseInput.value, 10) || 0;
    // A page the server sent back with an error (400/409 after a plain POST) holds text the
    // server has not saved: keep it on this device, and send it only once the user edits it.
    var unsavedOnLoad = form.hasAttribute("data-autosave-unsaved");
    var saved = unsavedOnLoad ? null : fields(); // what the server holds at `revision` (null: not known)
    var refused = unsavedOnLoad ? fields() : null; // refused fields: not sent again until they change
    var inFlight = null;
    var inFlightFields = null;
    var idleTimer = null;
    var retryTimer = null;
    var retryMs = FIRST_RETRY_MS;
    var conflict = null; // {revision, fields}: waiting for the user to choose a version
    var closed = false; // the server said this can no longer be changed
    var leaving = false; // the page is being hidden or closed: keep the local copy
    var submitting = false; // the form itself is being posted: it carries every field
    var stopped = false; // stop(): the page has finished with this form

    function setStatus(text) {
      if (statusEl) statusEl.textContent = text;
    }

    // --- The form's content --------------------------------------------------------------
    function fields() {
      var state = {};
      new FormData(form).forEach(function (value, name) {
        if (NOT_POSTED.indexOf(name) === -1) state[name] = value;
      });
      return state;
    }

    function apply(state) {
      Array.prototype.forEach.call(form.elements, function (input) {
        if (!input.name || NOT_POSTED.indexOf(input.name) !== -1) return;
        if (input.type === "radio" || input.type === "checkbox") input.checked = state[input.name] === input.value;
        else if (input.name in state) input.value = state[input.name];
      });
      onChange();
    }

    function setRevision(value) {
      revision = value;
      baseInput.value = String(value);
    }

    // --- The local copy ------------------------------------------------------------------
    function readLocal() {
      try {
        var copy = JSON.parse(window.localStorage.getItem(key) || "null");
        if (!copy) return null;
        // Copies written before this file kept the essay or response as `text`.
        if (!copy.fields && typeof copy.text === "string") copy.fields = { text: copy.text };
        return copy.fields ? { fields: copy.fields, base: Number(copy.base) } : null;
      } catch (error) {
        return null;
      }
    }

    function keepLocal() {
      if (stopped) return;
      try {
        window.localStorage.setItem(key, JSON.stringify({ fields: fields(), base: revision, at: Date.now(), url: url }));
      } catch (error) {
        // Storage full or disabled: the server save still runs.
      }
    }

    function clearLocal() {
      try {
        window.localStorage.removeItem(key);
      } catch (error) {
        // ignore
      }
    }

    function clearLocalIf(state) {
      var copy = readLocal();
      if (!leaving && copy && same(copy.fields, state)) clearLocal();
    }

    // --- Messages beside fields (marks outside their band, …) ----------------------------
    function clearFieldErrors() {
      form.querySelectorAll("[data-autosave-error]").forEach(function (note) {
        form.querySelectorAll('[aria-describedby~="' + note.id + '"]').forEach(function (input) {
          input.removeAttribute("aria-invalid");
          input.setAttribute("aria-describedby", input.getAttribute("aria-describedby").replace(note.id, "").trim());
        });
        note.remove();
      });
    }

    function showFieldErrors(errors) {
      clearFieldErrors();
      var count = 0;
      Object.keys(errors || {}).forEach(function (name) {
        var inputs = form.querySelectorAll('[name="' + name + '"]');
        if (!inputs.length) return;
        var note = document.createElement("p");
        note.className = "text-danger small mb-1";
        note.id = "autosave-error-" + name;
        note.setAttribute("data-autosave-error", "");
        note.textContent = [].concat(errors[name]).join(" ");
        // A group of radios gets its message under the group's legend.
        var legend = inputs[0].type === "radio" && inputs[0].closest("fieldset") ? inputs[0].closest("fieldset").querySelector("legend") : null;
        (legend || inputs[0]).insertAdjacentElement("afterend", note);
        inputs.forEach(function (input) {
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + note.id).trim());
        });
        count += 1;
      });
      return count;
    }

    // --- Conflicts: two versions, the user chooses -----------------------------------------
    function showConflict(other, status) {
      conflict = other;
      setStatus(status);
      if (!conflictEl) return;
      var otherText = conflictEl.querySelector("[data-autosave-other-text]");
      var text = other.fields && typeof other.fields.text === "string" ? other.fields.text : null;
      if (otherText) {
        otherText.textContent = text === null ? "" : text;
        otherText.closest("details").hidden = text === null;
      }
      conflictEl.hidden = false;
      conflictEl.querySelector("[data-autosave-keep]").focus();
    }

    function endConflict() {
      conflict = null;
      if (conflictEl) conflictEl.hidden = true;
    }

    function keepMine() {
      // Save this version over the other one, knowingly.
      setRevision(conflict.revision);
      saved = conflict.fields;
      endConflict();
      save();
    }

    function useOther() {
      if (!conflict.fields) {
        clearLocal(); // the page shows the server's version
        window.location.reload();
        return;
      }
      setRevision(conflict.revision);
      saved = conflict.fields;
      apply(saved);
      clearLocal();
      endConflict();
      setStatus(messages.other);
    }

    if (conflictEl) {
      conflictEl.querySelector("[data-autosave-keep]").addEventListener("click", keepMine);
      conflictEl.querySelector("[data-autosave-other]").addEventListener("click", useOther);
    }

    // --- Saving ----------------------------------------------------------------------------
    function retryLater() {
      setStatus(messages.retrying);
      if (retryTimer) return;
      retryTimer = window.setTimeout(function () {
        retryTimer = null;
        save();
      }, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }

    function answered() {
      retryMs = FIRST_RETRY_MS;
      if (retryTimer) window.clearTimeout(retryTimer);
      retryTimer = null;
    }

    function acknowledged(sent, newRevision, when) {
      setRevision(newRevision);
      saved = sent;
      refused = null;
      if (sessionEl) sessionEl.hidden = true;
      setStatus("Saved " + when);
    }

    function afterSave() {
      // Typing went on during the save: the local copy now builds on the new revision.
      if (!same(fields(), saved)) {
        keepLocal();
        schedule();
      }
    }

    function onSaved(data, sent) {
      acknowledged(sent, data.revision, data.saved_at_display || clockNow());
      var notSaved = showFieldErrors(data.invalid);
      if (notSaved) {
        // Everything else was saved; these values stay in the form (and on this device)
        // until the user changes them.
        keepLocal();
        setStatus("Saved " + data.saved_at_display + " — " + notSaved + (notSaved === 1 ? " field was" : " fields were") + " not saved: see the message beside it");
      } else {
        clearLocalIf(sent);
      }
      if (options.onSaved) options.onSaved(data);
      afterSave();
    }

    function onConflict(data, sent) {
      var text = typeof data.text === "string" ? data.text : null;
      var other = text !== null && Object.keys(sent).length === 1 && "text" in sent ? { text: text } : null;
      if (data.editable === false || data.submitted === true || data.error === "already submitted") {
        closed = true;
        setStatus(data.closed || messages.closed); // the server's words when it says why
        if (options.onClosed) options.onClosed(data);
      } else if (same(other, sent)) {
        // The server already has this exact content (a save sent while the page was closing
        // landed after the reload): not a real conflict, just catch up.
        acknowledged(sent, data.revision, clockNow());
        clearLocalIf(sent);
        afterSave();
      } else if (same(other, saved)) {
        // Only the revision moved on (the same content was saved again): nobody's words
        // would be lost, so save on top of it.
        setRevision(data.revision);
        save();
      } else if (!(same(sent, saved) && data.revision === revision)) {
        showConflict({ revision: data.revision, fields: other }, messages.conflict);
      }
    }

    function handle(response, sent) {
      var type = response.headers.get("Content-Type") || "";
      var toLogin = response.redirected && response.url.indexOf("/accounts/login/") !== -1;
      if (toLogin || response.status === 401 || response.status === 403) {
        answered();
        if (sessionEl) sessionEl.hidden = false;
        setStatus(messages.session);
        return null;
      }
      var json = type.indexOf("application/json") !== -1;
      var transient = response.status >= 500 || response.status === 408 || response.status === 429;
      if (transient || (response.ok && !json)) {
        retryLater(); // a proxy's error page, a restarting server, a full disk…
        return null;
      }
      if (!json) {
        // Any other refusal (404 after leaving the class, 413 too large…) will not pass by
        // itself: say so and wait until the user changes something; the copy stays here.
        answered();
        refused = sent;
        keepLocal();
        setStatus(messages.refusedHttp.replace("{code}", String(response.status)));
        return null;
      }
      return response.json().then(function (data) {
        answered();
        if (response.ok) onSaved(data, sent);
        else if (response.status === 409) onConflict(data, sent);
        else {
          refused = sent;
          showFieldErrors(data.errors);
          setStatus("Not saved — " + (data.error || "the server refused the save"));
        }
        return data;
      }, retryLater);
    }

    function post(state, keepalive) {
      var body = new URLSearchParams();
      Object.keys(state).forEach(function (name) { body.set(name, state[name]); });
      body.set("base_revision", String(revision));
      // options.extra(): more fields sent with each save but not part of the form's content
      // (e.g. the essay page's writing-process record); null when there are none.
      var more = options.extra ? options.extra() : null;
      if (more) Object.keys(more).forEach(function (name) { body.set(name, more[name]); });
      var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
      var init = {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "", Accept: "application/json" },
        keepalive: keepalive && new TextEncoder().encode(body.toString()).length < KEEPALIVE_BYTES,
      };
      var timer = null;
      if (!keepalive && window.AbortController) {
        var abort = new AbortController();
        init.signal = abort.signal;
        timer = window.setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
      }
      return window.fetch(url, init).finally(function () { window.clearTimeout(timer); });
    }

    function save(saveOptions) {
      saveOptions = saveOptions || {};
      if (idleTimer) window.clearTimeout(idleTimer);
      idleTimer = null;
      if (!enabled || conflict || closed) return Promise.resolve(null);
      var state = fields();
      if (same(state, saved) || same(state, refused)) return Promise.resolve(null);
      if (inFlight && saveOptions.closing && !same(state, inFlightFields)) {
        // The page is going: a save waiting for the running one would never be sent.
        // This one is sent now; the local copy covers the case where it loses the race.
        keepLocal();
        post(state, true).catch(function () {});
        return Promise.resolve(null);
      }
      if (inFlight) return inFlight.then(function () { return save(saveOptions); });
      keepLocal();
      setStatus(messages.saving);
      inFlightFields = state;
      inFlight = post(state, Boolean(saveOptions.keepalive || saveOptions.closing))
        .then(function (response) { return stopped ? null : handle(response, state); }, function () {
          if (!stopped) retryLater(); // offline, timed out, or the connection dropped
          return null;
        })
        .then(function (result) {
          inFlight = null;
          inFlightFields = null;
          return result;
        });
      return inFlight;
    }

    function schedule() {
      if (idleTimer) window.clearTimeout(idleTimer);
      idleTimer = window.setTimeout(save, IDLE_MS);
    }

    function changed() {
      if (!enabled) return;
      keepLocal(); // even while a conflict waits for an answer
      if (!conflict && !closed) schedule();
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("focusout", function () { save(); });
    document.addEventListener("visibilitychange", function () {
      leaving = document.visibilityState === "hidden";
      if (leaving) save({ keepalive: true });
      else save();
    });
    window.addEventListener("pagehide", function () {
      leaving = true;
      if (!submitting) save({ closing: true });
    });
    window.addEventListener("pageshow", function () {
      // Back to this page from the browser's cache: its own buttons must save first again.
      leaving = false;
      submitting = false;
      delete form.dataset.ready;
    });
    window.addEventListener("online", function () {
      answered();
      save();
    });

    // The form's own buttons: save first, so the POST builds on the latest revision;
    // `before` (a page's own step, e.g. adding a typed comment) runs first.
    form.addEventListener("submit", function (event) {
      if (form.dataset.ready === "1" || !enabled) return;
      event.preventDefault();
      if (conflict) {
        conflictEl.querySelector("[data-autosave-keep]").focus();
        return;
      }
      var submitter = event.submitter;
      var before = options.beforeSubmit ? options.beforeSubmit(submitter) : Promise.resolve(true);
      before.then(function (go) {
        return go ? save().then(function () { return !conflict; }) : false;
      }).then(function (go) {
        if (!go) return;
        // The page sends this button itself (e.g. with fetch, staying on the page).
        if (options.submitInstead && options.submitInstead(submitter)) return;
        form.dataset.ready = "1";
        submitting = true;
        // With nothing left to save the promise settles while this submit event is still
        // being dispatched, and Chromium ignores requestSubmit() then: go on the next task.
        window.setTimeout(function () {
          if (form.requestSubmit) form.requestSubmit(submitter);
          else form.submit();
        }, 0);
      });
    });

    // --- On load: put back what never reached the server ------------------------------------
    if (unsavedOnLoad && enabled) keepLocal();
    var copy = enabled && !unsavedOnLoad ? readLocal() : null;
    if (copy && same(copy.fields, saved)) {
      clearLocal();
    } else if (copy) {
      var server = saved;
      apply(copy.fields);
      if (copy.base === revision) {
        if (restoredEl) restoredEl.hidden = false;
        setStatus(messages.restoredSaving);
        save();
      } else {
        // Made on an older revision (another tab saved since, or the page closed mid-save).
        keepLocal();
        showConflict({ revision: revision, fields: server }, messages.restoredCheck);
      }
    }

    function stop() {
      // Nothing more is saved, kept on this device or said about this form: every listener
      // above does nothing once `enabled` is false, and a save still on its way is ignored.
      stopped = true;
      enabled = false;
      if (idleTimer) window.clearTimeout(idleTimer);
      if (retryTimer) window.clearTimeout(retryTimer);
      idleTimer = null;
      retryTimer = null;
      clearLocal();
      var index = attached.indexOf(api);
      if (index !== -1) attached.splice(index, 1);
    }

    var api = {
      key: key,
      save: save,
      stop: stop,
      // The page is submitting by other means (e.g. a timed essay's own form).
      leave: function () { submitting = true; },
      isBlocked: function () { return Boolean(conflict || closed); },
      // The server moved the revision on without changing these fields (e.g. "Mark complete").
      rebase: function (value) { if (!conflict) setRevision(value); },
      hasConflict: function () { return Boolean(conflict); },
      // True when the server holds exactly what the form shows.
      isSaved: function () { return !conflict && same(fields(), saved); },
    };
    attached.push(api);
    return api;
  }

  // --- Log out: the server first, then nothing left on the device ----------------------------
  function localCopies(user) {
    // Keys are "<kind>:<user>:<id>" (essay, marking, dirt); only this user's are touched.
    var copies = [];
    try {
      for (var i = 0; i < window.localStorage.length; i += 1) {
        var key = window.localStorage.key(i);
        if (key.split(":").length !== 3 || key.split(":")[1] !== user) continue;
        try {
          var copy = JSON.parse(window.localStorage.getItem(key));
          if (copy && copy.fields && copy.url) copies.push({ key: key, copy: copy });
        } catch (error) {
          // not one of ours
        }
      }
    } catch (error) {
      // storage disabled: nothing was kept on this device
    }
    return copies;
  }

  function sendCopy(item, csrf) {
    // A copy left by an earlier page: saved as that page would have on the next visit. The
    // server either takes it (200), already has exactly this text (409 with the same text),
    // or has something else: then it stays, to be shown on that page next time.
    var body = new URLSearchParams();
    Object.keys(item.copy.fields).forEach(function (name) { body.set(name, item.copy.fields[name]); });
    body.set("base_revision", String(item.copy.base));
    return window.fetch(item.copy.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    }).then(function (response) {
      if ((response.headers.get("Content-Type") || "").indexOf("application/json") === -1) return false;
      return response.json().then(function (data) {
        var onlyText = Object.keys(item.copy.fields).length === 1 && "text" in item.copy.fields;
        var kept = response.ok ? !data.invalid || !Object.keys(data.invalid).length
          : response.status === 409 && onlyText && data.text === item.copy.fields.text;
        if (kept) window.localStorage.removeItem(item.key);
        return kept;
      });
    }).catch(function () { return false; });
  }

  function beforeLogout(user, csrf) {
    var mine = attached.map(function (editor) { return editor.key; });
    return Promise.all(attached.map(function (editor) { return editor.save(); }))
      .then(function () {
        var others = localCopies(user).filter(function (item) { return mine.indexOf(item.key) === -1; });
        return Promise.all(others.map(function (item) { return sendCopy(item, csrf); }));
      })
      .then(function () {
        return localCopies(user).length === 0 && attached.every(function (editor) { return editor.isSaved(); });
      }, function () { return false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-logout") || form.dataset.ready === "1") return;
    event.preventDefault();
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    beforeLogout(form.getAttribute("data-user") || "", csrf ? csrf.value : "").then(function (clear) {
      if (!clear && !window.confirm(MESSAGES.logoutUnsaved)) return;
      attached.forEach(function (editor) { editor.leave(); }); // nothing more to send while leaving
      form.dataset.ready = "1";
      form.submit();
    });
  });

  // --- A draft kept only on this device until the page has saved it ---------------------------
  // For a box whose words become a new object when sent (a comment not yet added): it has no
  // server copy to autosave into, so its fields stay in localStorage (the same store, key
  // "<kind>:<user>:<id>" and shape as attach's copies) from the first keystroke until the page
  // calls done(). On the next visit they are put back; Log out sends them to `url` first.
  function keep(form, options) {
    var key = options.key;
    var url = options.url || form.action;
    var names = options.fields;
    function current() {
      var state = {};
      names.forEach(function (name) {
        var input = form.elements[name];
        state[name] = input ? input.value : "";
      });
      return state;
    }
    function store() {
      var state = current();
      try {
        if (!state[names[0]].trim()) window.localStorage.removeItem(key);
        else window.localStorage.setItem(key, JSON.stringify({ fields: state, base: 0, at: Date.now(), url: url }));
      } catch (error) {
        // Storage full or disabled: nothing more can be done on this device.
      }
    }
    function restore() {
      var copy = null;
      try {
        copy = JSON.parse(window.localStorage.getItem(key) || "null");
      } catch (error) {
        copy = null;
      }
      if (!copy || !copy.fields) return null;
      names.forEach(function (name) {
        var input = form.elements[name];
        if (input && typeof copy.fields[name] === "string") input.value = copy.fields[name];
      });
      return copy.fields;
    }
    form.addEventListener("input", store);
    form.addEventListener("change", store);
    window.addEventListener("pagehide", store);
    return {
      key: key,
      store: store,
      restore: restore,
      done: function () {
        try {
          window.localStorage.removeItem(key);
        } catch (error) {
          // ignore
        }
      },
    };
  }

  // Copy a read-only box's words (a copy kept on the device that can no longer be saved) to the
  // clipboard, or select them for Ctrl+C where the clipboard is refused; `status` says which.
  function copyText(box, status) {
    function said(ok) {
      status.textContent = ok ? "Copied." : "Not copied: select the text and copy it (Ctrl+C).";
    }
    function byHand() {
      box.focus();
      box.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (error) {
        ok = false;
      }
      said(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(box.value).then(function () { said(true); }, byHand);
    } else {
      byHand();
    }
  }

  window.CrisisAutosave = { attach: attach, keep: keep, copyText: copyText };
})();
