package dev.mover.plugin;

import org.elasticsearch.TransportVersion;
import org.elasticsearch.TransportVersions;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
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
import java.util.Objects;

/**
 * The {@code mover} rescorer: re-ranks the top {@code window_size} hits of any query by the optimal-transport
 * similarity between the query's token vectors and each hit's stored ones.
 *
 * <pre>
 * "rescore": { "window_size": 50,
 *   "mover": { "field": "body_tokens", "query_text": "...", "metric": "wrd",
 *              "query_weight": 0.0, "rescore_query_weight": 1.0, "score_mode": "total" } }
 * </pre>
 *
 * Scores: {@code wrd} gives {@code 1 - WRD} in [0, 1]; {@code wmd} gives {@code 1 / (1 + WMD)}; {@code maxsim} gives
 * {@code max(0, mean over query tokens of the max cosine)}. The final score combines them with the first-pass score
 * by {@code score_mode}, as Elasticsearch's query rescorer does. A hit without the field gets similarity 0.
 */
public final class MoverRescorerBuilder extends RescorerBuilder<MoverRescorerBuilder> {
    public static final String NAME = "mover";

    static final ParseField FIELD = new ParseField("field");
    static final ParseField QUERY_TEXT = new ParseField("query_text");
    static final ParseField METRIC = new ParseField("metric");
    static final ParseField QUERY_WEIGHT = new ParseField("query_weight");
    static final ParseField RESCORE_QUERY_WEIGHT = new ParseField("rescore_query_weight");
    static final ParseField SCORE_MODE = new ParseField("score_mode");

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

    private static final ObjectParser<MoverRescorerBuilder, Void> PARSER = new ObjectParser<>(NAME, MoverRescorerBuilder::new);
    static {
        PARSER.declareString(MoverRescorerBuilder::field, FIELD);
        PARSER.declareString(MoverRescorerBuilder::queryText, QUERY_TEXT);
        PARSER.declareString((b, s) -> b.metric(MoverMetric.parse(s)), METRIC);
        PARSER.declareFloat(MoverRescorerBuilder::queryWeight, QUERY_WEIGHT);
        PARSER.declareFloat(MoverRescorerBuilder::rescoreQueryWeight, RESCORE_QUERY_WEIGHT);
        PARSER.declareString((b, s) -> b.scoreMode(ScoreMode.parse(s)), SCORE_MODE);
    }

    private String field;
    private String queryText;
    private MoverMetric metric = MoverMetric.WRD;
    private float queryWeight = 0f;
    private float rescoreQueryWeight = 1f;
    private ScoreMode scoreMode = ScoreMode.TOTAL;

    public MoverRescorerBuilder() {}

    public MoverRescorerBuilder(StreamInput in) throws IOException {
        super(in);
        field = in.readString();
        queryText = in.readString();
        metric = in.readEnum(MoverMetric.class);
        queryWeight = in.readFloat();
        rescoreQueryWeight = in.readFloat();
        scoreMode = in.readEnum(ScoreMode.class);
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        out.writeString(field);
        out.writeString(queryText);
        out.writeEnum(metric);
        out.writeFloat(queryWeight);
        out.writeFloat(rescoreQueryWeight);
        out.writeEnum(scoreMode);
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

    @Override
    public RescorerBuilder<MoverRescorerBuilder> rewrite(QueryRewriteContext ctx) {
        return this;
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
        ModelService.QueryVectors query = models.encodeQuery(tokensType.model(), queryText);
        return new MoverRescorer.Context(windowSize, field, metric, queryWeight, rescoreQueryWeight, scoreMode, query, models);
    }

    @Override
    public boolean equals(Object obj) {
        if (super.equals(obj) == false) {
            return false;
        }
        MoverRescorerBuilder o = (MoverRescorerBuilder) obj;
        return Objects.equals(field, o.field) && Objects.equals(queryText, o.queryText) && metric == o.metric
            && queryWeight == o.queryWeight && rescoreQueryWeight == o.rescoreQueryWeight && scoreMode == o.scoreMode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), field, queryText, metric, queryWeight, rescoreQueryWeight, scoreMode);
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
