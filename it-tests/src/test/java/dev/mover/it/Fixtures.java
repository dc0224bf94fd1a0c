package dev.mover.it;

import co.elastic.clients.elasticsearch._types.Refresh;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** Index, pipeline and corpus set-up shared by the DSL tests (the JSON the README documents). */
final class Fixtures {
    static final String EN_MODEL = "all-minilm-l6-v2";
    static final int EN_DIMS = 384;
    static final String ZH_MODEL = "bge-small-zh-v15";
    static final int ZH_DIMS = 512;

    private Fixtures() {}

    static String pipelineJson(String model, boolean ignoreMissing) {
        return """
            { "processors": [ { "mover_encode": { "field": "body", "target_field": "body_tokens",
                "model": "%s", "pooled_field": "body_vector", "ignore_missing": %s } } ] }
            """.formatted(model, ignoreMissing);
    }

    static String indexJson(String pipeline, String model, int dims) {
        return """
            { "settings": { "index.default_pipeline": "%s", "number_of_shards": 1, "number_of_replicas": 0 },
              "mappings": { "_source": { "excludes": ["body_tokens"] },
                "properties": {
                  "body":        { "type": "text" },
                  "body_tokens": { "type": "mover_tokens", "model": "%s" },
                  "body_vector": { "type": "dense_vector", "dims": %d, "similarity": "cosine" } } } }
            """.formatted(pipeline, model, dims);
    }

    /** (Re)creates pipeline {@code pipeline} and index {@code index} for {@code model}. */
    static void createIndex(Nodes.Node n, String index, String pipeline, String model, int dims) throws IOException {
        Http.ok(n.rest, "PUT", "/_ingest/pipeline/" + pipeline, pipelineJson(model, false));
        Http.call(n.rest, "DELETE", "/" + index, null);
        Http.ok(n.rest, "PUT", "/" + index, indexJson(pipeline, model, dims));
    }

    /** Bulk-indexes {@code id -> body} with the official client through the index's default pipeline. */
    static BulkResponse bulk(Nodes.Node n, String index, Map<String, String> docs) throws IOException {
        BulkRequest.Builder b = new BulkRequest.Builder().index(index).refresh(Refresh.True);
        for (Map.Entry<String, String> d : docs.entrySet()) {
            Map<String, Object> source = Map.of("body", d.getValue());
            b.operations(op -> op.index(i -> i.id(d.getKey()).document(source)));
        }
        BulkResponse r = n.es.bulk(b.build());
        StringBuilder errors = new StringBuilder();
        for (BulkResponseItem item : r.items()) {
            if (item.error() != null) {
                errors.append(item.id()).append(": ").append(item.error().reason()).append('\n');
            }
        }
        assertFalse(r.errors(), "bulk had errors:\n" + errors);
        return r;
    }

    /** A corpus file under {@code src/test/resources/corpus/}. */
    static JsonNode corpus(String name) throws IOException {
        try (InputStream in = Fixtures.class.getResourceAsStream("/corpus/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource [/corpus/" + name + "]");
            }
            return Http.JSON.readTree(in);
        }
    }

    static Map<String, String> docs(JsonNode corpus) {
        Map<String, String> docs = new LinkedHashMap<>();
        corpus.path("docs").fields().forEachRemaining(e -> docs.put(e.getKey(), e.getValue().asText()));
        return docs;
    }

    /** The long English demo document (bench resource {@code /demo/long-en.txt}). */
    static String longEnglish() throws IOException {
        try (InputStream in = Fixtures.class.getResourceAsStream("/demo/long-en.txt")) {
            if (in == null) {
                throw new IOException("missing resource [/demo/long-en.txt] (bench module)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The search body of a BM25 match, optionally rescored by mover/WRD with the DSL's default weights. */
    static String search(String text, boolean rescore, int size) {
        String q = Http.str(text);
        if (!rescore) {
            return "{ \"size\": " + size + ", \"_source\": false, \"query\": { \"match\": { \"body\": " + q + " } } }";
        }
        return """
            { "size": %d, "_source": false, "query": { "match": { "body": %s } },
              "rescore": { "window_size": 50,
                "mover": { "field": "body_tokens", "query_text": %s, "metric": "wrd",
                           "query_weight": 0.0, "rescore_query_weight": 1.0 } } }
            """.formatted(size, q, q);
    }
}
