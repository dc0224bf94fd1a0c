package dev.mover.plugin;

import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Setting.Property;

import java.util.List;

/**
 * Node settings of the Mover plugin. Every bound that protects a node from one request is a setting here, with
 * its range, so a bad value is rejected when the node starts.
 */
public final class MoverSettings {
    private MoverSettings() {}

    /**
     * {@code mover.models.<name>.path}: a directory holding a model (an ONNX graph, a HuggingFace
     * {@code tokenizer.json} and {@code model.json}). Relative paths resolve against the node's config directory.
     * The two bundled defaults ({@code all-minilm-l6-v2}, {@code bge-small-zh-v15}) need no setting; a setting
     * with the same name overrides a default. Requests only ever name a model, never a path.
     */
    public static final Setting.AffixSetting<String> MODEL_PATH = Setting.affixKeySetting(
        "mover.models.",
        "path",
        key -> Setting.simpleString(key, Property.NodeScope)
    );

    /** ONNX Runtime intra-op threads per model session. One keeps encoding from starving search threads. */
    public static final Setting<Integer> INTRA_OP_THREADS = Setting.intSetting(
        "mover.encoder.intra_op_threads", 1, 1, 64, Property.NodeScope);

    /** Largest rescore {@code window_size} a mover rescorer accepts. */
    public static final Setting<Integer> MAX_WINDOW_SIZE = Setting.intSetting(
        "mover.rescore.max_window_size", 500, 1, 10_000, Property.NodeScope, Property.Dynamic);

    /** Largest {@code sinkhorn.max_iterations} a request may ask for. */
    public static final Setting<Integer> MAX_SINKHORN_ITERATIONS = Setting.intSetting(
        "mover.rescore.max_sinkhorn_iterations", 10_000, 1, 1_000_000, Property.NodeScope, Property.Dynamic);

    /** Most tokens a {@code query_text} may encode to; longer queries are rejected with a 400. */
    public static final Setting<Integer> MAX_QUERY_TOKENS = Setting.intSetting(
        "mover.max_query_tokens", 256, 1, 4096, Property.NodeScope, Property.Dynamic);

    /** Most tokens stored per document value; the encoder cuts longer texts and marks them truncated. */
    public static final Setting<Integer> MAX_DOC_TOKENS = Setting.intSetting(
        "mover.max_doc_tokens", 4096, 1, 32_768, Property.NodeScope);

    /** Most characters the summarizer reads from one hit. */
    public static final Setting<Integer> SUMMARIZE_MAX_CHARS = Setting.intSetting(
        "mover.summarize.max_chars", 100_000, 1_000, 10_000_000, Property.NodeScope, Property.Dynamic);

    /** Wall-time budget for embedding one hit's sentences; past it the summary uses the sentences embedded so far. */
    public static final Setting<org.elasticsearch.core.TimeValue> SUMMARIZE_TIME_BUDGET = Setting.timeSetting(
        "mover.summarize.time_budget", org.elasticsearch.core.TimeValue.timeValueSeconds(10),
        org.elasticsearch.core.TimeValue.timeValueMillis(10), Property.NodeScope, Property.Dynamic);

    /** Most hits one summarize request may ask for. */
    public static final Setting<Integer> SUMMARIZE_MAX_HITS = Setting.intSetting(
        "mover.summarize.max_hits", 20, 1, 1000, Property.NodeScope, Property.Dynamic);

    /** Most sentences a summary may ask for. */
    public static final Setting<Integer> SUMMARIZE_MAX_SENTENCES = Setting.intSetting(
        "mover.summarize.max_sentences", 50, 1, 1000, Property.NodeScope, Property.Dynamic);

    public static List<Setting<?>> all() {
        List<Setting<?>> all = new java.util.ArrayList<>(GeneratorService.settings());
        all.addAll(List.of(MODEL_PATH, INTRA_OP_THREADS, MAX_WINDOW_SIZE, MAX_SINKHORN_ITERATIONS, MAX_QUERY_TOKENS, MAX_DOC_TOKENS,
            SUMMARIZE_MAX_CHARS, SUMMARIZE_MAX_HITS, SUMMARIZE_MAX_SENTENCES, SUMMARIZE_TIME_BUDGET));
        return all;
    }
}
