// JSON that keeps what the API sent exactly: object keys in their order (JSON.parse moves integer-like
// keys such as "2" first, and a viewer built on it would show a payload that is not the one stored),
// and numbers as their text. The API writes payload numbers in their shortest form, so printing the
// text back is exact.

export type Json =
  | { kind: 'object'; entries: Array<[string, Json]> }
  | { kind: 'array'; items: Json[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

export const parseExact = (text: string): Json => {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${at}`);
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.test(text);
    at = WHITESPACE.lastIndex;
  };
  const string = (): string => {
    const start = at;
    at += 1;
    for (;;) {
      const end = text.indexOf('"', at);
      if (end < 0) fail('unterminated string');
      // An odd number of backslashes before the quote escapes it.
      let backslashes = 0;
      for (let i = end - 1; i > start && text.charCodeAt(i) === 92; i -= 1) backslashes += 1;
      at = end + 1;
      if (backslashes % 2 === 0) break;
    }
    const raw = text.slice(start, at);
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };
  const value = (): Json => {
    skip();
    const c = text[at];
    if (c === '{') {
      at += 1;
      const entries: Array<[string, Json]> = [];
      skip();
      if (text[at] === '}') {
        at += 1;
        return { kind: 'object', entries };
      }
      for (;;) {
        skip();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        skip();
        if (text[at] !== ':') fail("expected ':'");
        at += 1;
        entries.push([key, value()]);
        skip();
        if (text[at] === ',') at += 1;
        else if (text[at] === '}') {
          at += 1;
          return { kind: 'object', entries };
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      at += 1;
      const items: Json[] = [];
      skip();
      if (text[at] === ']') {
        at += 1;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(value());
        skip();
        if (text[at] === ',') at += 1;
        else if (text[at] === ']') {
          at += 1;
          return { kind: 'array', items };
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { kind: 'string', value: string() };
    if (text.startsWith('true', at)) {
      at += 4;
      return { kind: 'boolean', value: true };
    }
    if (text.startsWith('false', at)) {
      at += 5;
      return { kind: 'boolean', value: false };
    }
    if (text.startsWith('null', at)) {
      at += 4;
      return { kind: 'null' };
    }
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) return fail('unexpected character');
    at = NUMBER.lastIndex;
    return { kind: 'number', text: match[0] };
  };
  const result = value();
  skip();
  if (at !== text.length) fail('unexpected text after the value');
  return result;
};

/** A plain JavaScript value (for fields whose key order does not matter). */
export const toPlain = (node: Json): unknown => {
  switch (node.kind) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of node.entries) Object.defineProperty(out, key, { value: toPlain(child), enumerable: true, writable: true, configurable: true });
      return out;
    }
    case 'array':
      return node.items.map(toPlain);
    case 'string':
      return node.value;
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.value;
    case 'null':
      return null;
  }
};

export const field = (node: Json, key: string): Json | undefined =>
  node.kind === 'object' ? node.entries.find(([name]) => name === key)?.[1] : undefined;

/** JSON text of a string, escaped as JSON.stringify does (lone surrogates as \uXXXX). */
export const quote = (value: string): string => JSON.stringify(value);

/** The value as JSON text, indented by `indent` spaces per level (0: compact). */
export const stringify = (node: Json, indent = 2, depth = 0): string => {
  const pad = (level: number): string => (indent > 0 ? `\n${' '.repeat(indent * level)}` : '');
  const colon = indent > 0 ? ': ' : ':';
  switch (node.kind) {
    case 'object':
      if (node.entries.length === 0) return '{}';
      return `{${node.entries.map(([key, child]) => `${pad(depth + 1)}${quote(key)}${colon}${stringify(child, indent, depth + 1)}`).join(',')}${pad(depth)}}`;
    case 'array':
      if (node.items.length === 0) return '[]';
      return `[${node.items.map((child) => `${pad(depth + 1)}${stringify(child, indent, depth + 1)}`).join(',')}${pad(depth)}]`;
    case 'string':
      return quote(node.value);
    case 'number':
      return node.text;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
  }
};

/** Lines of the indented text (to decide how much to show expanded). */
export const lineCount = (node: Json): number => {
  switch (node.kind) {
    case 'object':
      return node.entries.length === 0 ? 1 : 2 + node.entries.reduce((sum, [, child]) => sum + lineCount(child), 0);
    case 'array':
      return node.items.length === 0 ? 1 : 2 + node.items.reduce((sum, child) => sum + lineCount(child), 0);
    default:
      return 1;
  }
};
