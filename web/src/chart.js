// Stacked time series with Apache ECharts (only the parts used, so the bundle stays small).
import * as echarts from 'echarts/core';
import { LineChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent, DataZoomComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { si } from './format.js';

echarts.use([LineChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, CanvasRenderer]);

export const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7',
  '#9c755f', '#bab0ac', '#1f77b4', '#aec7e8', '#ffbb78', '#98df8a', '#c5b0d5',
];

// series: [{name, points: [[ms, value], ...]}]; unit: 'b/s', 'p/s', 'sessions/s'.
// bounds: {min, max} in ms for the time axis, or null to fit the data.
export function stackedChart(el, series, unit, bounds = null) {
  const existing = echarts.getInstanceByDom(el);
  const chart = existing || echarts.init(el, null, { renderer: 'canvas' });
  chart.setOption(
    {
      animation: false,
      color: PALETTE,
      grid: { left: 70, right: 20, top: 20, bottom: 40 },
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v) => si(v, unit),
        order: 'valueDesc',
      },
      xAxis: { type: 'time', min: bounds ? bounds.min : undefined, max: bounds ? bounds.max : undefined, axisLabel: { color: '#9aa4b2' }, axisLine: { lineStyle: { color: '#3a4250' } } },
      yAxis: {
        type: 'value',
        axisLabel: { color: '#9aa4b2', formatter: (v) => si(v, unit) },
        splitLine: { lineStyle: { color: '#2a303b' } },
      },
      series: series.map((s) => ({
        name: s.name,
        type: 'line',
        stack: 'total',
        symbol: 'none',
        sampling: 'lttb',
        lineStyle: { width: 1 },
        areaStyle: { opacity: 0.75 },
        emphasis: { focus: 'series' },
        data: s.points,
      })),
    },
    { notMerge: true },
  );
  if (!existing) new ResizeObserver(() => chart.resize()).observe(el);
  return chart;
}
