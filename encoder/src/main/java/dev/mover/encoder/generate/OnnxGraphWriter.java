package dev.mover.encoder.generate;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small ONNX models as protobuf bytes from Java, without the onnx library (used by
 * {@link OnnxSeq2SeqGenerator} for its beam-reorder graph, and by the tests for toy models): a minimal protobuf
 * encoder for the
 * fields of {@code onnx.proto} used here (ModelProto, OperatorSetIdProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto).
 *
 * <p>Field numbers (onnx.proto): ModelProto {ir_version 1, producer_name 2, graph 7, opset_import 8};
 * OperatorSetIdProto {domain 1, version 2}; GraphProto {node 1, name 2, initializer 5, input 11, output 12};
 * NodeProto {input 1, output 2, name 3, op_type 4, attribute 5}; AttributeProto {name 1, f 2, i 3, ints 8,
 * type 20 (FLOAT 1, INT 2, INTS 7)}; TensorProto {dims 1, data_type 2 (FLOAT 1, INT64 7), name 8, raw_data 9};
 * ValueInfoProto {name 1, type 2}; TypeProto {tensor_type 1}; TypeProto.Tensor {elem_type 1, shape 2};
 * TensorShapeProto {dim 1}; Dimension {dim_value 1, dim_param 2}.
 */
final class OnnxGraphWriter {
    static final int FLOAT = 1;
    static final int INT64 = 7;

    /** A protobuf message under construction. */
    static final class Pb {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        private void tag(int field, int wire) {
            varint(((long) field << 3) | wire);
        }

        Pb int64(int field, long v) {
            tag(field, 0);
            varint(v);
            return this;
        }

        Pb float32(int field, float v) {
            tag(field, 5);
            int bits = Float.floatToIntBits(v);
            for (int i = 0; i < 4; i++) {
                out.write((bits >>> (8 * i)) & 0xFF);
            }
            return this;
        }

        Pb bytes(int field, byte[] b) {
            tag(field, 2);
            varint(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Pb string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Pb msg(int field, Pb m) {
            return bytes(field, m.toByteArray());
        }

        Pb packedInt64(int field, long[] vs) {
            Pb inner = new Pb();
            for (long v : vs) {
                inner.varint(v);
            }
            return bytes(field, inner.toByteArray());
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    /** An attribute of a node. */
    record Attr(String name, Pb pb) {
        static Attr i(String name, long v) {
            return new Attr(name, new Pb().string(1, name).int64(20, 2).int64(3, v));
        }

        static Attr f(String name, float v) {
            return new Attr(name, new Pb().string(1, name).int64(20, 1).float32(2, v));
        }

        static Attr ints(String name, long... v) {
            Pb pb = new Pb().string(1, name).int64(20, 7);
            for (long x : v) {
                pb.int64(8, x);
            }
            return new Attr(name, pb);
        }
    }

    private final String name;
    private final List<Pb> nodes = new ArrayList<>();
    private final List<Pb> initializers = new ArrayList<>();
    private final List<Pb> inputs = new ArrayList<>();
    private final List<Pb> outputs = new ArrayList<>();
    private int counter;

    OnnxGraphWriter(String name) {
        this.name = name;
    }

    /** Adds a node with one output named {@code out} (or a fresh name when null); returns the output's name. */
    String node(String op, String out, List<String> ins, Attr... attrs) {
        String o = out == null ? op.toLowerCase(java.util.Locale.ROOT) + "_" + (counter++) : out;
        Pb n = new Pb();
        for (String in : ins) {
            n.string(1, in);
        }
        n.string(2, o).string(3, "n" + (counter++) + "_" + op).string(4, op);
        for (Attr a : attrs) {
            n.msg(5, a.pb());
        }
        nodes.add(n);
        return o;
    }

    String op(String op, String... ins) {
        return node(op, null, List.of(ins));
    }

    String op(String op, List<String> ins, Attr... attrs) {
        return node(op, null, ins, attrs);
    }

    private static Pb tensor(String name, int type, long[] dims, byte[] raw) {
        Pb t = new Pb();
        for (long d : dims) {
            t.int64(1, d);
        }
        return t.int64(2, type).string(8, name).bytes(9, raw);
    }

    /** A float initializer. */
    String floats(String name, float[] data, long... dims) {
        ByteBuffer bb = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            bb.putFloat(f);
        }
        initializers.add(tensor(name, FLOAT, dims, bb.array()));
        return name;
    }

    /** An int64 initializer (dims empty = scalar). */
    String int64s(String name, long[] data, long... dims) {
        ByteBuffer bb = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : data) {
            bb.putLong(v);
        }
        initializers.add(tensor(name, INT64, dims, bb.array()));
        return name;
    }

    String scalarInt64(long v) {
        return int64s("c_i" + (counter++), new long[] {v});
    }

    String vectorInt64(long... v) {
        return int64s("c_v" + (counter++), v, v.length);
    }

    String scalarFloat(float v) {
        return floats("c_f" + (counter++), new float[] {v});
    }

    /** A typed value info; each dim is a Long (fixed) or a String (symbolic). */
    private static Pb valueInfo(String name, int type, Object... dims) {
        Pb shape = new Pb();
        for (Object d : dims) {
            Pb dim = new Pb();
            if (d instanceof String s) {
                dim.string(2, s);
            } else {
                dim.int64(1, ((Number) d).longValue());
            }
            shape.msg(1, dim);
        }
        Pb tt = new Pb().int64(1, type).msg(2, shape);
        return new Pb().string(1, name).msg(2, new Pb().msg(1, tt));
    }

    void input(String name, int type, Object... dims) {
        inputs.add(valueInfo(name, type, dims));
    }

    void output(String name, int type, Object... dims) {
        outputs.add(valueInfo(name, type, dims));
    }

    /** The serialized ModelProto. */
    byte[] model(int opset) {
        Pb g = new Pb();
        for (Pb n : nodes) {
            g.msg(1, n);
        }
        g.string(2, name);
        for (Pb t : initializers) {
            g.msg(5, t);
        }
        for (Pb i : inputs) {
            g.msg(11, i);
        }
        for (Pb o : outputs) {
            g.msg(12, o);
        }
        return new Pb().int64(1, 7).string(2, "mover-tests").msg(7, g)
            .msg(8, new Pb().string(1, "").int64(2, opset)).toByteArray();
    }
}
