// The grid's texts in Chinese and English, and the small DOM and HTTP helpers every grid file uses.
// Each file of the grid adds to the one namespace window.JXCGrid (G); main.js starts the page.
(function (G) {
  'use strict';

  var TEXTS = {
    zh: {
      add: '新增行', save: '保存', del: '删除行', undo: '撤销', redo: '重做', exp: '导出 Excel', cols: '列',
      reload: '刷新', search: '搜索编码、名称…', total: '共 {n} 条', total_approx: '约 {n} 条', page_total: '本页合计', discard: '放弃修改',
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
      reload: 'Reload', search: 'Search code, name…', total: '{n} rows', total_approx: 'about {n} rows', page_total: 'Page total', discard: 'Discard',
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

  // A translator for one locale: t(key) or t(key, n) with {n} filled in; t.lang is 'zh' or 'en'.
  G.translator = function (locale) {
    var lang = locale === 'en' ? 'en' : 'zh';
    function t(key, n) {
      var text = TEXTS[lang][key] || TEXTS.zh[key] || key;
      return n === undefined ? text : text.replace('{n}', String(n));
    }
    t.lang = lang;
    return t;
  };

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

  // The page's request(method, url, body, retries): one JSON request that resolves {status, body} and
  // counts itself in state.busy; network failures are retried with the same body (a batch carries its
  // client_batch_id, so the server answers a repeat from its log).
  G.requester = function (cfg, state, t) {
    return function request(method, url, body, retries) {
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
    };
  };
}(window.JXCGrid = window.JXCGrid || {}));
