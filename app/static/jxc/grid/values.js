// Values in the grid: the text a cell shows, the text an editor starts with, the text Ctrl+C copies;
// TSV parsing and quoting for the clipboard; exact sums of decimal strings. Pure functions on G.
(function (G) {
  'use strict';

  var PLAIN_NUMBER = /^(-?)(\d+)(\.\d+)?$/;

  // Thousands separators on the exact decimal string (no floats); money keeps at least two decimals.
  function numberText(col, value) {
    if (value === null || value === undefined || value === '') { return ''; }
    var s = String(value);
    var m = PLAIN_NUMBER.exec(s);
    if (!m) { return s; }  // a pending raw value such as "¥1,200" shows as typed
    var frac = m[3] || '';
    if (col.type === 'money' && frac.length < 3) { frac = (frac || '.') + '00'.slice(0, 3 - (frac || '.').length); }
    return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + frac;
  }

  // Timestamps are stored in UTC (naive ISO); people read them in the business's time zone.
  var clocks = {};
  function businessTime(value) {
    var zone = G.timeZone || 'Asia/Shanghai';
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

  function displayText(col, value) {
    if (value === null || value === undefined) { return ''; }
    if (col.numeric) { return numberText(col, value); }
    switch (col.type) {
      case 'link':
      case 'user':
        if (typeof value === 'object') {
          var key = linkKey(value);
          return value.name && String(value.name) !== key ? (key + ' ' + value.name).trim() : key;
        }
        return String(value);
      case 'select': return optionLabel(col, value);
      case 'bool':
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
    if (col.type === 'link' || col.type === 'user') { return linkKey(value); }
    if (col.type === 'datetime') { return String(value).replace('T', ' '); }
    return String(value);
  }

  // The text Ctrl+C puts on the clipboard: links as their key, decimals as plain strings; t is the
  // page's translator (yes / no for booleans).
  function copyText(col, value, t) {
    if (value === null || value === undefined) { return ''; }
    if (col.type === 'bool') { return value === true ? t('yes') : value === false ? t('no') : String(value); }
    if (col.type === 'select') { return optionLabel(col, value); }
    if (col.type === 'datetime') { return businessTime(value); }  // as shown (timestamps are never edited)
    return editText(col, value);
  }

  function tsvCell(text) {
    return /[\t\n\r"]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // Excel / WPS put CRLF line ends and one trailing newline on the clipboard; quoted cells may hold
  // tabs, newlines and doubled quotes.
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
    parts.forEach(function (m) {
      var frac = (m[3] || '.').slice(1);
      var digits = BigInt(m[2] + frac + '0'.repeat(scale - frac.length));
      total += m[1] ? -digits : digits;
    });
    var neg = total < 0;
    var s = (neg ? -total : total).toString();
    if (scale) {
      while (s.length <= scale) { s = '0' + s; }
      s = s.slice(0, -scale) + '.' + s.slice(-scale);
    }
    return (neg ? '-' : '') + s;
  }

  G.numberText = numberText;
  G.displayText = displayText;
  G.editText = editText;
  G.copyText = copyText;
  G.tsvCell = tsvCell;
  G.parseTsv = parseTsv;
  G.exactSum = exactSum;
}(window.JXCGrid = window.JXCGrid || {}));
