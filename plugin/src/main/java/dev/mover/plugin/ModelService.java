package dev.mover.plugin;

import dev.mover.encoder.EncodedText;
import dev.mover.encoder.EncoderConfig;
import dev.mover.encoder.ModelDescriptor;
import dev.mover.encoder.ModelRegistry;
import dev.mover.encoder.OrtRuntime;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.EncodedTextCodec;
import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.encoder.summarize.Summarizer;
import dev.mover.scoring.TokenMatrix;

import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.Settings;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's models: the bundled defaults in the plugin's {@code models/} folder plus those named by
 * {@code mover.models.<name>.path}. Descriptors are read eagerly (mappings check dimensions against them); ONNX
 * sessions open on first use. Also holds the node's bounds and a small cache of encoded query texts, so the shards
 * of one request on this node encode the query once.
 */
public final class ModelService implements Closeable {
    private static volatile ModelService instance;

    private final ModelRegistry registry;
    private GeneratorService generators;
    private final Map<String, ModelDescriptor> descriptors;
    private final Map<String, Long> fingerprints = new ConcurrentHashMap<>();
    private final Map<String, QueryVectors> queryCache = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, QueryVectors> eldest) {
            return size() > 256;
        }
    });
    private final java.util.concurrent.atomic.LongAdder queriesEncoded = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder queriesShipped = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder hitsRescored = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder exactSolves = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder prunedSolves = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder unconverged = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder docsEncoded = new java.util.concurrent.atomic.LongAdder();
    private volatile int maxSinkhornIterations;
    private volatile org.elasticsearch.common.breaker.CircuitBreaker requestBreaker;
    private volatile int maxWindowSize;
    private volatile int maxQueryTokens;
    private volatile int summarizeMaxChars;
    private volatile int summarizeMaxHits;
    private volatile int summarizeMaxSentences;
    private volatile long summarizeTimeBudgetMillis;

    /** The token vectors of one query text, ready for the scorer. */
    public record QueryVectors(String model, long fingerprint, String text, TokenMatrix matrix, int[] starts, int[] ends,
                               float[] pooled) {
        String token(int i) {
            return text.substring(starts[i], ends[i]);
        }
    }

    /** Codec bytes of one document plus its pooled vector (may be null). */
    public record Encoded(byte[] bytes, float[] pooled, int tokens, boolean truncated) {}

    /** One extracted sentence. */
    public record Sentence(String text, int start, int end, double score) {}

    ModelService(Map<String, Path> dirs, Settings settings) {
        EncoderConfig cfg = EncoderConfig.builder()
            .intraOpThreads(MoverSettings.INTRA_OP_THREADS.get(settings))
            .maxTokens(MoverSettings.MAX_DOC_TOKENS.get(settings))
            .longText(EncoderConfig.LongText.WINDOWS)
            .onOverflow(EncoderConfig.Overflow.TRUNCATE)
            .build();
        Map<String, ModelDescriptor> ds = new TreeMap<>();
        for (Map.Entry<String, Path> e : dirs.entrySet()) {
            ds.put(e.getKey(), ModelDescriptor.load(e.getValue()));
        }
        this.descriptors = Collections.unmodifiableMap(ds);
        this.registry = new ModelRegistry(dirs, cfg);
        this.maxWindowSize = MoverSettings.MAX_WINDOW_SIZE.get(settings);
        this.maxSinkhornIterations = MoverSettings.MAX_SINKHORN_ITERATIONS.get(settings);
        this.maxQueryTokens = MoverSettings.MAX_QUERY_TOKENS.get(settings);
        this.summarizeMaxChars = MoverSettings.SUMMARIZE_MAX_CHARS.get(settings);
        this.summarizeMaxHits = MoverSettings.SUMMARIZE_MAX_HITS.get(settings);
        this.summarizeMaxSentences = MoverSettings.SUMMARIZE_MAX_SENTENCES.get(settings);
        this.summarizeTimeBudgetMillis = MoverSettings.SUMMARIZE_TIME_BUDGET.get(settings).millis();
    }

    /** Builds the node's service from the plugin folder and node settings, and makes it reachable to parsers. */
    static ModelService create(Settings settings, Path configPath) {
        Path pluginDir = pluginDir();
        Path nativeDir = pluginDir.resolve("native");
        if (Files.isDirectory(nativeDir)) {
            OrtRuntime.useNativeLibraryDir(nativeDir);
        }
        Map<String, Path> dirs = new TreeMap<>();
        Path bundled = pluginDir.resolve("models");
        if (Files.isDirectory(bundled)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(bundled, Files::isDirectory)) {
                for (Path d : ds) {
                    dirs.put(d.getFileName().toString(), d);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("[mover] cannot list bundled models in [" + bundled + "]", e);
            }
        }
        for (String name : MoverSettings.MODEL_PATH.getNamespaces(settings)) {
            String p = MoverSettings.MODEL_PATH.getConcreteSettingForNamespace(name).get(settings);
            Path dir = configPath == null ? Path.of(p) : configPath.resolve(p);
            dirs.put(name, dir.normalize());
        }
        ModelService s = new ModelService(dirs, settings);
        org.elasticsearch.logging.LogManager.getLogger(ModelService.class).info(
            "mover: models {}, cost kernels [{}]", dirs.keySet(), dev.mover.scoring.CostMatrix.implementation());
        s.generators = new GeneratorService(settings, configPath);
        instance = s;
        return s;
    }

    static Path pluginDir() {
        try {
            Path jar = Path.of(MoverPlugin.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("[mover] cannot locate the plugin folder", e);
        }
    }

    static ModelService instance() {
        ModelService s = instance;
        if (s == null) {
            throw new IllegalStateException("[mover] plugin is not initialised on this node");
        }
        return s;
    }

    void bindClusterSettings(ClusterSettings cs) {
        cs.addSettingsUpdateConsumer(MoverSettings.MAX_WINDOW_SIZE, v -> maxWindowSize = v);
        cs.addSettingsUpdateConsumer(MoverSettings.MAX_SINKHORN_ITERATIONS, v -> maxSinkhornIterations = v);
        cs.addSettingsUpdateConsumer(MoverSettings.MAX_QUERY_TOKENS, v -> maxQueryTokens = v);
        cs.addSettingsUpdateConsumer(MoverSettings.SUMMARIZE_MAX_CHARS, v -> summarizeMaxChars = v);
        cs.addSettingsUpdateConsumer(MoverSettings.SUMMARIZE_MAX_HITS, v -> summarizeMaxHits = v);
        cs.addSettingsUpdateConsumer(MoverSettings.SUMMARIZE_MAX_SENTENCES, v -> summarizeMaxSentences = v);
        cs.addSettingsUpdateConsumer(MoverSettings.SUMMARIZE_TIME_BUDGET, v -> summarizeTimeBudgetMillis = v.millis());
    }

    public Set<String> names() {
        return descriptors.keySet();
    }

    ModelDescriptor descriptor(String name) {
        ModelDescriptor d = descriptors.get(name);
        if (d == null) {
            throw new IllegalArgumentException("unknown model [" + name + "]; known models " + names());
        }
        return d;
    }

    int dims(String name) {
        return descriptor(name).dims();
    }

    TextEncoder encoder(String name) {
        descriptor(name);
        return registry.get(name);
    }

    long fingerprint(String name) {
        return fingerprints.computeIfAbsent(name, n -> encoder(n).fingerprint());
    }

    int maxWindowSize() {
        return maxWindowSize;
    }

    void setRequestBreaker(org.elasticsearch.common.breaker.CircuitBreaker breaker) {
        this.requestBreaker = breaker;
    }

    /** The node's request circuit breaker, against which rescoring accounts its vectors and cost matrices; may be null. */
    org.elasticsearch.common.breaker.CircuitBreaker requestBreaker() {
        return requestBreaker;
    }

    int maxSinkhornIterations() {
        return maxSinkhornIterations;
    }

    void countShippedQuery() {
        queriesShipped.increment();
    }

    void countRescore(int hits, int exact, int pruned, int notConverged) {
        hitsRescored.add(hits);
        exactSolves.add(exact);
        prunedSolves.add(pruned);
        unconverged.add(notConverged);
    }

    /** Counters since the node started, for {@code GET _mover/stats}. */
    Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("models", names());
        m.put("open_models", registry.openModels());
        m.put("documents_encoded", docsEncoded.sum());
        m.put("queries_encoded", queriesEncoded.sum());
        m.put("queries_received_encoded", queriesShipped.sum());
        m.put("hits_rescored", hitsRescored.sum());
        m.put("exact_solves", exactSolves.sum());
        m.put("solves_skipped_by_pruning", prunedSolves.sum());
        m.put("sinkhorn_unconverged", unconverged.sum());
        return m;
    }

    int summarizeMaxChars() {
        return summarizeMaxChars;
    }

    int summarizeMaxHits() {
        return summarizeMaxHits;
    }

    int summarizeMaxSentences() {
        return summarizeMaxSentences;
    }

    /** Encodes a document text to codec bytes (int8 with a per-token scale) and its pooled vector. */
    Encoded encodeDocument(String model, String text) {
        TextEncoder enc = encoder(model);
        EncodedText t = enc.encode(text);
        docsEncoded.increment();
        byte[] bytes = EncodedTextCodec.encode(t, TokenVectorCodec.Encoding.INT8, enc.fingerprint());
        return new Encoded(bytes, t.tokens() == 0 ? null : t.pooled(), t.tokens(), t.truncated());
    }

    /** Checks that stored bytes decode and were made by {@code model} with {@code dims} dimensions. */
    void validateStored(String model, int dims, byte[] buf, int off, int len, String field) {
        TokenVectorCodec.Decoded d;
        try {
            d = TokenVectorCodec.decode(buf, off, len);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + field + "] holds no valid token vectors: " + e.getMessage(), e);
        }
        if (d.dims() != dims) {
            throw new IllegalArgumentException("[" + field + "] vectors have [" + d.dims() + "] dimensions but model [" + model
                + "] produces [" + dims + "]");
        }
        if (d.fingerprint() != fingerprint(model)) {
            throw new IllegalArgumentException("[" + field + "] vectors were made by another model than [" + model
                + "] (fingerprint mismatch)");
        }
    }

    /** Encodes a query text with {@code model}, once per node for repeated texts. */
    QueryVectors encodeQuery(String model, String text) {
        String key = model + '\u0000' + text;
        QueryVectors cached = queryCache.get(key);
        if (cached != null) {
            return cached;
        }
        TextEncoder enc = encoder(model);
        EncodedText t = enc.encode(text);
        queriesEncoded.increment();
        if (t.tokens() == 0) {
            throw new IllegalArgumentException("[query_text] encodes to no tokens");
        }
        if (t.tokens() > maxQueryTokens) {
            throw new IllegalArgumentException("[query_text] encodes to [" + t.tokens() + "] tokens but the limit is ["
                + maxQueryTokens + "] (node setting [" + MoverSettings.MAX_QUERY_TOKENS.getKey() + "])");
        }
        QueryVectors q = new QueryVectors(model, enc.fingerprint(), text, TokenMatrix.of(t.vectors(), t.tokens(), t.dims()),
            t.starts(), t.ends(), t.pooled());
        queryCache.put(key, q);
        return q;
    }

    /** The default summarizer model: the Chinese one for mostly-CJK text, else the English one. */
    String modelFor(String text) {
        int cjk = 0;
        int letters = 0;
        for (int i = 0; i < text.length() && i < 4000; i++) {
            char c = text.charAt(i);
            if (Character.isLetter(c)) {
                letters++;
                if (Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN) {
                    cjk++;
                }
            }
        }
        String preferred = letters > 0 && cjk * 3 >= letters ? "bge-small-zh-v15" : "all-minilm-l6-v2";
        if (descriptors.containsKey(preferred)) {
            return preferred;
        }
        return names().iterator().next();
    }

    GeneratorService generators() {
        return generators;
    }

    /** The selected units (sentences, or clauses in compressive mode) in document order, and their joined text. */
    record Extract(List<Sentence> sentences, String text, boolean truncated) {}

    /** Summary of {@code text} in {@code mode}: up to {@code maxSentences} units, in document order. */
    Extract summarize(String model, String text, String queryText, int maxSentences, Summarizer.Mode mode) {
        TextEncoder enc = encoder(model == null ? modelFor(text) : model);
        Summarizer summarizer = new Summarizer(texts -> {
            List<EncodedText> out = enc.encodeBatch(texts);
            float[][] vs = new float[out.size()][];
            for (int i = 0; i < vs.length; i++) {
                vs[i] = out.get(i).pooled();
            }
            return vs;
        }, Summarizer.Settings.DEFAULT.withMaxCharsRead(summarizeMaxChars).withTimeBudgetMillis(summarizeTimeBudgetMillis));
        Summarizer.Summary s = summarizer.summarize(text, queryText, Summarizer.Budget.units(maxSentences), mode);
        List<Sentence> out = new ArrayList<>(s.units().size());
        for (Summarizer.Unit u : s.units()) {
            out.add(new Sentence(u.text(), u.span().start(), u.span().end(), u.score()));
        }
        return new Extract(out, s.text(), s.truncated());
    }

    @Override
    public void close() {
        registry.close();
        if (generators != null) {
            generators.close();
        }
        if (instance == this) {
            instance = null;
        }
    }
}
