import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartDataset } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import { bytes } from '../format.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface Series {
  label: string;
  values: number[];
  /** One colour, or one per bar. */
  color: string | string[];
  /** Extra tooltip line per bar. */
  note?: (index: number) => string;
}

/**
 * A horizontal bar chart of byte counts (Chart.js, on a canvas), stacked when
 * asked. A canvas says nothing to a screen reader: callers put the same
 * numbers in a table beside it, and the canvas gets a summary label.
 */
export function BarChart({ labels, series, stacked, label, legend = true }: { labels: string[]; series: Series[]; stacked: boolean; label: string; legend?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const style = getComputedStyle(document.documentElement);
    const text = style.getPropertyValue('--text').trim();
    const grid = style.getPropertyValue('--border').trim();
    const datasets: ChartDataset<'bar'>[] = series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color, borderWidth: 0, borderRadius: 2 }));
    const chart = new Chart(canvas.current!, {
      type: 'bar',
      data: { labels, datasets },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked, ticks: { color: text, callback: (v) => bytes(Number(v)) }, grid: { color: grid } },
          y: { stacked, ticks: { color: text }, grid: { display: false } },
        },
        plugins: {
          legend: { display: legend, labels: { color: text } },
          tooltip: {
            callbacks: {
              label: (c) => `${c.dataset.label}: ${bytes(Number(c.raw))}`,
              afterLabel: (c) => series[c.datasetIndex]?.note?.(c.dataIndex) ?? '',
            },
          },
        },
      },
    });
    return () => chart.destroy();
  }, [labels, series, stacked]);
  return (
    <div class="chart" style={{ height: `${Math.max(120, labels.length * 36 + 60)}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

/** A stable colour per digest, so a layer has the same colour in every bar it appears in. */
export function colourOf(key: string, index: number): string {
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${(h + index * 47) % 360} 65% 52%)`;
}
