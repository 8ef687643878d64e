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

// As-you-type suggestions for the search box, from /v1/suggest (the box is an ordinary search
// field without JavaScript). The last word typed is completed: a care type, a kind or a place
// replaces it; a facility's name opens its page. ARIA 1.2 combobox with a listbox popup.
(function () {
  var input = document.getElementById('q');
  var list = document.getElementById('q-suggestions');
  if (!input || !list || !window.fetch) { return; }
  var en = document.documentElement.lang === 'en';
  var items = [];
  var active = -1;
  var timer = null;
  var asked = 0;
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', 'q-suggestions');
  input.setAttribute('aria-expanded', 'false');

  function lastWord(v) {
    var m = v.match(/(\S+)$/);
    return m ? m[1] : '';
  }
  function close() {
    list.hidden = true;
    list.textContent = '';
    items = [];
    active = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }
  function choose(i) {
    var s = items[i];
    if (!s) { return; }
    if (s.type === 'resource') {
      window.location.href = '/resources/' + encodeURIComponent(s.code) + (en ? '?lang=en' : '');
      return;
    }
    var v = input.value.replace(/(\S+)$/, '');
    input.value = v + s.text + ' ';
    close();
    input.focus();
  }
  function highlight(i) {
    var options = list.querySelectorAll('[role=option]');
    for (var k = 0; k < options.length; k++) {
      options[k].setAttribute('aria-selected', k === i ? 'true' : 'false');
    }
    active = i;
    if (i >= 0 && options[i]) {
      input.setAttribute('aria-activedescendant', options[i].id);
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }
  function show(suggestions) {
    list.textContent = '';
    items = suggestions;
    active = -1;
    if (!items.length) { close(); return; }
    items.forEach(function (s, i) {
      var li = document.createElement('li');
      li.id = 'q-suggestion-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      var main = document.createElement('span');
      main.textContent = s.text;
      var note = document.createElement('small');
      note.textContent = en ? s.en : s.ja;
      li.appendChild(main);
      li.appendChild(note);
      li.addEventListener('mousedown', function (e) { e.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }
  input.addEventListener('input', function () {
    clearTimeout(timer);
    var word = lastWord(input.value);
    if (!word) { close(); return; }
    timer = setTimeout(function () {
      var n = ++asked;
      fetch('/v1/suggest?limit=6&q=' + encodeURIComponent(word))
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (body) { if (n === asked) { show(body.suggestions || []); } })
        .catch(function () { close(); });
    }, 150);
  });
  input.addEventListener('keydown', function (e) {
    if (list.hidden) { return; }
    if (e.key === 'ArrowDown') { e.preventDefault(); highlight((active + 1) % items.length); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); highlight(active <= 0 ? items.length - 1 : active - 1); }
    else if (e.key === 'Enter' && active >= 0) { e.preventDefault(); choose(active); }
    else if (e.key === 'Escape') { close(); }
  });
  input.addEventListener('blur', function () { setTimeout(close, 100); });
})();

// Offline: a service worker keeps the pages a person opened (see /sw.js).
(function () {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(function () {});
  }
})();

// The offline page lists the pages saved on this device.
(function () {
  var list = document.getElementById('saved-pages');
  if (!list || !window.caches) { return; }
  caches.keys().then(function (names) {
    var pages = names.filter(function (n) { return n.indexOf('pages-') === 0; });
    // The offline page itself is not a saved page worth listing.
    return Promise.all(pages.map(function (n) {
      return caches.open(n).then(function (c) {
        return c.keys().then(function (keys) {
          return Promise.all(keys.map(function (k) {
            return c.match(k).then(function (r) { return r.text(); }).then(function (body) {
              var m = body.match(/<title>([^<]*)<\/title>/);
              return { url: k.url, title: m ? m[1].split(' — ')[0] : k.url };
            });
          }));
        });
      });
    }));
  }).then(function (groups) {
    var all = [].concat.apply([], groups || []).filter(function (p) {
      return new URL(p.url).pathname !== '/offline';
    }).reverse();
    all.forEach(function (p) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = p.url;
      a.textContent = new DOMParser().parseFromString(p.title, 'text/html').documentElement.textContent;
      li.appendChild(a);
      list.appendChild(li);
    });
    var none = document.getElementById('saved-none');
    if (none) { none.hidden = all.length > 0; }
  });
})();

// On a shared device: delete the pages saved for use without a signal (/about, /offline).
(function () {
  var box = document.getElementById('forget-saved');
  if (!box || !window.caches) { return; }
  function saved() {
    return caches.keys().then(function (names) { return names.filter(function (n) { return n.indexOf('pages-') === 0; }); });
  }
  saved().then(function (names) { box.hidden = names.length === 0; });
  box.querySelector('button').addEventListener('click', function () {
    saved().then(function (names) {
      return Promise.all(names.map(function (n) { return caches.delete(n); }));
    }).then(function () {
      var list = document.getElementById('saved-pages');
      if (list) { list.textContent = ''; }
      var none = document.getElementById('saved-none');
      if (none) { none.hidden = false; }
      box.querySelector('button').hidden = true;
      document.getElementById('forget-done').hidden = false;
    });
  });
})();
