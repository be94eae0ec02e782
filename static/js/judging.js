// The judging screen: ← and → choose the left or right script (not while typing a note), and a
// choice is sent once (a second press while the page is leaving does nothing).
(function () {
  "use strict";
  const form = document.querySelector("form[data-judging]");
  if (!form) return;
  let sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) {
      event.preventDefault();
      return;
    }
    sent = true;
  });
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const side = event.key === "ArrowLeft" ? "left" : event.key === "ArrowRight" ? "right" : null;
    if (!side) return;
    const button = form.querySelector('button[name="choice"][value="' + side + '"]');
    if (!button) return;
    event.preventDefault();
    form.requestSubmit(button);
  });
})();
