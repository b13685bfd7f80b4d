// The home page's 12-month sales trend (ECharts), from the numbers the page was rendered with.
(function () {
  'use strict';
  var box = document.getElementById('jxc-trend');
  if (!box || typeof echarts === 'undefined') { return; }
  var trend = JSON.parse(box.getAttribute('data-trend'));
  var chart = echarts.init(box);
  chart.setOption({
    tooltip: { trigger: 'axis' },
    grid: { left: 60, right: 16, top: 16, bottom: 28 },
    xAxis: { type: 'category', data: trend.map(function (p) { return p.month; }) },
    yAxis: { type: 'value' },
    series: [{ name: box.getAttribute('data-label'), type: 'line', smooth: true,
      data: trend.map(function (p) { return Number(p.amount || 0); }) }],
  });
  box.setAttribute('data-drawn', 'line');
  window.addEventListener('resize', function () { chart.resize(); });
})();
