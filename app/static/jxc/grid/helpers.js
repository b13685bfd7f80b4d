// The small DOM and HTTP helpers every grid file uses. Each file of the grid adds to the one namespace
// window.JXCGrid (G); main.js starts the page. Texts and values come from ../values.js (window.JXC).
(function (G) {
  'use strict';

  G.el = function (tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  };

  // A list item showing its label as text, never as HTML (Tabulator's list itemFormatter).
  G.safeItem = function (label) {
    var span = document.createElement('span');
    span.textContent = label === null || label === undefined ? '' : String(label);
    return span;
  };

  G.uuid = function () {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  };

  G.qs = function (params) {
    return params.map(function (p) { return encodeURIComponent(p[0]) + '=' + encodeURIComponent(p[1]); }).join('&');
  };

  G.withQuery = function (url, params) {
    var q = G.qs(params);
    return q ? url + (url.indexOf('?') < 0 ? '?' : '&') + q : url;
  };

  // Phones get cards instead of the grid (main.js; early.js asks for no grid rows there).
  G.isPhone = function () {
    var coarseOnly = window.matchMedia && window.matchMedia('(pointer: coarse)').matches &&
      !window.matchMedia('(pointer: fine)').matches;
    return window.innerWidth < 768 || coarseOnly;
  };

  G.fetchOptions = function (method) {
    return {method: method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
  };

  // GET requests started before the grid was built (early.js), by URL: the first request() of the same URL
  // takes the answer instead of asking again.
  G.early = G.early || {};

  // The page's request(method, url, body, retries): one JSON request that resolves {status, body} and
  // counts itself in state.busy; network failures are retried with the same body (a batch carries its
  // client_batch_id, so the server answers a repeat from its log).
  G.requester = function (cfg, state, t) {
    return function request(method, url, body, retries) {
      var options = G.fetchOptions(method);
      if (body !== undefined) {
        options.headers['Content-Type'] = 'application/json';
        options.headers['X-CSRFToken'] = cfg.csrf_token;
        options.body = JSON.stringify(body);
      }
      var started = method === 'GET' ? G.early[url] : null;
      delete G.early[url];
      state.busy += 1;
      function attempt(left) {
        var sent = started || fetch(url, options);
        started = null;
        return sent.then(function (response) {
          return response.text().then(function (text) {
            var data;
            try { data = text ? JSON.parse(text) : {}; } catch { data = {message: text.slice(0, 300)}; }
            return {status: response.status, body: data};
          });
        }, function () {
          if (left > 0) {
            return new Promise(function (resolve) { window.setTimeout(resolve, 800); }).then(function () { return attempt(left - 1); });
          }
          return {status: 0, body: {message: t('network')}};
        });
      }
      return attempt(retries === undefined ? 2 : retries).then(function (r) {
        state.busy -= 1;
        return r;
      });
    };
  };
}(window.JXCGrid = window.JXCGrid || {}));
