package dev.mover.encoder;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Extends a BERT ONNX graph's absolute position table past its trained length by hierarchical decomposition
 * (Su Jianlin, 2020, as bert4keras codes it), rewriting the serialized graph once at model load:
 *
 * <pre>
 *   u = (P - a * P[0]) / (1 - a)           P: the trained table [n, dims], a = 0.4
 *   q[k] = a * u[k / n] + (1 - a) * u[k % n] for k in [0, m)   (0-based; q[k] = P[k] for k < n)
 * </pre>
 *
 * <p>The graph is found by shape, not by name: a {@code Gather} whose data is a float initializer of shape
 * {@code [n, dims]} and whose indices come from a {@code Slice} of an int64 tensor of shape {@code [1, n]} (the
 * position ids; an initializer in all-MiniLM-L6-v2, a {@code Constant} node in bge-small-zh-v1.5). Both the table
 * and the ids are replaced by tensors with {@code m} positions; every other byte of the model is copied unchanged.
 *
 * <p>ONNX is protobuf; ONNX Runtime's jar carries no protobuf classes, so this class reads and writes the few
 * fields it needs itself (ModelProto.graph = 7; GraphProto.node = 1, initializer = 5; NodeProto.input = 1,
 * output = 2, op_type = 4, attribute = 5; AttributeProto.name = 1, t = 5, type = 20; TensorProto.dims = 1,
 * data_type = 2, float_data = 4, int64_data = 7, name = 8, raw_data = 9).
 */
final class PositionExtension {
    /** The decomposition weight. */
    static final double ALPHA = 0.4;

    private static final int FLOAT = 1;
    private static final int INT64 = 7;
    private static final int ATTR_TENSOR = 4;

    private PositionExtension() {}

    /**
     * Returns a copy of {@code model}, in a direct buffer, whose position table and position ids have
     * {@code newPositions} rows.
     *
     * @throws IllegalArgumentException if {@code newPositions} is not above {@code oldPositions}, or the graph has no
     *                                  recognisable position table of {@code oldPositions} rows
     */
    static ByteBuffer extend(byte[] model, int oldPositions, int newPositions, String modelName) {
        String label = "[mover] model [" + modelName + "]";
        if (newPositions <= oldPositions) {
            throw new IllegalArgumentException(label + " extended positions [" + newPositions + "] must be above ["
                + oldPositions + "]");
        }
        if ((long) newPositions > (long) oldPositions * oldPositions) {
            throw new IllegalArgumentException(label + " hierarchical positions are limited to [" + ((long) oldPositions * oldPositions)
                + "] but [" + newPositions + "] were asked");
        }
        List<Field> modelFields = parse(model, 0, model.length);
        Field graphField = null;
        for (Field f : modelFields) {
            if (f.number == 7 && f.wire == 2) {
                graphField = f;
            }
        }
        if (graphField == null) {
            throw new IllegalArgumentException(label + " ONNX file has no graph");
        }
        List<Field> graph = parse(model, graphField.valueStart, graphField.valueEnd);
        Map<String, Tensor> initializers = new HashMap<>();
        Map<String, Node> producers = new HashMap<>();
        List<Node> nodes = new ArrayList<>();
        for (Field f : graph) {
            if (f.number == 5 && f.wire == 2) {
                Tensor t = Tensor.parse(model, f.valueStart, f.valueEnd);
                initializers.put(t.name, t);
            } else if (f.number == 1 && f.wire == 2) {
                Node n = Node.parse(model, f);
                nodes.add(n);
                for (String o : n.outputs) {
                    producers.put(o, n);
                }
            }
        }
        Tensor table = null;
        String idsName = null;
        for (Node n : nodes) {
            if (!"Gather".equals(n.opType) || n.inputs.size() < 2) {
                continue;
            }
            Tensor data = initializers.get(n.inputs.get(0));
            Node slice = producers.get(n.inputs.get(1));
            if (data == null || data.dataType != FLOAT || data.dims.length != 2 || data.dims[0] != oldPositions
                || slice == null || !"Slice".equals(slice.opType) || slice.inputs.isEmpty()) {
                continue;
            }
            String ids = slice.inputs.get(0);
            Tensor idsTensor = initializers.get(ids);
            if (idsTensor == null && producers.containsKey(ids) && "Constant".equals(producers.get(ids).opType)) {
                idsTensor = producers.get(ids).constantValue;
            }
            if (idsTensor == null || idsTensor.dataType != INT64 || idsTensor.dims.length != 2
                || idsTensor.dims[1] != oldPositions) {
                continue;
            }
            if (table != null) {
                throw new IllegalArgumentException(label + " graph has more than one position table");
            }
            table = data;
            idsName = ids;
        }
        if (table == null) {
            throw new IllegalArgumentException(label + " graph has no absolute position table of [" + oldPositions
                + "] rows (a Gather of a [" + oldPositions + ", dims] initializer indexed by a Slice of [1, "
                + oldPositions + "] position ids); long_text [hierarchical] needs one");
        }
        int dims = (int) table.dims[1];
        float[] p = table.floats(model);
        float[] q = extendTable(p, oldPositions, dims, newPositions);
        byte[] newTable = Tensor.encodeFloat(table.name, new long[] {newPositions, dims}, q);
        long[] ids = new long[newPositions];
        for (int i = 0; i < newPositions; i++) {
            ids[i] = i;
        }
        byte[] newIds = Tensor.encodeInt64(idsName, new long[] {1, newPositions}, ids);

        // The new model is assembled from slices of the old one plus the few new tensors, then written once into
        // a direct buffer: no second heap copy of a 90 MB graph.
        Pieces g = new Pieces();
        for (Field f : graph) {
            if (f.number == 5 && f.wire == 2) {
                String name = Tensor.parse(model, f.valueStart, f.valueEnd).name;
                if (name.equals(table.name)) {
                    g.addLen(5, newTable);
                    continue;
                }
                if (name.equals(idsName)) {
                    g.addLen(5, newIds);
                    continue;
                }
            } else if (f.number == 1 && f.wire == 2) {
                Node n = Node.parse(model, f);
                if ("Constant".equals(n.opType) && n.outputs.contains(idsName)) {
                    g.addLen(1, n.withValue(model, newIds));
                    continue;
                }
            }
            g.add(model, f.start, f.end - f.start);
        }
        Pieces out = new Pieces();
        for (Field f : modelFields) {
            if (f == graphField) {
                out.addHeader(7, g.length());
                out.addAll(g);
            } else {
                out.add(model, f.start, f.end - f.start);
            }
        }
        if (out.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(label + " extended graph is larger than 2 GB");
        }
        ByteBuffer buf = ByteBuffer.allocateDirect((int) out.length());
        out.writeTo(buf);
        buf.flip();
        return buf;
    }

    /** A byte sequence made of slices of existing arrays, copied only by {@link #writeTo(ByteBuffer)}. */
    private static final class Pieces {
        private final List<byte[]> arrays = new ArrayList<>();
        private final List<int[]> ranges = new ArrayList<>();
        private long length;

        void add(byte[] src, int off, int len) {
            arrays.add(src);
            ranges.add(new int[] {off, len});
            length += len;
        }

        void addAll(Pieces other) {
            arrays.addAll(other.arrays);
            ranges.addAll(other.ranges);
            length += other.length;
        }

        /** Tag and length prefix of a length-delimited field. */
        void addHeader(int number, long len) {
            ByteArrayOutputStream h = new ByteArrayOutputStream(16);
            writeVarint(h, ((long) number << 3) | 2);
            writeVarint(h, len);
            byte[] b = h.toByteArray();
            add(b, 0, b.length);
        }

        void addLen(int number, byte[] value) {
            addHeader(number, value.length);
            add(value, 0, value.length);
        }

        long length() {
            return length;
        }

        void writeTo(ByteBuffer buf) {
            for (int i = 0; i < arrays.size(); i++) {
                int[] r = ranges.get(i);
                buf.put(arrays.get(i), r[0], r[1]);
            }
        }
    }

    /** The extended table, row-major {@code [m, dims]}; the first {@code n} rows are copied unchanged. */
    static float[] extendTable(float[] p, int n, int dims, int m) {
        double a = ALPHA;
        double[] u = new double[n * dims];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dims; d++) {
                u[i * dims + d] = (p[i * dims + d] - a * p[d]) / (1 - a);
            }
        }
        float[] q = new float[m * dims];
        System.arraycopy(p, 0, q, 0, n * dims);
        for (int k = n; k < m; k++) {
            int hi = (k / n) * dims;
            int lo = (k % n) * dims;
            for (int d = 0; d < dims; d++) {
                q[k * dims + d] = (float) (a * u[hi + d] + (1 - a) * u[lo + d]);
            }
        }
        return q;
    }

    // ---- minimal protobuf ----

    /** One field of a message: tag at {@code start}, value bytes {@code [valueStart, valueEnd)}, next field at {@code end}. */
    static final class Field {
        int number;
        int wire;
        int start;
        int valueStart;
        int valueEnd;
        int end;
        long varint;
    }

    static List<Field> parse(byte[] b, int from, int to) {
        List<Field> out = new ArrayList<>();
        int[] pos = {from};
        while (pos[0] < to) {
            Field f = new Field();
            f.start = pos[0];
            long tag = readVarint(b, pos, to);
            f.number = (int) (tag >>> 3);
            f.wire = (int) (tag & 7);
            switch (f.wire) {
                case 0:
                    f.valueStart = pos[0];
                    f.varint = readVarint(b, pos, to);
                    break;
                case 1:
                    f.valueStart = pos[0];
                    pos[0] += 8;
                    break;
                case 2: {
                    long len = readVarint(b, pos, to);
                    f.valueStart = pos[0];
                    if (len < 0 || pos[0] + len > to) {
                        throw new IllegalArgumentException("[mover] malformed ONNX protobuf: field [" + f.number + "] runs past its message");
                    }
                    pos[0] += (int) len;
                    break;
                }
                case 5:
                    f.valueStart = pos[0];
                    pos[0] += 4;
                    break;
                default:
                    throw new IllegalArgumentException("[mover] malformed ONNX protobuf: wire type [" + f.wire + "] at [" + f.start + "]");
            }
            if (pos[0] > to) {
                throw new IllegalArgumentException("[mover] malformed ONNX protobuf: truncated field [" + f.number + "]");
            }
            f.valueEnd = pos[0];
            f.end = pos[0];
            out.add(f);
        }
        return out;
    }

    static long readVarint(byte[] b, int[] pos, int to) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= to) {
                throw new IllegalArgumentException("[mover] malformed ONNX protobuf: truncated varint");
            }
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("[mover] malformed ONNX protobuf: varint too long");
    }

    static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    static void writeLen(ByteArrayOutputStream out, int number, byte[] value) {
        writeVarint(out, ((long) number << 3) | 2);
        writeVarint(out, value.length);
        out.write(value, 0, value.length);
    }

    static void writeVarintField(ByteArrayOutputStream out, int number, long value) {
        writeVarint(out, (long) number << 3);
        writeVarint(out, value);
    }

    private static String string(byte[] b, Field f) {
        return new String(b, f.valueStart, f.valueEnd - f.valueStart, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The TensorProto fields needed here. */
    static final class Tensor {
        String name = "";
        long[] dims = new long[0];
        int dataType;
        int rawStart = -1;
        int rawEnd = -1;
        List<Field> floatData = new ArrayList<>();

        static Tensor parse(byte[] b, int from, int to) {
            Tensor t = new Tensor();
            List<Long> dims = new ArrayList<>();
            for (Field f : PositionExtension.parse(b, from, to)) {
                switch (f.number) {
                    case 1:
                        if (f.wire == 0) {
                            dims.add(f.varint);
                        } else if (f.wire == 2) {
                            int[] pos = {f.valueStart};
                            while (pos[0] < f.valueEnd) {
                                dims.add(readVarint(b, pos, f.valueEnd));
                            }
                        }
                        break;
                    case 2:
                        t.dataType = (int) f.varint;
                        break;
                    case 4:
                        t.floatData.add(f);
                        break;
                    case 8:
                        t.name = string(b, f);
                        break;
                    case 9:
                        t.rawStart = f.valueStart;
                        t.rawEnd = f.valueEnd;
                        break;
                    default:
                        break;
                }
            }
            t.dims = dims.stream().mapToLong(Long::longValue).toArray();
            return t;
        }

        float[] floats(byte[] b) {
            long count = 1;
            for (long d : dims) {
                count *= d;
            }
            float[] out = new float[(int) count];
            if (rawStart >= 0) {
                if (rawEnd - rawStart != count * 4) {
                    throw new IllegalArgumentException("[mover] malformed ONNX tensor [" + name + "]: raw_data has ["
                        + (rawEnd - rawStart) + "] bytes for [" + count + "] floats");
                }
                ByteBuffer.wrap(b, rawStart, rawEnd - rawStart).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
                return out;
            }
            int i = 0;
            for (Field f : floatData) {
                if (f.wire == 2) {
                    ByteBuffer bb = ByteBuffer.wrap(b, f.valueStart, f.valueEnd - f.valueStart).order(ByteOrder.LITTLE_ENDIAN);
                    while (bb.remaining() >= 4 && i < out.length) {
                        out[i++] = bb.getFloat();
                    }
                } else if (f.wire == 5 && i < out.length) {
                    out[i++] = ByteBuffer.wrap(b, f.valueStart, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
                }
            }
            if (i != out.length) {
                throw new IllegalArgumentException("[mover] ONNX tensor [" + name + "] has [" + i + "] floats, expected [" + count + "]");
            }
            return out;
        }

        static byte[] encodeFloat(String name, long[] dims, float[] values) {
            ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(values);
            return encode(name, dims, FLOAT, raw.array());
        }

        static byte[] encodeInt64(String name, long[] dims, long[] values) {
            ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            raw.asLongBuffer().put(values);
            return encode(name, dims, INT64, raw.array());
        }

        private static byte[] encode(String name, long[] dims, int dataType, byte[] raw) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length + 64);
            for (long d : dims) {
                writeVarintField(out, 1, d);
            }
            writeVarintField(out, 2, dataType);
            writeLen(out, 8, name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            writeLen(out, 9, raw);
            return out.toByteArray();
        }
    }

    /** The NodeProto fields needed here. */
    static final class Node {
        Field field;
        String opType = "";
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Tensor constantValue;

        static Node parse(byte[] b, Field nodeField) {
            Node n = new Node();
            n.field = nodeField;
            for (Field f : PositionExtension.parse(b, nodeField.valueStart, nodeField.valueEnd)) {
                if (f.number == 1 && f.wire == 2) {
                    n.inputs.add(string(b, f));
                } else if (f.number == 2 && f.wire == 2) {
                    n.outputs.add(string(b, f));
                } else if (f.number == 4 && f.wire == 2) {
                    n.opType = string(b, f);
                }
            }
            if ("Constant".equals(n.opType)) {
                for (Field f : PositionExtension.parse(b, nodeField.valueStart, nodeField.valueEnd)) {
                    if (f.number == 5 && f.wire == 2) {
                        String attrName = null;
                        Field tensor = null;
                        for (Field a : PositionExtension.parse(b, f.valueStart, f.valueEnd)) {
                            if (a.number == 1 && a.wire == 2) {
                                attrName = string(b, a);
                            } else if (a.number == 5 && a.wire == 2) {
                                tensor = a;
                            }
                        }
                        if ("value".equals(attrName) && tensor != null) {
                            n.constantValue = Tensor.parse(b, tensor.valueStart, tensor.valueEnd);
                        }
                    }
                }
            }
            return n;
        }

        /** This Constant node's bytes with its {@code value} attribute replaced by {@code tensor}. */
        byte[] withValue(byte[] b, byte[] tensor) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(tensor.length + 128);
            for (Field f : PositionExtension.parse(b, field.valueStart, field.valueEnd)) {
                if (f.number == 5 && f.wire == 2) {
                    ByteArrayOutputStream attr = new ByteArrayOutputStream(tensor.length + 32);
                    writeLen(attr, 1, "value".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    writeLen(attr, 5, tensor);
                    writeVarintField(attr, 20, ATTR_TENSOR);
                    writeLen(out, 5, attr.toByteArray());
                } else {
                    out.write(b, f.start, f.end - f.start);
                }
            }
            return out.toByteArray();
        }
    }
}
