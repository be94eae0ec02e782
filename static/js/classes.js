// A Print button ([data-print], hidden until this file shows it) on the pages made to be
// printed: the one-time codes, the writing record. The pages work without this file (the
// browser's own Print does the same).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
