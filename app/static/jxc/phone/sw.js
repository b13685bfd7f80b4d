// The phone pages' service worker (scope /phone/). Reads keep working on a flaky connection: a phone page or
// a read of the APIs they use is fetched from the network first (3.5 s at most) and kept; when the network
// fails the last copy kept is shown. Static files are answered from the cache and refreshed behind. Writes
// (any method but GET) are never touched, cached or replayed: the pages keep their own unsent work
// (counts in localStorage) and send it themselves. Copies belong to one user: the page tells who is signed
// in and another user's copies are dropped first; the sign-in page (nobody signed in, after a logout) and an
// answer that sends to it drop them all.
(function () {
  'use strict';
  var VERSION = 'jxc-phone-v8';
  var STATIC_CACHE = VERSION + '-static';
  var PAGES_CACHE = VERSION + '-pages';
  var SHELL = [
    '/static/jxc/phone/phone.css',
    '/static/jxc/phone/app.js',
    '/static/jxc/phone/count.js',
    '/static/jxc/phone/count_new.js',
    '/static/jxc/phone/review.js',
    '/static/jxc/values.js',
    '/static/jxc/phone/order.js',
    '/static/jxc/phone/inbox.js',
    '/static/jxc/phone/stock.js',
    '/static/jxc/phone/customer.js',
    '/static/jxc/phone/icon-192.png',
  ];
  var READS = [/^\/phone\//, /^\/api\/v1\/phone\/stock$/, /^\/api\/v1\/inbox\/$/, /^\/api\/v1\/grid\/lookup\//];
  var NETWORK_WAIT_MS = 3500;

  self.addEventListener('install', function (event) {
    event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
      return self.skipWaiting();
    }));
  });

  self.addEventListener('activate', function (event) {
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf(VERSION) !== 0; }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () { return self.clients.claim(); }));
  });

  self.addEventListener('message', function (event) {
    var data = event.data || {};
    if (data.type !== 'user') { return; }
    if (!data.user) { // nobody is signed in: nobody's copies are kept
      event.waitUntil(caches.delete(PAGES_CACHE));
      return;
    }
    var marker = new Request('/phone/__user__');
    event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(marker).then(function (found) {
        return found ? found.text() : '';
      }).then(function (before) {
        if (before === String(data.user)) { return null; }
        return caches.delete(PAGES_CACHE).then(function () { return caches.open(PAGES_CACHE); }).then(function (fresh) {
          return fresh.put(marker, new Response(String(data.user)));
        });
      });
    }));
  });

  function networkFirst(request) {
    return caches.open(PAGES_CACHE).then(function (cache) {
      var network = fetch(request).then(function (response) {
        if (response.redirected && new URL(response.url).pathname.indexOf('/login/') === 0) {
          return caches.delete(PAGES_CACHE).then(function () { return response; }); // signed out
        }
        if (response.ok && !response.redirected && response.type === 'basic') {
          cache.put(request, response.clone());
        }
        return response;
      });
      var timeout = new Promise(function (resolve) {
        setTimeout(function () { resolve(null); }, NETWORK_WAIT_MS);
      });
      return Promise.race([network.catch(function () { return null; }), timeout]).then(function (response) {
        if (response) { return response; }
        return cache.match(request).then(function (kept) { return kept || network; });
      });
    });
  }

  function cacheFirst(request) {
    return caches.open(STATIC_CACHE).then(function (cache) {
      // this version (?v=) of the file, else the copy kept of another (the shell is kept without ?v=)
      return cache.match(request).then(function (exact) {
        return exact || cache.match(request, {ignoreSearch: true});
      }).then(function (kept) {
        var network = fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
        return kept || network;
      });
    });
  }

  self.addEventListener('fetch', function (event) {
    var request = event.request;
    if (request.method !== 'GET') { return; } // writes go to the network as they are, never cached
    var url = new URL(request.url);
    if (url.origin !== self.location.origin || url.pathname === '/phone/sw.js') { return; }
    if (url.pathname.indexOf('/static/') === 0) {
      event.respondWith(cacheFirst(request));
    } else if (READS.some(function (pattern) { return pattern.test(url.pathname); })) {
      event.respondWith(networkFirst(request));
    }
  });
}());
