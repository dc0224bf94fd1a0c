package dev.mover.plugin;

import org.apache.lucene.util.SetOnce;
import org.elasticsearch.TransportVersion;
import org.elasticsearch.TransportVersions;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.action.ActionRequestValidationException;
import org.elasticsearch.cluster.metadata.IndexMetadata;
import org.elasticsearch.cluster.metadata.MappingMetadata;
import org.elasticsearch.action.ResolvedIndices;
import org.elasticsearch.search.builder.SearchSourceBuilder;
import org.elasticsearch.index.mapper.MappedFieldType;
import org.elasticsearch.index.query.QueryRewriteContext;
import org.elasticsearch.index.query.SearchExecutionContext;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.RescorerBuilder;
import org.elasticsearch.xcontent.ObjectParser;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The {@code mover} rescorer: re-ranks the top {@code window_size} hits of any query by the optimal-transport
 * similarity between the query's token vectors and each hit's stored ones.
 *
 * <pre>
 * "rescore": { "window_size": 50,
 *   "mover": { "field": "body_tokens", "query_text": "...", "metric": "wrd", "solver": "emd",
 *              "sinkhorn": { "epsilon": 0.05, "epsilon_relative_to": "max_cost", "tolerance": 1e-6, "max_iterations": 1000 },
 *              "prune": true, "alignments": 3, "text_field": "body",
 *              "query_weight": 0.0, "rescore_query_weight": 1.0, "score_mode": "total" } }
 * </pre>
 *
 * The coordinating node encodes {@code query_text} once, during query rewrite, with the model of {@code field} in each
 * target index, and ships the vectors to the shards; shards never re-encode (a shard reached without them, which
 * only happens for requests that skip the coordinator's rewrite, encodes through the node's cache).
 *
 * Scores: {@code wrd} gives {@code 1 - WRD} in [0, 1]; {@code wmd} gives {@code 1 / (1 + WMD)}; {@code maxsim} gives
 * {@code max(0, mean over query tokens of the max cosine)}. The final score combines them with the first-pass score
 * by {@code score_mode}, as Elasticsearch's query rescorer does. A hit without the field gets similarity 0.
 *
 * <p>Defaults (issue 9, chosen on dev data by the rule the README states): {@code metric} maxsim, and with a
 * {@code pooled_field} a {@code pooled_weight} of 0.5.
 */
public final class MoverRescorerBuilder extends RescorerBuilder<MoverRescorerBuilder> {
    public static final String NAME = "mover";

    static final ParseField FIELD = new ParseField("field");
    static final ParseField QUERY_TEXT = new ParseField("query_text");
    static final ParseField METRIC = new ParseField("metric");
    static final ParseField QUERY_WEIGHT = new ParseField("query_weight");
    static final ParseField RESCORE_QUERY_WEIGHT = new ParseField("rescore_query_weight");
    static final ParseField SCORE_MODE = new ParseField("score_mode");
    static final ParseField SOLVER = new ParseField("solver");
    static final ParseField SINKHORN = new ParseField("sinkhorn");
    static final ParseField EPSILON = new ParseField("epsilon");
    static final ParseField EPSILON_RELATIVE_TO = new ParseField("epsilon_relative_to");
    static final ParseField TOLERANCE = new ParseField("tolerance");
    static final ParseField MAX_ITERATIONS = new ParseField("max_iterations");
    static final ParseField PRUNE = new ParseField("prune");
    static final ParseField TOP_K = new ParseField("top_k");
    static final ParseField ALIGNMENTS = new ParseField("alignments");
    static final ParseField TEXT_FIELD = new ParseField("text_field");
    static final ParseField WEIGHTS = new ParseField("weights");
    static final ParseField POOLED_FIELD = new ParseField("pooled_field");
    static final ParseField POOLED_WEIGHT = new ParseField("pooled_weight");
    static final ParseField DOC_MASS = new ParseField("doc_mass");

    /** Which token-level similarity to compute. */
    public enum MoverMetric {
        WRD, WMD, MAXSIM;

        static MoverMetric parse(String s) {
            for (MoverMetric m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("[metric] must be one of [wrd, wmd, maxsim] but was [" + s + "]");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How the first-pass score and the mover similarity combine (Elasticsearch's query rescorer modes). */
    public enum ScoreMode {
        TOTAL, MULTIPLY, AVG, MAX, MIN;

        static ScoreMode parse(String s) {
            for (ScoreMode m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("[score_mode] must be one of [total, multiply, avg, max, min] but was [" + s + "]");
        }

        float combine(float primary, float secondary) {
            return switch (this) {
                case TOTAL -> primary + secondary;
                case MULTIPLY -> primary * secondary;
                case AVG -> (primary + secondary) / 2f;
                case MAX -> Math.max(primary, secondary);
                case MIN -> Math.min(primary, secondary);
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The {@code sinkhorn} object, parsed into defaults first. */
    private static final class SinkhornSpec {
        double epsilon = RescoreOptions.DEFAULT.epsilon();
        boolean relative = RescoreOptions.DEFAULT.epsilonRelative();
        double tolerance = RescoreOptions.DEFAULT.tolerance();
        int maxIterations = RescoreOptions.DEFAULT.maxIterations();
    }

    private static final ObjectParser<SinkhornSpec, Void> SINKHORN_PARSER = new ObjectParser<>("sinkhorn", SinkhornSpec::new);
    static {
        SINKHORN_PARSER.declareDouble((sk, v) -> sk.epsilon = v, EPSILON);
        SINKHORN_PARSER.declareString((sk, v) -> {
            switch (v) {
                case "max_cost" -> sk.relative = true;
                case "raw" -> sk.relative = false;
                default -> throw new IllegalArgumentException("[epsilon_relative_to] must be one of [max_cost, raw] but was [" + v + "]");
            }
        }, EPSILON_RELATIVE_TO);
        SINKHORN_PARSER.declareDouble((sk, v) -> sk.tolerance = v, TOLERANCE);
        SINKHORN_PARSER.declareInt((sk, v) -> sk.maxIterations = v, MAX_ITERATIONS);
    }

    private static final ObjectParser<MoverRescorerBuilder, Void> PARSER = new ObjectParser<>(NAME, MoverRescorerBuilder::new);
    static {
        PARSER.declareString(MoverRescorerBuilder::field, FIELD);
        PARSER.declareString(MoverRescorerBuilder::queryText, QUERY_TEXT);
        PARSER.declareString((b, s) -> b.metric(MoverMetric.parse(s)), METRIC);
        PARSER.declareFloat(MoverRescorerBuilder::queryWeight, QUERY_WEIGHT);
        PARSER.declareFloat(MoverRescorerBuilder::rescoreQueryWeight, RESCORE_QUERY_WEIGHT);
        PARSER.declareString((b, s) -> b.scoreMode(ScoreMode.parse(s)), SCORE_MODE);
        PARSER.declareString((b, s) -> b.options = b.options.withSolver(RescoreOptions.Solver.parse(s)), SOLVER);
        PARSER.declareObject((b, sk) -> b.options = b.options.withSinkhorn(sk.epsilon, sk.relative, sk.tolerance, sk.maxIterations),
            SINKHORN_PARSER, SINKHORN);
        PARSER.declareBoolean((b, v) -> b.options = b.options.withPrune(v), PRUNE);
        PARSER.declareInt((b, v) -> b.options = b.options.withTopK(v), TOP_K);
        PARSER.declareInt((b, v) -> b.options = b.options.withAlignments(v), ALIGNMENTS);
        PARSER.declareString((b, v) -> b.options = b.options.withTextField(v), TEXT_FIELD);
        PARSER.declareString((b, v) -> b.options = b.options.withWeights(RescoreOptions.Weights.parse(v)), WEIGHTS);
        PARSER.declareString((b, v) -> b.options = b.options.withPooled(v, b.options.pooledWeight()), POOLED_FIELD);
        PARSER.declareDouble((b, v) -> {
            b.options = b.options.withPooled(b.options.pooledField(), v);
            b.pooledWeightSet = true;
        }, POOLED_WEIGHT);
        PARSER.declareField((b, v) -> b.options = b.options.withDocMass(v), p -> {
            if (p.currentToken() == XContentParser.Token.VALUE_STRING) {
                String t = p.text();
                if (t.equals("auto")) {
                    return RescoreOptions.DOC_MASS_AUTO;
                }
                try {
                    return Double.parseDouble(t);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("[doc_mass] must be [auto] or a number in (0, 1] but was [" + t + "]");
                }
            }
            return p.doubleValue();
        }, DOC_MASS, ObjectParser.ValueType.VALUE);
    }


    private String field;
    private String queryText;
    /** Default metric, chosen on dev data by the rule in the README (issue 9): maxSim. */
    static final MoverMetric DEFAULT_METRIC = MoverMetric.MAXSIM;
    /** Default {@code pooled_weight} when {@code pooled_field} is set (0 without it), chosen with the metric. */
    static final double DEFAULT_POOLED_WEIGHT = 0.5;

    private MoverMetric metric = DEFAULT_METRIC;
    private boolean metricSet;
    private boolean pooledWeightSet;
    private float queryWeight = 0f;
    private float rescoreQueryWeight = 1f;
    private ScoreMode scoreMode = ScoreMode.TOTAL;
    private RescoreOptions options = RescoreOptions.DEFAULT;
    /** Query vectors per model, filled on the coordinating node during rewrite; null until then. */
    private Map<String, WireQuery> queryVectors;
    /** Set while the coordinator's asynchronous encoding is under way. */
    private Supplier<Map<String, WireQuery>> pendingVectors;

    public MoverRescorerBuilder() {}

    private MoverRescorerBuilder copy() {
        MoverRescorerBuilder b = new MoverRescorerBuilder();
        b.windowSize = windowSize;
        b.field = field;
        b.queryText = queryText;
        b.metric = metric;
        b.queryWeight = queryWeight;
        b.rescoreQueryWeight = rescoreQueryWeight;
        b.scoreMode = scoreMode;
        b.options = options;
        b.queryVectors = queryVectors;
        return b;
    }

    public MoverRescorerBuilder(StreamInput in) throws IOException {
        super(in);
        field = in.readString();
        queryText = in.readString();
        metric = in.readEnum(MoverMetric.class);
        queryWeight = in.readFloat();
        rescoreQueryWeight = in.readFloat();
        scoreMode = in.readEnum(ScoreMode.class);
        options = new RescoreOptions(in);
        queryVectors = in.readBoolean() ? in.readImmutableMap(StreamInput::readString, WireQuery::new) : null;
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        out.writeString(field);
        out.writeString(queryText);
        out.writeEnum(metric);
        out.writeFloat(queryWeight);
        out.writeFloat(rescoreQueryWeight);
        out.writeEnum(scoreMode);
        options.writeTo(out);
        if (pendingVectors != null) {
            throw new IllegalStateException("[mover] query vectors must be rewritten before the request is serialized");
        }
        out.writeBoolean(queryVectors != null);
        if (queryVectors != null) {
            out.writeMap(queryVectors, StreamOutput::writeString, (o, v) -> v.writeTo(o));
        }
    }

    public static MoverRescorerBuilder fromXContent(XContentParser parser) throws IOException {
        MoverRescorerBuilder b = PARSER.parse(parser, null);
        b.validateRequest();
        return b;
    }

    void validateRequest() {
        if (field == null || field.isEmpty()) {
            throw new IllegalArgumentException("[" + NAME + "] requires [field]");
        }
        if (queryText == null) {
            throw new IllegalArgumentException("[" + NAME + "] requires [query_text]");
        }
        if (queryText.isBlank()) {
            throw new IllegalArgumentException("[query_text] must not be empty");
        }
        if (options.weights() != RescoreOptions.Weights.DEFAULT && options.textField() == null) {
            throw new IllegalArgumentException("[weights] [" + options.weights() + "] needs [text_field], the text the tokens came from");
        }
        String maxsimHint = metricSet ? "" : " (the default metric); set [metric] to [wrd] or [wmd]";
        if (options.weights() != RescoreOptions.Weights.DEFAULT && metric == MoverMetric.MAXSIM) {
            throw new IllegalArgumentException("[weights] does not apply to [metric] [maxsim]" + maxsimHint);
        }
        if (options.partial() && metric == MoverMetric.MAXSIM) {
            throw new IllegalArgumentException("[doc_mass] does not apply to [metric] [maxsim]" + maxsimHint);
        }
        if (options.solver() != RescoreOptions.Solver.EMD && metric == MoverMetric.MAXSIM) {
            throw new IllegalArgumentException("[solver] [" + options.solver() + "] does not apply to [metric] [maxsim]" + maxsimHint);
        }
        if (options.pooledField() != null && pooledWeightSet == false) {
            options = options.withPooled(options.pooledField(), DEFAULT_POOLED_WEIGHT);
        }
        if (options.partial() && options.solver() != RescoreOptions.Solver.EMD) {
            throw new IllegalArgumentException("[doc_mass] needs [solver] [emd] (partial transport is solved exactly)");
        }
        if (options.pooledWeight() > 0 && options.pooledField() == null) {
            throw new IllegalArgumentException("[pooled_weight] needs [pooled_field], the dense_vector field holding the pooled vectors");
        }
        if (Float.isFinite(queryWeight) == false || Float.isFinite(rescoreQueryWeight) == false) {
            throw new IllegalArgumentException("[query_weight] and [rescore_query_weight] must be finite");
        }
    }

    public MoverRescorerBuilder field(String field) {
        this.field = field;
        return this;
    }

    public MoverRescorerBuilder queryText(String queryText) {
        this.queryText = queryText;
        return this;
    }

    public MoverRescorerBuilder metric(MoverMetric metric) {
        this.metric = metric;
        this.metricSet = true;
        return this;
    }

    public MoverRescorerBuilder queryWeight(float w) {
        this.queryWeight = w;
        return this;
    }

    public MoverRescorerBuilder rescoreQueryWeight(float w) {
        this.rescoreQueryWeight = w;
        return this;
    }

    public MoverRescorerBuilder scoreMode(ScoreMode mode) {
        this.scoreMode = mode;
        return this;
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }

    @Override
    public TransportVersion getMinimalSupportedVersion() {
        return TransportVersions.V_8_0_0;
    }

    /**
     * On the coordinating node: finds the model of {@code field} in every target index and encodes {@code query_text}
     * once per model, off the network thread, as kNN's query vector builders do. Elsewhere (shards), a no-op.
     */
    @Override
    public RescorerBuilder<MoverRescorerBuilder> rewrite(QueryRewriteContext ctx) {
        if (queryVectors != null) {
            return this;
        }
        if (pendingVectors != null) {
            Map<String, WireQuery> done = pendingVectors.get();
            if (done == null) {
                return this;
            }
            MoverRescorerBuilder b = copy();
            b.queryVectors = done;
            return b;
        }
        ResolvedIndices resolved = ctx.getResolvedIndices();
        if (resolved == null || ctx.convertToSearchExecutionContext() != null) {
            return this;
        }
        TreeSet<String> models = new TreeSet<>();
        for (IndexMetadata im : resolved.getConcreteLocalIndicesMetadata().values()) {
            String model = modelOf(im.mapping(), field);
            if (model != null) {
                models.add(model);
            }
        }
        if (models.isEmpty()) {
            return this;   // the shards report a missing or mistyped field with a 400
        }
        ModelService service = ModelService.instance();
        SetOnce<Map<String, WireQuery>> result = new SetOnce<>();
        ctx.registerAsyncAction((client, listener) -> client.threadPool().generic().execute(() -> {
            try {
                Map<String, WireQuery> out = new TreeMap<>();
                for (String model : models) {
                    out.put(model, WireQuery.of(service.encodeQuery(model, queryText)));
                }
                result.set(out);
                listener.onResponse(null);
            } catch (Exception e) {
                listener.onFailure(e);
            }
        }));
        MoverRescorerBuilder b = copy();
        b.pendingVectors = result::get;
        return b;
    }

    /** The {@code model} of a {@code mover_tokens} field in a mapping, or null if the field is absent or of another type. */
    @SuppressWarnings("unchecked")
    static String modelOf(MappingMetadata mapping, String field) {
        if (mapping == null) {
            return null;
        }
        Map<String, Object> node = mapping.sourceAsMap();
        for (String part : field.split("\\.")) {
            Object props = node.get("properties");
            if (props instanceof Map == false) {
                return null;
            }
            Object next = ((Map<String, Object>) props).get(part);
            if (next instanceof Map == false) {
                return null;
            }
            node = (Map<String, Object>) next;
        }
        if (MoverTokensFieldMapper.CONTENT_TYPE.equals(node.get("type")) && node.get("model") instanceof String m) {
            return m;
        }
        return null;
    }

    /** Remembers {@code from + size} as the pruning depth when the request does not give {@code top_k}. */
    @Override
    public ActionRequestValidationException validate(SearchSourceBuilder source, ActionRequestValidationException e) {
        ActionRequestValidationException out = super.validate(source, e);
        if (options.topK() == -1 && source != null) {
            int from = Math.max(0, source.from());
            int size = source.size() < 0 ? 10 : source.size();
            options = options.withTopK(Math.max(1, from + size));
        }
        return out;
    }

    @Override
    protected void doXContent(XContentBuilder builder, Params params) throws IOException {
        builder.startObject(NAME);
        builder.field(FIELD.getPreferredName(), field);
        builder.field(QUERY_TEXT.getPreferredName(), queryText);
        builder.field(METRIC.getPreferredName(), metric.toString());
        builder.field(QUERY_WEIGHT.getPreferredName(), queryWeight);
        builder.field(RESCORE_QUERY_WEIGHT.getPreferredName(), rescoreQueryWeight);
        builder.field(SCORE_MODE.getPreferredName(), scoreMode.toString());
        builder.field(SOLVER.getPreferredName(), options.solver().toString());
        builder.startObject(SINKHORN.getPreferredName());
        builder.field(EPSILON.getPreferredName(), options.epsilon());
        builder.field(EPSILON_RELATIVE_TO.getPreferredName(), options.epsilonRelative() ? "max_cost" : "raw");
        builder.field(TOLERANCE.getPreferredName(), options.tolerance());
        builder.field(MAX_ITERATIONS.getPreferredName(), options.maxIterations());
        builder.endObject();
        builder.field(PRUNE.getPreferredName(), options.prune());
        if (options.topK() != -1) {
            builder.field(TOP_K.getPreferredName(), options.topK());
        }
        builder.field(ALIGNMENTS.getPreferredName(), options.alignments());
        builder.field(WEIGHTS.getPreferredName(), options.weights().toString());
        if (options.pooledField() != null) {
            builder.field(POOLED_FIELD.getPreferredName(), options.pooledField());
        }
        builder.field(POOLED_WEIGHT.getPreferredName(), options.pooledWeight());
        if (options.docMass() == RescoreOptions.DOC_MASS_AUTO) {
            builder.field(DOC_MASS.getPreferredName(), "auto");
        } else {
            builder.field(DOC_MASS.getPreferredName(), options.docMass());
        }
        if (options.textField() != null) {
            builder.field(TEXT_FIELD.getPreferredName(), options.textField());
        }
        builder.endObject();
    }

    @Override
    protected RescoreContext innerBuildContext(int windowSize, SearchExecutionContext context) throws IOException {
        ModelService models = ModelService.instance();
        int maxWindow = models.maxWindowSize();
        if (windowSize > maxWindow) {
            throw new IllegalArgumentException("[window_size] is [" + windowSize + "] but the limit is [" + maxWindow
                + "] (node setting [" + MoverSettings.MAX_WINDOW_SIZE.getKey() + "])");
        }
        MappedFieldType ft = context.getFieldType(field);
        if (ft == null) {
            throw new IllegalArgumentException("[field] [" + field + "] does not exist in index [" + context.index().getName() + "]");
        }
        if (ft instanceof MoverTokensFieldMapper.FieldType == false) {
            throw new IllegalArgumentException("[field] [" + field + "] must be of type [" + MoverTokensFieldMapper.CONTENT_TYPE
                + "] but is [" + ft.typeName() + "]");
        }
        MoverTokensFieldMapper.FieldType tokensType = (MoverTokensFieldMapper.FieldType) ft;
        int maxIterations = models.maxSinkhornIterations();
        if (options.solver() == RescoreOptions.Solver.SINKHORN && options.maxIterations() > maxIterations) {
            throw new IllegalArgumentException("[sinkhorn.max_iterations] is [" + options.maxIterations() + "] but the limit is ["
                + maxIterations + "] (node setting [" + MoverSettings.MAX_SINKHORN_ITERATIONS.getKey() + "])");
        }
        ModelService.QueryVectors query;
        WireQuery shipped = queryVectors == null ? null : queryVectors.get(tokensType.model());
        if (shipped != null) {
            query = shipped.toQueryVectors(queryText);
            models.countShippedQuery();
        } else {
            query = models.encodeQuery(tokensType.model(), queryText);
        }
        if (options.pooledField() != null) {
            MappedFieldType pooled = context.getFieldType(options.pooledField());
            if (pooled == null || "dense_vector".equals(pooled.typeName()) == false) {
                throw new IllegalArgumentException("[pooled_field] [" + options.pooledField() + "] must be a [dense_vector] field in index ["
                    + context.index().getName() + "]");
            }
            if (query.pooled() == null) {
                throw new IllegalArgumentException("[pooled_field] model [" + tokensType.model() + "] gives no pooled vector");
            }
        }
        org.apache.lucene.analysis.Analyzer analyzer = null;
        if (options.weights() != RescoreOptions.Weights.DEFAULT) {
            MappedFieldType text = context.getFieldType(options.textField());
            if (text == null || "text".equals(text.familyTypeName()) == false || text.getTextSearchInfo().searchAnalyzer() == null) {
                throw new IllegalArgumentException("[text_field] [" + options.textField() + "] must be an analyzed text field in index ["
                    + context.index().getName() + "]");
            }
            analyzer = text.getTextSearchInfo().searchAnalyzer();
        }
        return new MoverRescorer.Context(windowSize, field, metric, queryWeight, rescoreQueryWeight, scoreMode, options, query, models,
            analyzer, analyzer == null ? null : context.lookup());
    }

    @Override
    public boolean equals(Object obj) {
        if (super.equals(obj) == false) {
            return false;
        }
        MoverRescorerBuilder o = (MoverRescorerBuilder) obj;
        return Objects.equals(field, o.field) && Objects.equals(queryText, o.queryText) && metric == o.metric
            && queryWeight == o.queryWeight && rescoreQueryWeight == o.rescoreQueryWeight && scoreMode == o.scoreMode
            && options.equals(o.options) && Objects.equals(queryVectors, o.queryVectors);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), field, queryText, metric, queryWeight, rescoreQueryWeight, scoreMode, options);
    }

    String field() {
        return field;
    }

    String queryText() {
        return queryText;
    }

    MoverMetric metric() {
        return metric;
    }
}
