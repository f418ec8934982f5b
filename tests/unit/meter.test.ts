// The cost meter's sizing rules (local/meter), against AWS's published rules and examples.
import { conditionFailureUnits, itemReadUnits, queryReadUnits, writeCost, type TableShape } from '../../local/meter/capacity.ts';
import { itemBytes, numberBytes, valueBytes } from '../../local/meter/item-size.ts';
import { billedRequests, sqsPayloadBytes } from '../../local/meter/sqs-requests.ts';

const s = (value: string) => ({ S: value });

describe('item sizes', () => {
  it('counts names and values in UTF-8 bytes', () => {
    expect(itemBytes({ pk: s('abc') })).toBe(5);
    expect(itemBytes({ 'é': s('€') })).toBe(2 + 3);
  });

  it('sizes numbers by significant digits: 1 byte per two, plus 1', () => {
    expect(numberBytes('7')).toBe(2);
    expect(numberBytes('12')).toBe(2);
    expect(numberBytes('123')).toBe(3);
    expect(numberBytes('1000000')).toBe(2); // trailing zeroes trimmed
    expect(numberBytes('-0.00125')).toBe(3); // leading zeroes, sign and point dropped
    expect(numberBytes('1.5e-7')).toBe(2);
  });

  it('sizes lists and maps with 3 bytes, 1 per element, and map keys like names', () => {
    expect(valueBytes({ L: [] })).toBe(3);
    expect(valueBytes({ L: [s('ab'), { N: '1' }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(valueBytes({ M: { k: s('v') } })).toBe(3 + 1 + 1 + 1);
    expect(valueBytes({ BOOL: true })).toBe(1);
    expect(valueBytes({ NULL: true })).toBe(1);
    expect(valueBytes({ B: Buffer.from('hello').toString('base64') })).toBe(5);
    expect(valueBytes({ SS: ['a', 'bb'] })).toBe(3);
  });
});

const table: TableShape = {
  TableName: 't',
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    { IndexName: 'all', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
    { IndexName: 'keys', KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } },
  ],
};
const big = 'x'.repeat(1500);

describe('write units', () => {
  it('charges a new item per started KB, and each index it enters with its entry\'s size', () => {
    expect(writeCost(table, undefined, { pk: s('1'), g: s('a'), k: s('b'), body: s(big) })).toEqual({
      table: 2,
      indexes: [
        { index: 'all', units: 2, puts: 1, deletes: 0, updates: 0 },
        { index: 'keys', units: 1, puts: 1, deletes: 0, updates: 0 },
      ],
    });
  });

  it('charges the larger of before and after, an index key change as a delete and a put, and nothing for a keys-only index whose keys stay', () => {
    const before = { pk: s('1'), g: s('a'), k: s('b') };
    const after = { pk: s('1'), g: s('z'), k: s('b'), body: s(big) };
    expect(writeCost(table, before, after)).toEqual({ table: 2, indexes: [{ index: 'all', units: 1 + 2, puts: 1, deletes: 1, updates: 0 }] });
  });

  it('charges an ALL index entry whose attributes change in place as one write, and nothing for an index the item is not in', () => {
    expect(writeCost(table, { pk: s('1'), g: s('a') }, { pk: s('1'), g: s('a'), n: { N: '2' } })).toEqual({
      table: 1,
      indexes: [{ index: 'all', units: 1, puts: 0, deletes: 0, updates: 1 }],
    });
    expect(writeCost(table, { pk: s('1') }, { pk: s('1'), n: { N: '2' } })).toEqual({ table: 1, indexes: [] });
  });

  it('charges a delete with the item\'s size, in the table and every index it leaves', () => {
    expect(writeCost(table, { pk: s('1'), g: s('a'), body: s(big) }, undefined)).toEqual({ table: 2, indexes: [{ index: 'all', units: 2, puts: 0, deletes: 1, updates: 0 }] });
    expect(writeCost(table, undefined, undefined)).toEqual({ table: 1, indexes: [] });
  });

  it('charges a refused condition the existing item\'s size, or 1', () => {
    expect(conditionFailureUnits({ pk: s('1'), body: s(big) })).toBe(2);
    expect(conditionFailureUnits(undefined)).toBe(1);
  });
});

describe('read units', () => {
  it('charges an item read per started 4 KB of the whole item, half when eventually consistent, and a missing item as one read', () => {
    expect(itemReadUnits({ pk: s('x'.repeat(5000)) }, true)).toBe(2);
    expect(itemReadUnits({ pk: s('x'.repeat(5000)) }, false)).toBe(1);
    expect(itemReadUnits(undefined, false)).toBe(0.5);
  });

  it('sums a query\'s items before rounding', () => {
    const items = Array.from({ length: 10 }, () => ({ pk: s('x'.repeat(998)) })); // 1,000 bytes each
    expect(queryReadUnits(items, true)).toBe(3);
    expect(queryReadUnits(items, false)).toBe(1.5);
    expect(queryReadUnits([], false)).toBe(0.5);
  });
});

describe('SQS requests', () => {
  it('bills each started 64 KB chunk of a payload as one request, and an empty call as one', () => {
    expect(billedRequests(0)).toBe(1);
    expect(billedRequests(64 * 1024)).toBe(1);
    expect(billedRequests(64 * 1024 + 1)).toBe(2);
    expect(billedRequests(256 * 1024)).toBe(4);
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: 'x'.repeat(10_000) }));
    expect(billedRequests(sqsPayloadBytes('SendMessageBatch', { Entries: entries }, undefined))).toBe(2);
    expect(sqsPayloadBytes('ReceiveMessage', {}, { Messages: [{ Body: 'abc' }, { Body: 'de' }] })).toBe(5);
  });
});
