const integer = new Intl.NumberFormat('en-US');

export const count = (value: number): string => integer.format(value);

export const percent = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 3 : 1)}%`;

export const duration = (seconds: number): string => {
  if (seconds < 60) return `${seconds} s`;
  const units: Array<[number, string]> = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [size, unit] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
};

/** A UTC instant as the reader's local date and time, with seconds (and the fraction when there is one). */
export const localTime = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const ms = date.getMilliseconds();
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${ms ? `.${pad(ms, 3)}` : ''}`;
};

/** `<input type="datetime-local">` value for an ISO instant, and back. */
export const toLocalInput = (iso: string | undefined): string => {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
};
export const fromLocalInput = (value: string): string | undefined => {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};

export const ago = (ms: number): string => {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 2 ? 'just now' : `${duration(seconds)} ago`;
};
