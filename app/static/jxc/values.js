// Values in the browser, shared by the grid and the document forms: the text a cell shows, the text an
// editor starts with and the text Ctrl+C copies, chosen by the column's `format` (which the server's
// field type names: text, number, tick, option, link, datetime); TSV parsing and quoting for the
// clipboard; exact sums of decimal strings; the page's texts, read from the catalogue the page carries.
// Pure functions on window.JXC; no arithmetic on money here (the server computes it).
(function (J) {
  'use strict';

  var PLAIN_NUMBER = /^(-?)(\d+)(\.\d+)?$/;

  // The page's texts: the server renders the catalogue keys a script needs as JSON into
  // <script type="application/json" id="jxc-texts"> (data, not code: the CSP allows it).
  // t(key) or t(key, n) fills {n}; t(key, {name: value}) fills {name}.
  J.translator = function () {
    var node = document.getElementById('jxc-texts');
    var texts = node ? JSON.parse(node.textContent || '{}') : {};
    return function t(key, params) {
      var text = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
      if (params === undefined) { return text; }
      var values = typeof params === 'object' && params !== null ? params : {n: params};
      return text.replace(/\{(\w+)\}/g, function (all, name) {
        return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
      });
    };
  };

  // The digits of a decimal string rounded half up (away from zero on a tie, as the server rounds) to `places`:
  // [sign, whole, fraction], on the string (no floats), -0.00 shown as 0.00.
  function roundedDigits(sign, whole, frac, places) {
    if (frac.length <= places) { return [sign, whole, frac]; }
    var digits = (whole + frac.slice(0, places)).split('');
    if (frac.charAt(places) >= '5') {
      var i = digits.length - 1;
      while (i >= 0 && digits[i] === '9') { digits[i] = '0'; i -= 1; }
      if (i < 0) { digits.unshift('1'); } else { digits[i] = String(Number(digits[i]) + 1); }
    }
    var cut = digits.length - places;
    var w = digits.slice(0, cut).join('').replace(/^0+(?=\d)/, ''), f = digits.slice(cut).join('');
    return [/[1-9]/.test(w + f) ? sign : '', w, f];
  }

  // Thousands separators on the exact decimal string (no floats); col.decimals digits at least (money: 2); a
  // column read to col.places (money: the cent) is shown rounded to them, its value (and a copy of it) exact.
  function numberText(col, value) {
    if (value === null || value === undefined || value === '') { return ''; }
    var s = String(value);
    var m = PLAIN_NUMBER.exec(s);
    if (!m) { return s; }  // a pending raw value such as "¥1,200" shows as typed
    if (col && typeof col.places === 'number') {
      var r = roundedDigits(m[1], m[2], (m[3] || '').slice(1), col.places);
      m = [s, r[0], r[1], r[2] ? '.' + r[2] : ''];
    }
    var frac = (m[3] || '').slice(1);
    var least = (col && col.decimals) || 0;
    while (frac.length < least) { frac += '0'; }
    return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? '.' + frac : '');
  }

  // Timestamps are stored in UTC (naive ISO); people read them in the business's time zone.
  var clocks = {};
  function businessTime(value) {
    var zone = J.timeZone || 'Asia/Shanghai';
    var moment = new Date(String(value).slice(0, 19) + 'Z');
    if (isNaN(moment.getTime())) { return String(value).replace('T', ' '); }
    clocks[zone] = clocks[zone] || new Intl.DateTimeFormat('sv-SE', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'
    });
    return clocks[zone].format(moment);
  }

  function linkKey(value) {
    if (value && typeof value === 'object') { return value.key === null || value.key === undefined ? '' : String(value.key); }
    return value === null || value === undefined ? '' : String(value);
  }

  function optionLabel(col, value) {
    var found = (col.options || []).filter(function (o) { return o.value === value; })[0];
    return found ? found.label : (value === null || value === undefined ? '' : String(value));
  }

  // A share (col.percent: 折扣率, stored 0.075) is read, typed and copied as a percent, 7.5%: the decimal point
  // moved two places on the exact string. A value that is not a plain number (one typed, pending) stays as it is.
  function percentText(value) {
    var m = PLAIN_NUMBER.exec(String(value));
    if (!m) { return null; }
    var frac = (m[3] || '').slice(1);
    while (frac.length < 2) { frac += '0'; }
    var whole = (m[2] + frac.slice(0, 2)).replace(/^0+(?=\d)/, '');
    var rest = frac.slice(2).replace(/0+$/, '');
    return m[1] + whole + (rest ? '.' + rest : '') + '%';
  }

  // What a person typed or pasted into a share's cell, as the server takes it: a bare number is a percent.
  function typedValue(col, text) {
    if (!col || !col.percent || text === null || text === undefined) { return text; }
    var s = String(text).trim();
    return PLAIN_NUMBER.test(s) ? s + '%' : text;
  }

  function displayText(col, value) {
    if (value === null || value === undefined) { return ''; }
    if (col.percent && percentText(value) !== null) { return percentText(value); }
    switch (col.format) {
      case 'number': return numberText(col, value);
      case 'link':
        if (typeof value === 'object') {
          var key = linkKey(value);
          return value.name && String(value.name) !== key ? (key + ' ' + value.name).trim() : key;
        }
        return String(value);
      case 'option': return optionLabel(col, value);
      case 'tick':
        if (value === true) { return '✓'; }
        if (value === false) { return ''; }
        return String(value);
      case 'datetime': return businessTime(value);
      default: return String(value);
    }
  }

  // The text an editor starts with (what the server parses back).
  function editText(col, value) {
    if (value === null || value === undefined) { return ''; }
    if (col.percent && percentText(value) !== null) { return percentText(value); }
    if (col.format === 'link') { return linkKey(value); }
    if (col.format === 'datetime') { return String(value).replace('T', ' '); }
    return String(value);
  }

  // The text Ctrl+C puts on the clipboard: links as their key, decimals as plain strings; t is the
  // page's translator (yes / no for ticks).
  function copyText(col, value, t) {
    if (value === null || value === undefined) { return ''; }
    if (col.format === 'tick') {
      if (value === true) { return t('yes'); }
      return value === false ? t('no') : String(value);
    }
    if (col.format === 'option') { return optionLabel(col, value); }
    if (col.format === 'datetime') { return businessTime(value); }  // as shown (timestamps are never edited)
    return editText(col, value);
  }

  function tsvCell(text) {
    return /[\t\n\r"]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // Excel / WPS put CRLF line ends and one trailing newline on the clipboard; quoted cells may hold
  // tabs, newlines and doubled quotes. Rows come back as wide as the widest.
  function parseTsv(text) {
    var raw = String(text || '');
    text = raw.replace(/\r\n?/g, '\n');
    if (text.slice(-1) === '\n') { text = text.slice(0, -1); }
    if (text === '') { return raw ? [['']] : []; }  // one empty cell copied from Excel is just a newline
    var parsed = window.Papa.parse(text, {delimiter: '\t', quoteChar: '"', newline: '\n', skipEmptyLines: false});
    var rows = parsed.data || [];
    var width = rows.reduce(function (w, r) { return Math.max(w, r.length); }, 0);
    return rows.map(function (r) {
      var out = r.slice();
      while (out.length < width) { out.push(''); }
      return out;
    });
  }

  // Text on the clipboard that is a block (several cells) rather than one value.
  function isBlock(text) {
    return /[\t\r\n]/.test(String(text || '').replace(/[\r\n]+$/, ''));
  }

  // Exact sum of plain decimal strings (BigInt), or null when a value is not plain.
  function exactSum(values) {
    if (typeof BigInt === 'undefined') { return null; }
    var scale = 0;
    var parts = [];
    for (var i = 0; i < values.length; i += 1) {
      var v = values[i];
      if (v === null || v === undefined || v === '') { continue; }
      var m = PLAIN_NUMBER.exec(String(v));
      if (!m) { return null; }
      parts.push(m);
      scale = Math.max(scale, (m[3] || '.').length - 1);
    }
    if (!parts.length) { return null; }
    var total = BigInt(0);
    parts.forEach(function (part) {
      var frac = (part[3] || '.').slice(1);
      var digits = BigInt(part[2] + frac + '0'.repeat(scale - frac.length));
      total += part[1] ? -digits : digits;
    });
    var neg = total < 0;
    var s = (neg ? -total : total).toString();
    if (scale) {
      while (s.length <= scale) { s = '0' + s; }
      s = s.slice(0, -scale) + '.' + s.slice(-scale);
    }
    return (neg ? '-' : '') + s;
  }

  // A lookup's answer ({results: [{key, name}]}) as a datalist's suggestions: the key typed, the name beside it
  function offerRows(list, rows) {
    list.textContent = '';
    rows.forEach(function (row) {
      var option = document.createElement('option');
      option.value = row.key;
      option.label = row.name || row.key;  // text only: never HTML
      list.appendChild(option);
    });
  }

  // A filter box that offers, as the reader focuses or types in it, what its lookup answers (`data-lookup`: the
  // URL without q; `list`: its datalist): users by name, a link's rows by code, name or pinyin, only those the
  // server lets this reader name. Each box asks once per text, 200 ms after the typing stops.
  function offerAsTyped(input) {
    var asked = null;
    var pending = null;
    function offer() {
      var ask = input.getAttribute('data-lookup') + '&q=' + encodeURIComponent(input.value.trim());
      if (ask === asked) { return; }
      asked = ask;
      fetch(ask, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          var list = document.getElementById(input.getAttribute('list'));
          if (data && list) { offerRows(list, data.results); }
        })
        .catch(function () { asked = null; });
    }
    input.addEventListener('focus', offer);
    input.addEventListener('input', function () {
      clearTimeout(pending);
      pending = setTimeout(offer, 200);
    });
  }

  Object.assign(J, {
    numberText: numberText, displayText: displayText, editText: editText, copyText: copyText,
    tsvCell: tsvCell, parseTsv: parseTsv, isBlock: isBlock, exactSum: exactSum, typedValue: typedValue,
    offerRows: offerRows, offerAsTyped: offerAsTyped
  });
}(window.JXC = window.JXC || {}));
