// DynamoDB's item size, by AWS's published rules ("DynamoDB item sizes and formats"): the sum of the
// attribute names and values, in UTF-8 bytes; a number is 1 byte per two significant digits plus 1;
// a binary its raw bytes; a boolean or null 1; a list or map 3 bytes plus 1 per element plus its
// elements (a map's keys count like attribute names); a set its elements. dynalite sizes items its
// own way (UTF-16 lengths, attribute names as 1 byte when it cuts pages), so the meter uses this.

/** An attribute value in DynamoDB's wire format: `{ S: "..." }`, `{ N: "..." }`, `{ M: {...} }`, ... */
export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

const utf8 = (value: string): number => Buffer.byteLength(value, 'utf8');

/** Significant digits of a number's text: leading and trailing zeroes, sign, point and exponent dropped. */
export const significantDigits = (text: string): number => {
  const mantissa = text.trim().replace(/^[+-]/, '').split(/[eE]/)[0]!.replace('.', '');
  const trimmed = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return trimmed.length;
};

export const numberBytes = (text: string): number => Math.ceil(significantDigits(text) / 2) + 1;

export const valueBytes = (value: AttributeValue): number => {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return utf8(inner as string);
    case 'N':
      return numberBytes(inner as string);
    case 'B':
      return Buffer.from(inner as string, 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((sum, element) => sum + utf8(element), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, element) => sum + numberBytes(element), 0);
    case 'BS':
      return (inner as string[]).reduce((sum, element) => sum + Buffer.from(element, 'base64').length, 0);
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, element) => sum + 1 + valueBytes(element), 0);
    case 'M':
      return 3 + Object.entries(inner as Item).reduce((sum, [key, element]) => sum + 1 + utf8(key) + valueBytes(element), 0);
    default:
      throw new Error(`unknown attribute type ${type}`);
  }
};

export const itemBytes = (item: Item): number => Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);

/** Every item and every index entry is stored with 100 bytes of overhead (AWS's storage rule). */
export const STORAGE_OVERHEAD_BYTES = 100;
