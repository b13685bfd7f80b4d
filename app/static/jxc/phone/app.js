// What every phone page shares (window.JXCPhone): its config (the JSON in #ph-config: data, not code, so the
// CSP allows it), the words it shows, JSON calls with the CSRF token, the offline marker, and the service
// worker's registration (docs/phone.md).
(function () {
  'use strict';

  var node = document.getElementById('ph-config');
  var config = node ? JSON.parse(node.textContent) : {};
  var texts = config.texts || {};

  function text(key, params) {
    var value = texts[key] || key;
    Object.keys(params || {}).forEach(function (name) {
      value = value.split('{' + name + '}').join(String(params[name]));
    });
    return value;
  }

  // fetch JSON; resolves {status, body} for any answer, rejects only when nothing came back (offline)
  function call(method, url, body) {
    var options = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    if (method !== 'GET') { options.headers['X-CSRFToken'] = config.csrf_token; }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, body: data };
      });
    });
  }

  // the message of a refused answer: its message, or every field's messages
  function errorText(answer) {
    var body = answer.body || {};
    if (typeof body.message === 'string') { return body.message; }
    if (Array.isArray(body.errors)) {
      return body.errors.map(function (e) { return e.message; }).join('；');
    }
    return text('failed', { status: answer.status });
  }

  function show(element, message, kind) {
    if (!element) { return; }
    element.textContent = message;
    element.className = 'ph-msg' + (kind ? ' ph-' + kind : '');
    element.hidden = !message;
  }

  function markNetwork() {
    var flag = document.getElementById('ph-net');
    if (flag) { flag.hidden = navigator.onLine !== false; }
  }
  window.addEventListener('online', markNetwork);
  window.addEventListener('offline', markNetwork);
  markNetwork();

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/phone/sw.js', { scope: '/phone/' }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // copies kept for another user are dropped before this one's pages are kept
      if (registration.active) { registration.active.postMessage({ type: 'user', user: config.user }); }
    }).catch(function () { /* the pages work without it */ });
  }

  document.addEventListener('click', function (event) {
    if (event.target.closest('[data-print]')) { window.print(); }
  });

  window.JXCPhone = { config: config, text: text, call: call, errorText: errorText, show: show };
}());
