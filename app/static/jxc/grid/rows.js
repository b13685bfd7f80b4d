// The rows on the page: the row query sent to the server (sort, header filters, search), the rows
// request behind Tabulator's remote pages, and the selected range (bounds, setRange, activeCell).
(function (G) {
  'use strict';

  // Add the row and range functions to the grid instance g.
  G.gridRows = function (g) {
    var state = g.state;
    var cfg = g.cfg;
    var t = g.t;
    var urls = g.urls;
    var byField = g.byField;
    var request = g.request;
    var withQuery = G.withQuery;

    // --- the row query (g.query is shared by the grid, ids, export and the cards) --------------------

    function viewParams() {
      var params = [];
      g.query.sort.forEach(function (s, i) {
        params.push(['sort[' + i + '][field]', s.field], ['sort[' + i + '][dir]', s.dir]);
      });
      g.query.filter.forEach(function (f, i) {
        params.push(['filter[' + i + '][field]', f.field], ['filter[' + i + '][type]', f.type],
          ['filter[' + i + '][value]', f.value]);
      });
      if (g.query.search) { params.push(['search', g.query.search]); }
      return params;
    }

    // A column's filter (its field type says which): "compare" accepts an operator in front (">100",
    // "<=2026-01-31", "!=0"), "options" and "yesno" pick one value, "like" finds text inside.
    function headerFilter(f) {
      var col = byField[f.field] || {};
      var value = Array.isArray(f.value) ? f.value.join(',') : String(f.value === null || f.value === undefined ? '' : f.value);
      if (col.filter === 'compare') {
        var m = /^\s*(>=|<=|!=|>|<|=)\s*(.*)$/.exec(value);
        if (m) { return {field: f.field, type: m[1], value: m[2].trim()}; }
        return {field: f.field, type: '=', value: value.trim()};
      }
      if (col.filter === 'options' || col.filter === 'yesno') { return {field: f.field, type: '=', value: value}; }
      return {field: f.field, type: 'like', value: value};
    }

    // --- the rows request ------------------------------------------------------------------------

    function loadRows(url, config, params) {
      holdTyping();
      g.query.sort = (params.sort || []).map(function (s) { return {field: s.field, dir: s.dir}; });
      g.query.filter = (params.filter || []).map(headerFilter).filter(function (f) { return f.value !== ''; });
      var before = (state.dirty && !state.inflight) ? g.flush() : Promise.resolve();
      var page = params.page || 1;
      var view = '';
      return before.then(function () {
        var q = [['size', params.size || cfg.page_size]].concat(viewParams());
        view = JSON.stringify(q);
        var last = state.lastPage;
        q.unshift(['page', page]);
        // the next page of the same view starts after the last row shown (keyset: no rows skipped over)
        if (last && last.view === view && last.page + 1 === page && last.id) { q.push(['after', last.id]); }
        return request('GET', withQuery(urls.rows, q));
      }).then(function (r) {
        if (r.status !== 200) {
          state.lastPage = null;
          g.showBanner('error', r.body.message || ('HTTP ' + r.status));
          return {last_page: 1, last_row: 0, data: []};
        }
        var body = r.body;
        var rows = body.data || [];
        state.lastPage = {view: view, page: page, id: rows.length ? rows[rows.length - 1].id : null};
        state.sums = body.sums || {};
        state.sumsFresh = true;
        state.total = body.last_row || 0;
        g.ui.countEl.textContent = t(body.last_row_exact === false ? 'total_approx' : 'total', state.total);
        var kept = state.keptRows || [];  // rows just created by a paste stay on top until the next reload
        state.keptRows = null;
        var keptIds = kept.map(function (row) { return String(row.id); });
        var data = (body.data || []).filter(function (row) { return keptIds.indexOf(String(row.id)) < 0; })
          .map(function (row) { return g.mergePending(row); });
        var fresh = Object.keys(state.pending).map(function (k) { return state.pending[k]; })
          .filter(function (rec) { return rec.tmp_id && rec.shown; })
          .map(function (rec) { return g.newRowData(rec); });
        return {last_page: body.last_page || 1, last_row: state.total, data: fresh.concat(kept.map(g.mergePending), data)};
      }, function (e) { state.loading = false; state.held = null; throw e; });
    }

    // --- typing while the page reloads ---------------------------------------------------------------
    // A reload replaces the rows: an editor open on one is dropped, and the range is put back where a
    // paste left it. What was typed meanwhile (the open editor's text, then the keys typed while the
    // rows load) is kept with the cell it was typed into, by row and field, and goes on in that cell's
    // editor once the rows are there (typingDone), never into whatever cell is active by then.

    function holdTyping() {
      state.loading = true;
      var edit = g.table && g.table.modules.edit;
      var cell = edit && edit.currentCell;
      if (!cell || state.held) { return; }
      var input = cell.getElement().querySelector('input, textarea');
      state.held = {key: rowKey(cell.row.getData()), field: cell.column.getField(), text: input ? input.value : ''};
      cell.getComponent().cancelEdit();
      g.table.rowManager.element.focus({preventScroll: true});  // the next keys come to the grid
    }

    function typedWhileLoading(key) {
      if (!state.held) {
        var cell = activeCell();
        if (!cell) { return; }
        state.held = {key: rowKey(cell.getRow().getData()), field: cell.getField(), text: ''};
      }
      state.held.text += key;
    }

    function typingDone() {
      state.loading = false;
      var held = state.held;
      state.held = null;
      if (!held || !held.text) { return; }
      var row = pageRowByKey(held.key);
      var col = byField[held.field];
      var rowIndex = row ? pageRows().indexOf(row) : -1;
      var colIndex = visibleCols().map(function (c) { return c.getField(); }).indexOf(held.field);
      if (rowIndex < 0 || colIndex < 0 || !col || !g.canWriteColumn(col)) { return; }
      setRange(rowIndex, colIndex, rowIndex, colIndex);
      state.startText = held.text;
      row.getCell(held.field).edit();
      state.startText = null;
    }

    function reloadPage() {
      return g.table.setPage(g.table.getPage() || 1);
    }

    // --- rows and ranges -------------------------------------------------------------------------

    function rowKey(data) { return data._tmp ? String(data._tmp) : String(data.id); }

    function pageRows() { return g.table.getRows('display'); }

    function pageRowByKey(key) {
      var rows = g.table.getRows();
      for (var i = 0; i < rows.length; i += 1) {
        if (rowKey(rows[i].getData()) === String(key)) { return rows[i]; }
      }
      return null;
    }

    function visibleCols() {
      return g.table.getColumns().filter(function (c) { return c.isVisible() && byField[c.getField()]; });
    }

    function bounds() {
      var sr = g.table.modules.selectRange;
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
      var sr = g.table.modules.selectRange;
      if (!sr || !sr.activeRange) { return; }
      sr.activeRange.setStart(top, left);
      sr.activeRange.setEnd(bottom, right);
      sr.layoutElement();
      var cell = rows[bottom].getCell(cols[right]);
      if (cell) {
        var node = cell.getElement();
        if (node && node.scrollIntoView) { node.scrollIntoView({block: 'nearest', inline: 'nearest'}); }
      }
      g.table.rowManager.element.focus({preventScroll: true});
    }

    // The range a reload puts back: over the rows it covered (b.keys) wherever they are now, else where it was.
    function restoreRange(b) {
      if (b.keys) {
        var shown = pageRows().map(function (row) { return rowKey(row.getData()); });
        var places = b.keys.map(function (k) { return shown.indexOf(String(k)); }).filter(function (i) { return i >= 0; });
        if (places.length) {
          setRange(Math.min.apply(null, places), b.left, Math.max.apply(null, places), b.right);
          return;
        }
      }
      setRange(b.top, b.left, b.bottom, b.right);
    }

    function activeCell() {
      var b = bounds();
      if (!b) { return null; }
      var row = pageRows()[b.top];
      var col = visibleCols()[b.left];
      return row && col ? row.getCell(col) : null;
    }

    function isEditing() {
      var edit = g.table && g.table.modules.edit;
      return !!(edit && edit.currentCell);
    }

    g.activeCell = activeCell;
    g.typedWhileLoading = typedWhileLoading;
    g.typingDone = typingDone;
    g.bounds = bounds;
    g.isEditing = isEditing;
    g.loadRows = loadRows;
    g.pageRowByKey = pageRowByKey;
    g.pageRows = pageRows;
    g.reloadPage = reloadPage;
    g.rowKey = rowKey;
    g.restoreRange = restoreRange;
    g.setRange = setRange;
    g.viewParams = viewParams;
    g.visibleCols = visibleCols;
  };
}(window.JXCGrid = window.JXCGrid || {}));
