// Classes and rosters: a Print button on the one-time codes page. The page works
// without this file (the browser's own Print does the same).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
