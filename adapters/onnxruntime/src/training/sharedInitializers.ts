import type { OnnxNs } from '../onnx/onnxProto.js';

/**
 * The initializers among `names` that several nodes read, directly or through Identity nodes (how PyTorch's
 * exporter shares a merged initializer), with the names of those nodes.
 */
export function sharedInitializers(nodes: readonly OnnxNs.NodeProto[], names: readonly string[]): Record<string, string[]> {
  const readers = new Map<string, OnnxNs.NodeProto[]>();
  for (const node of nodes) for (const input of node.input) if (input) readers.set(input, [...(readers.get(input) ?? []), node]);
  const users = (value: string): string[] =>
    (readers.get(value) ?? []).flatMap((n) =>
      n.opType === 'Identity' ? users(n.output[0]!) : [n.name || `(unnamed, output ${n.output[0]})`],
    );
  const shared: Record<string, string[]> = {};
  for (const name of names) {
    const list = [...new Set(users(name))];
    if (list.length > 1) shared[name] = list;
  }
  return shared;
}
