import type { GraphBuilder } from '../onnx/GraphBuilder.js';
import type { OnnxNs } from '../onnx/onnxProto.js';
import type { Dim } from '../shapes/Dim.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import type { NodeAttributes } from './NodeAttributes.js';

/** What a shape rule sees of its node: the attributes and what is known of each input. */
export interface ShapeContext {
  readonly node: OnnxNs.NodeProto;
  /** The graph's ai.onnx opset (at least 17: older models are upgraded first). */
  readonly opset: number;
  readonly attr: NodeAttributes;
  /** How many inputs the node lists (an empty name counts: it marks an optional input left out). */
  readonly inputCount: number;
  /** How many outputs the node lists. */
  readonly outputCount: number;
  /** Whether input `i` is given (listed and not empty). */
  has(i: number): boolean;
  /** What is known of input `i` (nothing, when it is not given). */
  input(i: number): TensorInfo;
}

/** Infers what is known of each output from the inputs. An unknown output is `{}`. */
export type ShapeRule = (c: ShapeContext) => readonly TensorInfo[];

/** What a gradient rule sees of the node it differentiates. */
export interface GradientContext {
  /** Where the gradient nodes go. */
  readonly b: GraphBuilder;
  readonly node: OnnxNs.NodeProto;
  readonly attr: NodeAttributes;
  /** Input names (`''` for an optional input left out). */
  readonly x: readonly string[];
  /** Output names (`''` for an optional output left out). */
  readonly y: readonly string[];
  /** The gradient arriving at each output, or undefined where none arrives. At least one is defined. */
  readonly dy: readonly (string | undefined)[];
  /** Whether input `i` needs a gradient (it is differentiable and depends on a trainable parameter). */
  needs(i: number): boolean;
  /** What is known of a value before the model runs. */
  info(name: string): TensorInfo;
  /** The static shape of a value, if its rank is known. */
  shape(name: string): readonly Dim[] | undefined;
  /** The rank of a value; fails with a clear error when it is unknown. */
  rank(name: string): number;
  /** The name of output `i`, added to the node when the model left that optional output out. */
  output(i: number): string;
  /** Throws a clear error about this node. */
  fail(message: string): never;
}

/** Gradients of the inputs given the outputs' (undefined where an input needs none). */
export type GradientRule = (c: GradientContext) => readonly (string | undefined)[];

/**
 * Everything the differentiator knows of one ONNX operator: which inputs carry gradients, how shapes flow
 * through it, and its reverse-mode rule. Adding an operator means adding one of these to the registry.
 */
export interface OperatorRule {
  /**
   * Inputs a gradient can flow into. Empty for operators whose outputs carry no gradient (shapes, comparisons,
   * indices): a gradient path stops there, as it does in PyTorch.
   */
  readonly differentiable: readonly number[];
  /** Output shapes, types and (for small integer tensors) values from the inputs'. */
  readonly shape: ShapeRule;
  /** The reverse-mode rule; required when `differentiable` is not empty. */
  readonly grad?: GradientRule;
}
