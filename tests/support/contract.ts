// The OpenAPI document (openapi/openapi.yaml) as the judge of every answer the tests receive: the
// handler tests' callHttp/callRaw (tests/support/lambda.ts) and the end-to-end tests' fetch (over real
// HTTP, holdFetchToContract below) hand each answer to checkAnswer, which throws when the document
// does not describe it. So a function that answers a status, content type, required header or body
// the document does not list fails the test that received it, whatever that test itself asserts.
//
// The rules, where OpenAPI leaves the checking to the tool:
// - The request's method and path pick the operation (literal segments win over templated ones, as
//   OpenAPI says). A path no operation has must get `x-gateway.unknownPath`, a known path with another
//   method `x-gateway.wrongMethod`, an OPTIONS preflight `x-gateway.preflight`.
// - The status must be one the operation lists (no `default`: an unlisted status is a finding).
// - Every header the response marks `required` must be there, and match its schema.
// - A response without `content` has an empty body. One with `content` has a Content-Type whose media
//   type (parameters aside) is listed, and a body that satisfies that media type's schema: JSON parsed,
//   text as a string. A binary protobuf body (`x-protobuf-message`) must decode as that message, and the
//   decoded message must satisfy the schema of the response's `application/json` form (OTLP's JSON
//   encoding is the protobuf's JSON mapping, the field names protobufjs decodes to).
// Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect), checked with Ajv in strict mode, formats
// (date-time) with ajv-formats.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { loadDocument } from '../../openapi/build.cjs';
import { decodeMessage } from '../../lib/ingest/protobuf.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export interface Asked {
  method: string;
  /** The URL path as sent (percent-encoded), without the query. */
  path: string;
}

export interface Answered {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as the client reads it: any Content-Encoding already undone. */
  body: Buffer;
}

export class ContractError extends Error {
  override name = 'ContractError';
}

const DOCUMENT_ID = 'https://log-aggregator.invalid/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The status of each of x-gateway's answers. */
const GATEWAY_STATUS = { unknownPath: 404, wrongMethod: 405, preflight: 204 } as const;

const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapePointer = (segment: string): string => segment.replace(/~1/g, '/').replace(/~0/g, '~');

interface Route {
  template: string;
  pattern: RegExp;
  /** Templated segments: fewer is a better match (`/events/tail` over `/events/{topic}`). */
  templated: number;
}

class Contract {
  readonly document: Json = loadDocument();
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: Route[];

  constructor() {
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    addFormats(this.ajv);
    // The document's own fields are not JSON Schema keywords: known to Ajv, they check nothing, and
    // Ajv never looks inside them (schemas are compiled by their pointers below).
    for (const key of Object.keys(this.document)) if (!this.ajv.getKeyword(key)) this.ajv.addKeyword(key);
    this.ajv.addSchema({ ...this.document, $id: DOCUMENT_ID });
    this.routes = Object.keys(this.document.paths).map((template) => {
      const segments = template.split('/');
      const pattern = segments.map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
      return { template, pattern: new RegExp(`^${pattern}$`), templated: segments.filter((segment) => segment.startsWith('{')).length };
    });
  }

  /** The value at a JSON pointer (`/paths/~1stats/get`), following `$ref`s; with where it ends up. */
  resolve(pointer: string): { value: Json; pointer: string } {
    let value = this.document;
    for (const segment of pointer.split('/').slice(1)) {
      value = value?.[unescapePointer(segment)];
      if (value === undefined) throw new ContractError(`the document has nothing at ${pointer}`);
    }
    if (typeof value?.$ref === 'string') return this.resolve(value.$ref.replace(/^#/, ''));
    return { value, pointer };
  }

  /** The schema at a pointer, compiled (Ajv refuses one that is not valid JSON Schema 2020-12). */
  validatorAt(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) this.validators.set(pointer, (validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` })));
    return validate;
  }

  /** Where the answer's response is described: the operation's, or one of x-gateway's. */
  responseFor(asked: Asked, status: number): { pointer: string; what: string } {
    const path = asked.path.split('?')[0]!;
    const method = asked.method.toLowerCase();
    const onPath = this.routes.filter((route) => route.pattern.test(path)).sort((a, b) => a.templated - b.templated);
    const route = onPath.find((candidate) => this.document.paths[candidate.template][method] !== undefined);
    if (route) {
      const operation = `/paths/${escapePointer(route.template)}/${method}`;
      const what = `${asked.method} ${route.template}`;
      const responses = this.resolve(`${operation}/responses`).value as Record<string, unknown>;
      if (!(String(status) in responses)) {
        throw new ContractError(`${what} answered ${status}, which the document does not list for it (it lists ${Object.keys(responses).join(', ')})`);
      }
      return { pointer: `${operation}/responses/${status}`, what: `${what} ${status}` };
    }
    const gateway: keyof typeof GATEWAY_STATUS = onPath.length === 0 ? 'unknownPath' : method === 'options' ? 'preflight' : 'wrongMethod';
    const what = `${asked.method} ${path} (x-gateway.${gateway})`;
    const pointer = `/x-gateway/${gateway}`;
    const expected = GATEWAY_STATUS[gateway];
    if (status !== expected) throw new ContractError(`${what} answered ${status}; the document says ${expected}`);
    return { pointer, what: `${what} ${status}` };
  }

  check(asked: Asked, answered: Answered): void {
    if (!METHODS.includes(asked.method.toLowerCase())) throw new ContractError(`${asked.method} is not an HTTP method OpenAPI describes`);
    const { pointer, what } = this.responseFor(asked, answered.status);
    const { value: response, pointer: at } = this.resolve(pointer);
    const headers = new Map(Object.entries(answered.headers).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value]));

    for (const name of Object.keys(response.headers ?? {})) {
      const { value: spec, pointer: specAt } = this.resolve(`${at}/headers/${escapePointer(name)}`);
      const value = headers.get(name.toLowerCase());
      if (value === undefined) {
        if (spec.required) throw new ContractError(`${what}: the ${name} header is required by the document but missing`);
        continue;
      }
      if (spec.schema) this.expectValid(this.validatorAt(`${specAt}/schema`), value, `${what}: the ${name} header`);
    }

    const content = response.content as Record<string, Json> | undefined;
    if (!content) {
      if (answered.body.length > 0) throw new ContractError(`${what} is described without a body, but came with ${answered.body.length} bytes: ${excerpt(answered.body)}`);
      return;
    }
    const contentType = headers.get('content-type');
    const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const mediaType = Object.keys(content).find((listed) => listed.toLowerCase() === essence);
    if (!mediaType) {
      throw new ContractError(`${what} answered Content-Type ${contentType ?? '(none)'}; the document lists ${Object.keys(content).join(', ')}`);
    }
    const media = content[mediaType];
    const mediaAt = `${at}/content/${escapePointer(mediaType)}`;
    if (typeof media['x-protobuf-message'] === 'string') {
      let decoded: unknown;
      try {
        decoded = decodeMessage(media['x-protobuf-message'], answered.body);
      } catch (error) {
        throw new ContractError(`${what}: the body is not a ${media['x-protobuf-message']}: ${(error as Error).message}`);
      }
      if (!content['application/json']?.schema) throw new ContractError(`${what}: ${mediaType} names a protobuf message but the response has no application/json schema to hold it to`);
      this.expectValid(this.validatorAt(`${at}/content/application~1json/schema`), decoded, `${what}: the decoded ${media['x-protobuf-message']}`);
      return;
    }
    if (!media.schema) return;
    const text = answered.body.toString('utf8');
    let body: unknown = text;
    if (/[/+]json$/.test(essence)) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new ContractError(`${what} answered ${mediaType} that is not JSON: ${excerpt(answered.body)}`);
      }
    }
    this.expectValid(this.validatorAt(`${mediaAt}/schema`), body, `${what}: the ${mediaType} body`);
  }

  private expectValid(validate: ValidateFunction, value: unknown, what: string): void {
    if (validate(value)) return;
    const problems = (validate.errors ?? []).map((error) => `${error.instancePath || '(the whole)'} ${error.message}${error.params && Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : ''}`);
    throw new ContractError(`${what} is not what the document describes:\n  ${problems.join('\n  ')}\n  value: ${JSON.stringify(value)?.slice(0, 600)}`);
  }
}

const excerpt = (body: Buffer): string => JSON.stringify(body.toString('utf8').slice(0, 300));

let contract: Contract | undefined;
/** The one contract of this test file, loaded on first use. */
export const theContract = (): Contract => (contract ??= new Contract());

/** Throws a ContractError when the document does not describe this answer to this request. */
export const checkAnswer = (asked: Asked, answered: Answered): void => theContract().check(asked, answered);

/**
 * Holds every answer this test file's `fetch` receives from the stack at `baseUrl()` to the document
 * (other servers, such as a test's own proxy, are left alone). The body is read from a clone, so the
 * test reads the response as before.
 */
export const holdFetchToContract = (baseUrl: () => string): void => {
  const original = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await original(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const base = baseUrl();
    if (!base || url.origin !== new URL(base).origin) return response;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const body = Buffer.from(await response.clone().arrayBuffer());
    checkAnswer({ method, path: url.pathname }, { status: response.status, headers: Object.fromEntries(response.headers), body });
    return response;
  };
};
