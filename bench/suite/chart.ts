// The per-command latency chart (docs/performance-latency.svg), drawn by Vega-Lite and rendered to
// SVG headless by Vega (no canvas).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { LatencyRow } from './latency.js';

export async function latencyChart(rows: LatencyRow[], rttMs: number): Promise<string> {
  const values = rows.flatMap((r) => [
    { link: 'loopback', variant: r.variant, ms: Number(r.loopback.toFixed(2)) },
    { link: `${rttMs} ms RTT`, variant: r.variant, ms: Number(r.wan.toFixed(2)) },
  ]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'exec `true` through the HTTP API, median latency (ms)',
    data: { values },
    facet: { column: { field: 'link', type: 'nominal', title: null, sort: ['loopback'] } },
    spec: {
      width: 260,
      height: 200,
      layer: [
        { mark: 'bar', encoding: { y: { field: 'variant', type: 'nominal', title: null, sort: null }, x: { field: 'ms', type: 'quantitative', title: 'ms' }, color: { field: 'variant', type: 'nominal', legend: null } } },
        { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { y: { field: 'variant', type: 'nominal', sort: null }, x: { field: 'ms', type: 'quantitative' }, text: { field: 'ms', type: 'quantitative' } } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
