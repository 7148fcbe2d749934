// ONNX export: the engine's inference graph (src/engine/formats/onnx.ts) serialised as an ONNX
// ModelProto with protobufjs. The schema below is the subset of onnx.proto (onnx/onnx, proto2,
// package onnx) that the exporter writes, with upstream's field numbers and types unchanged, so
// the bytes are a standard .onnx file for onnxruntime, Netron, PyTorch's onnx tools and others.
//
// `exportOnnx(model)` is what the app's File → Export → ONNX… and `npm run export` call.

import protobuf from 'protobufjs';
import { buildOnnxGraph, type OnnxAttribute, type OnnxExportOptions, type OnnxGraph, type OnnxValueInfo } from '../engine/formats/onnx';
import type { Model } from '../engine/model';

export type { OnnxExportOptions } from '../engine/formats/onnx';

const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSORS = 12;
  }
  optional string name = 1;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType { UNDEFINED = 0; FLOAT = 1; }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType.FLOAT */
const FLOAT = 1;
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

// The message shapes we build, with onnx.proto's field names (parsed with keepCase).
interface AttributeMsg {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
}
interface DimensionMsg {
  dim_value?: number;
  dim_param?: string;
}
interface ValueInfoMsg {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: DimensionMsg[] } } };
  doc_string?: string;
}
interface NodeMsg {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: AttributeMsg[];
  doc_string?: string;
}
interface TensorMsg {
  dims: number[];
  data_type: number;
  name: string;
  raw_data: Uint8Array;
}
interface ModelMsg {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string: string;
  graph: {
    node: NodeMsg[];
    name: string;
    initializer: TensorMsg[];
    doc_string: string;
    input: ValueInfoMsg[];
    output: ValueInfoMsg[];
    value_info: ValueInfoMsg[];
  };
  metadata_props: { key: string; value: string }[];
}

let modelType: protobuf.Type | undefined;

/** The onnx.ModelProto type of the schema above (parsed once). */
export function onnxModelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Little-endian float32 bytes, as TensorProto.raw_data requires, whatever the platform. */
function rawFloat32(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return out;
}

function attribute(a: OnnxAttribute): AttributeMsg {
  switch (a.type) {
    case 'INT':
      return { name: a.name, type: ATTRIBUTE_TYPE.INT, i: a.i };
    case 'INTS':
      return { name: a.name, type: ATTRIBUTE_TYPE.INTS, ints: a.ints };
    case 'FLOAT':
      return { name: a.name, type: ATTRIBUTE_TYPE.FLOAT, f: a.f };
    case 'STRING':
      return { name: a.name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(a.s) };
  }
}

function valueInfo(v: OnnxValueInfo): ValueInfoMsg {
  const dim = v.dims.map((d): DimensionMsg => (typeof d === 'string' ? { dim_param: d } : { dim_value: d }));
  return {
    name: v.name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim } } },
    ...(v.docString === undefined ? {} : { doc_string: v.docString }),
  };
}

/** Serialises a graph description to ONNX ModelProto bytes. */
export function encodeOnnx(g: OnnxGraph): Uint8Array {
  const msg: ModelMsg = {
    ir_version: g.irVersion,
    opset_import: [{ domain: '', version: g.opset }],
    producer_name: g.producerName,
    producer_version: g.producerVersion,
    doc_string: g.docString,
    graph: {
      node: g.nodes.map((n) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name,
        op_type: n.opType,
        domain: '',
        attribute: n.attributes.map(attribute),
        ...(n.docString === undefined ? {} : { doc_string: n.docString }),
      })),
      name: g.name,
      initializer: g.initializers.map((t) => ({ dims: t.dims, data_type: FLOAT, name: t.name, raw_data: rawFloat32(t.data) })),
      doc_string: g.docString,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      value_info: g.valueInfo.map(valueInfo),
    },
    metadata_props: Object.entries(g.metadata).map(([key, value]) => ({ key, value })),
  };
  const type = onnxModelProto();
  const message = type.fromObject(msg);
  const problem = type.verify(message);
  if (problem) throw new Error(`internal error: ONNX message does not fit the schema: ${problem}`);
  return type.encode(message).finish();
}

/**
 * The model as a standard ONNX file (opset 13) in inference mode: input "input" [N,C,H,W]
 * float pixels in [0,1], output "output" [N,classes] = the network's last layer.
 * Throws ModelFileError('MODEL_NOT_FINITE') for a model with non-finite weights.
 */
export function exportOnnx(model: Model, options: OnnxExportOptions = {}): Uint8Array {
  return encodeOnnx(buildOnnxGraph(model, options));
}
