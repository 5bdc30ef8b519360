import type { OnnxNs } from '../onnx/onnxProto.js';
import {
  attribute,
  floatAttribute,
  floatsAttribute,
  intAttribute,
  intsAttribute,
  stringAttribute,
  stringsAttribute,
} from '../onnx/onnxProto.js';

/** Typed reads of a node's attributes, with ONNX's defaults given at the call. */
export class NodeAttributes {
  constructor(private readonly node: OnnxNs.INodeProto) {}

  /** Whether the attribute is present. */
  has(name: string): boolean {
    return attribute(this.node, name) !== undefined;
  }

  int(name: string, fallback: number): number {
    return intAttribute(this.node, name, fallback);
  }

  ints(name: string): number[] | undefined {
    return intsAttribute(this.node, name);
  }

  float(name: string, fallback: number): number {
    return floatAttribute(this.node, name, fallback);
  }

  floats(name: string): number[] | undefined {
    return floatsAttribute(this.node, name);
  }

  string(name: string, fallback: string): string {
    return stringAttribute(this.node, name, fallback);
  }

  strings(name: string): string[] | undefined {
    return stringsAttribute(this.node, name);
  }

  tensor(name: string): OnnxNs.ITensorProto | undefined {
    return attribute(this.node, name)?.t ?? undefined;
  }
}
