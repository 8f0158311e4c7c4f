// Behaviour shared by every page, kept out of the HTML so the Content-Security-Policy forbids inline
// script (issue #10). A <select data-autosubmit> sends its form when it changes; data-autosubmit="value"
// only when a value is chosen (the board's "move to" list starts empty).
document.addEventListener("change", function (e) {
  var el = e.target.closest ? e.target.closest("[data-autosubmit]") : null;
  if (!el || !el.form) return;
  if (el.dataset.autosubmit === "value" && !el.value) return;
  el.form.requestSubmit();
});
