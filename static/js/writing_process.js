// Crisis Classroom: the writing-process record, gathered on the essay page and sent with its
// autosaves (classroom/writing_process.py reads it; the field's shape is described there).
//
// What is gathered: time spent writing, each paste (where and how long; whether it matches
// what was just copied from the sources pane or from the essay itself), each large insertion
// (the text grown by many characters in one go without a paste: drag and drop, dictation,
// autocomplete) and, in a timed essay only, when the page lost focus. Never a keystroke and
// never the text: a paste's words are read only to count them and to compare a fingerprint
// with the last copy, in this page's memory, and are not kept.
//
// Sending: what happened since the last batch becomes a numbered batch when a save is sent;
// batches stay here until a save that carried them is answered with their numbers, and are
// sent again with every save till then. The server records each (page, number) once, so a
// batch sent twice is not counted twice.
(function () {
  "use strict";

  var IDLE_GAP_MS = 60000; // a pause longer than this is not counted as writing time
  var BATCH_EVENTS = 40; // a batch is closed at this many events (the server takes 50)
  var SEND_BATCHES = 10; // batches per save (as many as the server takes)
  var KEEP_BATCHES = 200; // waiting batches kept at most (the oldest go first)
  var MIN_AWAY_MS = 1000; // shorter losses of focus are not worth recording

  function fingerprint(text) {
    // Length and an FNV-1a hash of the text with its spaces evened out (copying a selection
    // and pasting it can change line breaks and spaces).
    var plain = String(text || "").replace(/\s+/g, " ").trim();
    var hash = 0x811c9dc5;
    for (var i = 0; i < plain.length; i += 1) {
      hash ^= plain.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return plain.length ? { length: plain.length, hash: hash } : null;
  }

  function sameText(a, b) {
    return a !== null && b !== null && a.length === b.length && a.hash === b.hash;
  }

  function sessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function now() {
    return Math.round(window.performance.now());
  }

  function attach(box, options) {
    options = options || {};
    var largeInsertion = options.largeInsertion || 50;
    var session = sessionId();
    var seq = 0;
    var outbox = [];
    var current = null;
    var carriedMs = 0; // writing time not yet a whole second
    var lastInput = null;
    var lengthBefore = box.value.length;
    var pasted = false;
    var copied = { sources: null, essay: null };
    var awaySince = null;

    function batch() {
      if (!current) current = { active: 0, from: null, to: null, events: [] };
      return current;
    }

    function close() {
      // The batch so far becomes one to send (if anything happened).
      if (!current || (current.from === null && !current.events.length)) return;
      var ms = current.active + carriedMs;
      carriedMs = ms % 1000;
      seq += 1;
      var closed = { seq: seq, active: Math.floor(ms / 1000), events: current.events };
      if (current.from !== null) {
        closed.from = current.from;
        closed.to = current.to;
      }
      outbox.push(closed);
      if (outbox.length > KEEP_BATCHES) outbox.shift();
      current = null;
    }

    function add(event) {
      batch().events.push(event);
      if (current.events.length >= BATCH_EVENTS) close();
    }

    // --- Copies: remembered as a fingerprint, to label the paste that follows -----------------
    if (options.sources) {
      options.sources.addEventListener("copy", function () {
        copied.sources = fingerprint(window.getSelection ? window.getSelection().toString() : "");
      });
    }
    function copyFromEssay() {
      copied.essay = fingerprint(box.value.slice(box.selectionStart, box.selectionEnd));
    }
    box.addEventListener("copy", copyFromEssay);
    box.addEventListener("cut", copyFromEssay);

    box.addEventListener("paste", function (event) {
      var text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
      var length = text.replace(/\r\n?/g, "\n").length;
      if (!length) return;
      var print = fingerprint(text);
      text = null;
      var origin = sameText(print, copied.sources) ? "sources" : sameText(print, copied.essay) ? "essay" : "";
      pasted = true;
      add({ kind: "paste", t: now(), position: box.selectionStart, length: length, origin: origin });
    });

    // --- Writing time and large insertions ---------------------------------------------------
    box.addEventListener("beforeinput", function () {
      lengthBefore = box.value.length;
    });
    box.addEventListener("input", function (event) {
      var t = now();
      var open = batch();
      // The time since the last input counts as writing unless it was a long pause; a batch
      // starts where its first counted stretch starts.
      var counted = lastInput !== null && t - lastInput <= IDLE_GAP_MS;
      if (open.from === null) open.from = counted ? lastInput : t;
      if (counted) open.active += t - lastInput;
      lastInput = t;
      open.to = t;
      var grown = box.value.length - lengthBefore;
      lengthBefore = box.value.length;
      var fromPaste = event.inputType ? event.inputType.indexOf("insertFromPaste") === 0 : pasted;
      pasted = false;
      if (!fromPaste && grown >= largeInsertion) {
        add({ kind: "insertion", t: t, position: Math.max(0, box.selectionEnd - grown), length: grown });
      }
    });

    // --- Focus lost (timed essays only) ------------------------------------------------------
    if (options.timed) {
      var lose = function () {
        if (awaySince === null) awaySince = now();
      };
      var back = function () {
        if (awaySince === null || document.hidden || !document.hasFocus()) return;
        var t = now();
        if (t - awaySince >= MIN_AWAY_MS) add({ kind: "focus", t: awaySince, until: t });
        awaySince = null;
      };
      document.addEventListener("visibilitychange", function () {
        if (document.hidden) lose();
        else back();
      });
      window.addEventListener("blur", lose);
      window.addEventListener("focus", back);
    }

    return {
      // The `process` field for the next save, or null when there is nothing to send.
      payload: function () {
        close();
        if (!outbox.length) return null;
        return JSON.stringify({ session: session, now: now(), batches: outbox.slice(0, SEND_BATCHES) });
      },
      // The server's answer to a save: the numbers of the batches it has recorded (or left out).
      acknowledge: function (numbers) {
        if (!Array.isArray(numbers)) return;
        outbox = outbox.filter(function (waiting) { return numbers.indexOf(waiting.seq) === -1; });
      },
    };
  }

  window.CrisisWritingProcess = { attach: attach };
})();
