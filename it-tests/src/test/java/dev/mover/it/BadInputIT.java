package dev.mover.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.mover.it.Http.assertBadRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every bad input of the walking skeleton gets an ES-style 400 whose reason names the offending field in brackets;
 * the node stays up after each, and nothing is indexed half-way.
 */
class BadInputIT {
    private static final String INDEX = "bad-input";
    private static Nodes.Node n;

    @BeforeAll
    static void setUp() throws Exception {
        n = Nodes.java17();
        Fixtures.createIndex(n, INDEX, "bad-input-en", Fixtures.EN_MODEL, Fixtures.EN_DIMS);
        Fixtures.bulk(n, INDEX, Map.of("1", "The cat is sleeping on the warm sofa.", "2", "Dogs bark at the mailman."));
    }

    @AfterEach
    void nodeStaysUp() throws Exception {
        Http.assertNodeUp(n.rest);
    }

    private static String pipeline(String options) {
        return "{ \"processors\": [ { \"mover_encode\": { " + options + " } } ] }";
    }

    @Test
    void unknownProcessorOption() throws Exception {
        Http.Reply r = Http.call(n.rest, "PUT", "/_ingest/pipeline/bad-option", pipeline(
                "\"field\": \"body\", \"target_field\": \"body_tokens\", \"model\": \"all-minilm-l6-v2\","
                        + " \"bogus_option\": 1"));
        assertBadRequest(r, "bogus_option");
        assertEquals(404, Http.call(n.rest, "GET", "/_ingest/pipeline/bad-option", null).status(),
                "a rejected pipeline was stored");
    }

    @Test
    void unknownModelInProcessor() throws Exception {
        Http.Reply r = Http.call(n.rest, "PUT", "/_ingest/pipeline/bad-model", pipeline(
                "\"field\": \"body\", \"target_field\": \"body_tokens\", \"model\": \"no-such-model\""));
        assertBadRequest(r, "model", "no-such-model");
    }

    @Test
    void unknownModelInMapping() throws Exception {
        Http.Reply r = Http.call(n.rest, "PUT", "/bad-mapping-model", """
            { "mappings": { "properties": { "t": { "type": "mover_tokens", "model": "no-such-model" } } } }
            """);
        assertBadRequest(r, "model", "no-such-model");
        assertEquals(404, Http.call(n.rest, "HEAD", "/bad-mapping-model", null).status(), "index was created");
    }

    @Test
    void mappingWithWrongDimsForModel() throws Exception {
        // the model's own dimension count is accepted
        Http.ok(n.rest, "PUT", "/good-mapping-dims", """
            { "mappings": { "properties": { "t": { "type": "mover_tokens", "model": "all-minilm-l6-v2", "dims": 384 } } } }
            """);
        Http.ok(n.rest, "DELETE", "/good-mapping-dims", null);
        Http.Reply r = Http.call(n.rest, "PUT", "/bad-mapping-dims", """
            { "mappings": { "properties": { "t": { "type": "mover_tokens", "model": "all-minilm-l6-v2", "dims": 768 } } } }
            """);
        assertBadRequest(r, "dims");
        assertEquals(404, Http.call(n.rest, "HEAD", "/bad-mapping-dims", null).status(), "index was created");
    }

    @Test
    void missingSourceFieldWithoutIgnoreMissing() throws Exception {
        long before = count();
        Http.Reply r = Http.call(n.rest, "PUT", "/" + INDEX + "/_doc/no-body?refresh=true", "{ \"title\": \"x\" }");
        assertBadRequest(r, "body", "field");
        assertEquals(404, Http.call(n.rest, "GET", "/" + INDEX + "/_doc/no-body", null).status(),
                "document indexed half-way");
        // in a bulk, only the bad item fails; the good one is indexed whole
        String bulk = "{\"index\":{\"_id\":\"bulk-good\"}}\n{\"body\":\"A good document.\"}\n"
                + "{\"index\":{\"_id\":\"bulk-bad\"}}\n{\"title\":\"no body\"}\n";
        JsonNode items = Http.ok(n.rest, "POST", "/" + INDEX + "/_bulk?refresh=true", bulk).path("items");
        assertEquals(201, items.path(0).path("index").path("status").asInt(), items.toString());
        assertEquals(400, items.path(1).path("index").path("status").asInt(), items.toString());
        String reason = items.path(1).path("index").path("error").toString();
        assertEquals(true, reason.contains("[body]") || reason.contains("[field]"), reason);
        assertEquals(before + 1, count());
        Http.ok(n.rest, "DELETE", "/" + INDEX + "/_doc/bulk-good?refresh=true", null);
    }

    private static long count() throws Exception {
        return n.es.count(c -> c.index(INDEX)).count();
    }

    private static String rescore(String mover) {
        return "{ \"query\": { \"match\": { \"body\": \"cat\" } }, \"rescore\": { \"window_size\": 10, \"mover\": { "
                + mover + " } } }";
    }

    @Test
    void rescoreOnFieldThatIsNotATokenField() throws Exception {
        Http.Reply r = Http.call(n.rest, "POST", "/" + INDEX + "/_search",
                rescore("\"field\": \"body\", \"query_text\": \"a cat\""));
        assertBadRequest(r, "body", "field");
        Http.Reply missing = Http.call(n.rest, "POST", "/" + INDEX + "/_search",
                rescore("\"field\": \"no_such_field\", \"query_text\": \"a cat\""));
        assertBadRequest(missing, "no_such_field", "field");
    }

    @Test
    void unknownMetric() throws Exception {
        Http.Reply r = Http.call(n.rest, "POST", "/" + INDEX + "/_search",
                rescore("\"field\": \"body_tokens\", \"query_text\": \"a cat\", \"metric\": \"cosine\""));
        assertBadRequest(r, "metric", "cosine");
    }

    @Test
    void emptyQueryText() throws Exception {
        assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search",
                rescore("\"field\": \"body_tokens\", \"query_text\": \"\"")), "query_text");
        assertBadRequest(Http.call(n.rest, "POST", "/" + INDEX + "/_search",
                rescore("\"field\": \"body_tokens\", \"query_text\": \"   \"")), "query_text");
    }

    @Test
    void summarizeOnMissingIndex() throws Exception {
        Http.Reply r = Http.call(n.rest, "POST", "/no-such-index/_mover/summarize", "{ \"field\": \"body\" }");
        assertBadRequest(r, "index", "no-such-index");
    }

    @Test
    void summarizeOnMissingField() throws Exception {
        Http.Reply r = Http.call(n.rest, "POST", "/" + INDEX + "/_mover/summarize", "{ \"field\": \"no_such_field\" }");
        assertBadRequest(r, "field", "no_such_field");
        Http.Reply none = Http.call(n.rest, "POST", "/" + INDEX + "/_mover/summarize", "{ \"max_sentences\": 2 }");
        assertBadRequest(none, "field");
    }

    @Test
    void summarizeOnNonTextField() throws Exception {
        Http.Reply r = Http.call(n.rest, "POST", "/" + INDEX + "/_mover/summarize", "{ \"field\": \"body_vector\" }");
        assertBadRequest(r, "field", "body_vector");
    }
}
