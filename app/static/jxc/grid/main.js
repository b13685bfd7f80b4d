// The spreadsheet grid of one model (/grid/<model>/): Tabulator with range selection, remote pages, and
// our own paste / copy / fill / delete / undo on top of the batch API. Phones
// get cards instead. No inline script: the page loads helpers.js and early.js (which asks for the first
// rows at once) first in the page's head, then ../values.js, rows, cards, columns, editors, store,
// bulk and toolbar.js by src, then this file, which builds the table, wires the keyboard and page events,
// polls for other people's changes and starts everything.
(function (G) {
  'use strict';

  var ROW_HEIGHT = 27;

  // The page context every part shares: config, texts, columns, the row query and one request function.
  function context(root) {
    var cfg = JSON.parse(root.getAttribute('data-config') || '{}');
    window.JXC.timeZone = cfg.timezone;
    var t = window.JXC.translator();
    var state = {busy: 0};
    var columns = cfg.columns || [];
    var byField = {};
    columns.forEach(function (c) { byField[c.field] = c; });
    return {
      root: root,
      cfg: cfg,
      t: t,
      lang: cfg.locale === 'en' ? 'en' : 'zh',
      columns: columns,
      byField: byField,
      urls: cfg.urls || {},
      state: state,
      query: {sort: [], filter: [], search: ''},  // shared by the grid, ids, export and the cards
      request: G.requester(cfg, state, t)
    };
  }

  // Desktop: the grid instance g is the page context plus the grid's mutable state (g.state), its DOM
  // parts (g.ui), the Tabulator table (g.table) and the functions each file adds to it.
  function grid(g) {
    Object.assign(g.state, {
      pending: {},          // rowKey -> {id, tmp_id, version, values: {field: raw}, errors: {}, manual}
      pendingSource: 'edit',
      dirty: false,         // pending changed since the last send
      flushTimer: null,
      inflight: null,
      undoStack: [],
      redoStack: [],
      sums: {},
      sumsFresh: false,
      total: 0,
      startText: null,      // the key that started an edit by typing
      restoreBounds: null,
      heightNow: 0
    });
    G.gridToolbar(g);  // first: the toolbar and banner are on the page before the table measures its height
    G.gridRows(g);
    G.gridColumns(g);
    G.gridEditors(g);
    G.gridStore(g);
    G.gridBulk(g);
    buildTable(g, poller(g));
    listen(g, keyHandler(g));
    g.syncButtons();
    window.jxcGrid = {
      mode: 'grid',
      table: g.table,
      state: g.state,
      pending: function () { return g.state.pending; },
      idle: function () {
        return g.state.busy === 0 && !g.state.inflight && !g.state.flushTimer && !g.state.columnsLater;
      },
      undoStack: function () { return g.state.undoStack.slice(); },
      redoStack: function () { return g.state.redoStack.slice(); },
      select: g.setRange,
      bounds: g.bounds
    };
    if (g.build) { g.build(); }  // last: every handler is on (see newTable)
  }

  // --- live updates ------------------------------------------------------------------------------

  // poll(): fetch what others changed since the last cursor and refresh those rows unless I edit them;
  // a row I am editing (or have unsaved changes in) is refreshed by a later poll, once I am done.
  function poller(g) {
    var state = g.state;
    var t = g.t;
    var urls = g.urls;
    var request = g.request;
    var withQuery = G.withQuery;
    var cursor = g.cfg.changes_cursor === undefined ? null : g.cfg.changes_cursor;  // taken with the page
    var later = {};  // ids changed elsewhere while I was busy with them

    function busyWith(row) {
      var editing = g.isEditing() ? g.table.modules.edit.currentCell.row.getComponent() : null;
      return state.pending[String(row.getData().id)] || row === editing;
    }

    function poll() {
      if (document.hidden || state.busy || state.inflight || !g.table) { return; }
      if (cursor === null) {
        request('GET', urls.changes, undefined, 0).then(function (r) { if (r.status === 200) { cursor = r.body.cursor; } });
        return;
      }
      request('GET', withQuery(urls.changes, [['since', cursor]]), undefined, 0).then(function (r) {
        if (r.status !== 200) { return; }
        cursor = r.body.cursor;
        (r.body.deleted || []).forEach(function (id) {
          var row = g.pageRowByKey(id);
          if (row && !busyWith(row)) { row.delete(); }
        });
        var asked = (r.body.changed || []).concat(Object.keys(later).map(Number));
        var ids = asked.filter(function (id, i) {
          var row = g.pageRowByKey(id);
          if (asked.indexOf(id) !== i || !row) { return false; }
          if (busyWith(row)) { later[id] = true; return false; }
          delete later[id];
          return true;
        });
        if (!ids.length) { return; }
        request('GET', withQuery(urls.rows, [['ids', ids.join(',')]]), undefined, 0).then(function (rr) {
          if (rr.status !== 200) { return; }
          (rr.body.data || []).forEach(function (fresh) {
            var row = g.pageRowByKey(fresh.id);
            if (!row || row.getData().version === fresh.version) { return; }
            if (busyWith(row)) { later[fresh.id] = true; return; }
            row.update(Object.assign({}, fresh, {_errors: {}, _pending: {}})).then(function () {
              row.reformat();
              var node = row.getElement();
              node.classList.remove('jxc-row-flash');
              void node.offsetWidth;
              node.classList.add('jxc-row-flash');
              node.title = t('changed_elsewhere');
              window.setTimeout(function () { node.classList.remove('jxc-row-flash'); node.removeAttribute('title'); }, 2000);
            });
            state.sumsFresh = false;
          });
          g.table.recalc();
        });
      });
    }

    return poll;
  }

  // --- keyboard ----------------------------------------------------------------------------------

  function keyHandler(g) {
    var state = g.state;
    var byField = g.byField;

    function inTable(target) {
      return target && target.closest && target.closest('.tabulator-tableholder') && !/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    }

    function onKeyDown(e) {
      if (!g.table) { return; }
      var ctrl = e.ctrlKey || e.metaKey;
      var key = e.key;
      if (ctrl && (key === 's' || key === 'S')) {
        e.preventDefault();
        if (!g.isEditing()) { g.save(); }
        return;
      }
      if (g.isEditing() || !inTable(e.target)) { return; }
      if (state.loading && !ctrl && !e.altKey) {  // the rows are being replaced: keep what is typed
        e.preventDefault();
        if (key.length === 1) { g.typedWhileLoading(key); }
        return;
      }
      var lower = key.length === 1 ? key.toLowerCase() : key;
      if (ctrl && !e.altKey) {
        if (lower === 'z' && !e.shiftKey) { e.preventDefault(); g.undoRedo(false); return; }
        if (lower === 'y' || (lower === 'z' && e.shiftKey)) { e.preventDefault(); g.undoRedo(true); return; }
        if (lower === 'd') { e.preventDefault(); g.fillDown(); return; }
        if (key === 'Home' || key === 'End') {
          e.preventDefault();
          var last = g.pageRows().length - 1;
          var lastCol = g.visibleCols().length - 1;
          if (key === 'Home') { g.setRange(0, 0, 0, 0); } else { g.setRange(last, lastCol, last, lastCol); }
          return;
        }
        return;
      }
      var b = g.bounds();
      if (key === 'Delete' || key === 'Backspace') { e.preventDefault(); g.clearRange(); return; }
      if (key === 'Home' || key === 'End') {
        if (!b) { return; }
        e.preventDefault();
        var col = key === 'Home' ? 0 : g.visibleCols().length - 1;
        g.setRange(b.top, col, b.top, col);
        return;
      }
      var cell = g.activeCell();
      if (!cell) { return; }
      var colDef = byField[cell.getField()];
      if (key === 'F2') { e.preventDefault(); cell.edit(); return; }
      if (key === ' ' && colDef && colDef.editor === 'tick') {
        e.preventDefault();
        if (g.canWriteColumn(colDef) && !cell.getRow().getData()._readonly) { cell.setValue(cell.getValue() !== true); }
        return;
      }
      if ((key.length === 1 || key === 'Process') && !e.altKey && colDef && g.canWriteColumn(colDef) &&
          !cell.getRow().getData()._readonly) {
        if (colDef.editor === 'tick') { return; }
        if (colDef.editor === 'list') { e.preventDefault(); cell.edit(); return; }
        if (key !== 'Process') { e.preventDefault(); state.startText = key; } else { state.startText = ''; }
        cell.edit();
        state.startText = null;
      }
    }

    return onKeyDown;
  }

  // --- build ---------------------------------------------------------------------------------------

  // A row and its cells are given their known height as the row is drawn, before it is put in the page:
  // Tabulator would put the rows in, read the first one's height (a layout of the table), then set every
  // cell's height (a style change of every cell, and a second layout). The cells' 27 px come from grid.css
  // (.tabulator-cell in a row), so no cell is written to: Tabulator's setCellHeight wrote each cell's style and
  // told every module of each cell ('cell-height': the range selection hid its overlay and started a timer,
  // 27 columns x 28 rows times). (Tabulator 6.5's Row: height, heightStyled, outerHeight, heightInitialized,
  // cells; Cell: height, read by getHeight; rowFormatter runs in Row.initialize, after the cells are made.)
  function sized(row) {
    if (row.heightInitialized || row.type !== 'row') { return; }
    row.height = ROW_HEIGHT;
    row.heightStyled = ROW_HEIGHT + 'px';
    row.outerHeight = ROW_HEIGHT;
    row.cells.forEach(function (cell) { cell.height = ROW_HEIGHT; });
    row.heightInitialized = true;
  }

  // Tabulator 6.5's constructor leaves the table's build to a timer (setTimeout(() => this._create())) so
  // that handlers can be put on first; in between, the browser would lay out and paint the page without its
  // table while the first rows (asked for by early.js) are on their way, and the build would wait for that
  // frame. The build is taken from that timer instead and run by grid() once every handler is on, in the same
  // task as the page's scripts: rows that are there already are drawn in the first frame after it.
  function newTable(g, options, later) {
    var setTimer = window.setTimeout;
    window.setTimeout = function (fn, delay) {
      if (!g.build && !delay && typeof fn === 'function') {
        g.build = function () { g.build = null; fn(); };
        return 0;
      }
      return setTimer.apply(window, arguments);
    };
    var table;
    try {
      table = sumsAfterPaint(new window.Tabulator(g.ui.tableEl, options));
    } finally {
      window.setTimeout = setTimer;
    }
    headerFiltersLeftShownInBuild(g, table);
    if (later.length) { addLaterColumnsAfterFirstRows(g, table, later); }  // before the range marks (below)
    headersAlignedAfterPaint(table);
    rangesMarkedAfterFirstRows(table);
    return table;
  }

  // After the next frame is painted: in that frame's animation callbacks' next frame, not in a task queued
  // from it (a task would run before other tasks the painted frame lets in, such as the rows' answer).
  function afterPaint(fn) {
    window.requestAnimationFrame(function () { window.requestAnimationFrame(fn); });
  }

  // Each column made in the build sends 'column-width-fit-before' and '-after' (Column.reinitializeWidth),
  // which Tabulator's filter module answers by hiding, then showing, the header filter of every column made
  // so far: 27 x 27 style writes on the item grid, whose net effect is no change (a new header filter is
  // shown). Those two answers do nothing while the table is being built (g.build) or the columns right of the
  // view are added (addLaterColumns); otherwise they hide and show as before (jxcFitData, column resizes).
  function headerFiltersLeftShownInBuild(g, table) {
    var filter = table.modules.filter;
    if (!filter || !g.build) { return; }
    ['hideHeaderFilterElements', 'showHeaderFilterElements'].forEach(function (name) {
      var own = filter[name];
      filter[name] = function () { if (table.initialized && !g.state.addingColumns) { own.apply(filter, arguments); } };
    });
  }

  // The range selection marks its cells and places its overlay after every layout of the table: on the first
  // load, in the build, as each drawn cell is rendered, when the rows are laid out and again when the default
  // range (the first cell) is set, each time over every row of the page (making the elements of the rows not
  // drawn yet) and reading the cells' positions, a layout of the table, all before the frame that shows the
  // first rows. Until the frame after that one (or after a failed first load), those marks are left for one
  // pass over the rows, columns and ranges as they are then; the ranges themselves (what is selected, the
  // keys and mouse acting on them) are kept by the module as before. (Tabulator 6.5's SelectRange:
  // layoutElement, called by Range.setBounds and on 'table-layout'; renderCell, on 'cell-rendered'; both bound
  // when the module is initialized, in the build.)
  function rangesMarkedAfterFirstRows(table) {
    var ranges = table.modules.selectRange;
    if (!ranges) { return; }
    var layout = ranges.layoutElement;
    var render = ranges.renderCell;
    var held = true;
    var scheduled = false;
    function markAll() {
      if (scheduled) { return; }
      scheduled = true;
      afterPaint(function () {
        held = false;
        layout.call(ranges);
      });
    }
    // the module subscribed these two (bound in the build): they stay, and pass every call on once marked
    ranges.layoutElement = function () { if (!held) { layout.apply(ranges, arguments); } };
    ranges.renderCell = function () { if (!held) { render.apply(ranges, arguments); } };
    table.on('dataProcessed', markAll);
    table.on('dataLoadError', markAll);
  }

  // Once the first rows are loaded Tabulator aligns the column headers again (Tabulator._loadInitialData):
  // every header's height cleared, then measured, a layout of the whole table with its rows forced before
  // the frame that shows them, then set to what it was (the headers' texts do not change with the rows;
  // they were aligned in the build). That alignment is done in the frame after the one that paints the rows.
  // (Tabulator 6.5: _loadInitialData is the data loader's load, then columnManager.verticalAlignHeaders.)
  function headersAlignedAfterPaint(table) {
    var columns = table.columnManager;
    table._loadInitialData = function () {
      return table.dataLoader.load(table.options.data).finally(function () {
        afterPaint(function () { columns.verticalAlignHeaders(); });
      });
    };
  }

  // The sums row of a load of rows is made in the frame after the one that paints the rows: Tabulator's
  // column calculations remade it (the sums over the page, its 27 cells, each formatted, and a measure of
  // its height that lays the table out again) in the same task as the rows, before the frame that shows
  // them. The last row (the previous page's sums, or the empty row drawn before the first rows) stays one
  // frame longer. It is made in the next frame's animation callbacks, not in a task queued from the rows'
  // frame, which would hold the main thread in the tasks that follow that frame's paint.
  // Only the remake on 'data-refreshed' (a load, or rows added) waits: an edit ('cell-value-changed') and
  // a row added or deleted ('row-added', 'row-deleted') still sum at once. The module is there once the
  // table is constructed and subscribes in the build (newTable), so the method it binds is this one.
  function sumsAfterPaint(table) {
    var calcs = table.modules.columnCalcs;
    var recalc = calcs && calcs.recalcActiveRowsRefresh;
    if (recalc) {
      calcs.recalcActiveRowsRefresh = function () { afterPaint(function () { recalc.call(calcs); }); };
    }
    return table;
  }

  // The first rows are drawn with the columns on screen only. The columns right of the view (from the widths
  // they are given: the first whose left edge lies beyond the table's width, and every one after it) are left
  // out of Tabulator's build and added in the frame after the one that paints the first rows (or after a failed
  // first load), before the user can scroll to them: the build makes only the headers, header filters and
  // sums cells that are seen, and the first rows only their cells (10 of the item grid's 27 columns at 1366 px).
  // Only a tail of the columns is left out, and only if none of them is frozen or without a width (jxcFitData
  // measures a column without one from its cells). Columns the user hid in the tail are added
  // as they are (hidden). Once added, to Tabulator and to the user the table is the one built with every
  // column: the same columns, widths, header filters, sums, column panel and saved layout (g.state.columnsLater
  // is true until then, and jxcGrid.idle() false).
  function laterColumns(g, defs) {
    var width = g.ui.tableEl.clientWidth;
    var left = 0;
    var first = -1;
    defs.forEach(function (def, i) {
      if (first < 0 && def.visible && left > width) { first = i; }
      if (def.visible) { left += def.width || 0; }
    });
    if (first < 0) { return []; }
    var kept = defs.map(function (def) { return !def.width || !!(g.byField[def.field] || {}).frozen; });
    first = Math.max(first, kept.lastIndexOf(true) + 1);  // after the last column measured or frozen
    return defs.splice(first, defs.length - first);
  }

  // Add the columns left out of the build (laterColumns) as Tabulator's addColumn would, in one pass: each
  // column is made (its header, header filter, sort, move and range handlers, on 'column-init') and given its
  // width; each drawn row gets a cell of each, appended to it (the row is not made again, which would measure
  // and restyle every cell of it; a row not drawn has its cells, if any were asked for, made again with every
  // column when it is drawn or asked); then one redraw of the columns aligns the headers and makes the sums row
  // again with every column. Tabulator's addColumn does all of this per column, each time making every drawn row
  // again. (Tabulator 6.5: ColumnManager._addColumn, _reIndexColumns, redraw;
  // Column.reinitializeWidth, generateCell; Row.cells; Cell.getElement, cellRendered.)
  function addLaterColumns(g, defs) {
    var table = g.table;
    var manager = table.columnManager;
    var added = [];
    g.state.addingColumns = true;  // the header filters are neither hidden nor shown meanwhile (as in the build)
    try {
      defs.forEach(function (def) { added.push(manager._addColumn(def)); });
      manager._reIndexColumns();
      added.forEach(function (column) { column.reinitializeWidth(); });
      table.rowManager.rows.forEach(function (row) {
        if (!row.initialized) {  // not drawn: its cells, if any were asked for, are made again when needed
          row.deleteCells();
          return;
        }
        var cells = added.map(function (column) {
          var cell = column.generateCell(row);
          cell.height = ROW_HEIGHT;
          row.cells.push(cell);
          return cell;
        });
        var fragment = document.createDocumentFragment();
        cells.forEach(function (cell) { fragment.appendChild(cell.getElement()); });
        row.element.appendChild(fragment);
        cells.forEach(function (cell) { cell.cellRendered(); });
      });
    } finally {
      g.state.addingColumns = false;
    }
    manager.redraw();
  }

  function addLaterColumnsAfterFirstRows(g, table, defs) {
    var state = g.state;
    state.columnsLater = true;
    function addAll() {
      if (!state.columnsLater || state.columnsAdding) { return; }
      state.columnsAdding = true;
      afterPaint(function () {
        addLaterColumns(g, defs);
        state.columnsLater = false;
        g.pinFrozen();
      });
    }
    table.on('dataProcessed', addAll);
    table.on('dataLoadError', addAll);
  }

  function buildTable(g, poll) {
    var state = g.state;
    var cfg = g.cfg;
    var t = g.t;
    var urls = g.urls;
    var request = g.request;

    var langs = {};
    langs[g.lang] = {
      pagination: {
        first: t('first'), first_title: t('first'), last: t('last'), last_title: t('last'),
        prev: t('prev'), prev_title: t('prev'), next: t('next'), next_title: t('next'),
        page_size: t('page_size'), page_title: t('page_title'), all: t('all'),
        counter: {showing: t('showing'), of: t('of'), rows: t('rows'), pages: t('pages')}
      },
      data: {loading: t('loading'), error: t('network')},
      headerFilters: {'default': ''}
    };
    var sizes = [cfg.page_size || 100, 200, 500].filter(function (v, i, a) { return a.indexOf(v) === i; }).sort(function (a, b) { return a - b; });
    state.heightNow = g.tableHeight();
    var columns = g.resolveEditors(g.columnDefs());
    var later = laterColumns(g, columns);  // taken out of columns
    g.table = newTable(g, {
      height: state.heightNow,
      layout: g.layoutMode,
      // every row is one line (cells do not wrap: 13px text at Bootstrap's line height, 4px padding, a 1px
      // border): known, the rows that fill the view are drawn in one pass instead of batches of 20, each
      // measured by a layout of the table
      rowHeight: ROW_HEIGHT,
      renderVerticalBuffer: ROW_HEIGHT * 5,  // rows drawn beyond the view (Tabulator's default: a view's height more)
      // columns are resized from their header, as in Excel: Tabulator's default also puts a resize handle
      // after every cell of every row (as many elements again as cells, each laid out and painted)
      columnDefaults: {resizable: 'header'},
      columns: columns,
      index: 'id',
      placeholder: t('no_rows'),
      locale: g.lang,
      langs: langs,
      ajaxURL: urls.rows,
      ajaxRequestFunc: g.loadRows,
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
        sized(row._row);
      }
    }, later);

    g.table.on('cellEdited', g.onCellEdited);
    g.table.on('columnResized', function () { g.pinFrozen(); g.saveLayoutSoon(); });
    g.table.on('columnMoved', function () { g.pinFrozen(); g.saveLayoutSoon(); });
    g.table.on('columnVisibilityChanged', function () { g.pinFrozen(); g.saveLayoutSoon(); });
    g.table.on('dataProcessed', function () {
      var b = state.restoreBounds;
      state.restoreBounds = null;
      window.setTimeout(function () {
        if (b) { g.restoreRange(b); }
        g.typingDone();
      }, 0);
    });
    // tableBuilt comes with the first rows, in the task that draws them: the frozen columns' offsets are set
    // before that frame; the column panel (hidden until its button, which builds it again, is clicked), the
    // undo history and the polling for others' changes start in the frame after.
    g.table.on('tableBuilt', function () {
      g.pinFrozen();
      afterPaint(function () {
        g.buildColumnPanel();
        request('GET', urls.history, undefined, 1).then(function (r) {
          if (r.status === 200) {
            state.undoStack = (r.body.undo || []).slice();
            state.redoStack = (r.body.redo || []).slice();
          }
          g.syncButtons();
        });
        poll();
        window.setInterval(poll, 3000);
      });
    });
  }

  // --- page events ---------------------------------------------------------------------------------

  function listen(g, onKeyDown) {
    var state = g.state;
    var cfg = g.cfg;
    var t = g.t;
    var urls = g.urls;
    var uuid = G.uuid;

    g.root.addEventListener('paste', g.onPaste, true);
    g.root.addEventListener('copy', g.onCopy, true);
    g.root.addEventListener('cut', function (e) {
      if (!g.table || g.isEditing() || (e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName))) { return; }
      g.onCopy(e);
      g.clearRange();
    }, true);
    g.root.addEventListener('keydown', onKeyDown);
    // Enter on a cell that cannot be written (a computed amount, a read-only grid): Tabulator's range starts an
    // edit the column has no editor for and throws (reading 'blocked'); there is nothing to edit, so the key
    // stops here, before the table's own handler
    g.root.addEventListener('keydown', function (e) {
      if (e.key !== 'Enter' || !g.table || g.isEditing() || !e.target.closest ||
          !e.target.closest('.tabulator-tableholder')) { return; }
      var cell = g.activeCell();
      var col = cell && g.byField[cell.getField()];
      if (cell && !(col && g.canWriteColumn(col))) { e.preventDefault(); e.stopPropagation(); }
    }, true);
    document.addEventListener('keydown', function (e) {
      if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'S') && !g.root.contains(e.target)) {
        e.preventDefault();
        g.save();
      }
    });
    g.root.addEventListener('focusout', function (e) {
      if (e.relatedTarget && g.root.contains(e.relatedTarget)) { return; }
      if (state.dirty && !g.isEditing()) { g.flush(); }
    });
    window.addEventListener('beforeunload', function (e) {
      var batch = g.opsFromPending(false);
      if (state.dirty && batch.ops.length && window.fetch) {
        fetch(urls.batch, {
          method: 'POST', credentials: 'same-origin', keepalive: true,
          headers: {'Content-Type': 'application/json', 'X-CSRFToken': cfg.csrf_token},
          body: JSON.stringify({client_batch_id: uuid(), source: state.pendingSource, ops: batch.ops})
        });
      }
      var unsavedNew = Object.keys(state.pending).some(function (k) {
        return state.pending[k].manual && Object.keys(state.pending[k].values).length;
      });
      if (unsavedNew) {
        e.preventDefault();
        e.returnValue = t('unsaved_new');
      }
    });

    window.addEventListener('resize', function () { window.clearTimeout(resizeTimer); resizeTimer = window.setTimeout(g.fitHeight, 150); });
    var resizeTimer = null;
    var searchTimer = null;
    g.ui.searchBox.addEventListener('input', function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(function () {
        g.query.search = g.ui.searchBox.value.trim();
        g.table.setPage(1);
      }, 400);
    });

    g.ui.toolbar.addEventListener('click', function (e) {
      var b = e.target.closest('[data-action]');
      if (!b) { return; }
      switch (b.getAttribute('data-action')) {
        case 'add': g.addRow(); break;
        case 'save': g.save(); break;
        case 'delete': g.deleteRows(); break;
        case 'undo': g.undoRedo(false); break;
        case 'redo': g.undoRedo(true); break;
        case 'export': g.exportView('xlsx'); break;
        case 'export_csv': g.exportView('csv'); break;
        case 'reload': g.flush().then(g.reloadPage); break;
        case 'columns':
          g.buildColumnPanel();
          g.ui.colPanel.hidden = !g.ui.colPanel.hidden;
          break;
        default: break;
      }
    });
    document.addEventListener('mousedown', function (e) {
      if (!g.ui.colPanel.hidden && !g.ui.colWrap.contains(e.target)) { g.ui.colPanel.hidden = true; }
    });
  }

  var root = document.getElementById('jxc-grid');
  if (root) {
    var ctx = context(root);
    if (G.isPhone()) { G.cards(ctx); } else { grid(ctx); }
  }
}(window.JXCGrid = window.JXCGrid || {}));
