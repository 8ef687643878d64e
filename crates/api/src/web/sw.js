// tsunagu's service worker: the page still opens without a signal (a nurse in a mountain
// village). The app shell (style, script, icons, the offline page) is kept at install; the
// family pages a person opened (a search, a record, the print sheet, programmes, training, power, credits) are kept, the
// newest 20, and shown from the device, marked as a saved copy, when the network fails. Nothing
// else is kept: not the API, not survey forms (their address is a secret), not staff pages. The
// saved pages stay on this device only.
var VERSION = '__VERSION__';
var SHELL = 'shell-' + VERSION;
var PAGES = 'pages-' + VERSION;
var MAX_PAGES = 20;
var SHELL_URLS = ['/offline', '/assets/site.css', '/assets/site.js', '/assets/icon-192.png', '/manifest.webmanifest'];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(SHELL_URLS); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== SHELL && n !== PAGES; }).map(function (n) {
      return caches.delete(n);
    }));
  }).then(function () { return self.clients.claim(); }));
});

function keepable(url) {
  return url.pathname === '/' || url.pathname === '/print' || url.pathname === '/about' || url.pathname === '/offline' ||
    url.pathname === '/programmes' || url.pathname === '/training' || url.pathname === '/power' ||
    /^\/resources\/[0-9a-f-]+$/.test(url.pathname);
}

function keep(request, response) {
  var headers = new Headers(response.headers);
  headers.set('x-tsunagu-saved-at', new Date().toISOString());
  return response.clone().text().then(function (body) {
    var saved = new Response(body, { status: response.status, headers: headers });
    return caches.open(PAGES).then(function (c) {
      return c.put(request, saved).then(function () { return c.keys(); }).then(function (keys) {
        return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (k) { return c.delete(k); }));
      });
    });
  });
}

// A saved page says that it is one, and when it was saved.
function marked(response) {
  var at = response.headers.get('x-tsunagu-saved-at') || '';
  return response.text().then(function (body) {
    var en = body.indexOf('<html lang="en"') >= 0;
    var when = at ? new Date(at).toLocaleString(en ? 'en-GB' : 'ja-JP') : '';
    var note = en
      ? '<p class="notice offline" role="status">No connection: this is the copy saved on this device' + (when ? ' at ' + when : '') + '. Call before you go.</p>'
      : '<p class="notice offline" role="status">電波がありません。この端末に保存した画面です' + (when ? '（' + when + ' 保存）' : '') + '。情報が変わっていることがあります。お出かけの前に電話でご確認ください。</p>';
    return new Response(body.replace('<main id="main">', '<main id="main">' + note), {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' }
    });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf('/v1/') === 0) { return; }
  if (request.mode === 'navigate') {
    if (!keepable(url)) { return; }
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) { event.waitUntil(keep(request, response)); }
      return response;
    }).catch(function () {
      return caches.match(request, { cacheName: PAGES }).then(function (saved) {
        if (saved) { return marked(saved); }
        return caches.match('/offline', { cacheName: SHELL });
      });
    }));
    return;
  }
  if (SHELL_URLS.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(request, { cacheName: SHELL }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
