// Crisis Classroom: the marking page.
//
// The page works without this file: every button is an ordinary POST (saving the mark
// first), and comments can be added as general comments. With it: marks limited to the
// chosen level's band and a live total, autosave (static/js/autosave.js: the local copy,
// retries, conflicts with another tab or marker), a comment typed but not yet added is
// added before the mark form leaves the page, comments anchored to selected text, the
// comment bank (Insert buttons and #code), the indicative-content highlight toggle and
// keyboard shortcuts (Alt+Shift+S/N/P/C).
(function () {
  "use strict";

  var layout = document.getElementById("marking-layout");
  var form = document.getElementById("mark-form");
  if (!layout || !form) return;

  var totalEl = document.getElementById("mark-total");
  var spagEl = document.getElementById("mark-spag");
  var commentText = document.getElementById("comment-text");

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
    if (isNaN(value) || value < min) marks.value = String(min);
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

  // --- Autosave, and a comment typed but not yet added --------------------------------------
  // A comment typed in the box but not yet added goes in first: never dropped silently.
  function addPendingComment() {
    var commentForm = document.getElementById("comment-form");
    if (!commentForm || !commentText.value.trim()) return Promise.resolve(true);
    var note = document.getElementById("comment-pending");
    note.hidden = true;
    return window
      .fetch(commentForm.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(commentForm)),
        credentials: "same-origin",
        headers: { "X-CSRFToken": commentForm.querySelector("input[name=csrfmiddlewaretoken]").value, Accept: "application/json" },
      })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) return { error: "" };
        return response.json();
      })
      .then(function (data) {
        if (data.status !== "added") throw { refused: data.error || "" };
        commentText.value = "";
        return true;
      })
      .catch(function (error) {
        // Offline, a server error, the session ended, or the server refused the comment.
        note.textContent = "Your comment was not added" + (error && error.refused ? ": " + error.refused : "") +
          ". It is still in the box: add it or clear it, then try again.";
        note.hidden = false;
        commentText.focus();
        return false;
      });
  }

  var saver = window.CrisisAutosave.attach(form, {
    key: "marking:" + layout.getAttribute("data-user") + ":" + layout.getAttribute("data-submission"),
    status: document.getElementById("mark-save-status"),
    enabled: Boolean(form.querySelector("button[value=save]")),
    beforeSubmit: addPendingComment,
    onChange: function () {
      form.querySelectorAll("fieldset.criterion").forEach(function (fieldset) { applyBand(fieldset, false); });
      showTotal();
    },
    messages: {
      conflict: "Not saved — changed in another tab or by another marker",
      closed: "Released — this mark can no longer be changed here. Your version is kept on this device.",
    },
  });

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
  // Save the mark before any other form on the page (release, return, a comment…) acts on
  // it; if it cannot be saved, that action waits: it would act on a version not on screen.
  var saveStatus = document.getElementById("mark-save-status");
  var others = Array.prototype.filter.call(document.querySelectorAll("form"), function (other) {
    return other !== form;
  });
  others.forEach(function (other) {
    other.addEventListener("submit", function (event) {
      if (other.dataset.saved === "1" || (saver.isBlocked() && !saver.hasConflict())) return;
      event.preventDefault();
      if (saver.hasConflict()) return;
      saver.save().then(function () {
        if (!saver.isSaved()) {
          saveStatus.textContent = "Your mark is not saved yet, so that was not done. Check the message above, then try again.";
          return;
        }
        other.dataset.saved = "1";
        // Not while this submit event is still being dispatched (Chromium ignores it then).
        window.setTimeout(function () { other.requestSubmit ? other.requestSubmit() : other.submit(); }, 0);
      });
    });
  });
  window.addEventListener("pageshow", function () {
    others.forEach(function (other) { delete other.dataset.saved; });
  });

  // --- Comment bank -------------------------------------------------------------------------
  var bank = {};
  var lastTarget = commentText;
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
      saver.save();
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
})();
