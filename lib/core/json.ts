// The JSON text events travel in. SQS accepts only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD (and, on AWS,
// #x10000-#x10FFFF; some emulators refuse those). JSON.stringify already escapes control characters
// and lone surrogates; escaping U+FFFE, U+FFFF and surrogate pairs too makes the text acceptable to
// every SQS flavour while parsing back to exactly the same value.
export const toQueueJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[\uFFFE\uFFFF\uD800-\uDFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);

/**
 * A number in the request that a 64-bit float cannot hold exactly (1e400, 12345678901234567890,
 * 0.1000000000000000055511151231257827...). Left in place of the number by parseJsonExact so that
 * validation can say which field it is.
 */
export class InexactNumber {
  constructor(readonly source: string) {}
}

/** `value = digits × 10^exponent` with no leading or trailing zeros in digits: equal values, equal text. */
const canonicalNumber = (text: string): string => {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return text;
  const [, sign, int = '', fraction = '', exponent = '0'] = match;
  const all = `${int}${fraction}`.replace(/^0+/, '');
  if (all === '') return '0';
  const digits = all.replace(/0+$/, '');
  return `${sign}${digits}e${Number(exponent) - fraction.length + (all.length - digits.length)}`;
};

/**
 * JSON.parse that notices numbers whose value would change on the way in (Node 22's reviver gives
 * each number's source text). Numbers written differently but equal in value (1.0, 1e2, -0) are kept.
 */
export const parseJsonExact = (text: string): unknown =>
  JSON.parse(text, function reviver(this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value !== 'number' || context?.source === undefined) return value;
    return Number.isFinite(value) && canonicalNumber(context.source) === canonicalNumber(String(value))
      ? value
      : new InexactNumber(context.source);
  } as (key: string, value: unknown) => unknown);
