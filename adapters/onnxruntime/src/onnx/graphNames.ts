import type { OnnxNs } from './onnxProto.js';

/** The subgraphs held in a node's attributes (If branches, Loop and Scan bodies). */
export function subgraphsOf(node: OnnxNs.INodeProto): OnnxNs.IGraphProto[] {
  return (node.attribute ?? []).flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]);
}

/** Every name a graph and its subgraphs use (values, initializers, nodes), so that new names avoid them. */
export function namesIn(graph: OnnxNs.IGraphProto, into = new Set<string>()): Set<string> {
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) if (v.name) into.add(v.name);
  for (const t of graph.initializer ?? []) if (t.name) into.add(t.name);
  for (const n of graph.node ?? []) {
    for (const name of [...(n.input ?? []), ...(n.output ?? [])]) if (name) into.add(name);
    if (n.name) into.add(n.name);
    for (const g of subgraphsOf(n)) namesIn(g, into);
  }
  return into;
}
