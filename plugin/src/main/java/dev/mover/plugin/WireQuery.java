package dev.mover.plugin;

import dev.mover.scoring.TokenMatrix;

import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.common.io.stream.Writeable;

import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;

/** A query's token vectors as the coordinating node ships them to the shards. */
final class WireQuery implements Writeable {
    private final String model;
    private final long fingerprint;
    private final int tokens;
    private final int dims;
    private final float[] vectors;
    private final int[] starts;
    private final int[] ends;
    private final float[] pooled;

    private WireQuery(String model, long fingerprint, int tokens, int dims, float[] vectors, int[] starts, int[] ends, float[] pooled) {
        if (vectors.length != tokens * dims || starts.length != tokens || ends.length != tokens) {
            throw new IllegalArgumentException("[mover] malformed query vectors: [" + tokens + "] tokens of [" + dims
                + "] dims but [" + vectors.length + "] components");
        }
        this.model = model;
        this.fingerprint = fingerprint;
        this.tokens = tokens;
        this.dims = dims;
        this.vectors = vectors;
        this.starts = starts;
        this.ends = ends;
        this.pooled = pooled;
    }

    static WireQuery of(ModelService.QueryVectors q) {
        TokenMatrix m = q.matrix();
        float[] v = new float[m.rows() * m.dims()];
        for (int r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.dims(); c++) {
                v[r * m.dims() + c] = (float) m.get(r, c);
            }
        }
        return new WireQuery(q.model(), q.fingerprint(), m.rows(), m.dims(), v, q.starts(), q.ends(), q.pooled());
    }

    WireQuery(StreamInput in) throws IOException {
        this(in.readString(), in.readLong(), in.readVInt(), in.readVInt(), in.readFloatArray(), in.readVIntArray(), in.readVIntArray(),
            in.readBoolean() ? in.readFloatArray() : null);
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
        out.writeString(model);
        out.writeLong(fingerprint);
        out.writeVInt(tokens);
        out.writeVInt(dims);
        out.writeFloatArray(vectors);
        out.writeVIntArray(starts);
        out.writeVIntArray(ends);
        out.writeBoolean(pooled != null);
        if (pooled != null) {
            out.writeFloatArray(pooled);
        }
    }

    ModelService.QueryVectors toQueryVectors(String text) {
        for (int i = 0; i < tokens; i++) {
            if (starts[i] < 0 || ends[i] < starts[i] || ends[i] > text.length()) {
                throw new IllegalArgumentException("[mover] query token offsets do not fit [query_text]");
            }
        }
        return new ModelService.QueryVectors(model, fingerprint, text, TokenMatrix.of(vectors, tokens, dims), starts, ends, pooled);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WireQuery w && model.equals(w.model) && fingerprint == w.fingerprint && tokens == w.tokens
            && dims == w.dims && Arrays.equals(vectors, w.vectors) && Arrays.equals(starts, w.starts) && Arrays.equals(ends, w.ends);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, fingerprint, tokens, dims, Arrays.hashCode(vectors));
    }
}
