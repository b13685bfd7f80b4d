// A report's page: ask /api/v1/reports/<name> for the answer, draw its chart (ECharts) and its grid
// (Tabulator, key columns frozen, the server's totals at the bottom); a row with `_drill` opens what is behind it.
(function (J) {
  'use strict';
  var root = document.getElementById('jxc-report');
  if (!root) { return; }
  var cfg = JSON.parse(root.getAttribute('data-config'));
  var NUMERIC = ['quantity', 'money', 'decimal', 'percent', 'integer'];

  function showError(text) {
    var box = document.getElementById('jxc-report-error');
    box.textContent = text || '';
    box.hidden = !text;
  }

  // the same filters refused the exports and the print view: they would open the API's JSON refusal instead
  function refuseExports(text) {
    ['jxc-report-xlsx', 'jxc-report-csv', 'jxc-report-print'].forEach(function (id) {
      var link = document.getElementById(id);
      if (!link) { return; }
      link.setAttribute('aria-disabled', 'true');
      link.classList.add('disabled');
      link.addEventListener('click', function (e) { e.preventDefault(); showError(text); });
    });
  }

  function cellText(value) {
    if (value == null) { return ''; }
    if (typeof value === 'object') {
      return value.name && value.name !== value.key ? value.key + ' ' + value.name : String(value.key);
    }
    return String(value);
  }

  function columnsOf(answer) {
    return answer.columns.map(function (col) {
      var numeric = NUMERIC.indexOf(col.type) >= 0;
      var look = { places: col.places, decimals: col.places || 0 };
      return {
        title: col.label,
        field: col.name,
        frozen: col.key,
        // widths change from the header only: Tabulator's default (`true`) also puts a resize handle on the
        // right edge of every body cell, and that handle swallows the click (stopPropagation), so a click on the
        // border between two cells never reached rowClick and the drill-down did nothing
        resizable: 'header',
        hozAlign: numeric ? 'right' : 'left',
        headerHozAlign: numeric ? 'right' : 'left',
        // numbers as the grid shows them (thousands separated; money to its places, the cent: the answer is exact)
        formatter: function (cell) { return numeric ? J.numberText(look, cell.getValue()) : cellText(cell.getValue()); },
        sorter: numeric ? 'number' : 'string',
        sorterParams: {},
        bottomCalc: function () {
          if (col.key && answer.columns[0].name === col.name) { return cfg.texts.total; }
          return answer.totals[col.name] == null ? '' : J.numberText(look, answer.totals[col.name]);
        },
      };
    });
  }

  function drawChart(answer) {
    var box = document.getElementById('jxc-report-chart');
    var chart = answer.chart;
    if (!chart || !answer.rows.length || typeof echarts === 'undefined') {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    var labels = {};
    answer.columns.forEach(function (col) { labels[col.name] = col.label; });
    var rows = answer.rows.slice(0, 50);
    var xs = rows.map(function (row) { return cellText(row[chart.x]); });
    var option;
    if (chart.type === 'pie') {
      option = {
        tooltip: { trigger: 'item' },
        series: [{
          type: 'pie',
          radius: '60%',
          data: rows.map(function (row, i) { return { name: xs[i], value: Number(row[chart.series[0]] || 0) }; }),
        }],
      };
    } else {
      option = {
        tooltip: { trigger: 'axis' },
        legend: { data: chart.series.map(function (s) { return labels[s]; }) },
        xAxis: { type: 'category', data: xs },
        yAxis: { type: 'value' },
        series: chart.series.map(function (s) {
          return {
            name: labels[s],
            type: chart.type === 'line' ? 'line' : 'bar',
            stack: chart.type === 'stacked_bar' ? 'all' : undefined,
            data: rows.map(function (row) { return Number(row[s] || 0); }),
          };
        }),
      };
    }
    var instance = echarts.getInstanceByDom(box) || echarts.init(box);
    instance.setOption(option, true);
    box.setAttribute('data-drawn', chart.type);
    window.addEventListener('resize', function () { instance.resize(); });
  }

  function drawGrid(answer) {
    var table = new Tabulator('#jxc-report-grid', {
      data: answer.rows,
      columns: columnsOf(answer),
      layout: 'fitDataFill',
      height: '60vh',
      placeholder: cfg.texts.empty,
      rowFormatter: function (row) {
        if (row.getData()._drill) { row.getElement().classList.add('jxc-report-drill'); }
      },
    });
    table.on('rowClick', function (e, row) {
      var target = row.getData()._drill;
      if (target) { window.location.href = target; }
    });
    table.on('tableBuilt', function () {
      root.setAttribute('data-rows', String(answer.rows.length));
    });
  }

  // a filter the report cannot run without is not chosen yet (对账单's 往来单位): asked for, nothing run
  if (cfg.ask) {
    document.getElementById('jxc-report-error').className = 'alert alert-info';
    showError(cfg.ask);
    refuseExports(cfg.ask);
  } else {
    var url = cfg.api + (cfg.query ? '?' + cfg.query : '');
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (res) {
        if (!res.ok) {
          var errors = res.body.errors || [];
          var text = errors.length ? errors.map(function (e) {
            var name = cfg.labels && cfg.labels[e.field];
            return name ? name + '：' + e.message : e.message;
          }).join('；') : (res.body.message || cfg.texts.error);
          showError(text);
          refuseExports(text);
          return;
        }
        drawChart(res.body);
        drawGrid(res.body);
      })
      .catch(function () { showError(cfg.texts.error); });
  }

  // a report that offers a job (abc: write the classes onto the items) starts it for the period asked for
  var job = document.getElementById('jxc-report-job');
  if (job) {
    job.addEventListener('click', function () {
      var period = document.getElementById('p-period');
      job.disabled = true;
      fetch('/api/v1/jobs/', {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/json',
          'X-CSRFToken': job.getAttribute('data-csrf')
        },
        body: JSON.stringify({kind: job.getAttribute('data-kind'), args: period && period.value ? {period: period.value} : {}})
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (res) {
          if (!res.ok) { job.disabled = false; showError(res.body.message || cfg.texts.error); return; }
          var link = document.createElement('a');
          link.href = '/jobs/';
          link.id = 'jxc-report-job-started';
          link.textContent = job.getAttribute('data-started');
          job.parentNode.replaceChild(link, job);
        })
        .catch(function () { job.disabled = false; showError(cfg.texts.error); });
    });
  }

  // a user filter (业务员, 负责人) offers whom the reader may filter by (a salesperson only themselves), a link
  // filter (商品, 客户, 仓库) the rows it may name (a salesperson's own customers, a keeper's warehouses)
  document.querySelectorAll('#jxc-report-filters input[data-lookup]').forEach(J.offerAsTyped);
})(window.JXC);
