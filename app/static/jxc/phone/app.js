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

  // rows of `model` matching typed text, as the grid's link editors find them (code, name, pinyin initials,
  // barcode; rows the reader may see; `purpose` "model.field" narrows them to what that field may name)
  function lookup(model, q, purpose) {
    var url = '/api/v1/grid/lookup/' + model + '?q=' + encodeURIComponent(q) + (purpose ? '&for=' + encodeURIComponent(purpose) : '');
    return call('GET', url).then(function (answer) {
      return answer.status === 200 ? answer.body.results || [] : [];
    });
  }

  // the rows found, each a button (code and name) that picks it; the list hides when there are none
  function choices(element, rows, pick) {
    element.textContent = '';
    rows.forEach(function (row) {
      var li = document.createElement('li');
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'ph-choice';
      button.textContent = row.key + ' ' + (row.name || '');
      button.addEventListener('click', function () {
        element.hidden = true;
        pick(row);
      });
      li.appendChild(button);
      element.appendChild(li);
    });
    element.hidden = rows.length === 0;
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

  window.JXCPhone = {
    config: config, text: text, call: call, errorText: errorText, show: show, lookup: lookup, choices: choices,
  };
}());
