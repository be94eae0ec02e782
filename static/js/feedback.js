// Crisis Classroom: the student's feedback page. The DIRT response autosaves through
// static/js/autosave.js (the local copy, retries, conflicts between tabs). Without this
// file the Save and Submit buttons are ordinary POSTs.
(function () {
  "use strict";

  var form = document.getElementById("dirt-form");
  if (!form) return;
  window.CrisisAutosave.attach(form, {
    key: form.getAttribute("data-key"),
    status: document.getElementById("dirt-status"),
    onClosed: function () { form.querySelector("textarea[name=text]").readOnly = true; },
    messages: {
      conflict: "Not saved — your response was changed in another tab or device",
      closed: "Already submitted — your response can no longer be changed. Your text is kept on this device.",
    },
  });
})();
