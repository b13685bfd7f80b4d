// The spreadsheet grid of one model (/grid/<model>/): Tabulator with range selection, remote pages, and
// our own paste / copy / fill / delete / undo on top of the batch API (GRID.md is the contract).
// Phones get cards instead. No inline script: the page loads this file by src.
(function () {
  'use strict';

  var root = document.getElementById('jxc-grid');
  if (!root) { return; }
  var cfg = JSON.parse(root.getAttribute('data-config') || '{}');

  // --- texts ---------------------------------------------------------------------------------------

  var TEXTS = {
    zh: {
      add: '新增行', save: '保存', del: '删除行', undo: '撤销', redo: '重做', exp: '导出 Excel', cols: '列',
      reload: '刷新', search: '搜索编码、名称…', total: '共 {n} 条', page_total: '本页合计', discard: '放弃修改',
      reload_rows: '重新加载', overwrite: '覆盖', saving: '保存中…', saved: '已保存', loading: '加载中…',
      no_rows: '没有记录', more: '加载更多', read_only_col: '只读列', read_only_row: '只读行',
      confirm_add: '将新增 {n} 行，继续？', confirm_delete: '删除选中的 {n} 行？此操作可以撤销。',
      errors: '{n} 个单元格有错误，所有修改都未保存。改正红色单元格后会重新保存，或放弃修改。',
      conflict: '这些行已被他人修改', conflict_hint: '重新加载：放弃我对这些行的修改并显示最新值；覆盖：用我的值覆盖。',
      too_wide: '粘贴的列超出了表格右边（{n} 列放不下）', no_create: '粘贴超出最后一行，且没有新增权限',
      too_many: '一次最多 {n} 行，请使用导入页面', nothing_undo: '没有可撤销的操作', nothing_redo: '没有可重做的操作',
      fix_first: '请先改正或放弃红色单元格', undone: '已撤销', redone: '已重做', network: '网络错误，请稍后重试',
      not_allowed: '没有修改权限', new_row: '新行', row: '第 {n} 行', select_first: '请先选择单元格',
      paste_readonly: '粘贴到只读的单元格，未保存：', deleted: '已删除 {n} 行', yes: '是', no: '否',
      pending: '{n} 行有未保存的修改', more_errors: '…还有 {n} 条', changed_elsewhere: '已由他人更新',
      first: '首页', last: '末页', prev: '上一页', next: '下一页', page_size: '每页', all: '全部',
      showing: '显示', of: '/', rows: '行', pages: '页', unsaved_new: '有新增行尚未保存', open: '打开'
    },
    en: {
      add: 'Add row', save: 'Save', del: 'Delete rows', undo: 'Undo', redo: 'Redo', exp: 'Export Excel', cols: 'Columns',
      reload: 'Reload', search: 'Search code, name…', total: '{n} rows', page_total: 'Page total', discard: 'Discard',
      reload_rows: 'Reload', overwrite: 'Overwrite', saving: 'Saving…', saved: 'Saved', loading: 'Loading…',
      no_rows: 'No records', more: 'More', read_only_col: 'Read-only column', read_only_row: 'Read-only row',
      confirm_add: 'Add {n} new rows?', confirm_delete: 'Delete the {n} selected rows? You can undo this.',
      errors: '{n} cells were refused; nothing was saved. Fix the red cells and it saves again, or discard.',
      conflict: 'Someone else changed these rows', conflict_hint: 'Reload drops my changes to them and shows theirs; Overwrite keeps mine.',
      too_wide: 'The block is wider than the columns to the right ({n} do not fit)', no_create: 'The block runs past the last row and you may not add rows',
      too_many: 'At most {n} rows at once; use the import page', nothing_undo: 'Nothing to undo', nothing_redo: 'Nothing to redo',
      fix_first: 'Fix or discard the red cells first', undone: 'Undone', redone: 'Redone', network: 'Network error, try again',
      not_allowed: 'You may not change these rows', new_row: 'New row', row: 'row {n}', select_first: 'Select cells first',
      paste_readonly: 'Values landed in read-only cells; nothing was saved: ', deleted: '{n} rows deleted', yes: 'Yes', no: 'No',
      pending: '{n} rows have unsaved changes', more_errors: '…and {n} more', changed_elsewhere: 'Updated by someone else',
      first: 'First', last: 'Last', prev: 'Prev', next: 'Next', page_size: 'Page size', all: 'All',
      showing: 'Showing', of: 'of', rows: 'rows', pages: 'pages', unsaved_new: 'New rows are not saved yet', open: 'Open'
    }
  };
  var LANG = cfg.locale === 'en' ? 'en' : 'zh';

  function t(key, n) {
    var text = TEXTS[LANG][key] || TEXTS.zh[key] || key;
    return n === undefined ? text : text.replace('{n}', String(n));
  }

  // --- small helpers -------------------------------------------------------------------------------

  var columns = cfg.columns || [];
  var byField = {};
  columns.forEach(function (c) { byField[c.field] = c; });
  var urls = cfg.urls || {};

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function uuid() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function qs(params) {
    return params.map(function (p) { return encodeURIComponent(p[0]) + '=' + encodeURIComponent(p[1]); }).join('&');
  }

  function withQuery(url, params) {
    var q = qs(params);
    return q ? url + (url.indexOf('?') < 0 ? '?' : '&') + q : url;
  }

  var state = {busy: 0};

  // One JSON request: resolves {status, body}; network failures are retried with the same body
  // (a batch carries its client_batch_id, so the server answers a repeat from its log).
  function request(method, url, body, retries) {
    var options = {method: method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.headers['X-CSRFToken'] = cfg.csrf_token;
      options.body = JSON.stringify(body);
    }
    state.busy += 1;
    function attempt(left) {
      return fetch(url, options).then(function (response) {
        return response.text().then(function (text) {
          var data;
          try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {message: text.slice(0, 300)}; }
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
  }

  // --- values: display, edit and copy texts --------------------------------------------------------

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
      case 'datetime': return String(value).replace('T', ' ');
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

  // The text Ctrl+C puts on the clipboard: links as their key, decimals as plain strings.
  function copyText(col, value) {
    if (value === null || value === undefined) { return ''; }
    if (col.type === 'bool') { return value === true ? t('yes') : value === false ? t('no') : String(value); }
    if (col.type === 'select') { return optionLabel(col, value); }
    return editText(col, value);
  }

  function tsvCell(text) {
    return /[\t\n\r"]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // Excel / WPS put CRLF line ends and one trailing newline on the clipboard; quoted cells may hold
  // tabs, newlines and doubled quotes (GRID.md trap 1).
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

  function isPhone() {
    var coarseOnly = window.matchMedia && window.matchMedia('(pointer: coarse)').matches &&
      !window.matchMedia('(pointer: fine)').matches;
    return window.innerWidth < 768 || coarseOnly;
  }

  // --- the row query (shared by the grid, ids, export and the cards) ------------------------------

  var query = {sort: [], filter: [], search: ''};

  function viewParams() {
    var params = [];
    query.sort.forEach(function (s, i) {
      params.push(['sort[' + i + '][field]', s.field], ['sort[' + i + '][dir]', s.dir]);
    });
    query.filter.forEach(function (f, i) {
      params.push(['filter[' + i + '][field]', f.field], ['filter[' + i + '][type]', f.type],
        ['filter[' + i + '][value]', f.value]);
    });
    if (query.search) { params.push(['search', query.search]); }
    return params;
  }

  // Numeric and date header filters accept an operator in front: ">100", "<=2026-01-31", "!=0".
  function headerFilter(f) {
    var col = byField[f.field] || {};
    var value = Array.isArray(f.value) ? f.value.join(',') : String(f.value === null || f.value === undefined ? '' : f.value);
    if (col.numeric || col.type === 'date' || col.type === 'datetime') {
      var m = /^\s*(>=|<=|!=|>|<|=)\s*(.*)$/.exec(value);
      if (m) { return {field: f.field, type: m[1], value: m[2].trim()}; }
      return {field: f.field, type: '=', value: value.trim()};
    }
    if (col.type === 'select' || col.type === 'bool') { return {field: f.field, type: '=', value: value}; }
    return {field: f.field, type: 'like', value: value};
  }

  if (isPhone()) {
    cards();
  } else {
    grid();
  }

  // =================================================================================================
  // Phones: cards from the same rows API, a search box and a "More" button; a tap opens the form.
  // =================================================================================================

  function cards() {
    root.classList.add('jxc-cards-mode');
    var bar = el('div', {'class': 'jxc-cards-bar'});
    var search = el('input', {type: 'search', 'class': 'form-control jxc-cards-search', placeholder: t('search')});
    var count = el('div', {'class': 'jxc-cards-count text-muted'});
    bar.appendChild(search);
    bar.appendChild(count);
    var list = el('div', {'class': 'jxc-cards'});
    var more = el('button', {type: 'button', 'class': 'btn btn-default btn-block jxc-cards-more'}, t('more'));
    root.appendChild(bar);
    root.appendChild(list);
    root.appendChild(more);
    var page = 0;
    var lastPage = 1;
    var seq = 0;
    var key = cfg.key_field;
    // a few descriptive fields, then the first numbers (prices, quantities)
    var rest = visibleColumns().filter(function (c) {
      return c.field !== key && c.field !== cfg.display_field && ['long_text', 'barcode', 'datetime'].indexOf(c.type) < 0;
    });
    var words = rest.filter(function (c) { return !c.numeric && c.editable; });
    var numbers = rest.filter(function (c) { return c.numeric; });
    var shown = words.slice(0, numbers.length ? 3 : 5).concat(numbers.slice(0, 2));
    if (shown.length < 5) {
      shown = shown.concat(rest.filter(function (c) { return shown.indexOf(c) < 0; }).slice(0, 5 - shown.length));
    }
    shown = rest.filter(function (c) { return shown.indexOf(c) >= 0; });
    var target = cfg.can_write ? urls.form : urls.show;

    function visibleColumns() {
      var hidden = {};
      (cfg.layout || []).forEach(function (l) { if (l.visible === false) { hidden[l.field] = true; } });
      return columns.filter(function (c) { return !hidden[c.field]; });
    }

    function card(row) {
      var a = el('a', {'class': 'jxc-card', href: target.replace('{id}', encodeURIComponent(row.id))});
      var title = el('div', {'class': 'jxc-card-title'});
      title.appendChild(el('strong', {}, key && key !== 'id' ? displayText(byField[key] || {}, row[key]) : '#' + row.id));
      if (cfg.display_field && cfg.display_field !== key && byField[cfg.display_field]) {
        title.appendChild(document.createTextNode(' ' + displayText(byField[cfg.display_field], row[cfg.display_field])));
      }
      a.appendChild(title);
      var dl = el('dl', {'class': 'jxc-card-fields'});
      shown.forEach(function (c) {
        var text = c.type === 'bool' ? copyText(c, row[c.field]) : displayText(c, row[c.field]);
        dl.appendChild(el('dt', {}, c.title));
        dl.appendChild(el('dd', {'class': c.numeric ? 'jxc-num' : ''}, text || '—'));
      });
      a.appendChild(dl);
      return a;
    }

    function load(reset) {
      if (reset) { page = 0; lastPage = 1; }
      if (page >= lastPage) { return; }
      var mine = ++seq;
      more.disabled = true;
      var params = [['page', page + 1], ['size', 20]];
      if (query.search) { params.push(['search', query.search]); }
      request('GET', withQuery(urls.rows, params)).then(function (r) {
        if (mine !== seq) { return; }
        if (reset) { list.textContent = ''; }
        if (r.status !== 200) {
          list.appendChild(el('div', {'class': 'alert alert-danger'}, r.body.message || r.status));
          return;
        }
        page += 1;
        lastPage = r.body.last_page || 1;
        count.textContent = t('total', r.body.last_row || 0);
        (r.body.data || []).forEach(function (row) { list.appendChild(card(row)); });
        if (!list.children.length) { list.appendChild(el('div', {'class': 'text-muted jxc-cards-empty'}, t('no_rows'))); }
        more.style.display = page < lastPage ? '' : 'none';
        more.disabled = false;
      });
    }

    var timer = null;
    search.addEventListener('input', function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { query.search = search.value.trim(); load(true); }, 350);
    });
    more.addEventListener('click', function () { load(false); });
    window.jxcGrid = {mode: 'cards', state: state};
    load(true);
  }

  // =================================================================================================
  // Desktop: the Tabulator grid.
  // =================================================================================================

  function grid() {
    var table = null;
    var pending = {};          // rowKey -> {id, tmp_id, version, values: {field: raw}, errors: {}, manual}
    var pendingSource = 'edit';
    var dirty = false;         // pending changed since the last send
    var flushTimer = null;
    var inflight = null;
    var tmpSeq = 0;
    var undoStack = [];
    var redoStack = [];
    var sums = {};
    var sumsFresh = false;
    var total = 0;
    var cursor = null;
    var startText = null;      // the key that started an edit by typing
    var layoutTimer = null;
    var restoreBounds = null;

    // --- skeleton: toolbar, banner, table --------------------------------------------------------

    root.classList.add('jxc-grid');
    var toolbar = el('div', {'class': 'jxc-grid-toolbar', role: 'toolbar'});
    var buttons = {};
    function button(action, text, cls, title) {
      var b = el('button', {type: 'button', 'class': 'btn btn-sm ' + (cls || 'btn-default'), 'data-action': action}, text);
      if (title) { b.title = title; }
      buttons[action] = b;
      return b;
    }
    var left = el('div', {'class': 'jxc-grid-actions'});
    if (cfg.can_create) { left.appendChild(button('add', t('add'))); }
    if (cfg.can_write) { left.appendChild(button('save', t('save'), 'btn-primary', 'Ctrl+S')); }
    if (cfg.can_delete) { left.appendChild(button('delete', t('del'))); }
    if (cfg.can_write) {
      left.appendChild(button('undo', t('undo'), null, 'Ctrl+Z'));
      left.appendChild(button('redo', t('redo'), null, 'Ctrl+Y'));
    }
    if (cfg.can_export) { left.appendChild(button('export', t('exp'))); }
    var colWrap = el('div', {'class': 'jxc-grid-colwrap'});
    colWrap.appendChild(button('columns', t('cols') + ' ▾'));
    var colPanel = el('div', {'class': 'jxc-grid-colpanel', hidden: 'hidden'});
    colWrap.appendChild(colPanel);
    left.appendChild(colWrap);
    left.appendChild(button('reload', t('reload')));
    var right = el('div', {'class': 'jxc-grid-right'});
    var status = el('span', {'class': 'jxc-grid-status text-muted', 'aria-live': 'polite'});
    var searchBox = el('input', {type: 'search', 'class': 'form-control input-sm jxc-grid-search', placeholder: t('search')});
    var countEl = el('span', {'class': 'jxc-grid-count'});
    right.appendChild(status);
    right.appendChild(searchBox);
    right.appendChild(countEl);
    toolbar.appendChild(left);
    toolbar.appendChild(right);
    var banner = el('div', {'class': 'jxc-grid-banner', role: 'alert', hidden: 'hidden'});
    var tableEl = el('div', {'class': 'jxc-grid-table'});
    root.appendChild(toolbar);
    root.appendChild(banner);
    root.appendChild(tableEl);

    // --- banner ----------------------------------------------------------------------------------

    function showBanner(kind, message, items, actions, hint) {
      banner.textContent = '';
      banner.className = 'jxc-grid-banner jxc-grid-banner-' + kind;
      banner.appendChild(el('div', {'class': 'jxc-grid-banner-message'}, message));
      if (hint) { banner.appendChild(el('div', {'class': 'jxc-grid-banner-hint'}, hint)); }
      if (items && items.length) {
        var ul = el('ul', {'class': 'jxc-grid-banner-list'});
        items.slice(0, 20).forEach(function (text) { ul.appendChild(el('li', {}, text)); });
        if (items.length > 20) { ul.appendChild(el('li', {}, t('more_errors', items.length - 20))); }
        banner.appendChild(ul);
      }
      var bar = el('div', {'class': 'jxc-grid-banner-actions'});
      (actions || []).forEach(function (a) {
        var b = el('button', {type: 'button', 'class': 'btn btn-sm ' + (a.cls || 'btn-default'), 'data-banner': a.name}, a.text);
        b.addEventListener('click', a.run);
        bar.appendChild(b);
      });
      if (hasPending()) {
        var d = el('button', {type: 'button', 'class': 'btn btn-sm btn-link', 'data-banner': 'discard'}, t('discard'));
        d.addEventListener('click', discard);
        bar.appendChild(d);
      }
      if (bar.children.length) { banner.appendChild(bar); }
      banner.hidden = false;
      fitHeight();
    }

    function hideBanner() {
      if (banner.hidden) { return; }
      banner.hidden = true;
      banner.textContent = '';
      fitHeight();
    }

    // The table fills the window below the toolbar and banner, so nothing scrolls the page when
    // Tabulator focuses its body (a page scroll between two clicks would move the second one).
    function tableHeight() {
      var top = tableEl.getBoundingClientRect().top + window.scrollY;
      return Math.max(300, Math.floor(window.innerHeight - top - 12));
    }

    var heightNow = 0;
    function fitHeight() {
      if (!table) { return; }
      var h = tableHeight();
      if (h !== heightNow) {
        heightNow = h;
        table.setHeight(h);
      }
    }

    var statusTimer = null;
    function setStatus(text, sticky) {
      status.textContent = text;
      window.clearTimeout(statusTimer);
      if (!sticky) { statusTimer = window.setTimeout(function () { status.textContent = ''; }, 2500); }
    }

    // --- columns ---------------------------------------------------------------------------------

    function canWriteColumn(col) { return !!(cfg.can_write && col.editable); }

    function cellEditable(col) {
      return function (cell) {
        var data = cell.getRow().getData();
        return canWriteColumn(col) && !data._readonly;
      };
    }

    function formatter(col) {
      return function (cell) {
        var data = cell.getRow().getData();
        var node = cell.getElement();
        var error = data._errors && data._errors[col.field];
        node.classList.toggle('jxc-cell-error', !!error);
        node.classList.toggle('jxc-cell-pending', !!(data._pending && data._pending[col.field]));
        var text = displayText(col, cell.getValue());
        if (error) {
          node.setAttribute('title', error);
        } else if (col.type === 'long_text' || text.length > 24) {
          node.setAttribute('title', text);
        } else {
          node.removeAttribute('title');
        }
        return document.createTextNode(text);
      };
    }

    function calcFormatter(col) {
      return function (cell) {
        var v = cell.getValue();
        return document.createTextNode(v === null || v === undefined ? '' : (col ? numberText(col, v) : String(v)));
      };
    }

    function sumCalc(col) {
      return function (values) {
        if (sumsFresh && Object.prototype.hasOwnProperty.call(sums, col.field)) { return sums[col.field]; }
        var s = exactSum(values);
        return s === null ? (sums[col.field] === undefined ? '' : sums[col.field]) : s;
      };
    }

    function editorFor(col) {
      if (!canWriteColumn(col)) { return undefined; }
      if (col.type === 'bool') { return 'tickCross'; }
      if (col.type === 'select') { return selectEditor(col); }
      if ((col.type === 'link' || col.type === 'user') && col.link_to) { return linkEditor(col); }
      return inputEditor(col);
    }

    function headerFilterFor(col) {
      if (col.type === 'select') {
        var values = [{label: '', value: ''}].concat((col.options || []).map(function (o) { return {label: o.label, value: o.value}; }));
        return {headerFilter: 'list', headerFilterParams: {values: values, clearable: true, itemFormatter: safeItem}};
      }
      if (col.type === 'bool') {
        return {headerFilter: 'list', headerFilterParams: {values: [{label: '', value: ''}, {label: t('yes'), value: 'true'}, {label: t('no'), value: 'false'}], itemFormatter: safeItem}};
      }
      return {headerFilter: 'input', headerFilterPlaceholder: ''};
    }

    function safeItem(label) {
      var span = document.createElement('span');
      span.textContent = label === null || label === undefined ? '' : String(label);
      return span;
    }

    function columnDefs() {
      var order = [];
      var layout = {};
      (cfg.layout || []).forEach(function (l) {
        if (byField[l.field] && !layout[l.field]) { layout[l.field] = l; order.push(byField[l.field]); }
      });
      columns.forEach(function (c) { if (!layout[c.field]) { order.push(c); } });
      // frozen columns must stay together on the left
      order = order.filter(function (c) { return c.frozen; }).concat(order.filter(function (c) { return !c.frozen; }));
      var firstText = null;
      return order.map(function (col) {
        var saved = layout[col.field] || {};
        var def = {
          title: col.title,
          field: col.field,
          frozen: !!col.frozen,
          visible: saved.visible !== false,
          headerSort: col.sortable !== false,
          titleFormatter: function () { return document.createTextNode(col.title); },
          headerTooltip: function () { return el('div', {}, col.help || col.title); },
          hozAlign: col.numeric ? 'right' : (col.type === 'bool' ? 'center' : 'left'),
          headerHozAlign: col.numeric ? 'right' : 'left',
          formatter: formatter(col),
          cssClass: 'jxc-col-' + col.type + (canWriteColumn(col) ? '' : ' jxc-col-readonly'),
          editable: cellEditable(col),
          editor: editorFor(col)
        };
        var width = saved.width || col.width;
        if (width) { def.width = width; } else if (col.type === 'long_text') { def.width = 220; }
        Object.assign(def, headerFilterFor(col));
        if (col.numeric) {
          def.bottomCalc = sumCalc(col);
          def.bottomCalcFormatter = calcFormatter(col);
        } else if (!firstText) {
          firstText = col;
          def.bottomCalc = function () { return t('page_total'); };
          def.bottomCalcFormatter = calcFormatter(null);
        }
        return def;
      });
    }

    // --- editors ---------------------------------------------------------------------------------

    function takeStart() {
      var s = startText;
      startText = null;
      return s;
    }

    function moveAfterCommit(dir) {
      window.setTimeout(function () {
        var sr = table.modules.selectRange;
        if (sr && sr.activeRange) { sr.navigate(false, false, dir); }
      }, 0);
    }

    // A text input (a textarea for long text); the server parses what is typed.
    function inputEditor(col) {
      return function (cell, onRendered, success, cancel) {
        var start = takeStart();
        var initial = editText(col, cell.getValue());
        var input;
        if (col.type === 'long_text') {
          input = el('textarea', {'class': 'jxc-grid-input', rows: '1'});
        } else {
          input = el('input', {'class': 'jxc-grid-input', type: col.type === 'date' && start === null && /^\d{4}-\d\d-\d\d$/.test(initial) ? 'date' : 'text'});
        }
        if (col.numeric) { input.style.textAlign = 'right'; }
        input.value = start !== null ? start : initial;
        var done = false;
        function commit() {
          if (done) { return; }
          done = true;
          var v = input.value;
          if (v === initial) { cancel(); } else { success(v === '' ? null : v); }
        }
        input.addEventListener('keydown', function (e) {
          if (e.key === 'Enter' && !(col.type === 'long_text' && (e.altKey || e.shiftKey))) {
            e.preventDefault();
            e.stopPropagation();
            commit();
            moveAfterCommit(e.shiftKey ? 'up' : 'down');
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            done = true;
            cancel();
          } else if (e.key === 'Tab') {
            commit();  // the keydown goes on to Tabulator, which moves the range
          } else if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'S')) {
            e.preventDefault();
            commit();
            save();
          }
        });
        input.addEventListener('blur', commit);
        onRendered(function () {
          input.focus({preventScroll: true});
          try {
            if (start === null) { input.select(); } else { input.setSelectionRange(input.value.length, input.value.length); }
          } catch (e) { /* date inputs have no text selection */ }
        });
        return input;
      };
    }

    function selectEditor(col) {
      var values = (col.options || []).map(function (o) { return {label: o.label, value: o.value}; });
      if (!col.required) { values.unshift({label: '', value: null}); }
      return {
        editor: 'list',
        params: {values: values, itemFormatter: safeItem, emptyValue: null}
      };
    }

    // Links: type the key (or a name, pinyin initials, barcode) and pick from the lookup list;
    // whatever is typed is sent as is and the server resolves it.
    function linkEditor(col) {
      var url = urls.lookup.replace('{model}', encodeURIComponent(col.link_to));
      return function (cell, onRendered, success, cancel) {
        var start = takeStart();
        var initial = editText(col, cell.getValue());
        var input = el('input', {'class': 'jxc-grid-input', type: 'text', autocomplete: 'off'});
        input.value = start !== null ? start : initial;
        var list = el('div', {'class': 'jxc-grid-suggest', role: 'listbox'});
        var items = [];
        var active = -1;
        var seq = 0;
        var timer = null;
        var done = false;

        function place() {
          var r = cell.getElement().getBoundingClientRect();
          list.style.left = Math.round(r.left) + 'px';
          list.style.top = Math.round(r.bottom) + 'px';
          list.style.minWidth = Math.max(Math.round(r.width), 240) + 'px';
        }
        function render() {
          list.textContent = '';
          items.forEach(function (item, i) {
            var row = el('div', {'class': 'jxc-grid-suggest-item' + (i === active ? ' active' : ''), role: 'option'});
            row.appendChild(el('b', {}, item.key));
            row.appendChild(document.createTextNode(' ' + (item.name === null || item.name === undefined ? '' : item.name)));
            row.addEventListener('mousedown', function (e) { e.preventDefault(); choose(i); });
            list.appendChild(row);
          });
          if (items.length) {
            if (!list.parentNode) { document.body.appendChild(list); }
            place();
          } else if (list.parentNode) {
            list.parentNode.removeChild(list);
          }
        }
        function lookup() {
          var q = input.value.trim();
          var mine = ++seq;
          if (!q) { items = []; active = -1; render(); return; }
          request('GET', withQuery(url, [['q', q]]), undefined, 0).then(function (r) {
            if (mine !== seq || done) { return; }
            items = r.status === 200 ? (r.body.results || []) : [];
            active = -1;
            render();
          });
        }
        function cleanup() {
          done = true;
          window.clearTimeout(timer);
          if (list.parentNode) { list.parentNode.removeChild(list); }
        }
        function commit() {
          if (done) { return; }
          cleanup();
          var v = input.value.trim();
          if (v === initial) { cancel(); } else { success(v === '' ? null : v); }
        }
        function choose(i) {
          input.value = String(items[i].key);
          commit();
        }
        input.addEventListener('input', function () {
          window.clearTimeout(timer);
          timer = window.setTimeout(lookup, 200);
        });
        input.addEventListener('keydown', function (e) {
          if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && items.length) {
            e.preventDefault();
            e.stopPropagation();
            active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
            render();
          } else if (e.key === 'Enter') {
            e.preventDefault();
            e.stopPropagation();
            if (active >= 0) { choose(active); } else { commit(); }
            moveAfterCommit('down');
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            cleanup();
            cancel();
          } else if (e.key === 'Tab') {
            commit();
          }
        });
        input.addEventListener('blur', commit);
        onRendered(function () {
          input.focus({preventScroll: true});
          if (start === null) { input.select(); } else { lookup(); }
        });
        return input;
      };
    }

    function resolveEditors(defs) {
      defs.forEach(function (def) {
        if (def.editor && typeof def.editor === 'object') {
          def.editorParams = def.editor.params;
          def.editor = def.editor.editor;
        }
      });
      return defs;
    }

    // --- the rows request ------------------------------------------------------------------------

    function loadRows(url, config, params) {
      query.sort = (params.sort || []).map(function (s) { return {field: s.field, dir: s.dir}; });
      query.filter = (params.filter || []).map(headerFilter).filter(function (f) { return f.value !== ''; });
      var before = (dirty && !inflight) ? flush() : Promise.resolve();
      return before.then(function () {
        var q = [['page', params.page || 1], ['size', params.size || cfg.page_size]].concat(viewParams());
        return request('GET', withQuery(urls.rows, q));
      }).then(function (r) {
        if (r.status !== 200) {
          showBanner('error', r.body.message || ('HTTP ' + r.status));
          return {last_page: 1, last_row: 0, data: []};
        }
        var body = r.body;
        sums = body.sums || {};
        sumsFresh = true;
        total = body.last_row || 0;
        countEl.textContent = t('total', total);
        var data = (body.data || []).map(function (row) { return mergePending(row); });
        var fresh = Object.keys(pending).map(function (k) { return pending[k]; })
          .filter(function (rec) { return rec.tmp_id && rec.shown; })
          .map(function (rec) { return newRowData(rec); });
        return {last_page: body.last_page || 1, last_row: total, data: fresh.concat(data)};
      });
    }

    // A loaded row shows the user's unsaved values and their errors on top of the server's values.
    function mergePending(row) {
      var rec = pending[String(row.id)];
      if (!rec) { return row; }
      Object.keys(rec.values).forEach(function (f) { row[f] = rec.values[f]; });
      row._pending = marks(rec.values);
      row._errors = Object.assign({}, rec.errors);
      return row;
    }

    function marks(values) {
      var out = {};
      Object.keys(values).forEach(function (f) { out[f] = true; });
      return out;
    }

    function newRowData(rec) {
      var data = {_tmp: rec.tmp_id, _new: true, _pending: marks(rec.values), _errors: Object.assign({}, rec.errors)};
      Object.keys(rec.values).forEach(function (f) { data[f] = rec.values[f]; });
      return data;
    }

    function reloadPage() {
      return table.setPage(table.getPage() || 1);
    }

    // --- rows and ranges -------------------------------------------------------------------------

    function rowKey(data) { return data._tmp ? String(data._tmp) : String(data.id); }

    function pageRows() { return table.getRows('display'); }

    function pageRowByKey(key) {
      var rows = table.getRows();
      for (var i = 0; i < rows.length; i += 1) {
        if (rowKey(rows[i].getData()) === String(key)) { return rows[i]; }
      }
      return null;
    }

    function visibleCols() {
      return table.getColumns().filter(function (c) { return c.isVisible() && byField[c.getField()]; });
    }

    function bounds() {
      var sr = table.modules.selectRange;
      var r = sr && sr.activeRange;
      if (!r || r.destroyed || r.top === undefined || r.top < 0) { return null; }
      return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
    }

    function setRange(top, left, bottom, right) {
      var rows = pageRows();
      var cols = visibleCols();
      if (!rows.length || !cols.length) { return; }
      top = Math.max(0, Math.min(top, rows.length - 1));
      bottom = Math.max(0, Math.min(bottom, rows.length - 1));
      left = Math.max(0, Math.min(left, cols.length - 1));
      right = Math.max(0, Math.min(right, cols.length - 1));
      var sr = table.modules.selectRange;
      if (!sr || !sr.activeRange) { return; }
      sr.activeRange.setStart(top, left);
      sr.activeRange.setEnd(bottom, right);
      sr.layoutElement();
      var cell = rows[bottom].getCell(cols[right]);
      if (cell) {
        var node = cell.getElement();
        if (node && node.scrollIntoView) { node.scrollIntoView({block: 'nearest', inline: 'nearest'}); }
      }
      table.rowManager.element.focus({preventScroll: true});
    }

    function activeCell() {
      var b = bounds();
      if (!b) { return null; }
      var row = pageRows()[b.top];
      var col = visibleCols()[b.left];
      return row && col ? row.getCell(col) : null;
    }

    function isEditing() {
      var edit = table && table.modules.edit;
      return !!(edit && edit.currentCell);
    }

    // --- the pending store -----------------------------------------------------------------------

    function hasPending() { return Object.keys(pending).length > 0; }

    function recordFor(data) {
      var key = rowKey(data);
      if (!pending[key]) {
        pending[key] = data._tmp
          ? {tmp_id: data._tmp, values: {}, errors: {}, manual: !!data._new, shown: true}
          : {id: data.id, version: data.version, values: {}, errors: {}};
      }
      return pending[key];
    }

    function setPendingValue(row, field, value) {
      var data = row.getData();
      var rec = recordFor(data);
      rec.values[field] = value === undefined ? null : value;
      delete rec.errors[field];
      data._pending = marks(rec.values);
      data._errors = Object.assign({}, rec.errors);
      dirty = true;
      return rec;
    }

    function onCellEdited(cell) {
      var row = cell.getRow();
      var rec = setPendingValue(row, cell.getField(), cell.getValue());
      sumsFresh = false;
      row.reformat();
      if (!rec.manual) { scheduleFlush(); }
    }

    function scheduleFlush() {
      window.clearTimeout(flushTimer);
      flushTimer = window.setTimeout(function () { flushTimer = null; flush(); }, 400);
    }

    function opsFromPending(includeManual) {
      var ops = [];
      var keys = [];
      Object.keys(pending).forEach(function (key) {
        var rec = pending[key];
        if (rec.tmp_id) {
          if ((rec.manual && !includeManual) || !Object.keys(rec.values).length) { return; }
          ops.push({op: 'create', tmp_id: rec.tmp_id, values: Object.assign({}, rec.values)});
        } else {
          if (!Object.keys(rec.values).length) { return; }
          ops.push({op: 'update', id: rec.id, version: rec.version, values: Object.assign({}, rec.values)});
        }
        keys.push(key);
      });
      return {ops: ops, keys: keys};
    }

    // Send the pending changes as one batch. opts: {manual: include new rows, force: send even if
    // nothing changed since a refusal, reload: reload the page after success}.
    function flush(opts) {
      opts = opts || {};
      window.clearTimeout(flushTimer);
      flushTimer = null;
      if (inflight) {
        return inflight.then(function () { return flush(opts); });
      }
      if (!dirty && !opts.force) { return Promise.resolve(null); }
      var batch = opsFromPending(!!opts.manual);
      if (!batch.ops.length) { dirty = false; return Promise.resolve(null); }
      if (batch.ops.length > cfg.max_batch_rows) {
        showBanner('error', t('too_many', cfg.max_batch_rows));
        return Promise.resolve(null);
      }
      dirty = false;
      var source = pendingSource;
      setStatus(t('saving'), true);
      inflight = request('POST', urls.batch, {client_batch_id: uuid(), source: source, ops: batch.ops})
        .then(function (r) { return handleResult(r, batch, opts); })
        .then(function (r) { inflight = null; return r; }, function (e) { inflight = null; throw e; });
      return inflight;
    }

    function handleResult(r, batch, opts) {
      if (r.status === 200) {
        saved(r.body, batch, opts);
      } else if (r.status === 422) {
        refused(r.body);
        setStatus('');
      } else if (r.status === 409) {
        conflicted(r.body, opts);
        setStatus('');
      } else {
        var message = r.body.message || ('HTTP ' + r.status);
        if (typeof message !== 'string') { message = JSON.stringify(message); }
        showBanner('error', message);
        setStatus('');
      }
      return r;
    }

    function pushUndo(batchId) {
      if (batchId === undefined || batchId === null) { return; }
      undoStack.unshift(batchId);
      redoStack = [];
      syncButtons();
    }

    // 200: drop the sent values that were not changed again meanwhile, show the saved rows.
    function saved(body, batch, opts) {
      var sent = {};
      batch.ops.forEach(function (op) { sent[op.tmp_id ? String(op.tmp_id) : String(op.id)] = op.values || {}; });
      var byKey = {};
      (body.rows || []).forEach(function (row) { byKey[row.tmp_id ? String(row.tmp_id) : String(row.id)] = row; });
      batch.keys.forEach(function (key) {
        var rec = pending[key];
        if (!rec) { return; }
        var values = sent[key] || {};
        Object.keys(values).forEach(function (f) {
          if (rec.values[f] === values[f]) { delete rec.values[f]; }
        });
        rec.errors = {};
        var fresh = byKey[key];
        if (fresh) {
          rec.version = fresh.version;
          if (rec.tmp_id) {  // the row exists now: its further edits are updates
            rec.id = fresh.id;
            delete rec.tmp_id;
            rec.manual = false;
            rec.shown = false;
          }
        }
        delete pending[key];
        if (Object.keys(rec.values).length) { pending[String(rec.id || rec.tmp_id)] = rec; dirty = true; }
      });
      pushUndo(body.batch_id);
      hideBanner();
      setStatus(t('saved'));
      pendingSource = 'edit';
      // a replayed retry answers without the tmp ids of created rows, so show the page afresh
      if (opts.reload || body.replayed) {
        restoreBounds = opts.bounds || null;
        return reloadPage();
      }
      (body.rows || []).forEach(function (row) {
        var key = row.tmp_id ? String(row.tmp_id) : String(row.id);
        var pageRow = pageRowByKey(key);
        if (!pageRow) { return; }
        var rec = pending[String(row.id)];
        var data = Object.assign({}, row, {_tmp: null, _new: false, _errors: {}, _pending: {}});
        if (rec) {
          Object.keys(rec.values).forEach(function (f) { data[f] = rec.values[f]; });
          data._pending = marks(rec.values);
        }
        delete data.tmp_id;
        pageRow.update(data).then(function () { pageRow.reformat(); });
      });
      (body.deleted || []).forEach(function (id) {
        var pageRow = pageRowByKey(id);
        if (pageRow) { pageRow.delete(); }
      });
      sumsFresh = false;
      table.recalc();
      if (dirty) { scheduleFlush(); }
    }

    function rowLabel(key) {
      var row = pageRowByKey(key);
      var rec = pending[String(key)];
      var data = row ? row.getData() : null;
      if (data && cfg.key_field && data[cfg.key_field] !== undefined && data[cfg.key_field] !== null && !data._tmp) {
        return copyText(byField[cfg.key_field] || {}, data[cfg.key_field]);
      }
      if ((rec && rec.tmp_id) || (data && data._tmp)) { return t('new_row') + ' ' + String(key).replace(/^t/, ''); }
      if (rec && rec.values[cfg.key_field]) { return String(rec.values[cfg.key_field]); }
      return '#' + key;
    }

    // 422: every refused cell turns red (from the row data, so it survives re-rendering); nothing was saved.
    function refused(body) {
      Object.keys(pending).forEach(function (key) { pending[key].errors = {}; });
      var items = [];
      (body.errors || []).forEach(function (e) {
        var key = e.tmp_id !== undefined && e.tmp_id !== null ? String(e.tmp_id) : String(e.id);
        var rec = pending[key];
        var field = e.field && byField[e.field] ? e.field : null;
        if (rec && field) { rec.errors[field] = e.message; }
        var title = field ? byField[field].title : (e.field && e.field !== '_record' ? e.field : '');
        items.push(rowLabel(key) + (title ? ' · ' + title : '') + '：' + e.message);
      });
      // rows a paste would have created appear on top, so their red cells can be fixed too
      Object.keys(pending).reverse().forEach(function (key) {
        var rec = pending[key];
        if (rec.tmp_id && rec.shown && !pageRowByKey(key)) { table.addRow(newRowData(rec), true); }
      });
      table.getRows().forEach(function (row) {
        var data = row.getData();
        var rec = pending[rowKey(data)];
        var before = JSON.stringify(data._errors || {});
        data._errors = rec ? Object.assign({}, rec.errors) : {};
        if (JSON.stringify(data._errors) !== before) { row.reformat(); }
      });
      showBanner('error', t('errors', (body.errors || []).length), items);
    }

    // 409: someone changed rows since they were read. Reload takes theirs, Overwrite keeps ours.
    function conflicted(body, opts) {
      var conflicts = body.conflicts || [];
      var names = conflicts.map(function (c) {
        var current = c.current || {};
        return current[cfg.key_field] !== undefined ? copyText(byField[cfg.key_field] || {}, current[cfg.key_field]) : '#' + c.id;
      });
      dirty = true;
      var message = (body.message || t('conflict')).replace(/[。.]$/, '') + (LANG === 'zh' ? '：' : ': ') + names.join('、');
      showBanner('warning', message, [], [
        {name: 'reload', text: t('reload_rows'), cls: 'btn-default', run: function () {
          conflicts.forEach(function (c) {
            delete pending[String(c.id)];
            var row = pageRowByKey(c.id);
            if (row && c.current) {
              row.update(Object.assign({}, c.current, {_errors: {}, _pending: {}})).then(function () { row.reformat(); });
            } else if (row && !c.current) {
              row.delete();
            }
          });
          hideBanner();
          if (hasPending()) { flush(opts); }
        }},
        {name: 'overwrite', text: t('overwrite'), cls: 'btn-warning', run: function () {
          conflicts.forEach(function (c) {
            var rec = pending[String(c.id)];
            if (rec && c.current) { rec.version = c.current.version; }
          });
          hideBanner();
          dirty = true;
          flush(opts);
        }}
      ], t('conflict_hint'));
    }

    function discard() {
      pending = {};
      dirty = false;
      pendingSource = 'edit';
      window.clearTimeout(flushTimer);
      hideBanner();
      reloadPage();
    }

    // Save (Ctrl+S) also sends the new rows; from then on they go with the pending batch, so fixing a
    // refused cell of a new row resends it like any other edit.
    function save() {
      if (isEditing()) { return Promise.resolve(null); }
      Object.keys(pending).forEach(function (k) {
        if (pending[k].manual && Object.keys(pending[k].values).length) { pending[k].manual = false; }
      });
      return flush({manual: true, force: true});
    }

    // Wait for a running save, then send what is pending; refuse to go on while cells are red.
    function settle() {
      return flush().then(function () {
        var red = Object.keys(pending).some(function (k) {
          return Object.keys(pending[k].errors).length > 0 || (!pending[k].manual && Object.keys(pending[k].values).length > 0);
        });
        if (red) {
          if (banner.hidden) { showBanner('error', t('fix_first')); }  // else the banner already says why
          return false;
        }
        return true;
      });
    }

    // --- bulk operations: paste, fill-down, clear ------------------------------------------------

    // Put a block of raw values into the pending store (rows: [{row|id/version|tmp, values}]) and send
    // it as one batch with the given source (one undo step).
    function applyBlock(targets, source, reloadAfter, select) {
      targets.forEach(function (tg) {
        var rec;
        if (tg.row) {
          Object.keys(tg.values).forEach(function (f) { rec = setPendingValue(tg.row, f, tg.values[f]); });
          if (rec) { rec.manual = false; }  // a new row pasted into goes with the paste
          var update = Object.assign({}, tg.values, {_pending: tg.row.getData()._pending, _errors: tg.row.getData()._errors});
          tg.row.update(update).then(function (row) { return row; });
        } else if (tg.tmp) {
          rec = pending[tg.tmp] = {tmp_id: tg.tmp, values: Object.assign({}, tg.values), errors: {}, shown: true};
        } else {
          rec = pending[String(tg.id)] || (pending[String(tg.id)] = {id: tg.id, version: tg.version, values: {}, errors: {}});
          Object.assign(rec.values, tg.values);
          rec.errors = {};
        }
      });
      dirty = true;
      sumsFresh = false;
      pendingSource = source;
      table.getRows().forEach(function (row) { row.reformat(); });
      return flush({force: true, reload: reloadAfter, bounds: select || bounds()});
    }

    function writableError(col, data, value) {
      if (!canWriteColumn(col)) { return t('read_only_col'); }
      if (data && data._readonly) { return t('read_only_row'); }
      return null;
    }

    function onPaste(e) {
      if (!table || isEditing()) { return; }
      var target = e.target;
      if (target && target.closest && (target.closest('.tabulator-header') || target.closest('.jxc-grid-toolbar') ||
          target.closest('.jxc-grid-banner') || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
      var text = e.clipboardData ? e.clipboardData.getData('text/plain') : '';
      e.preventDefault();
      e.stopPropagation();
      if (!cfg.can_write) { showBanner('error', t('not_allowed')); return; }
      var block = parseTsv(text);
      if (!block.length) { return; }
      var b = bounds();
      if (!b) { showBanner('error', t('select_first')); return; }
      pasteBlock(block, b);
    }

    function pasteBlock(block, b) {
      var height = block.length;
      var width = block[0].length;
      var rangeH = b.bottom - b.top + 1;
      var rangeW = b.right - b.left + 1;
      // a smaller block repeats over a selected range that is a whole multiple of it (as in Excel)
      if ((rangeH > height || rangeW > width) && rangeH % height === 0 && rangeW % width === 0) {
        var tiled = [];
        for (var i = 0; i < rangeH; i += 1) {
          var line = [];
          for (var j = 0; j < rangeW; j += 1) { line.push(block[i % height][j % width]); }
          tiled.push(line);
        }
        block = tiled;
        height = rangeH;
        width = rangeW;
      }
      if (height > cfg.max_batch_rows) { showBanner('error', t('too_many', cfg.max_batch_rows)); return; }
      var cols = visibleCols().slice(b.left, b.left + width);
      if (cols.length < width) { showBanner('error', t('too_wide', width - cols.length)); return; }
      var fields = cols.map(function (c) { return c.getField(); });
      var rows = pageRows().slice(b.top, b.top + height);
      var serverOnPage = pageRows().filter(function (r) { return !r.getData()._tmp; }).length;
      var past = height - rows.length;

      settle().then(function (ok) {
        if (!ok) { return null; }
        if (past <= 0) { return []; }
        var start = ((table.getPage() || 1) - 1) * (table.getPageSize() || cfg.page_size) + serverOnPage;
        return request('GET', withQuery(urls.ids, [['start', start], ['count', past]].concat(viewParams())))
          .then(function (r) {
            if (r.status !== 200) { showBanner('error', r.body.message || ('HTTP ' + r.status)); return null; }
            return r.body.rows || [];
          });
      }).then(function (offPage) {
        if (offPage === null) { return; }
        var creates = past - offPage.length;
        if (creates > 0) {
          if (!cfg.can_create) { showBanner('error', t('no_create')); return; }
          if (!window.confirm(t('confirm_add', creates))) { return; }
        }
        var problems = [];
        var targets = [];
        block.forEach(function (line, i) {
          var values = {};
          var tg;
          if (i < rows.length) {
            tg = {row: rows[i], values: values};
          } else if (i - rows.length < offPage.length) {
            var ref = offPage[i - rows.length];
            tg = {id: ref.id, version: ref.version, values: values};
          } else {
            tg = {tmp: 't' + (++tmpSeq), values: values};
          }
          var data = tg.row ? tg.row.getData() : null;
          line.forEach(function (raw, j) {
            var col = byField[fields[j]];
            var problem = writableError(col, data, raw);
            if (problem) {
              var same = data ? raw === copyText(col, data[col.field]) : raw === '';
              if (!same && !(tg.tmp && raw === '')) {
                problems.push((data ? rowLabel(rowKey(data)) : t('row', i + 1)) + ' · ' + col.title + '：' + problem);
              }
              return;
            }
            values[col.field] = raw;
          });
          if (Object.keys(values).length) { targets.push(tg); }
        });
        if (problems.length) { showBanner('error', t('paste_readonly'), problems); return; }
        if (!targets.length) { return; }
        var shown = {top: b.top, left: b.left, bottom: Math.min(b.top + height, pageRows().length) - 1, right: b.left + width - 1};
        return applyBlock(targets, 'paste', true, shown);
      });
    }

    function onCopy(e) {
      if (!table || isEditing()) { return; }
      var target = e.target;
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
      var b = bounds();
      if (!b) { return; }
      var rows = pageRows().slice(b.top, b.bottom + 1);
      var cols = visibleCols().slice(b.left, b.right + 1);
      var text = rows.map(function (row) {
        var data = row.getData();
        return cols.map(function (c) { return tsvCell(copyText(byField[c.getField()], data[c.getField()])); }).join('\t');
      }).join('\r\n');
      if (e.clipboardData) {
        e.clipboardData.setData('text/plain', text);
        e.preventDefault();
      }
    }

    // Ctrl+D: the first row of the range copied into the other rows, column by column.
    function fillDown() {
      var b = bounds();
      if (!b || b.bottom <= b.top || !cfg.can_write) { return; }
      var rows = pageRows().slice(b.top, b.bottom + 1);
      var cols = visibleCols().slice(b.left, b.right + 1).filter(function (c) { return canWriteColumn(byField[c.getField()]); });
      if (!cols.length) { showBanner('error', t('read_only_col')); return; }
      var first = rows[0].getData();
      var targets = rows.slice(1).filter(function (row) { return !row.getData()._readonly; }).map(function (row) {
        var values = {};
        cols.forEach(function (c) {
          var col = byField[c.getField()];
          var v = first[col.field];
          values[col.field] = v === null || v === undefined ? null : (col.type === 'bool' ? v : copyText(col, v));
        });
        return {row: row, values: values};
      });
      if (!targets.length) { return; }
      settle().then(function (ok) { if (ok) { applyBlock(targets, 'fill', true); } });
    }

    // Delete / Backspace: the editable cells of the range become empty.
    function clearRange() {
      var b = bounds();
      if (!b || !cfg.can_write) { return; }
      var rows = pageRows().slice(b.top, b.bottom + 1);
      var cols = visibleCols().slice(b.left, b.right + 1).filter(function (c) { return canWriteColumn(byField[c.getField()]); });
      var targets = [];
      rows.forEach(function (row) {
        var data = row.getData();
        if (data._readonly) { return; }
        var values = {};
        cols.forEach(function (c) {
          var v = data[c.getField()];
          if (v !== null && v !== undefined && v !== '' && byField[c.getField()].type !== 'bool') { values[c.getField()] = null; }
        });
        if (Object.keys(values).length) { targets.push({row: row, values: values}); }
      });
      if (!targets.length) { return; }
      settle().then(function (ok) { if (ok) { applyBlock(targets, 'delete', true); } });
    }

    // --- rows: add, delete ------------------------------------------------------------------------

    function addRow() {
      if (!cfg.can_create) { return; }
      var tmp = 't' + (++tmpSeq);
      pending[tmp] = {tmp_id: tmp, values: {}, errors: {}, manual: true, shown: true};
      table.addRow({_tmp: tmp, _new: true, _pending: {}, _errors: {}}, true).then(function () {
        var cols = visibleCols();
        var first = 0;
        for (var i = 0; i < cols.length; i += 1) {
          if (canWriteColumn(byField[cols[i].getField()])) { first = i; break; }
        }
        setRange(0, first, 0, first);
        var cell = activeCell();
        if (cell) { cell.edit(); }
      });
    }

    function deleteRows() {
      var b = bounds();
      if (!b || !cfg.can_delete) { showBanner('error', t('select_first')); return; }
      var rows = pageRows().slice(b.top, b.bottom + 1);
      var local = rows.filter(function (r) { return r.getData()._tmp; });
      var server = rows.filter(function (r) { return !r.getData()._tmp; });
      local.forEach(function (r) { delete pending[rowKey(r.getData())]; r.delete(); });
      if (!server.length) { return; }
      if (!window.confirm(t('confirm_delete', server.length))) { return; }
      var ops = server.map(function (r) {
        var d = r.getData();
        var rec = pending[String(d.id)];
        return {op: 'delete', id: d.id, version: rec ? rec.version : d.version};
      });
      settle().then(function (ok) {
        if (!ok) { return null; }
        return request('POST', urls.batch, {client_batch_id: uuid(), source: 'delete', ops: ops});
      }).then(function (r) {
        if (!r) { return; }
        if (r.status === 200) {
          ops.forEach(function (op) { delete pending[String(op.id)]; });
          pushUndo(r.body.batch_id);
          setStatus(t('deleted', (r.body.deleted || []).length));
          reloadPage();
        } else if (r.status === 409) {
          showBanner('warning', r.body.message || 'HTTP 409', [], [{name: 'reload', text: t('reload_rows'), run: function () { hideBanner(); reloadPage(); }}]);
        } else {
          var items = (r.body.errors || []).map(function (e) { return rowLabel(e.id) + '：' + e.message; });
          showBanner('error', typeof r.body.message === 'string' ? r.body.message : ('HTTP ' + r.status), items);
        }
      });
    }

    // --- undo / redo (server side, whole batches) -------------------------------------------------

    function undoRedo(redo) {
      if (isEditing()) { return; }
      var stack = redo ? redoStack : undoStack;
      settle().then(function (ok) {
        if (!ok) { return; }
        if (!stack.length) { setStatus(t(redo ? 'nothing_redo' : 'nothing_undo')); return; }
        var id = stack[0];
        request('POST', urls.undo.replace('{id}', encodeURIComponent(id)), {client_batch_id: uuid()}).then(function (r) {
          if (r.status === 200) {
            stack.shift();
            (redo ? undoStack : redoStack).unshift(r.body.batch_id);
            syncButtons();
            hideBanner();
            setStatus(t(redo ? 'redone' : 'undone'));
            reloadPage();
          } else {
            var items = (r.body.conflicts || []).map(function (c) { return (c.key || '#' + c.id) + ' · ' + (c.label || c.field); });
            if (r.status === 409 && !(r.body.conflicts || []).length) {
              stack.shift();  // already undone elsewhere: forget it
              syncButtons();
            }
            showBanner('error', typeof r.body.message === 'string' ? r.body.message : ('HTTP ' + r.status), items);
          }
        });
      });
    }

    function syncButtons() {
      if (buttons.undo) { buttons.undo.disabled = !undoStack.length; }
      if (buttons.redo) { buttons.redo.disabled = !redoStack.length; }
    }

    // --- export, columns, layout ------------------------------------------------------------------

    function exportView() {
      var fields = visibleCols().map(function (c) { return c.getField(); });
      window.location.href = withQuery(urls.export, viewParams().concat([['columns', fields.join(',')]]));
    }

    function buildColumnPanel() {
      colPanel.textContent = '';
      table.getColumns().forEach(function (c) {
        var col = byField[c.getField()];
        if (!col) { return; }
        var label = el('label', {'class': 'jxc-grid-colitem'});
        var box = el('input', {type: 'checkbox', 'data-field': col.field});
        box.checked = c.isVisible();
        box.addEventListener('change', function () {
          if (box.checked) { c.show(); } else { c.hide(); }
        });
        label.appendChild(box);
        label.appendChild(document.createTextNode(' ' + col.title));
        colPanel.appendChild(label);
      });
    }

    function saveLayoutSoon() {
      window.clearTimeout(layoutTimer);
      layoutTimer = window.setTimeout(function () {
        var body = {columns: table.getColumns().filter(function (c) { return byField[c.getField()]; }).map(function (c) {
          return {field: c.getField(), width: Math.round(c.getWidth()), visible: c.isVisible()};
        })};
        request('PUT', urls.layout, body, 1);
      }, 600);
    }

    // --- live updates -----------------------------------------------------------------------------

    function poll() {
      if (document.hidden || state.busy || inflight || !table) { return; }
      if (cursor === null) {
        request('GET', urls.changes, undefined, 0).then(function (r) { if (r.status === 200) { cursor = r.body.cursor; } });
        return;
      }
      request('GET', withQuery(urls.changes, [['since', cursor]]), undefined, 0).then(function (r) {
        if (r.status !== 200) { return; }
        cursor = r.body.cursor;
        var editingRow = isEditing() ? table.modules.edit.currentCell.row.getComponent() : null;
        (r.body.deleted || []).forEach(function (id) {
          var row = pageRowByKey(id);
          if (row && !pending[String(id)] && row !== editingRow) { row.delete(); }
        });
        var ids = (r.body.changed || []).filter(function (id) {
          var row = pageRowByKey(id);
          return row && !pending[String(id)] && row !== editingRow;
        });
        if (!ids.length) { return; }
        request('GET', withQuery(urls.rows, [['ids', ids.join(',')]]), undefined, 0).then(function (rr) {
          if (rr.status !== 200) { return; }
          (rr.body.data || []).forEach(function (fresh) {
            var row = pageRowByKey(fresh.id);
            var now = isEditing() ? table.modules.edit.currentCell.row.getComponent() : null;
            if (!row || pending[String(fresh.id)] || row === now || row.getData().version === fresh.version) { return; }
            row.update(Object.assign({}, fresh, {_errors: {}, _pending: {}})).then(function () {
              row.reformat();
              var node = row.getElement();
              node.classList.remove('jxc-row-flash');
              void node.offsetWidth;
              node.classList.add('jxc-row-flash');
              node.title = t('changed_elsewhere');
              window.setTimeout(function () { node.classList.remove('jxc-row-flash'); node.removeAttribute('title'); }, 2000);
            });
            sumsFresh = false;
          });
          table.recalc();
        });
      });
    }

    // --- keyboard ---------------------------------------------------------------------------------

    function inTable(target) {
      return target && target.closest && target.closest('.tabulator-tableholder') && !/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    }

    function onKeyDown(e) {
      if (!table) { return; }
      var ctrl = e.ctrlKey || e.metaKey;
      var key = e.key;
      if (ctrl && (key === 's' || key === 'S')) {
        e.preventDefault();
        if (!isEditing()) { save(); }
        return;
      }
      if (isEditing() || !inTable(e.target)) { return; }
      var lower = key.length === 1 ? key.toLowerCase() : key;
      if (ctrl && !e.altKey) {
        if (lower === 'z' && !e.shiftKey) { e.preventDefault(); undoRedo(false); return; }
        if (lower === 'y' || (lower === 'z' && e.shiftKey)) { e.preventDefault(); undoRedo(true); return; }
        if (lower === 'd') { e.preventDefault(); fillDown(); return; }
        if (key === 'Home' || key === 'End') {
          e.preventDefault();
          var last = pageRows().length - 1;
          var lastCol = visibleCols().length - 1;
          if (key === 'Home') { setRange(0, 0, 0, 0); } else { setRange(last, lastCol, last, lastCol); }
          return;
        }
        return;
      }
      var b = bounds();
      if (key === 'Delete' || key === 'Backspace') { e.preventDefault(); clearRange(); return; }
      if (key === 'Home' || key === 'End') {
        if (!b) { return; }
        e.preventDefault();
        var col = key === 'Home' ? 0 : visibleCols().length - 1;
        setRange(b.top, col, b.top, col);
        return;
      }
      var cell = activeCell();
      if (!cell) { return; }
      var colDef = byField[cell.getField()];
      if (key === 'F2') { e.preventDefault(); cell.edit(); return; }
      if (key === ' ' && colDef && colDef.type === 'bool') {
        e.preventDefault();
        if (canWriteColumn(colDef) && !cell.getRow().getData()._readonly) { cell.setValue(cell.getValue() !== true); }
        return;
      }
      if ((key.length === 1 || key === 'Process') && !e.altKey && colDef && canWriteColumn(colDef) &&
          !cell.getRow().getData()._readonly) {
        if (colDef.type === 'bool') { return; }
        if (colDef.type === 'select') { e.preventDefault(); cell.edit(); return; }
        if (key !== 'Process') { e.preventDefault(); startText = key; } else { startText = ''; }
        cell.edit();
        startText = null;
      }
    }

    // --- build ------------------------------------------------------------------------------------

    var langs = {};
    langs[LANG] = {
      pagination: {
        first: t('first'), first_title: t('first'), last: t('last'), last_title: t('last'),
        prev: t('prev'), prev_title: t('prev'), next: t('next'), next_title: t('next'),
        page_size: t('page_size'), all: t('all'),
        counter: {showing: t('showing'), of: t('of'), rows: t('rows'), pages: t('pages')}
      },
      data: {loading: t('loading'), error: t('network')},
      headerFilters: {'default': ''}
    };
    var sizes = [cfg.page_size || 100, 200, 500].filter(function (v, i, a) { return a.indexOf(v) === i; }).sort(function (a, b) { return a - b; });
    heightNow = tableHeight();
    table = new window.Tabulator(tableEl, {
      height: heightNow,
      layout: 'fitData',
      columns: resolveEditors(columnDefs()),
      index: 'id',
      placeholder: t('no_rows'),
      locale: LANG,
      langs: langs,
      ajaxURL: urls.rows,
      ajaxRequestFunc: loadRows,
      pagination: true,
      paginationMode: 'remote',
      paginationSize: cfg.page_size || 100,
      paginationSizeSelector: sizes,
      paginationCounter: 'rows',
      sortMode: 'remote',
      filterMode: 'remote',
      headerFilterLiveFilterDelay: 400,
      movableColumns: true,
      selectableRange: 1,
      selectableRangeColumns: false,
      selectableRangeRows: false,
      selectableRangeClearCells: false,
      selectableRangeAutoFocus: false,  // a reload must not pull the focus out of the search box
      editTriggerEvent: 'dblclick',
      clipboard: false,
      history: false,
      keybindings: {copyToClipboard: false, undo: false, redo: false, scrollToStart: false, scrollToEnd: false},
      rowFormatter: function (row) {
        var data = row.getData();
        var node = row.getElement();
        node.classList.toggle('jxc-row-readonly', !!data._readonly);
        node.classList.toggle('jxc-row-new', !!data._tmp);
      }
    });

    table.on('cellEdited', onCellEdited);
    table.on('columnResized', saveLayoutSoon);
    table.on('columnMoved', saveLayoutSoon);
    table.on('columnVisibilityChanged', saveLayoutSoon);
    table.on('dataProcessed', function () {
      if (restoreBounds) {
        var b = restoreBounds;
        restoreBounds = null;
        window.setTimeout(function () { setRange(b.top, b.left, b.bottom, b.right); }, 0);
      }
    });
    table.on('tableBuilt', function () {
      buildColumnPanel();
      request('GET', urls.history, undefined, 1).then(function (r) {
        if (r.status === 200) {
          undoStack = (r.body.undo || []).slice();
          redoStack = (r.body.redo || []).slice();
        }
        syncButtons();
      });
      poll();
      window.setInterval(poll, 3000);
    });

    root.addEventListener('paste', onPaste, true);
    root.addEventListener('copy', onCopy, true);
    root.addEventListener('cut', function (e) {
      if (!table || isEditing() || (e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName))) { return; }
      onCopy(e);
      clearRange();
    }, true);
    root.addEventListener('keydown', onKeyDown);
    document.addEventListener('keydown', function (e) {
      if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'S') && !root.contains(e.target)) {
        e.preventDefault();
        save();
      }
    });
    root.addEventListener('focusout', function (e) {
      if (e.relatedTarget && root.contains(e.relatedTarget)) { return; }
      if (dirty && !isEditing()) { flush(); }
    });
    window.addEventListener('beforeunload', function (e) {
      var batch = opsFromPending(false);
      if (dirty && batch.ops.length && window.fetch) {
        fetch(urls.batch, {
          method: 'POST', credentials: 'same-origin', keepalive: true,
          headers: {'Content-Type': 'application/json', 'X-CSRFToken': cfg.csrf_token},
          body: JSON.stringify({client_batch_id: uuid(), source: pendingSource, ops: batch.ops})
        });
      }
      var unsavedNew = Object.keys(pending).some(function (k) {
        return pending[k].manual && Object.keys(pending[k].values).length;
      });
      if (unsavedNew) {
        e.preventDefault();
        e.returnValue = t('unsaved_new');
      }
    });

    window.addEventListener('resize', function () { window.clearTimeout(resizeTimer); resizeTimer = window.setTimeout(fitHeight, 150); });
    var resizeTimer = null;
    var searchTimer = null;
    searchBox.addEventListener('input', function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(function () {
        query.search = searchBox.value.trim();
        table.setPage(1);
      }, 400);
    });

    toolbar.addEventListener('click', function (e) {
      var b = e.target.closest('[data-action]');
      if (!b) { return; }
      switch (b.getAttribute('data-action')) {
        case 'add': addRow(); break;
        case 'save': save(); break;
        case 'delete': deleteRows(); break;
        case 'undo': undoRedo(false); break;
        case 'redo': undoRedo(true); break;
        case 'export': exportView(); break;
        case 'reload': flush().then(reloadPage); break;
        case 'columns':
          buildColumnPanel();
          colPanel.hidden = !colPanel.hidden;
          break;
        default: break;
      }
    });
    document.addEventListener('mousedown', function (e) {
      if (!colPanel.hidden && !colWrap.contains(e.target)) { colPanel.hidden = true; }
    });

    syncButtons();
    window.jxcGrid = {
      mode: 'grid',
      table: table,
      state: state,
      pending: function () { return pending; },
      idle: function () { return state.busy === 0 && !inflight && !flushTimer; },
      undoStack: function () { return undoStack.slice(); },
      redoStack: function () { return redoStack.slice(); },
      select: setRange,
      bounds: bounds
    };
  }
}());
