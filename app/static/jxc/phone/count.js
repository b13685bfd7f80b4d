// Counting a stocktake on the phone. A scanner gun types the code and Enter into the focused scan field;
// each scan adds 1 to that code's count, and the field is empty and focused for the next one. A quantity can
// be typed too (in a unit of the item: 2 箱 is 48 when a box holds 24), or the count corrected (set to the
// number typed); a typed quantity is checked here and said wrong next to its field, and sent as the decimal
// text typed (the server adds exact decimals). Counts are kept in localStorage until sent; sending freezes them
// (oldest first: a correction then a scan is a correction plus one) into a batch with a key of its own, which
// is sent (again after a lost answer) until the server has it: the server applies a key once and answers a
// second send with the first answer, so a batch is never counted twice.
(function () {
  'use strict';

  var P = window.JXCPhone;
  var config = P.config;
  var scan = document.getElementById('ph-scan');
  var list = document.getElementById('ph-pending');
  var message = document.getElementById('ph-msg');
  var sendButton = document.getElementById('ph-send');
  var qtyField = document.getElementById('ph-count-qty');
  var unitField = document.getElementById('ph-count-unit');
  var setField = document.getElementById('ph-count-set');
  var qtyError = document.getElementById('ph-qty-error');
  var sending = false;
  var PLACES = 4; // a quantity's decimals, as the server takes them
  var MAX_QTY = 1000000000;

  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(config.storage) || 'null');
      if (saved && typeof saved === 'object') { return { pending: saved.pending || [], batch: saved.batch || null }; }
    } catch { /* a damaged copy starts afresh */ }
    return { pending: [], batch: null };
  }
  var state = load();

  function save() { localStorage.setItem(config.storage, JSON.stringify(state)); }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  // The typed quantity as the text the server takes ({qty}), or what is wrong with it ({error}).
  function typedQty(text, replace) {
    if (/^\s*-/.test(text)) { return { error: P.text('qty_negative') }; }
    var match = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match) { return { error: P.text('qty_not_number') }; }
    if (match[2] && match[2].length > PLACES) { return { error: P.text('qty_places', { places: PLACES }) }; }
    if (match[1].replace(/^0+/, '').length > 10 || Number(text) > MAX_QTY) { return { error: P.text('qty_too_big') }; }
    if (!replace && !/[1-9]/.test(text)) { return { error: P.text('qty_zero') }; }
    return { qty: text };
  }

  function isWhole(count) { return !count.set && /^\d+$/.test(count.qty); }

  // A count on top of the pending ones. One more of a code (a scan) goes onto that code's newest count when it
  // is a whole number in the same unit and not a correction; anything else is a count of its own.
  function add(code, qty, unit, replace, onePiece) {
    code = code.trim();
    if (!code) { return; }
    var found = state.pending.filter(function (c) { return c.code === code; })[0];
    if (onePiece && found && isWhole(found) && (found.unit || '') === unit) {
      found.qty = String(Number(found.qty) + 1);
      state.pending.splice(state.pending.indexOf(found), 1);
    } else {
      found = { code: code, qty: qty };
      if (unit) { found.unit = unit; found.unitName = unitNames[unit] || unit; } // named as it was offered
      if (replace) { found.set = true; }
    }
    if (itemNames[code]) { found.item = itemNames[code]; }
    state.pending.unshift(found); // the last scanned on top
    save();
    render();
    nameCode(code);
  }

  // The unit list offers the units of the item the scan field names (its base unit, sent as "", and its
  // item_unit conversions), the one the stocktake's line of it uses first (a case barcode: the case), looked up
  // as the code is typed or scanned; an empty field or a code not known offers the base unit only.
  var unitsAsked = '';
  var unitsTimer = null;
  var unitNames = {}; // every unit shown so far by code: a pending count keeps the name it was typed with
  // what each code counts, as the server named it ("SP0001 农夫山泉"): shown on the counts not yet sent
  var itemNames = {};
  function named(code, answer) {
    if (!answer || !answer.item) { return; }
    itemNames[code] = answer.item.key + ' ' + (answer.item.name || '');
    var changed = false;
    state.pending.concat(state.batch ? state.batch.counts : []).forEach(function (c) {
      if (c.code === code && !c.item) { c.item = itemNames[code]; changed = true; }
    });
    if (changed) { save(); render(); }
  }
  function nameCode(code) {
    if (itemNames[code]) { return; }
    P.call('GET', config.units_api + '?code=' + encodeURIComponent(code)).then(function (answer) {
      if (answer.status === 200) { named(code, answer.body); }
    }, function () { /* offline: the code is shown as scanned */ });
  }

  function offerUnits(answer) {
    unitField.textContent = '';
    var units = answer && answer.units && answer.units.length ? answer.units : [{ code: '', name: '', base: true }];
    var base = units[0].name;
    units.forEach(function (unit) {
      var option = document.createElement('option');
      option.value = unit.code;
      if (unit.base) {
        option.textContent = unit.name ? P.text('unit_base', { name: unit.name }) : P.text('base_unit');
      } else {
        option.textContent = P.text('unit_ratio', { name: unit.name, ratio: unit.ratio, base: base });
        unitNames[unit.code] = unit.name;
      }
      unitField.appendChild(option);
    });
    unitField.value = answer && answer.default ? answer.default : '';
  }
  function askUnits() {
    var code = scan.value.trim();
    if (code === unitsAsked) { return; }
    unitsAsked = code;
    if (!code) { offerUnits(null); return; }
    P.call('GET', config.units_api + '?code=' + encodeURIComponent(code)).then(function (answer) {
      if (answer.status === 200) { named(code, answer.body); }
      if (scan.value.trim() !== code) { return; } // another code was typed meanwhile
      offerUnits(answer.status === 200 ? answer.body : null);
    }, function () { /* offline: the base unit stays offered, the server checks what is sent */ });
  }
  scan.addEventListener('input', function () {
    clearTimeout(unitsTimer);
    unitsTimer = setTimeout(askUnits, 250);
  });

  function unitName(code) {
    if (unitNames[code]) { return unitNames[code]; }
    var option = Array.prototype.filter.call(unitField.options, function (o) { return o.value === code; })[0];
    return option ? option.textContent : code;
  }

  function fieldError(words) {
    qtyError.textContent = words;
    qtyError.hidden = !words;
    qtyField.setAttribute('aria-invalid', words ? 'true' : 'false');
  }

  function render() {
    list.textContent = '';
    var waiting = state.batch ? state.batch.counts : [];
    waiting.forEach(function (c) { list.appendChild(row(c, true)); });
    state.pending.forEach(function (c) { list.appendChild(row(c, false)); });
    var total = waiting.length + state.pending.length;
    document.getElementById('ph-unsent-count').textContent = String(total);
    sendButton.disabled = !config.draft || sending || total === 0;
  }

  function row(count, frozen) {
    var li = document.createElement('li');
    li.className = 'ph-line' + (frozen ? ' ph-frozen' : '');
    li.setAttribute('data-code', count.code);
    var name = document.createElement('span');
    name.textContent = (count.item && count.item.indexOf(count.code + ' ') !== 0 ? count.code + ' · ' + count.item : count.item || count.code) + (count.set ? ' · ' + P.text('set_to') : '') + (frozen ? ' · ' + P.text('sending') : '');
    var qty = document.createElement('strong');
    qty.className = 'ph-qty';
    qty.textContent = count.qty + (count.unit ? ' ' + (count.unitName || unitName(count.unit)) : '');
    li.appendChild(name);
    li.appendChild(qty);
    if (!frozen) {
      var minus = document.createElement('button');
      minus.type = 'button';
      minus.className = 'ph-x';
      minus.textContent = '−';
      minus.setAttribute('aria-label', P.text(isWhole(count) ? 'less' : 'remove'));
      minus.addEventListener('click', function () {
        count.qty = isWhole(count) ? String(Number(count.qty) - 1) : '0'; // a typed count goes as a whole
        if (Number(count.qty) <= 0) { state.pending.splice(state.pending.indexOf(count), 1); }
        save();
        render();
      });
      li.appendChild(minus);
    }
    return li;
  }

  function answerText(body) {
    var parts = [P.text('sent', { count: (body.counted || []).length })];
    if (body.replayed) { parts.push(P.text('already_sent')); }
    if ((body.unknown || []).length) { parts.push(P.text('unknown', { codes: body.unknown.join(P.text('list_separator')) })); }
    (body.refused || []).forEach(function (r) { parts.push(r.code + '：' + r.reason); });
    return parts.join('；');
  }

  function updateLines(body) {
    var lines = document.getElementById('ph-lines');
    (body.counted || []).forEach(function (c) {
      if (!c.item) { return; }
      var li = lines.querySelector('[data-item="' + CSS.escape(c.item.key) + '"]');
      if (!li) {
        li = document.createElement('li');
        li.className = 'ph-line';
        li.setAttribute('data-item', c.item.key);
        var name = document.createElement('span');
        name.textContent = c.item.key + ' ' + (c.item.name || '');
        var counted = document.createElement('strong');
        counted.className = 'ph-counted';
        li.appendChild(name);
        li.appendChild(counted);
        lines.appendChild(li);
      }
      li.querySelector('.ph-counted').textContent = c.counted;
    });
  }

  function send() {
    if (sending) { return; }
    if (!state.batch) {
      if (!state.pending.length) { return; }
      state.batch = { key: newKey(), counts: state.pending.slice().reverse() }; // oldest first
      state.pending = [];
      save();
    }
    sending = true;
    render();
    P.show(message, P.text('sending'), '');
    var body = { key: state.batch.key, counts: state.batch.counts.map(function (c) { // what the page shows stays here
      var sent = { code: c.code, qty: c.qty };
      if (c.unit) { sent.unit = c.unit; }
      if (c.set) { sent.set = true; }
      return sent;
    }) };
    P.call('POST', config.api, body).then(function (answer) {
      sending = false;
      if (answer.status === 200) {
        state.batch = null;
        save();
        updateLines(answer.body);
        P.show(message, answerText(answer.body), answer.body.unknown.length || answer.body.refused.length ? 'warn' : 'ok');
        render();
        if (state.pending.length && navigator.onLine !== false) { send(); }
        return;
      }
      if (answer.status >= 500 || answer.status === 429) {
        P.show(message, P.text('kept') + ' ' + P.errorText(answer), 'error');
      } else {
        P.show(message, P.errorText(answer), 'error');
      }
      render();
    }, function () {
      sending = false;
      P.show(message, P.text('kept'), 'error');
      render();
    });
  }

  // what was wrong with the quantity is said until it is typed again (数量不能为负数 stayed beside a corrected 2)
  qtyField.addEventListener('input', function () { fieldError(''); });

  // Enter in the scan field (a scanner's) or in the quantity field: the count goes onto the pending ones
  function enterCount() {
    var typed = qtyField.value.trim();
    var replace = setField.checked;
    if (!scan.value.trim()) {
      if (typed || replace) { fieldError(P.text('code_first')); }
      scan.focus();
      return;
    }
    if (typed || replace) {
      var checked = typedQty(typed, replace);
      if (checked.error) { // said next to the field; the code stays for another try
        fieldError(checked.error);
        qtyField.focus();
        return;
      }
      add(scan.value, checked.qty, unitField.value, replace, false);
      qtyField.value = '';
      setField.checked = false;
    } else {
      add(scan.value, '1', unitField.value, false, true);
    }
    fieldError('');
    scan.value = '';
    clearTimeout(unitsTimer);
    askUnits(); // the next code's units
    scan.focus();
  }

  document.getElementById('ph-scan-form').addEventListener('submit', function (event) {
    event.preventDefault();
    enterCount();
  });
  [scan, qtyField].forEach(function (field) { // two text fields: the browser no longer submits on Enter itself
    field.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.isComposing) {
        event.preventDefault();
        enterCount();
      }
    });
  });
  sendButton.addEventListener('click', function () {
    send();
    scan.focus(); // the scanner's next code goes to the scan field, not to the button
  });
  document.getElementById('ph-clear').addEventListener('click', function () {
    if (state.pending.length && window.confirm(P.text('confirm_clear'))) {
      state.pending = [];
      save();
      render();
    }
  });
  window.addEventListener('online', function () { if (state.batch) { send(); } });

  // why the camera did not open, in words (the browser's error names, NotAllowedError..., are not shown)
  function cameraProblem(error) {
    var name = error && error.name ? error.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError') { return P.text('camera_denied'); }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') { return P.text('camera_missing'); }
    if (name === 'NotReadableError' || name === 'AbortError') { return P.text('camera_busy'); }
    return P.text('camera_failed');
  }

  // the camera: only where the browser allows it (HTTPS or localhost) and the vendored reader loaded
  var reader = null;
  var controls = null;
  document.getElementById('ph-camera').addEventListener('click', function () {
    var box = document.getElementById('ph-camera-box');
    if (controls) {
      controls.stop();
      controls = null;
      box.hidden = true;
      return;
    }
    if (!window.isSecureContext || !navigator.mediaDevices || !window.ZXingBrowser) {
      P.show(message, P.text('camera_needs_https'), 'warn');
      return;
    }
    box.hidden = false;
    reader = reader || new window.ZXingBrowser.BrowserMultiFormatReader();
    var last = '';
    var lastAt = 0;
    reader.decodeFromVideoDevice(undefined, document.getElementById('ph-video'), function (result) {
      if (!result) { return; }
      var code = result.getText();
      var now = Date.now();
      if (code === last && now - lastAt < 1500) { return; } // one code held in view is one scan
      last = code;
      lastAt = now;
      add(code, '1', unitField.value, false, true);
      if (navigator.vibrate) { navigator.vibrate(60); }
    }).then(function (c) { controls = c; }, function (error) {
      box.hidden = true;
      P.show(message, cameraProblem(error), 'error');
    });
  });

  render();
  if (state.batch && navigator.onLine !== false) { P.show(message, P.text('unsent_batch'), 'warn'); }
  scan.focus();
}());
