// The policy editor's steps table without a round trip: "Añadir", "Quitar", "Subir" and "Bajar" change the
// rows in place and renumber their fields (s-<i>-<field>), as the server does when JavaScript is off.
// Nothing is saved until "Guardar". No inline script: the Content-Security-Policy forbids it.
(function () {
  "use strict";
  var form = document.getElementById("policy-form");
  if (!form) return;
  var body = document.getElementById("steps-body");
  var template = document.getElementById("step-row-template");
  var total = document.getElementById("steps-total");

  function rename(value, i) {
    return value.replace(/^s-[^-]+-/, "s-" + i + "-");
  }

  function renumber() {
    var rows = body.querySelectorAll("tr[data-step-row]");
    rows.forEach(function (tr, i) {
      tr.querySelectorAll("[name^='s-']").forEach(function (el) { el.name = rename(el.name, i); });
      tr.querySelectorAll("[id^='s-']").forEach(function (el) { el.id = rename(el.id, i); });
      tr.querySelectorAll("label[for^='s-']").forEach(function (el) { el.htmlFor = rename(el.htmlFor, i); });
      tr.querySelectorAll("button[data-step-op]").forEach(function (el) { el.value = el.dataset.stepOp + "-" + i; });
      var number = tr.querySelector("[data-step-number]");
      if (number && number.firstChild) number.firstChild.nodeValue = String(i + 1);
    });
    total.value = String(rows.length);
  }

  form.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-step-op]") : null;
    if (!button) return;
    e.preventDefault();
    body.querySelectorAll("tr.step-errors").forEach(function (tr) { tr.remove(); });  // stale after a change
    var op = button.dataset.stepOp;
    var row = button.closest("tr[data-step-row]");
    if (op === "add") {
      body.appendChild(template.content.cloneNode(true));
      renumber();
      var rows = body.querySelectorAll("tr[data-step-row]");
      var first = rows[rows.length - 1].querySelector("input[name$='-offset']");
      if (first) first.focus();
      return;
    }
    if (!row) return;
    if (op === "remove") {
      row.remove();
    } else if (op === "up" && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (op === "down" && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    }
    renumber();
  });
})();
