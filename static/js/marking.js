// Crisis Classroom: the marking workspace.
//
// The page works without this file: every button is an ordinary POST (saving the mark
// first), and comments can be added as general comments. With it, nothing reloads the page
// except moving to another script:
// - marks limited to the chosen level's band and a live total, autosaved
//   (static/js/autosave.js: the local copy, retries, conflicts with another tab or marker);
// - select words in the essay → a "Comment" button at the selection (or press C); comments
//   are added, changed and deleted with fetch (JSON from classroom/views/marking.py), and the
//   essay and numbered notes re-drawn from the server's answer;
// - a comment typed but not yet added is kept on this device (CrisisAutosave.keep) and added
//   before the mark form leaves the page;
// - the comment bank: #code expands, "#" and some words suggest entries, Insert buttons;
// - on wide screens each numbered note sits beside its passage;
// - "Mark complete" and "Release" answered in place; once released, anything typed but not
//   sent is shown read-only to copy or discard; keyboard shortcuts listed in the "?" dialog.
// The indicative-content highlights need no script: app.css shows them while their panel is open.
(function () {
  "use strict";

  var layout = document.getElementById("marking-layout");
  var form = document.getElementById("mark-form");
  if (!layout || !form) return;

  var user = layout.getAttribute("data-user");
  var submissionId = layout.getAttribute("data-submission");
  var totalEl = document.getElementById("mark-total");
  var spagEl = document.getElementById("mark-spag");
  var saveStatus = document.getElementById("mark-save-status");
  var commentForm = document.getElementById("comment-form");
  var commentText = document.getElementById("comment-text");
  var commentStatus = document.getElementById("comment-status");
  var pendingNote = document.getElementById("comment-pending");
  var essay = document.getElementById("essay");
  var notesEl = document.getElementById("notes");

  function csrfOf(someForm) {
    var input = someForm.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // POST a form (plus extras) asking for JSON. Resolves {ok, status, data}; data is null
  // when the answer was not JSON (a proxy's error page, the login page…).
  function postJson(url, someForm, extras) {
    var body = new URLSearchParams(new FormData(someForm));
    Object.keys(extras || {}).forEach(function (name) { body.set(name, extras[name]); });
    return window
      .fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfOf(someForm), Accept: "application/json" },
      })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1 || response.redirected) {
          return { ok: false, status: response.status, data: null };
        }
        return response.json().then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      });
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

  var criteria = Array.prototype.slice.call(form.querySelectorAll("fieldset.criterion"));
  criteria.forEach(function (fieldset) {
    applyBand(fieldset, false);
    fieldset.addEventListener("change", function (event) {
      if (event.target.classList.contains("level-choice")) applyBand(fieldset, true);
      showTotal();
    });
  });
  form.addEventListener("input", showTotal);

  // --- A comment typed but not yet added: kept on this device until it is added -----------
  var COMMENT_KEY = "comment:" + user + ":" + submissionId;
  var draft = commentForm
    ? window.CrisisAutosave.keep(commentForm, {
        key: COMMENT_KEY,
        fields: ["comment", "start", "end", "quote"],
      })
    : null;

  function addComment() {
    // Resolves true when the box is empty or its comment was added; false (text kept) if not.
    if (!commentForm || !commentText.value.trim()) return Promise.resolve(true);
    pendingNote.hidden = true;
    draft.store();
    var sent = commentText.value;
    return postJson(commentForm.getAttribute("data-json-url"), commentForm)
      .then(function (result) {
        if (!result.ok || !result.data || result.data.status !== "added") {
          throw { refused: result.data ? result.data.error || "" : "" };
        }
        showComments(result.data);
        if (commentText.value === sent) {
          commentText.value = "";
          clearAnchor();
          draft.done();
        } else {
          draft.store(); // typed while it was on its way: that stays, for the next comment
        }
        return true;
      })
      .catch(function (error) {
        // Offline, a server error, the session ended, or the server refused the comment.
        pendingNote.textContent = "Your comment was not added" + (error && error.refused ? ": " + error.refused : "") +
          ". It is still in the box (and kept on this device): add it or clear it, then try again.";
        pendingNote.hidden = false;
        commentText.focus();
        return false;
      });
  }

  // --- The mark form: autosave; Save draft and Mark complete answered in place --------------
  // No Save button: not markable now (released, returned for redraft, or not yet submitted).
  // Only a released mark is closed for good; the server says which (data-released).
  var editable = Boolean(form.querySelector("button[value=save]"));
  var released = layout.hasAttribute("data-released");

  function swapHeader(html) {
    var header = document.getElementById("mark-header");
    if (!header) return;
    var fresh = document.createElement("div");
    fresh.innerHTML = html;
    ["#mark-state", ".marking-actions"].forEach(function (selector) {
      var now = header.querySelector(selector);
      var then = fresh.querySelector(selector);
      if (now && then) now.replaceWith(then);
    });
  }

  function lockPage() {
    // Released: nothing on the page can change any more (the server refuses it too).
    editable = false;
    released = true;
    saver.stop(); // the locked form reads as empty: nothing more to save or keep for it
    form.querySelectorAll("fieldset").forEach(function (fieldset) { fieldset.disabled = true; });
    form.querySelectorAll(".mark-buttons").forEach(function (el) { el.hidden = true; });
    navAsLinks();
    if (commentForm) commentForm.hidden = true;
    hideToolbar();
    document.querySelectorAll(".note-edit").forEach(function (el) { el.remove(); });
    var help = document.getElementById("essay-help");
    if (help) help.textContent = "Comments can no longer be added: this feedback has been released.";
    showKept();
    schedulePlace();
  }

  function navAsLinks() {
    // "Save, then previous / next" become plain links to the same scripts, as after a reload.
    ["mark-previous", "mark-next"].forEach(function (id) {
      var button = document.getElementById(id);
      if (!button || !button.hasAttribute("data-href")) return;
      var link = document.createElement("a");
      link.id = id;
      link.className = button.className;
      link.href = button.getAttribute("data-href");
      link.textContent = button.getAttribute("data-link-text");
      button.replaceWith(link);
    });
  }

  function markAction(submitter) {
    var action = submitter ? submitter.value : "save";
    if (action === "save") {
      // Autosave has just saved everything: say so, and stay.
      saveStatus.textContent = saver.isSaved() ? saveStatus.textContent : "Not saved yet — see the message above";
      return true;
    }
    if (action !== "complete") return false; // next / previous: go to that page
    postJson(form.getAttribute("action"), form, { action: "complete" }).then(function (result) {
      if (result.ok && result.data) {
        saver.rebase(result.data.revision);
        swapHeader(result.data.header_html);
        saveStatus.textContent = result.data.message;
      } else {
        // The mark itself may have been saved before "complete" was refused: carry on from
        // the revision the server now holds, or the next autosave would meet it as a conflict.
        if (result.data && typeof result.data.revision === "number") saver.rebase(result.data.revision);
        saveStatus.textContent = "Not complete — " + (result.data && result.data.error ? result.data.error : "the server refused it. Try again.");
      }
    }, function () {
      saveStatus.textContent = "Not complete — the server could not be reached. Try again.";
    });
    return true;
  }

  var saver = window.CrisisAutosave.attach(form, {
    key: "marking:" + user + ":" + submissionId,
    status: saveStatus,
    enabled: editable,
    beforeSubmit: function () {
      return addComment().then(function (added) { return added ? saveEdits() : false; });
    },
    submitInstead: markAction,
    onChange: function () {
      criteria.forEach(function (fieldset) { applyBand(fieldset, false); });
      showTotal();
    },
    messages: {
      conflict: "Not saved — changed in another tab or by another marker",
      closed: "Released — this mark can no longer be changed here. Your version is kept on this device.",
    },
  });

  // Save the mark first; resolves true once the server holds what the form shows.
  function markSaved() {
    if (!editable) return Promise.resolve(true);
    if (saver.hasConflict()) return Promise.resolve(false);
    return saver.save().then(function () {
      if (saver.isSaved()) return true;
      saveStatus.textContent = "Your mark is not saved yet, so that was not done. Check the message above, then try again.";
      return false;
    });
  }

  // --- The essay and its numbered notes, re-drawn from the server's answer -----------------
  function announce(text) {
    if (commentStatus) commentStatus.textContent = text || "";
  }

  // A change typed into an existing note's box is kept like a new comment: on this device
  // ("comment-edit:<user>:<id>") until the server has it, through every re-draw of the notes.
  function editKey(pk) { return "comment-edit:" + user + ":" + pk; }

  function unsavedEdits() {
    var edits = {};
    if (!notesEl) return edits;
    notesEl.querySelectorAll(".note-edit-form textarea").forEach(function (box) {
      if (box.value !== box.defaultValue) edits[box.closest(".note").getAttribute("data-pk")] = box.value;
    });
    return edits;
  }

  function storeEdit(box) {
    var pk = box.closest(".note").getAttribute("data-pk");
    try {
      if (box.value === box.defaultValue) window.localStorage.removeItem(editKey(pk));
      else window.localStorage.setItem(editKey(pk), JSON.stringify({
        fields: { comment: box.value }, base: 0, at: Date.now(), url: box.form.getAttribute("action"),
      }));
    } catch (error) {
      // Storage full or disabled: the box still holds it.
    }
  }

  function forgetEdit(pk) {
    try { window.localStorage.removeItem(editKey(pk)); } catch (error) { /* ignore */ }
  }

  function putBackEdits(edits) {
    if (!notesEl) return;
    notesEl.querySelectorAll(".note-edit-form textarea").forEach(function (box) {
      var pk = box.closest(".note").getAttribute("data-pk");
      var text = edits[pk];
      if (text === undefined) {
        try {
          var copy = JSON.parse(window.localStorage.getItem(editKey(pk)) || "null");
          if (copy && copy.fields) text = copy.fields.comment;
        } catch (error) {
          text = undefined;
        }
      }
      if (typeof text === "string" && text !== box.defaultValue) {
        box.value = text;
        box.closest("details").open = true;
      }
    });
  }

  // Before leaving the page (Save, then next; next; previous): changed notes are saved first;
  // resolves false, staying on the page with the change in its box, if one could not be.
  function saveEdits() {
    return Object.keys(unsavedEdits()).reduce(function (chain, pk) {
      return chain.then(function (ok) {
        var box = document.getElementById("edit-" + pk);
        if (!ok || !box) return ok;
        return postJson(box.form.getAttribute("data-json-url"), box.form).then(function (result) {
          if (!result.ok || !result.data) throw result;
          forgetEdit(pk);
          box.defaultValue = box.value;
          showComments(result.data);
          return true;
        }).catch(function () {
          box.closest("details").open = true;
          announce("Your change to a comment was not saved, so the page stayed here. It is still in its box.");
          box.focus();
          return false;
        });
      });
    }, Promise.resolve(true));
  }

  function showComments(data) {
    var edits = unsavedEdits();
    if (essay && typeof data.essay_html === "string") essay.innerHTML = data.essay_html;
    if (notesEl && typeof data.notes_html === "string") notesEl.innerHTML = data.notes_html;
    putBackEdits(edits);
    announce(data.message);
    watchSizes();
    schedulePlace();
  }

  // --- Notes beside their passages ------------------------------------------------------
  // Where the notes column sits beside the essay (app.css: .notes-beside, wide screens), each
  // note starts level with its passage; one that would overlap the note above goes just below
  // it; general comments come first. Tops are set through the CSSOM, which the CSP allows (it
  // forbids style attributes in the HTML). Narrow screens keep the numbered list.
  var NOTE_GAP = 8;
  var besideQuery = window.matchMedia("(min-width: 992px)");
  var placeQueued = false;
  layout.classList.add("notes-beside");

  function placeNotes() {
    placeQueued = false;
    if (!notesEl) return;
    var notes = Array.prototype.slice.call(notesEl.querySelectorAll(".note"));
    if (!besideQuery.matches || !essay) {
      notes.forEach(function (note) { note.style.top = ""; });
      notesEl.style.minHeight = "";
      return;
    }
    var origin = notesEl.getBoundingClientRect().top;
    var places = notes.map(function (note, index) {
      var mark = essay.querySelector('mark.annotation-mark[data-notes~="' + note.getAttribute("data-number") + '"]');
      return { note: note, index: index, top: mark ? mark.getBoundingClientRect().top - origin : 0 };
    });
    places.sort(function (a, b) { return a.top - b.top || a.index - b.index; });
    var floor = 0;
    places.forEach(function (place) {
      var top = Math.max(Math.round(place.top), floor);
      place.note.style.top = top + "px";
      floor = top + place.note.offsetHeight + NOTE_GAP;
    });
    notesEl.style.minHeight = floor + "px";
  }

  // A note under the box for a new comment (it stays at the foot of the column) is scrolled
  // clear of it when it gets focus or its number is followed from the essay.
  function uncover(el) {
    var compose = document.getElementById("comment-compose");
    if (!besideQuery.matches || !compose || compose.contains(el)) return;
    var box = el.getBoundingClientRect();
    var cover = compose.getBoundingClientRect();
    if (box.bottom > cover.top && box.top < cover.bottom) window.scrollBy(0, box.bottom - cover.top + NOTE_GAP);
  }

  function schedulePlace() {
    if (placeQueued) return;
    placeQueued = true;
    window.requestAnimationFrame(placeNotes);
  }

  // The essay re-flows (width, fonts, the help above it) and notes change height (an edit box
  // opened): place the notes again.
  var sizes = window.ResizeObserver ? new window.ResizeObserver(schedulePlace) : null;
  function watchSizes() {
    if (!sizes) return;
    sizes.disconnect();
    var column = layout.querySelector(".mw-essay");
    if (column) sizes.observe(column);
    if (notesEl) notesEl.querySelectorAll(".note").forEach(function (note) { sizes.observe(note); });
  }

  // --- Anchored comments ----------------------------------------------------------------
  var essayText = "";
  var sourceEl = document.getElementById("essay-source");
  if (sourceEl) essayText = JSON.parse(sourceEl.textContent);
  var essayChars = Array.from(essayText);
  var toolbar = document.getElementById("selection-toolbar");
  var selectionButton = document.getElementById("comment-on-selection");
  var anchorNote = document.getElementById("comment-anchor");
  var clearAnchorButton = document.getElementById("comment-clear-anchor");
  var pane = essay ? essay.closest(".essay-pane") : null;
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
    return { start: start, end: end, quote: quote, rect: range };
  }

  function showAnchor(quote) {
    var shown = quote.length > 80 ? quote.slice(0, 80) + "…" : quote;
    anchorNote.textContent = "On the passage: “" + shown + "”";
    clearAnchorButton.hidden = false;
  }

  // The toolbar's button comments on the selection it was shown for (a tap may clear it); the
  // C key only on what is selected in the essay now.
  function useSelection(fromToolbar) {
    if (!commentForm || !editable) return false;
    var range = selectedRange() || (fromToolbar === true && toolbar && !toolbar.hidden ? pending : null);
    if (!range) {
      announce("Select words in the essay first, then press C.");
      return true;
    }
    document.getElementById("comment-start").value = String(range.start);
    document.getElementById("comment-end").value = String(range.end);
    document.getElementById("comment-quote").value = range.quote;
    showAnchor(range.quote);
    hideToolbar();
    commentText.focus();
    draft.store();
    return true;
  }

  function clearAnchor() {
    ["comment-start", "comment-end", "comment-quote"].forEach(function (id) {
      document.getElementById(id).value = "";
    });
    pending = null;
    if (anchorNote) anchorNote.textContent = "General comment (not tied to a passage).";
    if (clearAnchorButton) clearAnchorButton.hidden = true;
  }

  function hideToolbar() {
    if (toolbar) toolbar.hidden = true;
  }

  function placeToolbar(range) {
    // Just under the end of the selection, inside the essay's column.
    var rects = range.rect.getClientRects();
    var rect = rects.length ? rects[rects.length - 1] : range.rect.getBoundingClientRect();
    var box = pane.getBoundingClientRect();
    toolbar.hidden = false;
    var width = toolbar.offsetWidth;
    var left = Math.max(0, Math.min(rect.right - box.left - width / 2, box.width - width));
    toolbar.style.left = Math.round(left) + "px";
    toolbar.style.top = Math.round(rect.bottom - box.top + 6) + "px";
  }

  if (toolbar && essay && pane) {
    var queued = false;
    document.addEventListener("selectionchange", function () {
      if (queued) return;
      queued = true;
      window.requestAnimationFrame(function () {
        queued = false;
        var range = selectedRange();
        if (range) {
          pending = range;
          placeToolbar(range);
        } else if (!toolbar.contains(document.activeElement)) {
          pending = null;
          hideToolbar();
        }
      });
    });
    selectionButton.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the selection
    });
    selectionButton.addEventListener("click", function () { useSelection(true); });
  }
  if (clearAnchorButton) clearAnchorButton.addEventListener("click", function () { clearAnchor(); draft.store(); });

  // Put back a comment typed here before (a reload, or back from another script).
  if (draft) {
    var restored = draft.restore();
    if (restored && restored.comment) {
      if (restored.quote && restored.start) showAnchor(restored.quote);
      pendingNote.textContent = "Your comment from before is back in the box: it has not been added yet.";
      pendingNote.hidden = false;
    }
  }

  if (commentForm) {
    commentForm.addEventListener("submit", function (event) {
      event.preventDefault();
      closeSuggestions();
      addComment().then(function (added) {
        if (added) commentText.focus();
      });
    });
  }

  // Change or delete a note: delegated, since the notes are re-drawn.
  if (notesEl) {
    putBackEdits({});
    notesEl.addEventListener("input", function (event) {
      if (event.target.matches(".note-edit-form textarea")) storeEdit(event.target);
    });
    notesEl.addEventListener("focusin", function (event) { uncover(event.target); });
    notesEl.addEventListener("submit", function (event) {
      var noteForm = event.target;
      if (!noteForm.matches(".note-edit-form, .note-delete-form")) return;
      event.preventDefault();
      var note = noteForm.closest(".note");
      var pk = note ? note.getAttribute("data-pk") : null;
      var editBox = note ? note.querySelector(".note-edit-form textarea") : null;
      postJson(noteForm.getAttribute("data-json-url"), noteForm).then(function (result) {
        if (result.ok && result.data) {
          if (pk) {
            forgetEdit(pk);
            if (editBox) editBox.defaultValue = editBox.value; // saved: not an edit to put back
          }
          showComments(result.data);
          var same = note && document.getElementById(note.id);
          var focusTarget = same ? same.querySelector("summary") : commentText;
          if (focusTarget) focusTarget.focus();
        } else {
          announce((result.data && result.data.error) || "That was not saved: try again.");
        }
      }, function () {
        announce("That was not saved: the server could not be reached. Try again.");
      });
    });
    // A note and its passage point at each other, without a jump in the page's history.
    notesEl.addEventListener("click", function (event) {
      var link = event.target.closest("a.note-anchor");
      if (!link) return;
      event.preventDefault();
      var ref = document.getElementById(link.getAttribute("href").slice(1));
      if (ref) {
        ref.scrollIntoView({ block: "center", behavior: "smooth" });
        ref.focus();
      }
    });
  }
  if (essay) {
    essay.addEventListener("click", function (event) {
      var ref = event.target.closest("a.note-ref");
      if (!ref) return;
      event.preventDefault();
      var note = document.getElementById(ref.getAttribute("href").slice(1));
      if (!note) return;
      document.querySelectorAll(".note.note-current").forEach(function (el) { el.classList.remove("note-current"); });
      note.classList.add("note-current");
      note.scrollIntoView({ block: "nearest" });
      uncover(note);
    });
  }

  // --- Release (and the page's other buttons) --------------------------------------------------
  var header = document.getElementById("mark-header");
  if (header) {
    header.addEventListener("submit", function (event) {
      var action = event.target;
      if (!action.hasAttribute("data-json-action")) return;
      event.preventDefault();
      markSaved().then(function (ok) {
        if (!ok) return null;
        return postJson(action.getAttribute("action"), action).then(function (result) {
          if (result.ok && result.data) {
            swapHeader(result.data.header_html);
            saveStatus.textContent = result.data.message;
            if (result.data.editable === false) lockPage();
          } else {
            saveStatus.textContent = (result.data && result.data.error) || "That was not done: try again.";
          }
        });
      }).catch(function () {
        saveStatus.textContent = "That was not done: the server could not be reached. Try again.";
      });
    });
  }
  // Every other form (withdraw, acknowledge, save to my bank…) leaves the page: save the
  // mark first; if it cannot be saved, that action waits.
  function leavesPage(other) {
    return other !== form && other !== commentForm && !other.hasAttribute("data-json-action") &&
      !other.matches(".note-edit-form, .note-delete-form") && !other.hasAttribute("data-logout");
  }
  document.addEventListener("submit", function (event) {
    var other = event.target;
    if (!leavesPage(other) || event.defaultPrevented) return;
    if (other.dataset.saved === "1" || !editable || (saver.isBlocked() && !saver.hasConflict())) return;
    event.preventDefault();
    markSaved().then(function (ok) {
      if (!ok) return;
      other.dataset.saved = "1";
      // Not while this submit event is still being dispatched (Chromium ignores it then).
      window.setTimeout(function () { other.requestSubmit ? other.requestSubmit() : other.submit(); }, 0);
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-saved]").forEach(function (other) { delete other.dataset.saved; });
  });

  // --- Comment bank: #code, "#" and words, Insert buttons, search ----------------------------
  var bank = {};
  var bankEl = document.getElementById("bank-codes");
  if (bankEl) bank = JSON.parse(bankEl.textContent);
  var bankCodes = Object.keys(bank);
  var lastTarget = commentText;

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

  // "#prov " becomes the bank's text (the teacher's own #prov, if they have one).
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target.classList || !target.classList.contains("bank-target") || event.isComposing) return;
    var caret = target.selectionStart;
    var before = target.value.slice(0, caret);
    var match = /(^|\s)#([A-Za-z0-9][\w-]*)(\s)$/.exec(before);
    if (!match || !bank[match[2].toLowerCase()]) return;
    var codeStart = caret - match[2].length - 1 - match[3].length;
    var replacement = bank[match[2].toLowerCase()] + match[3];
    target.value = target.value.slice(0, codeStart) + replacement + target.value.slice(caret);
    var newCaret = codeStart + replacement.length;
    target.setSelectionRange(newCaret, newCaret);
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("bank-target")) lastTarget = event.target;
  });

  function searchBank(query, limit) {
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return bankCodes.slice(0, limit);
    var byCode = [];
    var byWords = [];
    bankCodes.forEach(function (code) {
      var text = bank[code].toLowerCase();
      if (words.length === 1 && code.indexOf(words[0]) === 0) byCode.push(code);
      else if (words.every(function (word) { return code.indexOf(word) !== -1 || text.indexOf(word) !== -1; })) byWords.push(code);
    });
    return byCode.concat(byWords).slice(0, limit);
  }

  // Suggestions under the comment box while a "#…" is being typed (a combobox list).
  var suggestions = document.getElementById("bank-suggestions");
  var active = -1;
  var token = null;

  function closeSuggestions() {
    if (!suggestions) return;
    suggestions.hidden = true;
    suggestions.textContent = "";
    active = -1;
    token = null;
    commentText.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    var options = suggestions.querySelectorAll("[role=option]");
    if (!options.length) return;
    active = (index + options.length) % options.length;
    options.forEach(function (option, i) { option.setAttribute("aria-selected", i === active ? "true" : "false"); });
    commentText.setAttribute("aria-activedescendant", options[active].id);
    options[active].scrollIntoView({ block: "nearest" });
  }

  function choose(code) {
    if (!token) return;
    var value = commentText.value;
    var text = bank[code];
    commentText.value = value.slice(0, token.start) + text + value.slice(token.end);
    var caret = token.start + text.length;
    commentText.setSelectionRange(caret, caret);
    closeSuggestions();
    commentText.dispatchEvent(new Event("input", { bubbles: true }));
    commentText.focus();
  }

  function suggest() {
    var caret = commentText.selectionStart;
    var before = commentText.value.slice(0, caret);
    var match = /(^|\s)#([^#\n]{0,40})$/.exec(before);
    if (!match || /\s$/.test(match[2]) && bank[match[2].trim().toLowerCase()]) {
      closeSuggestions();
      return;
    }
    var found = searchBank(match[2], 8);
    if (!found.length) {
      closeSuggestions();
      return;
    }
    token = { start: caret - match[2].length - 1, end: caret };
    suggestions.textContent = "";
    found.forEach(function (code, index) {
      var option = document.createElement("li");
      option.id = "bank-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-code", code);
      var label = document.createElement("code");
      label.textContent = "#" + code;
      option.appendChild(label);
      option.appendChild(document.createTextNode(" " + bank[code]));
      suggestions.appendChild(option);
    });
    suggestions.hidden = false;
    highlight(0);
  }

  if (suggestions && commentText) {
    commentText.addEventListener("input", function (event) {
      if (!event.isComposing) suggest();
    });
    commentText.addEventListener("keydown", function (event) {
      if (suggestions.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" || event.key === "Tab") {
        var option = suggestions.querySelectorAll("[role=option]")[active];
        if (!option) return;
        event.preventDefault();
        choose(option.getAttribute("data-code"));
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeSuggestions();
      }
    });
    // Closed a moment after the box loses focus (so a click on an option still lands), unless
    // the box has it back by then: a list opened after coming back stays open.
    commentText.addEventListener("blur", function () {
      window.setTimeout(function () {
        if (document.activeElement !== commentText) closeSuggestions();
      }, 150);
    });
    suggestions.addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (!option) return;
      event.preventDefault();
      choose(option.getAttribute("data-code"));
    });
  }

  document.querySelectorAll(".bank-insert").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      insertText(lastTarget, button.getAttribute("data-text"));
    });
  });
  var bankFilter = document.getElementById("bank-filter");
  var bankSearch = document.getElementById("bank-search");
  function filterBank() {
    var wanted = bankFilter ? bankFilter.value : "";
    var words = bankSearch ? bankSearch.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    document.querySelectorAll("#bank-list li[data-code]").forEach(function (item) {
      var text = item.textContent.toLowerCase();
      var fits = words.every(function (word) { return text.indexOf(word.replace(/^#/, "")) !== -1; });
      item.hidden = (Boolean(wanted) && item.getAttribute("data-criterion") !== wanted) || !fits;
    });
  }
  if (bankFilter) bankFilter.addEventListener("change", filterBank);
  if (bankSearch) {
    document.getElementById("bank-search-wrap").hidden = false;
    bankSearch.addEventListener("input", filterBank);
  }

  // --- Keyboard shortcuts, listed in the "?" dialog -------------------------------------------
  var dialog = document.getElementById("shortcuts");
  var openHelp = document.getElementById("shortcuts-open");
  var singleToggle = document.getElementById("shortcuts-single");
  var opener = null;
  var SINGLE_KEY = "marking-shortcuts:" + user;
  var singleKeys = true;
  try {
    singleKeys = window.localStorage.getItem(SINGLE_KEY) !== "off";
  } catch (error) {
    singleKeys = true;
  }

  function showHelp() {
    if (!dialog || dialog.open) return;
    opener = document.activeElement;
    if (singleToggle) singleToggle.checked = singleKeys;
    dialog.showModal();
  }
  function closeHelp() {
    if (dialog && dialog.open) dialog.close();
  }
  if (dialog) {
    if (openHelp) {
      openHelp.hidden = false;
      openHelp.addEventListener("click", showHelp);
    }
    document.getElementById("shortcuts-close").addEventListener("click", closeHelp);
    document.getElementById("shortcuts-done").addEventListener("click", closeHelp);
    dialog.addEventListener("close", function () {
      if (opener && opener.focus) opener.focus();
    });
    if (singleToggle) {
      singleToggle.addEventListener("change", function () {
        singleKeys = singleToggle.checked;
        try {
          window.localStorage.setItem(SINGLE_KEY, singleKeys ? "on" : "off");
        } catch (error) {
          // kept for this page only
        }
      });
    }
  }

  var currentCriterion = null;

  function criterionNow() {
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("fieldset.criterion");
    if (focused) return focused;
    if (currentCriterion) return currentCriterion;
    return criteria.filter(function (fieldset) { return !fieldset.querySelector("input.level-choice:checked"); })[0] || criteria[0];
  }

  function focusCriterion(fieldset) {
    if (!fieldset) return;
    currentCriterion = fieldset;
    var radio = fieldset.querySelector("input.level-choice:checked") || fieldset.querySelector("input.level-choice");
    if (radio) radio.focus();
  }

  function chooseLevel(number) {
    var fieldset = criterionNow();
    if (!fieldset || fieldset.disabled) return;
    var wanted = null;
    fieldset.querySelectorAll("input.level-choice").forEach(function (radio) {
      var label = fieldset.querySelector('label[for="' + radio.id + '"]');
      var words = label ? label.textContent : "";
      if (words.indexOf("Level " + number + " ") === 0 || (number === 0 && radio.id.slice(-5) === "-none")) wanted = wanted || radio;
    });
    if (!wanted) return;
    wanted.checked = true;
    wanted.dispatchEvent(new Event("change", { bubbles: true }));
    currentCriterion = fieldset;
    wanted.focus();
  }

  function typing(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && ["radio", "checkbox", "button", "submit", "reset"].indexOf(el.type) === -1;
  }

  function press(id) {
    var button = document.getElementById(id);
    if (button && !button.hidden) button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey) return;
    if (event.altKey && event.shiftKey) {
      // Alt+Shift: kept from before, and they work inside boxes too.
      var handled = true;
      if (event.code === "KeyS") saver.save();
      else if (event.code === "KeyN") press("mark-next");
      else if (event.code === "KeyP") press("mark-previous");
      else if (event.code === "KeyC") useSelection(false);
      else handled = false;
      if (handled) event.preventDefault();
      return;
    }
    if (event.altKey || (dialog && dialog.open)) return;
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    if (event.key === "?") {
      event.preventDefault();
      showHelp();
      return;
    }
    if (!singleKeys) return;
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var fields = { w: "www", e: "ebi", t: "improvement_task" };
    if (key === "c") {
      if (useSelection(false)) event.preventDefault();
    } else if (key === "n" || key === "j") {
      event.preventDefault();
      press("mark-next");
    } else if (key === "p" || key === "k") {
      event.preventDefault();
      press("mark-previous");
    } else if (/^[0-9]$/.test(key) && criteria.length && editable) {
      event.preventDefault();
      chooseLevel(parseInt(key, 10));
    } else if ((key === "[" || key === "]") && criteria.length) {
      event.preventDefault();
      var index = criteria.indexOf(criterionNow());
      focusCriterion(criteria[Math.max(0, Math.min(criteria.length - 1, index + (key === "]" ? 1 : -1)))]);
    } else if (fields[key] && form.elements[fields[key]]) {
      event.preventDefault();
      form.elements[fields[key]].focus();
    }
  });

  // --- Typed but never sent, once the mark can no longer change ------------------------------
  // A comment not yet added (COMMENT_KEY) or a change to a comment not yet saved (editKey) can
  // no longer reach the server once the feedback is released: shown read-only, to copy
  // elsewhere or discard (which forgets it on this device).
  function keptText(key) {
    try {
      var copy = JSON.parse(window.localStorage.getItem(key) || "null");
      var text = copy && copy.fields ? copy.fields.comment : "";
      return typeof text === "string" && text.trim() ? text : "";
    } catch (error) {
      return "";
    }
  }

  function keptDrafts() {
    var found = [];
    var typed = keptText(COMMENT_KEY);
    if (typed) found.push({ key: COMMENT_KEY, label: "A comment you typed but did not add", what: "the comment you typed", text: typed });
    if (notesEl) {
      notesEl.querySelectorAll(".note[data-pk]").forEach(function (note) {
        var number = note.getAttribute("data-number");
        var key = editKey(note.getAttribute("data-pk"));
        var text = keptText(key);
        if (text) found.push({ key: key, label: "Your change to comment " + number + ", not saved", what: "your change to comment " + number, text: text });
      });
    }
    return found;
  }

  function discardKept(item) {
    if (item.key === COMMENT_KEY && commentForm) {
      commentText.value = ""; // or the hidden box would be kept again as the page closes
      clearAnchor();
    }
    try {
      window.localStorage.removeItem(item.key);
    } catch (error) {
      // storage disabled: nothing was kept
    }
  }

  function makeButton(className, words, hiddenWords) {
    var el = document.createElement("button");
    el.type = "button";
    el.className = className;
    el.textContent = words;
    var more = document.createElement("span");
    more.className = "visually-hidden";
    more.textContent = " " + hiddenWords;
    el.appendChild(more);
    return el;
  }

  function showKept() {
    var old = document.getElementById("kept-drafts");
    if (old) old.remove();
    var compose = document.getElementById("comment-compose");
    var found = released ? keptDrafts() : [];
    if (!found.length || !compose) return;
    var holder = document.createElement("div");
    holder.id = "kept-drafts";
    holder.className = "kept-drafts border rounded p-2 mb-2";
    var heading = document.createElement("h3");
    heading.className = "h6";
    heading.textContent = "Kept on this device, not sent";
    var help = document.createElement("p");
    help.className = "small mb-2";
    help.textContent = "Comments on this essay can no longer be added or changed. Copy these to use elsewhere, or discard them.";
    var status = document.createElement("p");
    status.className = "small text-success mb-0";
    status.setAttribute("role", "status");
    holder.append(heading, help);
    found.forEach(function (item, index) {
      var row = document.createElement("div");
      row.className = "mb-2";
      var label = document.createElement("label");
      label.className = "form-label small mb-1";
      label.htmlFor = "kept-draft-" + index;
      label.textContent = item.label;
      var box = document.createElement("textarea");
      box.className = "form-control form-control-sm";
      box.id = "kept-draft-" + index;
      box.rows = 3;
      box.readOnly = true;
      box.value = item.text;
      var actions = document.createElement("div");
      actions.className = "d-flex flex-wrap gap-2 mt-1";
      var copy = makeButton("btn btn-sm btn-outline-primary", "Copy", item.what);
      var discard = makeButton("btn btn-sm btn-outline-danger", "Discard", item.what);
      copy.addEventListener("click", function () { window.CrisisAutosave.copyText(box, status); });
      discard.addEventListener("click", function () {
        discardKept(item);
        row.remove();
        var next = holder.querySelector("textarea");
        if (next) {
          status.textContent = "Discarded.";
          next.focus();
        } else {
          holder.remove();
          announce("Discarded: nothing typed for this essay is kept on this device now.");
          var commentsHeading = document.getElementById("comments-heading");
          commentsHeading.setAttribute("tabindex", "-1");
          commentsHeading.focus({ preventScroll: true });
        }
        schedulePlace();
      });
      actions.append(copy, discard);
      row.append(label, box, actions);
      holder.appendChild(row);
    });
    holder.appendChild(status);
    compose.insertBefore(holder, compose.firstChild);
    schedulePlace();
  }

  watchSizes();
  schedulePlace();
  besideQuery.addEventListener("change", schedulePlace);
  window.addEventListener("resize", schedulePlace);
  if (document.fonts) {
    if (document.fonts.ready) document.fonts.ready.then(schedulePlace);
    document.fonts.addEventListener("loadingdone", schedulePlace);
  }
  if (released) showKept();
  showTotal();
})();
