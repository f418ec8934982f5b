// The protobuf definitions, parsed once per process with protobufjs. Field names are camelCase, as
// in the protocols' JSON forms, so one mapping reads a decoded protobuf message and a JSON body alike.
import protobuf from 'protobufjs';
import { LOKI_PUSH_PROTO } from './proto/loki.ts';
import { OTLP_COMMON_PROTO, OTLP_LOGS_DATA_PROTO, OTLP_LOGS_PROTO, OTLP_RESOURCE_PROTO, RPC_STATUS_PROTO } from './proto/otlp.ts';

let root: protobuf.Root | undefined;

const load = (): protobuf.Root => {
  const built = new protobuf.Root();
  // protobufjs bundles the well-known types; Loki's entries carry a google.protobuf.Timestamp.
  const wellKnown = (protobuf as unknown as { common: Record<string, { nested: protobuf.INamespace['nested'] }> }).common;
  built.addJSON(wellKnown['google/protobuf/timestamp.proto']!.nested!);
  for (const text of [OTLP_COMMON_PROTO, OTLP_RESOURCE_PROTO, OTLP_LOGS_DATA_PROTO, OTLP_LOGS_PROTO, RPC_STATUS_PROTO, LOKI_PUSH_PROTO]) {
    protobuf.parse(text, built);
  }
  built.resolveAll();
  return built;
};

export const messageType = (name: string): protobuf.Type => (root ??= load()).lookupType(name);

/** Decodes a message into plain objects: 64-bit integers as decimal strings, bytes as Uint8Array. */
export const decodeMessage = (name: string, bytes: Uint8Array): Record<string, unknown> => {
  const type = messageType(name);
  return type.toObject(type.decode(bytes), { longs: String, defaults: false, arrays: false }) as Record<string, unknown>;
};

export const encodeMessage = (name: string, value: Record<string, unknown>): Buffer => {
  const type = messageType(name);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
};
