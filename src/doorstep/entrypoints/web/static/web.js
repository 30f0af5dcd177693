// Small progressive touches; every page works without this file.
(function () {
  "use strict";
  // On a phone the section links scroll sideways: start with the current one in view.
  var here = document.querySelector(".top nav [aria-current=page]");
  if (here) { here.scrollIntoView({ block: "nearest", inline: "center" }); }
  // Confirm destructive forms (cancel pickup, withdraw a return).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  // One tap per step: a second tap while the first submit is on its way does nothing.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (ev.defaultPrevented) { return; }
      if (form.dataset.sent) { ev.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
  // Coming back with the back button restores the page: let its forms be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form").forEach(function (form) { delete form.dataset.sent; });
  });
  // Show the chosen photo before uploading it.
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    input.addEventListener("change", function () {
      var img = document.getElementById(input.getAttribute("data-preview"));
      if (!img || !input.files || !input.files[0]) { return; }
      img.src = URL.createObjectURL(input.files[0]);
      img.hidden = false;
    });
  });
  // Choosing a district on the dashboard redraws at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
