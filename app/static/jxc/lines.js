// Document forms: link inputs autocomplete by code, name, pinyin initials or barcode; document lines work
// like a small spreadsheet (scan or type an item and its unit and price fill in, Enter moves down, a block
// pasted from Excel spreads over the rows, the server's figures and totals update as you type). The
// server parses and checks everything on save; nothing here is trusted. Pasted blocks are read by
// values.js, the grid's parser.
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
  // An input asks its data-lookup URL (a link's rows, or the users a user field offers, shown by name). A header
  // field is looked up for itself (?for=stocktake.warehouse, ?for=sales_order.salesperson): the server offers only
  // what it may name (a keeper's own warehouses, a salesperson themselves); the lines' fields offer every row the
  // reader sees.
  function purposeOf(input) {
    var model = form.getAttribute('data-model');
    return model && /^[a-z_]+$/.test(input.name) ? model + '.' + input.name : '';
  }

  function datalistFor(model, purpose) {
    var id = 'jxc-dl-' + (purpose || model);
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
    if (!text) { return; }
    var purpose = purposeOf(input);
    var url = input.getAttribute('data-lookup') + '?q=' + encodeURIComponent(text) +
      (purpose ? '&for=' + encodeURIComponent(purpose) : '');
    getJSON(url).then(function (data) {
      if (!data) { return; }
      window.JXC.offerRows(datalistFor(model, purpose), data.results);
    });
  }, 200);

  function wireLink(input) {
    input.setAttribute('list', datalistFor(input.getAttribute('data-link'), purposeOf(input)).id);
  }

  // The name of the row a link input names, under its code (K001: 杭州西湖区惠民便利店): the server's for a saved
  // value, a suggestion's as one is taken, the line's item as its defaults come; none while the text names nothing.
  function showLinkName(input, name) {
    var shown = input.parentNode.querySelector('.jxc-link-name[data-for="' + input.id + '"]');
    if (shown) {
      shown.textContent = name && name !== input.value.trim() ? name : '';
      shown.title = shown.textContent;
    }
  }

  function nameOffered(input) {
    var list = input.list;
    var typed = input.value.trim();
    var found = list ? Array.prototype.filter.call(list.options, function (o) { return o.value === typed; })[0] : null;
    return found ? found.label : '';
  }

  form.querySelectorAll('input[data-lookup]').forEach(wireLink);
  form.addEventListener('input', function (event) {
    if (event.target.matches('input[data-lookup]')) {
      showLinkName(event.target, nameOffered(event.target));
      lookup(event.target);
    }
  });

  if (!table) { return; }

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

  // -- figures: the server computes them ---------------------------------------------------------
  // The document as typed goes to /api/v1/grid/<document>/draft_totals, which runs the same compute
  // handlers as a save; the answer fills the computed (read-only) inputs and the total line. The
  // newest question wins; nothing is computed here.
  var csrf = form.querySelector('[name="csrf_token"]');
  var asking = 0;

  function valueOf(el) {
    if (el.type === 'checkbox') { return el.checked; }
    return el.hasAttribute('data-share') ? window.JXC.typedValue({percent: true}, el.value) : el.value;  // 7.5 is 7.5%
  }

  function draft(sent) {
    var payload = {lines: []};
    form.querySelectorAll('[id^="f-"]').forEach(function (el) { payload[el.id.slice(2)] = valueOf(el); });
    sent.forEach(function (row) {
      var line = {};
      row.querySelectorAll('input[id], select[id]').forEach(function (el) {
        var m = /^l-\d+-(.+)$/.exec(el.id);
        if (m) { line[m[1]] = valueOf(el); }
      });
      payload.lines.push(line);
    });
    return payload;
  }

  function show(sent, figures) {
    var refused = figures.refused || [];
    sent.forEach(function (row, i) {
      var computed = figures.lines[i] || {};
      row.classList.toggle('jxc-line-refused', refused.indexOf(i) >= 0);  // not saved as typed: not in the total
      Object.keys(computed).forEach(function (field) {
        var input = cell(row, field);
        if (input && input.disabled) { input.value = window.JXC.numberText(null, computed[field]); }
      });
    });
    Object.keys(figures.totals || {}).forEach(function (field) {
      var input = document.getElementById('f-' + field);
      var value = figures.totals[field];
      if (input && input.disabled) { input.value = value === null || value === undefined ? '' : value; }
    });
    document.getElementById('jxc-lines-total').textContent = figures.summary;
  }

  function recompute() {
    var mine = ++asking;
    var sent = rows();
    return fetch('/api/v1/grid/' + encodeURIComponent(docModel) + '/draft_totals', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf ? csrf.value : ''},
      body: JSON.stringify(draft(sent))
    }).then(function (r) { return r.ok ? r.json() : null; }, function () { return null; }).then(function (figures) {
      if (figures && mine === asking) { show(sent, figures); }
    });
  }
  var recomputeSoon = debounce(recompute, 150);

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
    row.querySelectorAll('input[data-lookup]').forEach(wireLink);
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
      showLinkName(item, data.item.name);
      var ratio = cell(row, 'unit_ratio');
      if (ratio && data.unit_ratio != null) { ratio.value = data.unit_ratio; }  // follows the unit, never typed
      ['unit', 'price', 'tax_rate'].forEach(function (field) {
        var input = cell(row, field);
        // never under the user's fingers: a value typed (or being typed) while the answer travelled wins; an empty
        // input the cursor only passed into (Tab from the item to the unit) is filled like the others, its value
        // selected, so that what the clerk types next replaces it rather than being added to it
        if (input && !input.value && !input.hasAttribute('data-typed') && data[field] != null) {
          input.value = typeof data[field] === 'object' ? data[field].key : data[field];
          if (typeof data[field] === 'object') { showLinkName(input, data[field].name); }
          if (input === document.activeElement) { input.select(); }
        }
      });
      recomputeSoon();
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
    recomputeSoon();
  });
  table.addEventListener('input', function (event) {
    if (event.target.name) { event.target.setAttribute('data-typed', ''); }
  });
  table.addEventListener('input', recomputeSoon);
  form.addEventListener('change', function (event) {
    if (event.target.name === 'prices_include_tax') { recomputeSoon(); }  // the header's 单价含税 box
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
      var from = event.target;
      fillDefaults(row).then(function () {
        // the user moved on while the answer travelled (clicked into 单价 and typed): their focus stays, or
        // what they type next would land in the next row's item
        if (document.activeElement !== from) { return; }
        var qty = cell(row, 'qty') || cell(row, 'counted_qty');
        if (qty && !qty.value) { qty.focus(); } else { (cell(below, 'item') || inputs(below)[0]).focus(); }
      });
      return;
    }
    (cell(below, field) || inputs(below)[0]).focus();
  });

  // Enter in a header field moves to the next field, as in the lines (a code typed and Enter, a scanner's
  // Enter): it saved the document half-filled (a supplier typed, S002 and Enter, saved an order without its
  // warehouse and lines). From the last field of a form without lines it still saves.
  form.addEventListener('keydown', function (event) {
    var target = event.target;
    if (event.key !== 'Enter' || event.isComposing || target.tagName !== 'INPUT' || !target.name) { return; }
    if (table && table.contains(target)) { return; }
    var fields = Array.prototype.filter.call(form.querySelectorAll('input, select, textarea'), function (el) {
      return el.type !== 'hidden' && !el.disabled && !el.readOnly && el.tabIndex >= 0 && el.offsetParent !== null;
    });
    var next = fields[fields.indexOf(target) + 1];
    if (!next) { return; }
    event.preventDefault();
    next.focus();
  });

  // A block copied from Excel / WPS spreads over the cells from the one pasted into, adding rows.
  table.addEventListener('paste', function (event) {
    var text = (event.clipboardData || window.clipboardData).getData('text/plain');
    if (!window.JXC.isBlock(text)) { return; }
    event.preventDefault();
    var block = window.JXC.parseTsv(text);
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
      .then(recomputeSoon);
  });

  document.getElementById('jxc-add-line').addEventListener('click', function () {
    var row = addRow();
    (cell(row, 'item') || inputs(row)[0]).focus();
  });

  // -- a new sales order: once its customer is chosen, what they may want (the recommendations report) --
  // The report is asked only for a customer the report's own lookup knows (by code or name, as the reader may
  // name them): text that names no customer yet (being typed, or a new name) asks nothing and shows nothing;
  // saving the order says what is wrong with it.
  var hint = document.getElementById('jxc-recommend');
  var REPORT = '/api/v1/reports/recommendations';
  function knownCustomer(text) {
    return getJSON(REPORT + '/lookup?param=customer&q=' + encodeURIComponent(text)).then(function (data) {
      var wanted = text.toLowerCase();
      var found = (data && data.results || []).filter(function (row) {
        return String(row.key || '').toLowerCase() === wanted || String(row.name || '') === text;
      });
      return found.length === 1 ? found[0].key || text : null;  // a code hidden from the reader: by the name
    });
  }
  function recommend() {
    var partner = form.querySelector('[name="partner"]');
    var customer = partner ? partner.value.trim() : '';
    if (!customer) { hint.hidden = true; return; }
    knownCustomer(customer).then(function (key) {
      if (!key) { return null; }
      return getJSON(REPORT + '?customer=' + encodeURIComponent(key));
    }).then(function (data) {
      if (partner.value.trim() !== customer) { return; }  // another customer was chosen meanwhile
      hint.textContent = '';
      var found = data && data.rows ? data.rows.filter(function (row) { return row.item; }) : [];
      if (!found.length) { hint.hidden = true; return; }
      var title = document.createElement('strong');
      title.textContent = hint.getAttribute('data-title') + ' ';
      hint.appendChild(title);
      found.slice(0, 8).forEach(function (row) {
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'btn btn-default btn-xs jxc-recommend-item';
        button.textContent = row.item.name || row.item.key;  // text only: never HTML
        button.title = row.kind || '';
        button.setAttribute('data-item', row.item.key);
        hint.appendChild(button);
        hint.appendChild(document.createTextNode(' '));
      });
      var more = document.createElement('a');
      more.href = '/reports/recommendations/?customer=' + encodeURIComponent(customer);
      more.textContent = hint.getAttribute('data-more');
      hint.appendChild(more);
      hint.hidden = false;
    });
  }
  if (hint) {
    form.addEventListener('change', function (event) {
      if (event.target.name === 'partner') { recommend(); }
    });
    hint.addEventListener('click', function (event) {
      var button = event.target.closest('.jxc-recommend-item');
      if (!button) { return; }
      var empty = rows().filter(function (r) { var i = cell(r, 'item'); return i && !i.value.trim(); });
      var row = empty[0] || addRow();
      cell(row, 'item').value = button.getAttribute('data-item');
      fillDefaults(row);
      (cell(row, 'qty') || inputs(row)[0]).focus();
    });
    recommend();
  }

  // what the page came with (a saved draft, a form sent back with errors) counts as typed: defaults
  // never replace it, not even when the line's unit changes
  rows().forEach(function (row) {
    inputs(row).forEach(function (el) { if (el.value) { el.setAttribute('data-typed', ''); } });
  });
  recompute();
})();
