package dev.mover.encoder.generate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mover.encoder.OrtRuntime;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Generator backed by an encoder-decoder model exported to ONNX in HuggingFace Optimum's three-file layout,
 * decoded by beam search with SPACES' ideas ({@link DecodingOptions}: sparse top-k softmax, copy bias toward source
 * n-grams, n-gram repetition blocking, length penalty), bounded by max new tokens and a time budget.
 *
 * <p><b>Model directory.</b>
 * <ul>
 *   <li>{@code encoder_model.onnx}: inputs {@code input_ids} (int64 {@code [batch, src]}) and optionally
 *       {@code attention_mask}; first output (or {@code last_hidden_state}) float {@code [batch, src, hidden]}.</li>
 *   <li>{@code decoder_model.onnx} (first step, no past): inputs {@code input_ids} {@code [batch, tgt]},
 *       {@code encoder_hidden_states}, optionally {@code encoder_attention_mask}; outputs {@code logits} float
 *       {@code [batch, tgt, vocab]} and {@code present.{i}.decoder.key|value} (and usually
 *       {@code present.{i}.encoder.key|value}), each {@code [batch, heads, len, head_dim]}.</li>
 *   <li>{@code decoder_with_past_model.onnx} (later steps): {@code input_ids} {@code [batch, 1]},
 *       {@code encoder_attention_mask}, {@code encoder_hidden_states} if it declares it, and
 *       {@code past_key_values.{i}.decoder.key|value} plus {@code past_key_values.{i}.encoder.key|value}; outputs
 *       {@code logits} and {@code present.{i}.decoder.key|value} (encoder presents optional). Every
 *       {@code present.X} output is fed back as {@code past_key_values.X} at the next step, reordered to follow the
 *       beams: the presents stay in ONNX Runtime's memory and are reordered by a one-{@code Gather}-per-past graph
 *       written at load ({@link #reorderGraph(int)}), or fed back as they are when every beam continues itself. Encoder pasts ({@code past_key_values.{i}.encoder.*}) depend only on the source, so they are taken
 *       from the first step once and replicated per batch size (never copied or reordered again); encoder presents
 *       a with-past model may return are ignored.</li>
 *   <li>{@code tokenizer.json} (see {@link SubwordTokenizer}) and {@code generator.json}:
 *       <pre>{"pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0, "num_layers": 6, "num_heads": 8,
 * "max_length": 128, "max_source_tokens": 512, "use_cache": true, "source_prefix": "summarize: ",
 * "intra_op_threads": 1, "decoding": {"num_beams": 3, "top_k": 10, "copy_bias": 1.0,
 * "no_repeat_ngram_size": 3, "length_penalty": 1.0, "min_new_tokens": 0}}</pre>
 *       {@code use_cache: false} (or a missing {@code decoder_with_past_model.onnx}) runs {@code decoder_model.onnx}
 *       on the whole prefix at every step instead. Without {@code generator.json}, the {@code config.json} (and
 *       {@code generation_config.json}) an Optimum export carries is read instead (see
 *       {@link #fromHfConfig(JsonNode, JsonNode)}).</li>
 * </ul>
 *
 * <p><b>Source.</b> The request's units joined ({@link GenerationRequest#sourceText()}), after
 * {@code source_prefix}, encoded with the tokenizer's special tokens and cut to {@code max_source_tokens} (a
 * warning says so). The query is not given to the model (a seq2seq summarizer has no slot for it); the extract
 * stage has already made the units query-aware.
 *
 * <p><b>Bounds.</b> At most {@code min(maxNewTokens, max_length)} decoder steps. Before each step the time budget
 * is checked, and when it has run out the best hypothesis so far is returned with
 * {@link GenerationResult.StopReason#TIME} and a warning. A watchdog thread (one per generator, daemon) also sets
 * ONNX Runtime's terminate flag on the call's {@code RunOptions} when the budget ends, so a single long model run
 * is cut too: a cut decoder step ends the search like the budget check, a cut encoder run is a
 * {@link GenerationException} with {@link GenerationException#isTimeout()}.
 *
 * <p>Instances are thread-safe (ONNX Runtime sessions are); {@link #close()} releases the sessions.
 */
public final class OnnxSeq2SeqGenerator implements Generator {

    /** The generator's name. */
    public static final String NAME = "onnx_seq2seq";
    /** The descriptor file in the model directory. */
    public static final String DESCRIPTOR_FILE = "generator.json";
    /** HuggingFace model config, read when there is no {@value #DESCRIPTOR_FILE}. */
    public static final String HF_CONFIG_FILE = "config.json";
    /** HuggingFace generation config, read with {@value #HF_CONFIG_FILE} when present. */
    public static final String HF_GENERATION_CONFIG_FILE = "generation_config.json";

    private static final String PAST = "past_key_values.";
    private static final String PRESENT = "present.";

    /**
     * The parsed {@code generator.json}.
     *
     * @param padTokenId           pad id
     * @param eosTokenId           end-of-sequence id
     * @param decoderStartTokenId  the first decoder input (T5: pad, BART: eos)
     * @param numLayers            decoder layers (one past key/value pair each)
     * @param numHeads             attention heads (second dimension of the past)
     * @param maxLength            maximum tokens generated
     * @param maxSourceTokens      maximum encoder input length
     * @param useCache             whether to use {@code decoder_with_past_model.onnx}
     * @param sourcePrefix         text put before the source (e.g. {@code "summarize: "}), may be empty
     * @param intraOpThreads       ONNX Runtime intra-op threads per session
     * @param decoding             default decoding options
     */
    public record Descriptor(int padTokenId, int eosTokenId, int decoderStartTokenId, int numLayers, int numHeads,
                             int maxLength, int maxSourceTokens, boolean useCache, String sourcePrefix, int intraOpThreads,
                             DecodingOptions decoding) {}

    private final Path dir;
    private final Descriptor descriptor;
    private final DecodingOptions options;
    private final SubwordTokenizer tokenizer;
    private final OrtEnvironment env;
    private final OrtSession encoder;
    private final OrtSession decoder;
    private final OrtSession decoderWithPast;
    private final String encoderOutput;
    private final boolean encoderTakesMask;
    private final boolean decoderTakesMask;
    private final boolean pastTakesHidden;
    private final boolean pastTakesMask;
    private final List<String> pastInputs;
    /** The decoder pasts (not the encoder ones), in the order of the reorder graph's inputs. */
    private final List<String> decoderPasts;
    /** A one-node-per-past ONNX graph, {@code out_k = Gather(in_k, indices, axis=0)}: reorders the pasts natively. */
    private final OrtSession reorder;
    private LongSupplier clock = System::nanoTime;
    private long watchdogGraceMillis;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mover-onnx-seq2seq-watchdog");
        t.setDaemon(true);
        return t;
    });

    private OnnxSeq2SeqGenerator(Path dir, Descriptor descriptor, DecodingOptions options, SubwordTokenizer tokenizer,
                                 OrtEnvironment env, OrtSession encoder, OrtSession decoder, OrtSession decoderWithPast)
        throws OrtException {
        this.dir = dir;
        this.descriptor = descriptor;
        this.options = options;
        this.tokenizer = tokenizer;
        this.env = env;
        this.encoder = encoder;
        this.decoder = decoder;
        this.decoderWithPast = decoderWithPast;
        String where = "model [" + dir + "]";
        requireInputs(encoder, "encoder_model.onnx", where, "input_ids");
        this.encoderTakesMask = encoder.getInputNames().contains("attention_mask");
        this.encoderOutput = encoder.getOutputNames().contains("last_hidden_state") ? "last_hidden_state"
            : encoder.getOutputNames().iterator().next();
        if (encoder.getOutputInfo().get(encoderOutput).getInfo() instanceof TensorInfo eo && eo.type != OnnxJavaType.FLOAT) {
            throw new IllegalArgumentException("[" + NAME + "] " + where + " encoder_model.onnx output [" + encoderOutput
                + "] must be float32 but is [" + eo.type + "]");
        }
        requireInputs(decoder, "decoder_model.onnx", where, "input_ids", "encoder_hidden_states");
        requireOutputs(decoder, "decoder_model.onnx", where, "logits");
        this.decoderTakesMask = decoder.getInputNames().contains("encoder_attention_mask");
        checkFloatLogits(decoder, "decoder_model.onnx", where);
        if (decoderWithPast != null) {
            requireInputs(decoderWithPast, "decoder_with_past_model.onnx", where, "input_ids");
            requireOutputs(decoderWithPast, "decoder_with_past_model.onnx", where, "logits");
            this.pastTakesHidden = decoderWithPast.getInputNames().contains("encoder_hidden_states");
            this.pastTakesMask = decoderWithPast.getInputNames().contains("encoder_attention_mask");
            List<String> pasts = new ArrayList<>();
            for (String in : decoderWithPast.getInputNames()) {
                if (in.startsWith(PAST)) {
                    pasts.add(in);
                }
            }
            int expectedDecoder = 2 * descriptor.numLayers();
            long decoderPastCount = pasts.stream().filter(p -> p.contains(".decoder.")).count();
            if (decoderPastCount != expectedDecoder) {
                throw new IllegalArgumentException("[" + NAME + "] " + where + " decoder_with_past_model.onnx must take ["
                    + expectedDecoder + "] decoder past inputs (2 x num_layers [" + descriptor.numLayers() + "]) but takes ["
                    + decoderPastCount + "]: " + new TreeSet<>(pasts));
            }
            for (String p : pasts) {
                String present = PRESENT + p.substring(PAST.length());
                boolean fromFirst = decoder.getOutputNames().contains(present);
                if (!fromFirst) {
                    throw new IllegalArgumentException("[" + NAME + "] " + where + " decoder_model.onnx must output [" + present
                        + "] to feed decoder_with_past_model.onnx input [" + p + "]");
                }
                if (p.contains(".decoder.") && !decoderWithPast.getOutputNames().contains(present)) {
                    throw new IllegalArgumentException("[" + NAME + "] " + where + " decoder_with_past_model.onnx must output ["
                        + present + "]");
                }
                TensorInfo pastInfo = (TensorInfo) decoderWithPast.getInputInfo().get(p).getInfo();
                if (pastInfo.type != OnnxJavaType.FLOAT) {
                    throw new IllegalArgumentException("[" + NAME + "] " + where + " input [" + p + "] must be float32 but is ["
                        + pastInfo.type + "]");
                }
                long[] shape = pastInfo.getShape();
                if (shape.length != 4 || (shape[1] > 0 && shape[1] != descriptor.numHeads())) {
                    throw new IllegalArgumentException("[" + NAME + "] " + where + " input [" + p
                        + "] must be [batch, num_heads=" + descriptor.numHeads() + ", len, head_dim] but is " + java.util.Arrays.toString(shape));
                }
            }
            this.pastInputs = List.copyOf(pasts);
            this.decoderPasts = pasts.stream().filter(p -> !isEncoderPast(p)).toList();
            try (OrtSession.SessionOptions so = reorderOptions()) {
                this.reorder = env.createSession(reorderGraph(decoderPasts.size()), so);
            }
        } else {
            this.pastTakesHidden = false;
            this.pastTakesMask = false;
            this.pastInputs = List.of();
            this.decoderPasts = List.of();
            this.reorder = null;
        }
    }

    private static OrtSession.SessionOptions reorderOptions() throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(1);
        so.setInterOpNumThreads(1);
        return so;
    }

    /** {@code out_k = Gather(in_k, indices, axis = 0)} for {@code k < n}: rows of every past picked by beam parent. */
    static byte[] reorderGraph(int n) {
        OnnxGraphWriter g = new OnnxGraphWriter("mover_beam_reorder");
        g.input("indices", OnnxGraphWriter.INT64, "beams");
        for (int k = 0; k < n; k++) {
            g.input("in" + k, OnnxGraphWriter.FLOAT, "batch", "heads", "len", "head_dim");
            g.node("Gather", "out" + k, List.of("in" + k, "indices"), OnnxGraphWriter.Attr.i("axis", 0));
            g.output("out" + k, OnnxGraphWriter.FLOAT, "beams", "heads", "len", "head_dim");
        }
        return g.model(13);
    }

    /** Loads the model directory with the decoding options of its {@code generator.json}. */
    public static OnnxSeq2SeqGenerator load(Path dir) {
        return load(dir, null);
    }

    /**
     * Loads the model directory.
     *
     * @param options decoding options overriding the descriptor's, or {@code null}
     * @throws IllegalArgumentException naming the directory and the missing file, bad descriptor value or input
     */
    public static OnnxSeq2SeqGenerator load(Path dir, DecodingOptions options) {
        Path abs = dir.toAbsolutePath().normalize();
        String where = "[" + NAME + "] model [" + abs + "]";
        for (String f : new String[] {"encoder_model.onnx", "decoder_model.onnx", "tokenizer.json"}) {
            if (!Files.isRegularFile(abs.resolve(f))) {
                throw new IllegalArgumentException(where + " is missing [" + f + "]");
            }
        }
        Descriptor d;
        if (Files.isRegularFile(abs.resolve(DESCRIPTOR_FILE))) {
            d = readDescriptor(readJson(abs.resolve(DESCRIPTOR_FILE), where), DESCRIPTOR_FILE, where);
        } else if (Files.isRegularFile(abs.resolve(HF_CONFIG_FILE))) {
            Path gen = abs.resolve(HF_GENERATION_CONFIG_FILE);
            d = readDescriptor(fromHfConfig(readJson(abs.resolve(HF_CONFIG_FILE), where),
                Files.isRegularFile(gen) ? readJson(gen, where) : null), HF_CONFIG_FILE, where);
        } else {
            throw new IllegalArgumentException(where + " is missing [" + DESCRIPTOR_FILE + "] (or a HuggingFace ["
                + HF_CONFIG_FILE + "])");
        }
        SubwordTokenizer tok = SubwordTokenizer.load(abs.resolve("tokenizer.json"));
        boolean withPast = d.useCache() && Files.isRegularFile(abs.resolve("decoder_with_past_model.onnx"));
        OrtEnvironment env = OrtRuntime.environment();
        List<OrtSession> opened = new ArrayList<>();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(d.intraOpThreads());
            so.setInterOpNumThreads(1);
            OrtSession enc = open(env, abs.resolve("encoder_model.onnx"), so, opened);
            OrtSession dec = open(env, abs.resolve("decoder_model.onnx"), so, opened);
            OrtSession past = withPast ? open(env, abs.resolve("decoder_with_past_model.onnx"), so, opened) : null;
            return new OnnxSeq2SeqGenerator(abs, d, options == null ? d.decoding() : options, tok, env, enc, dec, past);
        } catch (OrtException | RuntimeException e) {
            for (OrtSession s : opened) {
                try {
                    s.close();
                } catch (OrtException ignored) {
                    // closing after a failed load
                }
            }
            if (e instanceof IllegalArgumentException iae) {
                throw iae;
            }
            throw new IllegalArgumentException(where + " cannot be loaded: " + e.getMessage(), e);
        }
    }

    private static OrtSession open(OrtEnvironment env, Path file, OrtSession.SessionOptions so, List<OrtSession> opened)
        throws OrtException {
        OrtSession s = env.createSession(file.toString(), so);
        opened.add(s);
        return s;
    }

    private static JsonNode readJson(Path file, String where) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(where + " cannot read [" + file.getFileName() + "]: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(where + " [" + file.getFileName() + "] must be a JSON object");
        }
        return root;
    }

    /**
     * A generator.json equivalent from a HuggingFace {@code config.json} (T5 keys {@code num_decoder_layers|num_layers},
     * {@code num_heads}; BART/Marian/Pegasus keys {@code decoder_layers}, {@code decoder_attention_heads},
     * {@code max_position_embeddings}; the summarization prefix of {@code task_specific_params}) and, when present,
     * {@code generation_config.json} ({@code max_length}, {@code min_length}, {@code no_repeat_ngram_size},
     * {@code length_penalty}). Beam count, top-k and copy bias stay at their defaults.
     */
    static JsonNode fromHfConfig(JsonNode config, JsonNode generation) {
        ObjectMapper om = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode d = om.createObjectNode();
        copyId(config, "eos_token_id", d);
        copyId(config, "pad_token_id", d);
        copyId(config, "decoder_start_token_id", d);
        JsonNode layers = first(config, "decoder_layers", "num_decoder_layers", "num_layers");
        if (layers != null) {
            d.set("num_layers", layers);
        }
        JsonNode heads = first(config, "decoder_attention_heads", "num_heads");
        if (heads != null) {
            d.set("num_heads", heads);
        }
        JsonNode g = generation == null ? om.createObjectNode() : generation;
        JsonNode maxLength = first(g, "max_length");
        if (maxLength == null) {
            maxLength = first(config, "max_length");
        }
        if (maxLength != null) {
            d.put("max_length", maxLength.asInt());
        }
        if (config.has("max_position_embeddings")) {
            d.put("max_source_tokens", config.get("max_position_embeddings").asInt());
        }
        JsonNode prefix = config.path("task_specific_params").path("summarization").get("prefix");
        if (prefix != null && prefix.isTextual()) {
            d.put("source_prefix", prefix.asText());
        }
        com.fasterxml.jackson.databind.node.ObjectNode dec = d.putObject("decoding");
        for (JsonNode src : new JsonNode[] {config, g}) {
            if (src.has("no_repeat_ngram_size")) {
                dec.put("no_repeat_ngram_size", src.get("no_repeat_ngram_size").asInt());
            }
            if (src.has("length_penalty")) {
                dec.put("length_penalty", src.get("length_penalty").asDouble());
            }
            if (src.has("min_length")) {
                dec.put("min_new_tokens", Math.min(1000, src.get("min_length").asInt()));
            }
        }
        return d;
    }

    private static JsonNode first(JsonNode n, String... keys) {
        for (String k : keys) {
            JsonNode v = n.get(k);
            if (v != null && !v.isNull()) {
                return v;
            }
        }
        return null;
    }

    private static void copyId(JsonNode config, String key, com.fasterxml.jackson.databind.node.ObjectNode d) {
        JsonNode v = config.get(key);
        if (v != null && v.isArray() && v.size() > 0) {
            v = v.get(0);
        }
        if (v != null && v.canConvertToInt()) {
            d.put(key, v.asInt());
        }
    }

    static Descriptor readDescriptor(JsonNode root, String fileName, String where) {
        int eos = requiredInt(root, "eos_token_id", fileName, where);
        int pad = root.path("pad_token_id").asInt(eos);
        int start = root.has("decoder_start_token_id") ? root.get("decoder_start_token_id").asInt() : pad;
        int layers = requiredInt(root, "num_layers", fileName, where);
        int heads = requiredInt(root, "num_heads", fileName, where);
        int maxLength = root.path("max_length").asInt(128);
        int maxSource = root.path("max_source_tokens").asInt(512);
        if (layers < 1 || heads < 1 || maxLength < 1 || maxSource < 2) {
            throw new IllegalArgumentException(where + " [" + fileName + "] needs num_layers, num_heads, max_length >= 1 "
                + "and max_source_tokens >= 2 but was [" + layers + ", " + heads + ", " + maxLength + ", " + maxSource + "]");
        }
        JsonNode dn = root.path("decoding");
        DecodingOptions def = DecodingOptions.DEFAULT;
        DecodingOptions dec;
        try {
            dec = new DecodingOptions(dn.path("num_beams").asInt(def.numBeams()), dn.path("top_k").asInt(def.topK()),
                dn.path("copy_bias").asDouble(def.copyBias()), dn.path("no_repeat_ngram_size").asInt(def.noRepeatNgramSize()),
                dn.path("length_penalty").asDouble(def.lengthPenalty()), dn.path("min_new_tokens").asInt(def.minNewTokens()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + " [" + fileName + "] decoding: " + e.getMessage(), e);
        }
        return new Descriptor(pad, eos, start, layers, heads, maxLength, maxSource, root.path("use_cache").asBoolean(true),
            root.path("source_prefix").asText(""), Math.max(1, root.path("intra_op_threads").asInt(1)), dec);
    }

    private static int requiredInt(JsonNode root, String field, String fileName, String where) {
        JsonNode n = root.get(field);
        if (n == null || !n.canConvertToInt()) {
            throw new IllegalArgumentException(where + " [" + fileName + "] needs an integer [" + field + "] but was ["
                + n + "]");
        }
        return n.asInt();
    }

    private static void requireInputs(OrtSession s, String file, String where, String... names) throws OrtException {
        for (String n : names) {
            if (!s.getInputNames().contains(n)) {
                throw new IllegalArgumentException("[" + NAME + "] " + where + " " + file + " has no input [" + n + "]; inputs: "
                    + new TreeSet<>(s.getInputNames()));
            }
        }
    }

    private static void requireOutputs(OrtSession s, String file, String where, String... names) throws OrtException {
        for (String n : names) {
            if (!s.getOutputNames().contains(n)) {
                throw new IllegalArgumentException("[" + NAME + "] " + where + " " + file + " has no output [" + n + "]; outputs: "
                    + new TreeSet<>(s.getOutputNames()));
            }
        }
    }

    private static void checkFloatLogits(OrtSession s, String file, String where) throws OrtException {
        NodeInfo info = s.getOutputInfo().get("logits");
        if (info.getInfo() instanceof TensorInfo ti && ti.type != OnnxJavaType.FLOAT) {
            throw new IllegalArgumentException("[" + NAME + "] " + where + " " + file + " output [logits] must be float32 but is ["
                + ti.type + "]");
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The parsed descriptor. */
    public Descriptor descriptor() {
        return descriptor;
    }

    /** The decoding options in use. */
    public DecodingOptions options() {
        return options;
    }

    /** The tokenizer. */
    public SubwordTokenizer tokenizer() {
        return tokenizer;
    }

    /** Whether later steps use {@code decoder_with_past_model.onnx}. */
    public boolean usesCache() {
        return decoderWithPast != null;
    }

    /** Replaces the clock (tests make time pass deterministically). */
    void clock(LongSupplier nanoClock) {
        this.clock = nanoClock;
    }

    /** Delays the watchdog by {@code ms} past the budget (tests on a fake clock keep it out of the way). */
    void watchdogGrace(long ms) {
        this.watchdogGraceMillis = ms;
    }

    @Override
    public GenerationResult generate(GenerationRequest request) {
        return generate(request, options);
    }

    /** Like {@link #generate(GenerationRequest)} with other decoding options. */
    public GenerationResult generate(GenerationRequest request, DecodingOptions decoding) {
        long started = clock.getAsLong();
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(request.timeBudgetMillis());
        List<String> warnings = new ArrayList<>();
        String source = descriptor.sourcePrefix() + request.sourceText();
        int[] full = tokenizer.encode(source, true);
        int[] ids = full.length <= descriptor.maxSourceTokens() ? full : tokenizer.encode(source, descriptor.maxSourceTokens());
        if (ids.length < full.length) {
            warnings.add("[" + NAME + "] source cut from [" + full.length + "] to [max_source_tokens=" + descriptor.maxSourceTokens()
                + "] tokens");
        }
        int maxNew = Math.min(request.maxNewTokens(), descriptor.maxLength());
        BeamSearch.Outcome out = decode(ids, decoding, maxNew, deadline, request.timeBudgetMillis() + watchdogGraceMillis);
        BeamSearch.Hypothesis best = out.best();
        int[] toks = best.tokens();
        if (toks.length == 0) {
            if (out.stopReason() == GenerationResult.StopReason.TIME) {
                throw new GenerationException(NAME, "time budget [" + request.timeBudgetMillis()
                    + "ms] ran out before the first token was generated", true, null);
            }
            throw new GenerationException(NAME, "model [" + dir + "] generated no token (every logit was removed)", false, null);
        }
        int n = toks[toks.length - 1] == descriptor.eosTokenId() ? toks.length - 1 : toks.length;
        String text = tokenizer.decode(toks, 0, n).strip();
        switch (out.stopReason()) {
            case TIME -> warnings.add("[" + NAME + "] time budget [" + request.timeBudgetMillis() + "ms] ran out after ["
                + out.steps() + "] decoder steps; the summary may be incomplete");
            case MAX_TOKENS -> warnings.add("[" + NAME + "] stopped at [max_new_tokens=" + maxNew + "] before the end token");
            default -> { }
        }
        SupportChecker checker = new SupportChecker(request.sourceText(), SupportChecker.DEFAULT_THRESHOLD);
        return new GenerationResult(text, NAME, checker.check(text), warnings, toks.length, out.stopReason(),
            TimeUnit.NANOSECONDS.toMillis(clock.getAsLong() - started));
    }

    /**
     * Runs the encoder once and the beam search over the decoder (package-private for tests, which check the
     * hypotheses and their scores).
     */
    BeamSearch.Outcome decode(int[] sourceIds, DecodingOptions decoding, int maxNewTokens, long deadlineNanos) {
        return decode(sourceIds, decoding, maxNewTokens, deadlineNanos, 0);
    }

    /**
     * @param hardLimitMillis real time after which the watchdog terminates a running model call, 0 = none
     */
    private BeamSearch.Outcome decode(int[] sourceIds, DecodingOptions decoding, int maxNewTokens, long deadlineNanos,
                                      long hardLimitMillis) {
        int[] content = contentIds(sourceIds);
        BeamSearch search = new BeamSearch(decoding, descriptor.decoderStartTokenId(), descriptor.eosTokenId(), content, clock);
        try (Watch watch = new Watch(hardLimitMillis); Steps steps = new Steps(sourceIds, watch)) {
            return search.run(steps, maxNewTokens, deadlineNanos);
        } catch (OrtException e) {
            throw new GenerationException(NAME, "model [" + dir + "] failed: " + e.getMessage(), false, e);
        }
    }

    /** The call's RunOptions and the watchdog task that sets their terminate flag at the hard limit. */
    private final class Watch implements AutoCloseable {
        final OrtSession.RunOptions runOptions;
        final AtomicBoolean fired = new AtomicBoolean();
        private final ScheduledFuture<?> task;
        private boolean closed;

        Watch(long limitMillis) throws OrtException {
            this.runOptions = new OrtSession.RunOptions();
            this.task = limitMillis <= 0 ? null : watchdog.schedule(this::fire, limitMillis, TimeUnit.MILLISECONDS);
        }

        private synchronized void fire() {
            if (closed) {
                return;
            }
            fired.set(true);
            try {
                runOptions.setTerminate(true);
            } catch (OrtException e) {
                // the flag could not be set; the per-step budget check still applies
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            if (task != null) {
                task.cancel(false);
            }
            runOptions.close();
        }
    }

    /** The source ids without special (added) tokens, for the copy bias. */
    private int[] contentIds(int[] ids) {
        int[] out = new int[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id != descriptor.eosTokenId() && id != descriptor.padTokenId() && id != descriptor.decoderStartTokenId()
                && !tokenizer.isSpecial(id)) {
                out[n++] = id;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** One call's decoder state: the encoder output and the past key values of the live beams. */
    private final class Steps implements BeamSearch.StepModel, AutoCloseable {
        private final int srcLen;
        private final float[] hidden;
        private final int hiddenDim;
        private final Map<Integer, OnnxTensor> hiddenByBatch = new HashMap<>();
        private final Map<Integer, OnnxTensor> maskByBatch = new HashMap<>();
        /**
         * The decoder presents of the last step by past input name ({@code past_key_values.*}), batch = the beams of
         * that step; native tensors owned by {@link #presentsOwner}, fed back without leaving ONNX Runtime.
         */
        private final Map<String, OnnxTensor> presents = new HashMap<>();
        private OrtSession.Result presentsOwner;
        private int presentsBatch;
        /**
         * Encoder pasts (projections of the encoder output) are the same for every beam, so one row is kept and
         * replicated once per batch size instead of being copied and reordered at every step.
         */
        private final Map<String, float[]> encoderPastRow = new HashMap<>();
        private final Map<String, long[]> encoderPastShape = new HashMap<>();
        private final Map<String, OnnxTensor> encoderPastByBatch = new HashMap<>();

        private final Watch watch;

        Steps(int[] sourceIds, Watch watch) throws OrtException {
            this.watch = watch;
            this.srcLen = sourceIds.length;
            long[] shape = {1, srcLen};
            long[] ones = new long[srcLen];
            java.util.Arrays.fill(ones, 1);
            long[] idsL = new long[srcLen];
            for (int i = 0; i < srcLen; i++) {
                idsL[i] = sourceIds[i];
            }
            Map<String, OnnxTensor> in = new HashMap<>();
            try (OnnxTensor idsT = OnnxTensor.createTensor(env, LongBuffer.wrap(idsL), shape);
                 OnnxTensor maskT = OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape)) {
                in.put("input_ids", idsT);
                if (encoderTakesMask) {
                    in.put("attention_mask", maskT);
                }
                OrtSession.Result encoded;
                try {
                    encoded = encoder.run(in, watch.runOptions);
                } catch (OrtException e) {
                    if (watch.fired.get()) {
                        throw new GenerationException(NAME, "time limit reached while running the encoder of [" + dir + "]",
                            true, e);
                    }
                    throw e;
                }
                try (OrtSession.Result r = encoded) {
                    OnnxTensor h = (OnnxTensor) r.get(encoderOutput).orElseThrow();
                    long[] hs = h.getInfo().getShape();
                    if (hs.length != 3 || hs[0] != 1 || hs[1] != srcLen) {
                        throw new GenerationException(NAME, "encoder output [" + encoderOutput + "] must be [1, " + srcLen
                            + ", hidden] but was " + java.util.Arrays.toString(hs), false, null);
                    }
                    this.hiddenDim = (int) hs[2];
                    this.hidden = floats(h);
                }
            }
        }

        private OnnxTensor hidden(int batch) throws OrtException {
            OnnxTensor t = hiddenByBatch.get(batch);
            if (t == null) {
                float[] rep = new float[batch * hidden.length];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(hidden, 0, rep, b * hidden.length, hidden.length);
                }
                t = OnnxTensor.createTensor(env, FloatBuffer.wrap(rep), new long[] {batch, srcLen, hiddenDim});
                hiddenByBatch.put(batch, t);
            }
            return t;
        }

        private OnnxTensor encoderPast(String name, int batch) throws OrtException {
            String key = name + "#" + batch;
            OnnxTensor t = encoderPastByBatch.get(key);
            if (t == null) {
                float[] row = encoderPastRow.get(name);
                float[] rep = new float[batch * row.length];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(row, 0, rep, b * row.length, row.length);
                }
                long[] shape = encoderPastShape.get(name).clone();
                shape[0] = batch;
                t = OnnxTensor.createTensor(env, FloatBuffer.wrap(rep), shape);
                encoderPastByBatch.put(key, t);
            }
            return t;
        }

        private OnnxTensor mask(int batch) throws OrtException {
            OnnxTensor t = maskByBatch.get(batch);
            if (t == null) {
                long[] ones = new long[batch * srcLen];
                java.util.Arrays.fill(ones, 1);
                t = OnnxTensor.createTensor(env, LongBuffer.wrap(ones), new long[] {batch, srcLen});
                maskByBatch.put(batch, t);
            }
            return t;
        }

        @Override
        public float[][] next(int[] parents, int[][] sequences) {
            try {
                return parents == null || decoderWithPast == null ? full(sequences) : cached(parents, sequences);
            } catch (OrtException e) {
                if (watch.fired.get()) {
                    throw new BeamSearch.StepTimedOut(e);
                }
                throw new GenerationException(NAME, "model [" + dir + "] decoder step failed: " + e.getMessage(), false, e);
            }
        }

        /** decoder_model.onnx on the whole prefix (first step, or every step without a cache). */
        private float[][] full(int[][] sequences) throws OrtException {
            int batch = sequences.length;
            int len = sequences[0].length;
            long[] ids = new long[batch * len];
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < len; j++) {
                    ids[b * len + j] = sequences[b][j];
                }
            }
            Map<String, OnnxTensor> in = new HashMap<>();
            try (OnnxTensor idsT = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {batch, len})) {
                in.put("input_ids", idsT);
                in.put("encoder_hidden_states", hidden(batch));
                if (decoderTakesMask) {
                    in.put("encoder_attention_mask", mask(batch));
                }
                OrtSession.Result r = decoder.run(in, watch.runOptions);
                boolean keep = false;
                try {
                    float[][] logits = lastLogits((OnnxTensor) r.get("logits").orElseThrow(), batch);
                    if (decoderWithPast != null) {
                        Map<String, OnnxTensor> next = new HashMap<>();
                        for (String p : pastInputs) {
                            OnnxTensor t = (OnnxTensor) r.get(PRESENT + p.substring(PAST.length())).orElseThrow();
                            if (isEncoderPast(p)) {
                                long[] shape = t.getInfo().getShape();
                                float[] all = floats(t);
                                int row = (int) (all.length / shape[0]);
                                encoderPastRow.put(p, java.util.Arrays.copyOf(all, row));
                                encoderPastShape.put(p, shape);
                            } else {
                                next.put(p, t);
                            }
                        }
                        replacePresents(r, next, batch);
                        keep = true;
                    }
                    return logits;
                } finally {
                    if (!keep) {
                        r.close();
                    }
                }
            }
        }

        /** decoder_with_past_model.onnx on the last token, with the previous presents reordered to the beams. */
        private float[][] cached(int[] parents, int[][] sequences) throws OrtException {
            int batch = sequences.length;
            long[] ids = new long[batch];
            for (int b = 0; b < batch; b++) {
                ids[b] = sequences[b][sequences[b].length - 1];
            }
            Map<String, OnnxTensor> in = new HashMap<>();
            OrtSession.Result reordered = null;
            OrtSession.Result r = null;
            boolean keep = false;
            try (OnnxTensor idsT = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {batch, 1})) {
                in.put("input_ids", idsT);
                if (pastTakesHidden) {
                    in.put("encoder_hidden_states", hidden(batch));
                }
                if (pastTakesMask) {
                    in.put("encoder_attention_mask", mask(batch));
                }
                for (String p : pastInputs) {
                    if (isEncoderPast(p)) {
                        in.put(p, encoderPast(p, batch));
                    }
                }
                boolean identity = batch == presentsBatch;
                for (int b = 0; b < batch && identity; b++) {
                    identity = parents[b] == b;
                }
                if (identity) {
                    for (String p : decoderPasts) {
                        in.put(p, presents.get(p));
                    }
                } else {
                    long[] idx = new long[batch];
                    for (int b = 0; b < batch; b++) {
                        idx[b] = parents[b];
                    }
                    try (OnnxTensor idxT = OnnxTensor.createTensor(env, LongBuffer.wrap(idx), new long[] {batch})) {
                        Map<String, OnnxTensor> rin = new HashMap<>();
                        rin.put("indices", idxT);
                        for (int k = 0; k < decoderPasts.size(); k++) {
                            rin.put("in" + k, presents.get(decoderPasts.get(k)));
                        }
                        reordered = reorder.run(rin, watch.runOptions);
                    }
                    for (int k = 0; k < decoderPasts.size(); k++) {
                        in.put(decoderPasts.get(k), (OnnxTensor) reordered.get("out" + k).orElseThrow());
                    }
                }
                r = decoderWithPast.run(in, watch.runOptions);
                float[][] logits = lastLogits((OnnxTensor) r.get("logits").orElseThrow(), batch);
                Map<String, OnnxTensor> next = new HashMap<>();
                for (String p : decoderPasts) {
                    String present = PRESENT + p.substring(PAST.length());
                    OnnxTensor t = (OnnxTensor) r.get(present).orElseThrow();
                    long[] s = t.getInfo().getShape();
                    if (s[0] != batch) {
                        throw new GenerationException(NAME, "output [" + present + "] has batch [" + s[0] + "] but ["
                            + batch + "] beams were fed", false, null);
                    }
                    next.put(p, t);
                }
                replacePresents(r, next, batch);
                keep = true;
                return logits;
            } finally {
                if (reordered != null) {
                    reordered.close();
                }
                if (r != null && !keep) {
                    r.close();
                }
            }
        }

        /** Makes {@code owner}'s presents the current ones and releases the previous step's. */
        private void replacePresents(OrtSession.Result owner, Map<String, OnnxTensor> next, int batch) {
            if (presentsOwner != null) {
                presentsOwner.close();
            }
            presentsOwner = owner;
            presents.clear();
            presents.putAll(next);
            presentsBatch = batch;
        }

        private float[][] lastLogits(OnnxTensor logits, int batch) {
            long[] s = logits.getInfo().getShape();
            if (s.length != 3 || s[0] != batch) {
                throw new GenerationException(NAME, "output [logits] must be [" + batch + ", len, vocab] but was "
                    + java.util.Arrays.toString(s), false, null);
            }
            int len = (int) s[1];
            int vocab = (int) s[2];
            FloatBuffer fb = logits.getFloatBuffer();
            float[][] out = new float[batch][vocab];
            for (int b = 0; b < batch; b++) {
                fb.position((b * len + len - 1) * vocab);
                fb.get(out[b]);
            }
            return out;
        }

        @Override
        public void close() {
            for (OnnxValue v : hiddenByBatch.values()) {
                v.close();
            }
            for (OnnxValue v : maskByBatch.values()) {
                v.close();
            }
            for (OnnxValue v : encoderPastByBatch.values()) {
                v.close();
            }
            if (presentsOwner != null) {
                presentsOwner.close();
                presentsOwner = null;
            }
        }
    }

    private static boolean isEncoderPast(String name) {
        return name.contains(".encoder.");
    }

    private static float[] floats(OnnxTensor t) {
        FloatBuffer fb = t.getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        for (OrtSession s : new OrtSession[] {encoder, decoder, decoderWithPast, reorder}) {
            if (s != null) {
                try {
                    s.close();
                } catch (OrtException e) {
                    // nothing more to release
                }
            }
        }
    }

    @Override
    public String toString() {
        return NAME + "[" + dir + ", cache=" + usesCache() + ", " + options + "]";
    }
}
