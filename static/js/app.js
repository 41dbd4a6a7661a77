// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Confirm dangerous actions: <button data-confirm="Are you sure?">.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();

// Print buttons: <button data-print>.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// Safety warning as soon as a flagged answer above 0 is chosen: <input data-warn-above-zero="id">.
document.addEventListener("change", function (event) {
  var input = event.target;
  var target = input.getAttribute && input.getAttribute("data-warn-above-zero");
  if (target) {
    var warning = document.getElementById(target);
    if (warning) {
      warning.hidden = !(parseInt(input.value, 10) > 0);
    }
  }
});

// A refused htmx save (400) answers with the row as saved now and the reason; htmx drops
// error answers unless told otherwise, so forms that send such rows opt in: data-swap-refusal.
document.addEventListener("htmx:beforeSwap", function (event) {
  var detail = event.detail;
  // The element that sent the request (detail.elt is the swap target here).
  var source = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
  if (detail.xhr.status === 400 && source && source.closest && source.closest("[data-swap-refusal]")) {
    detail.shouldSwap = true;
    detail.isError = false;
  }
});
