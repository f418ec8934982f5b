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

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The reader's zone as an offset from UTC, e.g. `UTC+01:00`, `UTC-05:30`, `UTC`, at that instant. */
export const zoneOf = (date: Date): string => {
  const offset = -date.getTimezoneOffset();
  if (offset === 0) return 'UTC';
  const hours = Math.floor(Math.abs(offset) / 60);
  return `UTC${offset > 0 ? '+' : '-'}${pad(hours)}:${pad(Math.abs(offset) % 60)}`;
};

/**
 * A UTC instant as the reader's local date and time, with seconds (and the fraction when there is
 * one), and with `withZone` the zone it is in, so it reads right next to times shown in UTC.
 */
export const localTime = (iso: string | null | undefined, withZone = false): string => {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const ms = date.getMilliseconds();
  const text = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${ms ? `.${pad(ms, 3)}` : ''}`;
  return withZone ? `${text} ${zoneOf(date)}` : text;
};

/** A compact local time for one row of a log: `12-02 15:01:24.123` (month-day, milliseconds always). */
export const localClock = (iso: string): string => {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
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
