// Tabulator column definitions from the model's columns (cfg.columns and the saved layout): cell
// formatters with error / pending marks, header filters, page sums and the editor of each column. Each
// column says how it looks (editor, format, filter, align, width), as its field type on the server
// describes it: nothing here knows the type names.
(function (G) {
  'use strict';

  // Tabulator's fitData, measured in one pass. When the first rows arrive, fitData sizes each column in
  // turn: it sets the column's width (a write), then reads its cells' widths (a read that makes the browser
  // lay the whole table out again): one layout per column. This mode does the same in three passes over
  // all columns (write, read, write), so the table is laid out once; a column with a width (its type's or
  // the one the user saved) is set to it and not measured, as in fitData. (Tabulator 6.5's Column: widthFixed,
  // setWidth, setWidthActual, cells, maxInitialWidth; the events that hide the header filters meanwhile.)
  // A column that has its width already (set from its definition when the columns were built, or by the
  // last layout) is left alone: fitData set it again on the first rows, each of its cells' style written
  // and a 'column-width' event sent per column. The header filters are hidden once while columns are
  // measured and shown once after (fitData's 'column-width-fit-before/after', sent per column, hide and
  // show every header filter each time); with no column to measure (the item grid) they are not touched.
  var LAYOUT = 'jxcFitData';
  function fitDataOnce(columns, forced) {
    if (!forced) { return; }
    var measured = columns.filter(function (c) {
      if (c.isGroup) { return false; }
      var width = c.definition.width;
      if (typeof width === 'undefined') { return true; }
      if (!c.widthFixed || c.width !== width) { c.setWidth(width); }
      return false;
    });
    if (!measured.length) { return; }
    measured[0].dispatch('column-width-fit-before', measured[0]);
    measured.forEach(function (c) {
      c.widthFixed = false;
      c.element.style.width = '';
      c.cells.forEach(function (cell) { cell.clearWidth(); });
    });
    var widths = measured.map(function (c) {
      var widest = c.element.offsetWidth;
      c.cells.forEach(function (cell) { widest = Math.max(widest, cell.getWidth()); });
      return widest;
    });
    measured.forEach(function (c, i) {
      if (widths[i]) { c.setWidthActual(c.maxInitialWidth ? Math.min(widths[i] + 1, c.maxInitialWidth) : widths[i] + 1); }
    });
    measured[0].dispatch('column-width-fit-after', measured[0]);
  }
  if (window.Tabulator) {
    var modes = {};
    modes[LAYOUT] = fitDataOnce;
    window.Tabulator.extendModule('layout', 'modes', modes);
  }

  // Add columnDefs(), resolveEditors() and canWriteColumn() to the grid instance g.
  G.gridColumns = function (g) {
    var state = g.state;
    var cfg = g.cfg;
    var t = g.t;
    var byField = g.byField;
    var el = G.el;
    var numberText = window.JXC.numberText;
    var displayText = window.JXC.displayText;
    var exactSum = window.JXC.exactSum;
    var safeItem = G.safeItem;

    // --- columns ---------------------------------------------------------------------------------

    function canWriteColumn(col) { return !!(cfg.can_write && col.editable); }

    // The sums row (本页合计) is computed: never a cell to edit, fill or check like a data row's.
    function isSumsRow(row) {
      var node = row.getElement && row.getElement();
      return !!(node && node.classList.contains('tabulator-calcs'));
    }

    function cellEditable(col) {
      return function (cell) {
        var row = cell.getRow();
        return canWriteColumn(col) && !isSumsRow(row) && !row.getData()._readonly;
      };
    }

    function formatter(col) {
      return function (cell) {
        var data = cell.getRow().getData();
        var node = cell.getElement();
        var error = data._errors && data._errors[col.field];
        if (col.frozen) { node.style.left = (state.frozenLeft[col.field] || 0) + 'px'; }
        node.classList.toggle('jxc-cell-error', !!error);
        node.classList.toggle('jxc-cell-pending', !!(data._pending && data._pending[col.field]));
        var text = displayText(col, cell.getValue());
        if (error) {
          node.setAttribute('title', error);
        } else if (col.editor === 'textarea' || text.length > 24) {
          node.setAttribute('title', text);
        } else {
          node.removeAttribute('title');
        }
        var value = cell.getValue();
        if (col.opens && value && value.id) {  // a line's 单据编号: the document's page
          var link = document.createElement('a');
          link.href = col.opens.replace('{id}', encodeURIComponent(value.id));
          link.className = 'jxc-opens';
          link.textContent = text;
          return link;
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
        if (state.sumsFresh && Object.prototype.hasOwnProperty.call(state.sums, col.field)) { return state.sums[col.field]; }
        var s = exactSum(values);
        return s === null ? (state.sums[col.field] === undefined ? '' : state.sums[col.field]) : s;
      };
    }

    function editorFor(col) {
      if (!canWriteColumn(col)) { return undefined; }
      if (col.editor === 'tick') { return 'tickCross'; }
      if (col.editor === 'list') { return g.selectEditor(col); }
      if (col.editor === 'link' && col.lookup) { return g.linkEditor(col); }
      return g.inputEditor(col);
    }

    function headerFilterFor(col) {
      if (col.filter === 'options') {
        var values = [{label: '', value: ''}].concat((col.options || []).map(function (o) { return {label: o.label, value: o.value}; }));
        return {headerFilter: 'list', headerFilterParams: {values: values, clearable: true, itemFormatter: safeItem}};
      }
      if (col.filter === 'yesno') {
        return {headerFilter: 'list', headerFilterParams: {values: [{label: '', value: ''}, {label: t('yes'), value: 'true'}, {label: t('no'), value: 'false'}], itemFormatter: safeItem}};
      }
      return {headerFilter: 'input', headerFilterPlaceholder: ''};
    }

    function columnDefs() {
      var order = [];
      var layout = {};
      (cfg.layout || []).forEach(function (l) {
        if (byField[l.field] && !layout[l.field]) { layout[l.field] = l; order.push(byField[l.field]); }
      });
      g.columns.forEach(function (c) { if (!layout[c.field]) { order.push(c); } });
      // frozen columns must stay together on the left
      order = order.filter(function (c) { return c.frozen; }).concat(order.filter(function (c) { return !c.frozen; }));
      var firstText = null;
      return order.map(function (col) {
        var saved = layout[col.field] || {};
        var def = {
          title: col.title,
          field: col.field,
          visible: saved.visible !== false,
          headerSort: col.sortable !== false,
          titleFormatter: function () { return document.createTextNode(col.title); },
          headerTooltip: function () { return el('div', {}, col.help || col.title); },
          hozAlign: col.align || 'left',
          headerHozAlign: col.align === 'right' ? 'right' : 'left',
          formatter: formatter(col),
          cssClass: 'jxc-col-' + col.type + (canWriteColumn(col) ? '' : ' jxc-col-readonly') + (col.frozen ? ' jxc-frozen' : ''),
          editable: cellEditable(col),
          editor: editorFor(col)
        };
        var width = saved.width || col.width;
        if (width) { def.width = width; }
        Object.assign(def, headerFilterFor(col));
        if (col.summed) {  // amounts only: a price, a rate or a number of days adds up to nothing
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

    // Frozen key columns stay on the left while the grid scrolls sideways. Tabulator's own frozen columns
    // are not meant to go with range selection (it warns on every grid), so they are CSS sticky cells
    // (grid.css .jxc-frozen): each one's left offset is the width of the frozen columns before it.
    function pinFrozen() {
      var left = 0;
      g.table.getColumns().forEach(function (column) {
        var col = byField[column.getField()];
        if (!col || !col.frozen || !column.isVisible()) { return; }
        state.frozenLeft[col.field] = left;
        column.getElement().style.left = left + 'px';
        column.getCells().forEach(function (cell) { cell.getElement().style.left = left + 'px'; });
        left += column.getWidth();
      });
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

    state.frozenLeft = {};
    g.layoutMode = LAYOUT;
    g.canWriteColumn = canWriteColumn;
    g.pinFrozen = pinFrozen;
    g.columnDefs = columnDefs;
    g.resolveEditors = resolveEditors;
  };
}(window.JXCGrid = window.JXCGrid || {}));
