// A time-series chart on uPlot: created once, then fed new data in place (setData), so a refresh every
// couple of seconds never flickers or resets the page; it follows its container's width.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  /** Draw as steps: each value covers [t, t + step). */
  stepped?: boolean;
}

interface Props {
  /** Accessible name of the chart. */
  label: string;
  series: ChartSeries[];
  /** [times in epoch seconds, ...one array per series]. */
  data: number[][];
  height?: number;
  yLabel?: string;
  /** Show at least this many seconds, ending at the last point (samples that have just begun). */
  minSpan?: number;
}

const stepped = uPlot.paths.stepped?.({ align: 1 });

/**
 * The y axis as wide as its longest tick label (uPlot's recipe): a fixed width clipped the axis label
 * of big counts, and most of all on a phone, where every pixel of width is counted.
 */
const fitTicks: uPlot.Axis.Size = (self, values, axisIndex, cycle) => {
  const axis = self.axes[axisIndex]!;
  // uPlot calls this again as it converges; keep the size it settled on.
  if (cycle > 1) return (axis as { _size?: number })._size ?? 40;
  const longest = (values ?? []).reduce((widest, value) => (value.length > widest.length ? value : widest), '');
  let size = (axis.ticks?.size ?? 10) + (axis.gap ?? 5);
  if (longest !== '') {
    self.ctx.font = (axis.font as [string, ...unknown[]] | undefined)?.[0] ?? self.ctx.font;
    size += self.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size);
};

export const Chart = ({ label, series, data, height = 240, yLabel, minSpan = 0 }: Props) => {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    const width = Math.max(200, element.clientWidth);
    const options: uPlot.Options = {
      width,
      height,
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: (_u, min, max) => (max - min < minSpan ? [max - minSpan, max] : [min, max]) },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, space: 80 },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, size: fitTicks, ...(yLabel ? { label: yLabel, labelSize: 20, labelGap: 2 } : {}) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          points: { show: false },
          ...(s.stepped && stepped ? { paths: stepped } : {}),
        })),
      ],
    };
    plot.current = new uPlot(options, latest.current as uPlot.AlignedData, element);
    const resize = new ResizeObserver(() => {
      const next = Math.max(200, element.clientWidth);
      if (plot.current && plot.current.width !== next) plot.current.setSize({ width: next, height });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its shape changes, not when its data does.
  }, [series.map((s) => s.label).join('|'), height, yLabel, minSpan]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div class="chart" ref={box} role="img" aria-label={label} />;
};
