// The console works without this file; it only saves clicks. No inline script: the CSP forbids it.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches("select[data-autosubmit]")) {
    target.form.submit();
  }
  if (target.matches("select[data-insert-into]")) {
    var option = target.selectedOptions[0];
    var box = document.getElementById(target.getAttribute("data-insert-into"));
    if (option && option.dataset.text && box) {
      box.value = box.value ? box.value + "\n\n" + option.dataset.text : option.dataset.text;
      box.focus();
    }
    target.value = "";
  }
});
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
