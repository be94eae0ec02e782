// Crisis Classroom: the marking page.
//
// The page works without this file: every button is an ordinary POST (saving the mark
// first), and comments can be added as general comments. With it: marks limited to the
// chosen level's band and a live total, autosave with a revision check (409: another tab
// or marker changed the mark) and a copy in localStorage until the server has it,
// comments anchored to selected text, the comment bank (Insert buttons and #code), the
// indicative-content highlight toggle and keyboard shortcuts (Alt+Shift+S/N/P/C).
(function () {
  "use strict";

  var IDLE_MS = 2000;
  var layout = document.getElementById("marking-layout");
  var form = document.getElementById("mark-form");
  if (!layout || !form) return;

  var storageKey = "marking:" + layout.getAttribute("data-user") + ":" + layout.getAttribute("data-submission");
  var baseInput = form.querySelector("input[name=base_revision]");
  var statusEl = document.getElementById("mark-save-status");
  var conflictEl = document.getElementById("mark-conflict");
  var totalEl = document.getElementById("mark-total");
  var spagEl = document.getElementById("mark-spag");
  var autosaveUrl = form.getAttribute("data-autosave-url");
  var editable = Boolean(form.querySelector("button[value=save]"));
  var idleTimer = null;
  var inFlight = null;
  var blocked = false;
  var dirty = false;

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setStatus(text) {
    if (statusEl) statusEl.textContent = text;
  }

  // --- Levels, bands and the total ------------------------------------------------------
  function fieldsetMarks(fieldset) {
    return fieldset.querySelector("input.mark-input");
  }

  function applyBand(fieldset, clamp) {
    var chosen = fieldset.querySelector("input.level-choice:checked");
    var marks = fieldsetMarks(fieldset);
    if (!chosen || !marks) return;
    var min = parseInt(chosen.getAttribute("data-min"), 10);
    var max = parseInt(chosen.getAttribute("data-max"), 10);
    marks.min = String(min);
    marks.max = String(max);
    if (!clamp) return;
    var value = parseInt(marks.value, 10);
    if (isNaN(value) || value < min) marks.value = String(min === max ? min : min);
    else if (value > max) marks.value = String(max);
  }

  function showTotal() {
    var total = 0;
    var spag = null;
    form.querySelectorAll("fieldset.criterion").forEach(function (fieldset) {
      var chosen = fieldset.querySelector("input.level-choice:checked");
      var value = parseInt(fieldsetMarks(fieldset).value, 10);
      if (!chosen || isNaN(value)) return;
      if (fieldset.getAttribute("data-spag") === "1") spag = value;
      else total += value;
    });
    if (totalEl) totalEl.textContent = String(total);
    if (spagEl) spagEl.textContent = spag === null ? "–" : String(spag);
  }

  form.querySelectorAll("fieldset.criterion").forEach(function (fieldset) {
    applyBand(fieldset, false);
    fieldset.addEventListener("change", function (event) {
      if (event.target.classList.contains("level-choice")) applyBand(fieldset, true);
      showTotal();
    });
  });
  form.addEventListener("input", showTotal);

  // --- The local copy -------------------------------------------------------------------
  function formState() {
    var state = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && name !== "base_revision" && name !== "action") state[name] = value;
    });
    return state;
  }

  function keepLocal() {
    try {
      window.localStorage.setItem(storageKey, JSON.stringify({ base: baseInput.value, fields: formState() }));
    } catch (error) {
      // Storage full or disabled: the server save still runs.
    }
  }

  function clearLocal() {
    try {
      window.localStorage.removeItem(storageKey);
    } catch (error) {
      // ignore
    }
  }

  function restoreLocal() {
    var saved = null;
    try {
      saved = JSON.parse(window.localStorage.getItem(storageKey) || "null");
    } catch (error) {
      saved = null;
    }
    if (!saved || !editable) return;
    if (saved.base !== baseInput.value) {
      clearLocal(); // the server has moved on since this copy was made
      return;
    }
    Object.keys(saved.fields).forEach(function (name) {
      var inputs = form.querySelectorAll('[name="' + name + '"]');
      inputs.forEach(function (input) {
        if (input.type === "radio") input.checked = input.value === saved.fields[name];
        else input.value = saved.fields[name];
      });
    });
    form.querySelectorAll("fieldset.criterion").forEach(function (fieldset) { applyBand(fieldset, false); });
    showTotal();
    setStatus("Unsaved changes restored from this device — saving…");
    dirty = true;
    schedule();
  }

  // --- Autosave -------------------------------------------------------------------------
  function save() {
    if (idleTimer) {
      window.clearTimeout(idleTimer);
      idleTimer = null;
    }
    if (blocked || !editable || !dirty) return Promise.resolve(null);
    if (inFlight) return inFlight.then(save);
    dirty = false;
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    setStatus("Saving…");
    inFlight = window
      .fetch(autosaveUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") === -1) {
          dirty = true;
          setStatus("Not saved — your session has ended; your changes are kept on this device");
          return null;
        }
        return response.json().then(function (data) {
          if (response.ok) {
            baseInput.value = String(data.revision);
            if (!dirty) clearLocal();
            else keepLocal();
            setStatus("Saved " + data.saved_at_display);
          } else if (response.status === 409) {
            blocked = true;
            conflictEl.hidden = false;
            setStatus("Not saved — changed elsewhere");
          } else {
            setStatus("Not saved — " + (data.error || "the server refused the save"));
          }
          return data;
        });
      })
      .catch(function () {
        dirty = true;
        setStatus("Offline — kept on this device");
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

  function changed() {
    if (!editable) return;
    dirty = true;
    keepLocal();
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    // The POST carries every field: the server version will include this copy.
    if (idleTimer) window.clearTimeout(idleTimer);
  });
  window.addEventListener("online", function () { save(); });

  // --- Anchored comments ----------------------------------------------------------------
  var essay = document.getElementById("essay");
  var essayText = "";
  var sourceEl = document.getElementById("essay-source");
  if (sourceEl) essayText = JSON.parse(sourceEl.textContent);
  var essayChars = Array.from(essayText);
  var commentForm = document.getElementById("comment-form");
  var selectionButton = document.getElementById("comment-on-selection");
  var anchorNote = document.getElementById("comment-anchor");
  var clearAnchor = document.getElementById("comment-clear-anchor");
  var pending = null;

  function charLength(text) {
    return Array.from(text).length;
  }

  function pointOffset(container, offset) {
    if (container.nodeType !== 3) return null;
    var seg = container.parentElement && container.parentElement.closest(".seg");
    if (!seg) return null;
    return parseInt(seg.getAttribute("data-start"), 10) + charLength(container.data.slice(0, offset));
  }

  // The selection as offsets into the stored essay text (code points), or null.
  function selectedRange() {
    var selection = window.getSelection();
    if (!essay || !selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    if (!essay.contains(range.commonAncestorContainer)) return null;
    var segs = Array.prototype.filter.call(essay.querySelectorAll(".seg"), function (seg) {
      return range.intersectsNode(seg);
    });
    if (!segs.length) return null;
    var first = segs[0];
    var last = segs[segs.length - 1];
    var start = first.contains(range.startContainer) ? pointOffset(range.startContainer, range.startOffset) : null;
    if (start === null) start = parseInt(first.getAttribute("data-start"), 10);
    var end = last.contains(range.endContainer) ? pointOffset(range.endContainer, range.endOffset) : null;
    if (end === null) end = parseInt(last.getAttribute("data-start"), 10) + charLength(last.textContent);
    var quote = essayChars.slice(start, end).join("");
    // Leave out spaces at either end of the selection.
    while (quote && /\s/.test(quote[0])) { start += 1; quote = essayChars.slice(start, end).join(""); }
    while (quote && /\s/.test(quote[quote.length - 1])) { end -= 1; quote = essayChars.slice(start, end).join(""); }
    if (!quote || start >= end) return null;
    return { start: start, end: end, quote: quote };
  }

  function useSelection() {
    var range = pending || selectedRange();
    if (!range || !commentForm) return;
    document.getElementById("comment-start").value = String(range.start);
    document.getElementById("comment-end").value = String(range.end);
    document.getElementById("comment-quote").value = range.quote;
    var shown = range.quote.length > 80 ? range.quote.slice(0, 80) + "…" : range.quote;
    anchorNote.textContent = "On the passage: “" + shown + "”";
    clearAnchor.hidden = false;
    document.getElementById("comment-text").focus();
  }

  if (selectionButton && essay) {
    document.addEventListener("selectionchange", function () {
      var range = selectedRange();
      if (range) pending = range;
      selectionButton.hidden = !range;
    });
    selectionButton.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the selection
    });
    selectionButton.addEventListener("click", useSelection);
  }
  if (clearAnchor) {
    clearAnchor.addEventListener("click", function () {
      ["comment-start", "comment-end", "comment-quote"].forEach(function (id) {
        document.getElementById(id).value = "";
      });
      pending = null;
      anchorNote.textContent = "General comment (not tied to a passage).";
      clearAnchor.hidden = true;
    });
  }
  // Save the mark before any other form on the page reloads it.
  document.querySelectorAll("form").forEach(function (other) {
    if (other === form) return;
    other.addEventListener("submit", function (event) {
      if (!dirty || blocked || other.dataset.saved === "1") return;
      event.preventDefault();
      save().then(function () {
        other.dataset.saved = "1";
        other.requestSubmit ? other.requestSubmit() : other.submit();
      });
    });
  });

  // --- Comment bank -------------------------------------------------------------------------
  var bank = {};
  var lastTarget = document.getElementById("comment-text");
  document.querySelectorAll("#bank-list li[data-code]").forEach(function (item) {
    bank[item.getAttribute("data-code").toLowerCase()] = item.querySelector(".bank-text").textContent;
  });

  function insertText(target, text) {
    if (!target) return;
    var start = target.selectionStart || 0;
    var end = target.selectionEnd || 0;
    var before = target.value.slice(0, start);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    target.value = before + spacer + text + target.value.slice(end);
    var caret = (before + spacer + text).length;
    target.setSelectionRange(caret, caret);
    target.dispatchEvent(new Event("input", { bubbles: true }));
    target.focus();
  }

  document.querySelectorAll(".bank-target").forEach(function (target) {
    target.addEventListener("focus", function () { lastTarget = target; });
    target.addEventListener("input", function (event) {
      if (event.isComposing) return;
      var caret = target.selectionStart;
      var before = target.value.slice(0, caret);
      var match = /(^|\s)#([A-Za-z0-9][\w-]*)(\s)$/.exec(before);
      if (!match || !bank[match[2].toLowerCase()]) return;
      var codeStart = caret - match[2].length - 1 - match[3].length;
      var replacement = bank[match[2].toLowerCase()] + match[3];
      target.value = target.value.slice(0, codeStart) + replacement + target.value.slice(caret);
      var newCaret = codeStart + replacement.length;
      target.setSelectionRange(newCaret, newCaret);
    });
  });
  document.querySelectorAll(".bank-insert").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      insertText(lastTarget, button.getAttribute("data-text"));
    });
  });
  var bankFilter = document.getElementById("bank-filter");
  if (bankFilter) {
    bankFilter.addEventListener("change", function () {
      var wanted = bankFilter.value;
      document.querySelectorAll("#bank-list li[data-code]").forEach(function (item) {
        item.hidden = Boolean(wanted) && item.getAttribute("data-criterion") !== wanted;
      });
    });
  }

  // --- Indicative-content highlights --------------------------------------------------------
  var toggle = document.getElementById("toggle-hits");
  if (toggle && essay) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var on = essay.classList.toggle("show-hits");
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  // --- Keyboard shortcuts (Alt+Shift, to stay clear of screen-reader and browser keys) ------
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    var button = null;
    if (event.code === "KeyS") {
      event.preventDefault();
      dirty = true;
      save();
      return;
    }
    if (event.code === "KeyN") button = document.getElementById("mark-next");
    if (event.code === "KeyP") button = document.getElementById("mark-previous");
    if (event.code === "KeyC") {
      event.preventDefault();
      useSelection();
      return;
    }
    if (button) {
      event.preventDefault();
      button.click();
    }
  });

  showTotal();
  restoreLocal();
})();
