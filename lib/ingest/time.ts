// Instants as the shippers send them, to the RFC 3339 text the event contract takes.

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Unix nanoseconds (OTLP `timeUnixNano`, Loki's entry timestamp) to RFC 3339 in UTC with all nine
 * fraction digits, so nothing is rounded away. Undefined for 0 (OTLP's "unknown") and for instants
 * outside years 1970-9999.
 */
export const fromUnixNanos = (nanos: bigint): string | undefined => {
  if (nanos <= 0n) return undefined;
  const seconds = nanos / NANOS_PER_SECOND;
  if (seconds > 253_402_300_799n) return undefined;
  const fraction = String(nanos % NANOS_PER_SECOND).padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
};

/**
 * An Elasticsearch date: RFC 3339 with a zone, the same without a zone (Elasticsearch reads those as
 * UTC), a date alone (midnight UTC), or epoch milliseconds as a number or digits. Returns RFC 3339
 * text to validate, or undefined when the value is none of these.
 */
export const fromElasticDate = (value: unknown): string | undefined => {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (/^\d{1,15}$/.test(trimmed)) return fromElasticDate(Number(trimmed));
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) return `${trimmed}T00:00:00Z`;
  const match = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)(.*)$/.exec(trimmed);
  if (!match) return undefined;
  const [, date, time = '', zone = ''] = match;
  const clock = (time.length === 5 ? `${time}:00` : time).replace(',', '.');
  if (zone === '') return `${date}T${clock}Z`;
  if (/^[Zz]$/.test(zone)) return `${date}T${clock}Z`;
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  return offset ? `${date}T${clock}${offset[1]}${offset[2]}:${offset[3]}` : undefined;
};
