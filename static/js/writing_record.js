// Crisis Classroom: the replay on the writing-record page. The essay's saved versions come
// from the page as JSON (#replay-frames, oldest first; the last is the essay now, exactly);
// without this file the page shows the essay now. Keyboard: the buttons and the slider, and
// in the replay section Left/Right step, Home/End go to the first/last version, K plays or pauses.
(function () {
  "use strict";

  var STEP_MS = 1000;
  var data = document.getElementById("replay-frames");
  var controls = document.getElementById("replay-controls");
  if (!data || !controls) return;
  var frames = JSON.parse(data.textContent);
  if (!frames.length) return;
  var section = document.getElementById("replay");
  var text = document.getElementById("replay-text");
  var slider = document.getElementById("replay-slider");
  var position = document.getElementById("replay-position");
  var play = document.getElementById("replay-play");
  var back = document.getElementById("replay-back");
  var forward = document.getElementById("replay-forward");
  var current = frames.length - 1;
  var timer = null;

  function describe(index) {
    var frame = frames[index];
    return "Version " + (index + 1) + " of " + frames.length + ": " + frame.time + " · " + frame.label + " · " +
      frame.words + " word" + (frame.words === 1 ? "" : "s");
  }

  function show(index) {
    current = Math.max(0, Math.min(frames.length - 1, index));
    text.textContent = frames[current].text;
    slider.value = String(current);
    slider.setAttribute("aria-valuetext", describe(current));
    position.textContent = describe(current);
    back.disabled = current === 0;
    forward.disabled = current === frames.length - 1;
  }

  function pause() {
    if (timer) window.clearInterval(timer);
    timer = null;
    play.textContent = "Play";
    position.setAttribute("aria-live", "polite");
  }

  function start() {
    if (current === frames.length - 1) show(0);
    play.textContent = "Pause";
    // While playing, the position is not read out at every step.
    position.setAttribute("aria-live", "off");
    timer = window.setInterval(function () {
      if (current >= frames.length - 1) {
        pause();
        return;
      }
      show(current + 1);
      if (current === frames.length - 1) pause();
    }, STEP_MS);
  }

  play.addEventListener("click", function () {
    if (timer) pause();
    else start();
  });
  back.addEventListener("click", function () { pause(); show(current - 1); });
  forward.addEventListener("click", function () { pause(); show(current + 1); });
  slider.addEventListener("input", function () { pause(); show(parseInt(slider.value, 10)); });
  section.addEventListener("keydown", function (event) {
    if (event.target === slider || event.altKey || event.ctrlKey || event.metaKey) return;
    var moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: frames.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      pause();
      show(moves[event.key]);
    } else if (event.key === "k" || event.key === "K") {
      event.preventDefault();
      if (timer) pause();
      else start();
    }
  });

  controls.hidden = false;
  show(current);
})();
