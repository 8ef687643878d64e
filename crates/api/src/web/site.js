// Progressive enhancement only: the page works without JavaScript.
// "Use my location": ask the browser for the position and search near it.
(function () {
  var button = document.getElementById('locate');
  if (!button || !navigator.geolocation) { if (button) { button.hidden = true; } return; }
  button.addEventListener('click', function () {
    var status = document.getElementById('locate-status');
    status.textContent = button.getAttribute('data-waiting');
    navigator.geolocation.getCurrentPosition(function (pos) {
      var form = button.form;
      form.querySelector('input[name=lat]').value = pos.coords.latitude.toFixed(5);
      form.querySelector('input[name=lon]').value = pos.coords.longitude.toFixed(5);
      form.submit();
    }, function () {
      status.textContent = button.getAttribute('data-failed');
    }, { timeout: 10000, maximumAge: 60000 });
  });
})();

// The nurse-visit sheet's print button.
(function () {
  var b = document.getElementById('print');
  if (b) { b.addEventListener('click', function () { window.print(); }); }
})();
