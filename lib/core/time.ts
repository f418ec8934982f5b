// RFC 3339 instants: validated as real calendar times and normalized to UTC.

// RFC 3339 date-time with an explicit zone; up to nanosecond precision.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export interface NormalizedTime {
  /** UTC, with the fraction digits the sender gave: `2026-01-02T03:04:05.123Z`. */
  iso: string;
  /** UTC with a 9-digit fraction, so that string order is time order. */
  sortable: string;
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

// setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
const daysIn = (year: number, month: number): number => {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
};

/** Returns the UTC form of an RFC 3339 instant, or a reason it is not one. */
export const normalizeTimestamp = (input: string): NormalizedTime | string => {
  const match = RFC3339.exec(input);
  if (!match) return 'must be an RFC 3339 date-time with a zone, e.g. 2026-01-02T03:04:05.123Z or 2026-01-02T04:04:05+01:00';
  const [, y, mo, d, h, mi, s, fraction = '', z, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const [hour, minute, second] = [Number(h), Number(mi), Number(s)];
  if (month < 1 || month > 12) return `month ${mo} does not exist`;
  const daysInMonth = daysIn(year, month);
  if (day < 1 || day > daysInMonth) return `day ${d} does not exist in ${y}-${mo}`;
  if (hour > 23 || minute > 59) return `time ${h}:${mi} does not exist`;
  if (second > 59) return 'seconds must be 00-59 (leap seconds are not accepted)';
  let offsetMinutes = 0;
  if (!z) {
    const offsetHours = Number(oh);
    const offsetMins = Number(om);
    if (offsetHours > 23 || offsetMins > 59) return `zone offset ${sign}${oh}:${om} does not exist`;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const utcYear = local.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return 'must fall between years 0001 and 9999 in UTC';
  const base =
    `${pad(utcYear, 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}` +
    `T${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}`;
  return {
    iso: `${base}${fraction ? `.${fraction}` : ''}Z`,
    sortable: `${base}.${fraction.padEnd(9, '0')}Z`,
  };
};
