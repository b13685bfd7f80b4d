// Document forms: link inputs autocomplete by code, name, pinyin initials or barcode; document lines work
// like a small spreadsheet (scan or type an item and its unit and price fill in, Enter moves down, a block
// pasted from Excel spreads over the rows, totals update as you type). The server still parses and
// checks everything on save; nothing here is trusted.
(function () {
  'use strict';

  var form = document.querySelector('.jxc-form form');
  if (!form) { return; }
  var table = form.querySelector('table.jxc-lines');
  var docModel = table ? table.getAttribute('data-model') : null;

  function getJSON(url) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  // -- link autocomplete ------------------------------------------------------------------------
  function datalistFor(model) {
    var id = 'jxc-dl-' + model;
    var list = document.getElementById(id);
    if (!list) {
      list = document.createElement('datalist');
      list.id = id;
      document.body.appendChild(list);
    }
    return list;
  }

  var lookup = debounce(function (input) {
    var model = input.getAttribute('data-link');
    var text = input.value.trim();
    if (!model || !text) { return; }
    getJSON('/api/v1/grid/lookup/' + encodeURIComponent(model) + '?q=' + encodeURIComponent(text)).then(function (data) {
      if (!data) { return; }
      var list = datalistFor(model);
      list.textContent = '';
      data.results.forEach(function (row) {
        var option = document.createElement('option');
        option.value = row.key;
        option.label = row.name || row.key;  // text only: never HTML
        list.appendChild(option);
      });
    });
  }, 200);

  function wireLink(input) {
    var model = input.getAttribute('data-link');
    if (model) { input.setAttribute('list', datalistFor(model).id); }
  }

  form.querySelectorAll('input[data-link]').forEach(wireLink);
  form.addEventListener('input', function (event) {
    if (event.target.matches('input[data-link]')) { lookup(event.target); }
  });

  if (!table) { return; }

  // -- exact decimals ---------------------------------------------------------------------------
  var FULL_WIDTH = /[\uFF10-\uFF19\uFF0E\uFF0C\uFF0D]/g;

  function parseDecimal(text) {
    var clean = String(text || '').replace(FULL_WIDTH, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/[¥￥,\s]/g, '');
    var match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(clean);
    if (!match || (match[2] === '' && !match[3])) { return null; }
    var frac = match[3] || '';
    var units = BigInt((match[2] || '0') + frac);
    return {units: match[1] ? -units : units, scale: frac.length};
  }

  function toScale(value, scale) {
    var diff = value.scale - scale;
    if (diff <= 0) { return value.units * (10n ** BigInt(-diff)); }
    var divisor = 10n ** BigInt(diff);
    var negative = value.units < 0n;
    var magnitude = negative ? -value.units : value.units;
    var rounded = (magnitude + divisor / 2n) / divisor;  // half up, like the server
    return negative ? -rounded : rounded;
  }

  function format(units, scale) {
    var negative = units < 0n;
    var digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
    var whole = digits.slice(0, digits.length - scale).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return (negative ? '-' : '') + whole + (scale ? '.' + digits.slice(digits.length - scale) : '');
  }

  // -- rows -------------------------------------------------------------------------------------
  function rows() { return Array.prototype.slice.call(table.tBodies[0].rows); }

  function cell(row, field) {
    var index = row.getAttribute('data-index');
    return row.querySelector('[name="lines-' + index + '-' + field + '"]') || row.querySelector('#l-' + index + '-' + field);
  }

  function inputs(row) {
    return Array.prototype.slice.call(row.querySelectorAll('input[name], select[name]'))
      .filter(function (el) { return el.type !== 'hidden' && !el.disabled; });
  }

  // A priced line's money in cents, as the server computes it (app/ledger/compute.py line_money):
  // qty x price less the discount, then the tax added to it, or taken out of it when prices include tax.
  function lineMoney(row, inclusive) {
    var qty = parseDecimal((cell(row, 'qty') || {}).value);
    var price = parseDecimal((cell(row, 'price') || {}).value);
    if (!qty || !price) { return null; }
    var discount = parseDecimal((cell(row, 'discount_rate') || {}).value) || {units: 0n, scale: 0};
    var keep = {units: 10n ** BigInt(discount.scale) - discount.units, scale: discount.scale};
    var base = toScale({units: qty.units * price.units * keep.units, scale: qty.scale + price.scale + keep.scale}, 2);
    var rate = parseDecimal((cell(row, 'tax_rate') || {}).value) || {units: 0n, scale: 0};
    var hundred = 100n * 10n ** BigInt(rate.scale);
    if (inclusive) {
      var taken = divideHalfUp(base * rate.units, hundred + rate.units);
      return {amount: base - taken, tax: taken, withTax: base};
    }
    var added = divideHalfUp(base * rate.units, hundred);
    return {amount: base, tax: added, withTax: base + added};
  }

  function divideHalfUp(numerator, denominator) {
    var negative = (numerator < 0n) !== (denominator < 0n);
    var n = numerator < 0n ? -numerator : numerator, d = denominator < 0n ? -denominator : denominator;
    var rounded = (2n * n + d) / (2n * d);
    return negative ? -rounded : rounded;
  }

  function recompute() {
    var qtyTotal = 0n, qtyScale = 4, counted = 0;
    var sums = {amount: 0n, tax: 0n, withTax: 0n};
    var outputs = {amount: 'amount', tax: 'tax_amount', withTax: 'amount_with_tax'};
    var inclusive = form.querySelector('[name="prices_include_tax"]');
    inclusive = !!(inclusive && inclusive.checked);
    rows().forEach(function (row) {
      var qty = parseDecimal((cell(row, 'qty') || {}).value);
      if (qty) { qtyTotal += toScale(qty, qtyScale); counted += 1; }
      var ratio = parseDecimal((cell(row, 'unit_ratio') || {}).value);
      var baseQty = cell(row, 'base_qty');
      if (baseQty) {
        baseQty.value = qty && ratio ? format(toScale({units: qty.units * ratio.units, scale: qty.scale + ratio.scale}, 4), 4)
          .replace(/\.?0+$/, '') : '';
      }
      var money = lineMoney(row, inclusive);
      Object.keys(outputs).forEach(function (part) {
        var input = cell(row, outputs[part]);
        if (money) { sums[part] += money[part]; }
        if (input && money) { input.value = format(money[part], 2); } else if (input && input.disabled) { input.value = ''; }
      });
    });
    var total = document.getElementById('jxc-lines-total');
    var zh = document.documentElement.lang.indexOf('zh') === 0;
    var first = rows()[0];
    var qtyText = format(toScale({units: qtyTotal, scale: qtyScale}, 4), 4).replace(/\.?0+$/, '') || '0';
    var text = (zh ? '合计：' + counted + ' 行，数量 ' : 'Total: ' + counted + ' lines, qty ') + qtyText;
    if (cell(first, 'price')) { text += (zh ? '，金额 ¥' : ', amount ¥') + format(sums.amount, 2); }
    if (cell(first, 'tax_amount')) {
      text += (zh ? '，税额 ¥' : ', tax ¥') + format(sums.tax, 2) +
        (zh ? '，价税合计 ¥' : ', with tax ¥') + format(sums.withTax, 2);
    }
    total.textContent = text;
  }

  function addRow() {
    var last = rows()[rows().length - 1];
    var next = Math.max.apply(null, rows().map(function (r) { return Number(r.getAttribute('data-index')); })) + 1;
    var row = last.cloneNode(true);
    var old = last.getAttribute('data-index');
    row.setAttribute('data-index', String(next));
    row.querySelectorAll('.jxc-error').forEach(function (el) { el.remove(); });
    row.querySelectorAll('.has-error').forEach(function (el) { el.classList.remove('has-error'); });
    row.querySelectorAll('input, select').forEach(function (el) {
      if (el.name) { el.name = el.name.replace('lines-' + old + '-', 'lines-' + next + '-'); }
      if (el.id) { el.id = el.id.replace('l-' + old + '-', 'l-' + next + '-'); }
      el.removeAttribute('data-typed');
      if (el.type === 'checkbox') { el.checked = false; } else { el.value = ''; }
    });
    row.cells[0].firstChild.textContent = String(rows().length + 1);
    table.tBodies[0].appendChild(row);
    row.querySelectorAll('input[data-link]').forEach(wireLink);
    return row;
  }

  function fillDefaults(row) {
    var item = cell(row, 'item');
    if (!item || !item.value.trim()) { return Promise.resolve(); }
    var partner = form.querySelector('[name="partner"]');
    var unit = cell(row, 'unit');
    var inclusive = form.querySelector('[name="prices_include_tax"]');
    var url = '/api/v1/grid/' + encodeURIComponent(docModel) + '/line_defaults?item=' + encodeURIComponent(item.value.trim()) +
      (partner && partner.value ? '&partner=' + encodeURIComponent(partner.value.trim()) : '') +
      (unit && unit.value ? '&unit=' + encodeURIComponent(unit.value.trim()) : '') +
      (inclusive && inclusive.checked ? '&prices_include_tax=1' : '');
    var asked = (row.jxcAsked || 0) + 1;
    row.jxcAsked = asked;
    return getJSON(url).then(function (data) {
      if (row.jxcAsked !== asked) { return; }  // a later question about this row (another unit) wins
      var ok = data && data.item;
      item.classList.toggle('jxc-unknown', !ok);
      if (!ok) { return; }
      item.value = data.item.key;
      var ratio = cell(row, 'unit_ratio');
      if (ratio && data.unit_ratio != null) { ratio.value = data.unit_ratio; }  // follows the unit, never typed
      ['unit', 'price', 'tax_rate'].forEach(function (field) {
        var input = cell(row, field);
        // never under the user's fingers: a value typed (or being typed) while the answer travelled wins
        if (input && !input.value && !input.hasAttribute('data-typed') && input !== document.activeElement &&
            data[field] != null) {
          input.value = typeof data[field] === 'object' ? data[field].key : data[field];
        }
      });
      recompute();
    });
  }

  // -- events -----------------------------------------------------------------------------------
  table.addEventListener('change', function (event) {
    var row = event.target.closest('tr');
    if (row && event.target.name && /-item$/.test(event.target.name)) { fillDefaults(row); }
    if (row && event.target.name && /-unit$/.test(event.target.name)) {
      // another unit (箱 for 瓶): a price that was filled in, not typed, is asked again for that unit
      var price = cell(row, 'price');
      if (price && !price.hasAttribute('data-typed')) { price.value = ''; }
      fillDefaults(row);
    }
    recompute();
  });
  table.addEventListener('input', function (event) {
    if (event.target.name) { event.target.setAttribute('data-typed', ''); }
  });
  table.addEventListener('input', debounce(recompute, 150));
  form.addEventListener('change', function (event) {
    if (event.target.name === 'prices_include_tax') { recompute(); }  // the header's 单价含税 box
  });

  // Enter moves down a row (a scanner ends each barcode with Enter): never submits the form from a line.
  table.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' || event.isComposing || !event.target.name) { return; }
    event.preventDefault();
    var row = event.target.closest('tr');
    var field = event.target.name.replace(/^lines-\d+-/, '');
    var rowList = rows();
    var below = rowList[rowList.indexOf(row) + 1] || addRow();
    if (field === 'item') {
      fillDefaults(row).then(function () {
        var qty = cell(row, 'qty') || cell(row, 'counted_qty');
        if (qty && !qty.value) { qty.focus(); } else { (cell(below, 'item') || inputs(below)[0]).focus(); }
      });
      return;
    }
    (cell(below, field) || inputs(below)[0]).focus();
  });

  // A block copied from Excel / WPS spreads over the cells from the one pasted into, adding rows.
  table.addEventListener('paste', function (event) {
    var text = (event.clipboardData || window.clipboardData).getData('text/plain');
    if (!text || !/[\t\r\n]/.test(text.replace(/[\r\n]+$/, ''))) { return; }
    event.preventDefault();
    var normal = text.replace(/\r\n?/g, '\n').replace(/\n$/, '');
    var block = window.Papa.parse(normal, {delimiter: '\t', quoteChar: '"', newline: '\n'}).data;
    var startRow = event.target.closest('tr');
    var column = inputs(startRow).indexOf(event.target);
    var row = startRow;
    var touched = [];
    block.forEach(function (values, i) {
      if (i > 0) { row = row.nextElementSibling || addRow(); }
      var targets = inputs(row);
      values.forEach(function (value, j) {
        var input = targets[column + j];
        if (input) { input.value = value.trim(); }
      });
      touched.push(row);
    });
    touched.reduce(function (chain, r) { return chain.then(function () { return fillDefaults(r); }); }, Promise.resolve())
      .then(recompute);
  });

  document.getElementById('jxc-add-line').addEventListener('click', function () {
    var row = addRow();
    (cell(row, 'item') || inputs(row)[0]).focus();
  });

  // what the page came with (a saved draft, a form sent back with errors) counts as typed: defaults
  // never replace it, not even when the line's unit changes
  rows().forEach(function (row) {
    inputs(row).forEach(function (el) { if (el.value) { el.setAttribute('data-typed', ''); } });
  });
  recompute();
})();
