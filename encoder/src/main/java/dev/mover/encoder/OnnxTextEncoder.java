package dev.mover.encoder;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.mover.encoder.tokenize.BertTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * {@link TextEncoder} on one ONNX Runtime session of a BERT-style graph ({@code input_ids}, {@code attention_mask},
 * optional {@code token_type_ids} in; {@code [batch, seq, dims]} out).
 *
 * <p>Per call: tokenize every text, cut to the limit, split long texts into segments (one per model pass), sort the
 * segments by length and run them in batches of similar length (padding masked out by the attention mask and never
 * read back), then scatter each segment's rows into its text. ONNX Runtime writes the output straight into a pooled
 * direct buffer (pinned output), so nothing is copied twice.
 */
final class OnnxTextEncoder implements TextEncoder {
    private static final String INPUT_IDS = "input_ids";
    private static final String ATTENTION_MASK = "attention_mask";
    private static final String TOKEN_TYPE_IDS = "token_type_ids";
    /** Scratch buffers kept for reuse between calls; more concurrent callers allocate their own. */
    private static final int SCRATCH_POOL = 4;

    private final ModelDescriptor model;
    private final EncoderConfig cfg;
    private final BertTokenizer tokenizer;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final boolean hasTokenTypes;
    private final int dims;
    /** Positions of one pass, [CLS] and [SEP] included. */
    private final int positions;
    private final long fingerprint;
    /** The graph output holding the token rows when it is not {@code model.output()} (hidden_layer), else null. */
    private final String rowsOutput;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ArrayBlockingQueue<Scratch> scratchPool = new ArrayBlockingQueue<>(SCRATCH_POOL);
    /** Sequences run through the model so far (one per window), for tests and statistics. */
    private final AtomicLong passes = new AtomicLong();
    private boolean closed;

    private OnnxTextEncoder(ModelDescriptor model, EncoderConfig cfg, BertTokenizer tokenizer, OrtEnvironment env,
                            OrtSession session, boolean hasTokenTypes, int positions, long fingerprint,
                            String rowsOutput) {
        this.model = model;
        this.cfg = cfg;
        this.tokenizer = tokenizer;
        this.env = env;
        this.session = session;
        this.hasTokenTypes = hasTokenTypes;
        this.dims = model.dims();
        this.positions = positions;
        this.fingerprint = fingerprint;
        this.rowsOutput = rowsOutput;
    }

    static OnnxTextEncoder open(ModelDescriptor model, EncoderConfig cfg) {
        Objects.requireNonNull(cfg, "cfg");
        String label = "[mover] model [" + model.name() + "]";
        BertTokenizer tokenizer = BertTokenizer.load(model.tokenizerPath());
        if (model.lowercase() != null && model.lowercase() != tokenizer.lowercase()) {
            throw new IllegalArgumentException(label + " declares lowercase [" + model.lowercase() + "] but its tokenizer ["
                + model.tokenizerFile() + "] has lowercase [" + tokenizer.lowercase() + "]");
        }
        OrtEnvironment env = OrtRuntime.environment();
        int positions = model.maxPositions();
        OrtSession session = null;
        try (OrtSession.SessionOptions opts = sessionOptions(cfg.intraOpThreads())) {
            // hidden_layer: the graph with that layer's hidden state as an extra output (none for the last layer)
            byte[] graph = null;
            String rowsOutput = null;
            Integer layer = model.hiddenLayer();
            if (layer != null) {
                HiddenLayerOutput.Exposed exposed = HiddenLayerOutput.expose(Files.readAllBytes(model.onnxPath()), layer,
                    model.name());
                if (layer != exposed.layers) {
                    graph = exposed.model;
                    rowsOutput = exposed.output;
                }
            }
            long fingerprint = rowsOutput == null ? fingerprint(model) : fingerprint(model) * 31 + layer + 1;
            if (cfg.longText() == EncoderConfig.LongText.HIERARCHICAL && cfg.maxTokens() + 2 > model.maxPositions()) {
                positions = cfg.maxTokens() + 2;
                ByteBuffer extended = PositionExtension.extend(graph != null ? graph : Files.readAllBytes(model.onnxPath()),
                    model.maxPositions(), positions, model.name());
                session = env.createSession(extended, opts);
            } else if (graph != null) {
                session = env.createSession(graph, opts);
            } else {
                session = env.createSession(model.onnxPath().toString(), opts);
            }
            Map<String, NodeInfo> inputs = session.getInputInfo();
            for (String required : new String[] {INPUT_IDS, ATTENTION_MASK}) {
                if (!inputs.containsKey(required)) {
                    throw new IllegalArgumentException(label + " graph [" + model.onnxFile() + "] has no input ["
                        + required + "]; inputs are " + inputs.keySet());
                }
            }
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            NodeInfo out = outputs.get(model.output());
            if (out == null) {
                throw new IllegalArgumentException(label + " graph [" + model.onnxFile() + "] has no output ["
                    + model.output() + "]; outputs are " + outputs.keySet());
            }
            if (out.getInfo() instanceof TensorInfo) {
                long[] shape = ((TensorInfo) out.getInfo()).getShape();
                if (shape.length != 3 || (shape[2] > 0 && shape[2] != model.dims())) {
                    throw new IllegalArgumentException(label + " output [" + model.output() + "] has shape "
                        + Arrays.toString(shape) + " but model.json says dims [" + model.dims() + "]");
                }
            }
            OnnxTextEncoder enc = new OnnxTextEncoder(model, cfg, tokenizer, env, session,
                inputs.containsKey(TOKEN_TYPE_IDS), positions, fingerprint, rowsOutput);
            session = null;
            return enc;
        } catch (OrtException e) {
            throw new IllegalStateException(label + " cannot load graph [" + model.onnxFile() + "]: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(label + " cannot read graph [" + model.onnxFile() + "]: " + e.getMessage(), e);
        } finally {
            if (session != null) {
                try {
                    session.close();
                } catch (OrtException e) {
                    // already failing
                }
            }
        }
    }

    /** The session options every Mover session uses (also used by the benchmark's bare-ORT baseline). */
    static OrtSession.SessionOptions sessionOptions(int intraOpThreads) throws OrtException {
        OrtRuntime.environment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(intraOpThreads);
        opts.setInterOpNumThreads(1);
        opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        return opts;
    }

    static long fingerprint(ModelDescriptor model) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (Path p : new Path[] {model.tokenizerPath(), model.onnxPath()}) {
                try (InputStream in = Files.newInputStream(p)) {
                    int r;
                    while ((r = in.read(buf)) > 0) {
                        md.update(buf, 0, r);
                    }
                }
            }
            byte[] d = md.digest();
            return ByteBuffer.wrap(d, 0, 8).order(ByteOrder.BIG_ENDIAN).getLong();
        } catch (IOException e) {
            throw new IllegalArgumentException("[mover] model [" + model.name() + "] cannot read its files: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public ModelDescriptor model() {
        return model;
    }

    @Override
    public EncoderConfig config() {
        return cfg;
    }

    @Override
    public long fingerprint() {
        return fingerprint;
    }

    /** The tokenizer this encoder uses. */
    BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** Sequences (texts or windows) run through the model since it was opened. */
    long passes() {
        return passes.get();
    }

    /** Positions of one pass ([CLS]/[SEP] included). */
    int positions() {
        return positions;
    }

    @Override
    public EncodedText encode(String text) {
        return encodeBatch(Collections.singletonList(text)).get(0);
    }

    /** Content tokens one text may keep. */
    private int contentLimit() {
        if (cfg.longText() == EncoderConfig.LongText.TRUNCATE) {
            return Math.min(cfg.maxTokens(), positions - 2);
        }
        return cfg.maxTokens();
    }

    @Override
    public List<EncodedText> encodeBatch(List<String> texts) {
        Objects.requireNonNull(texts, "texts");
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("[mover] encoder of model [" + model.name() + "] is closed");
            }
            return encodeLocked(texts);
        } finally {
            lock.readLock().unlock();
        }
    }

    private List<EncodedText> encodeLocked(List<String> texts) {
        int limit = contentLimit();
        int window = positions - 2;
        Plan[] plans = new Plan[texts.size()];
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < plans.length; i++) {
            String text = texts.get(i);
            if (text == null) {
                throw new IllegalArgumentException("[mover] text [" + i + "] is null");
            }
            // reads no further than one token past the limit, however long the text
            BertTokenizer.Tokens tk = tokenizer.tokenize(text, limit);
            int n = tk.size();
            boolean truncated = false;
            if (n > limit) {
                if (cfg.onOverflow() == EncoderConfig.Overflow.ERROR) {
                    throw new IllegalArgumentException("[mover] text [" + i + "] has more than [" + limit + "] tokens, the limit"
                        + " of model [" + model.name() + "] with long_text [" + cfg.longText() + "]");
                }
                n = limit;
                truncated = true;
            }
            Plan plan = new Plan(text.length(), tk, n, truncated, dims);
            plans[i] = plan;
            if (n == 0) {
                continue;
            }
            if (n <= window) {
                segments.add(new Segment(plan, 0, n, 0, n, true, true));
            } else {
                addWindows(plan, n, window, segments);
            }
        }
        runSegments(segments);
        List<EncodedText> out = new ArrayList<>(plans.length);
        for (Plan p : plans) {
            out.add(p.finish(cfg.keepSpecialTokens(), model.normalizePooled(), tokenizer));
        }
        return out;
    }

    /**
     * Splits {@code [0, n)} into windows of {@code w} content tokens with the configured overlap (the last window is
     * aligned to the end); each token is owned by the window whose centre it is closest to (ties: earlier window).
     */
    private void addWindows(Plan plan, int n, int w, List<Segment> segments) {
        int stride = w - Math.min(cfg.windowOverlap(), w / 2);
        List<Integer> starts = new ArrayList<>();
        for (int s = 0; ; s += stride) {
            int start = Math.min(s, n - w);
            starts.add(start);
            if (start + w >= n) {
                break;
            }
        }
        int k = starts.size();
        int[] ownFrom = new int[k];
        int[] ownTo = new int[k];
        Arrays.fill(ownFrom, -1);
        int cur = 0;
        for (int t = 0; t < n; t++) {
            while (starts.get(cur) + w <= t) {
                cur++;
            }
            int best = cur;
            double bestDist = Math.abs(t - (starts.get(cur) + (w - 1) / 2.0));
            for (int j = cur + 1; j < k && starts.get(j) <= t; j++) {
                double d = Math.abs(t - (starts.get(j) + (w - 1) / 2.0));
                if (d < bestDist) {
                    best = j;
                    bestDist = d;
                }
            }
            if (ownFrom[best] < 0) {
                ownFrom[best] = t;
            }
            ownTo[best] = t + 1;
        }
        for (int j = 0; j < k; j++) {
            int s = starts.get(j);
            int from = ownFrom[j] < 0 ? s : ownFrom[j];
            int to = ownFrom[j] < 0 ? s : ownTo[j];
            segments.add(new Segment(plan, s, s + w, from, to, j == 0, j == k - 1));
        }
    }

    private void runSegments(List<Segment> segments) {
        if (segments.isEmpty()) {
            return;
        }
        segments.sort((a, b) -> Integer.compare(a.length(), b.length()));
        Scratch scratch = scratchPool.poll();
        if (scratch == null) {
            scratch = new Scratch();
        }
        try {
            int i = 0;
            while (i < segments.size()) {
                int j = i + 1;
                while (j < segments.size() && j - i < cfg.batchSize()
                    && (long) (j - i + 1) * segments.get(j).length() <= cfg.maxBatchPositions()) {
                    j++;
                }
                runBatch(segments.subList(i, j), scratch);
                i = j;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("[mover] model [" + model.name() + "] inference failed: " + e.getMessage(), e);
        } finally {
            scratchPool.offer(scratch);
        }
    }

    private void runBatch(List<Segment> batch, Scratch s) throws OrtException {
        int b = batch.size();
        int len = batch.get(b - 1).length();
        int count = b * len;
        s.ensure(count, dims, rowsOutput != null);
        LongBuffer ids = s.ids;
        LongBuffer mask = s.mask;
        int cls = tokenizer.clsId();
        int sep = tokenizer.sepId();
        long pad = tokenizer.padId();
        for (int r = 0; r < b; r++) {
            Segment seg = batch.get(r);
            int[] tokIds = seg.plan.tokens.ids();
            int base = r * len;
            int l = seg.length();
            ids.put(base, cls);
            mask.put(base, 1);
            for (int t = seg.from; t < seg.to; t++) {
                int p = base + 1 + t - seg.from;
                ids.put(p, tokIds[t]);
                mask.put(p, 1);
            }
            ids.put(base + l - 1, sep);
            mask.put(base + l - 1, 1);
            for (int p = base + l; p < base + len; p++) {
                ids.put(p, pad);
                mask.put(p, 0);
            }
        }
        long[] shape = {b, len};
        Map<String, OnnxTensor> inputs = new HashMap<>(4);
        OnnxTensor outTensor = null;
        OnnxTensor rowsTensor = null;
        try {
            inputs.put(INPUT_IDS, OnnxTensor.createTensor(env, slice(ids, count), shape));
            inputs.put(ATTENTION_MASK, OnnxTensor.createTensor(env, slice(mask, count), shape));
            if (hasTokenTypes) {
                inputs.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, slice(s.types, count), shape));
            }
            FloatBuffer out = slice(s.out, count * dims);
            outTensor = OnnxTensor.createTensor(env, out, new long[] {b, len, dims});
            Map<String, OnnxTensor> outputs;
            FloatBuffer rows = out;
            if (rowsOutput == null) {
                outputs = Collections.singletonMap(model.output(), outTensor);
            } else {
                rows = slice(s.rows, count * dims);
                rowsTensor = OnnxTensor.createTensor(env, rows, new long[] {b, len, dims});
                outputs = new HashMap<>(4);
                outputs.put(model.output(), outTensor);
                outputs.put(rowsOutput, rowsTensor);
            }
            passes.addAndGet(b);
            try (OrtSession.Result ignored = session.run(inputs, outputs)) {
                for (int r = 0; r < b; r++) {
                    batch.get(r).collect(out, rows, r * len * dims, dims, model.pooling());
                }
            }
        } finally {
            for (OnnxTensor t : inputs.values()) {
                t.close();
            }
            if (outTensor != null) {
                outTensor.close();
            }
            if (rowsTensor != null) {
                rowsTensor.close();
            }
        }
    }

    private static LongBuffer slice(LongBuffer b, int count) {
        LongBuffer d = b.duplicate();
        d.position(0).limit(count);
        return d.slice();
    }

    private static FloatBuffer slice(FloatBuffer b, int count) {
        FloatBuffer d = b.duplicate();
        d.position(0).limit(count);
        return d.slice();
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                session.close();
            } catch (OrtException e) {
                throw new IllegalStateException("[mover] cannot close model [" + model.name() + "]: " + e.getMessage(), e);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "TextEncoder[" + model.name() + ", " + cfg + "]";
    }

    /** Direct buffers ONNX Runtime reads from and writes into, grown on demand. */
    private static final class Scratch {
        LongBuffer ids;
        LongBuffer mask;
        LongBuffer types;
        FloatBuffer out;
        /** The token rows when they come from another output than the pooled one (hidden_layer). */
        FloatBuffer rows;

        void ensure(int count, int dims, boolean separateRows) {
            if (ids == null || ids.capacity() < count) {
                int cap = Math.max(count, 1024);
                ids = longs(cap);
                mask = longs(cap);
                types = longs(cap); // zeros: single-sequence inputs
            }
            if (out == null || out.capacity() < count * dims) {
                out = floats(Math.max(count, 1024) * dims);
            }
            if (separateRows && (rows == null || rows.capacity() < count * dims)) {
                rows = floats(Math.max(count, 1024) * dims);
            }
        }

        private static FloatBuffer floats(int n) {
            return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        private static LongBuffer longs(int n) {
            return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
        }
    }

    /** One text's tokens and the arrays its segments fill. */
    private static final class Plan {
        final int textLength;
        final BertTokenizer.Tokens tokens;
        final int n;
        final boolean truncated;
        final int dims;
        final float[] vectors;
        final double[] pooledSum;
        double pooledWeight;
        final float[] clsRow;
        final float[] sepRow;

        Plan(int textLength, BertTokenizer.Tokens tokens, int n, boolean truncated, int dims) {
            this.textLength = textLength;
            this.tokens = tokens;
            this.n = n;
            this.truncated = truncated;
            this.dims = dims;
            this.vectors = new float[n * dims];
            this.pooledSum = new double[dims];
            this.clsRow = new float[dims];
            this.sepRow = new float[dims];
        }

        EncodedText finish(boolean keepSpecial, boolean normalize, BertTokenizer tok) {
            float[] pooled = new float[dims];
            if (n > 0 && pooledWeight > 0) {
                double norm = 0;
                for (int d = 0; d < dims; d++) {
                    double v = pooledSum[d] / pooledWeight;
                    pooledSum[d] = v;
                    norm += v * v;
                }
                double scale = normalize ? 1.0 / Math.max(Math.sqrt(norm), 1e-12) : 1.0;
                for (int d = 0; d < dims; d++) {
                    pooled[d] = (float) (pooledSum[d] * scale);
                }
            }
            int[] ids = Arrays.copyOf(tokens.ids(), n);
            int[] starts = Arrays.copyOf(tokens.starts(), n);
            int[] ends = Arrays.copyOf(tokens.ends(), n);
            if (!keepSpecial || n == 0) {
                return new EncodedText(dims, vectors, ids, starts, ends, pooled, truncated);
            }
            int m = n + 2;
            float[] v = new float[m * dims];
            System.arraycopy(clsRow, 0, v, 0, dims);
            System.arraycopy(vectors, 0, v, dims, n * dims);
            System.arraycopy(sepRow, 0, v, (m - 1) * dims, dims);
            int[] ids2 = new int[m];
            int[] st2 = new int[m];
            int[] en2 = new int[m];
            ids2[0] = tok.clsId();
            System.arraycopy(ids, 0, ids2, 1, n);
            System.arraycopy(starts, 0, st2, 1, n);
            System.arraycopy(ends, 0, en2, 1, n);
            ids2[m - 1] = tok.sepId();
            st2[m - 1] = textLength;
            en2[m - 1] = textLength;
            return new EncodedText(dims, v, ids2, st2, en2, pooled, truncated);
        }
    }

    /** One model pass over content tokens {@code [from, to)} of a text, owning rows {@code [ownFrom, ownTo)}. */
    private static final class Segment {
        final Plan plan;
        final int from;
        final int to;
        final int ownFrom;
        final int ownTo;
        final boolean first;
        final boolean last;

        Segment(Plan plan, int from, int to, int ownFrom, int ownTo, boolean first, boolean last) {
            this.plan = plan;
            this.from = from;
            this.to = to;
            this.ownFrom = ownFrom;
            this.ownTo = ownTo;
            this.first = first;
            this.last = last;
        }

        /** Positions including [CLS] and [SEP]. */
        int length() {
            return to - from + 2;
        }

        /** Token rows (and kept [CLS]/[SEP] rows) from {@code rows}, the pooled vector from {@code out}. */
        void collect(FloatBuffer out, FloatBuffer rows, int base, int dims, ModelDescriptor.Pooling pooling) {
            for (int t = ownFrom; t < ownTo; t++) {
                rows.get(base + (t - from + 1) * dims, plan.vectors, t * dims, dims);
            }
            if (first) {
                rows.get(base, plan.clsRow, 0, dims);
            }
            int l = length();
            if (last) {
                rows.get(base + (l - 1) * dims, plan.sepRow, 0, dims);
            }
            // The model's pooling over this pass, weighted by the tokens this pass owns.
            double w = ownTo - ownFrom;
            if (w <= 0) {
                return;
            }
            double[] acc = plan.pooledSum;
            if (pooling == ModelDescriptor.Pooling.CLS) {
                for (int d = 0; d < dims; d++) {
                    acc[d] += w * out.get(base + d);
                }
            } else {
                double scale = w / l;
                for (int p = 0; p < l; p++) {
                    int row = base + p * dims;
                    for (int d = 0; d < dims; d++) {
                        acc[d] += scale * out.get(row + d);
                    }
                }
            }
            plan.pooledWeight += w;
        }
    }
}
