// Copy the share link: the button shows only where the browser can write to the clipboard.
(function () {
  var button = document.querySelector("button.copy");
  if (!button || !navigator.clipboard) return;
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = button.parentNode.querySelector(".copied");
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      status.textContent = button.getAttribute("data-done");
    }, function () {
      field.select();
    });
  });
})();
