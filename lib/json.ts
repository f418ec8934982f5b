// The JSON text events travel in. SQS accepts only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD (and, on AWS,
// #x10000-#x10FFFF; some emulators refuse those). JSON.stringify already escapes control characters
// and lone surrogates; escaping U+FFFE, U+FFFF and surrogate pairs too makes the text acceptable to
// every SQS flavour while parsing back to exactly the same value.
export const toQueueJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[\uFFFE\uFFFF\uD800-\uDFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
