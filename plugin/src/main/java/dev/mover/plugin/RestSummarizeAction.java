package dev.mover.plugin;

import dev.mover.encoder.generate.GenerationResult;
import dev.mover.encoder.generate.SentenceSupport;
import dev.mover.encoder.summarize.Summarizer;

import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.fieldcaps.FieldCapabilities;
import org.elasticsearch.action.fieldcaps.FieldCapabilitiesRequest;
import org.elasticsearch.action.fieldcaps.FieldCapabilitiesResponse;
import org.elasticsearch.action.search.SearchRequest;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.common.Strings;
import org.elasticsearch.common.xcontent.support.XContentMapValues;
import org.elasticsearch.index.IndexNotFoundException;
import org.elasticsearch.index.query.AbstractQueryBuilder;
import org.elasticsearch.index.query.QueryBuilder;
import org.elasticsearch.index.query.QueryBuilders;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.search.SearchHit;
import org.elasticsearch.search.builder.SearchSourceBuilder;
import org.elasticsearch.threadpool.ThreadPool;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.elasticsearch.rest.RestRequest.Method.GET;
import static org.elasticsearch.rest.RestRequest.Method.POST;

/**
 * {@code POST /{index}/_mover/summarize}: runs a query (or fetches ids) and returns, per hit, the key sentences of a
 * text field, chosen for relevance to {@code query_text} (when given) and centrality, without redundancy, in document
 * order with their character offsets.
 *
 * <pre>
 * POST /docs/_mover/summarize
 * { "query": { "match": { "body": "..." } }, "field": "body", "size": 3, "max_sentences": 3, "query_text": "..." }
 * </pre>
 */
public final class RestSummarizeAction extends BaseRestHandler {
    private static final Set<String> TEXT_TYPES = Set.of("text", "match_only_text", "keyword", "wildcard");

    private final ModelService models;

    public RestSummarizeAction(ModelService models) {
        this.models = models;
    }

    @Override
    public String getName() {
        return "mover_summarize_action";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(POST, "/{index}/_mover/summarize"), new Route(GET, "/{index}/_mover/summarize"));
    }

    /** A parsed, validated request. */
    record Request(String[] indices, QueryBuilder query, List<String> ids, String field, int size, int maxSentences,
                   int maxChars, String queryText, String model, Summarizer.Mode mode, String generator, int maxNewTokens) {}

    static Request parse(String[] indices, XContentParser parser, ModelService models) throws IOException {
        QueryBuilder query = null;
        List<String> ids = null;
        String field = null;
        int size = 3;
        int maxSentences = 3;
        int maxChars = models.summarizeMaxChars();
        String queryText = null;
        String model = null;
        Summarizer.Mode mode = Summarizer.Mode.EXTRACT;
        String generator = null;
        int maxNewTokens = 256;
        if (parser != null) {
            XContentParser.Token token = parser.nextToken();
            if (token != XContentParser.Token.START_OBJECT) {
                throw new IllegalArgumentException("[summarize] request body must be an object");
            }
            String name = null;
            while ((token = parser.nextToken()) != XContentParser.Token.END_OBJECT) {
                if (token == XContentParser.Token.FIELD_NAME) {
                    name = parser.currentName();
                    continue;
                }
                switch (name) {
                    case "query" -> query = AbstractQueryBuilder.parseTopLevelQuery(parser);
                    case "ids" -> {
                        ids = new ArrayList<>();
                        for (Object o : parser.list()) {
                            ids.add(String.valueOf(o));
                        }
                    }
                    case "field" -> field = parser.text();
                    case "size" -> size = parser.intValue();
                    case "max_sentences" -> maxSentences = parser.intValue();
                    case "max_chars" -> maxChars = parser.intValue();
                    case "query_text" -> queryText = parser.text();
                    case "model" -> model = parser.text();
                    case "mode" -> mode = switch (parser.text()) {
                        case "extractive" -> Summarizer.Mode.EXTRACT;
                        case "compressive" -> Summarizer.Mode.COMPRESSIVE;
                        case "lead" -> Summarizer.Mode.LEAD;
                        default -> throw new IllegalArgumentException("[mode] must be one of [extractive, compressive, lead] but was ["
                            + parser.text() + "]");
                    };
                    case "generator" -> generator = parser.text();
                    case "max_new_tokens" -> maxNewTokens = parser.intValue();
                    default -> throw new IllegalArgumentException("[summarize] unknown field [" + name + "]");
                }
            }
        }
        if (field == null || field.isBlank()) {
            throw new IllegalArgumentException("[field] is required: the text field to summarize");
        }
        if (query != null && ids != null) {
            throw new IllegalArgumentException("[query] and [ids] cannot both be given");
        }
        int maxHits = models.summarizeMaxHits();
        if (size < 1 || size > maxHits) {
            throw new IllegalArgumentException("[size] must be between [1] and [" + maxHits + "] but was [" + size + "]");
        }
        int capSentences = models.summarizeMaxSentences();
        if (maxSentences < 1 || maxSentences > capSentences) {
            throw new IllegalArgumentException("[max_sentences] must be between [1] and [" + capSentences + "] but was ["
                + maxSentences + "]");
        }
        int capChars = models.summarizeMaxChars();
        if (maxChars < 1 || maxChars > capChars) {
            throw new IllegalArgumentException("[max_chars] must be between [1] and [" + capChars + "] but was [" + maxChars + "]");
        }
        if (queryText != null && queryText.isBlank()) {
            throw new IllegalArgumentException("[query_text] must not be empty");
        }
        if (model != null && models.names().contains(model) == false) {
            throw new IllegalArgumentException("[model] unknown model [" + model + "]; known models " + models.names());
        }
        if (generator != null) {
            models.generators().check(generator);
        }
        if (maxNewTokens < 1 || maxNewTokens > 4096) {
            throw new IllegalArgumentException("[max_new_tokens] must be between [1] and [4096] but was [" + maxNewTokens + "]");
        }
        if (ids != null) {
            query = QueryBuilders.idsQuery().addIds(ids.toArray(String[]::new));
        } else if (query == null) {
            query = QueryBuilders.matchAllQuery();
        }
        return new Request(indices, query, ids, field, size, maxSentences, maxChars, queryText, model, mode, generator, maxNewTokens);
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) throws IOException {
        String[] indices = Strings.splitStringByCommaToArray(request.param("index"));
        Request req;
        if (request.hasContentOrSourceParam()) {
            try (XContentParser parser = request.contentOrSourceParamParser()) {
                req = parse(indices, parser, models);
            }
        } else {
            req = parse(indices, null, models);
        }
        return channel -> {
            ActionListener<XContentBuilder> done = ActionListener.wrap(
                body -> channel.sendResponse(new RestResponse(RestStatus.OK, body)),
                e -> {
                    try {
                        channel.sendResponse(new RestResponse(channel, e));
                    } catch (IOException io) {
                        io.addSuppressed(e);
                        throw new IllegalStateException(io);
                    }
                });
            checkField(client, req, done.delegateFailureAndWrap((l, ok) -> search(client, req, channel.newBuilder(), l)));
        };
    }

    /** Rejects a missing index or field, or a field that holds no text, with a 400 that names it. */
    private static void checkField(NodeClient client, Request req, ActionListener<Void> listener) {
        FieldCapabilitiesRequest caps = new FieldCapabilitiesRequest().indices(req.indices()).fields(req.field());
        client.fieldCaps(caps, ActionListener.wrap(resp -> {
            Map<String, FieldCapabilities> byType = resp.getField(req.field());
            if (byType == null || byType.isEmpty()) {
                listener.onFailure(badRequest("[field] [" + req.field() + "] does not exist in [" + String.join(",", req.indices()) + "]"));
                return;
            }
            for (String type : byType.keySet()) {
                if (TEXT_TYPES.contains(type) == false) {
                    listener.onFailure(badRequest("[field] [" + req.field() + "] must be a text field but is [" + type + "]"));
                    return;
                }
            }
            listener.onResponse(null);
        }, e -> {
            if (e instanceof IndexNotFoundException inf) {
                listener.onFailure(badRequest("[index] no such index [" + inf.getIndex().getName() + "]"));
            } else {
                listener.onFailure(e);
            }
        }));
    }

    private static ElasticsearchStatusException badRequest(String msg) {
        return new ElasticsearchStatusException(msg, RestStatus.BAD_REQUEST);
    }

    private void search(NodeClient client, Request req, XContentBuilder builder, ActionListener<XContentBuilder> listener) {
        SearchSourceBuilder source = new SearchSourceBuilder().query(req.query()).size(req.size())
            .fetchSource(new String[] { req.field() }, null);
        SearchRequest search = new SearchRequest(req.indices()).source(source);
        client.search(search, ActionListener.wrap(resp -> {
            // The response is ref-counted and released when this listener returns: copy what the summaries need
            // before handing the CPU-heavy part to another thread.
            List<Hit> hits = new ArrayList<>();
            for (SearchHit hit : resp.getHits().getHits()) {
                Map<String, Object> src = hit.getSourceAsMap();
                Object value = src == null ? null : XContentMapValues.extractValue(req.field(), src);
                hits.add(new Hit(hit.getIndex(), hit.getId(), hit.getScore(), value instanceof String str ? str : null));
            }
            long took = resp.getTook().millis();
            ThreadPool pool = client.threadPool();
            pool.generic().execute(() -> {
                try {
                    listener.onResponse(render(req, took, hits, builder));
                } catch (Exception e) {
                    listener.onFailure(e);
                }
            });
        }, listener::onFailure));
    }

    private record Hit(String index, String id, float score, String text) {}

    /** Adds {@code generated} (text, generator, per-sentence support) or, when the generator fails, a warning. */
    private void generate(Request req, ModelService.Extract extract, XContentBuilder b) throws IOException {
        List<String> units = new ArrayList<>();
        for (ModelService.Sentence s : extract.sentences()) {
            units.add(s.text());
        }
        if (units.isEmpty()) {
            b.field("generation_warning", "nothing was extracted, so nothing was generated");
            return;
        }
        GenerationResult g;
        try {
            g = models.generators().generate(req.generator(), units, req.queryText(), req.maxNewTokens());
        } catch (RuntimeException e) {
            b.field("generation_warning", "generator [" + req.generator() + "] failed, the extractive summary stands: " + e.getMessage());
            return;
        }
        b.startObject("generated");
        b.field("generator", req.generator());
        b.field("type", g.generator());
        b.field("text", g.text());
        b.field("stop_reason", g.stopReason().toString().toLowerCase(java.util.Locale.ROOT));
        b.field("took_ms", g.tookMillis());
        b.field("all_supported", g.allSupported());
        b.startArray("sentences");
        for (SentenceSupport s : g.sentences()) {
            b.startObject();
            b.field("text", s.text());
            b.field("supported", s.supported());
            b.field("overlap", s.overlap());
            b.endObject();
        }
        b.endArray();
        if (g.warnings().isEmpty() == false) {
            b.field("warnings", g.warnings());
        }
        b.endObject();
    }

    private XContentBuilder render(Request req, long took, List<Hit> hits, XContentBuilder b) throws IOException {
        b.startObject();
        b.field("took_search_ms", took);
        b.startArray("hits");
        for (Hit hit : hits) {
            b.startObject();
            b.field("_index", hit.index());
            b.field("_id", hit.id());
            b.field("_score", Float.isNaN(hit.score()) ? null : hit.score());
            if (hit.text() == null) {
                b.field("mode", "none");
                b.field("warning", "hit has no text in [" + req.field() + "]");
                b.startArray("sentences").endArray();
                b.endObject();
                continue;
            }
            String text = hit.text();
            boolean cut = text.length() > req.maxChars();
            if (cut) {
                text = text.substring(0, req.maxChars());
            }
            ModelService.Extract extract = models.summarize(req.model(), text, req.queryText(), req.maxSentences(), req.mode());
            b.field("mode", req.mode() == Summarizer.Mode.EXTRACT ? "extractive" : req.mode().label());
            if (cut) {
                b.field("truncated_at_chars", req.maxChars());
            }
            if (req.mode() == Summarizer.Mode.COMPRESSIVE) {
                b.field("text", extract.text());
            }
            if (extract.truncated()) {
                b.field("partial", true);   // the summarizer stopped early (time budget or unit cap)
            }
            if (req.generator() != null) {
                generate(req, extract, b);
            }
            b.startArray(req.mode() == Summarizer.Mode.COMPRESSIVE ? "clauses" : "sentences");
            for (ModelService.Sentence s : extract.sentences()) {
                b.startObject();
                b.field("text", s.text());
                b.field("start", s.start());
                b.field("end", s.end());
                b.field("score", s.score());
                b.endObject();
            }
            b.endArray();
            b.endObject();
        }
        b.endArray();
        b.endObject();
        return b;
    }
}
