import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';

/** One point of a line: an operation's cost at one registry size. */
export interface ChartPoint {
  line: string;
  x: number;
  y: number;
  /** Lines of one group share a colour (one request on two registries); the line's name by default. */
  group?: string;
  /** Drawn dashed (the second registry of a group). */
  dashed?: boolean;
}

/**
 * A standalone SVG (Observable Plot over linkedom's DOM): cost against size,
 * log x axis, one line per operation named at its right end (a legend would
 * make Plot return HTML, not an SVG a Markdown page can show).
 */
export function lineChart(points: ChartPoint[], opts: { title: string; x: string; y: string; logY?: boolean }): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const grouped = points.map((p) => ({ ...p, group: p.group ?? p.line }));
  const solid = grouped.filter((p) => !p.dashed);
  const dashed = grouped.filter((p) => p.dashed);
  const root = Plot.plot({
    document,
    width: 860,
    height: 420,
    marginRight: 260,
    style: { background: 'white', fontSize: '12px' },
    x: { type: 'log', label: opts.x, grid: true },
    y: { type: opts.logY ? 'log' : 'linear', label: opts.y, grid: true, ...(opts.logY ? {} : { zero: true }) },
    color: { scheme: 'tableau10' },
    marks: [
      Plot.line(solid, { x: 'x', y: 'y', z: 'line', stroke: 'group', marker: 'circle' }),
      Plot.line(dashed, { x: 'x', y: 'y', z: 'line', stroke: 'group', marker: 'circle', strokeDasharray: '5,4' }),
      Plot.text(grouped, Plot.selectLast({ x: 'x', y: 'y', z: 'line', text: 'line', fill: 'group', textAnchor: 'start', dx: 6 })),
    ],
  }) as unknown as Element;
  root.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  title.textContent = opts.title;
  root.insertBefore(title, root.firstChild);
  return `${root.outerHTML}\n`;
}
