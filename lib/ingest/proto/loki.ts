// Loki's push message, restated from grafana/loki pkg/push/push.proto (Apache-2.0, © Grafana Labs):
// PushRequest, StreamAdapter, EntryAdapter, LabelPairAdapter, with google.protobuf.Timestamp (which
// protobufjs bundles). The gogoproto options of the original only shape Go code and are left out.
//
// Why restated and not imported: see ./otlp.ts. Names, numbers and types are upstream's; later
// additions are skipped as unknown fields. tests/protocols/loki.test.ts holds this to what
// winston-loki sends (snappy-compressed protobuf), and the JSON push format to Loki's documentation.
export const LOKI_PUSH_PROTO = `
syntax = "proto3";

package logproto;

import "google/protobuf/timestamp.proto";

message PushRequest {
  repeated StreamAdapter streams = 1;
  string format = 2;
}

message StreamAdapter {
  string labels = 1;
  repeated EntryAdapter entries = 2;
  uint64 hash = 3;
}

message LabelPairAdapter {
  string name = 1;
  string value = 2;
}

message EntryAdapter {
  google.protobuf.Timestamp timestamp = 1;
  string line = 2;
  repeated LabelPairAdapter structuredMetadata = 3;
}
`;
