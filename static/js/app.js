// Crisis Classroom: small progressive enhancements shared by every page.
// Pages work without this file; it only adds conveniences.
(function () {
  "use strict";

  // Forms marked data-confirm ask before submitting (e.g. rotating a join code).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
