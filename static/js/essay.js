// Crisis Classroom: the essay writing page.
//
// The page works without this file (Save draft and Submit… are ordinary POST forms). With
// it: a live word count, autosave (static/js/autosave.js: the local copy, retries,
// conflicts between tabs), tabs for the sources on narrow screens, and the countdown of a
// timed essay.
(function () {
  "use strict";

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

  // --- Closed page (archived, or past the cut-off): words left only on this device ---------
  // autosave.js keeps unsaved text in localStorage as {fields: {text}} ({text} before it);
  // once the assignment refuses work nothing sends it, so it is shown here to copy.
  var deviceCopy = document.getElementById("device-copy");
  if (deviceCopy) showDeviceCopy(deviceCopy);

  function showDeviceCopy(holder) {
    var key = holder.getAttribute("data-autosave-key");
    var text = null;
    try {
      var copy = JSON.parse(window.localStorage.getItem(key) || "null");
      if (copy && copy.fields && typeof copy.fields.text === "string") text = copy.fields.text;
      else if (copy && typeof copy.text === "string") text = copy.text;
    } catch (error) {
      text = null; // storage disabled or not one of ours
    }
    if (text === null) return;
    var plain = function (value) { return value.replace(/\r\n?/g, "\n").trim(); };
    var forget = function () {
      try {
        window.localStorage.removeItem(key);
      } catch (error) {
        // storage disabled: nothing was kept
      }
    };
    if (plain(text) === plain(holder.getAttribute("data-saved-text") || "")) {
      forget(); // the server has these words already
      return;
    }
    var box = document.getElementById("device-copy-box");
    var status = document.getElementById("device-copy-status");
    box.value = text;
    holder.hidden = false;
    document.getElementById("device-copy-copy").addEventListener("click", function () {
      window.CrisisAutosave.copyText(box, status);
    });
    document.getElementById("device-copy-discard").addEventListener("click", function () {
      forget();
      holder.replaceChildren(status);
      status.textContent = "Removed from this device.";
    });
  }

  var form = document.getElementById("essay-form");
  if (!form) return;

  var box = form.querySelector("textarea[name=text]");
  // Spell check off (as in an exam): Safari's autocorrect too, an attribute HTML does not define.
  if (box.hasAttribute("data-autocorrect-off")) box.setAttribute("autocorrect", "off");
  var statusEl = document.getElementById("save-status");
  var countEl = document.getElementById("word-count-number");
  var pluralEl = document.getElementById("word-count-plural");

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

  box.addEventListener("input", showCount);
  // The writing-process record (static/js/writing_process.js), sent with each autosave.
  var recorder = window.CrisisWritingProcess
    ? window.CrisisWritingProcess.attach(box, {
      sources: document.getElementById("pane-sources"),
      timed: form.hasAttribute("data-timed"),
      largeInsertion: parseInt(form.getAttribute("data-large-insertion"), 10),
    })
    : null;
  var saver = window.CrisisAutosave.attach(form, {
    extra: recorder ? function () {
      var process = recorder.payload();
      return process ? { process: process } : null;
    } : null,
    onSaved: function (data) {
      if (recorder) recorder.acknowledge(data.process);
    },
    key: "essay:" + form.getAttribute("data-user") + ":" + form.getAttribute("data-assignment"),
    status: statusEl,
    onChange: showCount,
    onClosed: function () { box.readOnly = true; },
    messages: {
      conflict: "Not saved — this essay was changed in another tab or device",
      closed: "Already submitted — this essay can no longer be changed here. Reload the page to see it.",
    },
  });

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
        box.readOnly = true;
        saver.save().then(function () {
          saver.leave();
          statusEl.textContent = "Time is up — submitting your essay…";
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
