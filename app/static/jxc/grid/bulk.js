// Bulk operations on the selected range: paste an Excel / WPS block (past the loaded page too),
// copy and cut, fill-down (Ctrl+D), clear (Delete); add and delete rows.
(function (G) {
  'use strict';

  // Add the bulk operations to the grid instance g.
  G.gridBulk = function (g) {
    var state = g.state;
    var cfg = g.cfg;
    var t = g.t;
    var urls = g.urls;
    var byField = g.byField;
    var request = g.request;
    var uuid = G.uuid;
    var withQuery = G.withQuery;
    var copyText = window.JXC.copyText;
    var tsvCell = window.JXC.tsvCell;
    var parseTsv = window.JXC.parseTsv;
    var tmpSeq = 0;

    // --- bulk operations: paste, fill-down, clear ------------------------------------------------

    // Put a block of raw values into the pending store (rows: [{row|id/version|tmp, values}]) and send
    // it as one batch with the given source (one undo step).
    function applyBlock(targets, source, reloadAfter, select) {
      targets.forEach(function (tg) {
        var rec;
        if (tg.row) {
          Object.keys(tg.values).forEach(function (f) { rec = g.setPendingValue(tg.row, f, tg.values[f]); });
          if (rec) { rec.manual = false; }  // a new row pasted into goes with the paste
          var update = Object.assign({}, tg.values, {_pending: tg.row.getData()._pending, _errors: tg.row.getData()._errors});
          tg.row.update(update).then(function (row) { return row; });
        } else if (tg.tmp) {
          state.pending[tg.tmp] = {tmp_id: tg.tmp, values: Object.assign({}, tg.values), errors: {}, shown: true, after: tg.after};
        } else {
          rec = state.pending[String(tg.id)] || (state.pending[String(tg.id)] = {id: tg.id, version: tg.version, values: {}, errors: {}});
          Object.assign(rec.values, tg.values);
          rec.errors = {};
        }
      });
      state.dirty = true;
      state.sumsFresh = false;
      state.pendingSource = source;
      g.showNewRows();
      g.table.getRows().forEach(function (row) { row.reformat(); });
      return g.flush({force: true, reload: reloadAfter, bounds: select || g.bounds()});
    }

    function writableError(col, data) {
      if (!g.canWriteColumn(col)) { return t('read_only_col'); }
      if (data && data._readonly) { return t('read_only_row'); }
      return null;
    }

    function onPaste(e) {
      if (!g.table || g.isEditing()) { return; }
      var target = e.target;
      if (target && target.closest && (target.closest('.tabulator-header') || target.closest('.jxc-grid-toolbar') ||
          target.closest('.jxc-grid-banner') || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
      var text = e.clipboardData ? e.clipboardData.getData('text/plain') : '';
      e.preventDefault();
      e.stopPropagation();
      if (!cfg.can_write) { g.showBanner('error', t('not_allowed')); return; }
      var block = parseTsv(text);
      if (!block.length) { return; }
      var b = g.bounds();
      if (!b) { g.showBanner('error', t('select_first')); return; }
      pasteBlock(block, b);
    }

    // A smaller block repeats over a selected range that is a whole multiple of it (as in Excel).
    function tile(block, rangeH, rangeW) {
      var out = [];
      for (var r = 0; r < rangeH; r += 1) {
        var cells = [];
        for (var c = 0; c < rangeW; c += 1) { cells.push(block[r % block.length][c % block[0].length]); }
        out.push(cells);
      }
      return out;
    }

    function pasteBlock(block, b) {
      var height = block.length;
      var width = block[0].length;
      var rangeH = b.bottom - b.top + 1;
      var rangeW = b.right - b.left + 1;
      if ((rangeH > height || rangeW > width) && rangeH % height === 0 && rangeW % width === 0) {
        block = tile(block, rangeH, rangeW);
        height = rangeH;
        width = rangeW;
      }
      if (height > cfg.max_batch_rows) { g.showBanner('error', t('too_many', cfg.max_batch_rows)); return; }
      var cols = g.visibleCols().slice(b.left, b.left + width);
      if (cols.length < width) { g.showBanner('error', t('too_wide', width - cols.length)); return; }
      var fields = cols.map(function (c) { return c.getField(); });
      var rows = g.pageRows().slice(b.top, b.top + height);
      // A block pasted into a new row goes on in new rows, as a paste below the last row does in Excel:
      // the saved rows under the new ones (新增行 puts them on top) are not written over.
      var intoNew = rows.length && rows[0].getData()._tmp;
      if (intoNew) {
        var k = 0;
        while (k < rows.length && rows[k].getData()._tmp) { k += 1; }
        rows = rows.slice(0, k);
      }
      var serverOnPage = g.pageRows().filter(function (r) { return !r.getData()._tmp; }).length;
      var past = height - rows.length;

      g.settle().then(function (ok) {
        if (!ok) { return null; }
        if (past <= 0 || intoNew) { return []; }
        var start = ((g.table.getPage() || 1) - 1) * (g.table.getPageSize() || cfg.page_size) + serverOnPage;
        return request('GET', withQuery(urls.ids, [['start', start], ['count', past]].concat(g.viewParams())))
          .then(function (r) {
            if (r.status !== 200) { g.showBanner('error', r.body.message || ('HTTP ' + r.status)); return null; }
            return r.body.rows || [];
          });
      }).then(function (offPage) {
        if (offPage === null) { return; }
        var creates = past - offPage.length;
        if (creates > 0) {
          if (!cfg.can_create) { g.showBanner('error', t('no_create')); return; }
          if (!window.confirm(t('confirm_add', creates))) { return; }
        }
        var problems = [];
        var targets = [];
        var keys = [];  // the rows the block covers, in order: a new row goes under the one before it
        block.forEach(function (line, i) {
          var values = {};
          var tg;
          if (i < rows.length) {
            tg = {row: rows[i], values: values};
            keys.push(g.rowKey(rows[i].getData()));
          } else if (i - rows.length < offPage.length) {
            var ref = offPage[i - rows.length];
            tg = {id: ref.id, version: ref.version, values: values};
            keys.push(String(ref.id));
          } else {
            tg = {tmp: 't' + (++tmpSeq), values: values, after: keys[keys.length - 1]};
            keys.push(tg.tmp);
          }
          var data = tg.row ? tg.row.getData() : null;
          line.forEach(function (raw, j) {
            var col = byField[fields[j]];
            var problem = writableError(col, data);
            if (problem) {
              var same = data ? raw === copyText(col, data[col.field], t) : raw === '';
              if (!same && !(tg.tmp && raw === '')) {
                problems.push((data ? g.rowLabel(g.rowKey(data)) : t('row', i + 1)) + ' · ' + col.title + '：' + problem);
              }
              return;
            }
            values[col.field] = window.JXC.typedValue(col, raw);
          });
          if (Object.keys(values).length) { targets.push(tg); }
        });
        if (problems.length) { g.showBanner('error', t('paste_readonly'), problems); return; }
        if (!targets.length) { return; }
        var shown = {top: b.top, left: b.left, bottom: Math.min(b.top + height, g.pageRows().length) - 1, right: b.left + width - 1,
          keys: keys};
        return applyBlock(targets, 'paste', true, shown);
      });
    }

    function onCopy(e) {
      if (!g.table || g.isEditing()) { return; }
      var target = e.target;
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
      var b = g.bounds();
      if (!b) { return; }
      var rows = g.pageRows().slice(b.top, b.bottom + 1);
      var cols = g.visibleCols().slice(b.left, b.right + 1);
      var text = rows.map(function (row) {
        var data = row.getData();
        return cols.map(function (c) { return tsvCell(copyText(byField[c.getField()], data[c.getField()], t)); }).join('\t');
      }).join('\r\n');
      if (e.clipboardData) {
        e.clipboardData.setData('text/plain', text);
        e.preventDefault();
      }
    }

    // Ctrl+D: the first row of the range copied into the other rows, column by column.
    function fillDown() {
      var b = g.bounds();
      if (!b || b.bottom <= b.top || !cfg.can_write) { return; }
      var rows = g.pageRows().slice(b.top, b.bottom + 1);
      var cols = g.visibleCols().slice(b.left, b.right + 1).filter(function (c) { return g.canWriteColumn(byField[c.getField()]); });
      if (!cols.length) { g.showBanner('error', t('read_only_col')); return; }
      var first = rows[0].getData();
      var targets = rows.slice(1).filter(function (row) { return !row.getData()._readonly; }).map(function (row) {
        var values = {};
        cols.forEach(function (c) {
          var col = byField[c.getField()];
          var v = first[col.field];
          values[col.field] = v === null || v === undefined ? null : (col.editor === 'tick' ? v : copyText(col, v, t));
        });
        return {row: row, values: values};
      });
      if (!targets.length) { return; }
      g.settle().then(function (ok) { if (ok) { applyBlock(targets, 'fill', true); } });
    }

    // Delete / Backspace: the editable cells of the range become empty.
    function clearRange() {
      var b = g.bounds();
      if (!b || !cfg.can_write) { return; }
      var rows = g.pageRows().slice(b.top, b.bottom + 1);
      var cols = g.visibleCols().slice(b.left, b.right + 1).filter(function (c) { return g.canWriteColumn(byField[c.getField()]); });
      var targets = [];
      rows.forEach(function (row) {
        var data = row.getData();
        if (data._readonly) { return; }
        var values = {};
        cols.forEach(function (c) {
          var v = data[c.getField()];
          if (v !== null && v !== undefined && v !== '' && byField[c.getField()].editor !== 'tick') { values[c.getField()] = null; }
        });
        if (Object.keys(values).length) { targets.push({row: row, values: values}); }
      });
      if (!targets.length) { return; }
      g.settle().then(function (ok) { if (ok) { applyBlock(targets, 'delete', true); } });
    }

    // --- rows: add, delete ------------------------------------------------------------------------

    function addRow() {
      if (!cfg.can_create) { return; }
      var tmp = 't' + (++tmpSeq);
      state.pending[tmp] = {tmp_id: tmp, values: {}, errors: {}, manual: true, shown: true};
      g.table.addRow({_tmp: tmp, _new: true, _pending: {}, _errors: {}}, true).then(function () {
        var cols = g.visibleCols();
        var first = 0;
        for (var i = 0; i < cols.length; i += 1) {
          if (g.canWriteColumn(byField[cols[i].getField()])) { first = i; break; }
        }
        g.setRange(0, first, 0, first);
        var cell = g.activeCell();
        if (cell) { cell.edit(); }
      });
    }

    function deleteRows() {
      var b = g.bounds();
      if (!b || !cfg.can_delete) { g.showBanner('error', t('select_first')); return; }
      var rows = g.pageRows().slice(b.top, b.bottom + 1);
      var local = rows.filter(function (r) { return r.getData()._tmp; });
      var server = rows.filter(function (r) { return !r.getData()._tmp; });
      local.forEach(function (r) { delete state.pending[g.rowKey(r.getData())]; r.delete(); });
      if (!server.length) { return; }
      if (!window.confirm(t('confirm_delete', server.length))) { return; }
      var ops = server.map(function (r) {
        var d = r.getData();
        var rec = state.pending[String(d.id)];
        return {op: 'delete', id: d.id, version: rec ? rec.version : d.version};
      });
      g.settle().then(function (ok) {
        if (!ok) { return null; }
        return request('POST', urls.batch, {client_batch_id: uuid(), source: 'delete', ops: ops});
      }).then(function (r) {
        if (!r) { return; }
        if (r.status === 200) {
          ops.forEach(function (op) { delete state.pending[String(op.id)]; });
          g.pushUndo(r.body.batch_id);
          g.setStatus(t('deleted', (r.body.deleted || []).length));
          g.reloadPage();
        } else if (r.status === 409) {
          g.showBanner('warning', r.body.message || 'HTTP 409', [], [{name: 'reload', text: t('reload_rows'), run: function () { g.hideBanner(); g.reloadPage(); }}]);
        } else {
          var items = (r.body.errors || []).map(function (e) { return g.rowLabel(e.id) + '：' + e.message; });
          g.showBanner('error', typeof r.body.message === 'string' ? r.body.message : ('HTTP ' + r.status), items);
        }
      });
    }

    g.addRow = addRow;
    g.clearRange = clearRange;
    g.deleteRows = deleteRows;
    g.fillDown = fillDown;
    g.onCopy = onCopy;
    g.onPaste = onPaste;
  };
}(window.JXCGrid = window.JXCGrid || {}));
