/**
 * A small bar chart of events per day, as SVG drawn on the server: presentation attributes
 * only, no script and no inline style, so it passes the site's Content-Security-Policy.
 */
export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  day: string;
  count: number;
}

export interface Chart {
  width: number;
  height: number;
  bars: ChartBar[];
  max: number;
  first?: string;
  last?: string;
}

export function barChart(
  days: Array<{ day: string; count: number }>,
  width = 600,
  height = 120,
): Chart {
  const max = Math.max(1, ...days.map((d) => d.count));
  const slot = days.length ? width / days.length : width;
  const bars = days.map((d, i) => {
    const h = Math.max(1, Math.round((d.count / max) * (height - 20)));
    return {
      x: Math.round(i * slot + slot * 0.1),
      y: height - h,
      width: Math.max(1, Math.round(slot * 0.8)),
      height: h,
      day: d.day,
      count: d.count,
    };
  });
  return { width, height, bars, max, first: days[0]?.day, last: days[days.length - 1]?.day };
}
