// Jembatan: the little the pages do with JavaScript; every page works without it.
(function () {
  "use strict";
  // The report form: fill the location from the phone, when the person asks.
  var locate = document.querySelector("[data-locate]");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        document.getElementById("lat").value = position.coords.latitude.toFixed(6);
        document.getElementById("lon").value = position.coords.longitude.toFixed(6);
      });
    });
  }
  // A photo too large is refused here, next to its field, before the form is sent (the server
  // refuses it too, but could not give back what was typed).
  var tooLarge = function (input) {
    var file = input.files && input.files[0];
    return Boolean(file && file.size > Number(input.getAttribute("data-max-bytes")));
  };
  var showSize = function (input) {
    var id = input.id + "-size-error";
    var shown = document.getElementById(id);
    if (shown) { shown.parentNode.removeChild(shown); }
    input.removeAttribute("aria-invalid");
    if (!tooLarge(input)) { return; }
    var list = document.createElement("ul");
    list.className = "errors";
    list.id = id;
    list.setAttribute("role", "alert");
    var item = document.createElement("li");
    item.textContent = input.getAttribute("data-too-large");
    list.appendChild(item);
    input.parentNode.appendChild(list);
    input.setAttribute("aria-invalid", "true");
  };
  Array.prototype.forEach.call(document.querySelectorAll("input[data-max-bytes]"), function (input) {
    input.addEventListener("change", function () { showSize(input); });
    input.form.addEventListener("submit", function (event) {
      if (tooLarge(input)) { event.preventDefault(); showSize(input); input.focus(); }
    });
  });
  // The board: reload the list when a case changed (light polling, every 15 seconds).
  var board = document.querySelector("[data-board-stamp]");
  if (board && window.fetch) {
    var last = null;
    var poll = function () {
      if (document.hidden) { return; }
      fetch(board.getAttribute("data-board-stamp"), { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (stamp) {
          if (stamp === null) { return; }
          if (last !== null && stamp !== last) {
            fetch(location.href, { credentials: "same-origin" })
              .then(function (answer) { return answer.text(); })
              .then(function (html) {
                var fresh = new DOMParser().parseFromString(html, "text/html")
                  .querySelector("[data-board-stamp]");
                if (fresh) { board.innerHTML = fresh.innerHTML; }
              });
          }
          last = stamp;
        });
    };
    poll();
    setInterval(poll, Number(board.getAttribute("data-poll-ms")) || 15000);
  }
}());
