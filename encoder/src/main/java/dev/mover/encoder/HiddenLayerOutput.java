package dev.mover.encoder;

import dev.mover.encoder.PositionExtension.Field;
import dev.mover.encoder.PositionExtension.Node;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Exposes the hidden state after transformer layer {@code L} of a BERT ONNX graph as an extra graph output,
 * rewriting the serialized graph once at model load.
 *
 * <p>The tensor is found by structure, not by name. A BERT encoder normalises its hidden state with a layer
 * normalisation once after the embeddings and twice per transformer layer (after attention and after the
 * feed-forward block), so the graph holds {@code 1 + 2 x layers} of them, in topological order; the hidden state
 * after layer {@code L} (HuggingFace's {@code hidden_states[L]}) is the output of number {@code 2 x L} (0-based),
 * and number 0 is the embeddings' output. In opset 11 a layer normalisation is exported as its arithmetic,
 * recognised here as
 *
 * <pre>
 *   m = ReduceMean(x); d = Sub(x, m); ...; n = Div(d, ...); y = Add(Mul(n, gamma), beta)
 * </pre>
 *
 * (a {@code LayerNormalization} node, as newer opsets export it, counts as one too). The rewrite appends one
 * {@code GraphProto.output} (field 12: a {@code ValueInfoProto} with name = 1 and a float tensor type = 2) naming
 * {@code y}; every other byte of the model is copied unchanged.
 */
final class HiddenLayerOutput {
    private static final int FLOAT = 1;

    private HiddenLayerOutput() {}

    /** A rewritten model and the name of its new output. */
    static final class Exposed {
        final byte[] model;
        final String output;
        final int layers;

        Exposed(byte[] model, String output, int layers) {
            this.model = model;
            this.output = output;
            this.layers = layers;
        }
    }

    /**
     * The output tensor names of the graph's layer normalisations, in graph (topological) order: the embeddings'
     * first, then two per transformer layer.
     */
    static List<String> layerNormOutputs(byte[] model, String modelName) {
        List<Field> graph = graphFields(model, label(modelName));
        List<Node> nodes = new ArrayList<>();
        Map<String, List<Node>> consumers = new HashMap<>();
        for (Field f : graph) {
            if (f.number == 1 && f.wire == 2) {
                Node n = Node.parse(model, f);
                nodes.add(n);
                for (String in : n.inputs) {
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (Node n : nodes) {
            if ("LayerNormalization".equals(n.opType) && !n.outputs.isEmpty()) {
                out.add(n.outputs.get(0));
                continue;
            }
            if (!"ReduceMean".equals(n.opType) || n.inputs.size() != 1 || n.outputs.size() != 1) {
                continue;
            }
            String x = n.inputs.get(0);
            String m = n.outputs.get(0);
            // d = Sub(x, m)
            Node sub = consumer(consumers, m, "Sub", node -> node.inputs.size() == 2 && node.inputs.get(0).equals(x)
                && node.inputs.get(1).equals(m));
            if (sub == null) {
                continue;
            }
            String d = sub.outputs.get(0);
            Node div = consumer(consumers, d, "Div", node -> node.inputs.size() == 2 && node.inputs.get(0).equals(d));
            if (div == null) {
                continue;
            }
            String nrm = div.outputs.get(0);
            Node mul = consumer(consumers, nrm, "Mul", node -> node.inputs.size() == 2);
            if (mul == null) {
                continue;
            }
            Node add = consumer(consumers, mul.outputs.get(0), "Add", node -> node.inputs.size() == 2);
            if (add == null) {
                continue;
            }
            out.add(add.outputs.get(0));
        }
        return out;
    }

    /** Number of transformer layers: {@code (layer normalisations - 1) / 2}. */
    static int layerCount(List<String> layerNorms, String modelName) {
        int n = layerNorms.size();
        if (n < 3 || n % 2 == 0) {
            throw new IllegalArgumentException(label(modelName) + " graph has [" + n + "] layer normalisations; a BERT"
                + " encoder has 1 + 2 x layers of them, so [hidden_layer] cannot locate the layer outputs");
        }
        return (n - 1) / 2;
    }

    /**
     * Returns a copy of {@code model} with the hidden state after layer {@code layer} (0 = embeddings output,
     * 1..layers = after that transformer layer) added as a graph output.
     *
     * @throws IllegalArgumentException if {@code layer} is out of {@code [0, layers]} (naming the value and the range)
     *                                  or the graph's layer normalisations cannot be found
     */
    static Exposed expose(byte[] model, int layer, String modelName) {
        String label = label(modelName);
        List<String> norms = layerNormOutputs(model, modelName);
        int layers = layerCount(norms, modelName);
        if (layer < 0 || layer > layers) {
            throw new IllegalArgumentException(label + " [hidden_layer] must be in [0, " + layers + "] (the graph has ["
                + layers + "] transformer layers) but was [" + layer + "]");
        }
        String name = norms.get(2 * layer);
        List<Field> modelFields = PositionExtension.parse(model, 0, model.length);
        Field graphField = graphField(modelFields, label);

        ByteArrayOutputStream type = new ByteArrayOutputStream(8);
        ByteArrayOutputStream tensorType = new ByteArrayOutputStream(4);
        PositionExtension.writeVarintField(tensorType, 1, FLOAT); // TypeProto.Tensor.elem_type
        PositionExtension.writeLen(type, 1, tensorType.toByteArray()); // TypeProto.tensor_type
        ByteArrayOutputStream valueInfo = new ByteArrayOutputStream(64);
        PositionExtension.writeLen(valueInfo, 1, name.getBytes(StandardCharsets.UTF_8));
        PositionExtension.writeLen(valueInfo, 2, type.toByteArray());
        ByteArrayOutputStream extra = new ByteArrayOutputStream(80);
        PositionExtension.writeLen(extra, 12, valueInfo.toByteArray());
        byte[] add = extra.toByteArray();

        int graphLen = graphField.valueEnd - graphField.valueStart + add.length;
        ByteArrayOutputStream header = new ByteArrayOutputStream(16);
        PositionExtension.writeVarint(header, (7L << 3) | 2);
        PositionExtension.writeVarint(header, graphLen);
        byte[] h = header.toByteArray();
        long total = (long) model.length - (graphField.end - graphField.start) + h.length + graphLen;
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(label + " rewritten graph is larger than 2 GB");
        }
        byte[] out = new byte[(int) total];
        int p = 0;
        for (Field f : modelFields) {
            if (f == graphField) {
                System.arraycopy(h, 0, out, p, h.length);
                p += h.length;
                int len = graphField.valueEnd - graphField.valueStart;
                System.arraycopy(model, graphField.valueStart, out, p, len);
                p += len;
                System.arraycopy(add, 0, out, p, add.length);
                p += add.length;
            } else {
                System.arraycopy(model, f.start, out, p, f.end - f.start);
                p += f.end - f.start;
            }
        }
        return new Exposed(out, name, layers);
    }

    private static Node consumer(Map<String, List<Node>> consumers, String tensor, String op,
                                 java.util.function.Predicate<Node> test) {
        for (Node c : consumers.getOrDefault(tensor, List.of())) {
            if (op.equals(c.opType) && !c.outputs.isEmpty() && test.test(c)) {
                return c;
            }
        }
        return null;
    }

    private static List<Field> graphFields(byte[] model, String label) {
        Field g = graphField(PositionExtension.parse(model, 0, model.length), label);
        return PositionExtension.parse(model, g.valueStart, g.valueEnd);
    }

    private static Field graphField(List<Field> modelFields, String label) {
        Field graphField = null;
        for (Field f : modelFields) {
            if (f.number == 7 && f.wire == 2) {
                graphField = f;
            }
        }
        if (graphField == null) {
            throw new IllegalArgumentException(label + " ONNX file has no graph");
        }
        return graphField;
    }

    private static String label(String modelName) {
        return "[mover] model [" + modelName + "]";
    }
}
