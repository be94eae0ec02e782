// Crisis Classroom: read aloud (a computer reader) with the browser's own speech synthesis.
//
// Each [data-read-aloud] holder names the element to read (a textarea's words, or an
// element's text) and has a Read aloud and a Stop button. The holders stay hidden where the
// browser cannot speak. Nothing is sent anywhere: the browser speaks the page's own words.
(function () {
  "use strict";

  if (!("speechSynthesis" in window) || typeof window.SpeechSynthesisUtterance !== "function") return;
  var synth = window.speechSynthesis;

  function textOf(target) {
    if (target.tagName === "TEXTAREA" || target.tagName === "INPUT") return target.value;
    return target.innerText || target.textContent || "";
  }

  document.querySelectorAll("[data-read-aloud]").forEach(function (holder) {
    var target = document.getElementById(holder.getAttribute("data-read-aloud"));
    if (!target) return;
    var start = holder.querySelector("[data-read-aloud-start]");
    var stop = holder.querySelector("[data-read-aloud-stop]");
    start.addEventListener("click", function () {
      var text = textOf(target).trim();
      synth.cancel(); // one voice at a time
      if (!text) return;
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = document.documentElement.lang || "en-GB";
      synth.speak(utterance);
    });
    stop.addEventListener("click", function () { synth.cancel(); });
    holder.hidden = false;
  });

  // Leaving the page stops the voice.
  window.addEventListener("pagehide", function () { synth.cancel(); });
})();
