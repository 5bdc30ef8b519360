import { subgraphsOf } from '../onnx/graphNames.js';
import type { OnnxNs } from '../onnx/onnxProto.js';
import { onnx, onnxOpset } from '../onnx/onnxProto.js';

/**
 * The model in inference form, as `model.eval()` would export it: BatchNormalization normalizes with its
 * running statistics (training_mode 0; a running-statistics output the model reads becomes the statistic
 * itself), Dropout is the identity (its training_mode input removed). Changes `model` in place: pass a copy.
 */
export function toInferenceForm(model: OnnxNs.ModelProto): OnnxNs.ModelProto {
  const opset = onnxOpset(model);
  const visit = (graph: OnnxNs.IGraphProto) => {
    const nodes: OnnxNs.NodeProto[] = [];
    for (const node of (graph.node ?? []) as OnnxNs.NodeProto[]) {
      nodes.push(node);
      for (const g of subgraphsOf(node)) visit(g);
      if (node.domain && node.domain !== 'ai.onnx') continue;
      if (node.opType === 'BatchNormalization') {
        const training =
          opset >= 14
            ? node.attribute.some((a) => a.name === 'training_mode' && Number(a.i) === 1)
            : node.output.filter(Boolean).length > 1;
        if (!training) continue;
        node.attribute = node.attribute.filter((a) => a.name !== 'training_mode');
        // outputs 1 and 2 (and, before opset 14, 3 and 4) are the running statistics: in inference they are the inputs
        node.output.slice(1).forEach((name, i) => {
          if (name && i < 2)
            nodes.push(
              onnx.NodeProto.create({ opType: 'Identity', name: `${name}:inference`, input: [node.input[3 + i]!], output: [name] }),
            );
        });
        node.output = [node.output[0]!];
      } else if (node.opType === 'Dropout' && node.input.length > 2) {
        node.input = node.input.slice(0, 2);
      }
    }
    graph.node = nodes;
  };
  visit(model.graph!);
  return model;
}
